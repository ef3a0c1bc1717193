"""Messages that workers post to the app: small dataclasses, one per event."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message


@dataclass
class IndexProgress(Message):
    """Bytes indexed so far."""

    done: int
    total: int


@dataclass
class SourceChanged(Message):
    """The file grew, was truncated, rotated or deleted (or was indexed for the first time)."""

    kind: str
    new_lines: int


@dataclass
class FileTouched(Message):
    """The watchdog observer saw the file (or its directory entry) change."""


@dataclass
class SearchResult(Message):
    """Where a search landed: a 0-based line, or None when nothing matched."""

    pattern: str
    line: int | None
