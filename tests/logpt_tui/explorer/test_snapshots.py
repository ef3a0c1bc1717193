"""SVG snapshots of the explorer's main screens with deterministic fixtures.

A snapshot that differs, or is missing, fails the test and writes the new SVG
(`*.new.svg`) for review; `LOGPT_UPDATE_SNAPSHOTS=1` accepts the new ones.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from engine.analysis.reply import Generation
from logpt_tui.explorer.app import LogptApp
from tests.logpt_tui.explorer.test_app import FakeBackend, settle, status

SNAPSHOTS = Path(__file__).parent / "snapshots"
LOG = "".join(
    f"Nov 21 10:00:{i % 60:02d} web-01 {'kernel: EXT4-fs error (device sda2): ext4_lookup: deleted inode referenced' if i == 37 else f'app[1]: request {i} ok'}\n"
    for i in range(1, 61)
)


def check(name: str, svg: str) -> None:
    expected = SNAPSHOTS / f"{name}.svg"
    if os.environ.get("LOGPT_UPDATE_SNAPSHOTS"):
        SNAPSHOTS.mkdir(exist_ok=True)
        expected.write_text(svg, encoding="utf-8")
        return
    if not expected.exists():  # a new snapshot is reviewed before it counts, like a changed one
        (SNAPSHOTS / f"{name}.new.svg").write_text(svg, encoding="utf-8")
        pytest.fail(f"no {name} snapshot yet: see {name}.new.svg (LOGPT_UPDATE_SNAPSHOTS=1 accepts it)")
    if expected.read_text(encoding="utf-8") != svg:
        (SNAPSHOTS / f"{name}.new.svg").write_text(svg, encoding="utf-8")
        pytest.fail(f"{name} snapshot differs: see {name}.new.svg (LOGPT_UPDATE_SNAPSHOTS=1 accepts it)")


@pytest.fixture
def log(tmp_path: Path) -> Path:
    path = tmp_path / "app.log"
    path.write_text(LOG)
    return path


async def test_main_screen_with_a_filter(log: Path) -> None:
    app = LogptApp(log, name="app.log", poll_seconds=60, backend=None, flags=None)
    async with app.run_test(size=(90, 16)) as pilot:
        await settle(pilot, app, lambda: "60 lines" in status(app))
        await pilot.press("L")  # WARN and worse
        await settle(pilot, app, lambda: "1 shown" in status(app))
        await pilot.pause(0.3)
        check("main-filtered", app.export_screenshot())


class SteadyBackend(FakeBackend):
    def written(self, pieces: int) -> Generation:
        return Generation(tokens=12, decode_tokens_per_s=100.0)  # what the panel shows, fixed for the snapshot


async def test_analysis_panel(log: Path) -> None:
    app = LogptApp(log, name="app.log", poll_seconds=60, backend=SteadyBackend(), flags=None)
    async with app.run_test(size=(110, 20)) as pilot:
        await settle(pilot, app, lambda: "chunk" in status(app))
        await pilot.press("colon", *"37", "enter", "r")
        await settle(pilot, app, lambda: app.tab.panel.replies != {})
        await pilot.pause(0.3)
        check("analysis-panel", app.export_screenshot())


async def test_help_screen(log: Path) -> None:
    app = LogptApp(log, name="app.log", poll_seconds=60, backend=None, flags=None)
    async with app.run_test(size=(90, 40)) as pilot:
        await settle(pilot, app, lambda: "60 lines" in status(app))
        await pilot.press("question_mark")
        await pilot.pause(0.3)
        check("help", app.export_screenshot())


async def test_merged_view(tmp_path: Path) -> None:
    web, db = tmp_path / "web.log", tmp_path / "db.log"
    web.write_text("".join(f"2026-11-20T10:00:{s:02d}Z INFO web: GET /item/{s} 200\n" for s in range(0, 24, 2)))
    db.write_text("".join(f"2026-11-20 10:00:{s:02d},000 WARN db: slow query {s} ms\n" for s in range(1, 24, 2)))
    app = LogptApp([web, db], poll_seconds=60, backend=None, flags=None, merge=True)
    async with app.run_test(size=(90, 16)) as pilot:
        await settle(pilot, app, lambda: "24 lines" in status(app))
        await pilot.pause(0.3)
        check("merged", app.export_screenshot())


async def test_record_pane(tmp_path: Path) -> None:
    path = tmp_path / "api.log"
    path.write_text('{"time": "2026-11-20T10:00:00Z", "level": "error", "msg": "upstream timeout", '
                    '"upstream": {"host": "db-1", "port": 5432}, "attempt": 3}\n')  # fmt: skip
    app = LogptApp(path, name="api.log", poll_seconds=60, backend=None, flags=None)
    async with app.run_test(size=(110, 24)) as pilot:
        await settle(pilot, app, lambda: "1 line" in status(app))
        await pilot.press("colon", "1", "enter", "v")
        await pilot.pause(0.3)
        check("record", app.export_screenshot())
