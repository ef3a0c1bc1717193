"""Decoding as gpt-fast does it, against the token-by-token reference that reads every token back.

The fast path keeps sampled tokens on the device and reads them back in blocks, slices the causal mask
built with the caches, and offers a static-shape step for torch.compile; every output must stay the one
the plain loop (one `.item()` per token, with or without the KV cache) gives.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import torch

from engine.lm.compiled import StaticStep, compile_applies, static_forward
from engine.lm.config import GPTConfig
from engine.lm.generate import GenerationStats, LogitsProcessor, decode_n_tokens, generate, prefill
from engine.lm.grammar import GrammarConstraint
from engine.lm.model import GPT
from engine.lm.sampling import SamplingConfig, sample
from engine.lm.tokenizer import Tokenizer, byte_level_ranks

STOP = 256
BYTES = Tokenizer(byte_level_ranks(), {"<|end|>": STOP})
GREEDY = SamplingConfig(temperature=0.0)
SAMPLED = [SamplingConfig(temperature=1.0, top_k=20), SamplingConfig(temperature=0.8, top_p=0.9)]


def random_model(vocab_size: int = 97, block_size: int = 64) -> GPT:
    model = GPT(GPTConfig(block_size=block_size, vocab_size=vocab_size, n_layer=3, n_head=4, n_embd=32))
    model.init_weights(seed=1)
    return model.eval()


@torch.inference_mode()
def reference(
    model: GPT,
    prompt: list[int],
    n: int,
    sampling: SamplingConfig,
    *,
    seed: int | None = None,
    cached: bool = True,
    processor: LogitsProcessor | None = None,
) -> list[int]:
    """The old loop: one forward per token (over the cache, or the whole sequence again), each token read back."""
    generator = torch.Generator().manual_seed(seed) if seed is not None and not sampling.greedy else None
    ids = list(prompt)
    if cached:
        model.setup_caches(max_batch=1, max_seq_len=len(prompt) + n)
    for i in range(n):
        if not cached:
            logits = model(torch.tensor([ids]))[:, -1]
        elif i == 0:
            logits = model(torch.tensor([ids]), input_pos=0)[:, -1]
        else:
            logits = model(torch.tensor([[ids[-1]]]), input_pos=len(ids) - 1)[:, -1]
        if processor is not None:
            logits = processor(logits)
        ids.append(int(sample(logits, sampling, generator).item()))
        if processor is not None:
            processor.accept(ids[-1])
    return ids[len(prompt) :]


@pytest.mark.parametrize("sync_every", [1, 3, 8])
@pytest.mark.parametrize("cached", [True, False])
def test_greedy_decode_matches_the_token_by_token_loop(sync_every: int, cached: bool) -> None:
    model = random_model()
    prompt = [5, 17, 3, 60, 2]
    expected = reference(model, prompt, 30, GREEDY, cached=cached)
    model.clear_caches()
    assert list(generate(model, prompt, max_new_tokens=30, sampling=GREEDY, sync_every=sync_every)) == expected


@pytest.mark.parametrize("sampling", SAMPLED)
@pytest.mark.parametrize("sync_every", [1, 4])
@pytest.mark.parametrize("cached", [True, False])
def test_seeded_sampling_matches_the_token_by_token_loop(
    sampling: SamplingConfig, sync_every: int, cached: bool
) -> None:
    model = random_model()
    for seed in (0, 7):
        expected = reference(model, [1, 2, 3], 25, sampling, seed=seed, cached=cached)
        got = list(generate(model, [1, 2, 3], max_new_tokens=25, sampling=sampling, seed=seed, sync_every=sync_every))
        assert got == expected


@pytest.mark.parametrize("sync_every", [1, 4])
def test_grammar_constrained_decode_matches_the_token_by_token_loop(sync_every: int) -> None:
    model = random_model(vocab_size=300)
    grammar = 'start: "Disk " ("full" | "gone") " on /" ("var" | "srv") "."\n'
    for seed in range(3):
        expected = reference(
            model, [1, 2], 20, SAMPLED[0], seed=seed, processor=GrammarConstraint(BYTES, grammar, [STOP])
        )
        guard = GrammarConstraint(BYTES, grammar, [STOP])
        got = list(generate(model, [1, 2], max_new_tokens=20, sampling=SAMPLED[0], seed=seed, stop_ids=[STOP],
                            processor=guard, sync_every=sync_every))  # fmt: skip
        assert got == expected[: expected.index(STOP)] and guard.complete
        assert bytes(got).decode().startswith("Disk ")


def test_a_stop_token_inside_a_block_ends_the_reply_there() -> None:
    model = random_model()
    free = reference(model, [1, 2, 3], 20, GREEDY)
    stop = free[6]  # the 7th token: inside the second block of 4 decoded after the first
    stats = GenerationStats()
    got = list(generate(model, [1, 2, 3], max_new_tokens=20, sampling=GREEDY, stop_ids=[stop], stats=stats,
                        sync_every=4))  # fmt: skip
    assert got == free[: free.index(stop)]
    assert stats.stop_reason == "stop_token" and stats.new_tokens == len(got)


class HostReads:
    """Counts the ways a tensor's value comes back to Python (each one a device sync off the CPU)."""

    NAMES = ("item", "tolist", "__int__", "__float__", "__bool__", "__index__", "numpy")

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        for name in self.NAMES:
            monkeypatch.setattr(torch.Tensor, name, self._counted(getattr(torch.Tensor, name)))

    def _counted(self, method: Callable[..., object]) -> Callable[..., object]:
        def read(tensor: torch.Tensor, *args: object, **kwargs: object) -> object:
            self.count += 1
            return method(tensor, *args, **kwargs)

        return read


