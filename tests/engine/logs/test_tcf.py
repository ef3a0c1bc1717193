"""The Eclipse TCF agent's trace (engine/logs/formats/tcf.py): minutes and seconds on each line, the hour and
day from the file's last write, an hour counted back at each step back of the minutes. The lines are written
here in the shape the agent's trace writes them (`TCF mm:ss.mmm: ` then the message)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from engine.logs.clock import TimeIndex, TimeReader
from engine.logs.fileclock import file_reader
from engine.logs.formats import detect_format, parse_lines


def utc(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp()


# A client attaching to an agent, then a run control session; the minutes go back twice (two new hours)
TRACE = [
    'TCF 58:02.101: Server-Properties: {"Name":"TCF Agent","OSName":"Linux 6.1.0","UserName":"dev","Port":"1534"}',
    "TCF 58:02.140: channel server connecting",
    "TCF 58:02.141: channel server connected",
    "TCF 59:59.870: 1: ---> C 3 RunControl getChildren null <eom>",
    'TCF 00:00.012: 1: <--- R 3  ["P1234"] <eom>',
    'TCF 00:00.013: 1: ---> C 4 RunControl getContext "P1234" <eom>',
    'TCF 41:17.500: 1: <--- E RunControl contextSuspended "P1234.1" 4198400 "Breakpoint" {} <eom>',
    'TCF 03:09.250: 1: ---> C 5 RunControl resume "P1234.1" 0 1 <eom>',
]
MTIME = utc("2026-11-20T14:05:00")  # the trace was last written at 14:05
EXPECTED = [
    "2026-11-20T12:58:02.101", "2026-11-20T12:58:02.140", "2026-11-20T12:58:02.141", "2026-11-20T12:59:59.870",
    "2026-11-20T13:00:00.012", "2026-11-20T13:00:00.013", "2026-11-20T13:41:17.500", "2026-11-20T14:03:09.250",
]  # fmt: skip


def times(reader: TimeReader, lines: list[str]) -> list[float | None]:
    return [reader(line) for line in lines]


def test_the_format_is_detected_and_split() -> None:
    fmt = detect_format(TRACE).format
    records = list(parse_lines(TRACE, fmt))
    assert fmt.name == "tcf" and len(records) == len(TRACE)
    assert records[1].message == "channel server connecting" and records[1].timestamp == "58:02.140"


def test_hours_are_counted_back_from_the_last_write() -> None:
    got = times(file_reader(TRACE, MTIME), TRACE)
    assert got == pytest.approx([utc(t) for t in EXPECTED])
    assert times(TimeReader(2026, fmt=detect_format(TRACE).format), TRACE) == [None] * len(TRACE)  # no hour given


def test_a_last_line_past_the_mtimes_minutes_is_of_the_hour_before() -> None:
    """Last written at 14:02: the last line's 03:09 cannot be 14:03, it is 13:03 (every hour one earlier)."""
    got = times(file_reader(TRACE, utc("2026-11-20T14:02:00")), TRACE)
    assert got == pytest.approx([utc(t) - 3600 for t in EXPECTED])


def test_a_step_back_of_less_than_a_minute_is_no_new_hour() -> None:
    """Two threads' lines out of order by milliseconds (lnav counts an hour for a minute or more)."""
    lines = ["TCF 10:00.500: 1: ---> C 7 Memory get \"P1\" 4096 1 64 0 <eom>", "TCF 10:00.480: 1: <--- R 7 \"\" <eom>",
             "TCF 09:59.990: 1: <--- E Locator Hello [\"ZeroCopy\"] <eom>"]  # fmt: skip
    got = times(file_reader(lines, utc("2026-11-20T14:30:00")), lines)
    assert got == pytest.approx([utc("2026-11-20T14:10:00.5"), utc("2026-11-20T14:10:00.48"),
                                 utc("2026-11-20T14:09:59.99")])  # fmt: skip


def test_the_last_lines_given_again_are_counted_once() -> None:
    """A short file's first lines are its last ones too: the hours counted are the same."""
    assert times(file_reader(TRACE, MTIME, tail=TRACE[3:]), TRACE) == times(file_reader(TRACE, MTIME), TRACE)
    assert times(file_reader(TRACE[:4], MTIME, tail=TRACE[4:]), TRACE) == times(file_reader(TRACE, MTIME), TRACE)


def test_without_an_mtime_no_time_is_made_up() -> None:
    assert times(file_reader(TRACE, None), TRACE) == [None] * len(TRACE)


def test_a_search_by_time_reads_lines_out_of_order() -> None:
    """The explorer's TimeIndex reads the lines a binary search probes, in its order: the lines the reader was
    built from have their times whatever the order; a line past them goes on from the line read before it."""
    reader = file_reader(TRACE, MTIME)
    index = TimeIndex(lines_of(TRACE), reader=reader)
    assert index.first_at(utc("2026-11-20T13:30:00")) == 6
    assert index.last_time() == pytest.approx(utc(EXPECTED[-1]))
    assert [reader(line) for line in reversed(TRACE)] == pytest.approx([utc(t) for t in reversed(EXPECTED)])
    later = [
        "TCF 03:09.300: 1: <--- R 5 null <eom>",
        'TCF 00:01.000: 1: <--- E RunControl contextExited "P1234.1" <eom>',
    ]
    assert [reader(line) for line in [TRACE[-1], *later]] == pytest.approx(
        [utc("2026-11-20T14:03:09.25"), utc("2026-11-20T14:03:09.3"), utc("2026-11-20T15:00:01")])  # fmt: skip


class lines_of(list[str]):  # noqa: N801 - a list with the LogSource's `line`
    def line(self, i: int) -> str:
        return self[i]
