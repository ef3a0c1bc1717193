"""Free heap pages go back to the system once the flag engine's big transients are over."""

from __future__ import annotations

import subprocess
import sys

import pytest

# In a fresh process, the heap as the explorer leaves it: a freed 16 MiB mapping raised glibc's moving threshold, so
# 4 MiB buffers come from the heap; all but the last are freed (the last keeps the heap's top from being trimmed).
PROBE = """
import sys
from logpt_tui.explorer.heap import release_free_heap

def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096

big = bytearray(16 << 20)
del big
buffers = [bytearray(b"x" * (4 << 20)) for _ in range(16)]  # 64 MiB, touched
pin = bytearray(1000)
del buffers[:-1]
before = rss()
released = release_free_heap() if sys.argv[1] == "release" else False
print(int(released), before - rss())
"""


def probe(what: str) -> tuple[bool, int]:
    done = subprocess.run([sys.executable, "-c", PROBE, what], capture_output=True, text=True, check=True)
    released, freed = map(int, done.stdout.split())
    return bool(released), freed


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim")
def test_release_free_heap_gives_back_the_pages_of_freed_buffers() -> None:
    released, freed = probe("release")
    if not released:
        pytest.skip("not glibc")
    assert freed >= 48 << 20  # most of the 60 MiB freed
    assert probe("keep")[1] < 8 << 20  # without it, they stay resident
