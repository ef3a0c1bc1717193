"""Formats of particular programs: strace, Laravel, uWSGI, vdsm and MySQL's general query log.

Lines are written from each program's documentation or source: strace(1) (-tt, -f, -ttt), Monolog's
LineFormatter as Laravel configures it, uWSGI's default request logformat, vdsm's logger.conf and MySQL's
general query log as the manual shows it.
"""

from __future__ import annotations

import pytest

from engine.logs.formats import detect_format, level_of, parse_lines
from engine.logs.timestamps import minute_of

STRACE = [
    '10:22:40.118230 openat(AT_FDCWD, "/etc/app.conf", O_RDONLY|O_CLOEXEC) = 3 <0.000021>',
    '10:22:40.118301 read(3, "port=80\\n", 4096) = 8',
    '10:22:40.118377 openat(AT_FDCWD, "/etc/app.d/extra.conf", O_RDONLY) = -1 ENOENT (No such file or directory)',
    "10:23:01.000012 connect(4, {sa_family=AF_INET, sin_port=htons(5432)}, 16) = -1 ECONNREFUSED (Connection refused)",
    "10:23:01.000100 --- SIGPIPE {si_signo=SIGPIPE, si_code=SI_USER} ---",
    "10:23:01.000200 +++ exited with 1 +++",
]


def test_strace_failed_calls_are_errors() -> None:
    detection = detect_format(STRACE)
    assert detection.format.name == "strace" and detection.share == 1.0
    records = list(parse_lines(STRACE, detection.format))
    assert [r.level for r in records] == [None, None, "ERROR", "ERROR", None, None]
    assert [r.component for r in records[:4]] == ["openat", "read", "openat", "connect"]
    assert records[0].timestamp == "10:22:40.118230" and records[0].message.startswith("openat(")
    assert minute_of(records[3].timestamp) == minute_of(records[0].timestamp) + 1  # type: ignore[operator]


@pytest.mark.parametrize(
    ("line", "pid", "timestamp"),
    [('4242  10:22:40.118377 close(3) = 0', "4242", "10:22:40.118377"),  # -f -o file
     ('[pid  4243] 10:22:40 close(3) = -1 EBADF (Bad file descriptor)', "4243", "10:22:40"),  # -f, -t
     ('1772446960.118377 close(3) = 0', None, "1772446960.118377")],  # -ttt
)  # fmt: skip
def test_strace_pids_and_time_forms(line: str, pid: str | None, timestamp: str) -> None:
    record = next(parse_lines([line], detect_format([line] * 3).format))
    assert (record.pid, record.timestamp, record.component) == (pid, timestamp, "close")


def test_laravel_stack_traces_continue_their_record() -> None:
    lines = [
        "[2026-03-02 10:22:40] production.ERROR: Undefined variable $cart "
        '{"userId":7,"exception":"[object] (ErrorException(code: 0): Undefined variable $cart at /app/Http/Cart.php:41)',
        "[stacktrace]",
        "#0 /app/vendor/laravel/framework/src/Illuminate/Routing/Controller.php(54): App\\Http\\Cart->show()",
        "#1 {main}",
        '"}',
        "[2026-03-02 10:22:41] production.INFO: cart shown",
        '[2026-03-02T10:22:42.123456+00:00] queue.WARNING: job retried {"attempt":2} []',
    ]
    detection = detect_format(lines)
    assert detection.format.name == "laravel"
    records = list(parse_lines(lines, detection.format))
    assert [(r.line, r.end_line, r.level, r.component) for r in records] == [
        (1, 5, "ERROR", "production"), (6, 6, "INFO", "production"), (7, 7, "WARN", "queue")]  # fmt: skip
    assert records[0].timestamp == "2026-03-02 10:22:40" and records[0].message.startswith("Undefined variable")


def test_uwsgi_request_lines_take_their_status_as_level() -> None:
    lines = [
        "[pid: 4242|app: 0|req: 1/1] 10.0.0.1 () {38 vars in 696 bytes} [Mon Mar  2 10:22:40 2026] GET /health "
        "=> generated 2 bytes in 1 msecs (HTTP/1.1 200) 2 headers in 64 bytes (1 switches on core 0)",
        "[pid: 4242|app: 0|req: 2/2] 10.0.0.1 (alice) {40 vars in 801 bytes} [Mon Mar  2 10:22:41 2026] POST /pay "
        "=> generated 141 bytes in 30 msecs (HTTP/1.1 502) 3 headers in 120 bytes (1 switches on core 1)",
    ]
    detection = detect_format(lines)
    assert detection.format.name == "uwsgi"
    records = list(parse_lines(lines, detection.format))
    assert [(r.pid, r.timestamp, r.level) for r in records] == [
        ("4242", "Mon Mar  2 10:22:40 2026", "INFO"), ("4242", "Mon Mar  2 10:22:41 2026", "ERROR")]  # fmt: skip
    assert records[0].message.startswith("GET /health")


def test_vdsm_lines_and_their_tracebacks() -> None:
    lines = [
        "MainThread::INFO::2026-03-02 10:22:40,101::vdsm::71::vds::(run) vdsm starting",
        "Thread-12::ERROR::2026-03-02 10:22:41,300::task::866::Storage.TaskManager.Task::(_setError) Unexpected error",
        "Traceback (most recent call last):",
        '  File "/usr/share/vdsm/storage/task.py", line 873, in _run',
        "    return fn(*args, **kargs)",
        "Thread-12::DEBUG::2026-03-02 10:22:41,302::task::885::Storage.TaskManager.Task::(_run) done",
    ]
    detection = detect_format(lines)
    assert detection.format.name == "vdsm"
    records = list(parse_lines(lines, detection.format))
    assert [(r.line, r.end_line, r.level, r.component) for r in records] == [
        (1, 1, "INFO", "vds"), (2, 5, "ERROR", "Storage.TaskManager.Task"), (6, 6, "DEBUG", "Storage.TaskManager.Task")]  # fmt: skip
    assert records[0].timestamp == "2026-03-02 10:22:40,101"


def test_mysql_general_query_log_is_not_an_iso_app_log() -> None:
    lines = [
        "/usr/sbin/mysqld, Version: 8.0.36 (MySQL Community Server - GPL). started with:",
        "Tcp port: 3306  Unix socket: /var/run/mysqld/mysqld.sock",
        "Time                 Id Command    Argument",
        "2026-03-02T10:22:40.118230Z\t   12 Connect\tshop@localhost on shop using Socket",
        "2026-03-02T10:22:40.118555Z\t   12 Query\tSELECT id FROM orders WHERE status = 'open'",
        "2026-03-02T10:22:41.000001Z\t   12 Quit\t",
    ]
    detection = detect_format(lines)
    assert detection.format.name == "mysql-general"
    records = list(parse_lines(lines, detection.format))[3:]
    assert [(r.pid, r.component) for r in records] == [("12", "Connect"), ("12", "Query"), ("12", "Quit")]
    assert records[1].message == "SELECT id FROM orders WHERE status = 'open'"
    assert level_of(records[1]) == (None, False)
