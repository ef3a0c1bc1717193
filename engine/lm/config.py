"""The GPT-2 architecture as a typed config, with the usual presets.

The config is saved in every bundle's `config.json`, so a bundle explains
itself. It knows nothing about tokenizers or devices.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

ACTIVATIONS = ("gelu_tanh", "gelu")
# Bounds far above any GPT-2-family model (gpt2-xl: 48 layers, 25 heads, 1600 wide, 1024 context).
LIMITS = {"block_size": 1 << 17, "vocab_size": 1 << 22, "n_layer": 1024, "n_head": 1024, "n_embd": 1 << 16}


@dataclass(frozen=True)
class GPTConfig:
    block_size: int = 1024  # context length in tokens (GPT-2: n_positions)
    vocab_size: int = 50257  # rows of the embedding; may exceed the tokenizer's ids (padding)
    n_layer: int = 12  # transformer blocks
    n_head: int = 12  # attention heads per block; must divide n_embd
    n_embd: int = 768  # width of the residual stream
    dropout: float = 0.0  # training only; generation runs with dropout off
    bias: bool = True  # GPT-2 has biases in Linear layers and LayerNorms
    activation: str = "gelu_tanh"  # HF GPT-2 uses the tanh approximation; nanoGPT/LoGPT the exact erf "gelu"
    layer_norm_eps: float = 1e-5  # GPT-2's epsilon
    tie_weights: bool = True  # lm_head shares the token embedding, as in GPT-2

    def __post_init__(self) -> None:
        # Types and bounds first: a bundle's config.json is untrusted, and a huge shape would be built
        # (on the meta device, layer by layer) before any weight is read.
        for f in fields(self):
            value = getattr(self, f.name)
            kind = type(value)
            if f.type == "int" and kind is not int or f.type == "bool" and kind is not bool:
                raise ValueError(f"{f.name} must be {f.type}, not {kind.__name__}")
            if f.type == "float" and (kind is bool or not isinstance(value, int | float)):
                raise ValueError(f"{f.name} must be a number, not {kind.__name__}")
            if f.name in LIMITS and not 0 < value <= LIMITS[f.name]:
                raise ValueError(f"{f.name} must be in 1..{LIMITS[f.name]:,}, not {value}")
        if not 0.0 <= self.dropout < 1.0 or not 0.0 < self.layer_norm_eps < 1.0:
            raise ValueError("dropout must be in [0, 1) and layer_norm_eps in (0, 1)")
        if self.n_embd % self.n_head:
            raise ValueError(f"n_embd {self.n_embd} is not divisible by n_head {self.n_head}")
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"activation {self.activation!r} is not one of {ACTIVATIONS}")

    @property
    def head_size(self) -> int:
        return self.n_embd // self.n_head

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GPTConfig:
        if not isinstance(data, dict):
            raise ValueError(f"the model config must be an object, not {type(data).__name__}")
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown model config keys: {sorted(unknown)}")
        return cls(**data)

    def n_params(self) -> int:
        """Parameter count with the tied head counted once."""
        d, v, t, layers = self.n_embd, self.vocab_size, self.block_size, self.n_layer
        per_block = 12 * d * d + 13 * d  # attn (4d² + 4d) + mlp (8d² + 5d) + 2 LayerNorms (4d)
        head = 0 if self.tie_weights else v * d
        return v * d + t * d + layers * per_block + 2 * d + head


PRESETS: dict[str, GPTConfig] = {
    "gpt2": GPTConfig(),
    "gpt2-medium": GPTConfig(n_layer=24, n_head=16, n_embd=1024),
    "gpt2-large": GPTConfig(n_layer=36, n_head=20, n_embd=1280),
    "gpt2-xl": GPTConfig(n_layer=48, n_head=25, n_embd=1600),
    # Small shapes for log models: they train on a CPU and decode fast.
    "log-tiny": GPTConfig(block_size=512, vocab_size=8192, n_layer=2, n_head=4, n_embd=128),
    "log-small": GPTConfig(block_size=1024, vocab_size=8192, n_layer=4, n_head=8, n_embd=256),
    "log-base": GPTConfig(block_size=1024, vocab_size=16384, n_layer=8, n_head=8, n_embd=512),
}


def preset(name: str, **overrides: Any) -> GPTConfig:
    """A preset by name, with fields replaced by `overrides`."""
    if name not in PRESETS:
        raise KeyError(f"unknown preset {name!r}; known: {', '.join(PRESETS)}")
    return GPTConfig.from_dict({**PRESETS[name].to_dict(), **overrides})
