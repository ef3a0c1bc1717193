"""The forms of engine/logs/timeforms.py added for lnav's test logs, on lines written from each program's
documentation, and the year of a year-less time in a file written after New Year."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from engine.logs.clock import TimeReader, describe, seconds_of
from engine.logs.formats import GENERIC


def unix(*when: int) -> int:
    return int(datetime(*when, tzinfo=timezone.utc).timestamp())  # type: ignore[misc]


def tai64n(seconds: int, nanos: int) -> str:
    """A TAI64N label as tai64n(8) writes it: @, 2^62 + 10 + Unix seconds and the nanoseconds, in hex."""
    return f"@{(1 << 62) + 10 + seconds:016x}{nanos:08x}"


def test_tai64n_labels_read_as_unix_time() -> None:
    t = unix(2026, 11, 20, 10, 2, 3)
    line = f"{tai64n(t, 250_000_000)} tcpserver: status: 1/40"
    assert seconds_of(line) == pytest.approx(t + 0.25)
    assert describe(seconds_of(line) or 0) == "2026-11-20 10:02:03"
    assert GENERIC.parse(line, 1).timestamp == tai64n(t, 250_000_000)
    assert seconds_of(f"@{0:016x}{0:08x} not a TAI64 label of our era") is None
    assert seconds_of(f"{tai64n(t, 1_500_000_000)} nanoseconds past a second") is None


def test_tcsh_history_stamps_time_the_command_after_them() -> None:
    """tcsh(1): savehist writes each command after a `#+` line holding its Unix seconds."""
    reader = TimeReader(2026)
    assert reader("#+1795000000") == 1795000000
    assert reader("ls -l /var/log") is None  # the command: its record's time is the stamp's (lnav does so too)


@pytest.mark.parametrize(
    ("line", "expected", "fraction"),
    [
        ("20261120T100203Z worker started", "2026-11-20 10:02:03", 0.0),
        ("20261120T120203+0200 worker started", "2026-11-20 10:02:03", 0.0),
        ("20261120T100203.5 worker started", "2026-11-20 10:02:03", 0.5),
        ("[20261120T100203] worker started", "2026-11-20 10:02:03", 0.0),
        ("20261120.100203,672:DEBUG:shop.db:connected", "2026-11-20 10:02:03", 0.672),
    ],
)
def test_iso_8601_basic_form(line: str, expected: str, fraction: float) -> None:
    t = seconds_of(line)
    assert t is not None and describe(t) == expected
    assert t % 1 == pytest.approx(fraction, abs=1e-6)


def test_a_basic_form_that_names_no_day_is_none() -> None:
    assert seconds_of("20261320T100203 month 13") is None
    assert seconds_of("12345678T123456 a build id") is None


def test_a_year_less_time_past_the_files_day_is_of_the_year_before() -> None:
    """A syslog file last written on 3 Nov 2007 that holds `Dec  3` lines wrote them in December 2006."""
    reader = TimeReader(2007, day=date(2007, 11, 3))
    assert describe(reader("Dec  3 09:23:38 veridian automount[7998]: lookup failed") or 0) == "2006-12-03 09:23:38"
    assert describe(reader("Dec  3 09:23:40 veridian automount[7998]: again") or 0) == "2006-12-03 09:23:40"
    assert describe(reader("Jan  3 09:47:02 veridian sudo: tim : TTY=pts/6") or 0) == "2007-01-03 09:47:02"
    assert describe(reader("Nov  4 23:59:59 veridian a zone ahead of UTC") or 0) == "2007-11-04 23:59:59"
    assert describe(reader("03-17 16:13:38.811  1702  2395 E Tag: x") or 0) == "2007-03-17 16:13:38"
    assert describe(reader("12-17 16:13:38.811  1702  2395 E Tag: x") or 0) == "2006-12-17 16:13:38"
    assert describe(reader("Sun Dec 04 17:43:12 2007 a year written wins") or 0) == "2007-12-04 17:43:12"
    assert describe(TimeReader(2007)("Dec  3 09:23:38 no day given: the year as given") or 0) == "2007-12-03 09:23:38"


def test_iso_8601_ordinal_dates() -> None:
    assert describe(seconds_of("2012-025T10:22:40,672:DEBUG:foo") or 0) == "2012-01-25 10:22:40"
    assert describe(seconds_of("2024-366T23:59:59Z leap year's last day") or 0) == "2024-12-31 23:59:59"
    assert seconds_of("2023-366T00:00:00 no such day") is None


def test_date_1_zone_name_before_the_year() -> None:
    """date(1)'s default output: the year after the zone name is the line's, not the caller's."""
    assert describe(seconds_of("Wed May 19 08:00:01 EST 2021 line 1", 2026) or 0) == "2021-05-19 08:00:01"
    assert describe(seconds_of("Wed May 19 08:00:01 UTC 2021 line 1", 2026) or 0) == "2021-05-19 08:00:01"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("2026-11-20 01:45:01.123 PDT [12345] LOG:  database system is ready", "2026-11-20 08:45:01"),  # %m [%p]
        ("2026-11-20 10:45:01 CET [12345] LOG:  checkpoint starting: time", "2026-11-20 09:45:01"),
        ("2026-11-20 10:45:01 UTC [12345] LOG:  checkpoint complete", "2026-11-20 10:45:01"),
        ("2026-11-20 10:45:01 CST [12345] LOG:  CST names several zones: as written", "2026-11-20 10:45:01"),
        ("2026-11-20 10:45:01 ESTABLISHED a word, not a zone", "2026-11-20 10:45:01"),
    ],
)
def test_unambiguous_zone_names_are_applied(line: str, expected: str) -> None:
    """PostgreSQL's log_line_prefix `%m` writes the time with milliseconds and the zone's abbreviation."""
    assert describe(seconds_of(line) or 0) == expected
