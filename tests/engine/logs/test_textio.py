"""Whole-file reads a block at a time (`read_lines`) against the plain reference (`split_lines(decode_log(…))`):
the same lines on every kind of awkward input, at any block size; lines past the cap cut and marked; and a file
of NULs or without a newline read in bounded memory."""

from __future__ import annotations

import io
import random
import tracemalloc
from pathlib import Path

import pytest

from engine.errors import InputError
from engine.logs import textio
from engine.logs.textio import CUT, decode_log, read_lines, read_stream_lines, split_lines

PIECES = [b"Nov 21 10:00:01 web-01 app: ok", b"\r\n", b"\n", b"\r", b"\xe2\x82", b"\xac", b"\xff\xfe", b"\x00",
          b"\x1b[31mred\x1b[0m", "é ü 漢字 🙂".encode(), b"\t", b"", b"  "]  # fmt: skip


@pytest.mark.parametrize("block", [1, 2, 3, 7, 64, 1 << 20])
def test_block_reads_give_the_reference_lines(monkeypatch: pytest.MonkeyPatch, block: int) -> None:
    monkeypatch.setattr(textio, "BLOCK_BYTES", block)
    rng = random.Random(block)
    for _ in range(60):
        data = b"".join(rng.choice(PIECES) for _ in range(rng.randrange(0, 40)))
        data = data.replace(b"\x00", b"") if data.strip(b"\x00") == b"" else data  # NUL-only: refused (below)
        expected = split_lines(decode_log(data)) if data else []
        assert read_stream_lines(io.BytesIO(data)) == expected, data


def test_a_line_over_the_cap_is_cut_and_says_how_much(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(textio, "MAX_LINE_BYTES", 100)
    monkeypatch.setattr(textio, "BLOCK_BYTES", 64)
    path = tmp_path / "long.log"
    path.write_bytes(b"short\n" + b"x" * 250 + b"\nnext\r\n" + b"y" * 100 + b"\n" + b"z" * 300)
    lines = read_lines(path)
    assert lines == ["short", "x" * 100 + CUT.format(n=150), "next", "y" * 100, "z" * 100 + CUT.format(n=200)]
    monkeypatch.setattr(textio, "BLOCK_BYTES", 1 << 20)  # one block: the cut is the same
    assert read_lines(path) == lines


def test_nuls_and_a_pipe_without_newlines_cost_a_block_not_their_size(monkeypatch: pytest.MonkeyPatch) -> None:
    class Endless(io.RawIOBase):
        """`n` bytes of one value, made as they are read (nothing held)."""

        def __init__(self, byte: bytes, n: int) -> None:
            self.byte, self.left = byte, n

        def readable(self) -> bool:
            return True

        def read(self, size: int = -1) -> bytes:
            size = min(size, self.left)
            self.left -= size
            return self.byte * size

    monkeypatch.setattr(textio, "BLOCK_BYTES", 1 << 20)
    tracemalloc.start()
    try:
        with pytest.raises(InputError, match="only NUL bytes"):
            read_stream_lines(Endless(b"\x00", 64 << 20))  # type: ignore[arg-type]
        lines = read_stream_lines(Endless(b"y", 64 << 20))  # type: ignore[arg-type]
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert lines == ["y" * textio.MAX_LINE_BYTES + CUT.format(n=(64 << 20) - textio.MAX_LINE_BYTES)]
    assert peak < 8 << 20  # a few blocks of 1 MiB, not 64 MiB


def test_binary_is_refused_after_leading_nuls(tmp_path: Path) -> None:
    path = tmp_path / "core"
    path.write_bytes(b"\x00" * 100_000 + bytes(range(256)) * 400)
    with pytest.raises(InputError, match="binary"):
        read_lines(path)
