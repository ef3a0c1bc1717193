"""The real `logpt-tui` in tmux, driven like a person: read the screen, append to the file, press keys."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.tmux_pane import Pane, explorer_command, have_tmux

pytestmark = pytest.mark.skipif(not have_tmux(), reason="tmux is not installed")
SESSION = "logpt-e2e"


def test_open_follow_pause_and_quit(tmp_path: Path) -> None:
    log = tmp_path / "live.log"
    log.write_text("".join(f"Nov 21 10:00:{i % 60:02d} web-01 app[1]: line {i}\n" for i in range(1, 501)))
    with Pane(f"{explorer_command()} {log}", session=SESSION) as pane:
        pane.wait_for("500 lines")
        shown = pane.wait_for("line 500")  # opens at the end (the view scrolls there once indexed)
        assert "following" in shown
        with log.open("a") as f:
            f.write("Nov 21 10:01:00 web-01 app[1]: appended FAILED\n")
        pane.wait_for("appended FAILED")
        pane.keys("g")
        shown = pane.wait_for("paused")
        assert "line 1 " in shown or "line 1\n" in shown
        pane.keys("q")
        deadline = time.monotonic() + 10
        while pane.alive() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not pane.alive()


@pytest.mark.slow  # a real terminal (tmux) and an explorer process: CI runs -m slow
def test_piped_input_is_followed() -> None:
    feed = "(seq 1 300 | sed 's/^/piped line /'; sleep 1; echo late piped line)"
    with Pane(f"{explorer_command()} -", session=SESSION, height=12, feed=feed) as pane:
        assert "stdin" in pane.wait_for("piped line 300")
        pane.wait_for("late piped line")
        pane.keys("q")


SAMPLE = Path(__file__).resolve().parents[2] / "assets" / "samples" / "web-incident.log"
DEFAULT_MODEL = Path(__file__).resolve().parents[2] / "weights" / "logpt-analyst"


@pytest.mark.slow  # loads the bundled model in a real terminal: opt-in (Pilot tests cover the panel)
@pytest.mark.skipif(not DEFAULT_MODEL.is_dir(), reason="the default analysis model is not in weights/")
def test_root_cause_streams_from_the_default_model() -> None:
    with Pane(f"{explorer_command()} {SAMPLE}", session=SESSION, width=160, height=40) as pane:
        pane.wait_for("logpt-analyst · (", timeout=60)  # the model loads in the background
        pane.wait_for(" · chunk ", timeout=30)  # then the file is planned into chunks
        pane.keys("r")
        shown = pane.wait_for("tok/s", timeout=60)
        assert "Root cause" in shown and "Category" in shown
        pane.keys("q")


@pytest.mark.slow  # a real terminal (tmux) and an explorer process: CI runs -m slow
def test_merged_timeline_follows_two_growing_files(tmp_path: Path) -> None:
    web, db = tmp_path / "web.log", tmp_path / "db.log"
    web.write_text("".join(f"2026-11-20T10:00:{s:02d}Z INFO web: GET /item/{s}\n" for s in range(0, 60, 2)))
    db.write_text("".join(f"2026-11-20 10:00:{s:02d},000 WARN db: slow query {s}\n" for s in range(1, 60, 2)))
    with Pane(f"{explorer_command()} --merge {web} {db}", session=SESSION, width=120, height=20) as pane:
        shown = pane.wait_for("60 lines")
        assert "merged: web.log + db.log" in shown
        for k in range(5):  # both files grow, in turn
            with web.open("a") as f:
                f.write(f"2026-11-20T10:01:{2 * k:02d}Z ERROR web: upstream timeout {k}\n")
            with db.open("a") as f:
                f.write(f"2026-11-20 10:01:{2 * k + 1:02d},000 ERROR db: too many connections {k}\n")
            time.sleep(0.2)
        shown = pane.wait_for("70 lines")
        rows = shown.splitlines()
        last = [r for r in rows if "too many connections 4" in r]
        before = [r for r in rows if "upstream timeout 4" in r]
        assert last and before and "db.log" in last[0] and "web.log" in before[0]
        assert rows.index(before[0]) + 1 == rows.index(last[0])
        pane.keys("q")


@pytest.mark.slow
def test_time_jump_on_a_1_gib_file(tmp_path: Path) -> None:
    """`:` with a time on a 1 GiB log: the first line at or after it is on screen at once (opt-in: -m slow)."""
    log = tmp_path / "big.log"
    with log.open("w") as f:
        block = []
        for i in range(12_000_000):  # ~90 bytes a line, one line every 7 ms of a day
            ms = i * 7
            block.append(f"2026-11-20T{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}."
                         f"{ms % 1000:03d}Z INFO api: request {i} served from cache node 7\n")  # fmt: skip
            if len(block) == 100_000:
                f.write("".join(block))
                block.clear()
        f.write("".join(block))
    with Pane(f"{explorer_command()} --no-flags --no-model {log}", session=SESSION, width=160, height=20) as pane:
        pane.wait_for("12,000,000 lines", timeout=120)
        pane.keys(":")
        pane.wait_for("go to line or time", timeout=10)  # typed before the prompt has focus, the keys go to the view
        pane.keys("13:05")
        t0 = time.monotonic()
        pane.keys("Enter")
        shown = pane.wait_for("2026-11-20T13:05:00.", timeout=10, poll=0.01)
        assert time.monotonic() - t0 < 2  # a binary search, not a scan (the target is 200 ms; tmux adds its own)
        assert "request 6728572 " in shown  # 13:05:00.004 is the first line at or after 13:05
        pane.keys("q")
