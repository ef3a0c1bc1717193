"""A log format: a regex with named groups plus how to read its fields.

Group names the parser understands: `ts` (or `date` + `time`), `level`,
`component`, `pid`, `message`, `pri` (syslog priority) and `status` (HTTP).
Other groups are matched and ignored. A format without a `message` group
keeps the whole line as the message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from engine.formats.record import SYSLOG_SEVERITIES, Record, canonical_level, sniff_level


@dataclass(frozen=True)
class LogFormat:
    name: str
    pattern: re.Pattern[str]
    description: str = ""
    levels: dict[str, str] = field(default_factory=dict)  # format-specific level words → canonical
    json: bool = False  # JSON lines: fields come from keys, not groups

    def parse(self, text: str, line: int) -> Record | None:
        """The record for one line, or None when the line does not match this format."""
        match = self.pattern.match(text)
        if match is None:
            return None
        return self.record(match.groupdict(), text, line)

    def record(self, groups: dict[str, str | None], text: str, line: int) -> Record:
        message = groups.get("message")
        message = text if message is None else message
        ts = groups.get("ts")
        if ts is None and groups.get("date") is not None:
            ts = f"{groups['date']} {groups.get('time') or ''}".strip()
        raw_level = groups.get("level")
        level = self.levels.get(raw_level or "") or canonical_level(raw_level)
        if level is None and groups.get("pri"):
            level = SYSLOG_SEVERITIES[int(groups["pri"]) % 8]  # type: ignore[arg-type]
        if level is None and groups.get("status"):
            code = int(groups["status"])  # type: ignore[arg-type]
            level = "ERROR" if code >= 500 else "WARN" if code >= 400 else "INFO"
        inferred = False
        if level is None:
            level = sniff_level(message)
            inferred = level is not None
        return Record(
            line=line,
            end_line=line,
            message=message,
            timestamp=ts,
            level=level,
            component=groups.get("component"),
            pid=groups.get("pid"),
            level_inferred=inferred,
        )


def regex_format(name: str, regex: str, description: str = "", levels: dict[str, str] | None = None) -> LogFormat:
    try:
        pattern = re.compile(regex)
    except re.error as e:
        raise ValueError(f"format {name}: bad regex: {e}") from e
    return LogFormat(name, pattern, description, dict(levels or {}))
