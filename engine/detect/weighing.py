"""The weighing of a session book's candidate lines (`engine.detect.pipeline.SessionBook.flags`), one line at a time.

A big file's candidates are mostly WARN-or-worse lines without a sequence surprise; such a line is weighed once
per (key, severity) in its bucket run and the result shared by the run's other such lines. A result that flags is
shared by every flag that reads the same (its evidence, score and reason one set of objects): a big file's tens of
thousands of flags say a few hundred different things, and a Flag then costs its own ~90 bytes. What this leaves out:
the rule itself (`engine.detect.evidence.weigh`) and which lines are candidates (the book's).
"""

from __future__ import annotations

from collections.abc import Mapping

from engine.detect.evidence import Evidence, EvidenceRule, FileTally, Surprise, weigh
from engine.detect.unusual import Unusual


class Weigher:
    """`weigh` of one file's candidate lines, with the weighing of a line without a surprise kept for the other
    lines of its (key, severity) in its bucket run (see `SessionBook.flags`): (evidence, score, reason), the reason
    only where the rule flags the evidence (and then the same objects as every other flag's that reads alike)."""

    def __init__(self, tally: FileTally, rule: EvidenceRule, unusual: Mapping[str, Unusual], overstated: bool,
                 rare_is_common: bool) -> None:  # fmt: skip
        self.tally, self.rule, self.unusual = tally, rule, unusual
        self.overstated, self.rare_is_common = overstated, rare_is_common
        self.run = -1
        self.kept: dict[tuple[str, tuple[str, str] | None], tuple[tuple[Evidence, ...], float, str]] = {}
        self.shared: dict[tuple[Evidence, ...], tuple[tuple[Evidence, ...], float, str]] = {}  # flagging results

    def __call__(
        self, line: int, key: str, surprise: Surprise | None, severity: tuple[str, str] | None
    ) -> tuple[tuple[Evidence, ...], float, str]:
        tally = self.tally
        if surprise is not None or not 0 < line <= tally.lines:
            return self._weigh(line, key, surprise, severity)
        run = tally.run_of(line)
        if run != self.run:
            self.run, self.kept = run, {}
        found = self.kept.get((key, severity))
        if found is None:
            found = self.kept[(key, severity)] = self._weigh(line, key, None, severity)
        return found

    def _weigh(
        self, line: int, key: str, surprise: Surprise | None, severity: tuple[str, str] | None
    ) -> tuple[tuple[Evidence, ...], float, str]:
        evidence = weigh(line, key, surprise, severity, self.tally, self.rule, overstated=self.overstated,
                         unusual=self.unusual.get(key), rare_is_common=self.rare_is_common)  # fmt: skip
        found = tuple(evidence)
        if not self.rule.flags(found):
            return found, sum(e.weight for e in found), ""  # no flag: nobody reads its reason
        shared = self.shared.get(found)
        if shared is None:
            shared = self.shared[found] = (found, sum(e.weight for e in found), "; ".join(e.detail for e in found))
        return shared
