"""Causal language-model training on a flat array of token ids.

AdamW (β 0.9/0.95, weight decay 0.1 on matrices only), linear warmup then a
cosine decay, gradient clipping at 1.0, and the best-validation weights kept.
Batches are random windows of the training array. Progress goes to a
callback; this module prints nothing.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import torch
import torch.nn.functional as F

from engine.lm.model import GPT
from train.optim import adamw
from train.perplexity import mean_nll


@dataclass(frozen=True)
class LMTrainConfig:
    steps: int = 1000  # optimizer steps
    batch_size: int = 16  # windows per step
    seq_len: int = 256  # tokens per window (≤ the model's block_size)
    lr: float = 3e-3  # peak learning rate
    min_lr_ratio: float = 0.1  # cosine floor as a share of lr
    warmup_steps: int = 50  # linear warmup
    weight_decay: float = 0.1  # on 2-D weights only
    grad_clip: float = 1.0
    eval_every: int = 100  # steps between validation passes
    seed: int = 0


@dataclass(frozen=True)
class StepReport:
    step: int
    loss: float
    lr: float
    tokens_per_s: float
    val_loss: float | None  # set on evaluation steps


class Schedule(Protocol):
    steps: int
    lr: float
    min_lr_ratio: float
    warmup_steps: int


def lr_at(step: int, config: Schedule) -> float:
    """Linear warmup to `lr`, then a cosine decay to `lr × min_lr_ratio` at `steps` (any config with these fields)."""
    if step < config.warmup_steps:
        return config.lr * (step + 1) / config.warmup_steps
    progress = (step - config.warmup_steps) / max(1, config.steps - config.warmup_steps)
    floor = config.lr * config.min_lr_ratio
    return floor + 0.5 * (config.lr - floor) * (1 + math.cos(math.pi * min(1.0, progress)))


def random_windows(
    tokens: torch.Tensor, batch: int, seq_len: int, gen: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """(inputs, targets), each (batch, seq_len), from random offsets of a 1-D token array."""
    starts = torch.randint(0, len(tokens) - seq_len - 1, (batch,), generator=gen)
    rows = torch.stack([tokens[s : s + seq_len + 1] for s in starts.tolist()])
    return rows[:, :-1], rows[:, 1:]


def train_lm(
    model: GPT,
    train_tokens: torch.Tensor,
    val_tokens: torch.Tensor,
    config: LMTrainConfig,
    on_step: Callable[[StepReport], None] | None = None,
) -> float:
    """Train in place; the model ends with its best-validation weights. Returns that loss."""
    assert config.seq_len <= model.config.block_size
    assert len(train_tokens) > config.seq_len + 1, "not enough training tokens for one window"
    gen = torch.Generator().manual_seed(config.seed)
    optimizer = adamw(model, config.lr, config.weight_decay)
    best_loss, best_state = float("inf"), None
    for step in range(config.steps):
        model.train()
        t0 = time.perf_counter()
        for group in optimizer.param_groups:
            group["lr"] = lr_at(step, config)
        x, y = random_windows(train_tokens, config.batch_size, config.seq_len, gen)
        logits = model(x)  # (B, T, V)
        loss = F.cross_entropy(logits.flatten(0, 1), y.flatten())
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
        optimizer.step()
        val_loss = None
        if (step + 1) % config.eval_every == 0 or step + 1 == config.steps:
            val_loss = mean_nll(model, val_tokens, config.seq_len)
            if val_loss < best_loss:
                best_loss = val_loss
                best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        if on_step is not None:
            rate = x.numel() / (time.perf_counter() - t0)
            on_step(StepReport(step + 1, loss.item(), optimizer.param_groups[0]["lr"], rate, val_loss))
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    return best_loss
