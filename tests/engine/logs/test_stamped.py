"""The formats of engine/logs/formats/stamped.py (and Apache's vhost_combined access log), each detected from
a sample written in the program's documented form, its records split and their times read."""

from __future__ import annotations

from datetime import date

from engine.logs.clock import TimeReader, describe
from engine.logs.formats import detect_format, parse_lines
from engine.logs.formats.spec import LogFormat


def read(lines: list[str]) -> tuple[LogFormat, list, list[str | None]]:
    """The detected format, its records, and each record's time as the file's TimeReader reads its first line."""
    fmt = detect_format(lines).format
    records = list(parse_lines(lines, fmt))
    reader = TimeReader(2026, fmt=fmt, day=date(2026, 11, 20))
    return (
        fmt,
        records,
        [(lambda t: describe(t) if t is not None else None)(reader(lines[r.line - 1])) for r in records],
    )


def test_time_colon_level_colon_message() -> None:
    """Python logging with format="%(asctime)s:%(levelname)s:%(name)s:%(message)s"; an XML body continues."""
    fmt, records, times = read([
        "2026-11-20 10:02:03,123:INFO:shop.web:request GET /cart",
        "2026-11-20 10:02:04,001:WARNING:shop.db:pool exhausted, waiting",
        "2026-11-20 10:02:05,777:ERROR:shop.db:query failed",
        "<error><code>42</code></error>",
        "20261120T100206.5:DEBUG:a basic-form time and no logger name",
    ])  # fmt: skip
    assert fmt.name == "time-level"
    assert [(r.level, r.component) for r in records] == [("INFO", "shop.web"), ("WARN", "shop.db"),
                                                         ("ERROR", "shop.db"), ("DEBUG", None)]  # fmt: skip
    assert records[2].message == "query failed\n<error><code>42</code></error>"
    assert times == ["2026-11-20 10:02:03", "2026-11-20 10:02:04", "2026-11-20 10:02:05", "2026-11-20 10:02:06"]


def tai64n(seconds: int, nanos: int = 0) -> str:
    return f"@{(1 << 62) + 10 + seconds:016x}{nanos:08x}"


def test_multilog_tai64n_lines() -> None:
    t = 1795168923  # 2026-11-20 10:02:03 UTC
    fmt, records, times = read([f"{tai64n(t)} tcpserver: status: 1/40", f"{tai64n(t + 1, 5)} tcpserver: pid 4242 from "
                                "192.0.2.1", f"{tai64n(t + 2)} rblsmtpd: 192.0.2.1 pid 4242: 451 no reverse DNS"])  # fmt: skip
    assert fmt.name == "multilog"
    assert [r.component for r in records] == ["tcpserver", "tcpserver", "rblsmtpd"]
    assert times == ["2026-11-20 10:02:03", "2026-11-20 10:02:04", "2026-11-20 10:02:05"]


def test_unix_time_first() -> None:
    fmt, records, times = read(["1795168923.250 INFO worker started", "1795168924500 ERROR worker died",
                                "1795168925 worker restarted"])  # fmt: skip
    assert fmt.name == "unix-time"
    assert [r.level for r in records] == ["INFO", "ERROR", None]
    assert times == ["2026-11-20 10:02:03", "2026-11-20 10:02:04", "2026-11-20 10:02:05"]


def test_lines_stamped_by_date_1() -> None:
    """`echo "$(date) backup started" >> log`: date(1)'s `%a %b %e %H:%M:%S %Z %Y`; its year wins over the file's."""
    fmt, records, _ = read(["Fri Nov 20 10:02:03 UTC 2026 backup started", "/var/backups/db.tar",
                            "Fri Nov 20 10:05:40 EST 2026 backup done"])  # fmt: skip
    assert fmt.name == "date-stamped"
    assert [r.message for r in records] == ["backup started", "/var/backups/db.tar", "backup done"]
    assert describe(TimeReader(2000)("Fri Nov 20 10:05:40 EST 2026 backup done") or 0) == "2026-11-20 10:05:40"


def test_tcsh_history() -> None:
    fmt, records, times = read(["#+1795168923", "ls -l /var/log", "#+1795168950", "make test"])
    assert fmt.name == "tcsh-history"
    assert [(r.message, r.line, r.end_line) for r in records] == [("ls -l /var/log", 1, 2), ("make test", 3, 4)]
    assert times == ["2026-11-20 10:02:03", "2026-11-20 10:02:30"]


def test_mysql_slow_query_log() -> None:
    """The manual's slow log entry: `# Time:` (UTC), `# User@Host:`, `# Query_time:`, then the statement."""
    fmt, records, times = read([
        "# Time: 2026-11-20T10:02:03.123456Z",
        "# User@Host: shop[shop] @ localhost []  Id:    12",
        "# Query_time: 2.500000  Lock_time: 0.000100 Rows_sent: 1  Rows_examined: 1000000",
        "SET timestamp=1795168923;",
        "SELECT COUNT(*) FROM orders;",
        "# Time: 2026-11-20T10:05:00.000001Z",
        "# User@Host: shop[shop] @ localhost []  Id:    13",
        "# Query_time: 3.100000  Lock_time: 0.000090 Rows_sent: 10  Rows_examined: 2000000",
        "SET timestamp=1795169100;",
        "SELECT * FROM orders ORDER BY total DESC LIMIT 10;",
    ])  # fmt: skip
    assert fmt.name == "mysql-slow"
    assert [(r.line, r.end_line) for r in records] == [(1, 5), (6, 10)]
    assert records[0].message.startswith("# User@Host: shop") and records[0].message.endswith("FROM orders;")
    assert times == ["2026-11-20 10:02:03", "2026-11-20 10:05:00"]


def test_apache_vhost_combined_access_log() -> None:
    """Apache's `vhost_combined`: `%v:%p %h %l %u %t "%r" %>s %O "%{Referer}i" "%{User-Agent}i"`."""
    fmt, records, times = read([
        'shop.example.com:443 203.0.113.7 - alice [20/Nov/2026:10:02:03 +0000] "GET /cart HTTP/1.1" 200 512 "-" "curl/8"',
        'shop.example.com:443 203.0.113.8 - - [20/Nov/2026:10:02:04 +0000] "GET /nope HTTP/1.1" 404 12 "-" "curl/8"',
    ])  # fmt: skip
    assert fmt.name == "access-log"
    assert [r.level for r in records] == ["INFO", "ERROR"]
    assert times == ["2026-11-20 10:02:03", "2026-11-20 10:02:04"]
