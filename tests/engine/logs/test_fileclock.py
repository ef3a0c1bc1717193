"""A file's time reader with its format: times only a format assembles (W3C's `#Date:` and `time`, strace's
time of day on the file's day, epochs inside JSON lines, Zeek's `ts`), the fast path against a fresh read of
every line, and a binary search over such a file. Lines are written from each program's documentation."""

from __future__ import annotations

import json
import os
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from engine.logs.clock import TimeIndex, TimeReader, describe, seconds_of
from engine.logs.fileclock import file_reader, mtime_of

DAY = date(2026, 11, 20)
MTIME = datetime(2026, 11, 20, 23, 0, tzinfo=timezone.utc).timestamp()


def at(text: str) -> float:
    """The instant of an ISO time, as this module reads it."""
    t = seconds_of(text)
    assert t is not None
    return t


# IIS (Microsoft's W3C logging docs): `#Date:` is when the header was written; the rows write only `time`.
W3C = [
    "#Software: Microsoft Internet Information Services 10.0",
    "#Version: 1.0",
    "#Date: 2026-11-20 10:00:00",
    "#Fields: time c-ip cs-method cs-uri-stem sc-status",
    "10:00:01 192.0.2.1 GET /index.html 200",
    "10:00:07 192.0.2.1 GET /missing.png 404",
    "10:02:30 192.0.2.9 POST /login 302",
    "10:02:31 192.0.2.9 GET /home 200",
]
# strace -tt (man strace: the time of day with microseconds); -f to a file puts the pid first.
STRACE = [
    '10:02:03.123456 execve("/bin/true", ["true"], 0x7ffc6a2e2f08 /* 20 vars */) = 0',
    "10:02:03.124001 brk(NULL)                               = 0x55d0c6a4e000",
    '10:02:03.124502 openat(AT_FDCWD, "/etc/ld.so.preload", O_RDONLY|O_CLOEXEC) = -1 ENOENT (No such file or directory)',
    '10:02:04.000017 openat(AT_FDCWD, "/var/log/2025-01-01 00:00:00.log", O_RDONLY) = 3',
    "10:03:00.5 exit_group(0)                           = ?",
    "10:03:00.500100 +++ exited with 0 +++",
]
# journalctl -o json: __REALTIME_TIMESTAMP is microseconds since the epoch, as a string.
JOURNALD = [
    json.dumps({"__REALTIME_TIMESTAMP": str(int(at("2026-11-20T10:00:00Z")) * 10**6 + 250000), "PRIORITY": "6",
                "SYSLOG_IDENTIFIER": "systemd", "_PID": "1", "MESSAGE": "Started Daily apt upgrade."}),
    json.dumps({"__REALTIME_TIMESTAMP": str(int(at("2026-11-20T10:00:09Z")) * 10**6), "PRIORITY": "3",
                "SYSLOG_IDENTIFIER": "sshd", "_PID": "812", "MESSAGE": "error: kex_exchange_identification"}),
]  # fmt: skip
# pino: `time` is epoch milliseconds, `level` 30 is info.
PINO = [
    json.dumps({"level": 30, "time": int(at("2026-11-20T10:00:00Z")) * 1000 + 125, "pid": 42, "hostname": "box",
                "msg": "server listening"}),
    json.dumps({"level": 50, "time": int(at("2026-11-20T10:01:00Z")) * 1000, "pid": 42, "hostname": "box",
                "msg": "request failed"}),
]  # fmt: skip
# The OpenTelemetry collector's file exporter: OTLP JSON, `timeUnixNano` a string of nanoseconds.
OTEL = [
    json.dumps({"resourceLogs": [{"resource": {"attributes": []}, "scopeLogs": [{"scope": {}, "logRecords": [
        {"timeUnixNano": str(int(at(f"2026-11-20T10:0{k}:00Z")) * 10**9 + 5 * 10**8), "severityText": "INFO",
         "body": {"stringValue": f"checkout {k} done"}}]}]}]})
    for k in range(3)
]  # fmt: skip
# Zeek's ASCII writer (conn.log): tab-separated, `ts` Unix seconds with microseconds.
ZEEK = [
    "#separator \\x09",
    "#set_separator\t,",
    "#empty_field\t(empty)",
    "#unset_field\t-",
    "#path\tconn",
    "#open\t2026-11-20-10-00-00",
    "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto",
    "#types\ttime\tstring\taddr\tport\taddr\tport\tenum",
    f"{at('2026-11-20T10:00:01Z'):.6f}\tCHhAvVGS1DHFjwGM9\t192.0.2.1\t51234\t192.0.2.2\t80\ttcp",
    f"{at('2026-11-20T10:00:02Z') + 0.25:.6f}\tC4J4Th3PJpwUYZZ6gc\t192.0.2.1\t51235\t192.0.2.2\t443\ttcp",
]


