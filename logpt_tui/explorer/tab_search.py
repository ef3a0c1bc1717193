"""The prompt of a tab: regex search (n / N repeat it) and include / exclude / level filters (`:` is tab_time.py).
The prompt names what it asks in its label (`search /`, `include`, `exclude`, `go to line or time`, `export`).

A mixin of `LogTab` (logpt_tui/explorer/tab.py), which supplies the source, the view,
`show_rows`, the status bar (its `search` and `filter` fields are set here) and `action_chunk`; its state is
`TabState.search` and `TabState.filter`. Searching and filtering run in thread workers that post messages back; filters apply to
followed lines too. Patterns are `UserRegex`: time-limited, matched without the GIL, over the file's bytes in
large blocks (engine/logs/search.py): the first match from the cursor on is shown as soon as it is found, while
the count grows block by block in the status bar; Esc stops both. A pattern too slow to run over the log is
refused with one line.
"""

from __future__ import annotations

from bisect import bisect_left

from textual import work
from textual.widgets import Input

from engine.errors import InputError
from engine.logs import search as block_search
from engine.logs.linefilter import FILTER_LEVELS, LineFilter
from engine.logs.userregex import UserRegex
from logpt_tui.explorer.handlers import needs_view
from logpt_tui.explorer.messages import FilterProgress, SearchCounted, SearchRefused, SearchResult
from logpt_tui.explorer.state import TabState
from logpt_tui.explorer.status import Part
from logpt_tui.terminal import visible

# What each prompt asks, shown as its label (the border's title) while the user types.
PROMPT_LABELS = {"search": "search /", "include": "include", "exclude": "exclude", "goto": "go to line or time",
                 "export": "export"}  # fmt: skip


