"""The lines of one file at WARN or worse, held compactly: what `SessionBook` keeps for severity evidence.

A log can say WARN or worse on most of its lines (OpenSSH's `Failed password`, `POSSIBLE BREAK-IN ATTEMPT`):
a dict of line → (key, severity) costs about 170 bytes a line there, most of a big file's memory. Here a line
costs 8 bytes: its number (4: a book holds far fewer than 2**32 lines) and the index of its (key, severity) pair,
of which a file has a few dozen.
Lines are added in file order (ascending), as a session book takes them. What this leaves out: deciding a
line's severity (`engine.detect.evidence.severity_of`).
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import Iterator, Sequence

Severity = tuple[str, str]  # (level, how it is known), as `severity_of` gives it
Entry = tuple[str, Severity]  # (template key, severity) of one line


class SevereLines:
    """1-based line → (template key, severity) for the records at WARN or worse, in ascending line order."""

    def __init__(self) -> None:
        self.lines = array("I")  # ascending 1-based lines
        self._codes = array("i")  # per line: its pair's index in _entries
        self._entries: list[Entry] = []
        self._code_of: dict[Entry, int] = {}

    def __len__(self) -> int:
        return len(self.lines)

    def add(self, line: int, key: str, severity: Severity) -> None:
        assert not self.lines or line > self.lines[-1], f"line {line} after line {self.lines[-1]}: lines come in order"
        entry = (key, severity)
        code = self._code_of.get(entry)
        if code is None:
            code = self._code_of[entry] = len(self._entries)
            self._entries.append(entry)
        self.lines.append(line)
        self._codes.append(code)

    def nbytes(self) -> int:
        """The bytes its lines take (the few pairs aside)."""
        return len(self.lines) * (self.lines.itemsize + self._codes.itemsize)

    def get(self, line: int) -> Entry | None:
        i = bisect_left(self.lines, line)
        return self._entries[self._codes[i]] if i < len(self.lines) and self.lines[i] == line else None

    def items(self) -> Iterator[tuple[int, Entry]]:
        entries = self._entries
        return ((line, entries[code]) for line, code in zip(self.lines, self._codes, strict=True))

    def counts(self) -> dict[Entry, int]:
        """Lines per (key, severity) pair."""
        found = [0] * len(self._entries)
        for code in self._codes:
            found[code] += 1
        return {entry: n for entry, n in zip(self._entries, found, strict=True) if n}

    def union(self, others: Sequence[int]) -> Iterator[tuple[int, Entry | None]]:
        """Every severe line and every line of `others` (ascending), once each, with its entry (None: not severe)."""
        entries, j = self._entries, 0
        for line, code in zip(self.lines, self._codes, strict=True):
            while j < len(others) and others[j] < line:
                yield others[j], None
                j += 1
            if j < len(others) and others[j] == line:
                j += 1
            yield line, entries[code]
        for line in others[j:]:
            yield line, None
