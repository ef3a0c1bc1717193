"""Line times on one axis: every form read to the second, offsets applied, binary search by time, jumps."""

from __future__ import annotations

import pytest

from engine.logs.clock import TimeIndex, describe, parse_jump, seconds_of

FORMS = [
    ("2026-11-20T10:02:03.5Z web ok", "2026-11-20 10:02:03", 0.5),
    ("2026-11-20 10:02:03,123 INFO app: ok", "2026-11-20 10:02:03", 0.123),
    ("Nov 20 10:02:03 web-01 sshd[1]: ok", "2026-11-20 10:02:03", 0.0),  # the year is the file's
    ("081109 203615 148 INFO dfs.DataNode: ok", "2008-11-09 20:36:15", 0.0),
    ("03-17 16:13:38.811  1702  2395 E Tag: x", "2026-03-17 16:13:38", 0.811),
    ("17/06/09 20:10:40 INFO spark.SecurityManager: Changing view acls to: yarn", "2017-06-09 20:10:40", 0.0),
    ("- 1117838570 2005.06.03 R02-M1-N0-C:J12-U11 2005-06-03-15.42.50.675872 R02 RAS", "2005-06-03 15:42:50", 0.675872),
    ("1:M 21 Nov 2026 10:00:09.640 * Ready", "2026-11-21 10:00:09", 0.64),
    ('127.0.0.1 - - [21/Nov/2026:10:00:12 +0000] "GET / HTTP/1.1" 200', "2026-11-21 10:00:12", 0.0),
    ("20171223-22:15:41:672|Step_LSC|30002312|x", "2017-12-23 22:15:41", 0.672),
    ("1700000000.25 event", "2023-11-14 22:13:20", 0.25),
    ("1700000000250 event", "2023-11-14 22:13:20", 0.25),  # milliseconds
    ("1700000000250000 event", "2023-11-14 22:13:20", 0.25),  # microseconds
    ("I0302 10:22:40.619632  4242 server.cc:87] ok", "2026-03-02 10:22:40", 0.619632),  # glog: the file's year
    ("2026-03-02 10:22:40,672:DEBUG:shop.db:connected", "2026-03-02 10:22:40", 0.672),  # a colon after the time
    ("update-alternatives 2026-03-02 10:22:40: run with --install", "2026-03-02 10:22:40", 0.0),
]


@pytest.mark.parametrize(("line", "expected", "fraction"), FORMS)
def test_each_form_is_read_to_the_second(line: str, expected: str, fraction: float) -> None:
    t = seconds_of(line, year=2026)
    assert t is not None and describe(t) == expected
    assert t % 1 == pytest.approx(fraction, abs=1e-6)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("[Sun Dec 04 17:43:12 2005] [error] [client 10.0.0.5] File does not exist: /var/www/x", "2005-12-04 17:43:12"),
        ("[Wed Oct 11 14:32:52.123456 2000] [core:error] [pid 35708:tid 4328636416] AH00037: x", "2000-10-11 14:32:52"),
        ("Dec 04 17:43:12 2005 web-01 app: started", "2005-12-04 17:43:12"),
        ("Dec 04 2005 17:43:12 web-01 app: started", "2005-12-04 17:43:12"),
        ("Dec 04 17:43:12 web-01 app[2005]: started", "2026-12-04 17:43:12"),  # no year: the caller's
    ],
)
def test_a_year_written_in_the_line_wins_over_the_files(line: str, expected: str) -> None:
    """Apache's error log and ctime write the year after the time; syslog writes none (the file's year)."""
    t = seconds_of(line, year=2026)
    assert t is not None and describe(t) == expected


def test_an_offset_puts_times_of_two_zones_on_one_axis() -> None:
    assert seconds_of("2026-11-20T10:02:03+02:00 x") == seconds_of("2026-11-20T08:02:03Z y")
    assert seconds_of("2026-11-20T10:02:03-0130 x") == seconds_of("2026-11-20T11:32:03 y")


@pytest.mark.parametrize("line", ["hello", "", "request 12:30 took 5s", "2026-13-45T10:02:03 bad date", "99:99:99"])
def test_lines_without_a_valid_time_have_none(line: str) -> None:
    assert seconds_of(line) is None


class Lines(list):
    def line(self, i: int) -> str:
        return self[i]


def test_first_at_finds_the_first_line_at_or_after_a_time_and_lines_without_time_follow() -> None:
    lines = Lines()
    for minute in range(60):
        lines.append(f"2026-11-20T10:{minute:02d}:00Z tick {minute}")
        lines.append("    at continuation line")  # no time: part of the record before
    index = TimeIndex(lines)
    assert index.first_at(seconds_of("2026-11-20T10:30:00Z")) == 60
    assert index.first_at(seconds_of("2026-11-20T10:30:01Z")) == 62
    assert index.first_at(seconds_of("2026-11-20T09:00:00Z")) == 0
    assert index.first_at(seconds_of("2026-11-20T11:00:00Z")) is None
    assert index.last_time() == seconds_of("2026-11-20T10:59:00Z")


def test_a_jump_reads_a_few_dozen_lines_of_a_million() -> None:
    class Counted:
        reads = 0

        def __len__(self) -> int:
            return 1_000_000

        def line(self, i: int) -> str:
            Counted.reads += 1
            return f"2026-11-20T{i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d}Z n={i}"

    index = TimeIndex(Counted())
    assert index.first_at(seconds_of("2026-11-20T05:00:00Z")) == 5 * 3600
    assert Counted.reads < 60


def test_what_a_user_types_after_the_colon() -> None:
    here = seconds_of("2026-11-20T10:02:03Z")
    end = seconds_of("2026-11-21T00:10:00Z")
    assert describe(parse_jump("10:05", here=here, end=end)) == "2026-11-20 10:05:00"
    assert describe(parse_jump("10:05:07", here=here, end=end)) == "2026-11-20 10:05:07"
    assert describe(parse_jump("-15m", here=here, end=end)) == "2026-11-20 23:55:00"
    assert describe(parse_jump("+2h", here=here, end=end)) == "2026-11-20 12:02:03"
    assert describe(parse_jump("2026-11-20T10:02", here=None, end=None)) == "2026-11-20 10:02:00"
    assert describe(parse_jump("2026-11-21", here=None, end=None)) == "2026-11-21 00:00:00"
    assert describe(parse_jump("Nov 20 10:02:00", here=None, end=None, year=2025)) == "2025-11-20 10:02:00"
    assert parse_jump("10:05", here=None, end=end) is None  # no time on screen to take the day from
    assert parse_jump("nonsense", here=here, end=end) is None
