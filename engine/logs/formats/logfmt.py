"""logfmt: `key=value` pairs, values quoted when they hold spaces (Heroku, Go's slog TextHandler, Grafana).

A line is logfmt when it is made of at least three such pairs and names a message (`msg`, `message`) or a
level (`level`, `lvl`). The message is that field; without one, the other pairs are the message.
"""

from __future__ import annotations

import re

from engine.logs.formats.record import Record
from engine.logs.formats.spec import LogFormat

_PAIR = re.compile(r'\s*([\w.@/-]+)=("(?:[^"\\]|\\.)*"|\S*)')
MESSAGE_KEYS = ("msg", "message")
LEVEL_KEYS = ("level", "lvl", "severity")
TIME_KEYS = ("time", "ts", "t", "timestamp")
COMPONENT_KEYS = ("logger", "component", "module", "source", "caller", "service")


def pairs(text: str) -> dict[str, str] | None:
    """The `key=value` pairs of a line, values unquoted; None when the line is not only pairs."""
    fields, at = {}, 0
    while at < len(text):
        m = _PAIR.match(text, at)
        if m is None or m.end() == at:
            return None if text[at:].strip() else fields
        value = m.group(2)
        if value.startswith('"'):
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        fields[m.group(1)] = value
        at = m.end()
    return fields


def _first(fields: dict[str, str], keys: tuple[str, ...]) -> str | None:
    return next((fields[k] for k in keys if k in fields), None)


class LogfmtFormat(LogFormat):
    def parse(self, text: str, line: int) -> Record | None:
        if "=" not in text:
            return None
        fields = pairs(text)
        if fields is None or len(fields) < 3 or not any(k in fields for k in MESSAGE_KEYS + LEVEL_KEYS):
            return None
        message = _first(fields, MESSAGE_KEYS)
        if message is None:
            message = " ".join(f"{k}={v}" for k, v in fields.items() if k not in TIME_KEYS + LEVEL_KEYS)
        groups = {"message": message, "ts": _first(fields, TIME_KEYS), "level": _first(fields, LEVEL_KEYS),
                  "component": _first(fields, COMPONENT_KEYS), "pid": fields.get("pid")}  # fmt: skip
        return self.record(groups, text, line)


LOGFMT = LogfmtFormat("logfmt", re.compile(r"^\w[\w.@/-]*="), "logfmt key=value pairs (also Go slog text)")
