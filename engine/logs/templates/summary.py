"""Per-template facts of a parsed log: count, first and last line, an example, the worst level."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from engine.logs.formats.record import LEVEL_RANK, Record, level_of
from engine.logs.templates.miner import TemplateMiner


@dataclass(frozen=True)
class TemplateSummary:
    key: int
    template: str
    count: int
    first_line: int
    last_line: int
    example: str  # the first message with this template (its first line)
    level: str | None  # the most severe level seen with it


def summarize(
    records: Iterable[Record], miner: TemplateMiner, on_record: Callable[[Record], None] | None = None
) -> list[TemplateSummary]:
    """Mine every record and return its templates, most frequent first."""
    first: dict[int, Record] = {}
    last: dict[int, int] = {}
    counts: dict[int, int] = {}
    levels: dict[int, str | None] = {}
    for record in records:
        key = miner.add(record.message)
        level = level_of(record)[0]
        if key not in first:
            first[key] = record
            levels[key] = level
        counts[key] = counts.get(key, 0) + 1
        last[key] = record.line
        if level is not None and LEVEL_RANK[level] > LEVEL_RANK.get(levels[key] or "", -1):
            levels[key] = level
        if on_record is not None:
            on_record(record)
    summaries = [
        TemplateSummary(
            key=key,
            template=miner.template(key) or first[key].message.partition("\n")[0],  # evicted: show an example
            count=counts[key],
            first_line=first[key].line,
            last_line=last[key],
            example=first[key].message.partition("\n")[0],
            level=levels[key],
        )
        for key in first
    ]
    return sorted(summaries, key=lambda s: (-s.count, s.first_line))
