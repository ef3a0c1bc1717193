"""A tab's one template miner, as the Templates view reads it: the flag engine's session book, or its own.

One parsed file per tab: the keys the Templates view lists are the keys the flag engine mined (the why pane
names the same ones). Where the flag engine has a book, the view reads it (`BookMining`): the engine mines in
blocks in its workers, and the view shows what it has mined so far. Where it has none yet (the detector is
loading or self-training, is off, or failed: `--no-flags`, too little history), the Templates worker mines
(`WorkerMining`); once the flag engine's book is ready it stops that worker and continues with the same miner
and its keys (`FlagEngine.adopt`), so a tab never mines its lines twice. Where the flag engine will load a cached
detector, whose key table and miner number the keys, the view waits for its book instead (state.py). Past the
book's memory cap the view still lists every line: the Templates worker mines the lines the book no longer takes
(`PastCap`) with a copy of the book's miner taken at the cap, which numbers keys as the book's does and leaves
the judged part's templates as they were judged; 4 bytes a line, outside the book.

Threads. `WorkerMining` has one writer, the Templates worker, which holds `writing` while it mines a batch; the
flag worker takes `writing` too when it stops it, so it gets the miner between two batches. Readers take `lock`
for a moment. `BookMining` reads what the engine published after its last block (`FlagEngine.published`, one
tuple swapped whole; the engine publishes only once someone reads: `FlagEngine.read_keys`) and copies the book's
per-line key ids, which the engine's workers only append to. `PastCap` has one writer, the Templates worker.
No Textual here.
"""

from __future__ import annotations

import sys
import threading
from array import array
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple, Protocol

import numpy as np

from logpt_tui.explorer.settings import BATCH

if TYPE_CHECKING:
    from engine.detect.pipeline import SessionBook
    from engine.logs.formats.record import Record
    from engine.logs.formats.spec import LogFormat
    from engine.logs.templates import TemplateMiner
    from engine.logs.templates.table import KeyedMiner


class Mined(Protocol):
    """The template keys of a file's lines, as far as they are mined."""

    def mined(self) -> int: ...  # lines with a key so far (0-based lines 0..mined-1)
    def snapshot(self) -> tuple[int, dict[str, int], dict[str, str]]: ...  # (lines mined, records per key, texts)
    def lines_of(self, key: str, start: int, stop: int) -> list[int]: ...  # 0-based lines of `key` in start..stop-1
    def epoch(self) -> int: ...  # changes when the keys so far are numbered anew (a new book)
    def template_of(self, line: int) -> str | None: ...  # the template text of a 0-based line's record, if mined


@dataclass
class WorkerMining:
    """The Templates worker's miner and every line's key, while the flag engine has no book."""

    fmt: LogFormat | None = None
    miner: TemplateMiner | None = None  # built by the worker, when it first mines
    keys: list[str] = field(default_factory=list)  # the key of every mined line, 0-based (a record's on all its lines)
    counts: dict[str, int] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)
    handed_over: bool = False  # the flag engine continues with this miner: the worker mines no more
    lock: threading.Lock = field(default_factory=threading.Lock)  # readers, a moment
    writing: threading.Lock = field(default_factory=threading.Lock)  # the one writer, a batch

    def mine(self, block: Callable[[int, int], list[str]], total: int, fmt: LogFormat) -> bool:
        """Mine the next batch of the file's `total` lines (`mine_batch`: a record's key on all its lines); False
        when all are mined or the flag engine took over."""
        from engine.logs.templates import TemplateMiner  # noqa: PLC0415

        with self.writing:
            start = len(self.keys)
            if self.handed_over or start >= total:
                return False
            if self.miner is None:
                self.fmt, self.miner = fmt, TemplateMiner()
            miner = self.miner
            keyed = mine_batch(miner, block, start, total, self.fmt)  # type: ignore[arg-type]
            keys = [key for r, k in keyed for key in [k] * (r.end_line - r.line + 1)]
            counts = {str(key): count for key, count in miner.counts.items()}
            texts = {str(t.key): t.text for t in miner.templates()}
            with self.lock:
                self.keys.extend(keys)
                self.counts, self.texts = counts, texts
            return True

    def stop(self) -> None:
        """The flag engine continues with this miner: wait for the batch being mined, then mine no more."""
        with self.writing:
            self.handed_over = True

    def mined(self) -> int:
        with self.lock:
            return len(self.keys)

    def snapshot(self) -> tuple[int, dict[str, int], dict[str, str]]:
        with self.lock:
            return len(self.keys), self.counts, self.texts

    def lines_of(self, key: str, start: int, stop: int) -> list[int]:
        with self.lock:
            keys, stop = self.keys, min(stop, len(self.keys))
            return [i for i in range(start, stop) if keys[i] == key]

    def epoch(self) -> int:
        return 0  # a worker's keys are never numbered anew: a replaced file gets a new WorkerMining

    def template_of(self, line: int) -> str | None:
        with self.lock:
            return self.texts.get(self.keys[line]) if 0 <= line < len(self.keys) else None