def test_tokens_are_read_back_once_per_block_not_once_per_token(monkeypatch: pytest.MonkeyPatch) -> None:
    model = random_model()
    expected = reference(model, [4, 5, 6], 21, GREEDY)
    reads = HostReads(monkeypatch)
    got = list(generate(model, [4, 5, 6], max_new_tokens=21, sampling=GREEDY, sync_every=4))
    assert got == expected
    assert reads.count == 1 + 5  # the first token after prefill, then 20 decoded tokens in blocks of 4


def test_the_model_runs_ahead_of_the_reader_by_a_block(monkeypatch: pytest.MonkeyPatch) -> None:
    model = random_model()
    steps: list[int] = []
    forward = GPT.forward
    monkeypatch.setattr(GPT, "forward", lambda self, *a, **k: steps.append(1) or forward(self, *a, **k))
    stream = generate(model, [1, 2], max_new_tokens=9, sampling=GREEDY, sync_every=4)
    next(stream)  # the prefill's token
    assert len(steps) == 1
    next(stream)
    assert len(steps) == 5  # four decode steps ran before the first of them was read


def test_sync_every_must_be_positive() -> None:
    with pytest.raises(ValueError, match="sync_every"):
        list(generate(random_model(), [1], max_new_tokens=3, sync_every=0))


@torch.inference_mode()
def test_a_step_after_a_cached_prefix_slices_the_mask_built_with_the_caches(monkeypatch: pytest.MonkeyPatch) -> None:
    model = random_model()
    model.setup_caches(max_batch=1, max_seq_len=40)
    assert model.causal_mask is not None and torch.equal(model.causal_mask, torch.ones(40, 40, dtype=torch.bool).tril())
    masks: list[torch.Tensor | None] = []
    sdpa = torch.nn.functional.scaled_dot_product_attention
    monkeypatch.setattr(torch.nn.functional, "scaled_dot_product_attention",
                        lambda *a, attn_mask=None, **k: masks.append(attn_mask) or sdpa(*a, attn_mask=attn_mask, **k))  # fmt: skip
    idx = torch.randint(0, 97, (1, 17), generator=torch.Generator().manual_seed(0))
    model(idx[:, :10], input_pos=0)
    model(idx[:, 10:], input_pos=10)
    assert masks[:3] == [None] * 3  # the prefill from position 0: is_causal, no mask
    keys, queries = torch.arange(17), torch.arange(10, 17)
    for mask in masks[3:]:
        assert mask is not None and torch.equal(mask, keys[None, :] <= queries[:, None])
        assert mask.untyped_storage().data_ptr() == model.causal_mask.untyped_storage().data_ptr()  # a view, no copy


