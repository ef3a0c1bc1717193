"""Several log files as one timeline: their lines interleaved by time, each row knowing its file.

`MergedSource` reads like a `LogSource` (numbered lines, blocks, find, tail,
index, refresh), so the explorer shows, searches, filters and follows it as
it does one file. Each file keeps its own line index; the merge is an array
of one int64 per row (the file in the high bits, its line in the low ones),
built by a k-way merge on times read from the lines (engine/logs/clock.py:
each file's own reader from engine/logs/fileclock.py, with the format it
detects from its first lines, so a time only its format assembles counts:
W3C's `#Date:` and `time`, an epoch inside JSON, strace's time of day on the
file's day): a stable sort on (time, file), with a file's
times made non-decreasing first, so that a file's own lines never change
order and a line without a time (a stack trace's continuation) stays right
after the record before it. Files are never read whole into memory: lines go
through in blocks and only their times are kept while merging.

Following: lines appended to any file are merged among themselves and added
after the rows already shown (a late line of one file does not move rows
the user is looking at). A truncated or rotated file starts the merge over.
Only complete lines are merged; a final line still being written waits.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from engine.errors import InputError
from engine.logs.clock import TimeReader
from engine.logs.fileclock import TAIL_LINES, file_reader, mtime_of
from engine.logs.formats.detect import SAMPLE_LINES
from engine.logs.logsource import BlockSearch, Change, LogSource

SHIFT = 40  # a row's code: file << SHIFT | line (2^40 lines per file)
MASK = (1 << SHIFT) - 1
BATCH = 20_000  # lines read per block while merging


def short_names(paths: Sequence[Path]) -> list[str]:
    """Names that tell the files apart in a narrow column: each file's shortest unique suffix of whole path
    parts (its name, with as many folders as it takes when names clash), never a name cut short."""
    parts = [p.parts for p in paths]
    names = []
    for i, own in enumerate(parts):
        k = 1
        while k < len(own) and any(other[-k:] == own[-k:] for j, other in enumerate(parts) if j != i):
            k += 1
        names.append("/".join(own[-k:]).replace("//", "/"))
    return names


class MergedSource(BlockSearch):
    def __init__(self, paths: Sequence[Path], *, max_line_bytes: int = 64 * 1024) -> None:
        if len(paths) < 2:
            raise InputError("a merged view needs two or more files", "pass several files to --merge")
        self.members = [LogSource(Path(p), max_line_bytes=max_line_bytes) for p in paths]
        self.paths = [m.path for m in self.members]
        self.names = short_names(self.paths)
        self.path = self.paths[0].parent / ("merged: " + " + ".join(self.names))  # a name for the tab; no file
        self.untimed: list[str] = []  # files in which no line had a time (their lines go first)
        self._lock = threading.RLock()
        self._reset()

    def _reset(self) -> None:
        self._buffer = np.zeros(1024, dtype=np.int64)  # the rows, with room to grow (doubled when full)
        self._rows = 0
        self._merged = [0] * len(self.members)  # lines of each file merged so far
        self._last = [float("-inf")] * len(self.members)  # each file's latest time so far
        # each file's reader, made when its first lines are there to detect its format from (merging)
        self._readers: list[TimeReader | None] = [None] * len(self.members)
        self._lookup: list[TimeReader | None] = [None] * len(self.members)  # their twins, for time_of

    # ---- the interface of a LogSource ----

    @property
    def size(self) -> int:
        return sum(m.size for m in self.members)

    @property
    def _order(self) -> np.ndarray:
        return self._buffer[: self._rows]

    def __len__(self) -> int:
        return self._rows

    def close(self) -> None:
        for m in self.members:
            m.close()

    def origin(self, i: int) -> tuple[int, int]:
        """(file, its own 0-based line) of row i."""
        code = int(self._order[i])
        return code >> SHIFT, code & MASK

    def line(self, i: int) -> str:
        if not 0 <= i < self._rows:
            raise IndexError(i)
        k, line = self.origin(i)
        return self.members[k].line(line)

    def time_of(self, i: int) -> float | None:
        """The time written on row i, as its file's reader reads it (None before the file is merged)."""
        k, line = self.origin(i)
        reader = self._lookup[k]
        if reader is None:
            merging = self._readers[k]
            if merging is None:
                return None
            reader = self._lookup[k] = merging.twin()  # the merge may be reading with the other one
        return reader(self.members[k].line(line))

    def block(self, a: int, b: int) -> list[str]:
        """Rows a..b-1 with one read per file: a file's lines in any span of rows are consecutive (the merge
        keeps each file's order and takes every line once), so each file's share is one block."""
        a, b = max(0, a), min(b, self._rows)
        if a >= b:
            return []
        codes = self._order[a:b]
        files, lines = codes >> SHIFT, codes & MASK
        out: list[str] = [""] * (b - a)
        for k in np.unique(files).tolist():
            where = np.flatnonzero(files == k)
            first, last = int(lines[where[0]]), int(lines[where[-1]])
            texts = self.members[k].block(first, last + 1)
            if len(texts) != len(where):  # cannot happen for a merge built here; read line by line if it does
                texts = [self.members[k].line(int(line)) for line in lines[where]]
            for j, text in zip(where.tolist(), texts, strict=True):
                out[j] = text
        return out

    def tail(self, max_bytes: int = 256 * 1024) -> list[str]:
        """The last lines of every file, interleaved by time, each after its file's name (a first screen)."""
        rows: list[tuple[float, int, int, str]] = []
        for k, m in enumerate(self.members):
            lines = m.tail(max_bytes // len(self.members))
            reader, last = file_reader(lines[:SAMPLE_LINES], mtime_of(m.path), tail=lines[-TAIL_LINES:]), float("-inf")
            for j, text in enumerate(lines):
                t = reader(text)
                last = max(last, t) if t is not None else last
                rows.append((last, k, j, f"{self.names[k]} │ {text}"))
        rows.sort(key=lambda r: r[:3])
        return [r[3] for r in rows]

    def index(self, on_progress: Callable[[int, int], None] | None = None) -> int:
        """Index every file, then merge: on_progress(done, total) runs over indexing and merging alike."""
        with self._lock:
            total = self.size
            done = 0
            for m in self.members:
                size = m.size
                m.index(lambda d, _t, base=done: on_progress and on_progress((base + d) // 2, total))
                done += size
            return self._merge(lambda d, t: on_progress and on_progress(total // 2 + d * total // max(2 * t, 1), total))

    def refresh(self) -> Change:
        with self._lock:
            changes = [m.refresh() for m in self.members]
            kinds = {c.kind for c in changes}
            if kinds & {"truncated", "rotated"}:
                self._reset()
                return Change("rotated", self._merge())
            added = self._merge()
            if added:
                return Change("grown", added)
            return Change("deleted") if kinds == {"deleted"} else Change("none")

    # ---- merging ----

    def _merge(self, on_progress: Callable[[int, int], None] | None = None) -> int:
        """Merge the complete lines not merged yet; returns the rows added."""
        todo = sum(m.complete_lines - self._merged[k] for k, m in enumerate(self.members))
        times, codes, done = [], [], 0
        for k, m in enumerate(self.members):
            start, stop = self._merged[k], m.complete_lines
            if stop <= start:
                continue
            t = np.empty(stop - start, dtype=np.float64)
            reader, last = self._readers[k], self._last[k]
            if reader is None:
                reader = self._readers[k] = file_reader(
                    m.block(0, min(stop, SAMPLE_LINES)), mtime_of(m.path), tail=m.block(max(0, stop - TAIL_LINES), stop)
                )
            for a in range(start, stop, BATCH):
                for j, text in enumerate(m.block(a, min(a + BATCH, stop)), a - start):
                    found = reader(text)
                    if found is not None and found > last:
                        last = found
                    t[j] = last  # non-decreasing: the file's order is kept, an untimed line follows its record
                done += min(BATCH, stop - a)
                if on_progress is not None:
                    on_progress(done, todo)
            if last == float("-inf") and self.names[k] not in self.untimed:
                self.untimed.append(self.names[k])
            self._last[k], self._merged[k] = last, stop
            times.append(t)
            codes.append((np.int64(k) << SHIFT) | np.arange(start, stop, dtype=np.int64))
        if not times:
            return 0
        all_times, all_codes = np.concatenate(times), np.concatenate(codes)
        order = np.argsort(all_times, kind="stable")  # codes are in file order, so ties keep file, then line
        rows = self._rows + len(order)
        if rows > len(self._buffer):  # doubling: a followed file's many small appends cost no full copy each
            grown = np.zeros(max(rows, 2 * len(self._buffer)), dtype=np.int64)
            grown[: self._rows] = self._buffer[: self._rows]
            self._buffer = grown
        self._buffer[self._rows : rows] = all_codes[order]
        self._rows = rows  # after the rows are written: a reader never sees a row not filled in
        return len(order)
