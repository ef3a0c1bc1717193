"""Search, driven by keys: the match count, the match highlighted inside the line, the case toggle, Esc."""

from __future__ import annotations

import threading
from pathlib import Path

from engine.logs import search as block_search
from logpt_tui.explorer.app import LogptApp
from logpt_tui.explorer.messages import SearchCounted
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


def many_lines(path: Path, n: int = 3000) -> list[int]:
    """A log where every 30th line (from the 8th) says Timeout; returns those lines, 0-based."""
    path.write_text("".join(f"10:00:{i % 60:02d} api: request {i} {'Timeout' if i % 30 == 7 else 'ok'}\n"
                            for i in range(n)))  # fmt: skip
    return [i for i in range(n) if i % 30 == 7]


async def test_the_count_grows_block_by_block_and_the_first_match_shows(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setattr(block_search, "BLOCK_BYTES", 8192)  # ~200 lines a block: the count comes in many steps
    monkeypatch.setattr(block_search, "FIRST_BYTES", 1024)
    log = tmp_path / "app.log"
    expected = many_lines(log)
    app = LogptApp(log, backend=None, flags=None)
    async with app.run_test(size=(100, 20)) as pilot:
        await settle(pilot, app, lambda: "3,000 lines" in status(app))
        tab, counted = app.tab, []
        post = tab.post_message
        tab.post_message = lambda m: (counted.append(m) if isinstance(m, SearchCounted) else None, post(m))[1]
        await pilot.press("g", "slash", *"Timeout", "enter")
        await settle(pilot, app, lambda: "match 1/100" in status(app))
        assert tab.view.current == expected[0] and tab.state.search.matches == expected
        assert len(counted) > 5 and counted[0].first and counted[-1].done and not counted[0].done
        await pilot.press("G", "N")  # backwards from the last line: the last match
        await settle(pilot, app, lambda: "match 100/100" in status(app))
        assert tab.view.current == expected[-1]


async def test_esc_stops_a_running_search_and_its_count(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    gate, read = threading.Event(), block_search.read_block
    monkeypatch.setattr(block_search, "read_block", lambda *a: (gate.wait(10), read(*a))[1])  # a slow disk
    log = tmp_path / "app.log"
    many_lines(log)
    app = LogptApp(log, backend=None, flags=None)
    async with app.run_test(size=(100, 20)) as pilot:
        await settle(pilot, app, lambda: "3,000 lines" in status(app))
        await pilot.press("slash", *"Timeout", "enter")
        await pilot.pause(0.1)
        assert "match –/0…" in status(app)  # counting
        running = [w for w in app.tab.workers if w.group in ("search", "count")]
        assert len(running) == 2 and not any(w.is_finished for w in running)
        await pilot.press("escape")
        assert all(w.is_cancelled for w in running)
        assert any("search cancelled" in str(n.message) for n in app._notifications)
        gate.set()
        await settle(pilot, app, lambda: all(w.is_finished for w in running))
        assert not app.tab.state.search.counted and app.tab.state.search.matches == []


async def test_a_catastrophic_search_is_refused_with_one_line(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setattr("engine.logs.userregex.TIMEOUT_S", 0.2)  # the same refusal, sooner: 2^26 tries take far longer
    log = tmp_path / "a.log"
    log.write_text("".join("a" * 26 + "b\n" for _ in range(20)))
    app = LogptApp(log, backend=None, flags=None)
    async with app.run_test(size=(100, 20)) as pilot:
        await settle(pilot, app, lambda: "20 lines" in status(app))
        await pilot.press("slash", *"^(a|a)*$", "enter")
        await settle(pilot, app, lambda: app.tab.state.search.pattern is None, tries=400)
        refused = [str(n.message) for n in app._notifications if "catastrophic backtracking" in str(n.message)]
        assert len(refused) == 1 and "\n" not in refused[0]
        assert "match" not in status(app)
