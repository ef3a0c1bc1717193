"""Timestamps as minute numbers: every common form, and minutes that follow one another."""

from __future__ import annotations

import pytest

from engine.logs.clock import TimeReader, seconds_of
from engine.logs.timestamps import MinuteReader, minute_of


@pytest.mark.parametrize(
    ("first", "one_minute_later"),
    [
        ("2015-07-29 17:41:44,747", "2015-07-29 17:42:01,002"),  # log4j / Python logging
        ("2026-11-21T10:00:09.640Z", "2026-11-21T10:01:00.000Z"),  # ISO 8601
        ("2005-06-03-15.42.50.675872", "2005-06-03-15.43.00.000000"),  # BGL
        ("Jun 14 15:16:01", "Jun 14 15:17:59"),  # syslog
        ("Sun Dec 04 04:47:44 2005", "Sun Dec 04 04:48:44 2005"),  # Apache error log
        ("081109 203615", "081109 203715"),  # HDFS
        ("03-17 16:13:38.811", "03-17 16:14:00.000"),  # Android
        ("17/06/09 20:10:40", "17/06/09 20:11:40"),  # Spark
        ("1117838570", "1117838630"),  # Unix seconds
        ("21 Nov 2026 10:00:09.640", "21 Nov 2026 10:01:00.000"),  # Redis
        ("21/Nov/2026:10:00:12 +0000", "21/Nov/2026:10:01:12 +0000"),  # access log
        ("20171223-22:15:41:672", "20171223-22:16:01:000"),  # HealthApp
        ("0517 15:04:22.619632", "0517 15:05:00.000000"),  # glog / klog
        ("1117838570000", "1117838630000"),  # Unix milliseconds
        ("2015-07-29  17:41:44", "2015-07-29  17:42:01"),  # two spaces between date and time
    ],
)
def test_each_form_reads_as_consecutive_minutes(first: str, one_minute_later: str) -> None:
    a, b = minute_of(first), minute_of(one_minute_later)
    assert a is not None and b == a + 1


def test_midnight_and_month_ends_still_move_forward() -> None:
    assert minute_of("Jan 31 23:59:59") < minute_of("Feb  1 00:00:00")  # type: ignore[operator]
    assert minute_of("2026-12-31T23:59:00") < minute_of("2027-01-01T00:00:00")  # type: ignore[operator]


def test_a_year_written_after_the_time_counts() -> None:
    """Apache's error log (ctime): the year after the time orders the minutes, and tells two years apart."""
    assert minute_of("Sat Dec 31 23:59:00 2005") < minute_of("Sun Jan 01 00:00:00 2006")  # type: ignore[operator]
    assert minute_of("Sun Dec 04 17:43:12 2005") != minute_of("Mon Dec 04 17:43:12 2006")
    read = MinuteReader()
    assert read("Sun Dec 04 17:43:12 2005") != read("Sun Dec 04 17:43:40 2006")  # the prefix cache keeps the year


@pytest.mark.parametrize("text", [None, "", "soon", "Foo 12 10:00:00", "99-99"])
def test_unknown_forms_are_none(text: str | None) -> None:
    assert minute_of(text) is None


def test_a_reader_of_one_files_timestamps_gives_what_minute_of_gives() -> None:
    stamps = ["Jun 14 15:16:01", "Jun 14 15:16:59", "Jun 14 15:17:00", "081109 203615", "081109 203659",
              "081109 203700", "2015-07-29 17:41:44,747", "nonsense", "2015-07-29 17:41:59,000", "1117838570",
              "1117838630", "Jun 14 15:16:01"]  # fmt: skip
    read = MinuteReader()
    assert [read(s) for s in stamps] == [minute_of(s) for s in stamps]


@pytest.mark.parametrize(
    "stamp",
    ["2015-07-29 17:41:44,747", "2026-11-21T10:00:09.640+02:00", "2005-06-03-15.42.50.675872", "Jun 14 15:16:01",
     "Sun Dec 04 04:47:44 2005", "081109 203615", "03-17 16:13:38.811", "10.30 16:49:06", "17/06/09 20:10:40",
     "1117838570", "21/Nov/2026:10:00:12 -0700", "20171223-22:15:41:672", "0517 15:04:22.619632",
     "1117838570123456", "20120702T102240Z", "@40000000433225833b6e1a8c"],
)  # fmt: skip
def test_a_minute_is_the_instant_over_60(stamp: str) -> None:
    """One parser: the minute is clock.py's instant (the year 2000 where none is written) // 60."""
    t = seconds_of(stamp, year=2000)
    assert t is not None and minute_of(stamp) == int(t // 60)


def test_a_time_of_day_alone_takes_the_day_of_the_timestamp_before() -> None:
    read = MinuteReader()
    first = read("2026-11-20 23:59:10")
    assert first is not None and read("23:59:50") == first and read("00:00:01") == first - 24 * 60 + 1


def test_the_year_after_the_time_is_read_on_every_line() -> None:
    """`Sun Dec 04 17:43:12 2005` then the same minute of 2006: the fast path (the same text up to the seconds)
    must not carry 2005 over."""
    read = TimeReader(2026)
    a, b = read("Sun Dec 04 17:43:12 2005 one"), read("Sun Dec 04 17:43:40 2006 two")
    assert a is not None and b is not None and b - a == 365 * 86400 + 28


def test_the_shortcuts_of_a_reader_give_what_a_fresh_read_gives_on_every_loghub_sample() -> None:
    """MinuteReader's shortcuts (the same timestamp again, the same text up to the seconds) against minute_of
    read afresh for each timestamp, on the records of every Loghub sample."""
    from pathlib import Path

    from engine.logs.formats import detect_format, parse_lines

    loghub = Path(__file__).resolve().parents[4] / "shared" / "datasets" / "loghub"
    samples = sorted(loghub.glob("*/*_2k.log"))
    if not samples:
        pytest.skip("Loghub samples (../shared/datasets/loghub) are not on this machine")
    for path in samples:
        lines = path.read_text(errors="replace").splitlines()
        stamps = [r.timestamp for r in parse_lines(lines, detect_format(lines).format)][::7]
        read = MinuteReader()
        assert [read(s) for s in stamps] == [minute_of(s) for s in stamps], path.name
