"""Following a file: the watchdog observer, piped stdin (or the system journal) spooled to a file the explorer
can follow, and what to open when no file is given."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

from engine.errors import LogptError
from logpt_tui.explorer.settings import SPOOL_CAP_BYTES

CLEANUPS: list[Callable[[], None]] = []  # run when the explorer exits (a spooled stdin file)


def watch_file(path: Path, touched: Callable[[], None]) -> object | None:
    """A watchdog observer on the file's directory calling `touched` for events on the file; None if it cannot start."""
    from watchdog.events import FileSystemEvent, FileSystemEventHandler  # noqa: PLC0415
    from watchdog.observers import Observer  # noqa: PLC0415

    target = str(path.resolve())

    class Handler(FileSystemEventHandler):
        def on_any_event(self, event: FileSystemEvent) -> None:
            paths = {str(event.src_path), str(getattr(event, "dest_path", "") or "")}
            if target in paths:
                touched()

    observer = Observer()
    try:
        observer.schedule(Handler(), str(path.resolve().parent), recursive=False)
        observer.daemon = True
        observer.start()
    except OSError:  # e.g. out of inotify watches: the poll still follows the file
        return None
    return observer




def copy_capped(source_fd: int, target_fd: int, cap: int = SPOOL_CAP_BYTES) -> None:
    """Copy a pipe into the spool file; past `cap` bytes the spool starts over (the explorer follows that as a
    truncation and says so), so a never-ending pipe keeps at most `cap` bytes of its newest lines on disk."""
    written = 0
    with os.fdopen(source_fd, "rb", buffering=0) as source, os.fdopen(target_fd, "wb", buffering=0) as target:
        while chunk := source.read(1 << 16):
            if written + len(chunk) > cap:
                target.truncate(0)
                target.seek(0)
                written = 0
                if len(chunk) > cap:  # keep the newest whole lines of an oversized read
                    tail = chunk[-cap:]
                    chunk = tail[tail.find(b"\n") + 1 :] if b"\n" in tail else b""
            target.write(chunk)
            written += len(chunk)


def spool_stdin() -> Path:
    """Copy piped stdin into a temporary file in a thread, and give the terminal back to stdin.

    The explorer then follows the file like any other log; keys come from /dev/tty.
    """
    try:
        tty = os.open("/dev/tty", os.O_RDONLY)
    except OSError:
        raise LogptError("reading a pipe needs a terminal for the keys", "run logpt-tui from a terminal") from None
    pipe = os.dup(0)
    os.dup2(tty, 0)
    os.close(tty)
    handle, name = tempfile.mkstemp(prefix="logpt-stdin-", suffix=".log")

    threading.Thread(target=copy_capped, args=(pipe, handle), name="stdin-spool", daemon=True).start()
    CLEANUPS.append(lambda: Path(name).unlink(missing_ok=True))
    return Path(name)


SYSTEM_LOGS = (Path("/var/log/syslog"), Path("/var/log/messages"))
JOURNAL = ("-f", "-o", "short-iso", "-n", "10000", "--no-pager")  # the last 10,000 entries, then new ones


def spool_command(argv: list[str], name: str) -> Path:
    """Run `argv` and spool its output into a temporary file the explorer follows (the process ends with it)."""
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    assert process.stdout is not None
    handle, path = tempfile.mkstemp(prefix=f"logpt-{name}-", suffix=".log")
    threading.Thread(target=copy_capped, args=(os.dup(process.stdout.fileno()), handle), name=f"{name}-spool",
                     daemon=True).start()  # fmt: skip
    process.stdout.close()
    CLEANUPS.append(process.kill)
    CLEANUPS.append(lambda: Path(path).unlink(missing_ok=True))
    return Path(path)


def journal_has_entries(journalctl: str) -> bool:
    try:
        done = subprocess.run([journalctl, "-n", "1", "-q", "--no-pager"], capture_output=True, timeout=5, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0 and bool(done.stdout.strip())


def system_log(journalctl: str | None = None, files: tuple[Path, ...] = SYSTEM_LOGS) -> tuple[Path, str | None]:
    """What `logpt-tui` opens without a file: the system journal (followed), else the first readable system
    log file; (path, a name for the tab or None)."""
    journalctl = journalctl if journalctl is not None else shutil.which("journalctl")
    if journalctl and journal_has_entries(journalctl):
        return spool_command([journalctl, *JOURNAL], "journal"), "journal"
    for path in files:
        if path.is_file() and os.access(path, os.R_OK):
            return path, None
    tried = ", ".join(["the system journal", *map(str, files)])
    raise LogptError(f"no log given, and none of {tried} is readable here",
                     "pass a file (logpt-tui FILE) or pipe one (cmd | logpt-tui -)")  # fmt: skip
