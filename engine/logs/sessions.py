"""Grouping template keys into sessions: by an id in the message, by component, or by window.

HDFS-style logs group by block id (`blk_-?\\d+`), request-oriented logs by a
request or trace id; syslog by program; anything else by fixed windows of
keys. A record that mentions several ids joins each of their sessions.

Windows are one stream: the whole file's keys in order, scored with the
context before every position (never a cold start at a window's edge); the
window size is how many keys count as one session when the detector's
false-positive rate is chosen.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.errors import InputError
from engine.logs.formats.record import Record
from engine.logs.patterns import HDFS_BLOCK
from engine.logs.userregex import UserRegex

DEFAULT_ID_PATTERNS = {"hdfs": HDFS_BLOCK, "openstack": r"\[instance: ([0-9a-f-]{36})\]"}
SESSION_KINDS = ("id", "component", "window")
COMPONENT_FORMATS = {"syslog", "journal-iso", "thunderbird", "syslog-5424"}


@dataclass(frozen=True)
class SessionSpec:
    kind: str  # "id", "component" or "window"
    pattern: str | None = None  # for "id": a regex; its first group (or the whole match) is the id
    size: int = 50  # for "window": keys per window when counting flagged windows

    @classmethod
    def parse(cls, text: str) -> SessionSpec:
        """`component`, `window:N`, or a regex for an id (e.g. `blk_-?\\d+`)."""
        if text == "component":
            return cls("component")
        if text.startswith("window:"):
            try:
                size = int(text.split(":", 1)[1])
            except ValueError:
                raise InputError(f"bad session window {text!r}", "write window:N with N keys per window") from None
            if size < 2:
                raise InputError("a session window needs at least 2 keys", "write window:N with N ≥ 2")
            return cls("window", size=size)
        UserRegex(text, "session pattern")  # a bad regex is a one-line error now
        return cls("id", pattern=text)

    @classmethod
    def default_for(cls, format_name: str) -> SessionSpec:
        if format_name in DEFAULT_ID_PATTERNS:
            return cls("id", pattern=DEFAULT_ID_PATTERNS[format_name])
        if format_name in COMPONENT_FORMATS:
            return cls("component")
        return cls("window")

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "pattern": self.pattern, "size": self.size}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SessionSpec | None:
        """The spec a bundle saved; None when it saved none; ValueError for one this version does not know (a
        detector learned its sessions one way: judging them another would be silently wrong)."""
        kind = data.get("kind")
        if kind is None:
            return None
        if kind not in SESSION_KINDS or (kind == "id" and not data.get("pattern")):
            raise ValueError(f"session rule {dict(data)!r:.80} is not one of {', '.join(SESSION_KINDS)}")
        pattern = data.get("pattern") or None
        size = data.get("size", 50)
        if pattern is not None and not isinstance(pattern, str) or type(size) is not int or size < 2:
            raise ValueError(f"session rule {dict(data)!r:.80} is malformed (pattern a regex, size ≥ 2)")
        if pattern is not None:
            try:
                UserRegex(pattern, "session pattern")
            except InputError as e:
                raise ValueError(f"session pattern {pattern!r:.60} is not a regex: {e.message}") from None
        return cls(str(kind), pattern, size)

    def describe(self) -> str:
        return {
            "id": f"by id /{self.pattern}/",
            "component": "by component",
            "window": f"one stream ({self.size} keys a window)",
        }[self.kind]


@dataclass
class Session:
    id: str
    keys: list[str] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)  # the record's first line, per key


STREAM = "all lines"  # the one session of the "window" kind


def group_sessions(records: Iterable[tuple[Record, str]], spec: SessionSpec) -> list[Session]:
    """Sessions in order of first appearance; each (record, key) pair lands in one or more."""
    sessions: dict[str, Session] = {}

    def add(session_id: str, record: Record, key: str) -> None:
        session = sessions.get(session_id)
        if session is None:
            session = sessions[session_id] = Session(session_id)
        session.keys.append(key)
        session.lines.append(record.line)

    if spec.kind == "id":
        # Our own id patterns run on `re`; one from a user or a bundle runs with a time limit.
        own = spec.pattern in DEFAULT_ID_PATTERNS.values()
        pattern = re.compile(spec.pattern or "") if own else UserRegex(spec.pattern or "", "session pattern")
        for record, key in records:
            ids = {m.group(1) if pattern.groups else m.group(0) for m in pattern.finditer(record.message)}
            for session_id in sorted(ids):
                add(session_id, record, key)
    elif spec.kind == "component":
        for record, key in records:
            add(record.component or "-", record, key)
    else:
        for record, key in records:
            add(STREAM, record, key)
    return list(sessions.values())
