"""Which lines a filtered view shows: an include regex, an exclude regex and a minimum level.

`LineFilter.matches(text)` decides one line; `scan(lines, first)` the indices
of a block's matching lines. The explorer runs scans in a worker over the
whole file and again over each batch of followed lines.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from engine.logs.formats.record import LEVEL_RANK, sniff_level
from engine.logs.userregex import UserRegex

FILTER_LEVELS = (None, "WARN", "ERROR", "CRITICAL")  # what the level key cycles through


@dataclass(frozen=True)
class LineFilter:
    include: re.Pattern[str] | UserRegex | None = None  # the explorer passes UserRegex (a time limit)
    exclude: re.Pattern[str] | UserRegex | None = None
    min_level: str | None = None  # WARN, ERROR or CRITICAL, judged from the line's words like the level colours

    @property
    def active(self) -> bool:
        return self.include is not None or self.exclude is not None or self.min_level is not None

    def matches(self, text: str) -> bool:
        if self.include is not None and not self.include.search(text):
            return False
        if self.exclude is not None and self.exclude.search(text):
            return False
        if self.min_level is not None:
            level = sniff_level(text[:500])
            if level is None or LEVEL_RANK[level] < LEVEL_RANK[self.min_level]:
                return False
        return True

    def scan(self, lines: Sequence[str], first: int) -> list[int]:
        """0-based indices (counting from `first`) of the lines that match."""
        return [first + i for i, text in enumerate(lines) if self.matches(text)]

    def describe(self) -> str:
        parts = []
        if self.include is not None:
            parts.append(f"+/{self.include.pattern}/")
        if self.exclude is not None:
            parts.append(f"−/{self.exclude.pattern}/")
        if self.min_level is not None:
            parts.append(f"≥{self.min_level}")
        return " ".join(parts)
