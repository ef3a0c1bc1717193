"""Turning raw log bytes into text lines that are safe to tokenize.

Binary input is refused with a clear error; invalid UTF-8 is replaced (never
dropped). One definition of a line everywhere (the CLI, the explorer's
`LogSource`, the digest, the detector): a line ends at `\\n`, a `\\r` just
before it is part of the line ending, and any other `\\r` or NUL is a character
of the line (shown visibly, `^M` and `^@`, by `logpt_tui.terminal.visible`),
so line numbers are those of `wc -l`, editors and `grep -n`. Line length
bounds belong to the chunker, which knows the token budget.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from typing import BinaryIO

from engine.errors import InputError

SNIFF_BYTES = 64 * 1024
MAX_READ_BYTES = 2 << 30  # whole-file commands (analyze, detect, templates) hold the text in memory
# Control bytes that real text logs contain: tab, LF, VT, FF, CR, ESC (colours), backspace.
_TEXT_CONTROLS = frozenset(b"\t\n\x0b\x0c\r\x1b\x08")
BINARY_SHARE = 0.03  # compressed or random data has ~10% such bytes, text logs ~0
_NOT_NUL = re.compile(rb"[^\x00]")


def looks_binary(sample: bytes) -> bool:
    """True when the sample has too many control bytes to be a text log.

    A few NULs (a log padded after a crash) do not make a file binary.
    """
    if not sample:
        return False
    controls = sum(1 for b in sample if b < 32 and b not in _TEXT_CONTROLS)
    return controls > 8 and controls / len(sample) > BINARY_SHARE


def sniff_sample(data: bytes) -> bytes:
    """The bytes to judge a file by: from its first non-NUL byte on, since copytruncate leaves a file that
    starts with a run of NULs (the old size) before the new lines."""
    text = _NOT_NUL.search(data)
    return data[text.start() : text.start() + SNIFF_BYTES] if text else b""


def decode_log(data: bytes, *, source: str = "input") -> str:
    """Text for raw log bytes: binary refused, UTF-8 errors replaced, CRLF line ends made LF (see the module)."""
    sample = sniff_sample(data)
    if data and not sample:  # nothing but NULs (a sparse or zeroed file): no line to read, and gigabytes to decode
        raise InputError(f"{source} holds only NUL bytes, no text", "pass a text log file")
    if looks_binary(sample):
        raise InputError(f"{source} looks like a binary file, not a text log", "pass a text log file")
    text = data.decode("utf-8", errors="replace")
    return text.replace("\r\n", "\n")


def open_error(path: Path, error: OSError) -> InputError:
    """The one-line error for a log file that cannot be opened or read."""
    if isinstance(error, FileNotFoundError):
        return InputError(f"{path}: no such file", "check the path")
    if isinstance(error, PermissionError):
        return InputError(f"{path}: permission denied", "run with access to the file, e.g. via sudo or the adm group")
    if isinstance(error, IsADirectoryError):
        return InputError(f"{path} is a directory", "pass a log file")
    return InputError(f"cannot read {path}: {error.strerror or error}", "check the path")


def too_large(source: object, size: int) -> InputError:
    return InputError(
        f"{source} is {size / (1 << 30):.1f} GiB; whole-file commands read at most {MAX_READ_BYTES >> 30} GiB",
        "open it in the explorer (logpt-tui), which reads lines on demand, or split it",
    )


def read_stream(stream: BinaryIO, *, source: str = "stdin") -> bytes:
    """All of a pipe, up to MAX_READ_BYTES (more is a one-line error, not a memory bomb)."""
    data = stream.read(MAX_READ_BYTES + 1)
    if len(data) > MAX_READ_BYTES:
        raise too_large(source, len(data))
    return data


def check_regular(path: Path, max_bytes: int | None = None) -> None:
    """Refuse what is not a regular file before opening it (a FIFO would block, /dev/zero never ends), and a
    file over `max_bytes` when given (the explorer gives none: it reads lines on demand)."""
    try:
        st = os.stat(path)
        mode = st.st_mode
    except OSError as e:
        raise open_error(path, e) from None
    if max_bytes is not None and stat.S_ISREG(mode) and st.st_size > max_bytes:
        raise too_large(path, st.st_size)
    if stat.S_ISDIR(mode):
        raise open_error(path, IsADirectoryError(path))
    if not stat.S_ISREG(mode):
        raise InputError(f"{path} is not a regular file (a FIFO, device or socket)", "pipe it instead: cmd | logpt …")


def read_log(path: Path) -> str:
    """The text of a log file (at most MAX_READ_BYTES), with one-line errors for the usual mistakes."""
    check_regular(path, MAX_READ_BYTES)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise open_error(path, e) from None
    return decode_log(data, source=str(path))


def split_lines(text: str) -> list[str]:
    """Lines without their newline; a trailing newline adds no empty line."""
    if not text:
        return []
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return lines
