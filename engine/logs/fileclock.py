"""A file's clock: the `TimeReader` for one file's lines, with the file's format, year, day and hour.

Every reader of a line's time in a file (the explorer's `:` jumps and status bar, each file of a merged
view) gets its reader here, so all read a time the same way: the format detected from the file's first
lines (`detect_format`; the format's timestamp is read first, the raw line where it gives none).

A time that writes no year is put in the year that ends at the file's end: at most a day past the end, else
the year before (a syslog written over New Year). The end (`file_end`) is what the file says where it says
it, its last write (mtime, UTC, as lnav takes it) where it does not:

- the newest time the file writes with its year (`written_times`: a line with a full date, a header's
  `#Date:`, the newest lines) is the file's end unless the file's last timed line writes no year, which
  then comes after it (within a year);
- the mtime is believed where nothing written contradicts it: no year written at all, or the newest one
  written is less than a year before it and not after it. A file copied or unpacked years after its last
  line (mtime 2026, lines of 2005) keeps the year its lines write;
- a time of day alone (strace -tt) takes the end's day where no dated line came before it.

A trace whose time is minutes and seconds alone (TCF's, formats/tcf.py) takes its last line's hour from the
mtime (the hour before where its minutes are past the mtime's) and counts back an hour at each step back of
a minute or more in the lines given; the reader counts forward again from the first.

What it leaves out: a format chosen by name (`--format`; detection decides here), a file's later headers (a
W3C `#Date:` past the sample is read when the reader meets it), a year of lines between the sample's ends
that write none (a file of year-less lines over more than a year), and the hours of a trace's lines not
given (`tail` that does not reach back to `lines`: a trace longer than both counts back from what it has).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import date, datetime, timezone
from pathlib import Path

from engine.errors import InputError
from engine.logs.clock import TimeReader
from engine.logs.formats import detect_format
from engine.logs.formats.spec import LogFormat
from engine.logs.formats.tcf import MinutesFormat

DAY = 86400.0
YEAR = 365 * DAY
TAIL_LINES = 50  # the file's last lines a caller passes as `tail`: enough to find its last timed line


def mtime_of(path: Path | str | None) -> float | None:
    """When the file was last written, or None (no such file, not a file's path: a merged view's name)."""
    if path is None:
        return None
    try:
        return os.stat(path).st_mtime
    except OSError:
        return None


def file_reader(
    lines: Sequence[str], mtime: float | None, fmt: LogFormat | None = None, *, tail: Sequence[str] | None = None
) -> TimeReader:
    """The reader for a file whose first lines are `lines` (its format detected from them unless `fmt` is
    given), whose last lines are `tail` (None: nothing past `lines` is known; they may overlap `lines`, a
    short file's) and which was last written at `mtime` (Unix seconds; None: the current year, no day, no
    hour)."""
    if fmt is None:
        try:
            fmt = detect_format(lines).format
        except InputError:  # a broken user format file: the raw lines still have their times
            fmt = None
    if isinstance(fmt, MinutesFormat):
        return TraceReader(fmt, joined(lines, tail or ()), mtime)
    end = file_end(lines, tail or (), mtime, fmt)
    day = _date(end) if end is not None else None
    return TimeReader(day.year if day is not None else None, fmt=fmt, day=day)


class TraceReader(TimeReader):
    """The reader of a trace of minutes and seconds: the lines given to build it (the file's first and last) are
    timed once, in order, and read back by their text in any order (a binary search's); another line is timed
    in the hour the lines read before it reached (`TimeReader`'s `hour`)."""

    def __init__(self, fmt: LogFormat, lines: Sequence[str], mtime: float | None) -> None:
        super().__init__(fmt=fmt, hour=first_hour(fmt, lines, mtime))
        ordered = TimeReader(fmt=fmt, hour=self._hour)
        self.known = {line: t for line in lines if (t := ordered(line)) is not None}  # text → instant

    def __call__(self, line: str) -> float | None:
        t = self.known.get(line)
        if t is None:
            return super().__call__(line)
        self._hour, self._within = t // 3600 * 3600, t % 3600  # the lines after it go on from its hour
        return t


def file_end(lines: Sequence[str], tail: Sequence[str], mtime: float | None, fmt: LogFormat | None) -> float | None:
    """The instant a file's newest line is taken to be at (see the module note), or None (nothing known)."""
    written = written_times([*lines, *tail], fmt)
    newest = max((t for t in written if t is not None), default=None)
    believed = mtime is not None and (newest is None or newest - DAY <= mtime < newest + YEAR)
    last = _last_timed(tail, written[len(lines) :], fmt)
    if last is not None and written[len(lines) + last] is not None:
        return written[len(lines) + last]  # the file ends on a time with its year
    if believed:
        if last is None:
            return mtime
        t = TimeReader(fmt=fmt, day=_date(mtime))(tail[last])  # type: ignore[arg-type]
        return mtime if t is None else max(t, newest if newest is not None else t)
    if newest is None:
        return None
    if last is None:
        return newest
    return max(newest, after(tail[last], newest - DAY, fmt) or newest)


def written_times(lines: Sequence[str], fmt: LogFormat | None) -> list[float | None]:
    """Each line's time where it is written with its year (the same read in any year), else None."""
    one, other = TimeReader(2001, fmt=fmt), TimeReader(2002, fmt=fmt)  # two years, neither a leap year
    out: list[float | None] = []
    for line in lines:
        t = one(line)
        out.append(t if t is not None and t == other(line) else None)
    return out


def after(line: str, start: float, fmt: LogFormat | None) -> float | None:
    """The time of `line` in the first year that puts it at or after `start` (a time that writes no year)."""
    first = _date(start).year
    for year in range(first, first + 2):
        t = TimeReader(year, fmt=fmt)(line)
        if t is not None and t >= start:
            return t
    return None


def first_hour(fmt: LogFormat, lines: Sequence[str], mtime: float | None) -> float | None:
    """For a trace of minutes and seconds (`lines`, in order): the start of the hour its first time is in,
    counted back from the last line's hour, the mtime's (or the hour before, where the last line's minutes
    are past the mtime's); None without an mtime."""
    if mtime is None:
        return None
    probe = TimeReader(fmt=fmt, hour=0.0)  # hours counted from 0: the last time's hour is the steps back taken
    last = None
    for line in lines:
        last = probe(line) if fmt.parse(line, 0) is not None else last
    if last is None:
        return float(mtime // 3600 * 3600)
    steps, within = divmod(last, 3600.0)
    hour = mtime // 3600 * 3600
    if within > mtime - hour + 60:  # written after the mtime's minute: the hour before's
        hour -= 3600
    return float(hour - steps * 3600)


def joined(lines: Sequence[str], tail: Sequence[str]) -> list[str]:
    """`lines` and then `tail`, the lines `tail` repeats at its start (the end of `lines`) once."""
    for k in range(min(len(lines), len(tail)), 0, -1):
        if list(lines[len(lines) - k :]) == list(tail[:k]):
            return [*lines, *tail[k:]]
    return [*lines, *tail]


def _last_timed(tail: Sequence[str], written: list[float | None], fmt: LogFormat | None) -> int | None:
    """The index in `tail` of its last line with a time read in some year, or None."""
    reader = TimeReader(2000, fmt=fmt)  # a leap year: `Feb 29` is a time
    for i in range(len(tail) - 1, -1, -1):
        if written[i] is not None or reader(tail[i]) is not None:
            return i
    return None


def _date(t: float) -> date:
    return datetime.fromtimestamp(t, tz=timezone.utc).date()
