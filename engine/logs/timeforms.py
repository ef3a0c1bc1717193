"""The table of time forms: each a pattern and a reader that turns its match into an instant (Unix seconds).

The one place a form of writing a time is defined (engine/logs/clock.py's `TimeReader` and `time_span`,
and through them the generic format's timestamp and timestamps.py's minutes, read with it): ISO 8601 (a
`Z` or `+hh:mm` offset is applied; a time without one is taken as written) and its basic form
(`20120702T102240`) and ordinal form (`2012-025T10:22:40`), syslog's `Nov 20 10:02:03` (the year is the caller's unless the line writes one:
ctime's and Apache's `Sun Dec 04 17:43:12 2005`), HDFS's `081109 203615`, Spark's `17/06/09 20:10:40`,
Android's `03-17 16:13:38.811`, BGL's `2005-06-03-15.42.50.363779`, Redis's and access logs'
`21/Nov/2026:10:00:12`, HealthApp's `20171223-22:15:41:672`, glog's and klog's `I0517 15:04:22.619632`
(the year is the caller's), Unix time at the start of a line (seconds, or milli-, micro- or nanoseconds
as one number; tcsh's history stamps `#+1162490366`), and daemontools' TAI64N labels
(`@4000000043322583 3b6e1a8c`). A time of day alone (`_TIME_OF_DAY`) needs a day from the caller.
Zone names are applied where unambiguous (`PDT`, `CET`; not `CST`, `IST`, `BST`) after an ISO or access-log
time. What it leaves out: zone names elsewhere (date(1)'s), month names in other languages, and a zone that
changes within one minute's lines (the fast path reads the seconds of a line like the last up to its minute).

`_read_first` tries the forms in order (the one that read the line before first) and skips those whose
pattern is not found in the text's digit shape (`_found_in`, cached per shape).
"""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache

EPOCH_DAY = date(1970, 1, 1).toordinal()  # instants are Unix seconds (a time without offset: as if UTC)
# Month abbreviations, lower case → 1..12: the one table of them (timestamps.py reads it too)
MONTHS = {m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov",
                                      "dec"), 1)}  # fmt: skip
_FRACTION = r"(?:[.,:](\d{1,9}))?"
# Zone names whose offset is not in doubt (hours east of UTC), as PostgreSQL's `%t`/`%m` and date(1) write them;
# CST, IST, BST name several zones and are left as written.
ZONE_NAMES = {"UTC": 0, "GMT": 0, "EST": -5, "EDT": -4, "MST": -7, "MDT": -6, "PST": -8, "PDT": -7, "AKST": -9,
              "AKDT": -8, "HST": -10, "WET": 0, "WEST": 1, "CET": 1, "CEST": 2, "EET": 2, "EEST": 3, "MSK": 3,
              "JST": 9, "KST": 9, "AEST": 10, "AEDT": 11, "NZST": 12, "NZDT": 13}  # fmt: skip
_NAMES = "|".join(sorted(ZONE_NAMES, key=len, reverse=True))
# A colon may follow (`10:00:00: run`, `…,672:DEBUG:`)
_ZONE = r"\s?(Z|[+-]\d{2}:?\d{2}|(?:" + _NAMES + r")(?![A-Za-z]))?(?!\d|:\d)"
_YMD = re.compile(r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?:[T -]|\s+)(\d{1,2})[:.](\d{2})[:.](\d{2})" + _FRACTION + _ZONE)
# (date(1) writes a zone name between the time and the year, `Wed May 19 08:00:01 EST 2021`: skipped, not applied)
# Syslog's `Nov 20 10:02:03`, with a year before the time (`Nov 20 2026 10:02:03`) or after it (ctime, Apache's
# error log: `Sun Dec 04 17:43:12 2005`): a year written in the line wins over the caller's.
_SYSLOG = re.compile(r"\b([A-Z][a-z]{2})\s+(\d{1,2})\s+(?:(\d{4})\s+)?(\d{1,2}):(\d{2}):(\d{2})" + _FRACTION
                     + r"(?:(?:\s+(?:[A-Z]{1,4}T|UTC))?\s+((?:19|20)\d{2})(?![\d:]))?")  # fmt: skip
