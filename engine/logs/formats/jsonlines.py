"""JSON-lines logs: one object per line, fields under common key names.

Keys one level down are read too (`log.level`, `@fields.lvl`, MongoDB's `t.$date`, Log4j2's
`instant.epochSecond`); times in Unix seconds, milli-, micro- or nanoseconds are kept as written (pino's
`time`, journald's `__REALTIME_TIMESTAMP`, OTel's `timeUnixNano`: minute_of reads them). A numeric level
is bunyan's and pino's scale (10 trace … 60 fatal) from 10 up, else a syslog severity (0..7). MongoDB's
`s` (`I`, `W`, `E`, `F`, `D1`..`D5`) is its level where `t` is its `{"$date": …}`. An OTLP JSON line (the
OpenTelemetry collector's file exporter: `resourceLogs`, …, `logRecords`) is read as its first log record;
the others on that line are left out.
"""

from __future__ import annotations

import json
import re
from typing import Any

from engine.logs.formats.record import Record
from engine.logs.formats.spec import LogFormat

MESSAGE_KEYS = ("message", "msg", "MESSAGE", "log", "text", "event", "@message")
TIME_KEYS = ("timestamp", "time", "ts", "@timestamp", "datetime", "date", "__REALTIME_TIMESTAMP", "t", "t.$date",
             "timeUnixNano", "instant.epochSecond", "started_at", "EdgeStartTimestamp")  # fmt: skip
LEVEL_KEYS = ("level", "severity", "levelname", "lvl", "log.level", "loglevel", "PRIORITY", "severityText",
              "@fields.level", "@fields.lvl")  # fmt: skip
SCALE_LEVELS = {10: "TRACE", 20: "DEBUG", 30: "INFO", 40: "WARN", 50: "ERROR", 60: "CRITICAL"}  # bunyan, pino
MONGODB_LEVELS = {"F": "CRITICAL", "E": "ERROR", "W": "WARN", "I": "INFO", "D": "DEBUG",
                  **{f"D{n}": "DEBUG" for n in range(1, 6)}}  # fmt: skip
COMPONENT_KEYS = ("logger", "logger_name", "name", "component", "module", "service", "SYSLOG_IDENTIFIER", "caller")
PID_KEYS = ("pid", "_PID", "process", "thread")


def _first(obj: dict[str, Any], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        value = obj.get(key)
        if value is None and "." in key:  # nested, e.g. log.level
            head, _, tail = key.partition(".")
            inner = obj.get(head)
            value = inner.get(tail) if isinstance(inner, dict) else None
        if value is not None and not isinstance(value, (dict, list)):
            return str(value)
    return None


def _otlp_record(obj: dict[str, Any]) -> dict[str, Any]:
    """An OTLP JSON export's first log record, its body as `message`; the object itself when it has none."""
    try:
        record = obj["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0]
    except (KeyError, IndexError, TypeError):
        return obj
    if not isinstance(record, dict):
        return obj
    body = record.get("body")
    return {**record, "message": body.get("stringValue") if isinstance(body, dict) else body}


def json_object(text: str) -> dict[str, Any] | None:
    """The JSON object a line holds, or None (a line that is not one object)."""
    if not text.startswith("{"):
        return None
    try:
        obj = json.loads(text)
    except ValueError:
        return None
    return obj if isinstance(obj, dict) else None


class JsonLinesFormat(LogFormat):
    def parse(self, text: str, line: int) -> Record | None:
        obj = json_object(text)
        if obj is None:
            return None
        if "resourceLogs" in obj:
            obj = _otlp_record(obj)
        message = _first(obj, MESSAGE_KEYS)
        if message is None:  # no message key: the other fields, compactly, are the message
            message = " ".join(f"{k}={v}" for k, v in obj.items() if k not in TIME_KEYS + LEVEL_KEYS)
        level = _first(obj, LEVEL_KEYS)
        if level is None and isinstance(obj.get("t"), dict):  # MongoDB 4.4+: {"t": {"$date": …}, "s": "I", …}
            level = MONGODB_LEVELS.get(str(obj.get("s")))
        elif level is not None and level.isdigit() and len(level) == 2:
            level = SCALE_LEVELS.get(int(level) // 10 * 10, level)
        groups = {
            "message": message,
            "ts": _first(obj, TIME_KEYS),
            "level": level,
            "pri": level if level is not None and level.isdigit() else None,
            "component": _first(obj, COMPONENT_KEYS),
            "pid": _first(obj, PID_KEYS),
        }
        return self.record(groups, text, line)


JSON_LINES = JsonLinesFormat(
    "json", re.compile(r"^\{"), "JSON lines (message/msg, time/timestamp, level/severity…)", json=True
)
