"""Reading PyTorch zip checkpoints (`torch.save` files) without executing code.

`torch.save` writes a zip archive: `<prefix>/data.pkl` (a pickle whose tensors
refer to storages by persistent id) and `<prefix>/data/<key>` (raw storage
bytes). A pickle can name any callable, so we never hand it to plain `pickle`:
`find_class` admits only tensor rebuilding, plain containers and, when asked,
one config class, which is replaced by `ConfigRecord` (attributes only, no
code). Anything else raises CheckpointError. The legacy pre-1.6 format is
refused.
"""

from __future__ import annotations

import io
import math
import pickle
import sys
import zipfile
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from engine.errors import CheckpointError

MAX_PICKLE_BYTES = 4 << 20  # the pickle holds structure only (tensors are separate members): GPT-2's is ~30 KB,
# a nanoGPT checkpoint with its optimizer's state a few hundred KB; a pickle of 4 MiB of one-byte opcodes (empty
# dicts) still builds ~4 million objects, so more would be a memory bomb, not a model

# Storage class names in pickles → dtypes.
STORAGE_DTYPES: dict[str, torch.dtype] = {
    "FloatStorage": torch.float32,
    "DoubleStorage": torch.float64,
    "HalfStorage": torch.float16,
    "BFloat16Storage": torch.bfloat16,
    "LongStorage": torch.int64,
    "IntStorage": torch.int32,
    "ShortStorage": torch.int16,
    "CharStorage": torch.int8,
    "ByteStorage": torch.uint8,
    "BoolStorage": torch.bool,
}