def times(lines: list[str], mtime: float | None = MTIME) -> list[float | None]:
    reader = file_reader(lines, mtime)
    return [reader(line) for line in lines]


def test_w3c_rows_that_write_only_a_time_take_the_day_of_date() -> None:
    assert file_reader(W3C, MTIME).format is not None and file_reader(W3C, MTIME).format.name == "w3c"
    got = times(W3C)
    assert got[4:] == [at(f"2026-11-20T{t}Z") for t in ("10:00:01", "10:00:07", "10:02:30", "10:02:31")]
    assert TimeReader(2026)(W3C[4]) is None  # the raw line alone has no day


def test_the_w3c_spec_example_takes_its_day_from_the_dated_line_before() -> None:
    """The W3C draft's own example writes `#Date: 12-Jan-1996 00:00:00`, which the header does not parse: the
    rows take the day of the dated line read before them."""
    spec = ["#Version: 1.0", "#Date: 12-Jan-1996 00:00:00", "#Fields: time cs-method cs-uri",
            "00:34:23 GET /foo/bar.html", "12:21:16 GET /foo/bar.html"]  # fmt: skip
    assert times(spec)[3:] == [at("1996-01-12T00:34:23Z"), at("1996-01-12T12:21:16Z")]


def test_strace_times_of_day_are_on_the_files_day_and_its_arguments_do_not_count() -> None:
    assert file_reader(STRACE, MTIME).format.name == "strace"  # type: ignore[union-attr]
    got = times(STRACE)
    assert got[0] == pytest.approx(at("2026-11-20T10:02:03.123456Z"))
    assert got[3] == pytest.approx(at("2026-11-20T10:02:04.000017Z"))  # not the date in its path argument
    assert got[4] == pytest.approx(at("2026-11-20T10:03:00.5Z"))
    assert times(STRACE, mtime=None) == [None] * len(STRACE)  # no day: a time of day alone is no instant
    pids = [f"4242  {line}" for line in STRACE]  # -f -o file
    assert times(pids) == pytest.approx(got)


@pytest.mark.parametrize(
    ("lines", "first", "last"),
    [
        (JOURNALD, "2026-11-20T10:00:00.25Z", "2026-11-20T10:00:09Z"),
        (PINO, "2026-11-20T10:00:00.125Z", "2026-11-20T10:01:00Z"),
        (OTEL, "2026-11-20T10:00:00.5Z", "2026-11-20T10:02:00.5Z"),
    ],  # fmt: skip
)
def test_epoch_times_inside_json_lines(lines: list[str], first: str, last: str) -> None:
    got = times(lines, mtime=None)
    assert got[0] == pytest.approx(at(first)) and got[-1] == pytest.approx(at(last))
    assert TimeReader(2026)(lines[0]) is None  # not a time the raw line shows at its start


def test_zeek_ts_is_read() -> None:
    assert file_reader(ZEEK, MTIME).format.name == "zeek"  # type: ignore[union-attr]
    assert times(ZEEK)[-2:] == pytest.approx([at("2026-11-20T10:00:01Z"), at("2026-11-20T10:00:02.25Z")])


def test_the_fast_path_equals_a_fresh_read_of_every_line() -> None:
    """Read in order (a line like the last up to its minute only has its seconds read) against a fresh reader
    per line; JSON with the time twice, then two different times, must not share the wrong one."""
    twice = [json.dumps({"start": "2026-11-20T10:00:00Z", "timestamp": f"2026-11-20T10:0{m}:0{s}Z", "msg": "x"})
             for m, s in ((0, 0), (3, 5), (3, 7), (4, 1))]  # fmt: skip
    for lines in (W3C, STRACE, JOURNALD, PINO, OTEL, ZEEK, twice):
        reader = file_reader(lines, MTIME)
        fresh = [file_reader(lines, MTIME) for _ in lines]
        for r in fresh:  # a headed format's header is read from the sample; the reader needs no warming up
            r(lines[0])
        assert [reader(line) for line in lines] == [r(line) for r, line in zip(fresh, lines, strict=True)]
    assert [file_reader(twice, None)(line) for line in twice][-1] == at("2026-11-20T10:04:01Z")


