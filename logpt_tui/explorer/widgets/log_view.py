"""The file view: a virtual ScrollView that renders only the visible lines.

Lines come from a `LogSource` (line index + pread), so a view of a 1 GiB file
costs the lines on screen, not the file. Control characters and escape
sequences are drawn visibly (`^[`), never sent to the terminal. Lines are
drawn up to `MAX_RENDER_WIDTH` cells and scroll sideways, or, with `wrap`
on, are folded over several rows: then each frame lays out the lines from the
top row of the scroll position (from the last line upwards when the view is
at the end, so following shows the newest line), and the scroll bar still
counts lines.

The cursor (`current`, widgets/cursor.py) is the highlighted line the tab's keys act on. When the rows
shown change (a filter, flagged-only) it stays on its line, or the nearest one shown; in an empty view it
is None, its line is kept for when rows come back, and the view says why it is empty (`empty_text`).
"""

from __future__ import annotations

import contextlib
from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Container
from dataclasses import dataclass
from pathlib import PurePath
from typing import Protocol

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual.events import Click
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from engine.errors import InputError
from engine.logs.formats.record import sniff_level
from engine.logs.linesource import LineSource
from engine.logs.userregex import UserRegex
from logpt_tui.explorer.keys import bindings
from logpt_tui.explorer.settings import CACHE_LINES, FOLLOW_CHECK_SECONDS, MAX_RENDER_WIDTH
from logpt_tui.explorer.widgets.cursor import CursorMixin
from logpt_tui.terminal import visible

GUTTER_STYLE = Style(dim=True)
CHUNK_GUTTER_STYLE = Style(color="cyan", bold=True)  # line numbers of the current chunk
MARK_GUTTER_STYLE = Style(color="black", bgcolor="yellow", bold=True)  # line numbers of marked lines
FLAG_MARK = Segment("▌", Style(color="bright_red", bold=True))  # before a flagged line's text
NO_MARK = Segment(" ")
FLAG_TINT = Style(bgcolor="#3a0d0d")
LEVEL_STYLES = {
    "CRITICAL": Style(color="bright_red", bold=True),
    "ERROR": Style(color="red"),
    "WARN": Style(color="yellow"),
}
MATCH_STYLE = Style(reverse=True)
CURSOR_STYLE = Style(bgcolor="#34495e")  # the cursor's row, under the line's own colours and the matches
CURSOR_GUTTER_STYLE = Style(reverse=True, bold=True)  # its line number
EMPTY_STYLE = Style(italic=True, dim=True)  # why an empty view is empty
SOURCE_STYLES = [Style(color=c, bold=True) for c in ("cyan", "magenta", "green", "yellow", "blue", "bright_red")]
ORIGIN_NAME_CELLS = 24  # a stream row's source file name is shown cut to this many cells (its end kept)


class RowOrigins(Protocol):
    """Where each row of a followed stream came from (logpt_tui/explorer/redis_stream.py's StreamOrigins)."""

    names: list[str]
    max_line: int

    def of(self, index: int) -> tuple[str, int] | None: ...


def origin_name(path: str) -> str:
    """A source file as a stream row shows it: its base name, safe to show, cut from the left to fit."""
    name = visible(PurePath(path).name or path)
    return name if cell_len(name) <= ORIGIN_NAME_CELLS else "…" + name[-(ORIGIN_NAME_CELLS - 1) :]


