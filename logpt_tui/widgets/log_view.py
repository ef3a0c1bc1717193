"""The file view: a virtual ScrollView that renders only the visible lines.

Lines come from a `LogSource` (line index + pread), so a view of a 1 GiB file
costs the lines on screen, not the file. Control characters and escape
sequences are drawn visibly (`^[`), never sent to the terminal. Lines are
drawn up to `MAX_RENDER_WIDTH` cells and scroll sideways.
"""

from __future__ import annotations

from collections import OrderedDict

from rich.segment import Segment
from rich.style import Style
from textual.geometry import Size
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from engine.logsource import LogSource
from logpt_tui.terminal import visible

MAX_RENDER_WIDTH = 2000
CACHE_LINES = 2000
GUTTER_STYLE = Style(dim=True)


class LogView(ScrollView, can_focus=True):
    follow: reactive[bool] = reactive(True)

    def __init__(self, source: LogSource, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.source = source
        self._cache: OrderedDict[int, str] = OrderedDict()
        self._width = 1

    def text(self, index: int) -> str:
        """Line `index` (0-based), terminal-safe, from a small LRU cache."""
        cached = self._cache.get(index)
        if cached is not None:
            self._cache.move_to_end(index)
            return cached
        text = visible(self.source.line(index))[:MAX_RENDER_WIDTH]
        self._cache[index] = text
        if len(self._cache) > CACHE_LINES:
            self._cache.popitem(last=False)
        return text

    def source_changed(self, kind: str) -> None:
        """Resize to the source and, when following, stay at the end."""
        if kind in ("truncated", "rotated"):
            self._cache.clear()
        elif self._cache:  # the last line may have been partial
            self._cache.pop(max(self._cache), None)
        self.virtual_size = Size(MAX_RENDER_WIDTH, len(self.source))
        if self.follow:
            self.scroll_to(y=self.max_scroll_y, animate=False, immediate=True)  # now: no frame lost
            self.call_after_refresh(self.scroll_end, animate=False)  # and again once sizes settle (first layout)
        self.refresh()

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        width = self.scrollable_content_region.width
        gutter = len(str(len(self.source))) + 1
        try:
            text = self.text(index) if index < len(self.source) else None
        except IndexError:  # the index changed under us (truncation): draw blank until refreshed
            text = None
        if text is None:
            return Strip.blank(width)
        body = Strip([Segment(text)]).crop(scroll_x, scroll_x + max(0, width - gutter))
        return Strip([Segment(f"{index + 1:>{gutter - 1}} ", GUTTER_STYLE), *body]).simplify()
