"""GPT-2, top to bottom: attention, MLP, block, model.

Weight names follow nanoGPT (`transformer.h.N.attn.c_attn.weight`, ...), which
is also the layout of LoGPT checkpoints; Hugging Face's Conv1D weights are the
transpose of these Linear weights (see `engine.lm.importers.hf`). The model takes
and returns tensors of token ids and logits; it knows nothing of tokenizers,
devices or files.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from engine.lm.config import GPTConfig
from engine.lm.kv_cache import KVCache, Position


class CausalSelfAttention(nn.Module):
    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.n_head = config.n_head
        self.n_embd = config.n_embd
        self.dropout = config.dropout
        self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd, bias=config.bias)  # fused q, k, v
        self.c_proj = nn.Linear(config.n_embd, config.n_embd, bias=config.bias)
        self.resid_dropout = nn.Dropout(config.dropout)
        self.kv_cache: KVCache | None = None

    def forward(self, x: torch.Tensor, input_pos: Position, mask: torch.Tensor | None = None) -> torch.Tensor:
        """Attention for x (B, T, C); `mask` (from `GPT.hidden_of`) is None where causality needs none or is_causal."""
        B, T, C = x.shape
        q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
        hs = C // self.n_head
        q = q.view(B, T, self.n_head, hs).transpose(1, 2)  # (B, nh, T, hs)
        k = k.view(B, T, self.n_head, hs).transpose(1, 2)
        v = v.view(B, T, self.n_head, hs).transpose(1, 2)
        if input_pos is not None:
            assert self.kv_cache is not None, "call GPT.setup_caches() before decoding with input_pos"
            k, v = self.kv_cache.update(input_pos, k, v)  # (B, nh, input_pos+T, hs); the whole cache for a tensor
        # No mask: plain causal attention from position 0, or one new query that sees every cached key.
        dropout = self.dropout if self.training else 0.0
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=dropout, is_causal=mask is None and T > 1)
        y = y.transpose(1, 2).contiguous().view(B, T, C)  # (B, T, C)
        return self.resid_dropout(self.c_proj(y))


class MLP(nn.Module):
    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.c_fc = nn.Linear(config.n_embd, 4 * config.n_embd, bias=config.bias)
        self.approximate = "tanh" if config.activation == "gelu_tanh" else "none"
        self.c_proj = nn.Linear(4 * config.n_embd, config.n_embd, bias=config.bias)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.gelu(self.c_fc(x), approximate=self.approximate)
        return self.dropout(self.c_proj(x))


class Block(nn.Module):
    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.n_embd, eps=config.layer_norm_eps, bias=config.bias)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = nn.LayerNorm(config.n_embd, eps=config.layer_norm_eps, bias=config.bias)
        self.mlp = MLP(config)

    def forward(self, x: torch.Tensor, input_pos: Position, mask: torch.Tensor | None = None) -> torch.Tensor:
        x = x + self.attn(self.ln_1(x), input_pos, mask)
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.config = config
        self.transformer = nn.ModuleDict(
            dict(
                wte=nn.Embedding(config.vocab_size, config.n_embd),
                wpe=nn.Embedding(config.block_size, config.n_embd),
                drop=nn.Dropout(config.dropout),
                h=nn.ModuleList([Block(config) for _ in range(config.n_layer)]),
                ln_f=nn.LayerNorm(config.n_embd, eps=config.layer_norm_eps, bias=config.bias),
            )
        )
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        if config.tie_weights:
            self.lm_head.weight = self.transformer.wte.weight
        self.causal_mask: torch.Tensor | None
        self.register_buffer("causal_mask", None, persistent=False)  # set with the KV caches

    def init_weights(self, seed: int | None = None) -> None:
        """GPT-2's initialisation: N(0, 0.02), residual projections scaled by 1/sqrt(2·n_layer)."""
        gen = torch.Generator().manual_seed(seed) if seed is not None else None
        std_proj = 0.02 / math.sqrt(2 * self.config.n_layer)
        with torch.no_grad():
            for name, p in self.named_parameters():
                if name.endswith("c_proj.weight"):
                    p.copy_(torch.randn(p.shape, generator=gen) * std_proj)
                elif p.dim() >= 2:
                    p.copy_(torch.randn(p.shape, generator=gen) * 0.02)
                elif name.endswith(".weight"):  # LayerNorm gain
                    p.fill_(1.0)
                else:
                    p.zero_()

    def setup_caches(self, max_batch: int, max_seq_len: int | None = None, *, zeroed: bool = False) -> None:
        """Give every layer a KV cache of at least this size, on the model's device and dtype, and the
        model the causal mask (max_seq_len, max_seq_len) that attention after a cached prefix reads.

        Caches that are already big enough are kept: a fresh allocation costs page faults on first
        write (~7% of a 900-token GPT-2 prefill on a CPU). `zeroed` asks for caches allocated as zeros
        (the static-shape step reads unwritten rows). `clear_caches` frees them.
        """
        max_seq_len = max_seq_len or self.config.block_size
        assert max_seq_len <= self.config.block_size
        ref = self.transformer.wpe.weight
        current = self.transformer.h[0].attn.kv_cache
        if (
            current is not None
            and current.k.size(0) >= max_batch
            and current.max_seq_len >= max_seq_len
            and current.k.dtype == ref.dtype
            and current.k.device == ref.device
            and (current.zeroed or not zeroed)
            and (torch.is_inference_mode_enabled() or not current.k.is_inference())  # else not writable here
        ):
            return
        for block in self.transformer.h:
            block.attn.kv_cache = KVCache(
                max_batch,
                self.config.n_head,
                max_seq_len,
                self.config.head_size,
                dtype=ref.dtype,
                device=ref.device,
                zeroed=zeroed,
            )
        # Built once per cache size, as gpt-fast does: row i says which keys query position i sees.
        self.causal_mask = torch.ones(max_seq_len, max_seq_len, dtype=torch.bool, device=ref.device).tril()

    def clear_caches(self) -> None:
        for block in self.transformer.h:
            block.attn.kv_cache = None
        self.causal_mask = None

    def forward(self, idx: torch.Tensor, input_pos: Position = None, *, last_only: bool = False) -> torch.Tensor:
        """Logits (B, T, V) for token ids idx (B, T); (B, 1, V) with last_only.

        With `input_pos`, idx holds the tokens at positions [input_pos,
        input_pos+T) and attention reads earlier positions from the KV caches.
        An `input_pos` tensor (T,) of positions on the device keeps every shape
        fixed from step to step (attention spans the whole cache under a row of
        the causal mask): the step that `torch.compile` captures.
        """
        return self.lm_head(self.hidden(idx, input_pos, last_only=last_only))

    def hidden(self, idx: torch.Tensor, input_pos: Position = None, *, last_only: bool = False) -> torch.Tensor:
        """The final hidden states (B, T, C) that `lm_head` turns into logits; for callers that apply the
        head to a few positions at a time (detector scoring) instead of holding (B, T, V) at once."""
        return self.hidden_of(self.transformer.wte(idx), input_pos, last_only=last_only)

    def hidden_of(self, x: torch.Tensor, input_pos: Position = None, *, last_only: bool = False) -> torch.Tensor:
        """`hidden` for inputs given as vectors (B, T, C) instead of token ids: a model over sequences of
        things that are not tokens (engine.detect.textseq: one vector per log template)."""
        pos, mask = self._positions(x.shape[1], input_pos, x.device)
        x = self.transformer.drop(x + self.transformer.wpe(pos))  # (B, T, C)
        for block in self.transformer.h:
            x = block(x, input_pos, mask)
        if last_only:
            x = x[:, -1:, :]
        return self.transformer.ln_f(x)

    def _positions(self, T: int, input_pos: Position, device: torch.device) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Positions (T,) of T new tokens and the attention mask they need: None from position 0 (is_causal)
        and for one token after a cached prefix; else rows of the causal mask (T, start+T), or (1, 1, T,
        T_max) for positions given as a tensor."""
        if input_pos is not None:
            assert self.causal_mask is not None, "call GPT.setup_caches() before decoding with input_pos"
        if isinstance(input_pos, torch.Tensor):
            return input_pos, self.causal_mask[None, None, input_pos]
        start = input_pos or 0
        assert start + T <= self.config.block_size, (
            f"sequence of {start + T} tokens exceeds block_size {self.config.block_size}"
        )
        mask = self.causal_mask[start : start + T, : start + T] if start and T > 1 else None
        return torch.arange(start, start + T, device=device), mask
