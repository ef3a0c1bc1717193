"""Search, driven by keys: the match count, the match highlighted inside the line, the case toggle, Esc."""

from __future__ import annotations

from pathlib import Path

from logpt_tui.explorer.app import LogptApp
from logpt_tui.explorer.widgets.log_view import MATCH_STYLE
from tests.logpt_tui.explorer.test_app import settle, status


async def test_the_count_the_highlight_and_the_case_toggle(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_text("".join(f"10:00:{i % 60:02d} api: request {i} {'Timeout' if i % 10 == 0 else 'ok'}\n"
                           for i in range(1, 101)))  # fmt: skip
    app = LogptApp(log, backend=None, flags=None)
    async with app.run_test(size=(100, 20)) as pilot:
        await settle(pilot, app, lambda: "100 lines" in status(app))
        await pilot.press("g", "slash", *"timeout", "enter")
        await settle(pilot, app, lambda: "match –/0" in status(app))  # case-sensitive: no line has 'timeout'
        await pilot.press("C")  # ignore case: searched again
        await settle(pilot, app, lambda: "match 1/10" in status(app))
        view = app.tab.view
        assert view.current == 9
        segments = list(view.highlight(app.tab.source.line(9), None))
        assert [s.text for s in segments if s.style == MATCH_STYLE] == ["Timeout"]  # the match, not the line
        await pilot.press("n", "n")
        assert "match 3/10" in status(app)
        await pilot.press("N")
        assert "match 2/10" in status(app)
        await pilot.press("escape")  # nothing running: the search ends
        await pilot.pause(0.05)
        assert "match" not in status(app) and app.tab.state.search.pattern is None
