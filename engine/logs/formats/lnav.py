"""lnav's format files read as user formats, so an lnav user's custom formats work in logpt unchanged.

An lnav format file is a JSON object of formats by name (lnav.org, "Log Formats"):

    {"myapp_log": {"title": "…", "description": "…",
                   "regex": {"std": {"pattern": "^(?<timestamp>\\S+ \\S+) (?<level>\\w+) (?<body>.*)$"}},
                   "level-field": "level", "level": {"error": "ERROR|FATAL", "warning": "WARN"},
                   "timestamp-field": "timestamp", "body-field": "body", "timestamp-format": ["%Y-%m-%d %H:%M:%S"],
                   "value": {"pid": {"kind": "integer"}}, "sample": [{"line": "…"}]}}

What logpt reads: every pattern of `regex` (tried in turn, as one regex whose branches share group names),
the timestamp, level and body fields (renamed to logpt's `ts`, `level` and `message`; `pid`, `component`
and the other captures are kept as lnav names them), the level table (each a regex over the level field's
text, as lnav matches it), `timestamp-format` (strptime formats; a time read by one is written out in a form
every logpt reader knows), and JSON formats (`"json": true`: the time, level and body from the named fields,
nested with `/`). What it does not (`line-format` is how lnav draws a JSON line, `value` kinds, highlights,
search tables, converters…) is named in one warning per file, never an error.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from engine.errors import InputError
from engine.logs.formats.jsonlines import JsonLinesFormat, json_object
from engine.logs.formats.record import Record
from engine.logs.formats.spec import LogFormat
from engine.logs.userregex import UserRegex
from engine.sidefiles import read_json

HINT = "see lnav's format documentation (lnav.org), or write a logpt TOML format"
READ = {"title", "description", "url", "regex", "level-field", "level", "timestamp-field", "body-field",
        "timestamp-format", "json", "sample", "file-pattern"}  # fmt: skip
LNAV_LEVELS = {"trace": "TRACE", "debug": "DEBUG", "debug2": "DEBUG", "debug3": "DEBUG", "debug4": "DEBUG",
               "debug5": "DEBUG", "info": "INFO", "stats": "INFO", "notice": "NOTICE", "warning": "WARN",
               "error": "ERROR", "critical": "CRITICAL", "fatal": "CRITICAL"}  # fmt: skip
log = logging.getLogger("logpt")


@dataclass(frozen=True)
class LnavFields:
    """How one lnav format names its fields, and reads its levels and times."""

    time: str = "timestamp"
    level: str = "level"
    body: str = "body"
    levels: tuple[tuple[str, UserRegex], ...] = ()  # (canonical level, regex over the level field's text)
    time_formats: tuple[str, ...] = ()  # strptime formats

    def level_of(self, raw: str | None) -> str | None:
        if raw is None:
            return None
        return next((level for level, pattern in self.levels if pattern.search(raw)), None)

    def time_of(self, raw: str | None) -> str | None:
        """The time as written, or rewritten in a form every logpt reader knows when a strptime format reads it."""
        if raw is None or not self.time_formats:
            return raw
        for form in self.time_formats:
            try:
                moment = datetime.strptime(raw, form)
            except ValueError:
                continue
            if "%Y" in form or "%y" in form:
                return moment.isoformat(sep=" ")
            return moment.strftime("%b %d %H:%M:%S.%f")  # no year written: the file's, as for syslog
        return raw


@dataclass(frozen=True)
class LnavFormat(LogFormat):
    fields: LnavFields = field(default_factory=LnavFields)

    def record(self, groups: dict[str, str | None], text: str, line: int) -> Record:
        found = super().record(groups, text, line)
        return found._replace(timestamp=self.fields.time_of(found.timestamp), level=self.fields.level_of(groups.get("level"))
                              or found.level)  # fmt: skip


@dataclass(frozen=True)
class LnavJsonFormat(JsonLinesFormat):
    fields: LnavFields = field(default_factory=LnavFields)

    def parse(self, text: str, line: int) -> Record | None:
        obj = json_object(text)
        if obj is None:
            return None
        f = self.fields
        body, raw_level = _at(obj, f.body), _at(obj, f.level)
        if body is None and _at(obj, f.time) is None:
            return None  # not one of this format's lines
        message = body if body is not None else " ".join(f"{k}={v}" for k, v in obj.items())
        level = f.level_of(raw_level) or (self.record({"level": raw_level}, text, line).level if raw_level else None)
        return Record(line, line, message, f.time_of(_at(obj, f.time)), level, None, None)


def _at(obj: dict[str, Any], path: str) -> str | None:
    """A field by name, nested with `/` (`@fields/lvl`); None when absent or not a plain value."""
    value: Any = obj.get(path)
    if value is None and "/" in path:
        value = obj
        for part in path.strip("/").split("/"):
            value = value.get(part) if isinstance(value, dict) else None
    return None if value is None or isinstance(value, (dict, list)) else str(value)


def _rename(pattern: str, old: str, new: str) -> str:
    """The pattern with its capture named `old` renamed `new` (PCRE's `(?<name>` or Python's `(?P<name>`)."""
    return re.sub(rf"\(\?P?<{re.escape(old)}>", f"(?P<{new}>", pattern)


def _fields(name: str, spec: dict[str, Any]) -> LnavFields:
    levels = []
    for lnav_level, regex in dict(spec.get("level", {})).items():
        canonical = LNAV_LEVELS.get(str(lnav_level))
        if canonical is None or not isinstance(regex, (str, int)):
            continue
        levels.append((canonical, UserRegex(str(regex), f"level regex of lnav format {name}")))
    times = spec.get("timestamp-format", [])
    return LnavFields(time=str(spec.get("timestamp-field", "timestamp")), level=str(spec.get("level-field", "level")),
                      body=str(spec.get("body-field", "body")), levels=tuple(levels),
                      time_formats=tuple(str(t) for t in times if isinstance(t, str)))  # fmt: skip


def lnav_format(name: str, spec: dict[str, Any]) -> LogFormat:
    """One lnav format definition as a logpt format; InputError when it has nothing logpt can match lines with."""
    fields = _fields(name, spec)
    description = str(spec.get("description") or spec.get("title") or f"lnav format {name}")
    if spec.get("json") is True:
        return LnavJsonFormat(name, re.compile(r"^\{"), description, json=True, fields=fields)
    patterns = [p.get("pattern") for p in dict(spec.get("regex", {})).values() if isinstance(p, dict)]
    patterns = [p for p in patterns if isinstance(p, str)]
    if not patterns:
        raise InputError(f"lnav format {name} has no regex pattern", HINT)
    renamed = []
    for p in patterns:
        for old, new in ((fields.time, "ts"), (fields.body, "message"), (fields.level, "level")):
            p = _rename(p, old, new)
        renamed.append(f"(?:{p})")
    regex = UserRegex("|".join(renamed), f"regex of lnav format {name}")
    return LnavFormat(name, regex, description, fields=fields)  # type: ignore[arg-type]


def load_lnav_file(path: Path) -> list[LogFormat]:
    """The formats of an lnav format file; what logpt does not read is named in one warning."""
    data = read_json(path, "format file", HINT)
    if not isinstance(data, dict):
        raise InputError(f"{path} is not an lnav format file (a JSON object of formats)", HINT)
    formats, unread = [], set()
    for name, spec in data.items():
        if name.startswith("$"):  # "$schema"
            continue
        if not isinstance(spec, dict):
            raise InputError(f"{path}: lnav format {name!r} is not an object", HINT)
        try:
            formats.append(lnav_format(str(name), spec))
        except InputError as e:
            raise InputError(f"{path}: {e.message}", e.hint) from None
        unread |= set(spec) - READ
    if unread:  # JSON-quoted: a file or key name never reaches the terminal as a control sequence
        log.warning("note: %s: lnav keys logpt does not use: %s", json.dumps(str(path)),
                    ", ".join(json.dumps(k) for k in sorted(unread)))  # fmt: skip
    return formats
