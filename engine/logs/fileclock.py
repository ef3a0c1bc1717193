"""A file's clock: the `TimeReader` for one file's lines, with the file's format, year and day.

Every reader of a line's time in a file (the explorer's `:` jumps and status bar, each file of a merged
view) gets its reader here, so all read a time the same way: the format detected from the file's first
lines (`detect_format`; the format's timestamp is read first, the raw line where it gives none), the year
of the file's last write for a time that writes none, and the day of that write for a time of day alone
(strace -tt), as lnav takes them from the file's mtime (UTC). What it leaves out: a format chosen by name
(`--format`; detection decides here) and a file's later headers (a W3C `#Date:` past the sample is read
when the reader meets it).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

from engine.errors import InputError
from engine.logs.clock import TimeReader
from engine.logs.formats import detect_format
from engine.logs.formats.spec import LogFormat


def mtime_of(path: Path | str | None) -> float | None:
    """When the file was last written, or None (no such file, not a file's path: a merged view's name)."""
    if path is None:
        return None
    try:
        return os.stat(path).st_mtime
    except OSError:
        return None


def file_reader(lines: Sequence[str], mtime: float | None, fmt: LogFormat | None = None) -> TimeReader:
    """The reader for a file whose first lines are `lines` (its format detected from them unless `fmt` is
    given) and which was last written at `mtime` (Unix seconds; None: the current year, no day)."""
    if fmt is None:
        try:
            fmt = detect_format(lines).format
        except InputError:  # a broken user format file: the raw lines still have their times
            fmt = None
    day = datetime.fromtimestamp(mtime, tz=timezone.utc).date() if mtime is not None else None
    return TimeReader(day.year if day is not None else None, fmt=fmt, day=day)
