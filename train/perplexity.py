"""Perplexity of a model on held-out tokens: mean next-token NLL over windows."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from engine.lm.model import GPT


@torch.inference_mode()
def mean_nll(model: GPT, tokens: torch.Tensor, seq_len: int, *, max_windows: int | None = None) -> float:
    """Mean negative log-likelihood (nats/token) over consecutive non-overlapping windows of a 1-D array."""
    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    starts = range(0, len(tokens) - 1, seq_len)
    for i, start in enumerate(starts):
        if max_windows is not None and i >= max_windows:
            break
        window = tokens[start : start + seq_len + 1]
        if len(window) < 2:
            break
        logits = model(window[None, :-1])  # (1, T, V)
        total += F.cross_entropy(logits[0].float(), window[1:], reduction="sum").item()
        count += len(window) - 1
    model.train(was_training)
    return total / max(count, 1)


def perplexity(model: GPT, tokens: torch.Tensor, seq_len: int, *, max_windows: int | None = None) -> float:
    return math.exp(mean_nll(model, tokens, seq_len, max_windows=max_windows))
