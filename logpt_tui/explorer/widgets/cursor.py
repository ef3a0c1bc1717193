"""The cursor of the file view: the highlighted line that the tab's keys act on, always on screen.

A mixin of `LogView` (logpt_tui/explorer/widgets/log_view.py), which supplies the rows (`row_count`,
`line_of_row`, `row_of_line`), the folded layout (`wrap_layout`) and the scrolling. The cursor is `current`
(a 0-based line): the arrow keys, `j` / `k`, the page keys and a click move it; every jump (`show_line`)
puts it on its line in the middle of the view; a scroll (the wheel, Home, End) drags it along to the
screen's edge. While following it sits on the last line shown. It leaves out what the keys do with it
(the tab's `anchor_line`) and how it is drawn (`LogView.render_line`).
"""

from __future__ import annotations

from textual.message import Message


class CursorMixin:
    current: int | None
    kept: int | None  # the cursor's line while no row is shown (an empty filter or flagged view)
    follow: bool
    wrap: bool
    preview: list[str] | None
    Scrolled: type[Message]

    def show_line(self, index: int) -> None:
        """Put the cursor on line `index` (or the first shown line after it, else the last shown) and scroll it
        into the middle of the view, now: a deferred scroll would drag the cursor after later keys. Following
        stops."""
        self.follow = False
        if self.row_count == 0 or self.preview is not None:
            self.kept, self.current = index, None
            return
        row = min(self.row_of_line(index), self.row_count - 1)
        self.kept, self.current = None, self.line_of_row(row)
        self.scroll_to(y=max(0, row - self.size.height // 2), animate=False, immediate=True, force=True)
        self.refresh()

    def follow_cursor(self) -> None:
        """Following: the cursor is on the last line shown."""
        if self.preview is None:
            self.kept, self.current = None, self.line_of_row(self.row_count - 1)

    def cursor_to(self, row: int) -> None:
        """Put the cursor on view row `row` (kept within the rows) and scroll just enough to show it."""
        if self.row_count == 0 or self.preview is not None:
            return
        row = max(0, min(self.row_count - 1, row))
        self.kept, self.current = None, self.line_of_row(row)
        self.reveal(row)

    def cursor_row(self) -> int:
        """The cursor's view row (the top row without a cursor)."""
        return self.row_of_line(self.current) if self.current is not None else int(self.scroll_y)

    def action_cursor(self, step: int) -> None:
        """Move the cursor `step` rows; moving it up stops following."""
        row = self.cursor_row()
        if step < 0 and row > 0:
            self.follow = False
        self.cursor_to(row + step)
        self.post_message(self.Scrolled())  # following may have stopped

    def action_page(self, step: int) -> None:
        """Move the cursor and the view a page (`step` = 1 down, -1 up)."""
        height = max(1, self.size.height - 1)
        if step < 0 and int(self.scroll_y) > 0:
            self.follow = False
        self.scroll_to(y=int(self.scroll_y) + step * height, animate=False, immediate=True, force=True)
        self.action_cursor(step * height)

    def screen_rows(self, top: int | None = None) -> tuple[int, int]:
        """The first and one past the last view row whose line starts on screen (with the top row at `top`)."""
        top = int(self.scroll_y) if top is None else top
        if not self.wrap:
            return top, max(top, min(self.row_count, top + self.size.height))
        starts = [line for line, piece in self.wrap_layout(top) if piece == 0]
        return (self.row_of_line(starts[0]), self.row_of_line(starts[-1]) + 1) if starts else (top, top)

    def reveal(self, row: int) -> None:
        """Scroll just enough that view row `row` is on screen."""
        first, stop = self.screen_rows()
        if first <= row < stop:
            return
        if row < first:
            y = row
        elif not self.wrap:
            y = row - self.size.height + 1
        else:  # folded lines: the first top row that shows it (at most a screen's worth of rows above it)
            y = max(first, row - self.size.height + 1)
            while y < row and row >= self.screen_rows(y)[1]:
                y += 1
        self.scroll_to(y=y, animate=False, immediate=True, force=True)

    def keep_cursor_on_screen(self) -> None:
        """After a scroll: a cursor that left the screen (or whose line is no longer shown) comes to its edge."""
        if self.current is None or self.preview is not None or not self.row_count:
            return
        first, stop = self.screen_rows()
        row = self.row_of_line(self.current)
        if stop > first and (not first <= row < stop or self.line_of_row(row) != self.current):
            self.current = self.line_of_row(max(first, min(row, stop - 1)))
