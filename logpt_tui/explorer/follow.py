"""Following a file: the watchdog observer, and piped stdin spooled to a file the explorer can follow."""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

from engine.errors import LogptError

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


SPOOL_CAP_BYTES = 1 << 30  # `yes | logpt-tui -` must not fill the disk


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
