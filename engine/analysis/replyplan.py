"""A reply as a plan: fixed text and choices among true statements.

The analyst writes each reply as a `Plan`: text that every reply on these facts
has (the heading, the line count) and `Pick`s, each a list of statements the
digest supports (one per template, signature, remedy…) with the analyst's own
choice among them. Two things come out of one plan:

- `render(plan)`: the analyst's reply, its choices taken;
- `lark(plan)`: a grammar whose language is every reply the plan allows: each
  pick any subsequence of its options (in their order, so none repeats)
  within its bounds. A model held to it (engine.lm.grammar) writes only the
  analyst's sentences on this digest's facts, but chooses which and how many.

An option is itself a plan, so a choice can carry what follows from it (the
root cause chosen decides which signatures are "also seen"). Statements are
whole: a template's count is never paired with another template.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass

MAX_OPTIONS = 8  # a pick offers at most this many statements (their subsequences are spelled out in the grammar)


@dataclass(frozen=True)
class Pick:
    options: tuple[Plan, ...]
    chosen: tuple[int, ...]  # the analyst's choice: increasing indexes into options
    least: int = 1  # how many a reply must choose (fewer when there are fewer options)
    most: int = 1
    head: str = ""  # written once before the chosen options, when there are any

    def __post_init__(self) -> None:
        if len(self.options) > MAX_OPTIONS:
            raise ValueError(f"a pick offers at most {MAX_OPTIONS} options")
        if list(self.chosen) != sorted(set(self.chosen)) or any(not 0 <= i < len(self.options) for i in self.chosen):
            raise ValueError("chosen must be increasing indexes of options")
        if not self.bounds[0] <= len(self.chosen) <= self.bounds[1]:
            raise ValueError(f"{len(self.chosen)} chosen, outside {self.bounds}")

    @property
    def bounds(self) -> tuple[int, int]:
        most = min(self.most, len(self.options))
        return min(self.least, most), most


Part = str | Pick
Plan = tuple[Part, ...]


def pick(options: list[Plan] | list[str], *, least: int = 1, most: int | None = None, head: str = "",
         chosen: tuple[int, ...] | None = None) -> Pick:  # fmt: skip
    """A pick whose options are given in the analyst's order of preference: by default it chooses the
    first `most` (all when None) and a reply may choose any `least`..`most` of them."""
    options = [(o,) if isinstance(o, str) else tuple(o) for o in options][:MAX_OPTIONS]
    most = len(options) if most is None else most
    if chosen is None:
        chosen = tuple(range(min(most, len(options))))
    return Pick(tuple(options), chosen, least, most, head)


def render(plan: Plan) -> str:
    """The analyst's reply: every fixed text and each pick's chosen options."""
    out: list[str] = []
    for part in plan:
        if isinstance(part, str):
            out.append(part)
        elif part.chosen:
            out.append(part.head)
            out.extend(render(part.options[i]) for i in part.chosen)
    return "".join(out)


def lark(plan: Plan) -> str:
    """A Lark grammar (llguidance's dialect) for every reply the plan allows."""
    return _Grammar().build(plan)


def _literal(text: str) -> str:
    """`text` as a Lark string; a lone surrogate (no log decoded by logpt has one) becomes `?`, not a bad grammar."""
    return json.dumps(text.encode("utf-8", "replace").decode("utf-8"), ensure_ascii=False)


class _Grammar:
    def __init__(self) -> None:
        self.rules: dict[str, str] = {}  # name → body
        self.names: dict[object, str] = {}  # a plan or pick (by value) → its rule's name

    def build(self, plan: Plan) -> str:
        start = self._sequence(plan)
        lines = [f"start: {start}"] + [f"{name}: {body}" for name, body in self.rules.items()]
        return "\n".join(lines) + "\n"

    def _rule(self, key: object, body: str) -> str:
        name = self.names.get(key)
        if name is None:
            name = self.names[key] = f"r{len(self.names)}"
            self.rules[name] = body
        return name

    def _sequence(self, plan: Plan) -> str:
        parts = [_literal(p) if isinstance(p, str) else self._pick(p) for p in plan if p != ""]
        return " ".join(parts) or '""'

    def _pick(self, p: Pick) -> str:
        if p in self.names:
            return self.names[p]
        options = [self._rule(o, self._sequence(o)) for o in p.options]
        least, most = p.bounds
        choices = [" ".join(c) for c in _subsequences(options, max(1, least), most)]
        if not choices:
            return '""'
        body = "(" + " | ".join(choices) + ")"
        if p.head:
            body = f"{_literal(p.head)} {body}"
        if least == 0:
            body = f"({body})?"
        return self._rule(p, body)


def _subsequences(items: list[str], least: int, most: int) -> Iterator[tuple[str, ...]]:
    for size in range(least, most + 1):
        yield from itertools.combinations(items, size)
