"""A table of known templates matched before mining: raw lines mapped to the keys a detector was trained on.

A detector trained on pre-parsed keys (DeepLog's HDFS key numbers) knows its keys, not the templates a
miner would find in raw text. Its bundle carries a table — key → template with `<*>` wildcards — and
`KeyedMiner` maps each message to the key of the first template it matches; a message no template
matches goes to an ordinary `TemplateMiner` and gets a key of its own, prefixed with `~`, which the
detector has never seen (so it counts as a novel template).

Matching is a glob match, not a regex: the template's literal parts are found in order with
`str.find` (the first anchored at the start, the last at the end, every `<*>` at least one
character), so a bundle's table cannot make a line take exponential time.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from engine.logs.templates.miner import Template, TemplateMiner

WILDCARD = "<*>"
MINED = "~"  # prefix of the keys of messages no template of the table matches


def _spaced(text: str) -> str:
    """Runs of whitespace as one space: templates and messages compare word by word."""
    return _SPACES.sub(" ", text)


_SPACES = re.compile(r"\s+")


def _parts(template: str) -> tuple[str, ...]:
    """A template's literal parts around its `<*>`s (len = wildcards + 1)."""
    return tuple(_spaced(part) for part in _spaced(template.strip()).split(WILDCARD))


def glob_match(parts: tuple[str, ...], message: str) -> bool:
    """Whether `message` (whitespace already collapsed) is parts[0] <*> parts[1] … parts[-1], in linear time."""
    if len(parts) == 1:
        return message == parts[0]
    first, *middle, last = parts
    if not message.startswith(first) or not message.endswith(last):
        return False
    at, end = len(first), len(message) - len(last)
    for part in middle:  # leftmost placement of each part is enough when both ends are anchored
        found = message.find(part, at + 1, end)
        if found < 0:
            return False
        at = found + len(part)
    return end >= at + 1


class KeyedMiner:
    """Known templates first (in the order given, longest literal text first), then mining for the rest."""

    def __init__(self, table: Mapping[str, str], fallback: TemplateMiner | None = None) -> None:
        if not table:
            raise ValueError("a template table needs at least one template")
        self.table = {str(k): str(v) for k, v in table.items()}
        self.fallback = fallback or TemplateMiner()
        by_length = sorted(self.table.items(), key=lambda kv: -len(kv[1].replace(WILDCARD, "")))
        self._compiled = [(key, _anchor(text), _parts(text)) for key, text in by_length]

    def add(self, message: str) -> str:
        key = self.match(message)
        return key if key is not None else f"{MINED}{self.fallback.add(message)}"

    def match(self, message: str) -> str | None:
        """The key of the table's template that fits the message; None when none does (nothing is learned)."""
        spaced = _spaced(message.strip())
        for key, anchor, parts in self._compiled:
            if anchor in spaced and glob_match(parts, spaced):
                return key
        return None

    def templates(self) -> list[Template]:
        known = [Template(key, text, 0) for key, text in self.table.items()]  # type: ignore[arg-type]
        mined = [Template(f"{MINED}{t.key}", t.text, t.count) for t in self.fallback.templates()]  # type: ignore[arg-type]
        return known + mined

    def to_state(self) -> dict[str, Any]:
        return {"table": self.table, "fallback": self.fallback.to_state()}

    def copy(self) -> KeyedMiner:
        return KeyedMiner(self.table, TemplateMiner.from_state(self.fallback.to_state()))


def _anchor(template: str) -> str:
    """The longest literal word of a template: a plain `in` test rejects most messages before the regex runs."""
    words = [w for part in template.split(WILDCARD) for w in part.split()]
    return max(words, key=len, default="")