class Published(NamedTuple):
    """What the Templates view reads of the flag engine's book, as of the engine's last block."""

    epoch: int  # bumped with every new book: the keys so far are numbered anew
    book: SessionBook | None
    lines: int  # lines with a key (the book's held-back record not yet)
    counts: dict[str, int]  # records per key
    texts: dict[str, str]  # key → template text
    capped: bool = False  # the book reached its memory cap: it takes no more lines (`lines` is where it stopped)


class Publisher(Protocol):
    """The flag engine as `BookMining` sees it (logpt_tui.explorer.flagset.FlagEngine)."""

    lock: threading.Lock  # held while its book changes

    @property
    def published(self) -> Published: ...
    def read_keys(self) -> None: ...  # publish now, and after every block from now on


class PastCap:
    """The keys of the lines past the book's memory cap, for the Templates view only: mined, never judged.

    A copy of the book's miner at the cap goes on from it (a template the book knows keeps its key, a new one gets
    the next), so the book's templates stay as they were judged however far the view mines. Each line holds its
    record's template id (4 bytes); records are parsed as the book parses them, a batch's last one with the next."""

    def __init__(self, book: SessionBook, first: int) -> None:
        self.book, self.first = book, first  # the capped book; its lines (0-based lines from `first` on are ours)
        self.miner: TemplateMiner | KeyedMiner = book.pipeline.miner.copy()  # by the caller, under the engine's lock
        self.ids: dict[str, int] = {}  # key → id, in order of first appearance
        self.names: list[str] = []  # id → key
        self.key_ids = array("i")  # per line from `first` on: its record's template id
        self.counts: Counter[str] = Counter()  # records per key
        self.texts: dict[str, str] = {}
        self.lock = threading.Lock()  # readers, a moment
        self.writing = threading.Lock()  # the writer, a batch (a second Templates worker waits for the first)

    def mine(self, block: Callable[[int, int], list[str]], total: int) -> bool:
        """Mine the next batch up to the file's `total` lines; False when all are mined."""
        with self.writing:
            return self._mine(block, total)

    def _mine(self, block: Callable[[int, int], list[str]], total: int) -> bool:
        start = self.first + len(self.key_ids)
        if start >= total:
            return False
        ids, keyed = [], mine_batch(self.miner, block, start, total, self.book.pipeline.fmt)
        for record, key in keyed:
            key_id = self.ids.setdefault(key, len(self.ids))
            ids += [key_id] * (record.end_line - record.line + 1)
        texts = {str(t.key): t.text for t in self.miner.templates()}
        with self.lock:
            self.names.extend(list(self.ids)[len(self.names) :])
            self.key_ids.extend(ids)
            self.counts.update(key for _, key in keyed)
            self.texts = texts
        return True

    def mined(self) -> int:
        with self.lock:
            return len(self.key_ids)

    def lines_of(self, key: str, start: int, stop: int) -> list[int]:
        with self.lock:
            key_id, stop = self.ids.get(key), min(stop, self.first + len(self.key_ids))
            if key_id is None or stop <= max(start, self.first):
                return []
            ids = np.array(self.key_ids[max(start, self.first) - self.first : stop - self.first], dtype=np.int32)
        return (np.flatnonzero(ids == key_id) + max(start, self.first)).tolist()

    def key_of(self, line: int) -> str | None:
        with self.lock:
            i = line - self.first
            return self.names[self.key_ids[i]] if 0 <= i < len(self.key_ids) else None


