"""`logpt-tui FILE`: the Textual log explorer.

This version opens one file at its end, indexes it in a worker with progress
in the status bar, renders only visible lines, and follows the file as it
grows, is truncated or rotated: a watchdog observer reports changes at once
(its thread only posts a message), and a slower poll catches what it misses
(network filesystems, observers that fail to start). `f` toggles following;
`/` searches by regex in a worker, `n`/`N` repeat it; `?` shows the keys.

Chunks: once the analysis model has loaded (in a worker: the explorer opens
without torch), the file is planned into chunks that fit its context, in a
worker, from the start; `]`/`[` (and `p`) move between them and the status
bar shows `chunk k/N`. `s`, `r`, `a` stream a summary, root cause or action
items for the current chunk into the side panel; `Esc` cancels; replies are
kept per chunk and query; `c` copies the panel, `w` saves it as Markdown.
"""

from __future__ import annotations

import os
import re
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer, Input, Markdown, Static

from engine.chunkplan import ChunkPlan
from engine.errors import InputError, LogptError
from engine.linefilter import FILTER_LEVELS, LineFilter
from engine.logsource import LogSource
from logpt_tui.analysis import Backend, ModelBackend, Reply
from logpt_tui.flags import Flag, FlagEngine
from logpt_tui.follow import CLEANUPS, spool_stdin, watch_file
from logpt_tui.messages import (
    AnalysisDone,
    AnalysisPiece,
    BackendReady,
    ChunksPlanned,
    FileTouched,
    FilterProgress,
    FlagsFound,
    FlagStatus,
    IndexProgress,
    SearchResult,
    SourceChanged,
    TemplatesMined,
)
from logpt_tui.screens import HelpScreen, TemplatesScreen
from logpt_tui.widgets.log_view import LogView


def needs_view(handler: Callable) -> Callable:
    """For handlers of worker messages: those can arrive while the app shuts down, when there is no view left."""

    def guarded(self: LogptApp, message: object) -> None:
        if self.query(LogView):
            handler(self, message)

    guarded.__name__ = handler.__name__
    guarded.__doc__ = handler.__doc__
    return guarded


POLL_SECONDS = 1.0  # the fallback when file events do not arrive
PLAN_BATCH = 20_000  # lines per chunk-planning step
QUERY_TITLES = {"summary": "Summary", "root_cause": "Root cause", "action_items": "Action items"}
DEFAULT = object()  # backend: the registry's default model; flags: a detector cached or trained for the file


