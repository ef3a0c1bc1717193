"""`F`, the prompts' labels and a key pressed before the model, driven by keys: `F` says it is on and why it
is empty and keeps the cursor's line; each prompt names what it asks; `s` / `r` / `a` wait for the model."""

from __future__ import annotations

import threading
from pathlib import Path
from types import SimpleNamespace

import pytest

from engine.detect.pipeline import Flag
from logpt_tui.explorer.app import LogptApp
from logpt_tui.explorer.messages import FlagsFound, FlagStatus
from tests.logpt_tui.explorer.test_app import FakeBackend, panel_text, screen_text, settle, status
from tests.logpt_tui.explorer.test_cursor import cursor_shown
from tests.logpt_tui.explorer.test_time import jump


@pytest.fixture
def log(tmp_path: Path) -> Path:
    path = tmp_path / "app.log"
    path.write_text("".join(f"2026-11-20T10:00:{i % 60:02d}Z INFO api: request {i} ok\n" for i in range(1, 1001)))
    return path


async def test_f_says_it_is_on_and_keeps_the_cursors_line(log: Path) -> None:
    app = LogptApp(log, poll_seconds=60, backend=None, flags=None)
    async with app.run_test(size=(120, 24)) as pilot:
        await settle(pilot, app, lambda: "1,000 lines" in status(app))
        tab, view = app.tab, app.tab.view
        await jump(pilot, "500")
        await pilot.press("F")  # no flags: the view says why it is empty
        assert "flagged only: 0 shown" in status(app)
        assert "no line is flagged: the detector is off" in screen_text(app)
        await pilot.press("F")  # off: back on the line, not at the top of the file
        assert "flagged only" not in status(app) and view.current == 499 and cursor_shown(app)
        flags = [Flag(n + 1, "window 1", "request <*> ok", "rank 9, p=0.001", ()) for n in (99, 699)]
        tab.post_message(FlagsFound(flags, 1000))
        await settle(pilot, app, lambda: len(tab.state.flags.found) == 2)
        await pilot.press("F")  # on: the cursor goes to the nearest flagged line after its own
        assert "flagged only: 2 shown" in status(app) and view.current == 699 and cursor_shown(app)
        await pilot.press("k")
        assert view.current == 99 and cursor_shown(app)
        await pilot.press("F")  # off: the cursor stays on line 100, in the middle of the view
        assert view.rows is None and view.current == 99 and cursor_shown(app)
        assert "request 100 ok" in screen_text(app) and "request 28 ok" not in screen_text(app)


async def test_f_before_the_detector_is_done_says_it_is_still_at_work(log: Path) -> None:
    app = LogptApp(log, poll_seconds=60, backend=None, flags=None)
    async with app.run_test(size=(120, 24)) as pilot:
        await settle(pilot, app, lambda: "1,000 lines" in status(app))
        tab = app.tab
        tab.state.flags.engine = SimpleNamespace(ready=False)  # a detector at work (only its presence is read)
        tab.post_message(FlagStatus("working", "mining 40%"))
        await settle(pilot, app, lambda: "mining 40%" in status(app))
        await pilot.press("F")
        assert "no flagged lines yet: the detector is still mining 40%" in screen_text(app)
        tab.post_message(FlagStatus("working", "mining 80%"))  # the reason follows the detector
        await settle(pilot, app, lambda: "still mining 80%" in screen_text(app))


async def test_each_prompt_names_what_it_asks(log: Path) -> None:
    app = LogptApp(log, poll_seconds=60, backend=None, flags=None)
    async with app.run_test(size=(120, 24)) as pilot:
        await settle(pilot, app, lambda: "1,000 lines" in status(app))
        prompt = app.tab.prompt
        for key, label in [("slash", "search /"), ("i", "include"), ("x", "exclude"), ("colon", "go to line or time")]:
            await pilot.press(key)
            assert prompt.has_class("-open") and prompt.border_title == label  # drawn on the prompt's top border
            await pilot.press("escape")
        await pilot.press("X")  # the export prompt keeps its text and gets a label too
        assert prompt.border_title == "export" and prompt.placeholder.startswith("export the shown lines to")


class SlowLoad(FakeBackend):
    """A model that loads until released."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()

    def load(self) -> None:
        self.release.wait(10)


async def test_a_key_pressed_while_the_model_loads_is_answered_when_it_is_ready(log: Path) -> None:
    backend = SlowLoad()
    app = LogptApp(log, poll_seconds=60, backend=backend, flags=None)
    async with app.run_test(size=(120, 24)) as pilot:
        await settle(pilot, app, lambda: "1,000 lines" in status(app) and "loading model" in status(app))
        await jump(pilot, "500")
        await pilot.press("r")
        assert "root cause queued" in status(app) and backend.calls == []
        backend.release.set()
        await settle(pilot, app, lambda: "tok/s" in panel_text(app))
        start = app.tab.state.plan.span(app.tab.state.plan.chunk_of(499))[0]
        assert backend.calls == [(start + 1, "root_cause")] and "queued" not in status(app)
