"""Timestamps as instants (seconds on one axis): for jumping to a time and for merging files by time.

`minute_of` (timestamps.py) buckets a record's time for rates; this module
reads a line's time to the second (and its fraction) on the calendar, so
that lines of different files compare: ISO 8601 (a `Z` or `+hh:mm` offset is
applied; a time without one is taken as written), syslog's `Nov 20
10:02:03` (the year is the file's, given by the caller, as lnav does, unless
the line writes one: ctime's and Apache's `Sun Dec 04 17:43:12 2005`),
HDFS's `081109 203615`, Spark's `17/06/09 20:10:40`, Android's `03-17 16:13:38.811`, BGL's
`2005-06-03-15.42.50.363779`, Redis's and access logs' `21/Nov/2026:10:00:12`,
HealthApp's `20171223-22:15:41:672`, glog's and klog's `I0517 15:04:22.619632` (the
year is the caller's) and Unix time at the start of a line (seconds, or milli-,
micro- or nanoseconds as one number), and a time of day alone (strace's
`08:09:33.814936`) on a day the reader is given. The time is looked for in the first
`HEAD` characters of a line; `time_span` says where it is written (the generic
format's timestamp).

`TimeReader` is the one reader of a line's time (time jumps, the merged view, the
status bar): given the file's detected format it reads the format's `timestamp`
with the same forms (W3C's `#Date:` day and a row's `time`, Unix times inside JSON
lines, Zeek's `ts`, strace's time of day), and the raw line where the format gives
none; engine/logs/fileclock.py builds one for a file (its format, the year and day
of its mtime). What it leaves out: zone names (`PDT`), a day rolling over in a log
of times of day alone, and the block formats' times (journald's export).

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
from functools import lru_cache
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from engine.logs.formats.spec import LogFormat

EPOCH_DAY = date(1970, 1, 1).toordinal()  # instants are Unix seconds (a time without offset: as if UTC)
HEAD = 96  # characters of a line searched for its time
PROBE = 64  # lines looked at after a line without a time, for the next one with one
# Month abbreviations, lower case → 1..12: the one table of them (timestamps.py reads it too)
MONTHS = {m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov",
                                      "dec"), 1)}  # fmt: skip
_FRACTION = r"(?:[.,:](\d{1,9}))?"
_ZONE = r"\s?(Z|[+-]\d{2}:?\d{2})?(?!\d|:\d)"  # a colon may follow (`10:00:00: run`, `…,672:DEBUG:`)
_YMD = re.compile(r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?:[T -]|\s+)(\d{1,2})[:.](\d{2})[:.](\d{2})" + _FRACTION + _ZONE)
# Syslog's `Nov 20 10:02:03`, with a year before the time (`Nov 20 2026 10:02:03`) or after it (ctime, Apache's
# error log: `Sun Dec 04 17:43:12 2005`): a year written in the line wins over the caller's.
_SYSLOG = re.compile(r"\b([A-Z][a-z]{2})\s+(\d{1,2})\s+(?:(\d{4})\s+)?(\d{1,2}):(\d{2}):(\d{2})" + _FRACTION
                     + r"(?:\s+((?:19|20)\d{2})(?![\d:]))?")  # fmt: skip
_DMY = re.compile(r"(\d{1,2})[ /-]([A-Z][a-z]{2})[ /-](\d{4})[ :](\d{2}):(\d{2}):(\d{2})" + _FRACTION + _ZONE)
_COMPACT = re.compile(r"^(\d{2})(\d{2})(\d{2})\s+(\d{2})(\d{2})(\d{2})\b")  # HDFS: yyMMdd HHmmss
_YMD_DASH = re.compile(r"^(\d{4})(\d{2})(\d{2})-(\d{1,2}):(\d{1,2}):(\d{1,2})" + _FRACTION)  # HealthApp
_MD = re.compile(r"^(\d{2})-(\d{2})\s+(\d{1,2}):(\d{2}):(\d{2})" + _FRACTION)  # Android: MM-dd HH:mm:ss.SSS
_SHORT_YMD = re.compile(r"^(\d{2})/(\d{2})/(\d{2})\s+(\d{1,2}):(\d{2}):(\d{2})" + _FRACTION)  # Spark: yy/MM/dd HH:mm:ss
_GLOG = re.compile(r"^[IWEF]?(\d{2})(\d{2})\s+(\d{1,2}):(\d{2}):(\d{2})" + _FRACTION)  # glog, klog: I0517 15:04:22.6
# Unix time at the start: seconds (with a fraction), or milli-, micro- or nanoseconds written as one number.
_EPOCH = re.compile(r"^\[?(\d{10})(?:\.(\d{1,9})|(\d{3}|\d{6}|\d{9}))?(?!\d)")


@lru_cache(maxsize=4096)
def _day(year: int, month: int, day: int) -> int | None:
    try:
        return date(year, month, day).toordinal()
    except ValueError:
        return None


def _instant(
    year: int, month: int, day: int, h: str, m: str, s: str, fraction: str | None, zone: str | None
) -> float | None:
    days = _day(year, month, day)
    if days is None or int(h) > 23 or int(m) > 59 or int(s) > 60:
        return None
    t = (days - EPOCH_DAY) * 86400.0 + int(h) * 3600 + int(m) * 60 + int(s)
    if fraction:
        t += int(fraction) / 10 ** len(fraction)
    if zone and zone != "Z":
        sign = -1 if zone[0] == "+" else 1  # 10:00+02:00 is 08:00 on the common axis
        digits = zone[1:].replace(":", "")
        t += sign * (int(digits[:2]) * 3600 + int(digits[2:]) * 60)
    return t


def _ymd(m: re.Match[str], _year: int) -> float | None:
    y, mo, d, h, mi, s, f, z = m.groups()
    return _instant(int(y), int(mo), int(d), h, mi, s, f, z)


def _syslog(m: re.Match[str], year: int) -> float | None:
    month = MONTHS.get(m.group(1).lower())
    mon, d, y, h, mi, s, f, y_after = m.groups()
    written = y or y_after
    return None if month is None else _instant(int(written) if written else year, month, int(d), h, mi, s, f, None)


def _dmy(m: re.Match[str], _year: int) -> float | None:
    d, mon, y, h, mi, s, f, z = m.groups()
    month = MONTHS.get(mon.lower())
    return None if month is None else _instant(int(y), month, int(d), h, mi, s, f, z)


def _compact(m: re.Match[str], _year: int) -> float | None:
    y, mo, d, h, mi, s = m.groups()
    return _instant(2000 + int(y), int(mo), int(d), h, mi, s, None, None)


def _short_ymd(m: re.Match[str], _year: int) -> float | None:
    y, mo, d, h, mi, s, f = m.groups()
    return _instant(2000 + int(y), int(mo), int(d), h, mi, s, f, None)


def _plain_ymd(m: re.Match[str], _year: int) -> float | None:
    y, mo, d, h, mi, s, f = m.groups()
    return _instant(int(y), int(mo), int(d), h, mi, s, f, None)


def _md(m: re.Match[str], year: int) -> float | None:
    mo, d, h, mi, s, f = m.groups()
    return _instant(year, int(mo), int(d), h, mi, s, f, None)


def _epoch(m: re.Match[str], _year: int) -> float | None:
    fraction = m.group(2) or m.group(3)
    return int(m.group(1)) + (int(fraction) / 10 ** len(fraction) if fraction else 0.0)


_READERS = ((_YMD.search, _ymd), (_DMY.search, _dmy), (_SYSLOG.search, _syslog), (_COMPACT.match, _compact),
            (_YMD_DASH.match, _plain_ymd), (_MD.match, _md), (_GLOG.match, _md), (_SHORT_YMD.match, _short_ymd),
            (_EPOCH.match, _epoch))  # fmt: skip


# A time of day alone (strace -t/-tt, a W3C row's `time`): it needs a day from elsewhere (TimeReader's)
_TIME_OF_DAY = re.compile(r"^\[?(\d{1,2}):(\d{2}):(\d{2})" + _FRACTION + r"(?![\d:])")
# The group of the seconds, per form
_SECONDS = {_ymd: 6, _syslog: 6, _dmy: 6, _compact: 6, _plain_ymd: 6, _md: 5, _short_ymd: 6}
_AFTER_MINUTE = re.compile(r"(\d{2})(?:[.,:](\d{1,9}))?(?!\d)")


def _fraction(digits: str | None) -> float:
    return int(digits) / 10 ** len(digits) if digits else 0.0


class TimeReader:
    """The instant a line's time names, or None; for the lines of one file.

    Given the file's format (`fmt`), the time is its record's `timestamp` where the format gives one that
    this module reads (a time only the format can assemble: W3C's `#Date:` day with a row's `time`, an epoch
    inside JSON, strace's time of day); otherwise, and for the generic format, the line's own first time.
    `year` is used where a time omits it; `day` (the file's date, from its mtime) where a time of day stands
    alone and no dated line was read before it (that line's day is used then: the previous line read, which
    for a binary search is not always the line before). The form that worked last is tried first, and a line
    that starts like the last one up to its minute only has its seconds read."""

    def __init__(self, year: int | None = None, *, fmt: LogFormat | None = None, day: date | None = None) -> None:
        self.year = year or (day.year if day is not None else datetime.now().year)
        self.format = fmt if fmt is not None and fmt.name != "generic" else None  # generic reads as we do
        self.day = day.toordinal() - EPOCH_DAY if day is not None else None  # days since the epoch
        self._dated: int | None = None  # the day of the last dated time read
        self._form = 0
        self._prefix = "\0"  # the last timed line up to its seconds
        self._minute = 0.0  # the instant of that minute

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
                if t is not None or _TIME_OF_DAY.match(record.timestamp):
                    return t  # a time of day with no day is none: not a date the raw line has elsewhere
        found = self.read(line[:HEAD])
        if found is None:
            return None
        t, cut = found
        self._share(line, cut, t)
        return t

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

    def read(self, text: str) -> tuple[float, int] | None:
        """(instant, where its seconds start in `text`, -1 for Unix time) of the first time in `text` in a
        form of this module, or None."""
        if not text:
            return None
        if (found := _read_first(text, self._form, self.year)) is not None:
            i, m, t = found
            self._form, self._dated = i, int(t // 86400)
            group = _SECONDS.get(_READERS[i][1])  # type: ignore[call-overload]
            return t, (m.start(group) if group is not None else -1)
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


def _read_first(text: str, first: int, year: int) -> tuple[int, re.Match[str], float] | None:
    """(form, match, instant) of the first form in _READERS that reads `text`, form `first` tried first; None
    if none does. After `first`, only the forms whose pattern is found in the text's digit shape are tried."""
    find, read = _READERS[first]
    if (m := find(text)) is not None and (t := read(m, year)) is not None:
        return first, m, t
    for i in _found_in(text.encode("utf-8", "surrogatepass").translate(_DIGITS)):
        find, read = _READERS[i]
        if i != first and (m := find(text)) is not None and (t := read(m, year)) is not None:
            return i, m, t
    return None


_DIGITS = bytes.maketrans(b"0123456789", b"0000000000")


@lru_cache(maxsize=8192)
def _found_in(shape: bytes) -> tuple[int, ...]:
    """The forms (indexes into _READERS, in order) whose pattern matches somewhere in a text with every ASCII
    digit written 0 (`shape`, UTF-8). Exact for every text of that shape: the patterns test digits only as \\d
    (the one literal, `(?:19|20)`, sits in a group that may match nothing), so whether a pattern matches at all
    does not depend on a digit's value; what it reads does, and is read from the text itself."""
    text = shape.decode("utf-8", "surrogatepass")
    return tuple(i for i, (find, _read) in enumerate(_READERS) if find(text) is not None)


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
