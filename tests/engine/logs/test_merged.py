"""Files merged by time: the merge against a plain sort, formats mixed, untimed lines kept with their record,
each file's order kept, following appends, rotation, and search over the merged rows."""

from __future__ import annotations

import os
import random
import re
from pathlib import Path

import pytest

from engine.errors import InputError
from engine.logs.clock import TimeReader, seconds_of
from engine.logs.merged import MergedSource, short_names


def write(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines))
    return path


def iso(t: float, text: str) -> str:
    return f"2026-11-20T10:{int(t) // 60:02d}:{int(t) % 60:02d}.{int(t % 1 * 1000):03d}Z {text}"


def syslog(t: float, text: str) -> str:
    return f"Nov 20 10:{int(t) // 60:02d}:{int(t) % 60:02d} web-01 {text}"


def test_the_merge_equals_a_sort_of_every_line_by_time(tmp_path: Path) -> None:
    rng = random.Random(7)
    times_a = sorted(rng.uniform(0, 3000) for _ in range(3000))
    times_b = sorted(rng.uniform(0, 3000) for _ in range(2000))
    a = write(tmp_path / "a.log", [iso(t, f"a{i}") for i, t in enumerate(times_a)])
    b = write(tmp_path / "b.log", [iso(t, f"b{i}") for i, t in enumerate(times_b)])
    merged = MergedSource([a, b])
    assert merged.index() == 5000 == len(merged)
    rows = [(seconds_of(iso(t, "")), 0, i, iso(t, f"a{i}")) for i, t in enumerate(times_a)]
    rows += [(seconds_of(iso(t, "")), 1, i, iso(t, f"b{i}")) for i, t in enumerate(times_b)]
    expected = [row[3] for row in sorted(rows)]  # by the time written, then file, then line
    assert merged.block(0, len(merged)) == expected
    assert [merged.line(i) for i in range(100, 110)] == expected[100:110]
    k, line = merged.origin(0)
    assert merged.members[k].line(line) == expected[0]


def test_formats_differ_and_untimed_lines_stay_with_their_record(tmp_path: Path) -> None:
    a = write(tmp_path / "app.log", [iso(1, "ERROR boom"), "Traceback (most recent call last):", '  File "x.py"',
                                     iso(5, "INFO recovered")])  # fmt: skip
    b = write(tmp_path / "syslog", [syslog(0, "cron: start"), syslog(2, "kernel: eth0 down"), syslog(4, "eth0 up")])
    os.utime(b, (1795176000, 1795176000))  # last written 2026-11-20 12:00 UTC: the year-less syslog is of 2026
    merged = MergedSource([a, b])
    merged.index()
    texts = merged.block(0, len(merged))
    assert [t.split(" ", 3)[-1] if t[0] == "N" else t for t in texts][:4] == [
        "web-01 cron: start",
        iso(1, "ERROR boom"),
        "Traceback (most recent call last):",
        '  File "x.py"',
    ]
    assert texts[4:] == [syslog(2, "kernel: eth0 down"), syslog(4, "eth0 up"), iso(5, "INFO recovered")]
    assert [merged.names[merged.origin(i)[0]] for i in range(len(merged))] == [
        "syslog",
        "app.log",
        "app.log",
        "app.log",
        "syslog",
        "syslog",
        "app.log",
    ]


def test_a_file_out_of_order_keeps_its_own_order(tmp_path: Path) -> None:
    a = write(tmp_path / "a.log", [iso(10, "a first"), iso(2, "a late clock"), iso(11, "a third")])
    b = write(tmp_path / "b.log", [iso(5, "b one"), iso(10.5, "b two")])
    merged = MergedSource([a, b])
    merged.index()
    order = [t.rsplit("Z ", 1)[1] for t in merged.block(0, len(merged))]
    assert order == ["b one", "a first", "a late clock", "b two", "a third"]


def test_following_appends_and_a_rotation_starts_over(tmp_path: Path) -> None:
    a = write(tmp_path / "a.log", [iso(1, "a1")])
    b = write(tmp_path / "b.log", [iso(2, "b1")])
    merged = MergedSource([a, b])
    merged.index()
    with b.open("a") as f:
        f.write(iso(3, "b2") + "\n" + iso(4, "b3 partial"))  # the last line is still being written
    with a.open("a") as f:
        f.write(iso(3.5, "a2") + "\n")
    change = merged.refresh()
    assert (change.kind, change.new_lines) == ("grown", 2)
    assert [t.rsplit("Z ", 1)[1] for t in merged.block(0, len(merged))] == ["a1", "b1", "b2", "a2"]
    assert merged.refresh().kind == "none"
    os.rename(a, tmp_path / "a.log.1")
    write(a, [iso(0, "new a")])
    change = merged.refresh()
    assert change.kind == "rotated" and merged.block(0, 2)[0].endswith("new a")


def test_search_runs_over_merged_rows_both_ways(tmp_path: Path) -> None:
    a = write(tmp_path / "a.log", [iso(i, f"a{i}") for i in range(0, 100, 2)])
    b = write(tmp_path / "b.log", [iso(i, f"b{i}") + (" ERROR" if i == 51 else "") for i in range(1, 100, 2)])
    merged = MergedSource([a, b])
    merged.index()
    assert merged.find(re.compile("ERROR"), 0) == 51
    assert merged.find(re.compile("ERROR"), 60, forward=False) == 51
    assert merged.find(re.compile("a98"), 99) == 98


