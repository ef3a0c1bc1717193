"""What one tab knows about its file, owned in one place: search, filter, flags, templates.

`TabState` is the tab's only mutable state besides its widgets; the tab and
its mixins (search, flags, templates) read and write its slices, and
`TabState.rows` is the one rule for which rows the view shows.

Threads. The UI thread owns every slice, with the hand-offs written down here:

- `FilterState`: the filter worker appends to `rows` and advances `upto`
  under `lock`, one batch at a time; the UI thread replaces `rows` (a new
  list) under the same lock when the filter changes, and the worker stops
  when its list is no longer the current one.
- `TemplateState`: the view reads the tab's one miner (`source`, mining.py): the flag
  engine's book (ready, or to come from a cached detector), or where it has none yet the
  Templates worker's mining, which the flag worker stops and hands to the engine
  (`hand_over`, then `use`); `source` changes under `lock`, and `reset` (a replaced file)
  stops a worker still mining the old file.
- `format`: detected once (`format_lock`: the index, flag and Templates workers may all ask first).

Flags arrive only in messages (`FlagsFound`), applied on the UI thread.
No Textual here: the state is plain data, tested without an app.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from engine.logs.linefilter import LineFilter
from engine.logs.userregex import UserRegex
from logpt_tui.explorer.flagset import FlagSet
from logpt_tui.explorer.mining import BookMining, Mined, WorkerMining

if TYPE_CHECKING:
    from engine.analysis.chunkplan import ChunkPlan
    from engine.logs.clock import TimeIndex
    from engine.logs.formats.spec import LogFormat
    from engine.logs.logsource import LogSource
    from logpt_tui.explorer.flagset import FlagEngine


@dataclass
class SearchState:
    pattern: UserRegex | None = None  # the active search (n / N repeat it); None: n moves by chunk
    ignore_case: bool = False  # C toggles it (and searches again)
    matches: list[int] = field(default_factory=list)  # lines the search matches, as counted so far
    counted: bool = False  # the count covers the whole file
    prompt_mode: str = "search"  # what the prompt box is for: search, goto, include, exclude, export
    export: str = "shown"  # what the export prompt writes: the shown lines or the marked range
    replace: str = ""  # the existing file the user was asked about: Enter on the same name replaces it


@dataclass
class FilterState:
    rule: LineFilter = field(default_factory=LineFilter)
    rows: list[int] = field(default_factory=list)  # 0-based lines the rule passed so far
    upto: int = 0  # lines the rule has looked at
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass
class FlagState:
    engine: FlagEngine | None = None  # None: no detector for this tab (--no-flags)
    found: FlagSet = field(default_factory=FlagSet)
    activity: str = "starting"  # what the detector is doing while it works ("mining 40%")
    off: str = ""  # why there is no detector (too little history, an error); the status says so
    done: bool = False  # the file is judged (appends are judged as they come): the status shows the count
    only: bool = False  # show flagged lines only


@dataclass
class TemplateState:
    """The Templates view's slice: whose keys it reads (the tab's one miner, mining.py) and the picked template."""

    source: Mined | None = None  # the flag engine's book, or the Templates worker's mining; None: not opened yet
    picked: str | None = None  # show only lines of this template
    shown: list[int] = field(default_factory=list)  # its lines, 0-based, as far as `scanned`
    scanned: int = 0
    seen: tuple[int, int] = (0, 0)  # (source, epoch) that `shown` was scanned from
    mining: bool = False  # the Templates worker is at work
    lock: threading.Lock = field(default_factory=threading.Lock)

    def open(self, engine: FlagEngine | None) -> WorkerMining | None:
        """The view opens: it reads the flag engine's book where there is one, or will be one numbered by a cached
        detector (its key table and miner: the view waits for them rather than mine with a miner of its own, which
        would be a second one), else the Templates worker's mining (made here, and returned while the worker has
        lines to mine in it)."""
        with self.lock:
            if self.source is None:
                book = engine is not None and (engine.book is not None or engine.cache.exists())
                self.source = BookMining(engine) if book else WorkerMining()  # type: ignore[arg-type]
            own = self.source
        return own if isinstance(own, WorkerMining) and not own.handed_over else None

    def without_book(self) -> bool:
        """The flag engine failed before it had a book: a view waiting for one mines on its own from now on
        (True: the Templates worker has lines to mine)."""
        with self.lock:
            waiting = isinstance(self.source, BookMining) and self.source.engine.published.book is None
            if waiting:
                self.source = WorkerMining()
        return waiting

    def past_cap_left(self, total: int) -> bool:
        """The view reads a book that reached its memory cap and the lines past it are not all mined yet."""
        source = self.source
        if not isinstance(source, BookMining) or not source.engine.published.capped:
            return False
        past = source.past_cap()
        return past is None or past.first + past.mined() < total

    def hand_over(self) -> WorkerMining | None:
        """The flag engine's book is ready: the worker's mining, if the view has one, stops and is returned for the
        engine to continue (`FlagEngine.adopt`); then `use` makes the view read the book."""
        with self.lock:
            own = self.source if isinstance(self.source, WorkerMining) else None
        if own is not None:
            own.stop()
        return own

    def use(self, engine: FlagEngine) -> bool:
        """The view reads the flag engine's book from now (if it is open, True; else it will when it opens)."""
        with self.lock:
            if self.source is not None:
                self.source = BookMining(engine)
            return self.source is not None

    def mined(self) -> int:
        source = self.source
        return source.mined() if source is not None else 0

    def snapshot(self) -> tuple[int, dict[str, int], dict[str, str]]:
        """(lines mined, records per key, texts) as of now."""
        source = self.source
        return source.snapshot() if source is not None else (0, {}, {})

    def template_of(self, line: int) -> str | None:
        """The template text of a 0-based line's record, if mined."""
        source = self.source
        return source.template_of(line) if source is not None else None

    def reset(self) -> None:
        """The file was replaced: mining starts over (a worker still mining the old file stops)."""
        with self.lock:
            own, self.source = self.source, None
        if isinstance(own, WorkerMining):
            own.handed_over = True  # its batch in progress is dropped with it: no need to wait for it

    def pick(self, key: int | str | None) -> None:
        self.picked, self.shown, self.scanned = (None if key is None else str(key)), [], 0
        self.extend_picked()

    def extend_picked(self) -> bool:
        """Add the newly mined lines of the picked template to `shown` (only the new ones are scanned); True when
        they were scanned again from the first line (a new source or book, whose keys may be numbered anew)."""
        source = self.source
        if self.picked is None or source is None:
            return False
        seen, again = (id(source), source.epoch()), False
        if seen != self.seen:
            self.shown, self.scanned, self.seen, again = [], 0, seen, True
        stop = source.mined()
        if stop > self.scanned:
            self.shown.extend(source.lines_of(self.picked, self.scanned, stop))
            self.scanned = stop
        return again


