"""The static-shape decode step that `torch.compile` captures on CUDA (gpt-fast's `--compile`).

Eager decoding slices each layer's KV cache to the positions written, so every
step has new shapes; under `torch.compile(mode="reduce-overhead")` (CUDA
graphs) that would be a new graph per step. The static step keeps the position
in a device tensor and attends over the whole cache under a row of the causal
mask (`GPT.forward` with a tensor `input_pos`), so one graph serves every step
and replays without Python's per-kernel launch cost.

Only CUDA gains from this: on the CPU and MPS the flag is a no-op
(`compile_applies` says so, and the caller tells the user). Left out: prefill
(one call per reply) and sampling (`torch.multinomial` with a caller's
generator) stay eager; the engine never changes global torch flags.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import torch

from engine.lm.model import GPT

StaticForward = Callable[[GPT, torch.Tensor, torch.Tensor], torch.Tensor]


def compile_applies(device: torch.device) -> bool:
    """Whether `compiled=True` changes anything on this device (CUDA only)."""
    return device.type == "cuda"


def static_forward(model: GPT, token: torch.Tensor, input_pos: torch.Tensor) -> torch.Tensor:
    """Logits (1, 1, V) for the token (1, 1) at input_pos (1,), with shapes that never change."""
    return model(token, input_pos)


@functools.cache
def compiled_forward() -> StaticForward:
    """`static_forward` under torch.compile, made on first use; each model compiles on its first step."""
    return torch.compile(static_forward, mode="reduce-overhead", fullgraph=True)


class StaticStep:
    """A decode step (token (1, 1), position) → logits (1, 1, V) with fixed shapes, for `forward` compiled.

    The caches span the whole context and start zeroed; the position lives in a device tensor (1,).
    """

    def __init__(self, model: GPT, forward: StaticForward = static_forward) -> None:
        model.setup_caches(max_batch=1, max_seq_len=model.config.block_size, zeroed=True)
        self.model = model
        self.forward = forward
        self.pos = torch.zeros(1, dtype=torch.long, device=model.transformer.wte.weight.device)  # (1,)

    def __call__(self, token: torch.Tensor, input_pos: int) -> torch.Tensor:
        self.pos.fill_(input_pos)  # the value goes as a kernel argument: no copy from the host, no sync
        return self.forward(self.model, token, self.pos)
