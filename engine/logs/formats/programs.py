"""Formats of particular programs' own output: strace, Laravel (Monolog), uWSGI, oVirt's vdsm, MySQL's
general query log. Each is a regex over the line (`spec.regex_format`); strace's error level comes from the
result of the call.

- strace -tt / -t / -ttt (man strace): `[pid] time syscall(args) = result`, `-f` puts the pid first; a call
  that failed returns `-1 ENOENT (No such file or directory)`: an error, as lnav reads it (its errno).
  Signals (`--- SIGCHLD … ---`), exits (`+++ exited with 0 +++`) and resumed calls are records too.
- Laravel (Monolog's LineFormatter, `[%datetime%] %channel%.%level_name%: %message% %context%`): the
  channel is the component; with stack traces on, `[stacktrace]`, `#0 /app/…` frames and the context's
  closing `"}` continue the record, and so do PHP's `Stack trace:` and `Next …Exception` lines.
- uWSGI's default request line (its `logformat` default): `[pid: P|app: A|req: R/N] addr (user) {V vars
  in B bytes} [ctime] METHOD uri => generated … (HTTP/1.1 status) …`; the status gives the level.
- vdsm (its logger.conf): `thread::LEVEL::yyyy-mm-dd hh:mm:ss,ms::module::line::logger::(function) msg`.
- MySQL's general query log: `time\\t id Command\\targument` (5.7 and later: ISO time in UTC); the command
  (Query, Connect, Quit, Init DB, …) is the component, the connection id the pid.
"""

from __future__ import annotations

import re

from engine.logs.formats.record import Record
from engine.logs.formats.spec import LogFormat, regex_format

STRACE_TIME = r"\d{1,2}:\d{2}:\d{2}(?:\.\d+)?|\d{10}(?:\.\d+)?"  # -t, -tt; -ttt: Unix seconds


class StraceFormat(LogFormat):
    """strace's lines: a call that returned `-1 E…` is an error (the `errno` group)."""

    def record(self, groups: dict[str, str | None], text: str, line: int) -> Record:
        if groups.get("pid") is None:
            groups["pid"] = groups.get("pid2")  # `-f` to a terminal: `[pid 4242] …`
        record = super().record(groups, text, line)
        return record._replace(level="ERROR") if groups.get("errno") else record


STRACE = StraceFormat(
    "strace",
    re.compile(
        r"^(?:(?P<pid>\d+) +|\[pid +(?P<pid2>\d+)\] )?(?P<ts>" + STRACE_TIME + r") "
        r"(?P<message>(?:(?P<component>[a-z_]\w*)\(|<\.\.\. |--- |\+\+\+ )"
        r"(?:.*?\) += -1 (?P<errno>E[A-Z0-9]+)|).*)$"
    ),
    "strace -t/-tt/-ttt (a call that returns -1 E… is an error)",
)

PROGRAMS: list[LogFormat] = [
    STRACE,
    regex_format(
        "laravel",
        r"^\[(?P<ts>\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?)\] "
        r"(?P<component>[\w-]+(?:\.[\w-]+)*)\.(?P<level>DEBUG|INFO|NOTICE|WARNING|ERROR|CRITICAL|ALERT|EMERGENCY): "
        r"(?P<message>.*)$",
        "Laravel / Monolog line format ([time] channel.LEVEL: message)",
        # Monolog's stack traces, and PHP's own (an exception as text: `Stack trace:`, `Next …Exception: …`)
        more=r'\[stacktrace\]|\[previous exception\]|#\d+ |"\}\s*$|Stack trace:|Next [\w\\]+',
    ),
    regex_format(
        "uwsgi",
        r"^\[pid: (?P<pid>\d+)\|app: [-\d]+\|req: [-\d]+/\d+\] (?P<client>\S*) \((?P<user>[^)]*)\) "
        r"\{\d+ vars in \d+ bytes\} \[(?P<ts>[^\]]+)\] (?P<message>.*? \(HTTP/[\d.]+ (?P<status>\d{3})\).*)$",
        "uWSGI request log (the default logformat)",
    ),
    regex_format(
        "vdsm",
        r"^(?P<thread>\S+?)::(?P<level>DEBUG|INFO|WARNING|ERROR|CRITICAL)::"
        r"(?P<ts>\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(?:,\d{3})?)::(?P<module>[^:]+)::(?P<lineno>\d+)::"
        r"(?P<component>[^:]+)::(?P<message>.*)$",
        "oVirt vdsm (thread::LEVEL::time::module::line::logger::(function) message)",
        more=r'File "',  # a traceback's frames, when written without their indent
    ),
    regex_format(
        "mysql-general",
        r"^(?:(?P<ts>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})?)|(?P<date>\d{6}) +"
        r"(?P<time>\d{1,2}:\d{2}:\d{2})|\t)\s+(?P<pid>\d+) (?P<component>[A-Z][a-z]+(?: [A-Za-z]+)*)\t"
        r"(?P<message>.*)$",
        "MySQL / MariaDB general query log",
    ),
]