_DMY = re.compile(r"(\d{1,2})[ /-]([A-Z][a-z]{2})[ /-](\d{4})[ :](\d{2}):(\d{2}):(\d{2})" + _FRACTION + _ZONE)
_COMPACT = re.compile(r"^(\d{2})(\d{2})(\d{2})\s+(\d{2})(\d{2})(\d{2})\b")  # HDFS: yyMMdd HHmmss
_YMD_DASH = re.compile(r"^(\d{4})(\d{2})(\d{2})-(\d{1,2}):(\d{1,2}):(\d{1,2})" + _FRACTION)  # HealthApp
# Android's `MM-dd HH:mm:ss.SSS`, Proxifier's `MM.dd HH:mm:ss` (its format's timestamp; the line writes `[` first)
_MD = re.compile(r"^(\d{2})[-.](\d{2})\s+(\d{1,2}):(\d{2}):(\d{2})" + _FRACTION)
_SHORT_YMD = re.compile(r"^(\d{2})/(\d{2})/(\d{2})\s+(\d{1,2}):(\d{2}):(\d{2})" + _FRACTION)  # Spark: yy/MM/dd HH:mm:ss
_GLOG = re.compile(r"^[IWEF]?(\d{2})(\d{2})\s+(\d{1,2}):(\d{2}):(\d{2})" + _FRACTION)  # glog, klog: I0517 15:04:22.6
# Unix time at the start: seconds (with a fraction), or milli-, micro- or nanoseconds written as one number.
# (tcsh's history file stamps a command with `#+` and its Unix seconds on the line before it: tcsh(1), savehist)
_EPOCH = re.compile(r"^(?:\[|#\+)?(\d{10})(?:\.(\d{1,9})|(\d{3}|\d{6}|\d{9}))?(?!\d)")


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
    if zone in ZONE_NAMES:
        t -= ZONE_NAMES[zone] * 3600
    elif zone and zone != "Z":
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


# ISO 8601's basic form, `20120702T102240[.672][+0200]` (and `20120702.102240,672`, a point for the T), alone
# at the start of the line or after a bracket.
_YMD_BASIC = re.compile(r"^\[?(\d{4})(\d{2})(\d{2})[T.](\d{2})(\d{2})(\d{2})" + _FRACTION + _ZONE)
# daemontools' TAI64N label (tai64n(8), cr.yp.to/libtai/tai64.html): `@`, 16 hex digits of 2^62 + TAI seconds
# and 8 of nanoseconds. TAI is 10 s ahead of the Unix axis by libtai's convention (tai_unix adds 2^62 + 10).
_TAI64N = re.compile(r"^(@[0-9a-f]{16})([0-9a-f]{8})(?![0-9a-f])")
_TAI_UNIX = (1 << 62) + 10


# ISO 8601's ordinal date, `2012-025T10:22:40` (the 25th day of 2012)
_YMD_ORDINAL = re.compile(r"^\[?(\d{4})-(\d{3})T(\d{2}):(\d{2}):(\d{2})" + _FRACTION + _ZONE)


def _ordinal(m: re.Match[str], _year: int) -> float | None:
    y, n, h, mi, s, f, z = m.groups()
    if not 1 <= int(n) <= 366 or (start := _day(int(y), 1, 1)) is None:
        return None
    d = date.fromordinal(start + int(n) - 1)
    return _instant(d.year, d.month, d.day, h, mi, s, f, z) if d.year == int(y) else None


def _tai64n(m: re.Match[str], _year: int) -> float | None:
    label = int(m.group(1)[1:], 16) - _TAI_UNIX
    nanos = int(m.group(2), 16)
    return None if not 0 <= label < 1 << 34 or nanos > 999_999_999 else label + nanos / 1e9


# New forms go at the end: a form's place is its index, which callers keep between lines (`first`).
_READERS = ((_YMD.search, _ymd), (_DMY.search, _dmy), (_SYSLOG.search, _syslog), (_COMPACT.match, _compact),
            (_YMD_DASH.match, _plain_ymd), (_MD.match, _md), (_GLOG.match, _md), (_SHORT_YMD.match, _short_ymd),
            (_EPOCH.match, _epoch), (_YMD_BASIC.match, _ymd), (_TAI64N.match, _tai64n), (_YMD_ORDINAL.match, _ordinal))  # fmt: skip


# A time of day alone (strace -t/-tt, a W3C row's `time`): it needs a day from elsewhere (TimeReader's)
_TIME_OF_DAY = re.compile(r"^\[?(\d{1,2}):(\d{2}):(\d{2})" + _FRACTION + r"(?![\d:])")
# The group of the seconds, per form
_SECONDS = {_ymd: 6, _syslog: 6, _dmy: 6, _compact: 6, _plain_ymd: 6, _md: 5, _short_ymd: 6, _ordinal: 5}
_AFTER_MINUTE = re.compile(r"(\d{2})(?:[.,:](\d{1,9}))?(?!\d)")


def _fraction(digits: str | None) -> float:
    return int(digits) / 10 ** len(digits) if digits else 0.0


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


def yearless(form: int, m: re.Match[str]) -> bool:
    """Whether form `form`'s match `m` took the caller's year (a syslog time without one, Android's, glog's)."""
    read = _READERS[form][1]
    return read is _md or (read is _syslog and m.group(3) is None and m.group(8) is None)


def in_year(form: int, m: re.Match[str], year: int) -> float | None:
    """The instant of form `form`'s match `m` in `year` (for a year-less time)."""
    return _READERS[form][1](m, year)


def seconds_at(form: int, m: re.Match[str]) -> int:
    """Where form `form`'s match `m` writes its seconds, or -1 where what follows them also counts (a year after
    the time: `Sun Dec 04 17:43:12 2005`) or the form has no seconds field (Unix time): the fast path's cut."""
    read = _READERS[form][1]
    group = _SECONDS.get(read)  # type: ignore[call-overload]
    if group is None or (read is _syslog and m.group(8) is not None):
        return -1
    return m.start(group)
