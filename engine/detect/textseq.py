"""The pretrained sequence model: LogGPT's next-template rule read from the templates' text, for short files.

A self-trained detector (engine.detect.detector) learns key ids from the file's own history, so a file of a
few hundred lines has too little to learn from. This model was trained across many systems
(`train/textseq.py`) on sequences of templates given by their text: each template is one vector (the mean
of its BPE tokens' embeddings), a small GPT reads the vectors of the templates before a line, and the
candidates for the next line are the file's own templates, scored by the dot product of the model's state
with each template's vector. So it ranks templates it never saw, of a system it never saw, from the first
line on; it adapts to the file in context (each prediction reads the file's last `block_size - 1`
templates, repeats and rhythms included), and no weights change, so a file is judged the same whether it
is read whole (`logpt detect`) or block by block (the explorer).

The rule is LogGPT's with an adaptive K: a line is outside the expected set when the model gives its
template less than `floor` of the probability (the floor was calibrated on held-back sequences of the
training systems: about one position in a hundred falls below it). It gives `sequence` evidence, weighed
like a self-trained detector's; it never says "unseen template" (novel), since a text model has no list of
known templates.

What this leaves out: mining and sessions (the pipeline's), how evidence is weighed (engine.detect.evidence),
training. The only file I/O is `load_text_seq`, at the edge.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from engine.detect import defaults
from engine.detect.detector import SessionVerdict, Verdict, verdict_surprise
from engine.detect.scoring import windows
from engine.errors import BundleError
from engine.lm.bundle import build_model, load_state, load_tokenizer, read_config
from engine.lm.devices import Placement
from engine.lm.model import GPT
from engine.lm.tokenizer import ENDOFTEXT, Tokenizer

KIND = "textseq"  # the bundle kind (engine.lm.bundle.KINDS)
DEFAULT_SEQUENCE_MODEL = defaults.DEFAULT_SEQUENCE_MODEL  # the bundled one (weights/logpt-sequence)
MAX_TOKENS = 48  # BPE tokens of a template's text that make its vector (templates are short; the rest is detail)
EXPECTED = 3  # templates named as "expected" in a flag's reason


def template_vectors(model: GPT, tokenizer: Tokenizer, texts: Sequence[str]) -> torch.Tensor:
    """One vector per text (n, C): the mean of its first MAX_TOKENS BPE tokens' embeddings (an empty text reads
    as the end token)."""
    eot = tokenizer.special(ENDOFTEXT)
    ids = [tokenizer.encode(text)[:MAX_TOKENS] or [eot] for text in texts]
    device = model.transformer.wte.weight.device
    flat = torch.tensor([i for row in ids for i in row], dtype=torch.long, device=device)
    offsets = torch.tensor(np.cumsum([0, *map(len, ids[:-1])]), dtype=torch.long, device=device)
    return F.embedding_bag(flat, model.transformer.wte.weight, offsets, mode="mean")


def next_logits(model: GPT, tokenizer: Tokenizer, vectors: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Logits (B, T, N) over the N candidate templates for each position of `targets` (B, T: indices into
    `vectors`), each position seeing the targets before it in its row after a start vector (the end token's
    embedding). Rows may be right-padded: a causal model's earlier positions never see the padding."""
    start = model.transformer.wte.weight[tokenizer.special(ENDOFTEXT)]
    inputs = torch.cat([start.expand(len(targets), 1, -1), vectors[targets[:, :-1]]], dim=1)  # (B, T, C)
    return model.hidden_of(inputs) @ vectors.T


@dataclass(frozen=True)
class Scored:
    """One session's positions under the model: rank and probability of the actual template, the most expected."""

    ranks: np.ndarray  # int64 (T,)
    probs: np.ndarray  # float32 (T,)
    expected: list[tuple[str, ...]]  # keys, most expected first