class SearchMixin:
    state: TabState

    # ---- the prompt: search, go to line, include / exclude ----

    def action_search(self) -> None:
        self.open_prompt("search", "regex search (Enter to find, Esc to close)")

    def action_include(self) -> None:
        self.open_prompt("include", "show only lines matching this regex (empty: no include filter)")

    def action_exclude(self) -> None:
        self.open_prompt("exclude", "hide lines matching this regex (empty: no exclude filter)")

    @property
    def prompt(self) -> Input:
        return self.query_one("#search", Input)

    def open_prompt(self, mode: str, placeholder: str) -> None:
        self.state.search.prompt_mode = mode
        self.prompt.border_title = PROMPT_LABELS[mode]
        self.prompt.placeholder = placeholder
        self.prompt.value = ""
        self.prompt.add_class("-open")
        self.prompt.focus()

    def close_prompt(self) -> None:
        self.prompt.remove_class("-open")
        self.view.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.close_prompt()
        if self.state.search.prompt_mode == "goto":
            self.goto_line(event.value)
        elif self.state.search.prompt_mode == "export":
            self.export_to(event.value)
        elif self.state.search.prompt_mode in ("include", "exclude"):
            self.set_filter_pattern(self.state.search.prompt_mode, event.value)
        else:
            self.start_search(event.value)

    def start_search(self, text: str) -> None:
        search = self.state.search
        try:
            search.pattern = UserRegex(text, "search", ignore_case=search.ignore_case)
        except InputError as e:
            self.notify(visible(e.message), severity="error", markup=False)
            return
        self.view.pattern = search.pattern
        search.matches, search.counted = [], False
        self.run_search(forward=True, from_current=False)
        self.count_worker(search.pattern)

    def action_toggle_case(self) -> None:
        search = self.state.search
        search.ignore_case = not search.ignore_case
        self.notify("search ignores case" if search.ignore_case else "search is case-sensitive", timeout=2)
        if search.pattern is not None:
            self.start_search(search.pattern.pattern)

    def search_cancel(self) -> bool:
        """Esc while a search or its count runs: stop them; False when none was running."""
        running = [w for w in self.workers if w.group in ("search", "count") and not w.is_finished]
        self.workers.cancel_group(self, "search")
        self.workers.cancel_group(self, "count")
        if running:
            self.notify("search cancelled", timeout=2)
        return bool(running)

    @work(thread=True, exclusive=True, group="count", exit_on_error=False)
    def count_worker(self, pattern: UserRegex) -> None:
        """Count the matching lines block by block (the status bar shows `match 12/340`; `…` while counting)."""
        from textual.worker import get_current_worker  # noqa: PLC0415

        worker, total = get_current_worker(), len(self.source)
        if total == 0:
            self.post_message(SearchCounted(pattern.pattern, [], first=True, done=True))
        try:
            for a, b, found in block_search.scan(self.source, pattern, 0, total, cancelled=lambda: worker.is_cancelled):
                self.post_message(SearchCounted(pattern.pattern, found, first=a == 0, done=b >= total))
        except InputError as e:
            self.post_message(SearchRefused(pattern.pattern, e.message))

    @needs_view
    def on_search_counted(self, message: SearchCounted) -> None:
        search = self.state.search
        if search.pattern is not None and message.pattern == search.pattern.pattern:
            if message.first:  # a new count (the same pattern searched again) starts over
                search.matches = []
            search.matches.extend(message.lines)
            search.counted = message.done
            self.status.search = self.search_part()

    def search_part(self) -> Part:
        """The search's part of the status bar: `/pattern/ match 12/340` (`12/340…` while counting), shortened
        to `12/340`; empty without a search."""
        search = self.state.search
        if search.pattern is None:
            return Part("")
        total = f"{len(search.matches):,}{'' if search.counted else '…'}"
        current = self.view.current
        k = bisect_left(search.matches, current) if current is not None else len(search.matches)
        at = k + 1 if current is not None and k < len(search.matches) and search.matches[k] == current else "–"
        case = "" if search.ignore_case else " (case)"
        return Part(f"/{search.pattern.pattern}/{case} match {at}/{total}", 1, f"{at}/{total}")

    # ---- search: regex, in a worker; n / N repeat it ----

    def action_next(self) -> None:
        """`n`: the next match while a search is active (Esc ends it), else the next chunk."""
        if self.state.search.pattern is not None:
            self.run_search(forward=True, from_current=True)
        else:
            self.action_chunk(1)

    def action_search_previous(self) -> None:
        self.run_search(forward=False, from_current=True)

    def run_search(self, *, forward: bool, from_current: bool) -> None:
        if self.state.search.pattern is None:
            self.notify("press / to search first")
            return
        view = self.view  # from the cursor: a new search may find its line, n / N go past it
        if view.current is None:
            start = max(0, self.anchor_line())
        else:
            start = view.current + ((1 if forward else -1) if from_current else 0)
        self.search_worker(self.state.search.pattern, start, forward)

    @work(thread=True, exclusive=True, group="search", exit_on_error=False)
    def search_worker(self, pattern: UserRegex, start: int, forward: bool) -> None:
        from textual.worker import get_current_worker  # noqa: PLC0415

        worker = get_current_worker()
        try:
            line = block_search.find(self.source, pattern, start, forward=forward, cancelled=lambda: worker.is_cancelled)
        except InputError as e:
            self.post_message(SearchRefused(pattern.pattern, e.message))
            return
        if not worker.is_cancelled:
            self.post_message(SearchResult(pattern.pattern, line))

    @needs_view
    def on_search_refused(self, message: SearchRefused) -> None:
        """A pattern too slow for the log: the search (or the filter) ends, with one line why (once, though both
        search workers stop)."""
        search = self.state.search
        if message.filter:
            self.apply_filter(LineFilter())
            self.notify(visible(message.reason), severity="error", timeout=8, markup=False)
            return
        if search.pattern is None or search.pattern.pattern != message.pattern:
            return
        self.workers.cancel_group(self, "search")
        self.workers.cancel_group(self, "count")
        search.pattern = self.view.pattern = None
        self.view.refresh()
        self.notify(visible(message.reason), severity="error", timeout=8, markup=False)
        self.status.search = self.search_part()

    @needs_view
    def on_search_result(self, message: SearchResult) -> None:
        if message.line is None:
            self.notify(visible(f"no line matches /{message.pattern}/"), severity="warning", markup=False)
            return
        self.view.show_line(message.line)
        self.status.search = self.search_part()  # the match the cursor is on

    # ---- filters: include / exclude regex and a minimum level, applied to followed lines too ----

    def action_level(self) -> None:
        level = FILTER_LEVELS[(FILTER_LEVELS.index(self.state.filter.rule.min_level) + 1) % len(FILTER_LEVELS)]
        self.apply_filter(LineFilter(self.state.filter.rule.include, self.state.filter.rule.exclude, level))

    def set_filter_pattern(self, which: str, value: str) -> None:
        try:
            pattern = UserRegex(value, f"{which} filter") if value else None
        except InputError as e:
            self.notify(visible(e.message), severity="error", markup=False)
            return
        include = pattern if which == "include" else self.state.filter.rule.include
        exclude = pattern if which == "exclude" else self.state.filter.rule.exclude
        self.apply_filter(LineFilter(include, exclude, self.state.filter.rule.min_level))

    def apply_filter(self, line_filter: LineFilter) -> None:
        state = self.state.filter
        self.workers.cancel_group(self, "filter")
        with state.lock:
            state.rule, state.rows, state.upto = line_filter, [], 0
        self.show_rows()
        if line_filter.active:
            self.filter_worker(line_filter, state.rows)

    @work(thread=True, exclusive=True, group="filter", exit_on_error=False)
    def filter_worker(self, line_filter: LineFilter, rows: list[int]) -> None:
        from textual.worker import get_current_worker  # noqa: PLC0415

        worker, state, step = get_current_worker(), self.state.filter, block_search.block_lines(self.source)
        while not worker.is_cancelled and rows is state.rows:
            start = state.upto
            stop = min(start + step, len(self.source))
            if start >= stop:
                return
            try:
                found = line_filter.scan_source(self.source, start, stop, lambda: worker.is_cancelled)
            except InputError as e:
                self.post_message(SearchRefused("", e.message, filter=True))
                return
            with state.lock:  # one block at a time: a replaced worker may have done this one meanwhile
                if worker.is_cancelled or rows is not state.rows or state.upto != start:
                    continue
                rows.extend(found)
                state.upto = stop
            self.post_message(FilterProgress(stop))

    @needs_view
    def on_filter_progress(self, _message: FilterProgress) -> None:
        self.view.rows_grew()
        self.status.filter = self.filter_part()
        self.update_minimap()

    def filter_part(self) -> Part:
        """The filter's part of the status bar: `filter <rule>: N shown` (shortened to `filter: N shown`)."""
        state = self.state.filter
        if not state.rule.active:
            return Part("")
        return Part(f"filter {state.rule.describe()}: {len(state.rows):,} shown", 1, f"filter: {len(state.rows):,} shown")
