"""Top-K scoring: how expected each key was given the keys before it (LogGPT / LogNEO).

For every position the model ranks all keys; a key is flagged when it falls
outside the top-K set. K is a count, a fraction of the vocabulary, or
adaptive: the smallest set whose probability mass reaches a threshold
("mass"), or every key at least as likely as a floor ("prob"). An unseen key
(UNK) is always flagged. Scoring is batched over windows of at
most the model's context; a position always sees at least half a context of
history.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from engine.detect.vocab import PAD, UNK
from engine.lm.model import GPT

Num = np.ndarray | int | float  # the rule applies to one position or to arrays of them alike
THRESHOLD_KINDS = ("count", "fraction", "mass", "prob")


@dataclass(frozen=True)
class TopK:
    kind: str = "count"  # count: K keys; fraction: K × vocabulary; mass: smallest set with mass ≥ value; prob: keys with p ≥ value
    value: float = 9.0

    def __post_init__(self) -> None:
        if self.kind not in THRESHOLD_KINDS:
            raise ValueError(f"top-K kind must be one of {THRESHOLD_KINDS}")
        if not math.isfinite(self.value) or self.value <= 0 or (self.kind != "count" and self.value > 1):
            raise ValueError("top-K value out of range")

    def outside(self, tokens: Num, ranks: Num, probs: Num, mass_before: Num, vocab_size: int) -> Num:
        """Whether keys fall outside the top-K set (unseen keys always do); numpy arrays or plain numbers."""
        if self.kind == "count":
            out = ranks >= int(self.value)
        elif self.kind == "fraction":
            out = ranks >= max(1, int(self.value * vocab_size))
        elif self.kind == "mass":
            out = mass_before >= self.value  # outside the smallest set that reaches the mass
        else:
            out = probs < self.value
        return out | (tokens == UNK)

    def describe(self) -> str:
        names = {
            "count": f"top-{int(self.value)}",
            "fraction": f"top {self.value:.0%}",
            "mass": f"top mass {self.value}",
        }
        return names.get(self.kind, f"p ≥ {self.value:.2e}")


@dataclass(frozen=True)
class PositionScore:
    token: int  # the actual key's id
    rank: int  # 0 = the most expected key
    prob: float  # the model's probability of the actual key
    mass_before: float  # probability of all keys ranked above it
    expected: tuple[int, ...]  # ids of the most expected keys


@dataclass(frozen=True)
class SequenceScores:
    """Scores of every key of one sequence, as arrays (T,); index it for a PositionScore."""

    tokens: np.ndarray  # int64
    ranks: np.ndarray  # int64
    probs: np.ndarray  # float32
    mass_before: np.ndarray  # float32
    expected: np.ndarray  # (T, n_expected) int64

    def __len__(self) -> int:
        return len(self.tokens)

    def __getitem__(self, i: int) -> PositionScore:
        return PositionScore(
            int(self.tokens[i]), int(self.ranks[i]), float(self.probs[i]), float(self.mass_before[i]),
            tuple(int(e) for e in self.expected[i]),
        )  # fmt: skip

    def __iter__(self) -> Iterator[PositionScore]:
        return (self[i] for i in range(len(self)))

    def flags(self, topk: TopK, vocab_size: int) -> np.ndarray:
        """Which positions the rule flags (unseen keys always)."""
        return topk.outside(self.tokens, self.ranks, self.probs, self.mass_before, vocab_size)

    def least_likely(self) -> float:
        """The smallest probability of a seen key (1.0 when there is none)."""
        seen = self.probs[self.tokens != UNK]
        return float(seen.min()) if len(seen) else 1.0


def is_flagged(score: PositionScore, topk: TopK, vocab_size: int) -> bool:
    return bool(topk.outside(score.token, score.rank, score.prob, score.mass_before, vocab_size))


def windows(length: int, block: int) -> list[tuple[int, int, int]]:
    """(start, end, first owned position) windows over inputs 0..length-1; each position owned once."""
    if length <= block:
        return [(0, length, 0)]
    stride = block // 2
    found = [(0, block, 0)]
    start = stride
    while start + block < length:
        found.append((start, start + block, start + block - stride))
        start += stride
    found.append((length - block, length, found[-1][1]))
    return found


TILE = 256  # positions whose logits are held at once: (TILE, V) stays in cache


def _score_positions(model: GPT, h: torch.Tensor, target: torch.Tensor, n_expected: int) -> tuple[torch.Tensor, ...]:
    """(ranks, probs, mass before, expected ids) of the keys `target` (N,) given final hidden states `h` (N, C).

    The head runs over TILE positions at a time. Rank, probability and mass come from the top n_expected
    keys, where almost every actual key of a trained model sits; only the rest (few, and exactly the
    interesting ones) pay a comparison over the whole vocabulary.
    """
    parts: list[tuple[torch.Tensor, ...]] = []
    for i in range(0, len(h), TILE):
        logits = model.lm_head(h[i : i + TILE]).float()  # (P, V)
        y = target[i : i + TILE, None]  # (P, 1)
        top_l, top_i = logits.topk(n_expected, dim=1)
        lse = top_l[:, :1] + (logits - top_l[:, :1]).exp_().sum(1, keepdim=True).log_()  # (P, 1)
        actual = logits.gather(1, y)  # (P, 1)
        hit = top_i == y
        found = hit.any(dim=1)
        ranks = hit.float().argmax(dim=1)
        top_p = (top_l - lse).exp_()
        mass = (top_p.cumsum(dim=1) - top_p).gather(1, ranks[:, None]).squeeze(1)
        if not bool(found.all()):
            missing = ~found
            rest = logits[missing]
            above = rest > actual[missing]
            ranks[missing] = above.sum(dim=1)
            mass[missing] = ((rest - lse[missing]).exp_() * above).sum(dim=1)
        parts.append((ranks, (actual - lse).exp_().squeeze(1), mass, top_i))
    return tuple(torch.cat(column) for column in zip(*parts, strict=True))


@torch.inference_mode()
def score_sequences(
    model: GPT,
    sequences: Sequence[Sequence[int]],
    *,
    batch_size: int = 64,
    n_expected: int = 3,
    first: Sequence[int] | None = None,
) -> list[SequenceScores]:
    """Scores for every key of every sequence (each starting with BOS; BOS itself is not scored).

    `first[s]`: positions of sequence s before it are not needed (they stay zero). Only the windows
    that own a needed position run, and they are the same windows as in a full scoring, so every
    score returned equals the full scoring's (a test checks): a grown session is rescored from
    `rescore_from(old length)` on, not from its start.
    """
    block = model.config.block_size
    device = model.transformer.wte.weight.device
    n_expected = min(n_expected, model.config.vocab_size)
    jobs: list[tuple[int, int, int, int]] = []  # (sequence, start, end, first owned)
    for s, seq in enumerate(sequences):
        need = first[s] if first is not None else 0
        for start, end, owned in windows(len(seq) - 1, block):  # input i predicts seq[i + 1]
            if end > need:
                jobs.append((s, start, end, owned))
    sizes = [len(seq) - 1 for seq in sequences]
    tokens = [np.asarray(seq[1:], dtype=np.int64) for seq in sequences]
    ranks = [np.zeros(n, dtype=np.int64) for n in sizes]
    probs = [np.zeros(n, dtype=np.float32) for n in sizes]
    mass = [np.zeros(n, dtype=np.float32) for n in sizes]
    expected = [np.zeros((n, n_expected), dtype=np.int64) for n in sizes]
    for b in range(0, len(jobs), batch_size):
        batch = jobs[b : b + batch_size]
        width = max(end - start for _, start, end, _ in batch)
        idx = torch.full((len(batch), width + 1), PAD, dtype=torch.long)
        for row, (s, start, end, _) in enumerate(batch):
            idx[row, : end - start + 1] = torch.as_tensor(sequences[s][start : end + 1])
        # Only the positions each window owns are scored; padding and overlap never reach the head.
        keep = torch.zeros(len(batch), width, dtype=torch.bool)
        for row, (_, start, end, owned) in enumerate(batch):
            keep[row, max(owned, start) - start : end - start] = True
        idx, keep = idx.to(device), keep.to(device)
        h = model.hidden(idx[:, :-1])[keep]  # (N, C), row-major: window by window
        b_ranks, b_probs, b_mass, b_top = (
            t.cpu().numpy() for t in _score_positions(model, h, idx[:, 1:][keep], n_expected)
        )
        at = 0
        for s, start, end, owned in batch:
            lo = max(owned, start)
            n = end - lo
            ranks[s][lo:end] = b_ranks[at : at + n]
            probs[s][lo:end] = b_probs[at : at + n]
            mass[s][lo:end] = b_mass[at : at + n]
            expected[s][lo:end] = b_top[at : at + n]
            at += n
    return [SequenceScores(*parts) for parts in zip(tokens, ranks, probs, mass, expected, strict=True)]


def rescore_from(old_length: int, block: int) -> int:
    """The first position whose score may change when a sequence of `old_length` scored positions grows
    (or its EOS is replaced): windows before the last one stay the same (see `windows`)."""
    return max(0, old_length - block)


def suffix_start(first: int, block: int) -> int:
    """How many leading keys a sequence may drop when only positions from `first` on are scored.

    Keys k0.. encode as [BOS, k0, k1, ...] and position p judges k_p. Dropping the first `a` keys (a a
    multiple of the stride) shifts every window by exactly `a`: the windows are the same token for token,
    except the new first one, whose BOS stands where k_(a-1) was; it owns positions before a + block only.
    So with a ≤ first - block every position from `first` on scores as in the whole sequence (a test checks)."""
    stride = block // 2
    return max(0, (first - block) // stride * stride)


UNSEEN_SURPRISE = 50.0  # an unseen key counts as (nearly) impossible
MIN_PROB = 1e-30


def session_surprise(scores: SequenceScores) -> float:
    """A session's anomaly score for ranking (AUC): its least likely key, as −log p (UNK counts as certain)."""
    if len(scores) == 0:
        return 0.0
    surprise = -np.log(np.maximum(scores.probs.astype(np.float64), MIN_PROB))
    surprise[scores.tokens == UNK] = UNSEEN_SURPRISE
    return float(surprise.max())


def surprise_of(probs: Iterable[float], unseen: Iterable[bool]) -> float:
    """`session_surprise` of positions given one by one (a session scored in parts)."""
    return max(
        (UNSEEN_SURPRISE if u else -math.log(max(p, MIN_PROB)) for p, u in zip(probs, unseen, strict=True)),
        default=0.0,
    )
