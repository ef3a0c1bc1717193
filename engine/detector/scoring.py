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

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from engine.detector.vocab import PAD, UNK
from engine.model import GPT

Num = np.ndarray | int | float  # the rule applies to one position or to arrays of them alike
THRESHOLD_KINDS = ("count", "fraction", "mass", "prob")


@dataclass(frozen=True)
class TopK:
    kind: str = "count"  # count: K keys; fraction: K × vocabulary; mass: smallest set with mass ≥ value; prob: keys with p ≥ value
    value: float = 9.0

    def __post_init__(self) -> None:
        if self.kind not in THRESHOLD_KINDS:
            raise ValueError(f"top-K kind must be one of {THRESHOLD_KINDS}")
        if self.value <= 0 or (self.kind != "count" and self.value > 1):
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


def _windows(length: int, block: int) -> list[tuple[int, int, int]]:
    """(start, end, first owned position) windows over inputs 0..length-1; each position owned once."""
    if length <= block:
        return [(0, length, 0)]
    stride = block // 2
    windows = [(0, block, 0)]
    start = stride
    while start + block < length:
        windows.append((start, start + block, start + block - stride))
        start += stride
    windows.append((length - block, length, windows[-1][1]))
    return windows


@torch.inference_mode()
def score_sequences(
    model: GPT, sequences: Sequence[Sequence[int]], *, batch_size: int = 64, n_expected: int = 3
) -> list[SequenceScores]:
    """Scores for every key of every sequence (each starting with BOS; BOS itself is not scored)."""
    block = model.config.block_size
    device = model.transformer.wte.weight.device
    n_expected = min(n_expected, model.config.vocab_size)
    n_top = min(max(n_expected, 16), model.config.vocab_size)
    jobs: list[tuple[int, int, int, int]] = []  # (sequence, start, end, first owned)
    for s, seq in enumerate(sequences):
        for start, end, owned in _windows(len(seq) - 1, block):  # input i predicts seq[i + 1]
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
        p = model(idx[:, :-1].to(device)).float().softmax(dim=-1)  # (B, T, V)
        target = idx[:, 1:].to(device)  # (B, T)
        actual = p.gather(2, target[..., None]).squeeze(2)  # (B, T)
        # Rank and the mass above the actual key come from the top few keys, where almost every
        # actual key sits; only the rest (few, and exactly the interesting ones) pay a full pass.
        top_p, top_i = p.topk(n_top, dim=2)  # (B, T, n_top)
        hit = top_i == target[..., None]
        found = hit.any(dim=2)
        b_ranks = hit.float().argmax(dim=2)
        before = top_p.cumsum(dim=2) - top_p
        b_mass = before.gather(2, b_ranks[..., None]).squeeze(2)
        if not bool(found.all()):
            missing = ~found
            rest, rest_actual = p[missing], actual[missing]  # (N, V), (N,)
            above = rest > rest_actual[:, None]
            b_ranks[missing] = above.sum(dim=1)
            b_mass[missing] = (rest * above).sum(dim=1)
        b_ranks, b_mass = b_ranks.cpu().numpy(), b_mass.cpu().numpy()
        b_probs = actual.cpu().numpy()
        b_top = top_i[..., :n_expected].cpu().numpy()
        for row, (s, start, end, owned) in enumerate(batch):
            lo = max(owned, start)
            src = slice(lo - start, end - start)
            ranks[s][lo:end] = b_ranks[row, src]
            probs[s][lo:end] = b_probs[row, src]
            mass[s][lo:end] = b_mass[row, src]
            expected[s][lo:end] = b_top[row, src]
    return [SequenceScores(*parts) for parts in zip(tokens, ranks, probs, mass, expected, strict=True)]


def session_surprise(scores: SequenceScores) -> float:
    """A session's anomaly score for ranking (AUC): its least likely key, as −log p (UNK counts as certain)."""
    if len(scores) == 0:
        return 0.0
    surprise = -np.log(np.maximum(scores.probs.astype(np.float64), 1e-30))
    surprise[scores.tokens == UNK] = 50.0
    return float(surprise.max())
