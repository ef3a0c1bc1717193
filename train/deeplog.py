"""The DeepLog baseline (Du et al., CCS 2017): an LSTM over a window of past keys, top-g.

A key is normal when it is among the g most likely next keys given the h keys
before it (left-padded at the start of a session); unseen keys are anomalous.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from engine.detect.vocab import PAD, UNK


@dataclass(frozen=True)
class DeepLogConfig:
    window: int = 10  # h: keys of history
    top_g: int = 9  # g: candidates accepted as normal
    hidden: int = 64
    layers: int = 2
    epochs: int = 10
    batch_size: int = 512
    lr: float = 2e-3
    seed: int = 0


class DeepLog(nn.Module):
    def __init__(self, vocab_size: int, config: DeepLogConfig) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab_size, config.hidden)
        self.lstm = nn.LSTM(config.hidden, config.hidden, config.layers, batch_first=True)
        self.head = nn.Linear(config.hidden, vocab_size)

    def forward(self, windows: torch.Tensor) -> torch.Tensor:
        out, _ = self.lstm(self.embed(windows))  # (B, h, H)
        return self.head(out[:, -1])  # (B, V)


def windows_of(seq: Sequence[int], h: int) -> tuple[list[list[int]], list[int]]:
    """(history windows, next keys) for every position after BOS."""
    padded = [PAD] * (h - 1) + list(seq)
    xs, ys = [], []
    for i in range(h, len(padded)):
        xs.append(padded[i - h : i])
        ys.append(padded[i])
    return xs, ys


def train_deeplog(
    vocab_size: int,
    train: Sequence[Sequence[int]],
    config: DeepLogConfig,
    on_epoch: Callable[[int, float], None] | None = None,
) -> DeepLog:
    torch.manual_seed(config.seed)
    model = DeepLog(vocab_size, config)
    xs, ys = [], []
    for seq in train:
        a, b = windows_of(seq, config.window)
        xs += a
        ys += b
    x, y = torch.tensor(xs), torch.tensor(ys)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    rng = random.Random(config.seed)
    for epoch in range(1, config.epochs + 1):
        order = list(range(len(x)))
        rng.shuffle(order)
        total = 0.0
        for b in range(0, len(order), config.batch_size):
            idx = torch.tensor(order[b : b + config.batch_size])
            loss = F.cross_entropy(model(x[idx]), y[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(idx)
        if on_epoch is not None:
            on_epoch(epoch, total / len(x))
    return model.eval()


@torch.inference_mode()
def deeplog_scores(model: DeepLog, seqs: Sequence[Sequence[int]], config: DeepLogConfig) -> list[tuple[bool, float]]:
    """(flagged, surprise) per session: any key outside the top-g, or unseen; surprise = max −log p."""
    results = []
    for seq in seqs:
        xs, ys = windows_of(seq, config.window)
        if not xs:
            results.append((False, 0.0))
            continue
        logp = model(torch.tensor(xs)).log_softmax(dim=-1)
        target = torch.tensor(ys)
        actual = logp.gather(1, target[:, None]).squeeze(1)
        ranks = (logp > actual[:, None]).sum(dim=1)
        unseen = target == UNK
        flagged = bool(((ranks >= config.top_g) | unseen).any())
        surprise = float(torch.where(unseen, torch.full_like(actual, 50.0), -actual).max())
        results.append((flagged, surprise))
    return results
