"""The line model's data and training: templates of many systems, one line per example.

Data: the templates of the Loghub 2k samples (every system but those held out: BGL by default, so the
benchmark on BGL_2k is honest), of synthetic logs (train.synth: background traffic with incidents, and
made-up traffic with knowledge-base lines), the knowledge base's example lines, and of the logging calls in
the source trees the user names (train.msgstrings: each message with the level its developer chose). Each
source is mined with its own `TemplateMiner` after its format's header is removed, as the detector sees text; a template
keeps the level of its lines (the level field, else the words' `sniff_level`, else INFO). Templates are
deduplicated and every source is drawn equally often (one of fewer than `source_cap` templates in
proportion to its count, so six Apache templates are not learned by heart), its templates uniformly.

Training: `<|endoftext|> TAG template <|endoftext|>` rows (engine.detect.unusual.encode_line), padded
per batch; the loss covers the template and its end token, not the tag. On `any_share` of the rows the
tag is `<|any|>`, so one model scores both with and without the level. AdamW from train.optim, the
warmup + cosine schedule of train.lm, the best-validation weights kept (validation: a share of each
source's templates). Progress goes to a callback; nothing is printed.
"""

from __future__ import annotations

import random
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path
from typing import Protocol

import torch
import torch.nn.functional as F

from engine.analysis.knowledge import KnowledgeBase, Signature, default_kb
from engine.detect.unusual import ANY, ERROR, KIND, LEVEL_TAGS, encode_line, special_tokens, tag_of
from engine.errors import InputError
from engine.lm.bundle import BundleConfig, TokenizerSpec, check_writable, save_bundle
from engine.lm.config import GPTConfig
from engine.lm.model import GPT
from engine.lm.tokenizer import ENDOFTEXT, Tokenizer, read_ranks
from engine.logs.formats.detect import detect_format, parse_lines
from engine.logs.formats.record import sniff_level
from engine.logs.templates import TemplateMiner
from train.lm import StepReport, lr_at
from train.msgstrings import source_examples
from train.optim import adamw
from train.synth.incidents import INCIDENTS, synthetic_window
from train.synth.random_traffic import random_window

KB_FIRST = "signatures.toml"
HELD_OUT = ("BGL",)  # Loghub systems never trained on: the benchmark's
RANKS = Path(__file__).resolve().parents[1] / "weights" / "logpt-analyst" / "tokenizer.tiktoken"
SEVERITY_LEVEL = {"critical": "CRITICAL", "error": "ERROR", "warning": "WARN"}

Example = tuple[str, str]  # (tag, template text)


@dataclass(frozen=True)
class LineLMConfig:
    n_layer: int = 3  # a small GPT: a line is short and the data a few thousand templates
    n_head: int = 4
    n_embd: int = 128
    block_size: int = 96  # tokens per row: <|endoftext|>, the tag, the template, <|endoftext|>
    dropout: float = 0.1  # few templates: regularise
    steps: int = 450  # ~18 passes over the templates; about 15 minutes on two busy CPU cores
    batch_size: int = 64  # rows per step
    lr: float = 3e-3
    min_lr_ratio: float = 0.1
    warmup_steps: int = 40
    weight_decay: float = 0.1
    grad_clip: float = 1.0
    eval_every: int = 75
    any_share: float = 0.3  # rows trained with <|any|> instead of their level's tag
    source_cap: int = 100  # sources are drawn evenly, but one of fewer templates as often as it has of them
    tree_cap: int = 100  # the same for a source tree's logging calls (source/…): lower, less of each batch is code
    val_share: float = 0.1  # of each source's templates, for the best-weights choice
    synthetic_windows: int = 60  # windows of background traffic with incidents (and as many made-up)
    knowledge: str = "first"  # knowledge-base examples: "first" (signatures.toml) or "all" (see knowledge_signatures)
    max_minutes: float | None = None  # stop early after this much training
    seed: int = 0


@dataclass(frozen=True)
class Corpus:
    sources: dict[str, list[Example]]  # source name → its deduplicated (tag, template) pairs
    held_out: tuple[str, ...] = ()

    def counts(self) -> dict[str, int]:
        return {name: len(rows) for name, rows in self.sources.items()}


@dataclass(frozen=True)
class LineLMResult:
    model: GPT
    best_val_loss: float
    steps: int
    seconds: float
    losses: list[tuple[int, float, float | None]] = field(default_factory=list)  # (step, train, val)


# ---------------------------------------------------------------- data


