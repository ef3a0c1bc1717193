"""The cursor, driven by keys: the highlighted line is the one keys act on, and it is always on screen."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.detect.pipeline import Flag
from logpt_tui.explorer.app import LogptApp
from logpt_tui.explorer.messages import FlagsFound
from logpt_tui.explorer.widgets.log_view import CURSOR_STYLE
from tests.logpt_tui.explorer.test_app import FakeBackend, panel_text, settle, status
from tests.logpt_tui.explorer.test_time import jump


@pytest.fixture(autouse=True)
def user_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("XDG_STATE_HOME", "XDG_DATA_HOME"):  # marks are saved per file: not in the user's dirs
        monkeypatch.setenv(name, str(tmp_path / name.lower()))


@pytest.fixture
def log(tmp_path: Path) -> Path:
    path = tmp_path / "app.log"
    path.write_text("".join(f"2026-11-20T10:00:{i % 60:02d}Z INFO api: request {i} ok\n" for i in range(1, 1401)))
    return path


def highlighted(app: LogptApp) -> list[int]:
    """The 0-based lines drawn in the cursor's colour on screen, read from their line numbers."""
    view = app.tab.view
    rows = []
    for y in range(view.size.height):
        strip = view.render_line(y)
        if any(s.style is not None and s.style.bgcolor == CURSOR_STYLE.bgcolor for s in strip):
            rows.append(int(strip.text.split()[0]) - 1)
    return rows


def cursor_shown(app: LogptApp) -> bool:
    """The line keys act on is the one highlighted, on screen, and the status bar names it."""
    line = app.tab.view.current
    return line is not None and highlighted(app) == [line] and f"line {line + 1:,} " in status(app) + " "


async def open_with_flags(pilot, app: LogptApp, flagged: tuple[int, ...]) -> None:  # noqa: ANN001
    await settle(pilot, app, lambda: "1,400 lines" in status(app) and "chunk" in status(app))
    flags = [Flag(n + 1, "window 1", "request <*> ok", "rank 9, p=0.001", ()) for n in flagged]
    app.tab.post_message(FlagsFound(flags, 1400))
    await settle(pilot, app, lambda: len(app.tab.state.flags.found) == len(flagged))


async def test_the_line_keys_act_on_is_the_highlighted_one_on_screen(log: Path) -> None:
    """The issue's repro: after `:1242`, `G`, `E` the why pane explained a line off screen; `v` another."""
    app = LogptApp(log, poll_seconds=60, backend=FakeBackend(), flags=None)
    async with app.run_test(size=(120, 30)) as pilot:
        await open_with_flags(pilot, app, (299, 955))
        assert cursor_shown(app) and app.tab.view.current == 1399  # following: the last line
        await jump(pilot, "1242")
        await pilot.press("G")
        assert app.tab.view.current == 1399 and cursor_shown(app)
        await pilot.press("E")
        assert app.tab.view.current == 955 and cursor_shown(app)
        assert "Why line 956 is flagged" in panel_text(app)
        k = app.tab.state.plan.chunk_of(955)
        assert f"chunk {k + 1}/" in status(app)
        await pilot.press("g")  # the cursor goes along: y, v and m now act on line 1
        assert app.tab.view.current == 0 and cursor_shown(app) and "chunk 1/" in status(app)
        await pilot.press("y")
        assert "Line 1 is not flagged" in panel_text(app)
        await pilot.press("v")
        assert "record, line 1" in panel_text(app)
        app.tab.view.scroll_to(y=600, animate=False, immediate=True)  # the mouse wheel: the cursor is dragged along
        await pilot.pause(0.05)
        assert cursor_shown(app) and app.tab.view.current == 600
        await pilot.press("m", "v")
        assert app.tab.state.marks == [600] and "record, line 601" in panel_text(app)
        await pilot.press("s")  # the reply is for the cursor's chunk
        await settle(pilot, app, lambda: app.tab.panel.replies != {})
        assert (app.tab.state.plan.span(app.tab.state.plan.chunk_of(600))[0], "summary") in app.tab.panel.replies


async def test_every_jump_keeps_the_cursor_on_screen(log: Path) -> None:
    app = LogptApp(log, poll_seconds=60, backend=FakeBackend(), flags=None)
    async with app.run_test(size=(120, 30)) as pilot:
        await open_with_flags(pilot, app, (10, 700, 1300))
        view = app.tab.view
        for keys, line in [(("g", "e"), 10), (("e",), 700), (("E",), 10), (("G",), 1399), (("E",), 1300)]:
            await pilot.press(*keys)
            assert view.current == line and cursor_shown(app), keys
        await jump(pilot, "300")
        assert view.current == 299 and cursor_shown(app)
        await pilot.press("m")
        await jump(pilot, "1100")
        await pilot.press("apostrophe")  # the next mark wraps to line 300
        assert view.current == 299 and cursor_shown(app)
        await pilot.press("slash", *"request 1250 ", "enter")
        await settle(pilot, app, lambda: view.current == 1249)
        assert cursor_shown(app)
        await pilot.press("slash", *"request 12 ", "enter", "N")  # the previous match
        await settle(pilot, app, lambda: view.current == 11)
        assert cursor_shown(app)
        await pilot.press("escape", "right_square_bracket")  # the next chunk
        assert view.current == app.tab.state.plan.span(app.tab.state.plan.chunk_of(11) + 1)[0] and cursor_shown(app)


async def test_arrows_j_k_and_the_page_keys_move_the_cursor(log: Path) -> None:
    app = LogptApp(log, poll_seconds=60, backend=None, flags=None)
    async with app.run_test(size=(100, 22)) as pilot:  # a view of 20 rows
        await settle(pilot, app, lambda: "1,400 lines" in status(app))
        view = app.tab.view
        await pilot.press("up")  # moving up stops following
        assert view.current == 1398 and "paused" in status(app) and cursor_shown(app)
        await pilot.press("g", "down", "down", "j")
        assert view.current == 3 and cursor_shown(app)
        await pilot.press("k", "up")
        assert view.current == 1 and cursor_shown(app)
        for _ in range(25):  # past the bottom row: the view scrolls with it
            await pilot.press("j")
        assert view.current == 26 and cursor_shown(app) and view.visible_lines()[0] > 0
        await pilot.press("pagedown")
        assert view.current == 26 + 19 and cursor_shown(app)
        await pilot.press("pageup", "pageup", "pageup")
        assert view.current == 0 and cursor_shown(app)
        await pilot.press("k")  # at the top it stays
        assert view.current == 0


async def test_a_click_puts_the_cursor_on_a_line_and_wrapped_lines_keep_it_on_screen(tmp_path: Path) -> None:
    path = tmp_path / "long.log"
    path.write_text("".join(f"{i} " + "x" * (30 + 120 * (i % 3)) + f" end{i}\n" for i in range(60)))
    app = LogptApp(path, poll_seconds=60, backend=None, flags=None)
    async with app.run_test(size=(80, 20)) as pilot:
        await settle(pilot, app, lambda: "60 lines" in status(app))
        view = app.tab.view
        await pilot.press("W", "g")
        for _ in range(30):
            await pilot.press("j")
            first, stop = view.screen_rows()
            assert first <= view.current < stop
        assert view.current == 30
        await pilot.press("W")
        await pilot.click("LogView", offset=(20, 3))
        first, _ = view.visible_lines()
        assert view.current == first + 3 and cursor_shown(app)
