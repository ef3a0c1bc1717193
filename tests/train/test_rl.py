"""RL fine-tuning pieces: the Plackett–Luce log-probability, rewards, and a PPO run that helps."""

from __future__ import annotations

import itertools
import math
import random

import pytest
import torch

from engine.detect import KeyVocab
from engine.detect.fit import DetectorTrainConfig, new_model, train_detector
from engine.detect.scoring import score_sequences
from train.rl import RLConfig, finetune, plackett_luce_logprob, rewards_for


def test_plackett_luce_matches_enumeration() -> None:
    logp = torch.log_softmax(torch.tensor([[1.0, 0.2, -0.5, 0.7]]), dim=1)
    p = logp.exp()[0].tolist()
    total = 0.0
    for a, b in itertools.permutations(range(4), 2):
        expected = p[a] * p[b] / (1 - p[a])
        got = plackett_luce_logprob(logp, torch.tensor([[a, b]])).exp().item()
        assert got == pytest.approx(expected, rel=1e-5)
        total += got
    assert total == pytest.approx(1.0, rel=1e-5)  # ordered pairs without replacement sum to one


def test_rewards() -> None:
    hit = torch.tensor([True, False, True])
    pos = torch.tensor([0, 1, 3])
    assert rewards_for(hit, pos, RLConfig(reward="binary")).tolist() == [1.0, -1.0, 1.0]
    got = rewards_for(hit, pos, RLConfig(reward="positional")).tolist()
    assert got == pytest.approx([1e-4 + 1.0, 0.5 - 1.0, 1e-4 + 0.125])


def test_ppo_keeps_or_raises_the_top_k_hit_rate() -> None:
    rng = random.Random(0)
    sessions = [
        ["a", *rng.choice([["b", "c"], ["c", "b"]]), "d", *(["e"] * rng.randint(1, 3)), "f"] for _ in range(200)
    ]
    vocab = KeyVocab.from_sequences(sessions)
    seqs = [vocab.encode(s) for s in sessions]
    config = DetectorTrainConfig(n_layer=1, n_embd=16, block_size=16, epochs=2, batch_size=32, lr=3e-3, warmup_steps=2)
    model = new_model(len(vocab), config)
    train_detector(model, seqs[:160], seqs[160:], config)

    def hit_rate(k: int) -> float:
        scores = score_sequences(model, seqs[160:])
        return sum(int((s.ranks < k).sum()) for s in scores) / sum(len(s) for s in scores)

    before = hit_rate(2)
    finetune(model, seqs[:160], RLConfig(reward="binary", k=2, lr=3e-3, passes=2))
    assert hit_rate(2) >= before - 0.02 and not math.isnan(before)
