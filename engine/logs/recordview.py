"""One record seen whole: its lines (a stack trace's continuation lines with it) and its fields.

`record_span` finds the record a line belongs to: back over continuation lines (indented, stack frames,
`Caused by:`, …; the rule template parsing uses) to the line that starts it, and forward over the lines
that continue it. `record_fields` names its parts: a JSON object's keys (nested values kept as JSON), a
logfmt line's pairs, a journald export entry's fields, or, for any other format, the header the format parsed (time, level, component, pid)
and the message. No terminal here: the explorer's detail pane renders what this returns.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

from engine.logs.formats.detect import CONTINUATION, MAX_CONTINUATION_LINES
from engine.logs.formats.journal import JournalExportFormat, entry_fields
from engine.logs.formats.logfmt import pairs
from engine.logs.formats.spec import LogFormat

MAX_BACK = MAX_CONTINUATION_LINES  # lines looked at above a continuation line for its record's start


def record_span(read: Callable[[int], str], line: int, total: int, fmt: LogFormat | None = None) -> tuple[int, int]:
    """(first, stop) of the record holding 0-based `line`, among `total` lines read by `read`.

    Continuation lines are the format's (a journald export entry's fields), else the rule for line formats.
    """
    continues = fmt.continues if fmt is not None else CONTINUATION.match
    first = line
    while first > 0 and line - first < MAX_BACK and continues(read(first)):
        first -= 1
    stop = first + 1
    while stop < total and stop - first <= MAX_CONTINUATION_LINES and continues(read(stop)):
        stop += 1
    return first, max(stop, line + 1)


@dataclass
class RecordFields:
    kind: str  # "json", "logfmt" or the format's name
    fields: list[tuple[str, str]] = field(default_factory=list)  # (name, value) in the record's order
    pretty: str = ""  # a JSON record indented; "" otherwise
    extra: list[str] = field(default_factory=list)  # the continuation lines


def record_fields(lines: list[str], fmt: LogFormat | None) -> RecordFields:
    """The fields of the record made of `lines` (its first line and the lines continuing it)."""
    head, extra = lines[0], lines[1:]
    if isinstance(fmt, JournalExportFormat):
        return RecordFields(fmt.name, list(entry_fields(lines).items()))
    text = head.strip()
    if text.startswith("{"):
        try:
            obj = json.loads(text)
        except ValueError:
            obj = None
        if isinstance(obj, dict):
            fields = [(str(k), v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)) for k, v in obj.items()]
            return RecordFields("json", fields, json.dumps(obj, indent=2, ensure_ascii=False), extra)
    found = pairs(text) if "=" in text else None
    if found and len(found) >= 2:
        return RecordFields("logfmt", list(found.items()), "", extra)
    record = fmt.parse(head, 1) if fmt is not None else None
    if record is None:
        return RecordFields("text", [("message", head)], "", extra)
    named = [("time", record.timestamp), ("level", record.level), ("component", record.component),
             ("pid", record.pid), ("message", record.message)]  # fmt: skip
    return RecordFields(fmt.name, [(k, str(v)) for k, v in named if v], "", extra)  # type: ignore[union-attr]
