"""The LM loop learns, keeps the best weights, and perplexity agrees with a direct computation."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from engine.lm.config import GPTConfig
from engine.lm.model import GPT
from train.lm import LMTrainConfig, lr_at, train_lm
from train.perplexity import mean_nll, perplexity


def test_training_lowers_loss_on_a_repeating_pattern() -> None:
    torch.manual_seed(0)
    pattern = torch.tensor([3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9, 3] * 64)
    model = GPT(GPTConfig(block_size=32, vocab_size=16, n_layer=1, n_head=2, n_embd=32))
    model.init_weights(seed=0)
    before = mean_nll(model, pattern, 32)
    reports = []
    best = train_lm(
        model,
        pattern,
        pattern,
        LMTrainConfig(steps=60, batch_size=8, seq_len=32, warmup_steps=5, eval_every=20),
        reports.append,
    )
    assert best < before / 3 and len(reports) == 60
    assert [r.step for r in reports if r.val_loss is not None] == [20, 40, 60]
    assert math.isclose(mean_nll(model, pattern, 32), best, rel_tol=1e-5)  # best weights restored


def test_mean_nll_matches_a_direct_computation() -> None:
    model = GPT(GPTConfig(block_size=16, vocab_size=11, n_layer=1, n_head=1, n_embd=8)).eval()
    tokens = torch.randint(0, 11, (17,))
    with torch.inference_mode():
        direct = F.cross_entropy(model(tokens[None, :-1])[0], tokens[1:]).item()
    assert math.isclose(mean_nll(model, tokens, 16), direct, rel_tol=1e-5)
    assert math.isclose(perplexity(model, tokens, 16), math.exp(direct), rel_tol=1e-5)


def test_schedule_warms_up_then_decays_to_the_floor() -> None:
    cfg = LMTrainConfig(steps=100, lr=1.0, warmup_steps=10, min_lr_ratio=0.1)
    assert lr_at(0, cfg) == 0.1 and lr_at(9, cfg) == 1.0
    assert lr_at(55, cfg) < 1.0 and math.isclose(lr_at(100, cfg), 0.1)


def test_long_sessions_are_split_into_pieces_that_cover_every_key() -> None:
    from engine.detect.fit import split_long

    pieces = split_long([list(range(100)), [1, 2, 3]], block=16)
    assert all(len(p) <= 17 for p in pieces)
    targets = [t for p in pieces[:-1] for t in p[1:]]
    assert targets == list(range(1, 100)) and pieces[-1] == [1, 2, 3]
