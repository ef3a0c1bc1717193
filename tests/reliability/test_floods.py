"""A flood of appended lines: the detector samples the newest lines and says so, instead of falling behind."""

from __future__ import annotations

import time
from pathlib import Path

from logpt_tui.explorer.app import LogptApp
from logpt_tui.explorer.flagset import FlagEngine
from logpt_tui.explorer.settings import FLOOD_KEEP, FLOOD_LINES
from tests.logpt_tui.explorer.test_app import settle, status

CYCLE = ["sshd[1]: Accepted publickey for deploy from 10.0.0.4 port 5012 ssh2",
         "CRON[2]: (root) CMD (run-parts /etc/cron.hourly)",
         "systemd[1]: Started Session 7 of user deploy.",
         "kernel: [ 12.5] eth0: link up"]  # fmt: skip


def lines(start: int, count: int) -> str:
    return "".join(
        f"Nov 21 10:{i // 60 % 60:02d}:{i % 60:02d} web-01 {CYCLE[i % 4]}\n" for i in range(start, start + count)
    )


async def test_a_flood_is_sampled_and_announced(tmp_path: Path) -> None:
    path = tmp_path / "host.log"
    path.write_text(lines(0, 1200))
    app = LogptApp(path, poll_seconds=0.05, backend=None, flags=FlagEngine(path, cache=tmp_path / "cache"))
    async with app.run_test(size=(120, 24)) as pilot:
        await settle(pilot, app, lambda: "flagged (self-trained" in status(app), tries=600)
        flood = FLOOD_LINES * 3
        with path.open("a") as f:
            f.write(lines(1200, flood))
        t0 = time.perf_counter()
        total = 1200 + flood
        await settle(pilot, app, lambda: app.tab.state.flags.found.upto == total, tries=600)
        assert time.perf_counter() - t0 < 20  # judging all 150,000 lines would take far longer on this CPU
        engine = app.tab.state.flags.engine
        assert engine.skipped == total - FLOOD_KEEP - 1200 and engine.lines == total
        await settle(pilot, app, lambda: "lines of a flood not judged" in status(app))
        with path.open("a") as f:  # after the flood, lines are judged one by one again
            f.write(lines(total, 10))
        await settle(pilot, app, lambda: engine.lines == total + 10, tries=200)
        assert engine.skipped == total - FLOOD_KEEP - 1200