@dataclass
class TabState:
    search: SearchState = field(default_factory=SearchState)
    filter: FilterState = field(default_factory=FilterState)
    flags: FlagState = field(default_factory=FlagState)
    templates: TemplateState = field(default_factory=TemplateState)
    format: LogFormat | None = None  # the file's format, detected once from its first lines (again when replaced)
    format_lock: threading.Lock = field(default_factory=threading.Lock)
    times: TimeIndex | None = None  # the lines' times, read on demand (tab_time.py; again when replaced)
    plan: ChunkPlan | None = None  # the chunks the analysis keys answer for, planned as the file is read
    queued: tuple[str, int] | None = None  # s / r / a pressed before the model or the chunks: (query, line)
    marks: list[int] = field(default_factory=list)  # marked lines, 0-based, ascending (tab_marks.py)
    new_since_scroll: int = 0  # lines appended while the view was not following
    sources: dict[str, LogSource] = field(default_factory=dict)  # a stream's source files read by `o`, indexed once

    def rows(self) -> list[int] | None:
        """The rows the view shows: flagged lines only, else the picked template's lines, else the filter's,
        else every line (None)."""
        if self.flags.only:
            return self.flags.found.lines
        if self.templates.picked is not None:
            return self.templates.shown
        if self.filter.rule.active:
            return self.filter.rows
        return None
