"""Logs whose header names their columns: W3C extended log files (IIS) and Zeek's (Bro's) TSV logs.

W3C (https://www.w3.org/TR/WD-logfile): `#Version:`, `#Software:`, `#Date:` and `#Fields: date time c-ip
cs-method cs-uri-stem sc-status …` directives, then one entry per line, its values in the order `#Fields:`
gives, separated by spaces (a value with spaces is "quoted", a missing one `-`). The time is the `date` and
`time` columns (IIS Advanced Logging: `date-local`, `time-local`); a file whose entries write only `time`
takes its day from `#Date:`. `sc-status` gives the
level (400 and over: an error).

Zeek (https://docs.zeek.org, the ASCII writer): `#separator \\x09`, `#path conn`, `#fields ts uid id.orig_h …`,
`#types …`, then tab-separated values; `ts` is Unix seconds with microseconds, `#path` the component, an
HTTP log's `status_code` the level.

A directive line is a record of its own (message: the line; `#Date:` carries its time). The columns come
from the header seen last: `fitted` reads it from the file's sample, and a later header line (a restarted
server writes one) replaces it. The unfitted format (`--format w3c`) keeps the last header it read, shared
by the files it parses; `detect_format` gives each file its own. What is left out: W3C's `#Remark:`
contents, Zeek's set and vector values (kept as written) and its JSON writer (read as JSON lines).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from engine.logs.formats.record import Record
from engine.logs.formats.spec import LogFormat

_W3C_VALUE = re.compile(r'"[^"]*"|\S+')
_W3C_DIRECTIVE = re.compile(r"^#([A-Za-z-]+): ?(.*)$")
_ZEEK_DIRECTIVE = re.compile(r"^#(\w+)[\t ](.*)$")
_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})(?: \d{2}:\d{2}:\d{2})?")
STATUS_COLUMNS = ("sc-status", "status_code")
DAY_COLUMNS = ("date", "date-local", "date-UTC")  # IIS Advanced Logging writes the -local and -UTC ones
TIME_COLUMNS = ("time", "time-local", "time-UTC")
WHEN = {"ts", *DAY_COLUMNS, *TIME_COLUMNS}  # the columns that make the time: not repeated in the message


@dataclass(frozen=True)
class Header:
    """What a file's directives said so far."""

    fields: tuple[str, ...] = ()  # the columns, in order
    day: str | None = None  # W3C's `#Date:` day, for entries that write only a `time`
    path: str | None = None  # Zeek's `#path` (conn, http, dns): the records' component


@dataclass(frozen=True)
class HeadedFormat(LogFormat):
    """Entries whose columns a header line names; `tab`: Zeek's tab-separated values, else W3C's."""

    tab: bool = False
    # The header read so far: one per fitted copy (per file); the list lets a frozen format follow a new one.
    state: list[Header] = field(default_factory=lambda: [Header()], compare=False, repr=False)

    def fitted(self, sample: list[str]) -> HeadedFormat:
        fresh = replace(self, state=[Header()])
        for text in sample:
            if text.startswith("#"):
                fresh.parse(text, 0)
            elif fresh.state[0].fields:
                break  # the first header's columns: the entries that follow it
        return fresh

    def parse(self, text: str, line: int) -> Record | None:
        if text.startswith("#"):
            return self._directive(text, line)
        header = self.state[0]
        values = text.split("\t") if self.tab else _W3C_VALUE.findall(text)
        if not header.fields or len(values) < len(header.fields):
            return None  # values past the named columns are kept in the message (a header that lags its rows)
        row = dict(zip(header.fields, values, strict=False))
        times = [i for i, name in enumerate(header.fields) if name in WHEN]
        if self.tab:
            ts = row.get("ts")
        else:
            day = next((_bare(row[k]) for k in DAY_COLUMNS if k in row), None) or header.day
            time = next((_bare(row[k]) for k in TIME_COLUMNS if k in row), None)
            ts = f"{day} {time}" if day and time else time
        status = next((row[k] for k in STATUS_COLUMNS if k in row), None)
        kept = [v for i, v in enumerate(values) if i not in times]
        groups = {
            "ts": ts,
            "status": status,
            "component": header.path,
            "message": ("\t" if self.tab else " ").join(kept),
        }
        return self.record(groups, text, line)

    def _directive(self, text: str, line: int) -> Record | None:
        m = (_ZEEK_DIRECTIVE if self.tab else _W3C_DIRECTIVE).match(text)
        if m is None:
            return None
        name, value = m.group(1).lower(), m.group(2).strip()
        header = self.state[0]
        ts = None
        if name == "fields":
            self.state[0] = replace(header, fields=tuple(value.split("\t") if self.tab else value.split()))
        elif name == "path":
            self.state[0] = replace(header, path=value)
        elif name in ("date", "start-date") and (date := _DATE.match(value)) is not None:
            self.state[0], ts = replace(header, day=date.group(1)), date.group()
        return Record(line, line, text, ts)


def _bare(value: str | None) -> str | None:
    """A W3C value without its quotes; None for a missing one (`-`)."""
    if value is None or value == "-":
        return None
    return value[1:-1] if value.startswith('"') and value.endswith('"') else value


W3C = HeadedFormat(
    "w3c", re.compile(r"^#Fields:"), "W3C extended log file (IIS): columns named by #Fields:", header="#Fields:"
)
ZEEK = HeadedFormat(
    "zeek",
    re.compile(r"^#fields\t"),
    "Zeek (Bro) TSV log: columns named by #fields",
    header="#separator \\x09",
    tab=True,
)