@dataclass
class TextSeq:
    """A loaded sequence model: sessions of template keys and the keys' texts in, verdicts out."""

    model: GPT
    tokenizer: Tokenizer
    floor: float  # a template with less probability than this is outside the expected set
    provenance: dict[str, Any] = field(default_factory=dict)
    name: str = DEFAULT_SEQUENCE_MODEL

    def __post_init__(self) -> None:
        self.model.eval()
        if ENDOFTEXT not in self.tokenizer.special_tokens:
            raise BundleError(f"the sequence model's tokenizer lacks {ENDOFTEXT}", "re-create the bundle")

    @property
    def block_size(self) -> int:
        return self.model.config.block_size

    def describe(self) -> str:
        return f"p < {self.floor:.2g} of the file's templates ({self.name}, pretrained)"

    @torch.inference_mode()
    def score(
        self, sessions: Sequence[Sequence[str]], texts: Mapping[str, str], *, batch_size: int = 64
    ) -> list[Scored]:
        """Every position of every session, against all of `texts` (key → template text: the file's templates)."""
        keys = list(dict.fromkeys([*texts, *(k for s in sessions for k in s)]))
        index = {k: i for i, k in enumerate(keys)}
        vectors = template_vectors(self.model, self.tokenizer, [texts.get(k, k) for k in keys])
        jobs = [
            (s, a, b, owned) for s, seq in enumerate(sessions) for a, b, owned in windows(len(seq), self.block_size)
        ]
        ranks = [np.zeros(len(s), dtype=np.int64) for s in sessions]
        probs = [np.zeros(len(s), dtype=np.float32) for s in sessions]
        expected: list[list[tuple[str, ...]]] = [[()] * len(s) for s in sessions]
        for at in range(0, len(jobs), batch_size):
            batch = jobs[at : at + batch_size]
            width = max(b - a for _, a, b, _ in batch)
            targets = torch.zeros(len(batch), width, dtype=torch.long)
            for row, (s, a, b, _) in enumerate(batch):
                targets[row, : b - a] = torch.tensor([index[k] for k in sessions[s][a:b]])
            logits = next_logits(self.model, self.tokenizer, vectors, targets.to(vectors.device)).float().cpu()
            logp = logits.log_softmax(-1)
            for row, (s, a, b, owned) in enumerate(batch):
                lo = max(owned, a)
                part, y = logp[row, lo - a : b - a], targets[row, lo - a : b - a]
                actual = part.gather(1, y[:, None])
                ranks[s][lo:b] = (part > actual).sum(1).numpy()
                probs[s][lo:b] = actual.squeeze(1).exp().numpy()
                top = part.topk(min(EXPECTED, len(keys)), dim=1).indices.tolist()
                expected[s][lo:b] = [tuple(keys[i] for i in row_top) for row_top in top]
        return [Scored(r, p, e) for r, p, e in zip(ranks, probs, expected, strict=True)]

    def judge(self, sessions: Sequence[Sequence[str]], texts: Mapping[str, str]) -> list[SessionVerdict]:
        """A verdict for every position of every session."""
        found = []
        for keys, scored in zip(sessions, self.score(sessions, texts), strict=True):
            verdicts = [self._verdict(keys, scored, i) for i in range(len(keys))]
            found.append(SessionVerdict(verdicts, verdict_surprise(verdicts)))
        return found

    def outliers(
        self, sessions: Sequence[Sequence[str]], texts: Mapping[str, str]
    ) -> list[tuple[int, dict[int, Verdict]]]:
        """Per session: (positions scored, the verdicts of the positions outside the expected set)."""
        found = []
        for keys, scored in zip(sessions, self.score(sessions, texts), strict=True):
            low = np.flatnonzero(scored.probs < self.floor).tolist()
            found.append((len(keys), {i: self._verdict(keys, scored, i) for i in low}))
        return found

    def _verdict(self, keys: Sequence[str], scored: Scored, i: int) -> Verdict:
        prob = float(scored.probs[i])
        return Verdict(keys[i], prob < self.floor, False, int(scored.ranks[i]), prob, scored.expected[i])


def find_text_seq(name_or_path: str = DEFAULT_SEQUENCE_MODEL) -> TextSeq:
    """The sequence model of a bundle given by name (searched like every bundle) or folder; BundleError if none."""
    from engine.lm.registry import find_bundle  # noqa: PLC0415 - the registry reads folders: the edge's work

    return load_text_seq(find_bundle(name_or_path, kind=KIND))


def load_text_seq(folder: Path, placement: Placement | None = None) -> TextSeq:
    """The sequence model of a bundle folder (kind "textseq"); safetensors only, on the CPU in fp32 by default.
    Its rule (the probability floor) is in `provenance.rule`, where training wrote it with the calibration."""
    config = read_config(folder)
    if config.kind != KIND:
        raise BundleError(f"{folder} is a {config.kind} bundle, not a sequence model", "pass a textseq bundle")
    rule = config.provenance.get("rule")
    floor = rule.get("floor") if isinstance(rule, dict) else None
    if type(floor) is not float or not 0.0 < floor < 1.0:
        raise BundleError(f"{folder}: provenance.rule.floor must be a probability", "re-create the bundle")
    placement = placement or Placement(torch.device("cpu"), torch.float32)
    tokenizer = load_tokenizer(folder, config)
    model = build_model(config.model, load_state(folder, config.model), placement)
    return TextSeq(model, tokenizer, floor, dict(config.provenance), folder.name)
