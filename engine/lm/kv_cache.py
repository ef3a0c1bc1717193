"""Preallocated key/value cache for one attention layer.

Buffers are allocated once for (max_batch, max_seq_len) and written in place,
so decoding never reallocates. They start uninitialised (`empty`): attention
only reads positions that have been written. The model sets caches up apart from `forward`
(`GPT.setup_caches`) and `forward` asserts they exist when asked to use them.
"""

from __future__ import annotations

import torch
from torch import nn


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
    ) -> None:
        super().__init__()
        shape = (max_batch, n_head, max_seq_len, head_size)  # (B, nh, T_max, hs)
        self.register_buffer("k", torch.empty(shape, dtype=dtype, device=device), persistent=False)
        self.register_buffer("v", torch.empty(shape, dtype=dtype, device=device), persistent=False)

    @property
    def max_seq_len(self) -> int:
        return self.k.size(2)

    def update(self, input_pos: int, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Write k, v (B, nh, T, hs) at positions [input_pos, input_pos+T).

        Returns views of the keys and values for positions [0, input_pos+T).
        """
        batch, _, steps, _ = k.shape
        end = input_pos + steps
        assert end <= self.max_seq_len, f"KV cache overflow: {end} > {self.max_seq_len}"
        assert batch <= self.k.size(0), f"batch {batch} > cache batch {self.k.size(0)}"
        self.k[:batch, :, input_pos:end] = k
        self.v[:batch, :, input_pos:end] = v
        return self.k[:batch, :, :end], self.v[:batch, :, :end]