def test_a_binary_search_lands_on_the_right_row_of_a_w3c_file() -> None:
    rows = [f"10:{k // 60:02d}:{k % 60:02d} 192.0.2.{k % 250} GET /p{k} 200" for k in range(0, 3600, 7)]
    lines = W3C[:4] + rows
    index = TimeIndex(lines_of(lines), reader=file_reader(lines, MTIME))
    assert index.first_at(at("2026-11-20T10:30:00Z")) == 4 + (30 * 60 + 6) // 7  # 10:30:06, the first at or after
    assert index.last_time() == at("2026-11-20T10:59:58Z")


class lines_of(list[str]):  # noqa: N801 - a list with the LogSource's `line`
    def line(self, i: int) -> str:
        return self[i]


def test_mtime_of_a_missing_file_is_none(tmp_path: Path) -> None:
    path = tmp_path / "x.log"
    assert mtime_of(path) is None and mtime_of(None) is None
    path.write_text("x\n")
    assert mtime_of(path) is not None


# ---- the year of a time that writes none: the file's end, from its lines where they write a year ----


def utc(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp()


def saved(tmp_path: Path, lines: list[str], mtime: str) -> Path:
    """`lines` written to a file last written at `mtime` (os.utime: a copied or unpacked log)."""
    path = tmp_path / "syslog"
    path.write_text("\n".join(lines) + "\n")
    os.utime(path, (utc(mtime), utc(mtime)))
    return path


def read_file(path: Path, head: int = 200, tail: int = 50) -> list[str]:
    """Each line's time as the file's reader reads it, given the file's first and last lines as the explorer
    has them."""
    lines = path.read_text().splitlines()
    reader = file_reader(lines[:head], mtime_of(path), tail=lines[-tail:])
    return [describe(t) if (t := reader(line)) is not None else "" for line in lines]


# rsyslog's traditional file format (RSYSLOG_TraditionalFileFormat): `Mmm dd hh:mm:ss host tag: msg`
NEW_YEAR = [
    "Dec 31 23:59:01 web-01 CRON[20811]: (root) CMD (command -v debian-sa1 > /dev/null && debian-sa1 1 1)",
    "Dec 31 23:59:58 web-01 systemd[1]: Starting Rotate log files...",
    "Jan  1 00:00:00 web-01 rsyslogd: [origin software=\"rsyslogd\" swVersion=\"8.2302.0\" x-pid=\"612\"] rsyslogd was HUPed",
    "Jan  1 00:00:02 web-01 systemd[1]: logrotate.service: Deactivated successfully.",
]  # fmt: skip


def test_a_syslog_over_new_year_is_of_two_years(tmp_path: Path) -> None:
    got = read_file(saved(tmp_path, NEW_YEAR, "2027-01-01T00:05:00"))
    assert got == ["2026-12-31 23:59:01", "2026-12-31 23:59:58", "2027-01-01 00:00:00", "2027-01-01 00:00:02"]


def test_a_syslog_over_new_year_copied_years_later_keeps_the_year_its_newest_line_writes(tmp_path: Path) -> None:
    """rsyslog switched to its RFC 3339 file format (RSYSLOG_FileFormat) just after New Year; the copy was made
    in 2031: the year-less lines are of the years before the file's end, not 2030's."""
    lines = [
        *NEW_YEAR,
        "2007-01-01T00:01:00.412346+00:00 web-01 systemd[1]: Started rsyslog.service - System Logging Service.",
    ]
    got = read_file(saved(tmp_path, lines, "2031-06-01T12:00:00"))
    assert got == ["2006-12-31 23:59:01", "2006-12-31 23:59:58", "2007-01-01 00:00:00", "2007-01-01 00:00:02",
                   "2007-01-01 00:01:00"]  # fmt: skip


def test_an_archived_log_is_not_put_in_its_mtimes_year(tmp_path: Path) -> None:
    """Written with RFC 3339 times in 2005, switched back to the traditional format, its last line `Dec 31
    23:59:59`; unpacked in 2026 (mtime 2026): the last line comes after the newest dated one, in 2005."""
    lines = [
        "2005-12-30T22:14:09.118431+00:00 mail-02 postfix/qmgr[1422]: 3F1A2C0041: removed",
        "2005-12-30T22:15:00.003122+00:00 mail-02 rsyslogd: [origin software=\"rsyslogd\"] exiting on signal 15.",
        *[f"Dec 31 {h:02d}:17:01 mail-02 CRON[{9000 + h}]: (root) CMD (   cd / && run-parts --report /etc/cron.hourly)"
          for h in range(24)],
        "Dec 31 23:59:59 mail-02 postfix/anvil[2211]: statistics: max connection rate 1/60s for (smtp:192.0.2.7)",
    ]  # fmt: skip
    got = read_file(saved(tmp_path, lines, "2026-03-14T09:00:00"), head=10, tail=5)
    assert got[0] == "2005-12-30 22:14:09"
    assert got[2] == "2005-12-31 00:17:01" and got[-1] == "2005-12-31 23:59:59"
    # without the file's last lines the reader still believes the dated lines over the mtime
    reader = file_reader(lines[:10], utc("2026-03-14T09:00:00"))
    assert describe(reader(lines[5]) or 0) == "2005-12-31 03:17:01"


def test_a_mixed_file_gives_its_written_year_to_the_lines_before(tmp_path: Path) -> None:
    """Traditional lines, then the RFC 3339 ones after an upgrade; last written the day after (mtime right):
    the year-less lines are of the year the dated lines write, the one before."""
    lines = [
        "Dec 29 11:02:03 db-01 kernel: [812345.112233] EXT4-fs (sda1): re-mounted. Opts: errors=remount-ro",
        "Dec 30 08:00:01 db-01 apt.systemd.daily[5521]: Upgrading rsyslog",
        "2006-01-02T08:00:05.220001+00:00 db-01 rsyslogd: [origin software=\"rsyslogd\"] start",
        "2006-01-02T08:00:05.230001+00:00 db-01 systemd[1]: Started rsyslog.service - System Logging Service.",
    ]  # fmt: skip
    got = read_file(saved(tmp_path, lines, "2026-07-01T00:00:00"))
    assert got == ["2005-12-29 11:02:03", "2005-12-30 08:00:01", "2006-01-02 08:00:05", "2006-01-02 08:00:05"]
    assert read_file(saved(tmp_path, lines, "2006-01-02T09:00:00")) == got


def test_the_mtime_is_the_end_where_no_year_is_written_and_where_one_agrees() -> None:
    """A syslog of year-less lines takes its mtime's year (the year before for December's lines written in
    November, as before); a year written months before the mtime does not move it."""
    lines = ["Dec  3 09:00:00 web-01 systemd[1]: Started Session 1 of user deploy.",
             "Nov 19 10:00:00 web-01 sshd[2101]: Accepted publickey for deploy from 192.0.2.4 port 52110 ssh2"]  # fmt: skip
    reader = file_reader(lines, MTIME, tail=lines)
    assert [describe(reader(line) or 0) for line in lines] == ["2025-12-03 09:00:00", "2026-11-19 10:00:00"]
    reader = file_reader(["2025-11-30T10:00:00+00:00 web-01 app: started"], MTIME, tail=lines)
    assert [describe(reader(line) or 0) for line in lines] == ["2025-12-03 09:00:00", "2026-11-19 10:00:00"]
    assert file_reader(lines, None).year == datetime.now().year  # nothing known: the current year


def test_a_year_in_a_format_s_date_field_wins_over_the_mtime() -> None:
    """Thunderbird's header writes `2005.11.09` before a year-less syslog time: the line's year, not 2026's."""
    lines = [f"- {1131570000 + 60 * i} 2005.11.09 an{i} Nov 9 13:0{i}:00 an{i}/an{i} sshd[10{i}]: session opened for user"
             for i in range(8)]  # fmt: skip
    mtime = datetime(2026, 3, 1, tzinfo=timezone.utc).timestamp()
    reader = file_reader(lines, mtime)
    assert reader(lines[0]) == datetime(2005, 11, 9, 13, 0, tzinfo=timezone.utc).timestamp()
    assert reader(lines[-1]) == datetime(2005, 11, 9, 13, 7, tzinfo=timezone.utc).timestamp()
