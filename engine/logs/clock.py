"""Timestamps as instants (seconds on one axis): for jumping to a time and for merging files by time.

This module reads a line's time to the second (and its fraction) on the calendar, so that
lines of different files compare; the forms it reads (ISO 8601, syslog, ctime, HDFS, Android,
glog, Unix times, TAI64N, ...) are the one table in engine/logs/timeforms.py, and a minute
(timestamps.py's `minute_of`, for rates) is an instant read here // 60. A time without a year
takes the file's, given by the caller, as lnav does, unless the line writes one (ctime's and
Apache's `Sun Dec 04 17:43:12 2005`); a time of day alone (strace's `08:09:33.814936`) takes a
day the reader is given. The time is looked for in the first `HEAD` characters of a line;
`time_span` says where it is written (the generic format's timestamp).

`TimeReader` is the one reader of a line's time (time jumps, the merged view, the
status bar): given the file's detected format it reads the format's `timestamp`
with the same forms (W3C's `#Date:` day and a row's `time`, Unix times inside JSON
lines, Zeek's `ts`, strace's time of day), and the raw line where the format gives
none; engine/logs/fileclock.py builds one for a file (its format, the year and day
of the file's end, the hour of a trace that writes minutes and seconds alone: TCF's
`mm:ss.mmm`, counted on by an hour where the minutes go back). What it leaves out: a day rolling over in a
log of times of day alone (lnav counts the days back from the file's mtime), and the block formats' times
(journald's export).

`TimeIndex` answers "the first line at or after time T" by binary search over
a line source (anything with `len` and `line(i)`): a log is in time order
almost everywhere, and a line without a time takes the next timed line's.
Probed times are cached, so a jump on a 1 GiB file reads a few dozen lines.
`parse_jump` reads what a user types after `:` (a time of day, a date and
time, `-15m` from the end, `+1h` from here).
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable
from copy import copy
from datetime import date, datetime, timezone
from typing import TYPE_CHECKING, Protocol

from engine.logs.timeforms import (
    _AFTER_MINUTE,
    _TIME_OF_DAY,
    EPOCH_DAY,
    _fraction,
    _instant,
    _read_first,
    in_year,
    seconds_at,
    yearless,
)

if TYPE_CHECKING:
    from engine.logs.formats.spec import LogFormat

HEAD = 96  # characters of a line searched for its time
_MINUTE_SECOND = re.compile(r"^(\d{2}):(\d{2})(?:[.,](\d{1,9}))?$")  # TCF's `mm:ss.mmm`, a format's timestamp
PROBE = 64  # lines looked at after a line without a time, for the next one with one


class TimeReader:
    """The instant a line's time names, or None; for the lines of one file.

    Given the file's format (`fmt`), the time is its record's `timestamp` where the format gives one that
    this module reads (a time only the format can assemble: W3C's `#Date:` day with a row's `time`, an epoch
    inside JSON, strace's time of day); otherwise, and for the generic format, the line's own first time.
    `year` is used where a time omits it (the year before where that puts it past `day`: a log written
    over New Year, or a file last written in November with December's lines of the year before; not with
    `rollover` False, where `day` is no file's); `day` (the day of the file's end: its mtime's or the one its
    lines write, engine/logs/fileclock.py) where a time of day stands alone and no dated line was read before
    it (that line's day is used then: the previous line read, which for a binary search is not always the
    line before). The form that worked last is tried first, and a line
    that starts like the last one up to its minute only has its seconds read.

    `hour` (Unix seconds at the start of an hour) is for a format whose timestamp is minutes and seconds alone
    (TCF's `12:34.567`): the first such time read is in that hour, and each that goes back a minute or more
    from the one read before it starts the next hour (a smaller step back is two threads' jitter, as lnav
    takes it). Like a time of day's day, it follows the lines in the order read."""

    def __init__(
        self,
        year: int | None = None,
        *,
        fmt: LogFormat | None = None,
        day: date | None = None,
        rollover: bool = True,
        hour: float | None = None,
    ) -> None:
        self.year = year or (day.year if day is not None else datetime.now().year)
        self.format = fmt if fmt is not None and fmt.name != "generic" else None  # generic reads as we do
        self.day = day.toordinal() - EPOCH_DAY if day is not None else None  # days since the epoch
        # A year-less time later than a day past the file's day is of the year before (rolled over New Year)
        self._latest = (self.day + 2) * 86400.0 if self.day is not None and rollover else None
        self._dated: int | None = None  # the day of the last dated time read
        self._form = 0
        self._prefix = "\0"  # the last timed line up to its seconds
        self._minute = 0.0  # the instant of that minute
        self._hour = hour  # the hour of the last minutes-and-seconds time read (None: the format writes none)
        self._within: float | None = None  # that time's seconds into its hour

    def twin(self) -> TimeReader:
        """A reader of the same file with its own memory of the last line (for another thread)."""
        other = copy(self)
        other._prefix = "\0"
        return other

    def __call__(self, line: str) -> float | None:
        if line.startswith(self._prefix) and (m := _AFTER_MINUTE.match(line, len(self._prefix))) is not None:
            s, fraction = m.groups()
            if int(s) < 61:
                return self._minute + int(s) + (int(fraction) / 10 ** len(fraction) if fraction else 0.0)  # inline: hot
        if self.format is not None:
            record = self.format.parse(line, 0)
            if record is not None and record.timestamp:
                t = self._formatted(line, record.timestamp)
                if t is None and self._hour is not None:
                    return self._in_hour(record.timestamp)
                if t is not None or _TIME_OF_DAY.match(record.timestamp):
                    return t  # a time of day with no day is none: not a date the raw line has elsewhere
        found = self.read(line[:HEAD])
        if found is None:
            return None
        t, cut = found
        self._share(line, cut, t)
        return t

    def minute(self, text: str) -> int | None:
        """The minute of `text`'s time (its instant // 60), or None; a text that starts like the last one read up
        to its seconds is in that one's minute, and nothing more is read of it."""
        if text.startswith(self._prefix):
            return int(self._minute // 60)
        t = self(text)
        return None if t is None else int(t // 60)

    def _formatted(self, line: str, ts: str) -> float | None:
        """The time of the format's timestamp `ts` for `line`; the fast path shares it where `ts` is written once
        in the line as is (not where the format assembled it: W3C's `#Date:` day and `time`)."""
        if (found := self.read(ts)) is None:
            return None
        t, cut = found
        pos = line.find(ts) if cut >= 0 else -1
        if pos >= 0 and line.find(ts, pos + 1) < 0:
            self._share(line, pos + cut, t)
        else:
            self._prefix = "\0"
        return t

    def _in_hour(self, ts: str) -> float | None:
        """The instant of a minutes-and-seconds time `ts` (`mm:ss[.fff]`), in the hour the lines read so far
        have reached (see the class note)."""
        if (m := _MINUTE_SECOND.match(ts)) is None or self._hour is None:
            return None
        mi, s, f = m.groups()
        if int(mi) > 59 or int(s) > 60:
            return None
        within = int(mi) * 60 + int(s) + _fraction(f)
        if self._within is not None and within <= self._within - 60:
            self._hour += 3600.0  # 59:47 then 30:11: the next hour began
        self._within = within
        return self._hour + within

    def read(self, text: str) -> tuple[float, int] | None:
        """(instant, where its seconds start in `text`, -1 for Unix time) of the first time in `text` in a
        form of this module, or None."""
        if not text:
            return None
        if (found := _read_first(text, self._form, self.year)) is not None:
            i, m, t = found
            if self._latest is not None and t > self._latest and yearless(i, m):
                t = in_year(i, m, self.year - 1) or t  # `Dec  3` in a file last written in November: last year's
            self._form, self._dated = i, int(t // 86400)
            return t, seconds_at(i, m)
        day = self._dated if self._dated is not None else self.day
        if day is None or (m := _TIME_OF_DAY.match(text)) is None:
            return None
        h, mi, s, f = m.groups()
        if int(h) > 23 or int(mi) > 59 or int(s) > 60:
            return None
        return day * 86400.0 + int(h) * 3600 + int(mi) * 60 + int(s) + _fraction(f), m.start(3)

    def _share(self, text: str, cut: int, t: float) -> None:
        """Remember `text` up to its seconds (at `cut`) and the instant of that minute, for the fast path."""
        m = _AFTER_MINUTE.match(text, cut) if cut >= 0 else None
        if m is None:
            self._prefix = "\0"
            return
        self._prefix = text[:cut]
        self._minute = t - int(m.group(1)) - _fraction(m.group(2))


def seconds_of(line: str, year: int | None = None) -> float | None:
    """The instant of the time at the start of `line` (see the module note), or None."""
    return TimeReader(year)(line)


def time_span(line: str, first: int = 0) -> tuple[int, int, int] | None:
    """Where a time this module reads is written in `line`'s first HEAD characters: (start, end, form), from
    its first field to its last (a zone included), or None. `form` tells which form read it: passed back as
    `first` for the next line of the same file, that form is tried first (as `TimeReader` does)."""
    head = line[:HEAD]
    if (found := _read_first(head, first, 2000)) is None:  # 2000: a leap year, for `Feb 29`
        return None
    _, m, _ = found
    start = m.start(1)
    return start, start + len(head[start : m.end()].rstrip()), found[0]


def describe(t: float) -> str:
    """An instant as a reader expects it: `2026-11-20 10:02:03`."""
    days, rest = divmod(int(t), 86400)
    days += EPOCH_DAY
    h, rest = divmod(rest, 3600)
    m, s = divmod(rest, 60)
    return f"{date.fromordinal(max(1, days)).isoformat()} {h:02d}:{m:02d}:{s:02d}"


class Lines(Protocol):
    def __len__(self) -> int: ...
    def line(self, i: int) -> str: ...


class TimeIndex:
    """Times of the lines of `source`, read on demand and cached: binary search by time, spans on screen."""

    def __init__(
        self,
        source: Lines,
        year: int | None = None,
        cache: int = 4096,
        *,
        reader: TimeReader | None = None,
        read: Callable[[int], float | None] | None = None,
    ) -> None:
        self.source = source
        self.reader = reader if reader is not None else TimeReader(year)  # the file's (its format, year, day)
        self._read = read  # the time of line i, where lines are not all of one reader (a merged view's)
        self._cache: OrderedDict[int, float | None] = OrderedDict()
        self._size = cache

    def clear(self) -> None:
        self._cache.clear()

    def time_of(self, i: int) -> float | None:
        """The time written on line i (0-based), or None."""
        if i in self._cache:
            self._cache.move_to_end(i)
            return self._cache[i]
        try:
            t = self._read(i) if self._read is not None else self.reader(self.source.line(i))
        except IndexError:
            return None
        self._cache[i] = t
        if len(self._cache) > self._size:
            self._cache.popitem(last=False)
        return t

    def near(self, i: int, step: int = 1) -> tuple[int, float] | None:
        """The first timed line from i on (step 1) or back (step -1), within PROBE lines: (line, time)."""
        n = len(self.source)
        for j in range(i, i + step * PROBE, step):
            if not 0 <= j < n:
                return None
            if (t := self.time_of(j)) is not None:
                return j, t
        return None

    def first_at(self, target: float) -> int | None:
        """The first line whose time is at or after `target` (binary search); None when every line is before
        it or no line has a time."""
        lo, hi = 0, len(self.source)
        while lo < hi:
            mid = (lo + hi) // 2
            found = self.near(mid)
            if found is None or found[1] < target:
                lo = (found[0] if found is not None else mid) + 1
            else:
                hi = mid
        found = self.near(lo)
        return found[0] if found is not None and found[1] >= target else None

    def last_time(self) -> float | None:
        found = self.near(len(self.source) - 1, -1)
        return found[1] if found is not None else None


_RELATIVE = re.compile(r"^([+-])\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|hr|d|day)s?$", re.IGNORECASE)
_UNITS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hr": 3600, "d": 86400, "day": 86400}
_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?$")
_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")


def parse_jump(text: str, *, here: float | None, end: float | None, year: int | None = None) -> float | None:
    """The instant a user means by `text`: `10:02[:03]` (on the day of `here`), `-15m` (before `end`, the
    last time in the file), `+1h` (after `here`), `2026-11-20`, `2026-11-20T10:02`, or any timestamp this
    module reads (`Nov 20 10:02:03`). None when `text` is none of these or the anchor it needs is unknown."""
    text = text.strip()
    if m := _RELATIVE.match(text):
        sign, amount, unit = m.groups()
        base = end if sign == "-" else here
        step = float(amount) * _UNITS[unit.lower()]
        return None if base is None else base + (step if sign == "+" else -step)
    if m := _CLOCK.match(text):
        if here is None:
            return None
        h, mi, s, f = m.groups()
        day = int(here // 86400) + EPOCH_DAY
        return _instant(*_ymd_of(day), h, mi, s or "0", f, None)
    if m := _DATE.match(text):
        return _instant(int(m.group(1)), int(m.group(2)), int(m.group(3)), "0", "0", "0", None, None)
    if re.match(r"^\d{4}-\d{1,2}-\d{1,2}[T ]\d{1,2}:\d{2}$", text):
        text += ":00"  # minutes are enough for a jump
    return TimeReader(year)(text)


def _ymd_of(day: int) -> tuple[int, int, int]:
    d = date.fromordinal(day)
    return d.year, d.month, d.day


def file_year(mtime: float) -> int:
    """The year assumed for a log that writes none: the year its file was last written (UTC)."""
    return datetime.fromtimestamp(mtime, tz=timezone.utc).year
