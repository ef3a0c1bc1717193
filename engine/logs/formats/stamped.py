"""Formats known by the stamp each record starts with, from each program's documentation or source.

- `time-level`: a time, `:`, an upper-case level, `:`, the message: Python logging with
  `format="%(asctime)s:%(levelname)s:%(name)s:%(message)s"` (the logger's name, when written, is the
  component) and the loggers that copy it, with an ISO 8601 time in any of its forms (extended, ordinal
  `2012-025T10:22:40`, basic `20120702T102240`); a message's XML or HTML body on the lines after it
  (lines starting with `<`) continues it.
- `multilog`: daemontools' multilog with its `t` action (tai64n(8)): `@` and a TAI64N label, then the line.
- `unix-time`: Unix time first (seconds with a fraction, or milli-, micro-, nanoseconds as one number, as
  moreutils' `ts '%.s'` or a logger printing the epoch writes it), maybe a level word.
- `date-stamped`: lines stamped with date(1)'s default output, `%a %b %e %H:%M:%S %Z %Y` (`echo "$(date)
  msg" >> log` in a script); the zone name is not applied.
- `tcsh-history`: tcsh(1)'s saved history (`savehist`): each command after a `#+` line holding its Unix
  seconds; the record is the command, its time the stamp's.
- `mysql-slow`: MySQL's slow query log (the manual's "The Slow Query Log"): an entry starts at `# Time:`
  (ISO 8601 in UTC since 5.7, `yymmdd hh:mm:ss` before) and holds the `# User@Host:`, `# Query_time:`
  lines and the statement.
"""

from __future__ import annotations

import re

from engine.logs.formats.record import LEVEL_WORD, Record
from engine.logs.formats.spec import LogFormat

_ISO_ANY = r"\d{4}-(?:\d{2}-\d{2}|\d{3})[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d{1,9})?|\d{8}[T.]\d{6}(?:[.,]\d{1,9})?"


class StampFirst(LogFormat):
    """A record whose first line is a stamp alone (tcsh's `#+…`, the slow log's `# Time: …`): its message is
    the lines after it."""

    def finish(self, record: Record, extra: list[str]) -> Record:
        return record._replace(message="\n".join(extra), end_line=record.end_line + len(extra))


def _format(name: str, regex: str, description: str, more: str = "", kind: type[LogFormat] = LogFormat) -> LogFormat:
    return kind(name, re.compile(regex), description, more=re.compile(more) if more else None)


STAMPED: list[LogFormat] = [
    _format(
        "time-level",
        r"^(?P<ts>" + _ISO_ANY + r"):(?P<level>" + LEVEL_WORD + r"):(?:(?P<component>[\w.$-]+):(?=\S))?"
        r"(?P<message>.*)$",
        "time:LEVEL:message (Python logging's asctime:levelname:name:message)",
        more=r"<",
    ),
    _format(
        "multilog",
        r"^(?P<ts>@[0-9a-f]{24}) (?:(?P<component>[\w.-]+): )?(?P<message>.*)$",
        "daemontools multilog with TAI64N stamps (@4000…)",
    ),
    _format(
        "unix-time",
        r"^(?P<ts>\d{10}(?:\.\d{1,9}|\d{3}|\d{6}|\d{9})?)\s+(?:\[?(?P<level>" + LEVEL_WORD + r")\]?[:\s]\s*)?"
        r"(?P<message>.*)$",
        "Unix time, then the message",
    ),
    _format(
        "date-stamped",
        r"^(?P<ts>[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2} (?:[A-Z]{2,5} )?\d{4}) (?P<message>.*)$",
        "lines stamped with date(1)'s default output",
    ),
    _format(
        "tcsh-history",
        r"^#\+(?P<ts>\d{10})(?P<message>)$",
        "tcsh's saved history (#+seconds, then the command)",
        more=r"(?!#\+\d{10}$)",
        kind=StampFirst,
    ),
    _format(
        "mysql-slow",
        r"^# Time: (?P<ts>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})?|\d{6} +\d{1,2}:\d{2}:\d{2})"
        r"(?P<message>)\s*$",
        "MySQL / MariaDB slow query log",
        more=r"(?!# Time: )",
        kind=StampFirst,
    ),
]