def mine_examples(lines: Sequence[str], *, trust_levels: bool = True) -> list[Example]:
    """(tag, template) for every template of `lines`, its format's header removed; a template's tag is
    the most common among its lines. Without `trust_levels` only the words say the level."""
    fmt = detect_format(lines).format
    miner = TemplateMiner()
    tags: dict[int, Counter[str]] = defaultdict(Counter)
    for record in parse_lines(lines, fmt):
        if not record.message.strip():
            continue
        key = miner.add(record.message)
        declared = record.level if trust_levels else None
        tags[key][tag_of(declared or sniff_level(record.message))] += 1
    found = {(tags[key].most_common(1)[0][0], text) for key in tags if (text := miner.template(key))}
    return sorted(found)


def loghub_examples(loghub: Path, held_out: Sequence[str] = HELD_OUT) -> dict[str, list[Example]]:
    found = {}
    for path in sorted(loghub.glob("*/*_2k.log")):
        system = path.parent.name
        if system in held_out:
            continue
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        found[f"loghub/{system}"] = mine_examples(lines)
    return found


def synthetic_examples(windows: int, seed: int, knowledge: str = "first") -> dict[str, list[Example]]:
    """Background traffic with incidents, and made-up traffic (whose declared levels are random: words only)."""
    rng = random.Random(seed)
    kb = knowledge_signatures(knowledge)
    background: list[str] = []
    made_up: list[str] = []
    for i in range(windows):
        style = ("syslog", "iso", "json")[i % 3]
        incident = rng.choice(INCIDENTS) if rng.random() < 0.7 else None
        background += synthetic_window(rng, style, 60, incident)
        made_up += random_window(rng, style, 40, rng.choice(kb) if rng.random() < 0.5 else None)
    by_style = lambda lines: [lines[i : i + 60] for i in range(0, len(lines), 60)]  # noqa: E731 - one style each
    synthetic: set[Example] = set()
    for chunk in by_style(background):
        synthetic.update(mine_examples(chunk))
    invented: set[Example] = set()
    for at in range(0, len(made_up), 40):
        invented.update(mine_examples(made_up[at : at + 40], trust_levels=False))
    return {"synthetic/incidents": sorted(synthetic), "synthetic/made-up": sorted(invented)}


def knowledge_signatures(which: str = "first") -> list[Signature]:
    """The knowledge base's signatures: "first", those of its first file (signatures.toml, the general
    ones), or "all" of them. Examples copy real reports, some the very lines of the real cases the benchmark
    measures on: 37 of their lines share a 40-character tail with an example of the whole base, 11 with one of
    the first file; the shipped model keeps to the first file, so the real-case numbers are less flattered."""
    if which == "all":
        return list(default_kb().signatures)
    if which != "first":
        raise InputError(f"unknown knowledge-base choice {which!r}", "use first or all")
    text = resources.files("engine.analysis.knowledge").joinpath(KB_FIRST).read_text(encoding="utf-8")
    return list(KnowledgeBase.from_toml(text).signatures)


def knowledge_examples(which: str = "first") -> list[Example]:
    """The knowledge base's example lines, each with its signature's severity."""
    miner = TemplateMiner()
    found = set()
    for signature in knowledge_signatures(which):
        line = signature.example
        record = detect_format([line]).format.parse(line, 1)
        message = record.message if record is not None and record.message.strip() else line
        text = miner.template(miner.add(message)) or message
        found.add((tag_of(SEVERITY_LEVEL.get(signature.severity, "ERROR")), text))
    return sorted(found)


def build_corpus(
    loghub: Path | None, config: LineLMConfig, held_out: Sequence[str] = HELD_OUT, trees: Sequence[Path] = (),
) -> Corpus:  # fmt: skip
    """The corpus; each source tree in `trees` is a source of its own, `source/<folder name>`."""
    sources: dict[str, list[Example]] = {}
    if loghub is not None:
        sources |= loghub_examples(loghub, held_out)
    for tree in trees:
        if not tree.is_dir() or f"source/{tree.name}" in sources:
            raise InputError(f"{tree} is not a folder, or a second tree of that name", "pass distinct source folders")
        sources[f"source/{tree.name}"] = source_examples(tree, config.seed)
    sources |= synthetic_examples(config.synthetic_windows, config.seed, config.knowledge)
    sources["knowledge-base"] = knowledge_examples(config.knowledge)
    sources = {name: rows for name, rows in sources.items() if rows}
    if not sources:
        raise InputError("no training templates", "pass --loghub DIR with Loghub samples")
    return Corpus(sources, tuple(held_out) if loghub is not None else ())


