"""The whole-file timeline map of a file on disk: read in blocks, its second half in a second process.

A GiB of log is 10+ million lines, and the map (a digest per chunk, `engine.analysis.timeline`) costs
a few tens of microseconds a line in Python: one core takes minutes. Here the file's lines are cut into
`Span`s at line boundaries; the first is mapped in this process, block by block, so the episodes it
finds are heard of (`on_episode`) while the rest is read; each other span is mapped by a worker
process (`python -m engine.analysis.wholefile`: a fresh interpreter, safe to start from a threaded app)
that reads its own bytes and answers in JSON; their episodes are folded in after, in file order. Lines are those of `split_lines`: `\n` ends a line, a `\r` before it is dropped.
"""

from __future__ import annotations

import json
import mmap
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from engine.analysis.timeline import Episode, TimelineMap
from engine.logs.formats.load import load_formats
from engine.logs.formats.spec import LogFormat

if TYPE_CHECKING:
    from engine.logs.logsource import LogSource

BLOCK_BYTES = 4 * 1024 * 1024  # read and mapped at a time (~45,000 syslog lines)
PARALLEL_BYTES = 32 * 1024 * 1024  # smaller files are mapped in one process: a worker takes ~1 s to start


@dataclass(frozen=True)
class Span:
    """Consecutive whole lines of a file: bytes start..stop (the last newline included)."""

    path: Path
    start: int
    stop: int
    first_line: int  # the number of its first line in the file
    lines: int