class LogView(CursorMixin, ScrollView, can_focus=True):
    BINDINGS = bindings("view")  # the cursor keys (logpt_tui/explorer/keys.py); they replace the scroll keys
    follow: reactive[bool] = reactive(True)
    current: reactive[int | None] = reactive(None)  # the cursor: the highlighted line keys act on, 0-based
    chunk_span: reactive[tuple[int, int] | None] = reactive(None)  # the current chunk's lines, 0-based, stop excluded
    wrap: reactive[bool] = reactive(False)  # fold long lines instead of scrolling sideways
    shown: reactive[int] = reactive(0)  # rows shown (`row_count`, as of the last resize to them: the status bar's)

    class Scrolled(Message):
        """The view or its cursor moved: the current chunk and the status may have changed."""

    @dataclass
    class LineClicked(Message):
        """A line was clicked (0-based)."""

        line: int

    def __init__(self, source: LineSource, *, origins: RowOrigins | None = None, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.source = source
        self.origins = origins  # a followed stream: each row numbered by its source file and line
        self._origin_width = (0, 0)  # (names seen, the widest shown name)
        self._cache: OrderedDict[int, tuple[str, Style | None]] = OrderedDict()
        self.rows: list[int] | None = None  # with a filter: the 0-based lines shown, ascending; None shows all
        self.flagged: Container[int] = frozenset()  # 0-based lines the detector flagged (the tab's FlagSet)
        self.pattern: UserRegex | None = None  # the search: its matches are highlighted in the current line
        self.marked: list[int] = []  # 0-based lines the user marked, ascending (the tab's marks)
        self._layout: list[tuple[int, int]] | None = None  # with wrap: (line, piece) per screen row of this frame
        self._shown = (0, 0)  # visible_lines() when Scrolled was last posted for them (`tell_shown`)
        self.preview: list[str] | None = None  # the file's last lines, shown until the index is built
        self.kept: int | None = None  # the cursor's line while no row is shown (an empty filter or flagged view)
        self.empty_text = ""  # drawn in an empty view: why it is empty
        names = source.names  # a merged view: each row is marked with its file
        self.sources: list[str] | None = None
        if names is not None:
            shown = [visible(n) for n in names]  # whole names (engine/logs/merged.py keeps them short)
            width = max(cell_len(n) for n in shown)
            self.sources = [n + " " * (width - cell_len(n) + 1) for n in shown]

    @property
    def row_count(self) -> int:
        if self.preview is not None:
            return len(self.preview)
        return len(self.source) if self.rows is None else len(self.rows)

    def show_preview(self, lines: list[str]) -> None:
        """Show `lines` (the end of a file still being indexed) at the bottom, line numbers pending, until the
        owner sets `preview` to None and calls `source_changed`."""
        self.preview = [visible(line)[:MAX_RENDER_WIDTH] for line in lines]
        self.source_changed("preview")

    def line_of_row(self, row: int) -> int | None:
        """The 0-based source line drawn on view row `row`; None past the end."""
        if self.rows is None:
            return row if 0 <= row < len(self.source) else None
        return self.rows[row] if 0 <= row < len(self.rows) else None

    def row_of_line(self, line: int) -> int:
        """The view row of `line`, or of the first shown line after it."""
        return line if self.rows is None else bisect_left(self.rows, line)

    def set_rows(self, rows: list[int] | None) -> None:
        """Show only `rows` (a list that a worker may still be growing), or every line; the cursor keeps its
        line, or goes to the nearest one shown."""
        self.rows = rows
        self.resize_to_rows()
        line = self.current if self.current is not None else self.kept
        if not self.follow and line is not None:
            self.show_line(line)
        self.rows_grew()

    def rows_grew(self) -> None:
        self.resize_to_rows()
        if self.follow:
            self.follow_cursor()
            self.scroll_to(y=self.max_scroll_y, animate=False, immediate=True)
            self.call_after_refresh(self._follow_end)  # again once the new size is laid out
        elif self.current is None and self.kept is not None and self.row_count:
            self.show_line(self.kept)  # rows came back to an empty view
        self.refresh()

    def text(self, index: int) -> tuple[str, Style | None]:
        """Line `index` (0-based), terminal-safe, with its level style, from a small LRU cache."""
        cached = self._cache.get(index)
        if cached is not None:
            self._cache.move_to_end(index)
            return cached
        raw = self.source.line(index)
        level = sniff_level(raw[:500])  # colour by the words near the start; the level field when there is one
        entry = (visible(raw)[:MAX_RENDER_WIDTH], LEVEL_STYLES.get(level or ""))
        self._cache[index] = entry
        if len(self._cache) > CACHE_LINES:
            self._cache.popitem(last=False)
        return entry

    def resize_to_rows(self) -> None:
        """One virtual row per shown line; as wide as the longest line allowed, or the view when wrapping."""
        self.virtual_size = Size(0 if self.wrap else MAX_RENDER_WIDTH, self.row_count)
        self.shown = self.row_count

    def watch_wrap(self) -> None:
        self.resize_to_rows()
        if self.wrap:
            self.scroll_to(x=0, animate=False)
        self.refresh()

    def watch_current(self) -> None:
        self.refresh()
        self.post_message(self.Scrolled())

    def watch_chunk_span(self) -> None:
        self.refresh()

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if int(old_value) != int(new_value):
            self.keep_cursor_on_screen()
            self.tell_shown()

    def source_changed(self, kind: str) -> None:
        """Resize to the source and, when following, stay at the end."""
        if kind in ("truncated", "rotated"):
            self._cache.clear()
        elif self._cache:  # the last line may have been partial
            self._cache.pop(max(self._cache), None)
        self.resize_to_rows()
        if self.follow:
            self.follow_cursor()
            self.scroll_to(y=self.max_scroll_y, animate=False, immediate=True)  # now: no frame lost
            self.call_after_refresh(self._follow_end)  # and again once sizes settle (first layout)
        self.refresh()

    def _follow_end(self, tries: int = 5) -> None:
        if not self.follow:  # a key may have stopped following since
            return
        if self.virtual_size.height != self.row_count and tries:  # the new size is not laid out yet
            self.call_after_refresh(self._follow_end, tries - 1)
            return
        if self.scroll_y < self.max_scroll_y:
            self.scroll_to(y=self.max_scroll_y, animate=False, immediate=True)  # scroll_end would defer again

    def on_mount(self) -> None:
        # A safety net for following: if a size change was laid out after the scroll that should
        # have followed it, the next tick catches up.
        self.set_interval(FOLLOW_CHECK_SECONDS, self._follow_end)

    @property
    def number_width(self) -> int:
        """The gutter: the number, a space, the file's name in a merged view (or a stream's), the flag mark."""
        if self.origins is not None and self.origins.names:
            digits = max(len(str(len(self.source))), len(str(self.origins.max_line)))
            return digits + 2 + self.origin_width() + 1
        return len(str(len(self.source))) + 2 + (cell_len(self.sources[0]) if self.sources else 0)

    def row_number(self, index: int) -> tuple[int, Segment | None]:
        """The number and the file label a row shows: its line in the file (or merged view), or for a followed
        stream its source file's line, as the shipper numbered it."""
        if self.origins is not None and (origin := self.origins.of(index)) is not None:
            width, name = self.origin_width(), origin_name(origin[0])
            return origin[1], Segment(name + " " * (width - cell_len(name) + 1), SOURCE_STYLES[0])
        if self.origins is not None and self.origins.names:  # an entry without a source: its place in the stream
            return index + 1, Segment(" " * (self.origin_width() + 1))
        return index + 1, self.source_label(index)

    def origin_width(self) -> int:
        """The widest source file name of the stream's rows so far (kept while no new file appears)."""
        assert self.origins is not None
        names = self.origins.names
        if self._origin_width[0] != len(names):
            self._origin_width = (len(names), max((cell_len(origin_name(n)) for n in names), default=0))
        return self._origin_width[1]

    def source_label(self, index: int) -> Segment | None:
        """A merged view's file name for row `index`, in that file's colour."""
        if self.sources is None:
            return None
        k = self.source.origin(index)[0]  # type: ignore[attr-defined]
        return Segment(self.sources[k], SOURCE_STYLES[k % len(SOURCE_STYLES)])

    def entry(self, index: int | None) -> tuple[str, Style | None] | None:
        try:
            return self.text(index) if index is not None and index < len(self.source) else None
        except IndexError:  # the index changed under us (truncation): draw blank until refreshed
            return None

    def wrap_layout(self, top: int | None = None) -> list[tuple[int, int]]:
        """(line, piece) for each screen row: from the top row down, or from the last row up at the end."""
        height, body = self.size.height, max(1, self.scrollable_content_region.width - self.number_width)

        def pieces(row: int) -> list[tuple[int, int]]:
            index = self.line_of_row(row)
            entry = self.entry(index)
            if index is None or entry is None:
                return []
            return [(index, k) for k in range(max(1, -(-cell_len(entry[0]) // body)))]

        rows: list[tuple[int, int]] = []
        top = int(self.scroll_y) if top is None else top
        if top >= self.max_scroll_y:
            row = self.row_count - 1
            while row >= 0 and len(rows) < height:
                rows[:0] = pieces(row)
                row -= 1
            return rows[-height:]
        row = top
        while row < self.row_count and len(rows) < height:
            rows += pieces(row)
            row += 1
        return rows[:height]

    def render_lines(self, crop: Region) -> list[Strip]:
        self._layout = self.wrap_layout() if self.wrap else None  # once per frame, for every row
        if self.visible_lines() != self._shown:  # other lines on screen with nothing scrolled (wrap turned on or
            self.tell_shown()  # off, a new size; a wrapped view's rows laid out only now): told as a scroll is
        return super().render_lines(crop)

    def tell_shown(self) -> None:
        """`Scrolled`, for the lines on screen now (kept, so a frame that shows the same lines posts nothing more)."""
        self._shown = self.visible_lines()
        self.post_message(self.Scrolled())

    def visible_lines(self) -> tuple[int, int]:
        """The first and one past the last 0-based line on screen."""
        if self.wrap and self._layout:
            return self._layout[0][0], self._layout[-1][0] + 1
        first = self.line_of_row(int(self.scroll_y))
        last = self.line_of_row(min(self.row_count, int(self.scroll_y) + self.size.height) - 1)
        return (first or 0, (last if last is not None else -1) + 1)

    def render_line(self, y: int) -> Strip:
        if self.preview is not None:
            return self.render_preview_line(y)
        scroll_x, scroll_y = self.scroll_offset
        piece = 0
        if self._layout is not None:
            index, piece = self._layout[y] if y < len(self._layout) else (None, 0)
            scroll_x = piece * max(1, self.scrollable_content_region.width - self.number_width)
        else:
            index = self.line_of_row(scroll_y + y)
        width, gutter = self.scrollable_content_region.width, self.number_width
        entry = self.entry(index)
        if entry is None or index is None:
            if y == 0 and self.row_count == 0 and self.empty_text:
                return (
                    Strip([Segment(" " + visible(self.empty_text), EMPTY_STYLE)])
                    .crop(0, width)
                    .extend_cell_length(width)
                )
            return Strip.blank(width)
        text, style = entry
        flagged, cursor = index in self.flagged, index == self.current
        if flagged:
            style = FLAG_TINT if style is None else style + FLAG_TINT
        pieces = [Segment(text, style)]
        if cursor:  # the cursor's colour over the flag's tint; the search's matches in it reversed
            pieces = list(Segment.apply_style(self.highlight(text, style), post_style=CURSOR_STYLE))
        body = Strip(pieces).crop(scroll_x, scroll_x + max(0, width - gutter))
        span = self.chunk_span
        number_style = CHUNK_GUTTER_STYLE if span is not None and span[0] <= index < span[1] else GUTTER_STYLE
        if self.marked and (k := bisect_left(self.marked, index)) < len(self.marked) and self.marked[k] == index:
            number_style = MARK_GUTTER_STYLE
        shown, label = self.row_number(index)
        digits = gutter - 2 - (label.cell_length if label else 0)
        number = f"{shown:>{digits}} " if piece == 0 else " " * (digits + 1)
        mark = FLAG_MARK if flagged else NO_MARK
        number_part = Segment(number, number_style + CURSOR_GUTTER_STYLE if cursor else number_style)
        line = Strip([number_part, *([label] if label else []), mark, *body]).simplify()
        # Full width: a shorter line must erase what was there before (the cursor's row in its colour).
        return line.extend_cell_length(width, CURSOR_STYLE if cursor else None)

    def highlight(self, text: str, style: Style | None) -> list[Segment]:
        """The cursor's line with the search's matches reversed."""
        spans = []
        if self.pattern is not None:
            with contextlib.suppress(InputError):  # a regex too slow for this line: no match is marked
                spans = [m.span() for m in self.pattern.finditer(text) if m.end() > m.start()][:200]
        if not spans:
            return [Segment(text, style)]
        pieces, at = [], 0
        for a, b in spans:
            pieces += [
                Segment(text[at:a], style),
                Segment(text[a:b], MATCH_STYLE if style is None else style + MATCH_STYLE),
            ]
            at = b
        return [*pieces, Segment(text[at:], style)]

    def render_preview_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width, row = self.scrollable_content_region.width, scroll_y + y
        if self.preview is None or not 0 <= row < len(self.preview):
            return Strip.blank(width)
        text = self.preview[row]
        style = LEVEL_STYLES.get(sniff_level(text[:500]) or "")
        body = Strip([Segment(text, style)]).crop(scroll_x, scroll_x + max(0, width - 4))
        return Strip([Segment("  … ", GUTTER_STYLE), *body]).simplify().extend_cell_length(width)

    def on_click(self, event: Click) -> None:
        """A click on a line puts the cursor on it (for the why of a flag, and the current chunk); following
        stops."""
        if self._layout is not None:
            index = self._layout[event.y][0] if 0 <= event.y < len(self._layout) else None
        else:
            index = self.line_of_row(int(self.scroll_y) + event.y)
        if index is not None:
            self.follow = False
            self.kept, self.current = None, index
            self.post_message(self.LineClicked(index))
