"""A table of known templates matched before mining: raw lines mapped to the keys a detector was trained on.

A detector trained on pre-parsed keys (DeepLog's HDFS key numbers) knows its keys, not the templates a
miner would find in raw text. Its bundle carries a table — key → template with `<*>` wildcards — and
`KeyedMiner` maps each message to the key of the first template it matches; a message no template
matches goes to an ordinary `TemplateMiner` and gets a key of its own, prefixed with `~`, which the
detector has never seen (so it counts as a novel template).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from engine.logs.templates.miner import Template, TemplateMiner

WILDCARD = "<*>"
MINED = "~"  # prefix of the keys of messages no template of the table matches


def _pattern(template: str) -> re.Pattern[str]:
    """`<*>` matches any text (at least one character); a run of spaces matches any run of whitespace."""
    out = []
    for i, part in enumerate(template.split(WILDCARD)):
        if i:
            out.append("(.+?)")
        out.append(re.sub(r"(?:\\ )+", lambda _m: r"\s+", re.escape(part)))  # re.escape writes a space as "\ "
    return re.compile(r"\s*" + "".join(out) + r"\s*", re.DOTALL)


class KeyedMiner:
    """Known templates first (in the order given, longest literal text first), then mining for the rest."""

    def __init__(self, table: Mapping[str, str], fallback: TemplateMiner | None = None) -> None:
        if not table:
            raise ValueError("a template table needs at least one template")
        self.table = {str(k): str(v) for k, v in table.items()}
        self.fallback = fallback or TemplateMiner()
        by_length = sorted(self.table.items(), key=lambda kv: -len(kv[1].replace(WILDCARD, "")))
        self._compiled = [(key, _anchor(text), _pattern(text)) for key, text in by_length]

    def add(self, message: str) -> str:
        for key, anchor, pattern in self._compiled:
            if anchor in message and pattern.fullmatch(message):
                return key
        return f"{MINED}{self.fallback.add(message)}"

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
