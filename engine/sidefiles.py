"""Reading the small files that sit beside the logs: template states, settings, format definitions, configs.

Every such file is read through `read_text` or `read_json`: regular files only (a FIFO would block, `/dev/zero`
never ends), at most a size cap per kind (a link to a 3 GB file is an error, not a MemoryError), JSON and TOML
nested no deeper than Python's parsers go (a `[[[[…` bomb is an error, not a RecursionError), and every failure
a one-line `InputError` that names the file (callers that report `BundleError` convert it). Such files (and
exports) are written by `write_replacing`: a complete new file renamed over the old one, never a half file.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import stat
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from engine.errors import InputError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

CAPS = {  # bytes per kind of side file
    "template state": 512 << 20,  # a miner's clusters: large logs have tens of thousands
    "settings": 1 << 20,  # the explorer's tui.json
    "marks": 16 << 20,
    "format file": 4 << 20,
    "config": 16 << 20,  # a bundle's config.json (a detector's holds its templates), an HF config.json
    "miner state": 512 << 20,  # a detector bundle's miner.json
    "tokenizer ranks": 64 << 20,  # tiktoken ranks (GPT-2's: 1.6 MB)
    "vocabulary": 64 << 20,  # an HF vocab.json or merges.txt
    "checkpoint state": 16 << 20,  # a training run's state.json (step, losses, the sampler's state)
}


def read_text(path: Path, kind: str, hint: str) -> str:
    """The text of a side file of `kind` (a key of CAPS); `hint` says what the user can do when it is refused."""
    cap = CAPS[kind]
    try:
        st = os.stat(path)
    except OSError as e:
        raise InputError(f"{kind} {path}: {e.strerror or e}", hint) from None
    if not stat.S_ISREG(st.st_mode):
        raise InputError(f"{kind} {path} is not a regular file", hint)
    if st.st_size > cap:
        raise InputError(f"{kind} {path} is {st.st_size / (1 << 20):,.1f} MiB, over the {cap >> 20} MiB a {kind} may be", hint)
    try:
        with open(path, "rb") as f:
            data = f.read(cap + 1)  # the file may have grown since the stat
    except OSError as e:
        raise InputError(f"{kind} {path}: {e.strerror or e}", hint) from None
    if len(data) > cap:
        raise InputError(f"{kind} {path} is over the {cap >> 20} MiB a {kind} may be", hint)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InputError(f"{kind} {path} is not UTF-8 text ({e.reason} at byte {e.start})", hint) from None


def read_toml(path: Path, kind: str, hint: str) -> dict[str, Any]:
    """The TOML tables of a side file (see `read_text`)."""
    text = read_text(path, kind, hint)
    try:
        return tomllib.loads(text)
    except RecursionError:
        raise InputError(f"{kind} {path} is nested too deeply to be one", hint) from None
    except tomllib.TOMLDecodeError as e:
        raise InputError(f"{kind} {path} is not valid TOML ({e})", hint) from None


def read_json(path: Path, kind: str, hint: str) -> Any:
    """The JSON value of a side file (see `read_text`)."""
    text = read_text(path, kind, hint)
    try:
        return json.loads(text)
    except RecursionError:
        raise InputError(f"{kind} {path} is nested too deeply to be one", hint) from None
    except ValueError as e:
        raise InputError(f"{kind} {path} is not valid JSON ({e})", hint) from None


def write_replacing(target: Path, write: Callable[[TextIO], int]) -> int:
    """`write` into a new file beside `target`, then rename it over `target`; returns what `write` returns. An
    existing file is replaced only by a complete one (keeping its permissions; a new one is private, 0600), and
    a failed write leaves neither a half file nor a temporary one."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            count = write(out)
        if target.is_file():
            shutil.copymode(target, tmp)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return count
