"""The merged timeline in the explorer: rows interleaved by time and marked with their file, both files
followed, the palette's merge of open tabs, and a time jump in the merged view."""

from __future__ import annotations

from pathlib import Path

import pytest

from logpt_tui.explorer.app import LogptApp, parse_args
from tests.logpt_tui.explorer.test_app import screen_text, settle, status


@pytest.fixture
def pair(tmp_path: Path) -> tuple[Path, Path]:
    web = tmp_path / "web.log"
    db = tmp_path / "db.log"
    web.write_text("".join(f"2026-11-20T10:00:{s:02d}Z INFO web: GET /item/{s}\n" for s in range(0, 60, 2)))
    db.write_text("".join(f"2026-11-20 10:00:{s:02d},000 WARN db: slow query {s}\n" for s in range(1, 60, 2)))
    return web, db


async def test_merged_rows_alternate_by_time_each_marked_with_its_file(pair: tuple[Path, Path]) -> None:
    app = LogptApp(list(pair), backend=None, flags=None, merge=True)
    async with app.run_test(size=(100, 20)) as pilot:
        await settle(pilot, app, lambda: "60 lines" in status(app) and "query 59" in screen_text(app))
        assert "merged: web.log + db.log" in status(app)
        rows = screen_text(app).splitlines()
        query = [r for r in rows if "slow query 57" in r][0]
        get = [r for r in rows if "GET /item/58" in r][0]
        assert "db.log" in query and "web.log" in get
        assert rows.index(query) + 1 == rows.index(get)  # 10:00:57 then 10:00:58
        with pair[0].open("a") as f:
            f.write("2026-11-20T10:01:00Z ERROR web: upstream timeout\n")
        with pair[1].open("a") as f:
            f.write("2026-11-20 10:01:01,000 ERROR db: too many connections\n")
        await settle(pilot, app, lambda: "too many connections" in screen_text(app) and "62 lines" in status(app))
        assert app.tab.source.block(60, 62)[0].endswith("upstream timeout")


async def test_a_time_jump_in_the_merged_view(pair: tuple[Path, Path]) -> None:
    app = LogptApp(list(pair), backend=None, flags=None, merge=True)
    async with app.run_test(size=(100, 20)) as pilot:
        await settle(pilot, app, lambda: "60 lines" in status(app))
        await pilot.press("colon", "1", "0", "colon", "0", "0", "colon", "3", "1", "enter")
        await pilot.pause(0.05)
        assert app.tab.source.line(app.tab.view.current).endswith("slow query 31")


async def test_the_palette_merges_open_tabs(pair: tuple[Path, Path]) -> None:
    app = LogptApp(list(pair), backend=None, flags=None)
    async with app.run_test(size=(100, 20)) as pilot:
        await settle(pilot, app, lambda: "30 lines" in status(app))
        await app.action_merge_files()
        await settle(pilot, app, lambda: "60 lines" in status(app))
        assert "merged" in status(app) and len(app.tabs) == 3
        await app.action_merge_files()  # already open: it is shown, not opened twice
        await pilot.pause(0.05)
        assert len(app.tabs) == 3


def test_merge_is_a_command_line_option() -> None:
    assert parse_args(["--merge", "a.log", "b.log"]).merge
