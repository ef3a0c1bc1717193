"""What one tab knows about its file, owned in one place: search, filter, flags, templates.

`TabState` is the tab's only mutable state besides its widgets; the tab and
its mixins (search, flags, templates) read and write its slices, and
`TabState.rows` is the one rule for which rows the view shows.

Threads. The UI thread owns every slice, with two hand-offs written down here:

- `FilterState`: the filter worker appends to `rows` and advances `upto`
  under `lock`, one batch at a time; the UI thread replaces `rows` (a new
  list) under the same lock when the filter changes, and the worker stops
  when its list is no longer the current one.
- `TemplateState`: the mining worker adds keys, counts and texts through
  `take` under `lock`; the UI thread reads them through `snapshot` and
  `picked_lines`, and `reset` (under the lock) bumps `generation`, so a
  worker still mining the old file drops its batch instead of mixing files.

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
    keys: list[int] = field(default_factory=list)  # the template key of every mined line, 0-based
    counts: dict[int, int] = field(default_factory=dict)
    texts: dict[int, str] = field(default_factory=dict)
    picked: int | None = None  # show only lines of this template
    shown: list[int] = field(default_factory=list)  # its lines, 0-based, as far as `scanned`
    scanned: int = 0
    mining: bool = False
    miner: tuple | None = None  # (format, TemplateMiner) that numbered `keys`; the worker's own
    generation: int = 0  # bumped by reset: a worker's batch for an older file is dropped
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self, generation: int, keys: list[int], counts: dict[int, int], texts: dict[int, str]) -> bool:
        """A mined batch from the worker; False when the file was replaced meanwhile (the batch is dropped)."""
        with self.lock:
            if generation != self.generation:
                return False
            self.keys.extend(keys)
            self.counts, self.texts = counts, texts
            return True

    def mined(self) -> int:
        with self.lock:
            return len(self.keys)

    def snapshot(self) -> tuple[int, dict[int, int], dict[int, str]]:
        """(lines mined, counts, texts) as of now."""
        with self.lock:
            return len(self.keys), self.counts, self.texts

    def reset(self) -> None:
        """The file was replaced: mining starts over."""
        with self.lock:
            self.keys, self.counts, self.texts, self.miner = [], {}, {}, None
            self.generation += 1

    def pick(self, key: int | None) -> None:
        self.picked, self.shown, self.scanned = key, [], 0
        self.extend_picked()

    def extend_picked(self) -> None:
        """Add the newly mined lines of the picked template to `shown` (only the new ones are scanned)."""
        if self.picked is None:
            return
        with self.lock:
            keys, stop = self.keys, len(self.keys)
            self.shown.extend(i for i in range(self.scanned, stop) if keys[i] == self.picked)
        self.scanned = stop


@dataclass
class TabState:
    search: SearchState = field(default_factory=SearchState)
    filter: FilterState = field(default_factory=FilterState)
    flags: FlagState = field(default_factory=FlagState)
    templates: TemplateState = field(default_factory=TemplateState)
    format: LogFormat | None = None  # the file's format, detected once from its first lines (again when replaced)
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
