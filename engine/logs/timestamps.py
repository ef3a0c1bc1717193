"""A record's timestamp as a minute number: enough to count events per minute and compare rates.

A minute is the instant engine/logs/clock.py's `TimeReader` reads (the one table of forms,
engine/logs/timeforms.py: ISO 8601, syslog, ctime, BGL, HDFS, Android, Proxifier, Redis, access
logs, HealthApp, glog, Unix seconds, milli-, micro- or nanoseconds, TAI64N, a time of day alone)
// 60. A time that writes no year is read in `YEAR` (a leap year, so `Feb 29` reads), and a time
of day alone on the day of the last dated timestamp, else on `DAY`: minutes of one file follow one
another, but such a minute is no calendar date, so it serves for bucketing, never for display (the
file's year and day are clock.py's, through engine/logs/fileclock.py). What it leaves out: a bare
number that is not 10 digits (or 13, 16, 19) is no Unix time here.
"""

from __future__ import annotations

from datetime import date

from engine.logs.clock import TimeReader

YEAR = 2000  # the year of a time that writes none
DAY = date(1970, 1, 1)  # the day of a time of day alone, before any dated timestamp


def minute_of(timestamp: str | None) -> int | None:
    """The minute a timestamp names (see the module note), or None when it is in no known form."""
    return MinuteReader()(timestamp)


class MinuteReader:
    """`minute_of` for the timestamps of one file, in order: one `TimeReader` (which tries the form that
    worked last first); a timestamp that starts like the last one up to its seconds is in its minute."""

    def __init__(self) -> None:
        self._reader = TimeReader(YEAR, day=DAY, rollover=False)
        self._last: tuple[str, int | None] = ("", None)  # the last timestamp and its minute (lines share seconds)

    def __call__(self, timestamp: str | None) -> int | None:
        if not timestamp:
            return None
        if timestamp == self._last[0]:
            return self._last[1]
        minute = self._reader.minute(timestamp)
        self._last = (timestamp, minute)
        return minute