def test_one_file_is_no_merge_and_clashing_names_get_their_folder(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="two or more files"):
        MergedSource([write(tmp_path / "a.log", ["x"])])
    assert short_names([Path("/x/web/app.log"), Path("/x/db/app.log"), Path("/x/syslog")]) == [
        "web/app.log",
        "db/app.log",
        "syslog",
    ]


def test_names_are_whole_and_the_shortest_suffix_that_tells_them_apart() -> None:
    paths = [Path("/var/log/nova/os-compute.log"), Path("/srv/a/x/app.log"), Path("/srv/b/x/app.log"),
             Path("/srv/y/app.log")]  # fmt: skip
    assert short_names(paths) == ["os-compute.log", "a/x/app.log", "b/x/app.log", "y/app.log"]


def test_times_after_a_program_name_interleave(tmp_path: Path) -> None:
    """Debian's /var/log/alternatives.log writes `update-alternatives <time>: …`, dpkg.log `<time> status …`."""
    alt = write(tmp_path / "alternatives.log", [
        "update-alternatives 2026-11-20 10:00:01: run with --install /usr/bin/editor editor /bin/nano 40",
        "update-alternatives 2026-11-20 10:00:03: link group editor updated to point to /bin/nano",
        "update-alternatives 2026-11-20 10:00:05: run with --remove editor /usr/bin/vim.tiny",
    ])  # fmt: skip
    dpkg = write(tmp_path / "dpkg.log", [
        "2026-11-20 10:00:00 startup archives unpack",
        "2026-11-20 10:00:02 status installed nano:amd64 7.2-1",
        "2026-11-20 10:00:04 status installed man-db:amd64 2.12.0-4",
    ])  # fmt: skip
    merged = MergedSource([alt, dpkg])
    merged.index()
    assert merged.untimed == []
    assert [merged.names[merged.origin(i)[0]] for i in range(len(merged))] == ["dpkg.log", "alternatives.log"] * 3
    assert merged.block(0, 2) == [dpkg.read_text().splitlines()[0], alt.read_text().splitlines()[0]]


def test_the_cached_reader_equals_a_fresh_parse_of_every_line() -> None:
    """The fast path (a line that starts like the last one up to its minute) against a full parse each time."""
    rng = random.Random(3)
    forms = [lambda t: iso(t, "x"), lambda t: syslog(t, "y"), lambda t: f"081109 2036{int(t) % 60:02d} 148 INFO z",
             lambda t: f"03-17 16:13:{int(t) % 60:02d}.{rng.randint(0, 999):03d}  1702 E Tag: w"]  # fmt: skip
    for form in forms:
        reader = TimeReader(2026)
        lines = [form(t) for t in sorted(rng.uniform(0, 600) for _ in range(500))]
        lines[100:100] = ["no time here", "    at continuation"]
        assert [reader(line) for line in lines] == [seconds_of(line, 2026) for line in lines]


def test_files_whose_time_only_their_format_gives_interleave_by_it(tmp_path: Path) -> None:
    """W3C rows that write only `time` (the day is in `#Date:`), strace -tt's time of day (the day is the
    file's) and pino's epoch milliseconds inside JSON: each file's reader reads its format's time."""
    w3c = write(tmp_path / "u_ex261120.log", ["#Software: Microsoft Internet Information Services 10.0",
                "#Version: 1.0", "#Date: 2026-11-20 10:00:00", "#Fields: time c-ip cs-method cs-uri-stem sc-status",
                "10:00:01 192.0.2.1 GET /a 200", "10:00:05 192.0.2.1 GET /b 404", "10:00:09 192.0.2.1 GET /c 200"])  # fmt: skip
    strace = write(tmp_path / "trace.txt", ['10:00:03.500000 openat(AT_FDCWD, "/etc/hosts", O_RDONLY) = 3',
                   "10:00:07.250000 read(3, \"127.0.0.1 localhost\\n\", 4096) = 20", "10:00:08.000000 close(3) = 0"])  # fmt: skip
    start = seconds_of("2026-11-20T10:00:00Z") or 0.0
    pino = write(tmp_path / "app.json", [f'{{"level":30,"time":{int(start * 1000) + ms},"msg":"m{ms}"}}'
                                         for ms in (0, 4000, 6000, 10000)])  # fmt: skip
    for path in (w3c, strace, pino):
        os.utime(path, (start + 3600, start + 3600))  # last written that day: strace's time of day is on it
    merged = MergedSource([w3c, strace, pino])
    merged.index()
    rows = [merged.line(i) for i in range(len(merged)) if not merged.line(i).startswith("#")]
    assert [row.split()[0] if row[0] != "{" else row.rsplit('"', 2)[-2] for row in rows] == [
        "m0", "10:00:01", "10:00:03.500000", "m4000", "10:00:05", "m6000", "10:00:07.250000", "10:00:08.000000",
        "10:00:09", "m10000"]  # fmt: skip
    assert merged.untimed == []
    texts = merged.block(0, len(merged))  # row by row, as the explorer's jumps read them:
    assert [merged.time_of(texts.index(row)) for row in rows[:3]] == [start, start + 1, start + 3.5]
