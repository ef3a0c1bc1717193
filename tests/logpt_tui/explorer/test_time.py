"""Time in the explorer, driven by keys: `:` to a time (in a file whose time only its format gives too), the time span
in the status bar, the time-axis minimap."""

from __future__ import annotations

from pathlib import Path

import pytest

from logpt_tui.explorer.app import LogptApp
from logpt_tui.explorer.widgets.minimap import Minimap
from tests.logpt_tui.explorer.test_app import settle, status


@pytest.fixture
def timed(tmp_path: Path) -> Path:
    """Two hours of one line per 10 s, a quiet hour between them, and continuation lines without time."""
    lines = []
    for hour in (8, 10):
        for k in range(360):
            lines.append(f"2026-11-20T{hour:02d}:{k // 6:02d}:{k % 6 * 10:02d}Z api: request {hour}-{k} ok\n")
            if k % 100 == 0:
                lines.append("    at continuation of the record above\n")
    path = tmp_path / "timed.log"
    path.write_text("".join(lines))
    return path


async def jump(pilot, text: str) -> None:  # noqa: ANN001
    """`:` TEXT Enter. The text is put in the prompt, not typed key by key (a key costs a redraw, ~20 ms of CPU);
    typing into the prompt is tested where it is the point (test_app's go to line, test_merged's time jump)."""
    await pilot.press("colon")
    pilot.app.tab.prompt.value = text
    await pilot.press("enter")
    await pilot.pause(0.05)


async def test_colon_jumps_to_a_time_of_day_a_date_and_time_and_back_from_the_end(timed: Path) -> None:
    app = LogptApp(timed, backend=None, flags=None)
    async with app.run_test(size=(110, 20)) as pilot:
        await settle(pilot, app, lambda: "728 lines" in status(app))
        await jump(pilot, "10:30")
        view = app.tab.view
        assert "request 10-180 ok" in app.tab.source.line(view.current)
        assert "2026-11-20 10:2" in status(app)  # the time span on screen
        await jump(pilot, "9:15")  # the quiet hour: the first line after it
        assert "request 10-0 ok" in app.tab.source.line(view.current)
        await jump(pilot, "-15m")  # 15 minutes before the last time, 10:59:50
        assert "request 10-269 ok" in app.tab.source.line(view.current)
        await jump(pilot, "2026-11-20T08:00:30")
        assert "request 8-3 ok" in app.tab.source.line(view.current)
        await jump(pilot, "12")  # a number is still a line number
        assert view.current == 11


async def test_a_time_after_the_end_or_nonsense_says_why(timed: Path) -> None:
    app = LogptApp(timed, backend=None, flags=None)
    async with app.run_test(size=(110, 20)) as pilot:
        await settle(pilot, app, lambda: "728 lines" in status(app))
        await jump(pilot, "23:00")
        await jump(pilot, "later")
        texts = [str(n.message) for n in app._notifications]
        assert any("no line at or after 2026-11-20 23:00:00: the last time is 2026-11-20 10:59:50" in t for t in texts)
        assert any("not a line number or a time: 'later'" in t for t in texts)


async def test_the_time_axis_leaves_the_quiet_hour_blank(timed: Path) -> None:
    app = LogptApp(timed, backend=None, flags=None)
    async with app.run_test(size=(110, 32)) as pilot:
        await settle(pilot, app, lambda: "728 lines" in status(app))
        bins = app.tab.query_one(Minimap).bins
        assert all(b.last > b.first for b in bins)  # by lines: every row holds lines
        await pilot.press("T")
        await pilot.pause(0.05)
        bins = app.tab.query_one(Minimap).bins
        empty = [b for b in bins if b.first == b.last]
        assert len(bins) == app.tab.query_one(Minimap).size.height and len(empty) >= len(bins) // 4


@pytest.fixture
def w3c(tmp_path: Path) -> Path:
    """An IIS log whose rows write only `time` (the day is in `#Date:`), a row every 7 s for an hour."""
    head = ["#Software: Microsoft Internet Information Services 10.0", "#Version: 1.0", "#Date: 2026-11-20 10:00:00",
            "#Fields: time c-ip cs-method cs-uri-stem sc-status"]  # fmt: skip
    rows = [f"10:{k // 60:02d}:{k % 60:02d} 192.0.2.{k % 250} GET /page{k} 200" for k in range(0, 3600, 7)]
    path = tmp_path / "u_ex261120.log"
    path.write_text("\n".join(head + rows) + "\n")
    return path


async def test_colon_jumps_in_a_file_whose_time_only_its_format_gives(w3c: Path) -> None:
    app = LogptApp(w3c, backend=None, flags=None)
    async with app.run_test(size=(110, 20)) as pilot:
        await settle(pilot, app, lambda: "519 lines" in status(app))
        await jump(pilot, "2026-11-20T10:30")
        view = app.tab.view
        assert app.tab.source.line(view.current).startswith("10:30:06 ")  # the first row at or after 10:30
        assert "2026-11-20 10:" in status(app)  # the time span on screen
        await jump(pilot, "10:45")  # a time of day, on the day of the row at the cursor
        assert app.tab.source.line(view.current).startswith("10:45:02 ")
