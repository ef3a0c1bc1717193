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
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from engine.detector.vocab import PAD, UNK
from engine.model import GPT

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


def is_flagged(score: PositionScore, topk: TopK, vocab_size: int) -> bool:
    if score.token == UNK:
        return True
    if topk.kind == "count":
        return score.rank >= int(topk.value)
    if topk.kind == "fraction":
        return score.rank >= max(1, int(topk.value * vocab_size))
    if topk.kind == "mass":
        return score.mass_before >= topk.value  # outside the smallest set that reaches the mass
    return score.prob < topk.value


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
) -> list[list[PositionScore]]:
    """Scores for every key of every sequence (each starting with BOS; BOS itself is not scored)."""
    block = model.config.block_size
    device = model.transformer.wte.weight.device
    jobs: list[tuple[int, int, int, int]] = []  # (sequence, start, end, first owned)
    for s, seq in enumerate(sequences):
        inputs = len(seq) - 1  # position i predicts seq[i + 1]
        for start, end, owned in _windows(inputs, block):
            jobs.append((s, start, end, owned))
    results: list[list[PositionScore | None]] = [[None] * (len(seq) - 1) for seq in sequences]
    for b in range(0, len(jobs), batch_size):
        batch = jobs[b : b + batch_size]
        width = max(end - start for _, start, end, _ in batch)
        idx = torch.full((len(batch), width), PAD, dtype=torch.long)
        for row, (s, start, end, _) in enumerate(batch):
            idx[row, : end - start] = torch.tensor(sequences[s][start:end])
        probs = model(idx.to(device)).float().softmax(dim=-1).cpu()  # (B, T, V)
        for row, (s, start, end, owned) in enumerate(batch):
            seq = sequences[s]
            targets = torch.tensor(seq[start + 1 : end + 1])
            p = probs[row, : end - start]  # (T, V)
            actual = p.gather(1, targets[:, None]).squeeze(1)  # (T,)
            above = p > actual[:, None]
            ranks = above.sum(dim=1)
            mass = (p * above).sum(dim=1)
            top = p.topk(min(n_expected, p.size(1)), dim=1).indices
            for t in range(max(owned, start) - start, end - start):
                results[s][start + t] = PositionScore(
                    int(targets[t]), int(ranks[t]), float(actual[t]), float(mass[t]), tuple(top[t].tolist())
                )
    assert all(score is not None for row in results for score in row)
    return results  # type: ignore[return-value]


def session_surprise(scores: Sequence[PositionScore]) -> float:
    """A session's anomaly score for ranking (AUC): its least likely key, as −log p (UNK counts as certain)."""
    worst = 0.0
    for score in scores:
        worst = max(worst, 50.0 if score.token == UNK else -math.log(max(score.prob, 1e-30)))
    return worst
