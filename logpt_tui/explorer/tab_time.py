"""Time in a tab: `:` goes to a line or a time, the status bar shows the time span on screen, the minimap's
axis can be time.

A mixin of `LogTab` (logpt_tui/explorer/tab.py), which supplies the source, the view, the prompt and
the status bar (whose `span` field the tab sets from `time_span`). Times are read from the lines on demand
(engine/logs/clock.py: a binary search reads a few dozen lines, so a jump on a 1 GiB file costs milliseconds); lines without a time belong to the timed line
before them. Each file's times are read by its own reader (engine/logs/fileclock.py): the format detected
from its first lines gives the time where it can (W3C's `#Date:` and `time`, epochs inside JSON, strace's
time of day), a year-less log (syslog) is taken to be of the year its file was last written and a time of
day alone of that day; a merged view reads each row with its file's reader.
"""

from __future__ import annotations

from engine.logs.clock import TimeIndex, describe, parse_jump
from engine.logs.fileclock import TAIL_LINES, file_reader, mtime_of
from engine.logs.formats.detect import SAMPLE_LINES
from engine.logs.merged import MergedSource
from logpt_tui.explorer.widgets.minimap import Minimap
from logpt_tui.terminal import visible

GOTO_HINT = "line number, or a time: 10:02, 2026-11-20T10:02, -15m from the end, +1h from here (Enter, Esc)"


class TimeMixin:
    time_axis: bool = False  # the minimap's rows stand for equal stretches of time, not of lines

    @property
    def times(self) -> TimeIndex:
        if self.state.times is None:
            source = self.source
            if isinstance(source, MergedSource):
                self.state.times = TimeIndex(source, read=source.time_of)
            else:
                n, lines = len(source), source.block(0, SAMPLE_LINES)
                tail = source.block(max(0, n - TAIL_LINES), n)  # the file's end: its year, a trace's hour
                self.state.times = TimeIndex(source, reader=file_reader(lines, mtime_of(source.path), tail=tail))
        return self.state.times

    def forget_times(self) -> None:
        """The file was replaced: its times (and its format, its year) are read again."""
        self.state.times = None

    def action_goto(self) -> None:
        self.open_prompt("goto", GOTO_HINT)

    def goto_line(self, value: str) -> None:
        if len(self.source) == 0:
            return
        text = value.strip()
        if text.replace(",", "").isdigit():
            self.view.show_line(max(1, min(int(text.replace(",", "")), len(self.source))) - 1)
            return
        here = self.times.near(max(self.anchor_line(), 0), -1) or self.times.near(max(self.anchor_line(), 0))
        target = parse_jump(
            text, here=here[1] if here else None, end=self.times.last_time(), year=self.times.reader.year
        )
        if target is None:
            self.notify(visible(f"not a line number or a time: {value!r} ({GOTO_HINT.split(' (')[0]})"),
                        severity="error", markup=False)  # fmt: skip
            return
        line = self.times.first_at(target)
        if line is None:
            last = self.times.last_time()
            where = f"the last time is {describe(last)}" if last is not None else "no line has a time"
            self.notify(visible(f"no line at or after {describe(target)}: {where}"), severity="warning", markup=False)
            return
        self.view.show_line(line)

    def time_span(self) -> str:
        """The times of the first and last lines on screen: `2026-11-20 10:02:03–10:04:11`; "" without times."""
        if len(self.source) == 0 or self.view.preview is not None:
            return ""
        first, stop = self.view.visible_lines()
        if stop <= first:
            return ""
        a, b = self.times.near(first), self.times.near(stop - 1, -1)
        if a is None or b is None:
            return ""
        start, end = describe(a[1]), describe(b[1])
        if start == end:
            return start
        return f"{start}–{end[11:]}" if start[:10] == end[:10] else f"{start} – {end}"

    def action_time_axis(self) -> None:
        self.time_axis = not self.time_axis
        self.notify("minimap: time axis (rows are equal stretches of time)" if self.time_axis
                    else "minimap: line axis", timeout=2)  # fmt: skip
        self.update_minimap()

    def minimap_edges(self) -> list[int] | None:
        """With the time axis: the first line of each minimap row (equal stretches of time); else None."""
        total, rows = len(self.source), self.query_one(Minimap).size.height
        if not self.time_axis or total == 0 or rows <= 0:
            return None
        first, last = self.times.near(0), self.times.last_time()
        if first is None or last is None or last <= first[1]:
            return None
        step = (last - first[1]) / rows
        edges = [0]
        for r in range(1, rows):
            line = self.times.first_at(first[1] + r * step)
            edges.append(max(edges[-1], line if line is not None else total))
        return [*edges, total]
