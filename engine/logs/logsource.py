"""A log file as numbered lines: a vectorised newline index and positioned reads.

The index holds one int64 offset per line start (8 B/line), built by scanning
the file in large blocks with numpy. Lines are read with `os.pread` at their
offsets, so reads are safe while another process appends, truncates or
rotates the file. `refresh()` notices growth (indexes only the new bytes),
truncation (starts over) and rotation or deletion (reopens the path). A line
longer than `max_line_bytes` is returned cut, with a marker. Nothing here
watches the file: callers poll `refresh()` or call it on a watchdog event.
`index` and `refresh` hold a lock, so a poll and an event arriving together
cannot index the same bytes twice; reads take no lock. `tail()` reads the
last lines without the index, for a first screen of a file still indexing.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.errors import InputError
from engine.logs.textio import CUT, MAX_LINE_BYTES, check_regular, open_error
from engine.logs.userregex import UserRegex

BLOCK = 16 * 1024 * 1024  # bytes scanned per step while indexing


@dataclass(frozen=True)
class Change:
    """What `refresh()` found."""

    kind: str  # "none", "grown", "truncated", "rotated", "deleted"
    new_lines: int = 0  # complete lines added to the index


class BlockSearch:
    """`find` for any source of numbered lines that reads blocks (`LogSource`, a merged view)."""

    def __len__(self) -> int:
        raise NotImplementedError

    def raw_span(self, a: int, b: int) -> tuple[bytes, np.ndarray]:
        """The bytes of lines a..b-1 as on disk (the last one's newline excluded, as `block` splits them) and
        their byte lengths (int64, newline excluded): what engine/logs/search.py matches in large blocks."""
        assert self._fd is not None, "source is closed"
        start, _ = self.line_span(a)
        _, end = self.line_span(b - 1)
        last = np.array([end] if b > self._count else [], dtype=np.int64)  # a final line without its newline
        ends = np.concatenate((self._starts[a + 1 : min(b, self._count) + 1] - 1, last))
        return os.pread(self._fd, end - start, start), ends - self._starts[a:b]

    def block(self, a: int, b: int) -> list[str]:
        raise NotImplementedError

    def find(
        self,
        pattern: re.Pattern[str] | UserRegex,
        start: int,
        *,
        forward: bool = True,
        cancelled: Callable[[], bool] = lambda: False,
        batch: int = 4096,
    ) -> int | None:
        """The first line at or after `start` (before it, backwards) that the regex matches, wrapping around.

        Reads `batch` lines per block; `cancelled` is checked between batches.
        """
        total = len(self)
        if total == 0:
            return None
        start %= total
        order = [(start, total), (0, start)] if forward else [(start, -1), (total - 1, start)]
        step = 1 if forward else -1
        for lo, hi in order:
            for first in range(lo, hi, step * batch):
                if cancelled():
                    return None
                last = min(first + batch, hi) if forward else max(first - batch, hi)
                a, b = (first, last) if forward else (last + 1, first + 1)
                texts = self.block(a, b)
                indices = range(len(texts)) if forward else range(len(texts) - 1, -1, -1)
                for k in indices:
                    if pattern.search(texts[k]):
                        return a + k
        return None


class LogSource(BlockSearch):
    names: list[str] | None = None  # engine/logs/linesource.py: one file, no per-row file names
    untimed: tuple[str, ...] = ()

    def __init__(self, path: Path, *, max_line_bytes: int = MAX_LINE_BYTES) -> None:
        self.path = Path(path)
        self.max_line_bytes = max_line_bytes
        self._fd: int | None = None
        self._inode: tuple[int, int] | None = None
        self._starts = np.zeros(1, dtype=np.int64)  # start offset of every complete line, plus the next one,
        # then room to grow: entries past _count + 1 are unused (a followed file's appends copy nothing each time)
        self._count = 0  # complete lines (ending in a newline)
        self._scanned = 0  # bytes examined so far
        self._lock = threading.RLock()
        self._open()

    # ---- opening and indexing ----

    def _open(self) -> None:
        check_regular(self.path)
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except OSError as e:
            raise open_error(self.path, e) from None
        st = os.fstat(fd)
        if self._fd is not None:
            os.close(self._fd)
        self._fd, self._inode = fd, (st.st_dev, st.st_ino)
        self._starts = np.zeros(1, dtype=np.int64)
        self._count = self._scanned = 0

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> LogSource:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @property
    def size(self) -> int:
        assert self._fd is not None, "source is closed"
        return os.fstat(self._fd).st_size

    def index(self, on_progress: Callable[[int, int], None] | None = None) -> int:
        """Scan bytes not yet indexed; returns the complete lines added. on_progress(done, total) per block."""
        with self._lock:
            return self._index(on_progress)

    def _index(self, on_progress: Callable[[int, int], None] | None) -> int:
        assert self._fd is not None, "source is closed"
        total = self.size
        added: list[np.ndarray] = []
        while self._scanned < total:
            data = os.pread(self._fd, min(BLOCK, total - self._scanned), self._scanned)
            if not data:
                break  # truncated while we read: refresh() will notice
            newlines = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 10)
            added.append(newlines.astype(np.int64) + (self._scanned + 1))
            self._scanned += len(data)
            if on_progress is not None:
                on_progress(self._scanned, total)
        if not added:
            return 0
        count = sum(len(a) for a in added)
        used = self._count + 1
        if used + count > len(self._starts):  # grow by half again at least: amortised, not a copy per append
            grown = np.empty(max(used + count, used + used // 2 + 1024), dtype=np.int64)
            grown[:used] = self._starts[:used]
            self._starts = grown
        np.concatenate(added, out=self._starts[used : used + count])
        self._count += count  # after the offsets are written: a reader never sees one not filled in
        return count

    def tail(self, max_bytes: int = 256 * 1024) -> list[str]:
        """The file's last lines without the index (one pread of the last `max_bytes`): for a first screen
        while a large file is still being indexed. The first line is dropped when the read began inside it."""
        assert self._fd is not None, "source is closed"
        size = self.size
        start = max(0, size - max_bytes)
        data = os.pread(self._fd, size - start, start)
        lines = data.decode("utf-8", errors="replace").split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        if start > 0 and lines:
            lines.pop(0)  # a fragment
        return [line[: self.max_line_bytes].rstrip("\r") for line in lines]

    def refresh(self) -> Change:
        """Bring the index up to date with the file at `path`."""
        with self._lock:
            return self._refresh()

    def _refresh(self) -> Change:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return Change("deleted")
        if (st.st_dev, st.st_ino) != self._inode:
            try:
                self._open()
            except InputError:  # replaced by something that is no log (a FIFO, a directory): gone, as far as we go
                return Change("deleted")
            return Change("rotated", self.index())
        size = self.size
        if size < self._scanned:
            self._starts = np.zeros(1, dtype=np.int64)
            self._count = self._scanned = 0
            return Change("truncated", self.index())
        if size > self._scanned:
            return Change("grown", self.index())
        return Change("none")

    # ---- reading ----

    def __len__(self) -> int:
        """Lines, counting a final line without a newline."""
        return self._count + (1 if self._scanned > self._starts[self._count] else 0)

    @property
    def index_bytes(self) -> int:
        return (self._count + 1) * self._starts.itemsize

    def line_span(self, i: int) -> tuple[int, int]:
        """(start, end) byte offsets of line i (0-based), the newline excluded."""
        if not 0 <= i < len(self):
            raise IndexError(i)
        start = int(self._starts[i])
        end = int(self._starts[i + 1]) - 1 if i < self._count else self._scanned
        return start, end

    def line(self, i: int) -> str:
        """Line i (0-based) as text: UTF-8 errors replaced, a trailing CR dropped, long lines cut."""
        assert self._fd is not None, "source is closed"
        start, end = self.line_span(i)
        length = end - start
        data = os.pread(self._fd, min(length, self.max_line_bytes), start)
        text = data.decode("utf-8", errors="replace")
        if length > self.max_line_bytes:
            return text + CUT.format(n=length - self.max_line_bytes)
        return text[:-1] if text.endswith("\r") else text

    def lines(self, start: int, stop: int) -> list[str]:
        """Lines start..stop-1 (clipped to the file)."""
        return [self.line(i) for i in range(max(0, start), min(stop, len(self)))]

    @property
    def paths(self) -> list[Path]:
        return [self.path]

    def origin(self, i: int) -> tuple[int, int]:
        return 0, i

    @property
    def inode(self) -> int:
        """The inode of the file being read (another one at the path after a rotation, until `refresh`)."""
        assert self._inode is not None, "source is closed"
        return self._inode[1]

    @property
    def complete_lines(self) -> int:
        """Lines ending in a newline (a final line still being written is not one)."""
        return self._count

    def block(self, a: int, b: int) -> list[str]:
        """Lines a..b-1 (clipped to the file) with one read: what batch consumers (search, chunk planning) use."""
        a, b = max(0, a), min(b, len(self))
        return self._read_block(a, b) if a < b else []

    def _read_block(self, a: int, b: int) -> list[str]:
        """Lines a..b-1 with one pread (each cut at max_line_bytes like `line`)."""
        assert self._fd is not None, "source is closed"
        start, _ = self.line_span(a)
        _, end = self.line_span(b - 1)
        data = os.pread(self._fd, end - start, start).decode("utf-8", errors="replace")
        lines = data.split("\n")[: b - a]
        return [line[: self.max_line_bytes].removesuffix("\r") for line in lines]
