"""One open file in the explorer: its view, minimap, side panel, prompt and status bar, and its workers.

The tab indexes the file in a worker (progress in the status bar), renders
only visible lines, and follows the file as it grows, is truncated or
rotated: a watchdog observer reports changes at once (its thread only posts a
message) and a slower poll catches what it misses. Searching, filtering,
template mining, anomaly flagging and chunk planning run in thread workers
that post messages back; the UI thread only applies them. The analysis model
is the app's (shared by all tabs) and arrives through `model_ready`. The
prompt with search and filters (tab_search.py), the anomaly flags
(tab_flags.py) and the templates view (tab_templates.py) are mixins of the
tab, each in its own module, as are time (tab_time.py: `:` to a time, the span on screen) and marks and
export (tab_marks.py), the record pane (tab_record.py) and chunks and analysis (tab_chunks.py); all of
them keep their state in one `TabState` (state.py) and use of the tab only what `TabHost` (host.py) names. The keys act on the view's cursor (the highlighted
line, widgets/cursor.py), whose line and chunk the status bar shows. The status bar (widgets/status_bar.py) holds
typed reactive fields: the tab's `indexing` and `model_state` are bound to it, the view's cursor, following, wrap
and rows are watched, and each concern sets its own field where its state changes; the bar re-renders itself.
"""

from __future__ import annotations

from pathlib import Path

from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.widgets import Input
from textual.worker import Worker, WorkerState

from engine.logs.linesource import LineSource
from engine.logs.merged import MergedSource
from logpt_tui.explorer.backend import Backend
from logpt_tui.explorer.flagset import FlagEngine
from logpt_tui.explorer.follow import watch_file
from logpt_tui.explorer.handlers import needs_view
from logpt_tui.explorer.keys import bindings
from logpt_tui.explorer.messages import (
    FileTouched,
    FormatDetected,
    IndexProgress,
    SourceChanged,
)
from logpt_tui.explorer.redis_stream import ORIGINS
from logpt_tui.explorer.settings import POLL_SECONDS, PREVIEW_ABOVE_BYTES
from logpt_tui.explorer.state import FlagState, TabState
from logpt_tui.explorer.tab_chunks import ChunksMixin
from logpt_tui.explorer.tab_flags import FlagsMixin
from logpt_tui.explorer.tab_marks import MarksMixin
from logpt_tui.explorer.tab_record import RecordMixin
from logpt_tui.explorer.tab_search import SearchMixin
from logpt_tui.explorer.tab_templates import TemplatesMixin
from logpt_tui.explorer.tab_time import TimeMixin
from logpt_tui.explorer.widgets.analysis_panel import AnalysisPanel
from logpt_tui.explorer.widgets.log_view import LogView
from logpt_tui.explorer.widgets.minimap import Minimap
from logpt_tui.explorer.widgets.status_bar import StatusBar
from logpt_tui.terminal import visible


