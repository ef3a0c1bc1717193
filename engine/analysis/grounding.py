"""Grounding: are the numbers, addresses, ids and paths in a reply found in its sources?

A generated analysis may only state facts that occur in the log chunk or its
digest. `check_grounding(reply, sources)` pulls the checkable tokens (IPv4
addresses, paths, ids such as `blk_…`, hex and UUIDs, numbers) out of the
reply and out of the sources with the same pattern, and reports the reply's
tokens that the sources lack. The CLI and the TUI mark those as ungrounded;
the evaluation's grounding precision is grounded / checked over all replies.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from engine.logs.patterns import HEX_LITERAL, IPV4, PATH, UUID

FACT_TOKEN = re.compile(
    rf"(?<![\d.]){IPV4}(?::\d+)?(?!\d|\.\w)"  # IPv4, maybe with a port (not part of a longer run)
    rf"|(?<![\w.]){PATH}"  # paths
    r"|\b(?:blk|attempt|container|req|job|task|application)_?-?[\w-]*\d[\w-]*"  # ids with a prefix
    rf"|\b{HEX_LITERAL}\b|\b{UUID}\b"  # hex, UUIDs
    r"|(?<![\w.])\d+(?:[.,:]\d+)*(?:\.[^\W\d]\w*(?:\.\w+)*)?(?=x\b|(?!\w))"  # numbers (dates, times, counts
    # written "12x"), and a dotted run that goes on from one into words ("10.0.0.7.example.24") as one token
)


@dataclass(frozen=True)
class Grounding:
    checked: int  # fact tokens in the reply
    ungrounded: tuple[str, ...]  # those not found in the sources, in reply order, repeats kept

    @property
    def grounded(self) -> int:
        return self.checked - len(self.ungrounded)

    @property
    def precision(self) -> float:
        """Share of the reply's fact tokens found in the sources (1.0 for a reply with none)."""
        return self.grounded / self.checked if self.checked else 1.0


def fact_tokens(text: str) -> list[str]:
    return [m.group(0).rstrip(".,:") for m in FACT_TOKEN.finditer(text)]


def check_grounding(reply: str, sources: Iterable[str]) -> Grounding:
    known: set[str] = set()
    for source in sources:
        known.update(fact_tokens(source))
    tokens = fact_tokens(reply)
    return Grounding(len(tokens), tuple(t for t in tokens if t not in known))
