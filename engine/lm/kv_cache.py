"""Preallocated key/value cache for one attention layer.

Buffers are allocated once for (max_batch, max_seq_len) and written in place,
so decoding never reallocates. They start uninitialised (`empty`): attention
only reads positions that have been written. The model sets caches up apart from `forward`
(`GPT.setup_caches`) and `forward` asserts they exist when asked to use them.

A position given as a tensor (the static-shape decode step that `torch.compile`
captures) writes in place and returns the whole cache, whose unwritten rows
the causal mask hides: such caches start zeroed (`zeroed=True`), since a
masked-out weight of 0 times uninitialised memory can still be NaN.
"""

from __future__ import annotations

import torch
from torch import nn

# Where new tokens go: an int for the eager path (the cache is sliced to the positions written), or a
# tensor (T,) of positions on the device for the static-shape path (no host value, no new shape per step).
Position = int | torch.Tensor | None


class KVCache(nn.Module):
    def __init__(
        self,
        max_batch: int,
        n_head: int,
        max_seq_len: int,
        head_size: int,
        *,
        dtype: torch.dtype,
        device: torch.device | str,
        zeroed: bool = False,
    ) -> None:
        super().__init__()
        shape = (max_batch, n_head, max_seq_len, head_size)  # (B, nh, T_max, hs)
        alloc = torch.zeros if zeroed else torch.empty
        self.zeroed = zeroed
        self.register_buffer("k", alloc(shape, dtype=dtype, device=device), persistent=False)
        self.register_buffer("v", alloc(shape, dtype=dtype, device=device), persistent=False)

    @property
    def max_seq_len(self) -> int:
        return self.k.size(2)

    def update(
        self, input_pos: int | torch.Tensor, k: torch.Tensor, v: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Write k, v (B, nh, T, hs) at positions [input_pos, input_pos+T), or at the positions of a tensor (T,).

        Returns views of the keys and values for positions [0, input_pos+T), or the whole cache
        (B, nh, T_max, hs) for a tensor.
        """
        batch, _, steps, _ = k.shape
        if isinstance(input_pos, torch.Tensor):
            whole = batch == self.k.size(0)  # the buffers themselves, as CUDA graphs want them, where they fit
            k_out, v_out = (self.k, self.v) if whole else (self.k[:batch], self.v[:batch])
            k_out[:, :, input_pos] = k
            v_out[:, :, input_pos] = v
            return k_out, v_out
        end = input_pos + steps
        assert end <= self.max_seq_len, f"KV cache overflow: {end} > {self.max_seq_len}"
        assert batch <= self.k.size(0), f"batch {batch} > cache batch {self.k.size(0)}"
        self.k[:batch, :, input_pos:end] = k
        self.v[:batch, :, input_pos:end] = v
        return self.k[:batch, :, :end], self.v[:batch, :, :end]
