"""Generation as a ladder: prefill → decode_one_token → decode_n_tokens → generate.

The engine takes and yields token ids; decoding text (including partial UTF-8)
belongs to the caller. `generate` sizes the KV caches to the request (reusing
caches that are big enough; `GPT.clear_caches` frees them), and callers may
stop early by closing the iterator.

As in gpt-fast, each sampled token stays on the device and is fed straight
back: the host reads tokens back `sync_every` at a time (one device sync per
block; a stop token inside a block ends the reply there, the steps after it are
dropped), except where a logits processor must learn each token as it is
chosen (a grammar). With `compiled=True` on CUDA the decode step is the
static-shape one `torch.compile` captures (engine.lm.compiled).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

import torch

from engine.errors import ContextOverflowError
from engine.lm.compiled import StaticStep, compile_applies, compiled_forward
from engine.lm.model import GPT
from engine.lm.sampling import SamplingConfig, sample

# A decode step: token ids (1, 1) at a position → logits (1, 1, V). A GPT is one; so is a StaticStep.
Step = Callable[[torch.Tensor, int], torch.Tensor]
# Tokens read back per device sync off the CPU: a stop token costs at most this many steps minus one
# of wasted decode. On the CPU a token is on the host already, so it is read back as it comes (1).
SYNC_EVERY = 8


class LogitsProcessor(Protocol):
    """Constrains each choice (e.g. engine.analysis.factguard.FactGuard): masks the logits, then learns the token chosen."""

    def __call__(self, logits: torch.Tensor) -> torch.Tensor: ...  # (1, V) → (1, V)

    def accept(self, token_id: int) -> None: ...


def choose(
    logits: torch.Tensor, config: SamplingConfig, generator: torch.Generator | None, processor: LogitsProcessor | None
) -> torch.Tensor:
    """The next token (1,) from last-position logits (1, V), through the processor when there is one."""
    if processor is None:
        return sample(logits, config, generator)
    token = sample(processor(logits), config, generator)
    processor.accept(int(token.item()))
    return token


@torch.no_grad()
def prefill(
    model: GPT,
    prompt: torch.Tensor,
    config: SamplingConfig,
    generator: torch.Generator | None,
    processor: LogitsProcessor | None = None,
) -> torch.Tensor:
    """Run the prompt (1, T) through the model, filling the caches; returns the first new token (1,)."""
    logits = model(prompt, input_pos=0, last_only=True)  # (1, 1, V)
    return choose(logits[:, -1], config, generator, processor)


@torch.no_grad()
def decode_one_token(
    step: Step,
    token: torch.Tensor,
    input_pos: int,
    config: SamplingConfig,
    generator: torch.Generator | None,
    processor: LogitsProcessor | None = None,
) -> torch.Tensor:
    """One step: the token (1,) at input_pos in, the next token (1,) out, left on the device."""
    logits = step(token.view(1, 1), input_pos)  # (1, 1, V)
    return choose(logits[:, -1], config, generator, processor)


def decode_n_tokens(
    step: Step,
    token: torch.Tensor,
    input_pos: int,
    n: int,
    config: SamplingConfig,
    generator: torch.Generator | None,
    processor: LogitsProcessor | None = None,
    *,
    sync_every: int = 1,
) -> Iterator[int]:
    """Decode up to n tokens after `token`, which sits at input_pos; closing the iterator stops it.

    Tokens come back to the host `sync_every` at a time (one sync per block), the last block shorter.
    """
    block: list[torch.Tensor] = []  # tokens (1,) still on the device
    for i in range(n):
        token = decode_one_token(step, token, input_pos + i, config, generator, processor)
        block.append(token)
        if len(block) == sync_every or i == n - 1:
            yield from (torch.cat(block) if len(block) > 1 else token).tolist()
            block = []


@dataclass
class GenerationStats:
    """Timing of one generation, filled in while it runs."""

    prompt_tokens: int = 0
    new_tokens: int = 0
    prefill_seconds: float = 0.0
    decode_seconds: float = 0.0
    stop_reason: str = ""  # "stop_token", "max_tokens", "context" or "" while running

    @property
    def decode_tokens_per_s(self) -> float:
        """Tokens after the first over the time spent producing them."""
        steps = self.new_tokens - 1
        return steps / self.decode_seconds if steps > 0 and self.decode_seconds > 0 else 0.0


@torch.inference_mode()
def _room(model: GPT, prompt_ids: Sequence[int]) -> int:
    """Tokens the context leaves after the prompt; a prompt that does not fit is an error."""
    block = model.config.block_size
    if not prompt_ids:
        raise ValueError("empty prompt")
    if len(prompt_ids) >= block:
        raise ContextOverflowError(
            f"prompt of {len(prompt_ids)} tokens does not fit the {block}-token context",
            "use a smaller chunk or a model with a longer context",
        )
    return block - len(prompt_ids)


def decode_step(model: GPT, max_seq_len: int, compiled: bool) -> Step:
    """The step decoding runs, with caches set up for it: the compiled static step where asked and on
    CUDA, else the model itself (caches sized to the request)."""
    if compiled and compile_applies(model.transformer.wte.weight.device):
        return StaticStep(model, compiled_forward())
    model.setup_caches(max_batch=1, max_seq_len=max_seq_len)
    return model


def _block(sync_every: int | None, device: torch.device) -> int:
    """Tokens read back per sync: as asked, else 1 on the CPU (its tokens are on the host) and SYNC_EVERY elsewhere."""
    if sync_every is None:
        return 1 if device.type == "cpu" else SYNC_EVERY
    if sync_every < 1:
        raise ValueError("sync_every must be >= 1")
    return sync_every


def generate(
    model: GPT,
    prompt_ids: Sequence[int],
    *,
    max_new_tokens: int,
    sampling: SamplingConfig = SamplingConfig(),
    stop_ids: Sequence[int] = (),
    seed: int | None = None,
    stats: GenerationStats | None = None,
    processor: LogitsProcessor | None = None,
    sync_every: int | None = None,
    compiled: bool = False,
) -> Iterator[int]:
    """Yield new token ids for a prompt; a stop token ends generation and is not yielded.

    New tokens are capped by the context window; `stats.stop_reason` says why
    generation ended. A `processor` constrains every choice (the engine still
    sees only ids; a processor that needs text brings its own tokenizer).
    `sync_every`: tokens read back per device sync (default 1 on the CPU, else
    SYNC_EVERY). `compiled`: the torch.compile decode step, on CUDA only.
    """
    stats = stats if stats is not None else GenerationStats()
    stats.prompt_tokens = len(prompt_ids)
    budget = min(max_new_tokens, _room(model, prompt_ids))
    if budget <= 0:
        stats.stop_reason = "max_tokens"
        return
    device = model.transformer.wte.weight.device
    generator = None
    if seed is not None and not sampling.greedy:
        generator = torch.Generator(device=device).manual_seed(seed)
    stops = frozenset(stop_ids)

    step = decode_step(model, len(prompt_ids) + budget, compiled)
    sync_every = _block(sync_every, device)
    t0 = time.perf_counter()
    prompt = torch.tensor([list(prompt_ids)], dtype=torch.long, device=device)
    token = prefill(model, prompt, sampling, generator, processor)
    first = int(token.item())
    stats.prefill_seconds = time.perf_counter() - t0
    if first in stops:
        stats.stop_reason = "stop_token"
        return
    stats.new_tokens = 1
    yield first
    stats.stop_reason = "max_tokens" if budget == max_new_tokens else "context"
    steps = decode_n_tokens(
        step, token, len(prompt_ids), budget - 1, sampling, generator, processor, sync_every=sync_every
    )
    while True:
        t1 = time.perf_counter()  # time inside the engine only, not the consumer's
        token_id = next(steps, None)
        stats.decode_seconds += time.perf_counter() - t1
        if token_id is None:
            break
        if token_id in stops:
            stats.stop_reason = "stop_token"
            break
        stats.new_tokens += 1
        yield token_id
