"""Large buffers stay in their own mappings once the flag engine exists: freed, they leave nothing resident."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

# In a fresh process: a free chunk left in the heap by earlier tests would serve the buffer whatever the threshold.
PROBE = """
import ctypes, sys
from pathlib import Path
from logpt_tui.explorer import heap
from logpt_tui.explorer.flagset import FlagEngine

class MallInfo2(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost".split()]

libc = ctypes.CDLL("libc.so.6")
libc.mallinfo2.restype = MallInfo2
mapped = lambda: libc.mallinfo2().hblkhd  # bytes glibc holds in mappings of their own
FlagEngine(Path(sys.argv[1]) / "x.log", cache=Path(sys.argv[1]))
big = bytearray(16 << 20)  # freed, it would raise glibc's moving threshold to 16 MiB (as the index's blocks do)
del big
before = mapped()
buffer = bytearray(heap.BIG_BYTES * 4)  # under 16 MiB: from the heap, had the threshold moved
grown = mapped() - before
del buffer
print(grown, mapped() - before)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc")
def test_a_buffer_after_a_big_one_was_freed_is_mapped_once_the_flag_engine_exists(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-c", PROBE, str(tmp_path)], capture_output=True, text=True, check=False)
    if "mallinfo2" in done.stderr or "libc.so.6" in done.stderr:
        pytest.skip("not glibc")
    assert done.returncode == 0, done.stderr
    grown, left = map(int, done.stdout.split())
    assert grown >= 4 << 20  # mapped
    assert left == 0  # and unmapped when freed: nothing left resident
