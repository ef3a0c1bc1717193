"""JSON-lines logs: one object per line, fields under common key names."""

from __future__ import annotations

import json
import re
from typing import Any

from engine.logs.formats.record import Record
from engine.logs.formats.spec import LogFormat

MESSAGE_KEYS = ("message", "msg", "MESSAGE", "log", "text", "event", "@message")
TIME_KEYS = ("timestamp", "time", "ts", "@timestamp", "datetime", "date", "__REALTIME_TIMESTAMP", "t")
LEVEL_KEYS = ("level", "severity", "levelname", "lvl", "log.level", "loglevel", "PRIORITY")
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


class JsonLinesFormat(LogFormat):
    def parse(self, text: str, line: int) -> Record | None:
        if not text.startswith("{"):
            return None
        try:
            obj = json.loads(text)
        except ValueError:
            return None
        if not isinstance(obj, dict):
            return None
        message = _first(obj, MESSAGE_KEYS)
        if message is None:  # no message key: the other fields, compactly, are the message
            message = " ".join(f"{k}={v}" for k, v in obj.items() if k not in TIME_KEYS + LEVEL_KEYS)
        level = _first(obj, LEVEL_KEYS)
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
