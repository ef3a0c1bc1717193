"""journald's export format (`journalctl -o export`): one entry per block of `KEY=VALUE` lines.

An entry starts with `__CURSOR=`, holds one field per line and ends at a blank line
(https://systemd.io/JOURNAL_EXPORT_FORMATS/). A value with a newline or other
control bytes is written as binary: the bare field name on its own line, then
a 64-bit little-endian length and the raw value. logpt reads the log as text,
so a binary value is the text after those 8 length bytes, running over the lines
up to the next field; a blank line inside one would end the entry early.

The record is the whole entry: its message is `MESSAGE`, its level
`PRIORITY` (a syslog severity), its time `__REALTIME_TIMESTAMP` (microseconds
since the epoch, written as ISO 8601 UTC), its component `SYSLOG_IDENTIFIER` (or
`_COMM`), its pid `_PID` (or `SYSLOG_PID`).
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

from engine.logs.formats.record import SYSLOG_SEVERITIES, Record
from engine.logs.formats.spec import LogFormat

_FIELD = re.compile(r"^([A-Z0-9_]+)(?:=(.*))?$", re.DOTALL)
_LENGTH_CHARS = 8  # a binary value's little-endian length, as text


def entry_fields(lines: list[str]) -> dict[str, str]:
    """An entry's fields, up to the blank line that ends it; a binary value's lines joined with "\n"."""
    fields: dict[str, str] = {}
    binary: str | None = None  # the binary field being read
    fresh = False  # its first line (after the length) comes next
    for text in lines:
        if not text:
            break
        match = None if fresh else _FIELD.match(text)
        if match is not None:
            name, value = match.groups()
            binary, fresh = (name, True) if value is None else (None, False)
            fields.setdefault(name, value or "")
        elif binary is not None:
            fields[binary] = text[_LENGTH_CHARS:] if fresh else f"{fields[binary]}\n{text}"
            fresh = False
    return fields


def _iso(microseconds: str | None) -> str | None:
    if microseconds is None or not microseconds.isdigit() or len(microseconds) > 18:
        return None
    try:
        moment = datetime.fromtimestamp(int(microseconds) / 1_000_000, timezone.utc)
    except (OverflowError, ValueError, OSError):  # past the years a datetime holds: no time rather than a crash
        return None
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


class JournalExportFormat(LogFormat):
    """Entries of `journalctl -o export`: parse the `__CURSOR=` line, then `finish` reads the entry."""

    def parse(self, text: str, line: int) -> Record | None:
        if not text.startswith("__CURSOR="):
            return None
        return Record(line, line, "")

    def continues(self, text: str) -> bool:
        return not text.startswith("__CURSOR=")  # a field, or a line of a binary value: any text

    def entry_line(self, text: str) -> bool:
        return _FIELD.match(text) is not None  # a field (KEY=value or a binary field's KEY)

    def record_line(self, record: Record, first: str) -> str:
        """The entry as the line a syslog reader would see, `ident[pid]: message` (its first line is the cursor)."""
        head = f"{record.component}[{record.pid}]: " if record.component and record.pid else ""
        return head + record.message.replace("\n", " ")

    def finish(self, record: Record, extra: list[str]) -> Record:
        fields = entry_fields(extra)
        priority = fields.get("PRIORITY", "")
        return record._replace(
            end_line=record.end_line + len(extra),
            message=fields.get("MESSAGE", ""),
            timestamp=_iso(fields.get("__REALTIME_TIMESTAMP")),
            level=SYSLOG_SEVERITIES[int(priority)] if priority.isdigit() and len(priority) == 1 else None,
            component=fields.get("SYSLOG_IDENTIFIER") or fields.get("_COMM"),
            pid=fields.get("_PID") or fields.get("SYSLOG_PID"),
        )


JOURNAL_EXPORT = JournalExportFormat(
    "journal-export",
    re.compile(r"^__CURSOR="),
    "journalctl -o export (one entry per block of KEY=VALUE lines)",
    entries=True,
)