class ConfigRecord:
    """Stands in for a checkpoint's config class: holds its fields, runs nothing."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.__dict__.update(kwargs)

    def __setstate__(self, state: Any) -> None:
        if isinstance(state, tuple) and len(state) == 2:  # (dict, slots)
            state = {**(state[0] or {}), **(state[1] or {})}
        if not isinstance(state, dict):
            raise CheckpointError("config state is not a mapping", "the checkpoint is not a LoGPT checkpoint")
        self.__dict__.update(state)


def _rebuild_tensor(storage: torch.Tensor, offset: int, size: Any, stride: Any, *_rest: Any) -> torch.Tensor:
    # `storage` is a flat tensor of the right dtype (see persistent_load). The view must lie inside it and
    # hold no more elements than it: a stride-0 view of a few bytes can describe gigabytes, which the first
    # copy would allocate.
    size, stride = tuple(size), tuple(stride)
    ints = all(type(v) is int for v in (offset, *size, *stride))
    if not ints or len(size) != len(stride) or offset < 0 or any(v < 0 for v in (*size, *stride)):
        raise CheckpointError("a tensor has a malformed shape or stride", "the checkpoint is corrupt")
    numel = math.prod(size)
    last = offset + sum((n - 1) * s for n, s in zip(size, stride, strict=True)) if numel else offset
    if numel and (last >= storage.numel() or numel > storage.numel()):
        raise CheckpointError(
            f"a tensor of {numel:,} elements is a view of a storage of {storage.numel():,}",
            "the checkpoint describes more data than it holds; refused",
        )
    return torch.as_strided(storage, size, stride, offset)


def _rebuild_parameter(data: torch.Tensor, requires_grad: bool, *_rest: Any) -> torch.Tensor:
    return data


class _StorageType:
    def __init__(self, dtype: torch.dtype) -> None:
        self.dtype = dtype


_ALLOWED: dict[tuple[str, str], Any] = {
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
    ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("collections", "OrderedDict"): OrderedDict,
    ("builtins", "set"): set,
    ("builtins", "frozenset"): frozenset,
    ("copyreg", "__newobj__"): lambda cls, *args: cls.__new__(cls, *args),
    ("copyreg", "_reconstructor"): lambda cls, base, state: cls.__new__(cls),
    ("torch", "Size"): torch.Size,
}


class _RestrictedUnpickler(pickle.Unpickler):
    def __init__(
        self,
        data: bytes,
        load_storage: Callable[[str, torch.dtype, int], torch.Tensor],
        config_classes: frozenset[str],
    ) -> None:
        super().__init__(io.BytesIO(data))
        self._load_storage = load_storage
        self._config_classes = config_classes
        self._storages: dict[str, torch.Tensor] = {}

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _ALLOWED:
            return _ALLOWED[(module, name)]
        if module == "torch" and name in STORAGE_DTYPES:
            return _StorageType(STORAGE_DTYPES[name])
        if name in self._config_classes:
            return ConfigRecord
        raise CheckpointError(
            f"checkpoint refers to {module}.{name}, which is not allowed",
            "it may execute code; only weights and a config are accepted",
        )

    def persistent_load(self, pid: Any) -> torch.Tensor:
        if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == "storage"):
            raise CheckpointError(f"unknown persistent id {pid!r:.60}", "not a torch.save checkpoint")
        _, storage_type, key, _location, numel = pid[:5]
        dtype = storage_type.dtype if isinstance(storage_type, _StorageType) else None
        if dtype is None:
            raise CheckpointError("storage of unknown type", "not a torch.save checkpoint")
        if key not in self._storages:
            self._storages[key] = self._load_storage(str(key), dtype, int(numel))
        return self._storages[key]


def load_torch_checkpoint(path: Path, *, config_classes: frozenset[str] = frozenset()) -> Any:
    """The object a `torch.save` zip file holds, with tensors on the CPU.

    `config_classes` names classes (by bare name) that may appear and become
    `ConfigRecord`s.
    """
    if Path(path).exists() and not Path(path).is_file():  # a FIFO would block the read for ever
        raise CheckpointError(f"{path} is not a regular file", "pass a checkpoint written by torch.save")
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise CheckpointError(
            f"{path} is not a zip-format torch checkpoint",
            "legacy (pre-1.6) and other pickle files are refused; re-save it with a current torch",
        ) from None
    except OSError as e:
        raise CheckpointError(f"cannot read {path}: {e.strerror or e}", "check the path") from e
    with archive:
        names = archive.namelist()
        pickles = [n for n in names if n.endswith("data.pkl")]
        if len(pickles) != 1:
            raise CheckpointError(f"{path} has no single data.pkl", "not a torch.save checkpoint")
        prefix = pickles[0][: -len("data.pkl")]
        byteorder = archive.read(prefix + "byteorder").decode() if prefix + "byteorder" in names else "little"
        if byteorder != sys.byteorder:
            raise CheckpointError(f"{path} was saved {byteorder}-endian", "re-save it on this architecture")

        def load_storage(key: str, dtype: torch.dtype, numel: int) -> torch.Tensor:
            itemsize = torch.empty((), dtype=dtype).element_size()
            try:
                info = archive.getinfo(f"{prefix}data/{key}")
            except KeyError:
                raise CheckpointError(f"{path} lacks storage {key}", "the file is truncated or corrupt") from None
            if info.file_size != numel * itemsize or numel < 0:  # checked on the declared size, before inflating
                raise CheckpointError(f"{path}: storage {key} has the wrong size", "the file is corrupt")
            if info.file_size > info.compress_size:  # torch.save stores tensors as they are: inflating is a bomb
                raise CheckpointError(f"{path}: storage {key} declares {info.file_size:,} bytes in "
                                      f"{info.compress_size:,}", "torch.save never compresses; the file is not "
                                      "a checkpoint it wrote")  # fmt: skip
            raw = archive.read(info)
            return torch.frombuffer(bytearray(raw), dtype=dtype) if raw else torch.empty(0, dtype=dtype)

        if archive.getinfo(pickles[0]).file_size > MAX_PICKLE_BYTES:
            raise CheckpointError(f"{path}: data.pkl is over {MAX_PICKLE_BYTES >> 20} MiB", "not a model checkpoint")
        try:
            data = archive.read(pickles[0])
            return _RestrictedUnpickler(data, load_storage, config_classes).load()
        except CheckpointError:
            raise
        except (pickle.UnpicklingError, EOFError, zipfile.BadZipFile, ValueError, TypeError, RuntimeError) as e:
            raise CheckpointError(f"{path} is corrupt: {e}", "re-export the checkpoint") from e
