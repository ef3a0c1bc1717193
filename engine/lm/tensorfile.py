"""Reading and writing safetensors files with the project's errors: safetensors raises its own
`SafetensorError` for a full disk, a failed write or a corrupt header, which no caller would catch as an
`OSError` or a `CheckpointError`."""

from __future__ import annotations

import errno
from collections.abc import Mapping
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from engine.errors import CheckpointError, LogptError


def save_tensors(tensors: Mapping[str, torch.Tensor], path: Path, metadata: dict[str, str] | None = None) -> None:
    """Write `tensors` to `path`; a failed write is an OSError naming the file (a CLI prints it in one line)."""
    try:
        save_file(dict(tensors), str(path), metadata=metadata)
    except SafetensorError as e:
        reason = str(e).splitlines()[0].removeprefix("Error while serializing: ")
        raise OSError(errno.EIO, reason, str(path)) from e


def load_tensors(path: Path, hint: str, error: type[LogptError] = CheckpointError) -> dict[str, torch.Tensor]:
    """The tensors of `path`; a file that is not safetensors (truncated, corrupt, a FIFO) is one `error`."""
    if not path.is_file():
        raise error(f"{path} is not a regular file", hint)
    try:
        return load_file(str(path))
    except (SafetensorError, OSError, ValueError) as e:
        raise error(f"{path} is corrupt: {str(e).splitlines()[0]}", hint) from e
