"""The real `logpt-tui` in tmux, driven like a person: read the screen, append to the file, press keys."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
SESSION = "logpt-e2e"


def tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], capture_output=True, text=True, timeout=10).stdout


def screen() -> str:
    return tmux("capture-pane", "-t", SESSION, "-p")


def wait_for(text: str, timeout: float = 15.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        shown = screen()
        if text in shown:
            return shown
        time.sleep(0.1)
    raise AssertionError(f"{text!r} not on screen:\n{screen()}")


def test_open_follow_pause_and_quit(tmp_path: Path) -> None:
    log = tmp_path / "live.log"
    log.write_text("".join(f"Nov 21 10:00:{i % 60:02d} web-01 app[1]: line {i}\n" for i in range(1, 501)))
    script = Path(sys.executable).with_name("logpt-tui")
    program = f"{script} {log}" if script.exists() else f"{sys.executable} -m logpt_tui.app {log}"
    # A clean terminal environment: the test runner's COLUMNS/LINES must not size the app.
    command = f"env -u COLUMNS -u LINES TERM=xterm-256color {program}"
    tmux("kill-session", "-t", SESSION)
    tmux("new-session", "-d", "-s", SESSION, "-x", "100", "-y", "15", command)
    try:
        wait_for("500 lines")
        shown = wait_for("line 500")  # opens at the end (the view scrolls there once indexed)
        assert "following" in shown
        with log.open("a") as f:
            f.write("Nov 21 10:01:00 web-01 app[1]: appended FAILED\n")
        wait_for("appended FAILED")
        tmux("send-keys", "-t", SESSION, "g")
        shown = wait_for("paused")
        assert "line 1 " in shown or "line 1\n" in shown
        tmux("send-keys", "-t", SESSION, "q")
        deadline = time.monotonic() + 10
        while SESSION in tmux("ls") and time.monotonic() < deadline:
            time.sleep(0.1)
        assert SESSION not in tmux("ls")
    finally:
        tmux("kill-session", "-t", SESSION)


def test_piped_input_is_followed(tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("logpt-tui")
    program = str(script) if script.exists() else f"{sys.executable} -m logpt_tui.app"
    feed = "(seq 1 300 | sed 's/^/piped line /'; sleep 1; echo late piped line)"
    tmux("kill-session", "-t", SESSION)
    tmux(
        "new-session",
        "-d",
        "-s",
        SESSION,
        "-x",
        "100",
        "-y",
        "12",
        f"{feed} | env -u COLUMNS -u LINES TERM=xterm-256color {program} -",
    )
    try:
        assert "stdin" in wait_for("piped line 300")
        wait_for("late piped line")
        tmux("send-keys", "-t", SESSION, "q")
    finally:
        tmux("kill-session", "-t", SESSION)