def scan(path: Path, parts: int = 1) -> list[Span]:
    """The file's lines cut into up to `parts` spans of about equal size (newlines counted with numpy over a
    memory map: a GiB in ~0.3 s, where `bytes.count` over blocks read takes ~1.1 s)."""
    size = path.stat().st_size
    if size == 0:
        return []
    with path.open("rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
        cuts = sorted({mapped.find(b"\n", size * k // parts) + 1 for k in range(1, parts)} - {0, size})
        bounds = [0, *cuts, size]
        counts = [_newlines(mapped, a, b) for a, b in zip(bounds, bounds[1:], strict=False)]
        counts[-1] += mapped[size - 1] != ord("\n")  # a last line without its newline
    firsts = [1 + sum(counts[:k]) for k in range(len(counts))]
    return [Span(path, a, b, n, m) for a, b, n, m in zip(bounds, bounds[1:], firsts, counts, strict=False)]


def _newlines(mapped: mmap.mmap, start: int, stop: int) -> int:
    step, found = 16 * 1024 * 1024, 0
    for at in range(start, stop, step):
        found += int(np.count_nonzero(np.frombuffer(mapped, np.uint8, min(step, stop - at), at) == 10))
    return found


def source_spans(source: LogSource) -> list[Span]:
    """The indexed lines of an open file cut into spans for `map_file` (more than one for a big file)."""
    total = len(source)
    if not total:
        return []
    parts = workers() if source.size >= PARALLEL_BYTES else 1
    firsts = [total * k // parts for k in range(parts)]
    starts = [source.line_span(n)[0] for n in firsts]
    end = source.line_span(total - 1)[1] + (1 if source.complete_lines == total else 0)
    return [
        Span(source.path, a, b, n + 1, m - n)
        for a, b, n, m in zip(starts, [*starts[1:], end], firsts, [*firsts[1:], total], strict=True)
    ]


def blocks(span: Span) -> Iterator[list[str]]:
    """The span's lines, a block at a time (each block ends at a newline, so no character is cut)."""
    with span.path.open("rb") as f:
        f.seek(span.start)
        left, carry = span.stop - span.start, b""
        while left > 0:
            read = f.read(min(BLOCK_BYTES, left))
            if not read:  # the file was cut short while we read: what was there is mapped
                break
            data, left = carry + read, left - len(read)
            cut = data.rfind(b"\n") + 1 if left > 0 else len(data)
            data, carry = data[:cut], data[cut:]
            if data:
                text = data.decode("utf-8", errors="replace").replace("\r\n", "\n")
                yield text[:-1].split("\n") if text.endswith("\n") else text.split("\n")
        if carry:
            yield [carry.decode("utf-8", errors="replace").removesuffix("\r")]


def map_span(
    span: Span,
    fmt: LogFormat | str,
    chunk_lines: int,
    *,
    on_episode: Callable[[Episode], None] | None = None,
    on_lines: Callable[[int], None] = lambda _lines: None,
    cancelled: Callable[[], bool] = lambda: False,
) -> list[Episode]:
    """The episodes of one span, mapped block by block (`on_lines` hears how many lines each block held)."""
    fmt = _named(fmt) if isinstance(fmt, str) else fmt
    mapped = TimelineMap(fmt, chunk_lines, on_episode, first_line=span.first_line)
    for lines in blocks(span):
        if cancelled():
            break
        mapped.feed(lines)
        on_lines(len(lines))
    mapped.close()
    return mapped.episodes()


def _named(name: str) -> LogFormat:
    return next(f for f in load_formats() if f.name == name)


class _Worker:
    """A process (`python -m engine.analysis.wholefile`) mapping one span: it prints `lines N` after each
    block and its episodes as one JSON array at the end; a thread here reads both as they come."""

    def __init__(self, span: Span, fmt_name: str, chunk_lines: int) -> None:
        self.span, self.done, self.result = span, 0, None
        args = [str(span.path), str(span.start), str(span.stop), str(span.first_line), str(span.lines)]
        self.process = subprocess.Popen(
            [sys.executable, "-m", "engine.analysis.wholefile", *args, fmt_name, str(chunk_lines)],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )  # fmt: skip
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if line.startswith("lines "):
                self.done += int(line[6:])
            elif line.startswith("["):
                self.result = line
        self.process.wait()

    def episodes(self) -> list[Episode] | None:
        """What it found (after `reader` ends), or None when it failed."""
        if self.process.returncode != 0 or self.result is None:
            return None
        try:
            return [Episode(**{**e, "last_seen": tuple(e["last_seen"])}) for e in json.loads(self.result)]
        except (ValueError, TypeError, KeyError):
            return None


def map_file(
    spans: Sequence[Span],
    fmt: LogFormat,
    chunk_lines: int,
    *,
    on_episode: Callable[[Episode], None] | None = None,
    on_progress: Callable[[int, int], None] = lambda _done, _total: None,
    cancelled: Callable[[], bool] = lambda: False,
) -> list[Episode]:
    """Every episode of the spans (consecutive, in file order): the first mapped here, the others by workers.

    `on_episode` hears of each episode as it is first found, in file order; `on_progress(lines done, lines
    in all)` after each block this process maps and while it waits for the workers; `cancelled()` stops
    this process at its next block and ends the workers. A format workers cannot find by name (one from a
    `--formats-file`) maps every span here, one after the other, as does a worker that fails.
    """
    total, own = sum(s.lines for s in spans), [0]
    workers: list[_Worker] = []
    if len(spans) > 1 and any(f.name == fmt.name for f in load_formats()):
        try:
            for span in spans[1:]:
                workers.append(_Worker(span, fmt.name, chunk_lines))
        except OSError:  # no process to be had (a limit on processes): one after the other, here
            for worker in workers:
                worker.process.kill()
                worker.process.wait()
            workers = []

    def step(n: int) -> None:
        own[0] += n
        on_progress(min(total, own[0] + sum(w.done for w in workers)), total)  # a failed worker's lines twice

    try:
        mapped = TimelineMap(fmt, chunk_lines, on_episode)
        found = map_span(spans[0], fmt, chunk_lines, on_episode=on_episode, on_lines=step, cancelled=cancelled)
        mapped.absorb(found, announce=False)  # heard of as they were found
        for k, span in enumerate(spans[1:]):
            episodes = None
            if workers:
                while workers[k].reader.is_alive() and not cancelled():
                    workers[k].reader.join(0.2)
                    step(0)
                episodes = None if cancelled() else workers[k].episodes()
            if cancelled():  # what was read before the cancel, in order: the lines after a gap are left out
                break
            if episodes is None:  # no worker, or it failed: map the span here
                episodes = map_span(span, fmt, chunk_lines, on_lines=step, cancelled=cancelled)
            mapped.absorb(episodes)
        return mapped.episodes()
    finally:
        for worker in workers:
            if worker.process.poll() is None:
                worker.process.kill()
            worker.process.wait()


def workers() -> int:
    """Processes for a big file's map: `LOGPT_WORKERS` when set, else the cores this process may use, at most 4."""
    wanted = os.environ.get("LOGPT_WORKERS", "")
    if wanted.isdigit() and int(wanted) >= 1:
        return min(int(wanted), 64)
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(4, cores))


def main(argv: Sequence[str]) -> None:
    """A worker: map one span, printing `lines N` after each block, then the episodes as a JSON array."""
    path, start, stop, first_line, lines, fmt_name, chunk_lines = argv

    def done(n: int) -> None:
        print(f"lines {n}", flush=True)

    span = Span(Path(path), int(start), int(stop), int(first_line), int(lines))
    found = map_span(span, fmt_name, int(chunk_lines), on_lines=done)
    print(json.dumps([asdict(e) for e in found]), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