class BookMining:
    """The flag engine's session book, as the Templates view reads it (what the engine published), and past its
    memory cap what the Templates worker mined (`PastCap`)."""

    def __init__(self, engine: Publisher) -> None:
        self.engine = engine
        self._names: tuple[int, list[str]] = (-1, [])  # (epoch, key of every template id) for `template_of`
        self._past: PastCap | None = None

    def past_cap(self, *, make: bool = False) -> PastCap | None:
        """The lines past the published book's cap (made with `make`, by the Templates worker); None when the book
        is not capped."""
        past, published = self._past, self.engine.published
        if past is not None and past.book is published.book:
            return past
        if not make or not published.capped or published.book is None:
            return None
        with self.engine.lock:  # the miner copied between two of the engine's blocks
            published = self.engine.published
            if published.capped and published.book is not None:
                self._past = PastCap(published.book, published.lines)
        return self._past

    def mined(self) -> int:
        past = self.past_cap()
        return self.engine.published.lines + (past.mined() if past is not None else 0)

    def snapshot(self) -> tuple[int, dict[str, int], dict[str, str]]:
        published, past = self.engine.published, self.past_cap()
        if past is None:
            return published.lines, published.counts, published.texts
        with past.lock:
            counts = Counter(published.counts)
            counts.update(past.counts)
            lines, texts = published.lines + len(past.key_ids), past.texts | published.texts  # the book's as judged
        return lines, dict(counts), texts

    def lines_of(self, key: str, start: int, stop: int) -> list[int]:
        published, past = self.engine.published, self.past_cap()
        beyond = past.lines_of(key, start, stop) if past is not None else []
        if published.book is None:
            return beyond
        tally = published.book.tally
        key_id = tally.ids.get(key)
        judged = [] if key_id is None else record_lines(tally.key_ids, key_id, start, min(stop, published.lines))
        return judged + beyond

    def epoch(self) -> int:
        return self.engine.published.epoch

    def template_of(self, line: int) -> str | None:
        from engine.detect.evidence import CONTINUED  # noqa: PLC0415 - a book exists: the engine is loaded

        published, past = self.engine.published, self.past_cap()
        if past is not None and line >= published.lines:
            key = past.key_of(line)
            return None if key is None else published.texts.get(key, past.texts.get(key))
        if published.book is None or not 0 <= line < published.lines:
            return None
        tally = published.book.tally
        while line > 0 and tally.key_ids[line] == CONTINUED:  # a continuation line: its record's first line
            line -= 1
        key_id = tally.key_ids[line]
        if self._names[0] != published.epoch or key_id >= len(self._names[1]):
            self._names = (published.epoch, list(tally.ids))  # ids are numbered in order: a key's id is its place
        names = self._names[1]
        return published.texts.get(names[key_id]) if 0 <= key_id < len(names) else None


def mine_batch(
    miner: TemplateMiner | KeyedMiner, block: Callable[[int, int], list[str]], start: int, total: int, fmt: LogFormat
) -> list[tuple[Record, str]]:
    """The records of the batch of the file's `total` lines from 0-based line `start`, each with the key `miner`
    gives it. Records are parsed as the session book parses them: continuation lines join their record, and a
    batch's last record waits for the next batch, where it may go on."""
    from engine.logs.formats import parse_lines  # noqa: PLC0415

    stop = min(total, start + BATCH)
    records = list(parse_lines(block(start, stop), fmt, first_line=start + 1))
    if stop < total and len(records) > 1:
        records.pop()  # the last record may go on past this batch: it is mined with the next
    return [(r, sys.intern(str(miner.add(r.message)))) for r in records]


def record_lines(key_ids: array, key_id: int, start: int, stop: int) -> list[int]:
    """0-based lines start..stop-1 of the records with template id `key_id` (`FileTally.key_ids`: a record's id
    on its first line, CONTINUED on its continuation lines, which are the record's too)."""
    from engine.detect.evidence import CONTINUED  # noqa: PLC0415 - a book exists: the engine is loaded

    stop = min(stop, len(key_ids))
    if start >= stop:
        return []
    back = start
    while back > 0 and key_ids[back] == CONTINUED:  # the record the first line belongs to starts before it
        back -= 1
    ids = np.array(key_ids[back:stop], dtype=np.int32)  # a copy: the engine's worker may append meanwhile
    first = np.where(ids != CONTINUED, np.arange(len(ids)), 0)  # each line's record's first line
    np.maximum.accumulate(first, out=first)
    return (np.flatnonzero(ids[first][start - back :] == key_id) + start).tolist()
