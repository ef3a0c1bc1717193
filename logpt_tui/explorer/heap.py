"""Large buffers in their own mappings: what glibc's malloc keeps resident after a big file's transients are freed.

glibc serves a request of at least its mmap threshold (128 KiB at start) with a mapping of its own, returned to
the system when freed; anything smaller comes from a heap arena, and freed heap memory mostly stays resident
(only a free top of a heap is trimmed). The threshold moves: each freed mapping raises it to that mapping's size,
up to 32 MiB. The explorer frees large buffers early (the file index reads 16 MiB blocks; loading the line model
copies its weights; the preview scores a block), so every later buffer under ~16 MiB (a model's weights, a scoring
batch's activations, a block of lines) came from the heap and left its pages resident when freed: on the 300 MB
OpenSSH log the process held ~70 MB more after the first seconds than with the threshold fixed
(docs/benchmarks.md). Setting it (M_MMAP_THRESHOLD) fixes it for the process: buffers of BIG_BYTES or more are
mapped, and unmapped when freed.

What this leaves out: what the buffers are (their owners), other allocators (the call is a no-op but on glibc).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

BIG_BYTES = 1 << 20  # a mapping costs a system call and page faults: worth it for buffers of 1 MiB and more
M_MMAP_THRESHOLD = -3  # glibc's <malloc.h>


def map_big_buffers(threshold: int = BIG_BYTES) -> bool:
    """Fix glibc's mmap threshold at `threshold` for this process; False where malloc is not glibc's."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # musl and others: no mallopt, and no moving threshold either
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, threshold))
