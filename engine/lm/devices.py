"""Choosing a device and dtype: an edge helper for the CLI and TUI.

The model code never picks a device; callers resolve one here and pass it on.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from engine.errors import LogptError

DEVICE_CHOICES = ("auto", "cuda", "mps", "cpu")


@dataclass(frozen=True)
class Placement:
    device: torch.device
    dtype: torch.dtype

    def describe(self) -> str:
        name = self.device.type
        if name == "cuda":
            name = f"cuda:{torch.cuda.get_device_name(self.device)}"
        return f"{name} {str(self.dtype).removeprefix('torch.')}"


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps and mps.is_available())


def resolve_device(name: str = "auto") -> torch.device:
    """cuda > mps > cpu for "auto"; an explicit name must be available."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise LogptError("CUDA is not available in this torch build or machine", "use --device cpu")
    if name == "mps" and not _mps_available():
        raise LogptError("Apple MPS is not available here", "use --device cpu")
    try:
        return torch.device(name)
    except RuntimeError as e:
        raise LogptError(f"unknown device {name!r}", f"choose one of {', '.join(DEVICE_CHOICES)}") from e


def default_dtype(device: torch.device) -> torch.dtype:
    """bf16 on CUDA, fp16 on MPS (the loader falls back to fp32 if fp16 diverges), fp32 on CPU."""
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if device.type == "mps":
        return torch.float16
    return torch.float32


def placement(device: str = "auto", dtype: str | None = None) -> Placement:
    dev = resolve_device(device)
    if dtype is None:
        return Placement(dev, default_dtype(dev))
    dtypes = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}
    if dtype not in dtypes:
        raise LogptError(f"unknown dtype {dtype!r}", f"choose one of {', '.join(dtypes)}")
    return Placement(dev, dtypes[dtype])
