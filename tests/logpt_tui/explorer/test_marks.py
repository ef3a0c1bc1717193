"""Marks, export, the analysis queue and where replies are saved, driven by keys."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from logpt_tui.explorer.app import LogptApp
from tests.logpt_tui.explorer.test_app import FakeBackend, panel_text, settle, status
from tests.logpt_tui.explorer.test_time import jump

SAMPLE = Path(__file__).resolve().parents[3] / "assets" / "samples" / "web-incident.log"


@pytest.fixture(autouse=True)
def user_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("XDG_STATE_HOME", "XDG_DATA_HOME"):
        monkeypatch.setenv(name, str(tmp_path / name.lower()))
    return tmp_path


@pytest.fixture
def log(tmp_path: Path) -> Path:
    path = tmp_path / "app.log"
    path.write_text("".join(f"2026-11-20T10:00:{i % 60:02d}Z INFO api: request {i} ok\n" for i in range(1, 101)))
    return path


async def test_marks_jump_around_and_survive_reopening(log: Path) -> None:
    app = LogptApp(log, backend=None, flags=None)
    async with app.run_test(size=(100, 20)) as pilot:
        await settle(pilot, app, lambda: "100 lines" in status(app))
        for line in ("10", "40", "70"):
            await jump(pilot, line)
            await pilot.press("m")
        assert app.tab.state.marks == [9, 39, 69]
        await jump(pilot, "50")
        await pilot.press("apostrophe")
        assert app.tab.view.current == 69
        await pilot.press("apostrophe")  # wraps to the first
        assert app.tab.view.current == 9
        await pilot.press("grave_accent")  # back wraps to the last
        assert app.tab.view.current == 69
        await pilot.press("m")  # unmark
        assert app.tab.state.marks == [9, 39]
    app = LogptApp(log, backend=None, flags=None)
    async with app.run_test(size=(100, 20)) as pilot:
        await settle(pilot, app, lambda: "100 lines" in status(app))
        assert app.tab.state.marks == [9, 39]
        log.write_text("truncated\n")  # the marked lines are gone
        await settle(pilot, app, lambda: "1 line" in status(app))
        assert app.tab.state.marks == []


async def test_the_marked_range_is_analysed_by_the_analyst_and_exported(log: Path, tmp_path: Path) -> None:
    app = LogptApp(SAMPLE, backend=None, flags=None)
    async with app.run_test(size=(140, 30)) as pilot:
        await settle(pilot, app, lambda: "32 lines" in status(app))
        await jump(pilot, "5")
        await pilot.press("m")
        await jump(pilot, "20")
        await pilot.press("m", "M")
        await settle(pilot, app, lambda: "written by the analyst" in panel_text(app))
        assert "marked lines 5–20 · analyst" in panel_text(app) and "lines 5–20" in panel_text(app)
        await pilot.press("ctrl+x")
        prompt = app.tab.prompt
        assert prompt.value.startswith(str(tmp_path / "xdg_data_home" / "logpt" / "exports"))
        prompt.value = str(tmp_path / "range.jsonl")
        await pilot.press("enter")
        await pilot.pause(0.05)
        rows = [json.loads(line) for line in (tmp_path / "range.jsonl").read_text().splitlines()]
        assert [r["line"] for r in rows] == list(range(5, 21))
        assert rows[0]["text"] == SAMPLE.read_text().splitlines()[4] and rows[0]["source"] == str(SAMPLE)


async def test_x_exports_the_filtered_lines_as_they_are(log: Path, tmp_path: Path) -> None:
    app = LogptApp(log, backend=None, flags=None)
    async with app.run_test(size=(100, 20)) as pilot:
        await settle(pilot, app, lambda: "100 lines" in status(app))
        await pilot.press("i", *"request 1[0-9] ", "enter")
        await settle(pilot, app, lambda: "10 shown" in status(app))
        await pilot.press("X")
        app.tab.prompt.value = str(tmp_path / "out" / "filtered.log")
        await pilot.press("enter")
        await pilot.pause(0.05)
        text = (tmp_path / "out" / "filtered.log").read_text().splitlines()
        assert text == [f"2026-11-20T10:00:{i:02d}Z INFO api: request {i} ok" for i in range(10, 20)]


async def export(pilot, app: LogptApp, target: Path) -> None:  # noqa: ANN001
    await pilot.press("X")
    app.tab.prompt.value = str(target)
    await pilot.press("enter")
    await pilot.pause(0.05)


async def test_export_asks_before_replacing_and_never_writes_the_log_it_shows(log: Path, tmp_path: Path) -> None:
    import os

    kept = tmp_path / "kept.log"
    kept.write_text("my notes\n")
    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "link.log").symlink_to(log)
    original = log.read_text()
    app = LogptApp(log, backend=None, flags=None)
    async with app.run_test(size=(100, 20)) as pilot:
        await settle(pilot, app, lambda: "100 lines" in status(app))
        for target in (log, tmp_path / "link.log", tmp_path / "pipe", tmp_path):  # refused, nothing written
            await export(pilot, app, target)
            assert not app.tab.prompt.has_class("-open")
        assert log.read_text() == original and (tmp_path / "pipe").exists() and "100 lines" in status(app)
        await export(pilot, app, kept)  # exists: asked, not written
        assert app.tab.prompt.has_class("-open") and "kept.log exists" in app.tab.prompt.placeholder
        assert kept.read_text() == "my notes\n"
        await pilot.press("escape")  # kept
        await export(pilot, app, kept)
        assert kept.read_text() == "my notes\n"
        await pilot.press("enter")  # asked again; Enter on the same name replaces it
        await pilot.pause(0.05)
        assert kept.read_text() == original
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")) == []


def test_a_failed_export_leaves_the_old_file_and_no_temporary_one(tmp_path: Path) -> None:
    from logpt_tui.explorer.tab_marks import write_replacing

    target = tmp_path / "out.log"
    target.write_text("before\n")
    target.chmod(0o640)

    def fails(out) -> int:  # noqa: ANN001
        out.write("half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_replacing(target, fails)
    assert target.read_text() == "before\n" and [p.name for p in tmp_path.iterdir()] == ["out.log"]
    assert write_replacing(target, lambda out: out.write("after\n") and 1) == 1
    assert target.read_text() == "after\n" and target.stat().st_mode & 0o777 == 0o640


async def test_a_second_request_while_one_streams_is_queued_then_runs(log: Path) -> None:
    backend = FakeBackend(delay=0.2)
    app = LogptApp(log, poll_seconds=0.05, backend=backend, flags=None)
    async with app.run_test(size=(120, 24)) as pilot:
        await settle(pilot, app, lambda: "chunk" in status(app) and "fake" in status(app))
        await pilot.press("s")
        await settle(pilot, app, lambda: "generating" in panel_text(app))
        await pilot.press("r", "r")  # queued once
        assert "1 queued" in panel_text(app)
        await settle(pilot, app, lambda: len(backend.calls) == 2 and "tok/s" in panel_text(app), tries=200)
        assert [q for _, q in backend.calls] == ["summary", "root_cause"]
        assert "root_cause" in panel_text(app)


async def test_replies_are_saved_in_the_data_dir_and_the_path_is_shown(user_dirs: Path) -> None:
    app = LogptApp(SAMPLE, backend=None, flags=None, engine="analyst")
    async with app.run_test(size=(140, 30)) as pilot:
        await settle(pilot, app, lambda: "chunk 1/1" in status(app))
        await pilot.press("r")
        await settle(pilot, app, lambda: "written by the analyst" in panel_text(app))
        await pilot.press("w")
        await pilot.pause(0.05)
        saved = list((user_dirs / "xdg_data_home" / "logpt" / "replies").glob("*.md"))
        assert len(saved) == 1 and "Root cause" in saved[0].read_text()
        assert any(str(saved[0]) in str(n.message) for n in app._notifications)