def static_decode(model: GPT, prompt: list[int], n: int, sampling: SamplingConfig, step: StaticStep,
                  seed: int | None = None, processor: LogitsProcessor | None = None) -> list[int]:  # fmt: skip
    """Prefill eagerly, then decode through the static-shape step, as `generate(compiled=True)` does on CUDA."""
    generator = torch.Generator().manual_seed(seed) if seed is not None else None
    first = prefill(model, torch.tensor([prompt]), sampling, generator, processor)
    rest: Iterator[int] = decode_n_tokens(step, first, len(prompt), n - 1, sampling, generator, processor)
    return [int(first.item()), *rest]


def test_the_static_step_decodes_what_the_eager_step_decodes() -> None:
    model = random_model(vocab_size=300)
    prompt = [3, 1, 4, 1, 5]
    expected = reference(model, prompt, 40, GREEDY)
    model.clear_caches()
    step = StaticStep(model)
    assert model.transformer.h[0].attn.kv_cache.max_seq_len == 64 and bool(
        (model.transformer.h[0].attn.kv_cache.k == 0).all()
    )
    assert static_decode(model, prompt, 40, GREEDY, step) == expected
    sampled = reference(model, prompt, 30, SAMPLED[0], seed=3)
    assert static_decode(model, prompt, 30, SAMPLED[0], StaticStep(model), seed=3) == sampled
    grammar = 'start: "ab" ("c" | "d") "."\n'
    guarded = reference(model, [1], 6, SAMPLED[0], seed=1, processor=GrammarConstraint(BYTES, grammar, [STOP]))
    got = static_decode(model, [1], 6, SAMPLED[0], StaticStep(model), 1, GrammarConstraint(BYTES, grammar, [STOP]))
    assert got == guarded


@torch.inference_mode()
def test_the_static_step_gives_the_eager_logits_over_caches_with_garbage_past_the_end() -> None:
    model = random_model()
    idx = torch.randint(0, 97, (1, 30), generator=torch.Generator().manual_seed(2))
    full = model(idx)  # (1, 30, V)
    step = StaticStep(model)
    for block in model.transformer.h:  # stale rows past the position (finite, as after an earlier reply)
        block.attn.kv_cache.k.normal_()
        block.attn.kv_cache.v.normal_()
    model(idx[:, :10], input_pos=0)
    for t in range(10, 30):
        torch.testing.assert_close(step(idx[:, t : t + 1], t)[:, -1], full[:, t], atol=1e-5, rtol=1e-5)


def test_compiled_is_a_no_op_off_cuda(monkeypatch: pytest.MonkeyPatch) -> None:
    assert not compile_applies(torch.device("cpu")) and compile_applies(torch.device("cuda"))
    model = random_model()
    expected = list(generate(model, [1, 2, 3], max_new_tokens=15, sampling=GREEDY))

    def no_compile(*args: object, **kwargs: object) -> None:
        raise AssertionError("torch.compile called on the CPU")

    monkeypatch.setattr(torch, "compile", no_compile)
    assert list(generate(model, [1, 2, 3], max_new_tokens=15, sampling=GREEDY, compiled=True)) == expected


@pytest.mark.slow
def test_the_static_step_compiles_as_one_graph_on_the_cpu() -> None:
    from torch._dynamo.testing import CompileCounter

    torch._dynamo.reset()
    model = random_model()
    prompt = [2, 7, 1, 8]
    expected = reference(model, prompt, 12, GREEDY)
    counter = CompileCounter()
    compiled = torch.compile(static_forward, fullgraph=True, backend=counter)  # fullgraph: no graph break anywhere
    assert static_decode(model, prompt, 12, GREEDY, StaticStep(model, compiled)) == expected
    assert counter.frame_count == 1  # one capture serves every step: no new shapes, no recompiles