def split(corpus: Corpus, share: float, seed: int) -> tuple[dict[str, list[Example]], list[Example]]:
    """Per source: most templates to train on, `share` of them (at least one where there are 10) held back."""
    rng = random.Random(seed)
    train: dict[str, list[Example]] = {}
    val: list[Example] = []
    for name, rows in corpus.sources.items():
        rows = rows[:]
        rng.shuffle(rows)
        n_val = int(len(rows) * share) if len(rows) >= 10 else 0
        val += rows[:n_val]
        train[name] = rows[n_val:]
    return {k: v for k, v in train.items() if v}, val


# ---------------------------------------------------------------- training


def source_weights(counts: Mapping[str, int], config: LineLMConfig) -> dict[str, int]:
    """How often each source is drawn: its templates, capped (`tree_cap` for a source tree, `source_cap` else)."""
    cap = lambda name: config.tree_cap if name.startswith("source/") else config.source_cap  # noqa: E731
    return {name: min(counts[name], cap(name)) for name in sorted(counts)}


def line_tokenizer(ranks: Mapping[bytes, int]) -> Tokenizer:
    return Tokenizer(ranks, special_tokens(len(ranks)))


class SmallGPT(Protocol):
    """The architecture fields of a config (the line model's, the sequence model's)."""

    n_layer: int
    n_head: int
    n_embd: int
    block_size: int
    dropout: float


