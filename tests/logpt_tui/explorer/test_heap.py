"""Large buffers stay in their own mappings once the flag engine exists: freed, they leave nothing resident."""

from __future__ import annotations

import ctypes
import sys
from pathlib import Path

import pytest

from logpt_tui.explorer import heap
from logpt_tui.explorer.flagset import FlagEngine


class MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks",
                 "keepcost")]  # fmt: skip


def mapped_bytes() -> int:
    """Bytes glibc holds in mappings of their own (mallinfo2's hblkhd)."""
    libc = ctypes.CDLL("libc.so.6")
    libc.mallinfo2.restype = MallInfo2
    return libc.mallinfo2().hblkhd


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc")
def test_a_buffer_after_a_big_one_was_freed_is_mapped_once_the_flag_engine_exists(tmp_path: Path) -> None:
    try:
        mapped_bytes()
    except (OSError, AttributeError):
        pytest.skip("not glibc (no mallinfo2)")
    FlagEngine(tmp_path / "x.log", cache=tmp_path)
    big = bytearray(16 << 20)  # freed, it would raise glibc's moving threshold to 16 MiB (as the index's blocks do)
    del big
    before = mapped_bytes()
    buffer = bytearray(heap.BIG_BYTES * 4)  # under 16 MiB: from the heap, had the threshold moved
    assert mapped_bytes() >= before + len(buffer)
    del buffer
    assert mapped_bytes() == before  # unmapped when freed: not left resident
