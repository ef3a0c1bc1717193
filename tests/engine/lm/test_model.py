"""The KV-cache path against full recompute, token by token."""

from __future__ import annotations

import pytest
import torch

from engine.lm.config import GPTConfig, preset
from engine.lm.generate import GenerationStats, generate
from engine.lm.model import GPT
from engine.lm.sampling import SamplingConfig


def random_model(**overrides: object) -> GPT:
    config = GPTConfig(**{**dict(block_size=64, vocab_size=97, n_layer=3, n_head=4, n_embd=32), **overrides})  # type: ignore[arg-type]
    model = GPT(config)
    model.init_weights(seed=1)
    return model.eval()


@torch.inference_mode()
def test_incremental_decode_matches_recompute() -> None:
    model = random_model()
    idx = torch.randint(0, 97, (2, 40), generator=torch.Generator().manual_seed(0))
    full = model(idx)  # (2, 40, V)
    model.setup_caches(max_batch=2, max_seq_len=40)
    pieces = [model(idx[:, :10], input_pos=0)]  # prefill 10
    pieces.append(model(idx[:, 10:17], input_pos=10))  # a multi-token step after a cached prefix
    for t in range(17, 40):
        pieces.append(model(idx[:, t : t + 1], input_pos=t))
    cached = torch.cat(pieces, dim=1)
    torch.testing.assert_close(cached, full, atol=1e-5, rtol=1e-5)


@torch.inference_mode()
def test_last_only_equals_last_position() -> None:
    model = random_model()
    idx = torch.randint(0, 97, (1, 20))
    torch.testing.assert_close(model(idx, last_only=True)[:, -1], model(idx)[:, -1])


def naive_greedy(model: GPT, prompt: list[int], n: int) -> list[int]:
    ids = list(prompt)
    with torch.inference_mode():
        for _ in range(n):
            logits = model(torch.tensor([ids]))
            ids.append(int(logits[0, -1].argmax()))
    return ids[len(prompt) :]


@pytest.mark.parametrize("activation", ["gelu_tanh", "gelu"])
def test_greedy_generation_matches_naive_loop(activation: str) -> None:
    model = random_model(activation=activation)
    prompt = [5, 17, 3, 60, 2]
    expected = naive_greedy(model, prompt, 30)
    got = list(generate(model, prompt, max_new_tokens=30, sampling=SamplingConfig(temperature=0.0)))
    assert got == expected


def test_stop_token_ends_generation_and_is_not_yielded() -> None:
    model = random_model()
    prompt = [1, 2, 3]
    free = naive_greedy(model, prompt, 20)
    stop = free[5]
    stats = GenerationStats()
    got = list(generate(model, prompt, max_new_tokens=20, sampling=SamplingConfig(0.0), stop_ids=[stop], stats=stats))
    assert got == free[: free.index(stop)]
    assert stats.stop_reason == "stop_token"


def test_generation_is_capped_by_context() -> None:
    model = random_model(block_size=16)
    stats = GenerationStats()
    got = list(generate(model, list(range(10)), max_new_tokens=100, sampling=SamplingConfig(0.0), stats=stats))
    assert len(got) == 6 and stats.stop_reason == "context"


def test_caches_are_reused_when_big_enough_and_grown_when_not() -> None:
    model = random_model()
    first = list(generate(model, [1, 2, 3, 4], max_new_tokens=20, sampling=SamplingConfig(0.0)))
    buffer = model.transformer.h[0].attn.kv_cache.k
    again = list(generate(model, [1, 2, 3, 4], max_new_tokens=10, sampling=SamplingConfig(0.0)))
    assert again == first[:10] and model.transformer.h[0].attn.kv_cache.k is buffer  # reused, same results
    list(generate(model, list(range(30)), max_new_tokens=30, sampling=SamplingConfig(0.0)))
    assert model.transformer.h[0].attn.kv_cache.max_seq_len == 60  # grown for the longer request
    model.clear_caches()
    assert model.transformer.h[0].attn.kv_cache is None


def test_seeded_sampling_is_repeatable() -> None:
    model = random_model()
    cfg = SamplingConfig(temperature=1.0, top_k=20)
    a = list(generate(model, [1, 2], max_new_tokens=25, sampling=cfg, seed=7))
    b = list(generate(model, [1, 2], max_new_tokens=25, sampling=cfg, seed=7))
    c = list(generate(model, [1, 2], max_new_tokens=25, sampling=cfg, seed=8))
    assert a == b and a != c


def test_forward_with_input_pos_requires_caches() -> None:
    model = random_model()
    with pytest.raises(AssertionError, match="setup_caches"):
        model(torch.tensor([[1]]), input_pos=3)


def test_presets_and_param_count() -> None:
    assert preset("gpt2").n_params() == 124_439_808  # the published GPT-2 small count
    model = GPT(preset("log-tiny"))
    assert sum(p.numel() for p in model.parameters()) == preset("log-tiny").n_params()
    with pytest.raises(ValueError):
        GPTConfig(n_embd=30, n_head=4)