class LogTab(SearchMixin, TimeMixin, MarksMixin, RecordMixin, FlagsMixin, TemplatesMixin, ChunksMixin, Vertical):
    DEFAULT_CSS = """
    LogTab { height: 1fr; }
    LogTab LogView { height: 1fr; width: 1fr; scrollbar-size: 0 0; }
    LogTab #status { height: 1; background: $panel; color: $text; padding: 0 1; }
    LogTab #search { display: none; }
    LogTab #search.-open { display: block; }
    """
    BINDINGS = bindings("tab")  # logpt_tui/explorer/keys.py
    indexing: reactive[str] = reactive("")  # "indexing 40%" while the index is built (the status bar's)
    model_state: reactive[str] = reactive("")  # the app's model: loading, loaded, failed (the status bar's)

    def __init__(
        self,
        source: LineSource,
        *,
        name: str | None = None,
        poll_seconds: float = POLL_SECONDS,
        flags: FlagEngine | None = None,
        model_state: str = "no model",
    ) -> None:
        super().__init__()
        self.path = source.path
        self.display_name = name or str(source.path)
        self.source = source
        self.poll_seconds = poll_seconds
        self._observers: list[object] = []
        self.state = TabState(flags=FlagState(engine=flags))
        self.backend: Backend | None = None
        self.set_reactive(LogTab.model_state, model_state)

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield LogView(self.source, origins=ORIGINS.get(self.path), id="log")
            yield Minimap(id="minimap")
            yield AnalysisPanel(id="panel")
        yield Input(placeholder="regex search (Enter to find, Esc to close)", id="search")
        yield StatusBar(id="status").data_bind(LogTab.indexing, model=LogTab.model_state)

    @property
    def view(self) -> LogView:
        return self.query_one(LogView)

    @property
    def panel(self) -> AnalysisPanel:
        return self.query_one(AnalysisPanel)

    @property
    def status(self) -> StatusBar:
        return self.query_one(StatusBar)

    def on_mount(self) -> None:
        view, bar = self.view, self.status
        bar.title, bar.flags = Path(self.display_name).name, self.flag_part()
        # The view's state the bar shows, as it changes (set at once: watchers also run now, with the value).
        self.watch(view, "current", lambda line: setattr(bar, "cursor", line))
        self.watch(view, "follow", lambda on: setattr(bar, "following", on))
        self.watch(view, "wrap", lambda on: setattr(bar, "wrap", on))
        self.watch(view, "shown", lambda rows: setattr(bar, "shown", rows))
        view.flagged = self.state.flags.found
        self.load_marks()
        preview_above = PREVIEW_ABOVE_BYTES // 8 if isinstance(self.source, MergedSource) else PREVIEW_ABOVE_BYTES
        if self.source.size > preview_above:  # indexing (and merging) takes a moment: show the end at once
            view.show_preview(self.source.tail())
        bar.lines = len(self.source)
        self.update_minimap()
        self.index_file()

    # ---- the file: index, follow, status ----

    @work(thread=True, exclusive=True, group="source", exit_on_error=False)
    def index_file(self) -> None:
        added = self.source.index(lambda done, total: self.post_message(IndexProgress(done, total)))
        self.post_message(SourceChanged("indexed", added))
        if len(self.source):
            self.post_message(FormatDetected(self.record_format().name))

    @work(thread=True, exclusive=True, group="source", exit_on_error=False)
    def poll_file(self) -> None:
        change = self.source.refresh()
        if change.kind != "none":
            self.post_message(SourceChanged(change.kind, change.new_lines))

    @needs_view
    def on_index_progress(self, message: IndexProgress) -> None:
        self.indexing = f"indexing {message.done * 100 // max(message.total, 1)}%"
        self.status.lines = len(self.source)

    @needs_view
    def on_format_detected(self, message: FormatDetected) -> None:
        self.status.format_name = message.name
        self.status.span = self.time_span()

    @needs_view
    def on_source_changed(self, message: SourceChanged) -> None:
        kind = message.kind
        replaced = kind in ("truncated", "rotated")
        if kind == "indexed":
            self.indexing = ""
            self.view.preview = None
            if self.state.flags.engine is not None:
                self.flag_worker()
            self.set_interval(self.poll_seconds, self.poll_file)
            for path in self.source.paths:  # a merged view follows each of its files
                observer = watch_file(path, lambda: self.post_message(FileTouched()))
                self._observers += [observer] if observer is not None else []
            if self.source.untimed:
                self.notify(visible(f"no time on any line of {', '.join(self.source.untimed)}: its lines come first"),
                            severity="warning", timeout=8, markup=False)  # fmt: skip
        if replaced:  # new content: flags, filter rows, templates, times and chunks start over
            self.state.new_since_scroll = 0
            self.state.format = None  # detected again from the new first lines
            self.forget_times()
            self.forget_marks()
            self.state.flags.found.clear()
            if self.state.flags.engine is not None:
                self.state.flags.engine.restart()
            if self.state.filter.rule.active:
                self.apply_filter(self.state.filter.rule)
            self.state.templates.reset()
            if self.state.templates.picked is not None:
                self.pick_template(None)
            if self.state.plan is not None:
                self.state.plan.reset()
                self.panel.forget()
        elif kind == "grown":  # appended lines only extend what was done
            if self.state.filter.rule.active:
                self.filter_worker(self.state.filter.rule, self.state.filter.rows)
            if self.state.templates.mined() and not self.state.templates.mining:
                self.mine_worker()
        if (replaced or kind == "grown") and self.detector_ready():
            self.flag_tail_worker()
        if self.state.plan is not None and kind != "deleted":
            self.plan_chunks()
        if not self.view.follow:
            self.state.new_since_scroll += message.new_lines
        self.view.source_changed(kind)
        if kind in ("truncated", "rotated", "deleted"):
            self.notify(visible(f"{self.path.name} was {kind}"), timeout=3, markup=False)
        bar = self.status
        bar.lines, bar.new_lines, bar.flags = len(self.source), self.state.new_since_scroll, self.flag_part()
        fmt = self.state.format
        bar.format_name, bar.span, bar.chunk = fmt.name if fmt is not None else "", self.time_span(), self.chunk_at()
        self.update_minimap()

    @needs_view
    def on_file_touched(self, _message: FileTouched) -> None:
        self.poll_file()

    def show_rows(self) -> None:
        """Show the rows `TabState.rows` decides (the one rule), after any change to flags, filter or template."""
        self.view.set_rows(self.state.rows())
        bar, state = self.status, self.state
        bar.filter, bar.template, bar.flagged_only = self.filter_part(), state.templates.picked, state.flags.only
        bar.span = self.time_span()
        self.update_minimap()

    def on_resize(self) -> None:
        self.status.span = self.time_span()  # other lines on screen (the bar fits itself to its width)
        self.update_minimap()

    def update_minimap(self) -> None:
        starts = self.state.plan.starts if self.state.plan is not None and len(self.state.plan) else None
        self.query_one(Minimap).update_map(starts, len(self.source), self.state.flags.found, self.view.visible_lines(),
                                           self.minimap_edges())  # fmt: skip

    def action_toggle_follow(self) -> None:
        self.view.follow = not self.view.follow
        if self.view.follow:
            self.state.new_since_scroll = self.status.new_lines = 0
            self.view.rows_grew()  # the cursor to the last line, the view to the end

    def action_toggle_wrap(self) -> None:
        self.view.wrap = not self.view.wrap

    def action_top(self) -> None:
        self.view.follow = False
        self.view.cursor_to(0)

    def action_bottom(self) -> None:
        self.view.cursor_to(self.view.row_count - 1)

    def action_cancel(self) -> None:
        """Esc: close the prompt, else cancel the analysis, else close the panel, else end the search."""
        if self.prompt.has_class("-open"):
            self.close_prompt()
        elif self.search_cancel() or self.panel.cancel():
            pass
        elif self.panel.is_open:
            self.panel.close()
        elif self.state.search.pattern is not None:
            self.state.search.pattern = self.view.pattern = None
            self.view.refresh()
            self.status.search = self.search_part()
            self.notify("search ended: n moves to the next chunk again", timeout=2)

    def action_copy_panel(self) -> None:
        self.panel.copy(self.display_name)

    def action_save_panel(self) -> None:
        self.panel.save(self.display_name)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A worker that failed in a way nobody foresaw: one line in the status bar and a notice, never a crash.

        Workers run with exit_on_error=False; expected errors (LogptError) are handled where they occur.
        """
        if event.state is not WorkerState.ERROR:
            return
        event.stop()
        error = event.worker.error
        what = f"{event.worker.group or event.worker.name} failed: {type(error).__name__}: {error}"
        if event.worker.group in ("flags", "flags-tail"):
            self.state.flags.off = what
            self.status.flags = self.flag_part()
        self.notify(visible(what), severity="error", timeout=8, markup=False)

    def on_unmount(self) -> None:
        for observer in self._observers:
            observer.stop()  # type: ignore[attr-defined]
        self.source.close()