def model_config(config: SmallGPT, tokenizer: Tokenizer) -> GPTConfig:
    vocab = -(-tokenizer.n_vocab // 8) * 8  # a multiple of 8 (the ids past the tokenizer's are never seen)
    return GPTConfig(block_size=config.block_size, vocab_size=vocab, n_layer=config.n_layer, n_head=config.n_head,
                     n_embd=config.n_embd, dropout=config.dropout)  # fmt: skip


def batch_tensors(rows: Sequence[list[int]], pad: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(inputs, targets), each (B, T): right-padded; targets are −1 on the tag and on padding."""
    width = max(len(r) for r in rows) - 1
    x = torch.full((len(rows), width), pad, dtype=torch.long)
    y = torch.full((len(rows), width), -1, dtype=torch.long)
    for b, row in enumerate(rows):
        t = torch.tensor(row)
        x[b, : len(row) - 1] = t[:-1]
        y[b, 1 : len(row) - 1] = t[2:]  # position 0 would predict the tag: not learned
    return x, y


def masked_loss(model: GPT, x: torch.Tensor, y: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    """Cross-entropy over the positions with a target; the head (most of the cost) runs on those only."""
    keep = y >= 0  # (B, T)
    hidden = model.hidden(x)[keep]  # (N, C)
    return F.cross_entropy(model.lm_head(hidden), y[keep], reduction=reduction)


@torch.no_grad()
def validation_loss(model: GPT, rows: Sequence[list[int]], pad: int, batch: int = 128) -> float:
    model.eval()
    total, count = 0.0, 0
    for at in range(0, len(rows), batch):
        x, y = batch_tensors(rows[at : at + batch], pad)
        total += masked_loss(model, x, y, "sum").item()
        count += int((y >= 0).sum())
    return total / max(1, count)


def draw_rows(
    encoded: Mapping[str, list[tuple[str, list[int]]]],
    weights: Mapping[str, int],
    rng: random.Random,
    config: LineLMConfig,
    eot: int,
    specials: Mapping[str, int],
) -> list[list[int]]:
    """One batch of `<eot> TAG template <eot>` rows: a source drawn by its weight, then one of its templates;
    a share of the rows read with `<|any|>` instead of their level's tag."""
    rows = []
    for _ in range(config.batch_size):
        tag, body = rng.choice(encoded[rng.choices(list(weights), list(weights.values()))[0]])
        tag = ANY if rng.random() < config.any_share else tag
        rows.append([eot, specials[tag], *body, eot])
    return rows


def train_line_lm(
    corpus: Corpus,
    tokenizer: Tokenizer,
    config: LineLMConfig,
    on_step: Callable[[StepReport], None] | None = None,
    init: Mapping[str, torch.Tensor] | None = None,
) -> LineLMResult:
    """Train a fresh model (or go on from `init`, weights of the same shape); it ends with its best-validation
    weights (the last ones when there is no validation)."""
    torch.manual_seed(config.seed)
    rng = random.Random(config.seed)
    train, val = split(corpus, config.val_share, config.seed)
    encoded = {
        name: [(tag, tokenizer.encode(text)[: config.block_size - 3]) for tag, text in rows]
        for name, rows in train.items()
    }
    eot = tokenizer.special(ENDOFTEXT)
    specials = {tag: tokenizer.special(tag) for tag in LEVEL_TAGS}
    val_rows = [encode_line(tokenizer, text, tag, config.block_size) for tag, text in val]
    model = GPT(model_config(config, tokenizer))
    model.init_weights(config.seed)
    if init is not None:
        model.load_state_dict({k: v.float() for k, v in init.items()}, strict=False)  # a tied head may be absent
    optimizer = adamw(model, config.lr, config.weight_decay)
    weights = source_weights({n: len(rows) for n, rows in encoded.items()}, config)
    best, best_state, losses = float("inf"), None, []
    started = time.perf_counter()
    step = 0
    for step in range(1, config.steps + 1):  # noqa: B007 - the last step is reported
        t0 = time.perf_counter()
        model.train()
        for group in optimizer.param_groups:
            group["lr"] = lr_at(step - 1, config)  # type: ignore[arg-type] - has the Schedule fields
        x, y = batch_tensors(draw_rows(encoded, weights, rng, config, eot, specials), eot)
        loss = masked_loss(model, x, y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
        optimizer.step()
        val_loss = None
        out_of_time = config.max_minutes is not None and time.perf_counter() - started > config.max_minutes * 60
        if val_rows and (step % config.eval_every == 0 or step == config.steps or out_of_time):
            val_loss = validation_loss(model, val_rows, eot)
            if val_loss < best:
                best, best_state = val_loss, {k: v.detach().clone() for k, v in model.state_dict().items()}
        losses.append((step, loss.item(), val_loss))
        if on_step is not None:
            rate = int((y >= 0).sum()) / (time.perf_counter() - t0)
            on_step(StepReport(step, loss.item(), optimizer.param_groups[0]["lr"], rate, val_loss))
        if out_of_time:
            break
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    return LineLMResult(model, best, step, time.perf_counter() - started, losses)


def save_line_lm(
    folder: Path, result: LineLMResult, tokenizer: Tokenizer, corpus: Corpus, config: LineLMConfig,
    *, extra: Mapping[str, object] | None = None, force: bool = False, half: bool = True,
) -> None:  # fmt: skip
    """A "linelm" bundle: the model (fp16 by default: half the size, the same scores to ~1e-3 nats), the
    ranks, and the provenance (data, held-out systems, steps, losses)."""
    every = max(1, len(result.losses) // 20)
    provenance = {
        "trainer": "logpt train lines",
        "config": asdict(config),
        "data": {"templates_per_source": corpus.counts(), "held_out_systems": list(corpus.held_out),
                 "source_trees": {n: c for n, c in corpus.counts().items() if n.startswith("source/")},
                 "note": "Loghub 2k samples except the held-out systems, train.synth logs, knowledge-base examples, "
                         "logging calls of the source trees (names and counts only); nothing from real-cases"},
        "steps": result.steps,
        "seconds": round(result.seconds, 1),
        "best_val_loss": round(result.best_val_loss, 4),
        "loss_curve": [(s, round(t, 4), None if v is None else round(v, 4)) for s, t, v in result.losses
                       if s % every == 0 or v is not None],
        "tags": {"order": list(LEVEL_TAGS), "error": ERROR},
    } | dict(extra or {})  # fmt: skip
    bundle = BundleConfig(
        model=result.model.config,
        tokenizer=TokenizerSpec(special_tokens=dict(tokenizer.special_tokens), eot_token=ENDOFTEXT),
        kind=KIND,
        prompt_format="plain",
        stop_tokens=(),
        description="logpt line model: surprisal of a log template's text, no history needed (engine.detect.unusual)",
        provenance=provenance,
    )
    state = result.model.state_dict()
    if half:
        state = {k: v.half() for k, v in state.items()}
    save_bundle(folder, bundle, state, tokenizer.ranks, force=force)


def default_ranks() -> dict[bytes, int]:
    """The 4,096-rank log BPE of the shipped analysis model."""
    return read_ranks(RANKS)


def train_lines(
    folder: Path, loghub: Path | None, config: LineLMConfig,
    on_step: Callable[[StepReport], None] | None = None, *, force: bool = False, trees: Sequence[Path] = (),
) -> tuple[LineLMResult, Corpus]:  # fmt: skip
    """`logpt train lines`: build the corpus, train, save the bundle (the folder is checked first)."""
    check_writable(folder.resolve(), force=force)
    corpus = build_corpus(loghub, config, trees=trees)
    tokenizer = line_tokenizer(default_ranks())
    result = train_line_lm(corpus, tokenizer, config, on_step)
    save_line_lm(folder, result, tokenizer, corpus, config, force=force)
    return result, corpus
