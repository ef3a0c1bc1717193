"""Chunks and analysis in a tab: chunks planned once the model has loaded, `[` / `]` / `n` / `p` move
between them, `s` / `r` / `a` stream a reply for the cursor's chunk into the side panel, `O` the timeline.

A mixin of `LogTab` (logpt_tui/explorer/tab.py), which supplies the source, the view, the panel and
the status bar (its `chunk` and `queued` fields are set here). The model is the app's (shared by all tabs) and arrives through `model_ready`; a key for
an analysis pressed while it loads is queued (the last one wins) and answered for the line the cursor was
on once the model is ready and the chunks reach that line. It leaves out the replies themselves
(widgets/analysis_panel.py) and the chunk plan (engine/analysis/chunkplan.py).
"""

from __future__ import annotations

from textual import work

from engine.analysis.chunkplan import ChunkPlan
from logpt_tui.explorer.backend import LOADING, Backend
from logpt_tui.explorer.handlers import needs_view
from logpt_tui.explorer.messages import ChunksPlanned
from logpt_tui.explorer.settings import BATCH
from logpt_tui.explorer.state import TabState
from logpt_tui.explorer.widgets.minimap import Minimap
from logpt_tui.explorer.widgets.status_bar import ChunkAt
from logpt_tui.terminal import visible


class ChunksMixin:
    backend: Backend | None
    model_state: str
    state: TabState  # its plan and queued request

    def action_switch_engine(self) -> None:
        self.app.switch_engine()  # type: ignore[attr-defined] - the engine is the app's, shared by every tab

    def model_ready(self, backend: Backend | None, state: str) -> None:
        """Called by the app when the shared model loaded (backend) or failed (None)."""
        self.backend, self.model_state = backend, state  # model_state: the tab's reactive, bound to its status bar
        self.panel.model_state = state
        if backend is not None:
            self.state.plan = ChunkPlan(backend.count_batch, backend.budget)
            self.plan_chunks()
        elif self.state.queued is not None:
            self.queue(None)
            self.notify(visible(f"no analysis: {state}"), timeout=3, markup=False)
        self.status.chunk = self.chunk_at()
        self.update_minimap()

    @work(thread=True, exclusive=True, group="plan", exit_on_error=False)
    def plan_chunks(self) -> None:
        from textual.worker import get_current_worker  # noqa: PLC0415

        worker, plan = get_current_worker(), self.state.plan
        assert plan is not None
        while not worker.is_cancelled and plan.planned < len(self.source):
            stop = min(plan.planned + BATCH, len(self.source))
            plan.extend(self.source.block(plan.planned, stop))
            self.post_message(ChunksPlanned(plan.planned))

    @needs_view
    def on_chunks_planned(self, _message: ChunksPlanned) -> None:
        state = self.state
        if state.queued is not None and state.plan is not None and state.plan.chunk_of(state.queued[1]) is not None:
            query, line = state.queued  # asked while the model loaded: answered now, for the line it was asked on
            self.queue(None)
            self.analyze_line(query, line)
        self.view.chunk_span = self.chunk_span()
        self.status.chunk = self.chunk_at()
        self.update_minimap()

    def queue(self, asked: tuple[str, int] | None) -> None:
        """A query asked before the model or the chunks were ready (query, line), or None once answered."""
        self.state.queued = asked
        self.status.queued = asked[0] if asked is not None else ""

    def anchor_line(self) -> int:
        """The line keys act on: the cursor's; without one (an empty view, the preview) the middle of the view."""
        view = self.view
        if view.current is not None:
            return view.current
        row = min(view.row_count - 1, int(view.scroll_offset.y) + max(0, view.size.height // 2))
        line = view.line_of_row(row)
        return line if line is not None else -1

    def current_chunk(self) -> int | None:
        plan = self.state.plan
        return None if plan is None else plan.chunk_of(self.anchor_line())

    def chunk_at(self) -> ChunkAt | None:
        """The status bar's chunk field: the cursor's chunk among those planned; None without a plan."""
        plan = self.state.plan
        return None if plan is None else ChunkAt(self.current_chunk(), len(plan), plan.planned < len(self.source))

    def chunk_span(self) -> tuple[int, int] | None:
        k, plan = self.current_chunk(), self.state.plan
        return None if k is None or plan is None else plan.span(k)

    def action_chunk(self, step: int) -> None:
        k, plan = self.current_chunk(), self.state.plan
        if plan is None or k is None:
            self.notify("chunks appear once the model has loaded", timeout=3)
            return
        target = max(0, min(len(plan) - 1, k + step))
        self.view.show_line(plan.span(target)[0])
        self.view.chunk_span = plan.span(target)
        self.status.chunk = self.chunk_at()
        panel = self.panel
        if panel.is_open and panel.shown is not None:
            panel.show_reply((plan.starts[target], panel.shown[1]), target + 1)

    def on_minimap_jump(self, message: Minimap.Jump) -> None:
        self.view.show_line(message.line)
        self.on_log_view_scrolled(message)

    @needs_view
    def on_log_view_scrolled(self, _message: object) -> None:
        """The view or its cursor moved: what the status bar shows of the lines on screen and of the cursor's."""
        self.view.chunk_span = self.chunk_span()
        bar = self.status
        bar.chunk, bar.span, bar.search = self.chunk_at(), self.time_span(), self.search_part()
        self.update_minimap()

    # ---- analysis: s / r / a, streamed into the panel ----

    def action_analyze(self, query: str) -> None:
        """`s` / `r` / `a`: a reply for the cursor's chunk; asked before the model or the chunks are ready, it
        waits for them."""
        line = self.anchor_line()
        plan = self.state.plan
        planning = plan is not None and plan.chunk_of(line) is None and plan.planned < len(self.source)
        if 0 <= line < len(self.source) and (self.model_state == LOADING or planning):
            self.queue((query, line))
            what = "the model has loaded" if self.model_state == LOADING else "the chunks reach this line"
            self.notify(f"{query.replace('_', ' ')} of line {line + 1}'s chunk: answered once {what}", timeout=3)
            return
        self.analyze_line(query, line)

    def analyze_line(self, query: str, line: int) -> None:
        plan = self.state.plan
        k = None if plan is None else plan.chunk_of(line)
        if self.backend is None or plan is None or k is None:
            self.notify(visible(f"no analysis yet: {self.model_state}"), timeout=3, markup=False)
            return
        start, stop = plan.span(k)
        lines = self.source.block(start, stop)
        found = self.state.flags.found
        flagged = {line + 1: found.by_line[line].reason for line in found.lines if start <= line < stop}
        self.panel.request((start, query), k + 1, lines, flagged, self.backend)

    def action_timeline(self) -> None:
        """The incident timeline of the whole file, by the analyst (any engine: it reads every line)."""
        from engine.analysis.wholefile import source_spans  # noqa: PLC0415
        from engine.logs.logsource import LogSource  # noqa: PLC0415

        # One file on disk is read by byte spans (a big one by several processes); a merge, a pipe or a stream
        # gives its lines.
        on_disk = (source_spans(self.source), self.record_format()) if isinstance(self.source, LogSource) else None
        self.panel.request_timeline(lambda: self.source.block(0, len(self.source)), on_disk)
