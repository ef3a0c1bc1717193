"""A record's timestamp as a minute number: enough to count events per minute and compare rates.

Formats write time in many ways (ISO 8601, syslog's `Nov 20 10:02:03`, BGL's
`2005-06-03-15.42.50`, HDFS's `081109 203615`, Android's `03-17 16:13:38`,
Redis's `21 Nov 2026 10:00:09.640`, access logs' `21/Nov/2026:10:00:12`,
HealthApp's `20171223-22:15:41:672`, glog's `0517 15:04:22.619632`, Unix seconds, milli-,
micro- or nanoseconds, a time of day alone: strace's `08:09:33.814936`). `minute_of` reads
the common ones into a number that grows by one per minute within a file; it is not a
calendar date (a month counts 31 days, and a year is absent where the log omits it, the
day too for a time alone), so it serves for bucketing, never for display.
"""

from __future__ import annotations

import re

from engine.logs.clock import MONTHS

_YMD = re.compile(r"(\d{2,4})[-/](\d{1,2})[-/](\d{1,2})(?:[T -]|\s+)(\d{1,2})[:.](\d{2})")  # ISO, BGL, Spark, nginx
# Syslog, and Apache's / ctime's `Sun Dec 04 17:43:12 2005` (a year before or after the time is read; without
# one the year is 0: minutes of one file still follow one another)
_SYSLOG = re.compile(r"([A-Z][a-z]{2})\s+(\d{1,2})\s+(?:(\d{4})\s+)?(\d{1,2}):(\d{2})"
                     r"(?::\d{2}(?:[.,]\d+)?\s+((?:19|20)\d{2})(?![\d:]))?")  # fmt: skip
_COMPACT = re.compile(r"^(\d{2})(\d{2})(\d{2})\s+(\d{2})(\d{2})(?=\d{2}$)")  # HDFS: yyMMdd HHmmss
_MD = re.compile(r"^(\d{1,2})[-.](\d{1,2})\s+(\d{1,2}):(\d{2})")  # Android (MM-dd), Proxifier (MM.dd)
_DMY = re.compile(r"(\d{1,2})[ /]([A-Z][a-z]{2})[ /](\d{4})[ :](\d{2}):(\d{2})")  # Redis, access logs
_YMD_DASH = re.compile(r"^(\d{4})(\d{2})(\d{2})-(\d{1,2}):(\d{1,2})")  # HealthApp: yyyyMMdd-H:m:s:ms
_GLOG = re.compile(r"^[IWEF]?(\d{2})(\d{2})\s+(\d{1,2}):(\d{2})")  # glog, klog: [I]MMdd HH:mm:ss.uuuuuu
_EPOCH = re.compile(r"^(\d{9,11})(?:\.\d+)?$|^(\d{10})(?:\d{3}|\d{6}|\d{9})$")  # seconds; ms, µs, ns
_TIME_OF_DAY = re.compile(r"^(\d{1,2}):(\d{2}):\d{2}(?:[.,]\d+)?$")  # a time alone (strace -tt): day 0


def _minute(year: int, month: int, day: int, hour: int, minute: int) -> int:
    return (((year * 12 + month) * 31 + day) * 24 + hour) * 60 + minute


def _ymd(m: re.Match[str]) -> int | None:
    y, mo, d, h, mi = (int(g) for g in m.groups())
    return _minute(y, mo, d, h, mi)


def _syslog(m: re.Match[str]) -> int | None:
    month = MONTHS.get(m.group(1).lower())
    mon, d, y, h, mi, y_after = m.groups()
    year = int(y or y_after or 0)
    return None if month is None else _minute(year, month, int(d), int(h), int(mi))


def _md(m: re.Match[str]) -> int | None:
    mo, d, h, mi = (int(g) for g in m.groups())
    return _minute(0, mo, d, h, mi)


def _dmy(m: re.Match[str]) -> int | None:
    month = MONTHS.get(m.group(2).lower())
    d, y, h, mi = int(m.group(1)), int(m.group(3)), int(m.group(4)), int(m.group(5))
    return None if month is None else _minute(y, month, d, h, mi)


def _epoch(m: re.Match[str]) -> int | None:
    return int(m.group(1) or m.group(2)) // 60


def _time_of_day(m: re.Match[str]) -> int | None:
    return _minute(0, 0, 0, int(m.group(1)), int(m.group(2)))


_READERS = [(_YMD.search, _ymd), (_DMY.search, _dmy), (_SYSLOG.search, _syslog), (_COMPACT.match, _ymd),
            (_YMD_DASH.match, _ymd), (_MD.match, _md), (_GLOG.match, _md), (_EPOCH.match, _epoch),
            (_TIME_OF_DAY.match, _time_of_day)]  # fmt: skip


def minute_of(timestamp: str | None) -> int | None:
    """The minute a timestamp names (see the module note), or None when it is in no known form."""
    return MinuteReader()(timestamp)


class MinuteReader:
    """`minute_of` for the timestamps of one file, in order: the form that worked last is tried first, and a
    timestamp that starts like the last one up to its minute (the same minute, other seconds) is not parsed."""

    def __init__(self) -> None:
        self._form = 0
        self._prefix = "\0"  # the last timestamp up to the end of its minute
        self._minute: int | None = None

    def __call__(self, timestamp: str | None) -> int | None:
        if not timestamp:
            return None
        if timestamp.startswith(self._prefix):
            return self._minute
        order = [self._form, *(i for i in range(len(_READERS)) if i != self._form)]
        for i in order:
            find, read = _READERS[i]
            if (m := find(timestamp)) is not None and (minute := read(m)) is not None:
                self._form, self._minute = i, minute
                self._prefix = timestamp[: m.end()] if read is not _epoch else "\0"
                return minute
        return None
