"""int8 weights for CPU inference (`--quantize int8`).

Each Linear's weight is quantised per output channel to int8 and packed for
PyTorch's quantized CPU backend (fbgemm/oneDNN on x86, qnnpack on Arm). The
kernel also quantises each activation row to int8 on the fly ("dynamic"
quantisation). A pure weight-only kernel (`_weight_int8pack_mm`) was measured
7x slower than fp32 on our x86 CPU, and `torch._int_mm` 6x slower, so neither
is used. PyTorch has deprecated quantized tensors; if a future build drops
these ops, `--quantize int8` fails with a one-line error and fp32 still works.
Quality cost: see the README (perplexity fp32 vs int8).
"""

from __future__ import annotations

import warnings

import torch
from torch import nn

from engine.errors import LogptError
from engine.lm.model import GPT


class Int8Linear(nn.Module):
    """A Linear whose weight is int8 per channel; activations are quantised per call."""

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor | None) -> None:
        super().__init__()
        weight = weight.detach().float()
        self.in_features, self.out_features = weight.size(1), weight.size(0)
        scales = (weight.abs().amax(dim=1) / 127.0).clamp(min=1e-8).double()
        zero_points = torch.zeros(weight.size(0), dtype=torch.long)
        with warnings.catch_warnings():  # quantized tensors are deprecated upstream; see the module docstring
            warnings.simplefilter("ignore", UserWarning)
            qweight = torch.quantize_per_channel(weight, scales, zero_points, 0, torch.qint8)
        self._packed = torch.ops.quantized.linear_prepack(qweight, None if bias is None else bias.detach().float())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shape = x.shape
        y = torch.ops.quantized.linear_dynamic(x.reshape(-1, shape[-1]).float(), self._packed, True)
        return y.view(*shape[:-1], self.out_features)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, int8"


def quantize_int8(model: GPT) -> GPT:
    """Swap every Linear (the head included) for Int8Linear, in place; CPU fp32 models only."""
    ref = model.transformer.wte.weight
    if ref.device.type != "cpu":
        raise LogptError("int8 quantisation runs on the CPU only", "drop --quantize or use --device cpu")
    try:
        for module in list(model.modules()):
            for name, child in list(module.named_children()):
                if isinstance(child, nn.Linear):
                    setattr(module, name, Int8Linear(child.weight, child.bias))
    except (RuntimeError, NotImplementedError, AttributeError) as e:
        raise LogptError(
            f"this torch build cannot run int8 on this CPU ({str(e).splitlines()[0]})",
            "drop --quantize",
        ) from e
    return model
