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
MAX_READ_BYTES = 2 << 30  # whole-file commands (analyze, detect, templates) hold the lines in memory
MAX_LINE_BYTES = 64 * 1024  # a longer line is kept cut, with CUT saying how much was left out
CUT = " …[line cut: {n} more bytes]"
BLOCK_BYTES = 8 << 20  # whole-file reads go a block at a time, so what is held is the lines, each capped
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


def read_lines(path: Path) -> list[str]:
    """The lines of a log file (at most MAX_READ_BYTES), read a block at a time: binary refused, UTF-8 errors
    replaced, a CR before the newline dropped, a line over MAX_LINE_BYTES cut (CUT says by how much) — so a
    file of NULs or with no newline costs a block of memory, not its size."""
    check_regular(path, MAX_READ_BYTES)
    try:
        with path.open("rb") as f:
            return _lines_of(f, str(path))
    except OSError as e:
        raise open_error(path, e) from None


def read_stream_lines(stream: BinaryIO, *, source: str = "stdin") -> list[str]:
    """`read_lines` for a pipe: up to MAX_READ_BYTES (more is a one-line error, not a memory bomb)."""
    return _lines_of(stream, source)


def _lines_of(stream: BinaryIO, source: str) -> list[str]:
    lines: list[str] = []
    pending, cut, total, sample = b"", 0, 0, b""  # the line so far (capped), bytes cut from it, bytes read
    while block := stream.read(BLOCK_BYTES):
        total += len(block)
        if total > MAX_READ_BYTES:
            raise too_large(source, total)
        if len(sample) < SNIFF_BYTES:
            sample = sniff_sample(sample + block) if sample else sniff_sample(block)
            _refuse_binary(sample, source, whole=False)
        end = block.rfind(b"\n")
        if end < 0:
            pending, cut = _capped(pending, block, cut)
            continue
        first_end = block.find(b"\n")
        pending, cut = _capped(pending, block[:first_end], cut)
        lines.append(_line(pending, cut, ended=True))
        if first_end < end:
            lines.extend(_block_lines(block[first_end + 1 : end + 1]))
        pending, cut = _capped(b"", block[end + 1 :], 0)
    if total and not sample:
        raise InputError(f"{source} holds only NUL bytes, no text", "pass a text log file")
    _refuse_binary(sample, source, whole=True)
    if pending or cut:
        lines.append(_line(pending, cut, ended=False))
    return lines


def _refuse_binary(sample: bytes, source: str, *, whole: bool) -> None:
    """The one-line error for binary input, judged once the sample is full (or the input ended)."""
    if (whole or len(sample) >= SNIFF_BYTES) and looks_binary(sample):
        raise InputError(f"{source} looks like a binary file, not a text log", "pass a text log file")


def _block_lines(data: bytes) -> list[str]:
    """Lines of `data` (each ending in a newline): decoded at once; any line that may be over MAX_LINE_BYTES
    (a quarter as many characters) is cut by its bytes."""
    text = data.decode("utf-8", errors="replace")
    if "\r" in text:
        text = text.replace("\r\n", "\n")
    out = text.split("\n")
    out.pop()  # after the last newline
    if len(text) > MAX_LINE_BYTES // 4 and max(map(len, out)) > MAX_LINE_BYTES // 4:
        out = [_line(line.encode("utf-8", "surrogateescape"), 0, ended=False)
               if len(line) > MAX_LINE_BYTES // 4 else line for line in out]  # fmt: skip
    return out


def _capped(line: bytes, more: bytes, cut: int) -> tuple[bytes, int]:
    """`line + more` kept to MAX_LINE_BYTES, and the bytes cut so far."""
    room = max(MAX_LINE_BYTES - len(line), 0)
    if len(more) <= room:
        return line + more, cut
    return line + more[:room], cut + len(more) - room


def _line(raw: bytes, cut: int, *, ended: bool) -> str:
    """A raw line as text: UTF-8 errors replaced, the CR of a CRLF dropped (`ended`: a newline followed), a line
    over MAX_LINE_BYTES cut to it and marked."""
    if len(raw) > MAX_LINE_BYTES:
        raw, cut = raw[:MAX_LINE_BYTES], cut + len(raw) - MAX_LINE_BYTES
    text = raw.decode("utf-8", errors="replace")
    if cut:
        return text + CUT.format(n=cut)
    return text.removesuffix("\r") if ended else text


def split_lines(text: str) -> list[str]:
    """Lines without their newline; a trailing newline adds no empty line."""
    if not text:
        return []
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return lines
