"""The tab's status bar: typed fields held as reactives; a change to any of them re-renders the line.

As Toolong's footer does, the bar holds what it shows as reactives, and `render` is the one place that turns
them into the line (`status.fit`: parts shortened, then dropped, to the width; again on every resize). Who sets
which field (logpt_tui/explorer/tab.py wires them):

- the tab's own reactives, bound with `data_bind`: `indexing` (progress), `model` (the app's model state);
- the view's (widgets/log_view.py), from watchers: `cursor` (its current line), `following`, `wrap`, `shown`
  (the rows it shows);
- each of the tab's concerns, where its state changes: `lines`, `format_name`, `span` (the times on screen),
  `new_lines`, `chunk`, `queued` (tab.py, tab_time.py, tab_chunks.py), `search` and `filter` (tab_search.py),
  `template` (tab_templates.py), `flagged_only` and `flags` (tab_flags.py).

Nobody renders the bar by hand; nothing reads state back from its text.
"""

from __future__ import annotations

from typing import NamedTuple

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from logpt_tui.explorer.status import Part, fit
from logpt_tui.terminal import visible


class ChunkAt(NamedTuple):
    """Where the cursor is among the planned chunks."""

    index: int | None  # the cursor's chunk, 0-based; None: not planned that far yet
    count: int  # chunks planned so far
    more: bool  # the plan has not reached the end of the file yet


class StatusBar(Widget):
    """One line under the view: the file, where the cursor is, and what the tab's workers are doing."""

    title: reactive[str] = reactive("")  # the tab's file name
    lines: reactive[int] = reactive(0)  # lines in the file
    cursor: reactive[int | None] = reactive(None)  # the view's current line, 0-based
    indexing: reactive[str] = reactive("")  # "indexing 40%" while the index is built
    format_name: reactive[str] = reactive("")  # the file's format, once detected
    span: reactive[str] = reactive("")  # the times of the first and last lines on screen
    search: reactive[Part] = reactive(Part(""))  # `/pattern/ match 12/340`
    following: reactive[bool] = reactive(True)
    wrap: reactive[bool] = reactive(False)
    new_lines: reactive[int] = reactive(0)  # appended while the view was not following
    chunk: reactive[ChunkAt | None] = reactive(None)  # None: no chunks planned (no model)
    filter: reactive[Part] = reactive(Part(""))  # the filter and the lines it passed
    template: reactive[str | None] = reactive(None)  # the picked template's key
    flagged_only: reactive[bool] = reactive(False)
    shown: reactive[int] = reactive(0)  # rows the view shows (the picked template's or the flagged lines)
    queued: reactive[str] = reactive("")  # a query asked before the model or the chunks were ready
    flags: reactive[Part] = reactive(Part(""))  # the detector's part (tab_flags.flag_part)
    model: reactive[str] = reactive("")  # the analysis model's state

    def parts(self) -> list[Part]:
        """The bar's parts in order, from its fields (`status.fit` decides which show)."""
        n, at, chunk = self.lines, self.cursor, self.chunk
        parts = [
            Part(self.title, 0),
            Part(f"{n:,} line{'' if n == 1 else 's'}", 0),
            Part(f"line {at + 1:,}" if at is not None else "", 0),  # the cursor's
            Part(self.indexing, 0),
            Part(self.format_name, 3),
            Part(self.span, 2),
            self.search,
            Part("following" if self.following else "paused", 0),
            Part("wrap" if self.wrap else "", 2),
            Part(f"+{self.new_lines:,} new" if self.new_lines and not self.following else "", 1),
        ]
        if chunk is not None and chunk.count:
            k = chunk.index + 1 if chunk.index is not None else "–"
            parts.append(Part(f"chunk {k}/{chunk.count:,}{'+' if chunk.more else ''}", 1))
        parts.append(self.filter)
        if self.template is not None:
            parts.append(Part(f"template {self.template}: {self.shown:,} lines", 1))
        if self.flagged_only:
            parts.append(Part(f"flagged only: {self.shown:,} shown", 0))
        if self.queued:
            parts.append(Part(f"{self.queued.replace('_', ' ')} queued", 1))
        return [*parts, self.flags, Part(self.model, 1, self.model.split(" · ")[0])]

    def render(self) -> Text:
        # Two columns to spare besides the padding, as the bar has always kept (the snapshots are drawn so).
        width = self.size.width - 2 if self.size.width > 2 else 1000
        return Text(visible(fit(self.parts(), width)))  # data: never markup
