"""Per-template facts of a parsed log: count, first and last line, an example, the worst level."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from engine.logs.formats.record import LEVEL_RANK, Record, sniff_level
from engine.logs.templates.masks import digit_shape
from engine.logs.templates.miner import TemplateMiner

MAX_GUESSED = 100_000  # digit shapes whose guessed level is remembered (then forgotten all at once)


class LevelGuess:
    """A record's level, or the one its words suggest (`sniff_level`), guessed once per digit shape (the
    message's `digit_shape`, the mining cache's key too). Exact: the severity patterns test letters and
    character classes, never a digit's value, so messages of one shape get the same guess. `summarize` and the
    digest (engine.analysis.digest) both read levels through it."""

    def __init__(self) -> None:
        self.guessed: dict[bytes, str | None] = {}

    def __call__(self, record: Record, shape: bytes) -> str | None:
        if record.level is not None:
            return record.level
        try:
            return self.guessed[shape]
        except KeyError:
            if len(self.guessed) >= MAX_GUESSED:
                self.guessed.clear()
            level = self.guessed[shape] = sniff_level(record.message)
            return level


@dataclass(frozen=True)
class TemplateSummary:
    key: int
    template: str
    count: int
    first_line: int
    last_line: int
    example: str  # the first message with this template (its first line)
    level: str | None  # the most severe level seen with it


class TemplateTally:
    """Per-template facts as records arrive: count, first record, last line, worst level.

    `summarize` (logpt templates) and the digest (engine.analysis.digest) both count with it.
    """

    def __init__(self) -> None:
        self.first: dict[int, Record] = {}  # in order of first appearance
        self.last: dict[int, int] = {}
        self.counts: dict[int, int] = {}
        self.levels: dict[int, str | None] = {}

    def add(self, key: int, record: Record, level: str | None) -> bool:
        """Count `record` under `key`; True when the key is new."""
        new = key not in self.first
        if new:
            self.first[key], self.levels[key] = record, level
        self.counts[key] = self.counts.get(key, 0) + 1
        self.last[key] = record.line
        if level is not None and LEVEL_RANK[level] > LEVEL_RANK.get(self.levels[key] or "", -1):
            self.levels[key] = level
        return new

    def summaries(self, miner: TemplateMiner) -> list[TemplateSummary]:
        """Every template, most frequent first (ties: the earliest)."""
        summaries = [
            TemplateSummary(
                key=key,
                template=miner.template(key) or first.message.partition("\n")[0],  # evicted: show an example
                count=self.counts[key],
                first_line=first.line,
                last_line=self.last[key],
                example=first.message.partition("\n")[0],
                level=self.levels[key],
            )
            for key, first in self.first.items()
        ]
        return sorted(summaries, key=lambda s: (-s.count, s.first_line))


def summarize(
    records: Iterable[Record], miner: TemplateMiner, on_record: Callable[[Record], None] | None = None
) -> list[TemplateSummary]:
    """Mine every record and return its templates, most frequent first.

    A record without a level gets the one its words suggest (`LevelGuess`)."""
    tally, guess = TemplateTally(), LevelGuess()
    for record in records:
        shape = digit_shape(record.message)
        tally.add(miner.add(record.message, shape), record, guess(record, shape))
        if on_record is not None:
            on_record(record)
    return tally.summaries(miner)
