"""Reinforcement fine-tuning of the detector: LogGPT's binary reward and LogNEO's positional one.

The policy is the detector's next-key distribution. At every position of a
normal session it takes an action: a set of K keys drawn without replacement
(its "top-K guess"), with the exact Plackett–Luce log-probability. The
reward says whether the actual key is in the set:

- binary (LogGPT): +1 if it is, −1 if not;
- positional (LogNEO): α + a·bᵗ if it is, a·bᵗ + κ if not, t the position,
  (α, a, b, κ) = (1e-4, 1, 0.5, −1).

PPO: clip 0.2, entropy bonus 0.01, advantage = reward − an EMA baseline
(b ← 0.95·b + 0.05·mean reward), 4 epochs per batch of 32 sessions, Adam
1e-5, plus 0.1 × the MLE loss to keep the model close to the data.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from engine.detect.fit import make_batch, split_long
from engine.detect.vocab import PAD
from engine.lm.model import GPT

REWARDS = ("binary", "positional")


@dataclass(frozen=True)
class RLConfig:
    reward: str = "binary"  # "binary" (LogGPT) or "positional" (LogNEO)
    k: int = 5  # size of the guessed set
    passes: int = 1  # passes over the training sessions
    batch_size: int = 32
    ppo_epochs: int = 4
    clip: float = 0.2
    entropy_bonus: float = 0.01
    mle_weight: float = 0.1
    lr: float = 1e-5
    baseline_decay: float = 0.95
    alpha: float = 1e-4  # LogNEO's (α, a, b, κ)
    a: float = 1.0
    b: float = 0.5
    kappa: float = -1.0
    seed: int = 0


def plackett_luce_logprob(logp: torch.Tensor, chosen: torch.Tensor) -> torch.Tensor:
    """log P(drawing `chosen` in this order without replacement). logp (N, V), chosen (N, K) → (N,)."""
    picked = logp.gather(1, chosen)  # (N, K)
    probs = picked.exp()
    used = torch.cumsum(probs, dim=1) - probs  # mass drawn before each pick
    return (picked - torch.log1p(-used.clamp(max=1 - 1e-6))).sum(dim=1)


def rewards_for(hit: torch.Tensor, positions: torch.Tensor, config: RLConfig) -> torch.Tensor:
    if config.reward == "binary":
        return hit.float() * 2 - 1
    decay = config.a * config.b ** positions.float()
    return torch.where(hit, config.alpha + decay, decay + config.kappa)


def finetune(
    model: GPT,
    train: Sequence[Sequence[int]],
    config: RLConfig,
    on_batch: Callable[[int, int, float], None] | None = None,
) -> GPT:
    """PPO fine-tuning in place on normal sessions (BOS … EOS id sequences)."""
    if config.reward not in REWARDS:
        raise ValueError(f"reward must be one of {REWARDS}")
    rng = random.Random(config.seed)
    gen = torch.Generator().manual_seed(config.seed)
    sessions = split_long(train, model.config.block_size)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    baseline = 0.0
    total = config.passes * ((len(sessions) + config.batch_size - 1) // config.batch_size)
    step = 0
    for _ in range(config.passes):
        order = list(range(len(sessions)))
        rng.shuffle(order)
        for b in range(0, len(order), config.batch_size):
            x, y = make_batch([sessions[i] for i in order[b : b + config.batch_size]], model.config.block_size, rng)
            mask = y != PAD  # (B, T)
            positions = torch.arange(x.size(1)).expand_as(x)[mask]
            with torch.no_grad():  # act with the current policy
                model.eval()
                logp_old_all = model(x).log_softmax(-1)[mask]  # (N, V)
                k = min(config.k, logp_old_all.size(1))
                gumbel = -torch.log(-torch.log(torch.rand(logp_old_all.shape, generator=gen).clamp(1e-9, 1 - 1e-9)))
                chosen = (logp_old_all + gumbel).topk(k, dim=1).indices  # K keys without replacement
                logp_old = plackett_luce_logprob(logp_old_all, chosen)
                hit = (chosen == y[mask][:, None]).any(dim=1)
                reward = rewards_for(hit, positions, config)
                baseline = config.baseline_decay * baseline + (1 - config.baseline_decay) * float(reward.mean())
                advantage = reward - baseline
            model.train()
            for _ in range(config.ppo_epochs):
                logits = model(x)
                logp_all = logits.log_softmax(-1)[mask]
                ratio = (plackett_luce_logprob(logp_all, chosen) - logp_old).exp()
                clipped = ratio.clamp(1 - config.clip, 1 + config.clip)
                policy_loss = -torch.min(ratio * advantage, clipped * advantage).mean()
                entropy = -(logp_all.exp() * logp_all).sum(dim=1).mean()
                mle = F.cross_entropy(logits.flatten(0, 1), y.flatten(), ignore_index=PAD)
                loss = policy_loss - config.entropy_bonus * entropy + config.mle_weight * mle
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                optimizer.step()
            step += 1
            if on_batch is not None:
                on_batch(step, total, float(hit.float().mean()))
    return model.eval()
