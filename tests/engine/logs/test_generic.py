"""The generic format: a time and a level wherever the common logging libraries write them.

Lines are written from each software's documented layout (Python logging's `%(asctime)s`, glog's
`Lmmdd hh:mm:ss.uuuuuu threadid file:line] msg`, Monolog's `[%datetime%] %channel%.%level_name%: …`,
uWSGI's request line, Apache's error log, vdsm's `thread::LEVEL::time::…`, Unix time).
"""

from __future__ import annotations

import pytest

from engine.logs.clock import describe, seconds_of
from engine.logs.formats import GENERIC, level_of, parse_lines
from engine.logs.timestamps import minute_of

LINES = [
    # (line, the timestamp as written, its instant, the level)
    ("2026-03-02 10:22:40,672:DEBUG:shop.db:connected", "2026-03-02 10:22:40,672", "2026-03-02 10:22:40", "DEBUG"),
    ("2026-03-02T10:22:40.123+01:00 [WARN] cache: evicting 20 keys", "2026-03-02T10:22:40.123+01:00",
     "2026-03-02 09:22:40", "WARN"),
    ("2026-03-02 10:22:40 ERROR could not open /data", "2026-03-02 10:22:40", "2026-03-02 10:22:40", "ERROR"),
    ("W0302 10:22:40.619632  4242 server.cc:87] queue is 90% full", "0302 10:22:40.619632", "2026-03-02 10:22:40",
     "WARN"),
    ("[2026-03-02 10:22:40] production.ERROR: Undefined variable $user", "2026-03-02 10:22:40", "2026-03-02 10:22:40",
     "ERROR"),
    ("Thread-12::DEBUG::2026-03-02 10:22:40,101::task::595::Storage.TaskManager.Task::(_updateState) moving",
     "2026-03-02 10:22:40,101", "2026-03-02 10:22:40", "DEBUG"),
    ("[pid: 4242|app: 0|req: 1/1] 10.0.0.1 () {38 vars in 696 bytes} [Mon Mar  2 10:22:40 2026] GET / => "
     "generated 47 bytes in 12 msecs (HTTP/1.1 200)", "Mar  2 10:22:40 2026", "2026-03-02 10:22:40", None),
    ("[Mon Mar 02 10:22:40 2026] [notice] Apache/2.2.22 (Unix) configured", "Mar 02 10:22:40 2026",
     "2026-03-02 10:22:40", "NOTICE"),
    ("update-alternatives 2026-03-02 10:22:40: run with --install /usr/bin/editor editor /bin/nano 40",
     "2026-03-02 10:22:40", "2026-03-02 10:22:40", None),
    ("Mar  2 10:22:40 web-01 kernel usb 1-1 new device", "Mar  2 10:22:40", "2026-03-02 10:22:40", None),
    ("1772446960 job started", "1772446960", "2026-03-02 10:22:40", None),
    ("1772446960123 job started", "1772446960123", "2026-03-02 10:22:40", None),
]  # fmt: skip


@pytest.mark.parametrize(("line", "timestamp", "instant", "level"), LINES)
def test_a_time_anywhere_near_the_start_and_the_level_beside_it(
    line: str, timestamp: str, instant: str, level: str | None
) -> None:
    record = GENERIC.parse(line, 7)
    assert (record.line, record.message, record.timestamp, record.level) == (7, line, timestamp, level)
    t = seconds_of(line, year=2026)
    assert t is not None and describe(t) == instant
    assert minute_of(record.timestamp) is not None  # minute buckets read what the record keeps


@pytest.mark.parametrize(
    ("line", "declared", "guessed"),
    [
        ("WARNING: unable to resolve host web-02", "WARN", "WARN"),
        ("[ERROR] disk quota exceeded", "ERROR", "ERROR"),
        ("Error handling request /api", None, "ERROR"),  # prose, not a level field: guessed from the words
        ("hello world", None, None),
        ("2026-03-02 10:22:40 information about errors", None, "ERROR"),  # `information` is no level word
    ],
)
def test_a_line_without_a_level_field_keeps_the_guess(line: str, declared: str | None, guessed: str | None) -> None:
    record = GENERIC.parse(line, 1)
    assert record.level == declared
    assert level_of(record)[0] == guessed


def test_a_file_of_generic_lines_has_a_minute_per_timed_line() -> None:
    lines = [f"[2026-03-02 10:{m:02d}:00] production.INFO: tick {m}" for m in range(3)]
    lines.insert(1, "[stacktrace]")
    records = list(parse_lines(lines, GENERIC))
    minutes = [minute_of(r.timestamp) for r in records]
    assert minutes[1] is None and minutes[2] == minutes[0] + 1 and minutes[3] == minutes[0] + 2  # type: ignore[operator]
    assert [r.level for r in records] == ["INFO", None, "INFO", "INFO"]
