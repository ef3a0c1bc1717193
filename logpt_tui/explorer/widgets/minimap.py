"""The minimap: a narrow strip beside the file with the flagged-line density per chunk.

Row r of h stands for lines r·n/h … (r+1)·n/h of the file's n, like a
scroll bar (or, on the time axis, for the lines of the r-th of h equal stretches of time: a quiet hour is
a blank row), and is shaded by the flagged lines of the chunks those lines fall
in (before the model has planned chunks: of those lines), so a chunk spread
over several rows shades them alike and a row over several chunks sums them.
Shading is relative to the densest row, so a burst of anomalies stands out in
a quiet file; rows that hold the visible lines carry a marker on the left. A
click posts `Minimap.Jump` with the first line of that row's first chunk. The strip is told what to draw (`update_map`); it never
reads the file.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

from rich.segment import Segment
from rich.style import Style
from textual.events import Click
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget

from logpt_tui.explorer.flagset import FlagSet

SHADES = "░▒▓█"
SHADE_STYLE = Style(color="bright_red")
EMPTY = Segment("··", Style(dim=True))
VIEW_MARK = Segment("┃", Style(color="cyan", bold=True))


@dataclass(frozen=True)
class Bin:
    """One row of the strip: where it is in the file, the chunks it touches, and their flagged lines."""

    first: int  # the 0-based lines this row stands for: first..last-1, proportional to its place in the file
    last: int
    start: int  # the chunks those lines fall in: start..stop-1 (the same lines when there are no chunks)
    stop: int
    flagged: int  # flagged lines in start..stop-1


def bins_for(
    starts: Sequence[int] | None, total: int, rows: int, flags: FlagSet, edges: Sequence[int] | None = None
) -> list[Bin]:
    """One bin per row (fewer for a short file) over `total` lines; `starts` are the chunks' first lines;
    `edges` (rows + 1 line numbers), when given, say where each row starts instead (a time axis)."""
    if total <= 0 or rows <= 0:
        return []
    if edges is not None and len(edges) != rows + 1:
        edges = None
    rows = min(rows, total) if edges is None else rows
    bins = []
    for r in range(rows):
        first, last = (r * total // rows, (r + 1) * total // rows) if edges is None else (edges[r], edges[r + 1])
        start, stop = first, last
        if starts and last > first:  # widen to whole chunks: a chunk spread over several rows shades them alike
            i, j = bisect_right(starts, first) - 1, bisect_left(starts, last)
            start, stop = starts[max(i, 0)], starts[j] if j < len(starts) else total
        bins.append(Bin(first, last, start, stop, flags.count(start, stop)))
    return bins


class Minimap(Widget):
    DEFAULT_CSS = """
    Minimap { width: 3; height: 1fr; background: $panel; }
    """

    @dataclass
    class Jump(Message):
        """Go to a 0-based line (the first of the clicked row's chunks)."""

        line: int

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.bins: list[Bin] = []
        self.on_screen = (0, 0)  # the 0-based lines on screen, stop excluded
        self.source: tuple[Sequence[int] | None, int, FlagSet, Sequence[int] | None] | None = (
            None  # what the bins are made of
        )
        self._drawn: tuple | None = None  # the inputs of the current bins: scrolling alone does not recompute them

    def update_map(
        self,
        starts: Sequence[int] | None,
        total: int,
        flags: FlagSet,
        visible: tuple[int, int],
        edges: Sequence[int] | None = None,
    ) -> None:
        self.source = (starts, total, flags, edges)
        self.on_screen = visible
        self.rebin()
        self.refresh()

    def rebin(self) -> None:
        assert self.source is not None
        starts, total, flags, edges = self.source
        key = (len(starts) if starts else 0, total, flags.version, self.size.height, tuple(edges or ()))
        if key != self._drawn:
            self.bins, self._drawn = bins_for(starts, total, self.size.height, flags, edges), key

    def on_resize(self) -> None:
        if self.source is not None:
            self.rebin()

    def render_line(self, y: int) -> Strip:
        if y >= len(self.bins):
            return Strip.blank(self.size.width)
        cell = self.bins[y]
        top = max(b.flagged for b in self.bins)
        mark = VIEW_MARK if cell.first < self.on_screen[1] and self.on_screen[0] < cell.last else Segment(" ")
        if cell.first == cell.last:  # a stretch of time without lines
            shade = Segment("  ")
        elif cell.flagged == 0:
            shade = EMPTY
        else:
            level = min(len(SHADES), -(-cell.flagged * len(SHADES) // top))
            shade = Segment(SHADES[level - 1] * 2, SHADE_STYLE)
        return Strip([mark, shade]).extend_cell_length(self.size.width)

    def on_click(self, event: Click) -> None:
        if 0 <= event.y < len(self.bins):
            self.post_message(self.Jump(self.bins[event.y].start))
