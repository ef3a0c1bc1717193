"""Which lines a filtered view shows: an include regex, an exclude regex and a minimum level.

`LineFilter.matches(text)` decides one line; `scan(lines, first)` the indices
of a block's matching lines; `scan_source(source, a, b)` those of a range of a
source's lines, with the block search of engine/logs/search.py where the
regexes are `UserRegex` (the same lines, found in the bytes). The explorer
runs scans in a worker over the whole file and again over each batch of
followed lines.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from engine.logs import search
from engine.logs.formats.record import LEVEL_RANK, sniff_level
from engine.logs.logsource import BlockSearch
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
        return self.min_level is None or self._level_passes(text)

    def _level_passes(self, text: str) -> bool:
        assert self.min_level is not None
        level = sniff_level(text[:500])
        return level is not None and LEVEL_RANK[level] >= LEVEL_RANK[self.min_level]

    def scan(self, lines: Sequence[str], first: int) -> list[int]:
        """0-based indices (counting from `first`) of the lines that match."""
        return [first + i for i, text in enumerate(lines) if self.matches(text)]

    def scan_source(self, source: BlockSearch, a: int, b: int, cancelled: search.Cancelled = search.never) -> list[int]:
        """0-based lines a..b-1 of the source that match: the regexes run over the block's bytes and text
        (engine/logs/search.py), the level is judged only on the lines they let through."""
        if not all(p is None or isinstance(p, UserRegex) for p in (self.include, self.exclude)):
            return self.scan(source.block(a, b), a)
        block = search.read_block(source, a, b)
        rows: Sequence[int] = range(a, b)
        if isinstance(self.include, UserRegex):
            rows = search.block_matches(block, self.include, cancelled)
        if isinstance(self.exclude, UserRegex) and rows:
            dropped = set(search.block_matches(block, self.exclude, cancelled))
            rows = [line for line in rows if line not in dropped]
        if self.min_level is not None and rows:
            texts = block.texts()
            rows = [line for line in rows if self._level_passes(texts[line - a])]
        return list(rows)

    def describe(self) -> str:
        parts = []
        if self.include is not None:
            parts.append(f"+/{self.include.pattern}/")
        if self.exclude is not None:
            parts.append(f"−/{self.exclude.pattern}/")
        if self.min_level is not None:
            parts.append(f"≥{self.min_level}")
        return " ".join(parts)
