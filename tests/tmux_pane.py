"""A program running in a tmux pane, read and typed at like a person would: shared by e2e tests and benchmarks."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

# A clean terminal: the caller's COLUMNS/LINES (test runners set them) must not size the program.
CLEAN_TERMINAL = "env -u COLUMNS -u LINES TERM=xterm-256color"


def have_tmux() -> bool:
    return shutil.which("tmux") is not None


def tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], capture_output=True, text=True, timeout=10).stdout


def explorer_command() -> str:
    """How to start the explorer from this interpreter's environment."""
    script = Path(sys.executable).with_name("logpt-tui")
    return str(script) if script.exists() else f"{sys.executable} -m logpt_tui.explorer.app"


class Pane:
    """`with Pane(command) as pane:` runs command (with `feed | ` in front, if given) in a detached session."""

    def __init__(self, command: str, *, session: str, width: int = 100, height: int = 15, feed: str = "") -> None:
        self.session = session
        self.shell = f"{feed} | {CLEAN_TERMINAL} {command}" if feed else f"{CLEAN_TERMINAL} {command}"
        self.size = (str(width), str(height))

    def __enter__(self) -> Pane:
        tmux("kill-session", "-t", self.session)
        tmux("new-session", "-d", "-s", self.session, "-x", self.size[0], "-y", self.size[1], self.shell)
        return self

    def __exit__(self, *_exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        tmux("kill-session", "-t", self.session)

    @property
    def pid(self) -> str:
        return tmux("list-panes", "-t", self.session, "-F", "#{pane_pid}").strip()

    def screen(self) -> str:
        return tmux("capture-pane", "-t", self.session, "-p")

    def keys(self, *keys: str) -> None:
        tmux("send-keys", "-t", self.session, *keys)

    def alive(self) -> bool:
        return self.session in tmux("ls")

    def wait_for(self, text: str, timeout: float = 15.0, poll: float = 0.1) -> str:
        """The screen once it shows `text`; AssertionError with the screen after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            shown = self.screen()
            if text in shown:
                return shown
            time.sleep(poll)
        raise AssertionError(f"{text!r} not on screen:\n{self.screen()}")
