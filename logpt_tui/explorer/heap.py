"""Free heap pages given back after the flag engine's big transients: what glibc's malloc keeps resident otherwise.

glibc serves a request of at least its mmap threshold (128 KiB at start) with a mapping of its own, returned to
the system when freed; anything smaller comes from a heap arena, and freed heap memory mostly stays resident
(only a free top of a heap is trimmed). The threshold moves: each freed mapping raises it to that mapping's size,
up to 32 MiB. The explorer frees large buffers early (the file index reads 16 MiB blocks), so later buffers under
~16 MiB came from the heap: loading the line model (its weights' copies) and the preview (a block scored) left
~70 MB of free but resident heap on the 300 MB OpenSSH log (docs/benchmarks.md). `release_free_heap`
(malloc_trim) gives those pages back once each of these phases is over. Fixing the threshold low instead
(M_MMAP_THRESHOLD at 1-4 MiB) kept them out of the heap too, but mapped and faulted in every multi-MiB tensor a
scoring batch makes: scoring took 40% longer.

What this leaves out: what the buffers are (their owners), other allocators (the call is a no-op but on glibc).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys


def release_free_heap() -> bool:
    """Give the free pages of glibc's heaps back to the system (malloc_trim(0)); False where malloc is not glibc's."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        trim = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):  # musl and others: no malloc_trim
        return False
    trim.argtypes, trim.restype = (ctypes.c_size_t,), ctypes.c_int
    return bool(trim(0))