class LogptApp(App[None]):
    TITLE = "logpt"
    AUTO_FOCUS = "#log"
    CSS = """
    LogView { height: 1fr; width: 1fr; }
    #panel { width: 45%; display: none; border-left: solid $accent; padding: 0 1; }
    #panel.-open { display: block; }
    #panel-head { height: auto; color: $text-muted; }
    #panel-body { height: 1fr; overflow-y: auto; }
    #status { height: 1; background: $panel; color: $text; padding: 0 1; }
    #search { dock: bottom; display: none; }
    #search.-open { display: block; }
    """
    BINDINGS = [
        Binding("q", "quit", "Quit"),
        Binding("f", "toggle_follow", "Follow"),
        Binding("g", "top", "Top"),
        Binding("G", "bottom", "Bottom"),
        Binding("slash", "search", "Search"),
        Binding("colon", "goto", "Go to line", show=False),
        Binding("i", "include", "Include", show=False),
        Binding("x", "exclude", "Exclude", show=False),
        Binding("L", "level", "Min level", show=False),
        Binding("e", "flag(1)", "Next flag"),
        Binding("E", "flag(-1)", "Prev flag", show=False),
        Binding("F", "flagged_only", "Flagged only", show=False),
        Binding("y", "why", "Why", show=False),
        Binding("t", "templates", "Templates"),
        Binding("n", "search_next", "Next", show=False),
        Binding("N", "search_previous", "Previous", show=False),
        Binding("question_mark", "help", "Keys"),
        Binding("right_square_bracket", "chunk(1)", "Next chunk"),
        Binding("left_square_bracket", "chunk(-1)", "Prev chunk"),
        Binding("p", "chunk(-1)", "Prev chunk", show=False),
        Binding("s", "analyze('summary')", "Summary"),
        Binding("r", "analyze('root_cause')", "Root cause"),
        Binding("a", "analyze('action_items')", "Actions"),
        Binding("escape", "cancel", "Cancel", show=False),
        Binding("c", "copy_panel", "Copy", show=False),
        Binding("w", "save_panel", "Save", show=False),
    ]

    def __init__(
        self,
        path: Path,
        *,
        poll_seconds: float = POLL_SECONDS,
        name: str | None = None,
        backend: object = DEFAULT,
        flags: object = DEFAULT,
    ) -> None:
        super().__init__()
        self.path = path
        self.display_name = name or str(path)
        self.source = LogSource(path)
        self.poll_seconds = poll_seconds
        self.new_since_scroll = 0
        self.indexing = ""
        self._observer: object | None = None
        self.pattern: re.Pattern[str] | None = None
        self.prompt_mode = "search"  # what the bottom input box is for: search, goto, include, exclude
        self.filter = LineFilter()
        self.filter_rows: list[int] = []  # lines the filter passed so far
        self.filtered_upto = 0  # lines the filter has looked at
        self.filter_lock = threading.Lock()
        self.flag_engine: FlagEngine | None = FlagEngine(path) if flags is DEFAULT else flags  # type: ignore[assignment]
        self.flags: dict[int, Flag] = {}  # 0-based line → why it was flagged
        self.flag_lines: list[int] = []  # the same lines, ascending
        self.flags_upto = 0  # lines judged
        self.detector_state = "detector: starting" if self.flag_engine is not None else ""
        self.flagged_only = False
        self.template_keys: list[int] = []  # the template key of every mined line, 0-based
        self.template_counts: dict[int, int] = {}
        self.template_texts: dict[int, str] = {}
        self.template_filter: int | None = None  # show only lines of this template
        self.template_shown: list[int] = []  # its lines, 0-based, as far as template_scanned
        self.template_scanned = 0
        self.mining = False
        self.view_miner: tuple | None = None  # (format, TemplateMiner) that numbered template_keys
        self.backend: Backend | None = ModelBackend() if backend is DEFAULT else backend  # type: ignore[assignment]
        self.model_state = "loading model…" if self.backend is not None else "no model"
        self.plan: ChunkPlan | None = None
        self.replies: dict[tuple[int, str], Reply] = {}  # (chunk's first line, query) → reply
        self.running: tuple[int, str] | None = None  # the analysis streaming now
        self.stream_text = ""
        self.shown: tuple[int, str] | None = None  # the reply in the panel

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield LogView(self.source, id="log")
            with Vertical(id="panel"):
                yield Static(id="panel-head")
                yield Markdown(id="panel-body")
        yield Input(placeholder="regex search (Enter to find, Esc to close)", id="search")
        yield Static(id="status")
        yield Footer()

    @property
    def view(self) -> LogView:
        return self.query_one(LogView)

    def on_mount(self) -> None:
        self.update_status()
        self.index_file()
        if self.backend is not None:
            self.load_backend()

    @work(thread=True, exclusive=True, group="source")
    def index_file(self) -> None:
        added = self.source.index(lambda done, total: self.post_message(IndexProgress(done, total)))
        self.post_message(SourceChanged("indexed", added))

    @work(thread=True, exclusive=True, group="source")
    def poll_file(self) -> None:
        change = self.source.refresh()
        if change.kind != "none":
            self.post_message(SourceChanged(change.kind, change.new_lines))

    @needs_view
    def on_index_progress(self, message: IndexProgress) -> None:
        self.indexing = f"indexing {message.done * 100 // max(message.total, 1)}%"
        self.update_status()

    @needs_view
    def on_source_changed(self, message: SourceChanged) -> None:
        if message.kind == "indexed":
            self.indexing = ""
            if self.flag_engine is not None:
                self.flag_worker()
            self.set_interval(self.poll_seconds, self.poll_file)
            self._observer = watch_file(self.path, lambda: self.post_message(FileTouched()))
        if message.kind in ("truncated", "rotated"):
            self.new_since_scroll = 0
            if self.filter.active:
                self.apply_filter(self.filter)
        elif self.filter.active and message.kind == "grown":
            self.filter_worker(self.filter, self.filter_rows)
        if message.kind == "grown" and self.flag_engine is not None and self.flag_engine.detector is not None:
            self.flag_tail_worker()
        if message.kind in ("truncated", "rotated"):
            self.template_keys = []
            if self.template_filter is not None:
                self.pick_template(None)
        elif message.kind == "grown" and self.template_keys and not self.mining:
            self.mine_worker()
            if self.plan is not None:
                self.plan.reset()
                self.replies.clear()
        if self.plan is not None and message.kind in ("indexed", "grown", "truncated", "rotated"):
            self.plan_chunks()
        if not self.view.follow:
            self.new_since_scroll += message.new_lines
        self.view.source_changed(message.kind)
        if message.kind in ("truncated", "rotated", "deleted"):
            self.notify(f"{self.path.name} was {message.kind}", timeout=3)
        self.update_status()

    @needs_view
    def on_file_touched(self, _message: FileTouched) -> None:
        self.poll_file()

    def update_status(self) -> None:
        parts = [self.display_name, f"{len(self.source):,} lines"]
        if self.indexing:
            parts.append(self.indexing)
        parts.append("following" if self.view.follow else "paused")
        if self.new_since_scroll and not self.view.follow:
            parts.append(f"+{self.new_since_scroll:,} new")
        k = self.current_chunk()
        if self.plan is not None and len(self.plan):
            more = "+" if self.plan.planned < len(self.source) else ""
            parts.append(f"chunk {k + 1 if k is not None else '–'}/{len(self.plan):,}{more}")
        if self.filter.active:
            parts.append(f"filter {self.filter.describe()}: {len(self.filter_rows):,} shown")
        if self.template_filter is not None:
            parts.append(f"template {self.template_filter}: {self.view.row_count:,} lines")
        if self.detector_state:
            parts.append(self.detector_state)
        parts.append(self.model_state)
        self.query_one("#status", Static).update(" · ".join(parts))

    def action_toggle_follow(self) -> None:
        self.view.follow = not self.view.follow
        if self.view.follow:
            self.new_since_scroll = 0
            self.view.scroll_end(animate=False)
        self.update_status()

    # ---- search: regex, in a worker, n / N to repeat ----

    def action_search(self) -> None:
        self.open_prompt("search", "regex search (Enter to find, Esc to close)")

    def action_goto(self) -> None:
        self.open_prompt("goto", "go to line number (Enter to jump, Esc to close)")

    def open_prompt(self, mode: str, placeholder: str) -> None:
        box = self.query_one("#search", Input)
        self.prompt_mode = mode
        box.placeholder = placeholder
        box.value = ""
        box.add_class("-open")
        box.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        box = self.query_one("#search", Input)
        box.remove_class("-open")
        self.view.focus()
        if self.prompt_mode == "goto":
            self.goto_line(event.value)
            return
        if self.prompt_mode in ("include", "exclude"):
            self.set_filter_pattern(self.prompt_mode, event.value)
            return
        try:
            self.pattern = re.compile(event.value)
        except re.error as e:
            self.notify(f"bad regex: {e}", severity="error")
            return
        self.run_search(forward=True, from_current=False)

    def on_key(self, event: object) -> None:
        box = self.query_one("#search", Input)
        if getattr(event, "key", "") == "escape" and box.has_class("-open"):
            box.remove_class("-open")
            self.view.focus()

    # ---- filters: include / exclude regex and a minimum level, applied to followed lines too ----

    def action_include(self) -> None:
        self.open_prompt("include", "show only lines matching this regex (empty: no include filter)")

    def action_exclude(self) -> None:
        self.open_prompt("exclude", "hide lines matching this regex (empty: no exclude filter)")

    def action_level(self) -> None:
        level = FILTER_LEVELS[(FILTER_LEVELS.index(self.filter.min_level) + 1) % len(FILTER_LEVELS)]
        self.apply_filter(LineFilter(self.filter.include, self.filter.exclude, level))

    def set_filter_pattern(self, which: str, value: str) -> None:
        try:
            pattern = re.compile(value) if value else None
        except re.error as e:
            self.notify(f"bad regex: {e}", severity="error")
            return
        include = pattern if which == "include" else self.filter.include
        exclude = pattern if which == "exclude" else self.filter.exclude
        self.apply_filter(LineFilter(include, exclude, self.filter.min_level))

    def apply_filter(self, line_filter: LineFilter) -> None:
        self.filter = line_filter
        self.workers.cancel_group(self, "filter")
        with self.filter_lock:
            self.filter_rows, self.filtered_upto = [], 0
        self.view.set_rows(self.filter_rows if line_filter.active else None)
        if line_filter.active:
            self.filter_worker(line_filter, self.filter_rows)
        self.update_status()

    @work(thread=True, exclusive=True, group="filter")
    def filter_worker(self, line_filter: LineFilter, rows: list[int]) -> None:
        from textual.worker import get_current_worker  # noqa: PLC0415

        worker = get_current_worker()
        while not worker.is_cancelled and rows is self.filter_rows:
            with self.filter_lock:  # one batch at a time: a replaced worker may still be finishing one
                start = self.filtered_upto
                stop = min(start + PLAN_BATCH, len(self.source))
                if start >= stop or rows is not self.filter_rows:
                    return
                rows.extend(line_filter.scan(self.source.block(start, stop), start))
                self.filtered_upto = stop
            self.post_message(FilterProgress(stop))

    @needs_view
    def on_filter_progress(self, _message: FilterProgress) -> None:
        self.view.rows_grew()
        self.update_status()

    def goto_line(self, value: str) -> None:
        try:
            number = int(value.strip().replace(",", ""))
        except ValueError:
            self.notify(f"not a line number: {value!r}", severity="error")
            return
        if len(self.source) == 0:
            return
        self.view.show_line(max(1, min(number, len(self.source))) - 1)
        self.update_status()

    def action_search_next(self) -> None:
        self.run_search(forward=True, from_current=True)

    def action_search_previous(self) -> None:
        self.run_search(forward=False, from_current=True)

    def run_search(self, *, forward: bool, from_current: bool) -> None:
        if self.pattern is None:
            self.notify("press / to search first")
            return
        view = self.view
        if from_current and view.current is not None:
            start = view.current + (1 if forward else -1)
        else:
            start = int(view.scroll_offset.y)
        self.search_worker(self.pattern, start, forward)

    @work(thread=True, exclusive=True, group="search")
    def search_worker(self, pattern: re.Pattern[str], start: int, forward: bool) -> None:
        from textual.worker import get_current_worker  # noqa: PLC0415

        worker = get_current_worker()
        line = self.source.find(pattern, start, forward=forward, cancelled=lambda: worker.is_cancelled)
        if not worker.is_cancelled:
            self.post_message(SearchResult(pattern.pattern, line))

    @needs_view
    def on_search_result(self, message: SearchResult) -> None:
        if message.line is None:
            self.notify(f"no line matches /{message.pattern}/", severity="warning")
            return
        self.view.show_line(message.line)
        self.update_status()

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    # ---- anomaly flags: a detector for this file, in workers ----

    @work(thread=True, exclusive=True, group="flags")
    def flag_worker(self) -> None:
        engine = self.flag_engine
        assert engine is not None
        total = len(self.source)
        try:
            history = self.source.block(0, min(total, 200_000))
            engine.prepare(history, on_progress=lambda text: self.post_message(FlagStatus(f"detector: {text}")))
        except InputError:  # too little history to learn from: say so in the status bar only
            self.post_message(FlagStatus("no detector: too little history"))
            return
        except LogptError as e:
            self.post_message(FlagStatus(f"no detector: {e.message}", failed=True))
            return
        # The visible region first, then the rest of the file from its end backwards.
        view_line = max(0, self.anchor_line())
        blocks = [(max(0, view_line - PLAN_BATCH // 2), min(total, view_line + PLAN_BATCH // 2))]
        start = blocks[0][0]
        while start > 0:
            blocks.append((max(0, start - PLAN_BATCH), start))
            start = blocks[-1][0]
        if blocks[0][1] < total:
            blocks.append((blocks[0][1], total))
        for a, b in blocks:
            self.post_message(FlagsFound(a + 1, b + 1, engine.judge(self.source.block(a, b), a + 1)))
        self.post_message(FlagStatus(""))  # done: the status shows the count

    @work(thread=True, exclusive=True, group="flags-tail")
    def flag_tail_worker(self) -> None:
        engine = self.flag_engine
        assert engine is not None and engine.detector is not None
        total = len(self.source)
        if total <= self.flags_upto:
            return
        context = max(0, self.flags_upto - 200)  # earlier lines give sessions and windows their start
        flags = [f for f in engine.judge(self.source.block(context, total), context + 1) if f.line > self.flags_upto]
        self.post_message(FlagsFound(self.flags_upto + 1, total + 1, flags))

    @needs_view
    def on_flag_status(self, message: FlagStatus) -> None:
        engine = self.flag_engine
        done = not message.text and engine is not None
        self.detector_state = f"{len(self.flags):,} flagged ({engine.source})" if done else message.text
        if message.failed:
            self.notify(message.text, severity="warning", timeout=5)
        self.update_status()

    @needs_view
    def on_flags_found(self, message: FlagsFound) -> None:
        for line in [k for k in self.flags if message.first - 1 <= k < message.stop - 1]:
            del self.flags[line]
        for flag in message.flags:
            self.flags[flag.line - 1] = flag
        self.flags_upto = max(self.flags_upto, message.stop - 1)
        self.flag_lines = sorted(self.flags)
        self.view.flagged = set(self.flags)
        if self.flagged_only:
            self.view.set_rows(self.flag_lines)
        self.view.refresh()
        if self.detector_state.endswith(")"):  # a count is shown: keep it current
            self.detector_state = f"{len(self.flags):,} flagged ({self.flag_engine.source})"  # type: ignore[union-attr]
        self.update_status()

    def action_flag(self, step: int) -> None:
        if not self.flag_lines:
            self.notify("no flagged lines (yet)", timeout=2)
            return
        here = self.anchor_line()
        if step > 0:
            later = [line for line in self.flag_lines if line > here]
            target = later[0] if later else self.flag_lines[0]
        else:
            earlier = [line for line in self.flag_lines if line < here]
            target = earlier[-1] if earlier else self.flag_lines[-1]
        self.view.show_line(target)
        self.show_why(target)
        self.update_status()

    def action_flagged_only(self) -> None:
        self.flagged_only = not self.flagged_only
        self.view.set_rows(self.flag_lines if self.flagged_only else (self.filter_rows if self.filter.active else None))
        self.update_status()

    def action_why(self) -> None:
        line = self.view.current if self.view.current is not None else self.anchor_line()
        self.show_why(line)

    def show_why(self, line: int) -> None:
        flag = self.flags.get(line)
        self.shown = None
        self.query_one("#panel").add_class("-open")
        if flag is None:
            body = f"Line {line + 1} is not flagged."
        else:
            expected = "\n".join(f"- `{t}`" for t in flag.expected) or "- (nothing: the session was new)"
            body = (f"## Why line {flag.line} is flagged\n\n**Template:** `{flag.template}`\n\n"
                    f"**Verdict:** {flag.reason}\n\n### The model expected\n{expected}")  # fmt: skip
        self.query_one("#panel-head", Static).update(f"[b]Anomaly[/b] · {self.detector_state}")
        self.query_one("#panel-body", Markdown).update(body)

    # ---- templates: mined in a worker; pick one to show only its lines ----

    def action_templates(self) -> None:
        if not self.mining and len(self.template_keys) < len(self.source):
            self.mine_worker()
        self.push_screen(TemplatesScreen(self), self.pick_template)

    @work(thread=True, exclusive=True, group="mine")
    def mine_worker(self) -> None:
        from engine.formats import detect_format, parse_lines  # noqa: PLC0415
        from engine.templates import TemplateMiner  # noqa: PLC0415

        self.mining = True
        try:
            if self.view_miner is None or not self.template_keys:  # first run, or the file was replaced
                self.view_miner = (detect_format(self.source.block(0, 200)).format, TemplateMiner())
            fmt, miner = self.view_miner
            while len(self.template_keys) < len(self.source):
                start = len(self.template_keys)
                lines = self.source.block(start, min(start + PLAN_BATCH, len(self.source)))
                keys = [miner.add(r.message) for r in parse_lines(lines, fmt, first_line=start + 1, multiline=False)]
                self.template_keys.extend(keys)
                self.template_counts = dict(miner.counts)
                self.template_texts = {t.key: t.text for t in miner.templates()}
                self.post_message(TemplatesMined(len(self.template_keys)))
        finally:
            self.mining = False

    @needs_view
    def on_templates_mined(self, message: TemplatesMined) -> None:
        if self.template_filter is not None:
            self.extend_template_rows()
            self.view.rows_grew()
        for screen in self.screen_stack:
            if isinstance(screen, TemplatesScreen):
                screen.refresh_table()
        self.update_status()

    def extend_template_rows(self) -> None:
        """Add the newly mined lines of the picked template to the rows shown (only the new ones are scanned)."""
        keys, key = self.template_keys, self.template_filter
        stop = len(keys)
        self.template_shown.extend(i for i in range(self.template_scanned, stop) if keys[i] == key)
        self.template_scanned = stop

    def pick_template(self, key: int | None) -> None:
        self.template_filter = key
        if key is None:
            self.view.set_rows(self.filter_rows if self.filter.active else None)
        else:
            self.view.follow = False
            self.template_shown, self.template_scanned = [], 0
            self.extend_template_rows()
            self.view.set_rows(self.template_shown)
            self.view.scroll_home(animate=False)
        self.update_status()

    # ---- the model and chunks ----

    @work(thread=True, exclusive=True, group="backend")
    def load_backend(self) -> None:
        try:
            load = getattr(self.backend, "load", None)
            if load is not None:
                load()
        except LogptError as e:
            self.post_message(BackendReady(e.message))
            return
        self.post_message(BackendReady())

    @needs_view
    def on_backend_ready(self, message: BackendReady) -> None:
        if message.error is not None or self.backend is None:
            self.model_state = "no model"
            self.notify(f"analysis unavailable: {message.error}", severity="warning", timeout=6)
        else:
            self.model_state = f"{self.backend.name} · {self.backend.device}"
            self.plan = ChunkPlan(self.backend.count_batch, self.backend.budget)
            self.plan_chunks()
        self.update_status()

    @work(thread=True, exclusive=True, group="plan")
    def plan_chunks(self) -> None:
        from textual.worker import get_current_worker  # noqa: PLC0415

        worker, plan = get_current_worker(), self.plan
        assert plan is not None
        while not worker.is_cancelled and plan.planned < len(self.source):
            # The last line may still be growing: plan it once a newer line exists.
            stop = min(plan.planned + PLAN_BATCH, len(self.source))
            plan.extend(self.source.block(plan.planned, stop))
            self.post_message(ChunksPlanned(plan.planned))

    @needs_view
    def on_chunks_planned(self, _message: ChunksPlanned) -> None:
        self.view.chunk_span = self.chunk_span()
        self.update_status()

    def anchor_line(self) -> int:
        """The line that decides the current chunk: the highlighted one, else the middle of the view."""
        view = self.view
        if view.current is not None:
            return view.current
        row = min(view.row_count - 1, int(view.scroll_offset.y) + max(0, view.size.height // 2))
        line = view.line_of_row(row)
        return line if line is not None else -1

    def current_chunk(self) -> int | None:
        return None if self.plan is None else self.plan.chunk_of(self.anchor_line())

    def chunk_span(self) -> tuple[int, int] | None:
        k = self.current_chunk()
        return None if k is None or self.plan is None else self.plan.span(k)

    def action_chunk(self, step: int) -> None:
        k = self.current_chunk()
        if self.plan is None or k is None:
            self.notify("chunks appear once the model has loaded", timeout=3)
            return
        target = max(0, min(len(self.plan) - 1, k + step))
        self.view.show_line(self.plan.span(target)[0])
        self.view.chunk_span = self.plan.span(target)
        self.update_status()
        if self.shown is not None:
            self.show_reply(self.plan.starts[target], self.shown[1])

    @needs_view
    def on_log_view_scrolled(self, _message: object) -> None:
        self.view.chunk_span = self.chunk_span()
        self.update_status()

    # ---- analysis: s / r / a, streamed into the panel ----

    def action_analyze(self, query: str) -> None:
        k = self.current_chunk()
        if self.backend is None or self.plan is None or k is None:
            self.notify(f"no analysis yet: {self.model_state}", timeout=3)
            return
        start, stop = self.plan.span(k)
        key = (start, query)
        self.query_one("#panel").add_class("-open")
        if key in self.replies:
            self.show_reply(*key)
            return
        if self.running is not None:
            self.notify("an analysis is running; Esc cancels it", timeout=3)
            return
        self.running, self.shown, self.stream_text = key, key, ""
        self.render_panel()
        self.analysis_worker(key, start, stop)

    @work(thread=True, exclusive=True, group="analysis")
    def analysis_worker(self, key: tuple[int, str], start: int, stop: int) -> None:
        import time  # noqa: PLC0415

        from textual.worker import get_current_worker  # noqa: PLC0415

        from engine.digest import build_digest  # noqa: PLC0415
        from engine.grounding import check_grounding  # noqa: PLC0415

        worker, backend = get_current_worker(), self.backend
        assert backend is not None
        lines = self.source.block(start, stop)
        text = "\n".join(lines)
        flagged = {line + 1: self.flags[line].reason for line in range(start, stop) if line in self.flags}
        digest = build_digest(lines, first_line=start + 1, flagged=flagged)
        pieces: list[str] = []
        t0 = time.perf_counter()
        try:
            for piece in backend.stream(text, start + 1, key[1], digest, lambda: worker.is_cancelled):
                pieces.append(piece)
                self.post_message(AnalysisPiece(key, piece))
        except LogptError as e:
            self.post_message(AnalysisDone(key, e.message))
            return
        reply_text = "".join(pieces)
        seconds = time.perf_counter() - t0
        tokens = getattr(backend, "last_tokens", 0) or len(pieces)
        rate = getattr(backend, "last_rate", 0.0) or (tokens / seconds if seconds else 0.0)
        grounding = check_grounding(reply_text, [text, digest.render()])
        reply = Reply(key[1], start + 1, start + len(lines), reply_text, tokens, rate, grounding.ungrounded,
                      cancelled=worker.is_cancelled)  # fmt: skip
        self.post_message(AnalysisDone(key, reply))

    @needs_view
    def on_analysis_piece(self, message: AnalysisPiece) -> None:
        if message.key == self.running:
            self.stream_text += message.text
            if message.key == self.shown:
                self.render_panel()

    @needs_view
    def on_analysis_done(self, message: AnalysisDone) -> None:
        self.running = None
        if isinstance(message.reply, str):
            self.notify(f"analysis failed: {message.reply}", severity="error")
            return
        reply: Reply = message.reply  # type: ignore[assignment]
        if not reply.cancelled:
            self.replies[message.key] = reply
        self.stream_text = reply.text
        self.render_panel(reply)

    def show_reply(self, start: int, query: str) -> None:
        self.shown = (start, query)
        reply = self.replies.get(self.shown)
        self.stream_text = reply.text if reply else ""
        self.render_panel(reply)

    def render_panel(self, reply: Reply | None = None) -> None:
        if self.shown is None:
            return
        start, query = self.shown
        k = self.plan.chunk_of(start) if self.plan else None
        head = f"[b]{QUERY_TITLES[query]}[/b] · chunk {k + 1 if k is not None else '?'} · {self.model_state}"
        body = self.stream_text
        if reply is None and self.running == self.shown:
            head += " · generating… (Esc cancels)"
        elif reply is not None:
            head += (
                f"\nlines {reply.first_line}–{reply.last_line} · {reply.tokens} tokens · {reply.tokens_per_s:.1f} tok/s"
            )
            if reply.cancelled:
                head += " · [yellow]cancelled[/yellow]"
            if reply.ungrounded:
                shown = ", ".join(dict.fromkeys(reply.ungrounded))
                body += f"\n\n> ⚠ **Not grounded** (in neither the chunk nor its facts): {shown}"
        elif not body:
            body = "_No reply for this chunk yet: press s, r or a._"
        self.query_one("#panel-head", Static).update(head)
        self.query_one("#panel-body", Markdown).update(body)

    def action_cancel(self) -> None:
        if self.running is not None:
            self.workers.cancel_group(self, "analysis")
        else:
            self.query_one("#panel").remove_class("-open")

    def panel_markdown(self) -> str | None:
        if self.shown is None or self.shown not in self.replies:
            return None
        reply = self.replies[self.shown]
        return f"<!-- {self.display_name} lines {reply.first_line}-{reply.last_line} · {self.model_state} -->\n{reply.text}\n"

    def action_copy_panel(self) -> None:
        text = self.panel_markdown()
        if text is None:
            self.notify("nothing to copy yet", timeout=2)
            return
        self.copy_to_clipboard(text)
        self.notify("copied the reply as Markdown", timeout=2)

    def action_save_panel(self) -> None:
        text = self.panel_markdown()
        if text is None or self.shown is None:
            self.notify("nothing to save yet", timeout=2)
            return
        reply = self.replies[self.shown]
        target = (
            Path.cwd() / f"{Path(self.display_name).name}.lines-{reply.first_line}-{reply.last_line}.{reply.query}.md"
        )
        try:
            target.write_text(text, encoding="utf-8")
        except OSError as e:
            self.notify(f"cannot save: {e}", severity="error")
            return
        self.notify(f"saved {target}", timeout=3)

    def action_top(self) -> None:
        self.view.follow = False
        self.view.scroll_home(animate=False)
        self.update_status()

    def action_bottom(self) -> None:
        self.view.scroll_end(animate=False)

    def on_unmount(self) -> None:
        if self._observer is not None:
            self._observer.stop()  # type: ignore[attr-defined]
        self.source.close()


def main(argv: list[str] | None = None) -> None:
    """Entry point of `logpt-tui FILE` (or `cmd | logpt-tui -`)."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or args[0] in ("-h", "--help"):
        print("usage: logpt-tui FILE | cmd | logpt-tui -\n\nOpen a log in the logpt explorer (q quits, ? lists keys).")
        sys.exit(0 if args and args[0] in ("-h", "--help") else 2)
    try:
        path = spool_stdin() if args[0] == "-" else Path(args[0])
        app = LogptApp(path, name="stdin" if args[0] == "-" else None)
    except LogptError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
    try:
        app.run()
    finally:
        for cleanup in CLEANUPS:
            cleanup()
    # Leave now: background workers (a model loading, a detector training) run in executor threads
    # that the interpreter would otherwise wait for; the screen is already restored.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(app.return_code or 0)


if __name__ == "__main__":
    main()
