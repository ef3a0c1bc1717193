"""The cause finder: where trouble starts in a chunk, what the software said about it, and what changed before.

A knowledge-base signature names a cause when one matches; this module reads the log's structure for
what no signature knows, the way an on-call engineer does:

- the errors: the first line at ERROR or worse (by its level field or its words), or flagged by the detector;
- the onset: the first warning, flagged or error line of the run of trouble that leads into those errors
  (lines at most `ONSET_GAP_LINES` apart and, when both carry a time, `ONSET_GAP_SECONDS`), so a deprecation
  notice written at start-up three minutes before is not the onset, while the warning just before the errors
  is; never the loudest line, which is usually a symptom repeated;
- the hints software writes next to its errors (`HINT:`, `Check that …`, `possible cause`, `Is the server
  running`, the innermost `Caused by:` of a stack trace);
- what changed just before the onset: a restart, a reload, an upgrade, a new version (a line of its kind that
  is not routine in the chunk).

Everything here is a line of the chunk, quoted with its number: the finder adds no words of its own, so what
the analyst writes from it stays grounded. It leaves out the signatures (engine.analysis.knowledge) and the
detector's evidence (engine.detect), which reach it as a line's level and as flagged line numbers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from engine.logs.clock import seconds_of
from engine.logs.formats.record import LEVEL_RANK

ONSET_GAP_LINES = 8  # trouble lines further apart than this are two runs, not one
ONSET_GAP_SECONDS = 120.0  # … or further apart in time, where both lines carry one
HINT_WINDOW = 40  # hints are read from the onset to this many lines after the first error
CHANGE_WINDOW = 30  # a change is looked for this many lines before the onset
MAX_HINTS = 2
MAX_TEXT = 200

# What software writes to tell its reader why, or what to check (read in PostgreSQL's HINT/DETAIL lines,
# MySQL's and InnoDB's "Check that …", libpq's "Is the server running …", Java's "Caused by:", kernel
# "possible cause" notes and CLI tools' "Please check / make sure / consider …").
HINT = re.compile(
    r"(?:^|\s)(?:HINT|DETAIL|Hint|Note|NOTE):\s"
    r"|\b(?:Check that|check (?:that|whether|if|your|the)|[Pp]ossible (?:cause|reason)s?|[Pp]robable cause"
    r"|may be caused by|is caused by|most likely|[Pp]erhaps|Is the server running|Is server running"
    r"|[Mm]ake sure|[Ee]nsure that|Please (?:check|make sure|ensure|verify|increase|consult|run|try|consider|set)"
    r"|[Cc]onsider (?:increasing|raising|setting|using|adding|reducing)|[Tt]ry (?:increasing|raising|setting|again)"
    r"|[Yy]ou (?:may|might|should|must) (?:need|want|have) to|[Dd]id you (?:mean|forget))"
)
CAUSED_BY = re.compile(r"^\s*Caused by:\s")
CHANGE = re.compile(
    r"\b(?:[Ss]tarting|[Rr]estart(?:ed|ing)?|[Rr]eload(?:ed|ing)?|SIGHUP|[Uu]pgrad(?:e|ed|ing)|[Dd]owngrad(?:ed|ing)"
    r"|[Ii]nstalled|[Uu]pdated to|[Dd]eploy(?:ed|ing)|[Rr]olling (?:out|back)|configuration (?:changed|reloaded)"
    r"|(?:new|running) version|version [vV]?\d+\.\d+)"
)
NOT_ONSET = re.compile(r"deprecat|is not recommended|consider using", re.IGNORECASE)  # start-up advice, not trouble
ANNOUNCES = re.compile(
    r"\b(?:[Ss]erver started|[Ss]tarted|[Ss]tarting|[Rr]eady to accept|[Ll]istening on|[Vv]ersion [vV]?\d+\.\d+)\b"
)
ERROR_WORDS = re.compile(r"(?i)\b(?:fail|error|cannot|can't|unable|denied|refused|abort|fatal|panic)")


@dataclass(frozen=True)
class CauseLine:
    line: int
    text: str  # the line as written (cut to MAX_TEXT)
    why: str  # "first error", "first warning before the errors", "hint", "restart or change" …


@dataclass(frozen=True)
class CauseFacts:
    """What the log's structure says about the chunk's trouble; empty when there is none."""

    onset: CauseLine | None = None  # the first line of the run of trouble that leads into the errors
    errors: CauseLine | None = None  # the first error (may be the onset itself)
    error_lines: int = 0  # lines at ERROR or worse, or flagged, in the chunk
    hints: tuple[CauseLine, ...] = ()  # what the software wrote about it, in line order
    change: CauseLine | None = None  # what changed just before the onset

    def to_dict(self) -> dict[str, object]:
        return {"onset": self.onset, "errors": self.errors, "error_lines": self.error_lines, "hints": self.hints,
                "change": self.change}  # fmt: skip


class Seen(NamedTuple):
    """One record of the chunk as the finder needs it (the digest builds one per record while it parses)."""

    line: int
    end_line: int
    level: str | None  # from the level field, or guessed from the words
    key: int  # template key
    message: str


def find_cause(
    seen: Sequence[Seen],
    lines: Sequence[str],
    first_line: int,
    *,
    flagged: Mapping[int, str] | None = None,
    template_counts: Mapping[int, int] | None = None,
) -> CauseFacts:
    """The chunk's onset, first error, hints and change, from its records `seen` (in order) and raw `lines`."""
    flagged = flagged or {}
    counts = template_counts or {}

    def rank(s: Seen) -> int:
        return LEVEL_RANK.get(s.level or "", 0)

    def text(line: int) -> str:
        return cut(lines[line - first_line].strip(), MAX_TEXT)

    def flagged_in(s: Seen) -> bool:
        return bool(flagged) and any(n in flagged for n in range(s.line, s.end_line + 1))

    def warns(s: Seen) -> bool:  # a warning that is not start-up advice
        return rank(s) >= LEVEL_RANK["WARN"] and not NOT_ONSET.search(s.message)

    # A flagged WARN line is trouble like any warning (below); a flagged line the level calls fine is trouble
    # by the detector's other evidence. Start-up, version and restart lines are changes, never the trouble.
    severe = [s for s in seen if (rank(s) >= LEVEL_RANK["ERROR"] or (flagged_in(s) and rank(s) < LEVEL_RANK["WARN"]))
              and not _announces(s)]  # fmt: skip
    trouble = severe or [s for s in seen if warns(s) and not _announces(s)]
    if not trouble:
        return CauseFacts()
    first = trouble[0]
    candidates = [s for s in seen if s.line <= first.line and (flagged_in(s) or warns(s)) and not _announces(s)]
    onset = first
    for s in reversed(candidates[:-1]):
        if onset.line - s.end_line > ONSET_GAP_LINES or _far_apart(text(s.line), text(onset.line)):
            break
        onset = s
    first_why = (
        "first error" if rank(first) >= LEVEL_RANK["ERROR"] else "first flagged line" if severe else "first warning"
    )
    if onset is first:
        onset_fact = CauseLine(first.line, text(first.line), first_why)
    else:
        what = "flagged line" if flagged_in(onset) and rank(onset) < LEVEL_RANK["WARN"] else "warning"
        onset_fact = CauseLine(onset.line, text(onset.line), f"first {what} before the errors")
    return CauseFacts(
        onset=onset_fact,
        errors=CauseLine(first.line, text(first.line), first_why),
        error_lines=sum(s.end_line - s.line + 1 for s in trouble),
        hints=_hints(seen, lines, first_line, onset.line, first.line),
        change=_change(seen, onset, counts, text),
    )


def _announces(s: Seen) -> bool:
    """A line that announces a start, a version or a readiness (Redis writes `Server started` as a warning)."""
    return ANNOUNCES.search(s.message[:200]) is not None and not ERROR_WORDS.search(s.message[:200])


def _far_apart(earlier: str, later: str) -> bool:
    a, b = seconds_of(earlier), seconds_of(later)
    return a is not None and b is not None and abs(b - a) > ONSET_GAP_SECONDS


def _hints(
    seen: Sequence[Seen], lines: Sequence[str], first_line: int, onset: int, first_error: int
) -> tuple[CauseLine, ...]:
    """Hints written between the onset and HINT_WINDOW lines after the first error: lines that advise, then the
    innermost `Caused by:` of the first error's record; one per distinct text."""
    found: dict[str, CauseLine] = {}
    last = min(first_line + len(lines) - 1, first_error + HINT_WINDOW)
    for number in range(max(first_line, onset), last + 1):
        raw = lines[number - first_line]
        if len(found) >= MAX_HINTS:
            break
        if HINT.search(raw[:400]) and not CAUSED_BY.match(raw):
            body = raw.strip()
            found.setdefault(_shape(body), CauseLine(number, cut(body, MAX_TEXT), "hint"))
    record = next((s for s in seen if s.line == first_error), None)
    if record is not None and record.end_line > record.line:
        inner = [n for n in range(record.line + 1, record.end_line + 1) if CAUSED_BY.match(lines[n - first_line])]
        if inner:
            body = lines[inner[-1] - first_line].strip()
            found.setdefault(_shape(body), CauseLine(inner[-1], cut(body, MAX_TEXT), "innermost cause"))
    return tuple(sorted(found.values(), key=lambda c: c.line))[: MAX_HINTS + 1]


def cut(text: str, limit: int) -> str:
    """`text` within `limit` characters, cut after a whole word when one ends in the last quarter (a number or
    path cut in half would be no fact of the log and no word at all)."""
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    space = head.rfind(" ")
    return (head[:space] if space >= limit * 3 // 4 else head) + "…"


def _shape(text: str) -> str:
    return re.sub(r"\d+", "0", text.split(" ", 3)[-1])  # one hint per wording, whatever its numbers and time


def _change(seen: Sequence[Seen], onset: Seen, counts: Mapping[int, int], text) -> CauseLine | None:  # noqa: ANN001
    """The nearest line before the onset (within CHANGE_WINDOW lines) that says something was restarted,
    reloaded, upgraded or deployed, and whose template is not routine in the chunk."""
    for s in reversed(seen):
        if s.line >= onset.line:
            continue
        if onset.line - s.line > CHANGE_WINDOW:
            break
        if counts.get(s.key, 1) <= 2 and CHANGE.search(s.message[:300]):
            return CauseLine(s.line, text(s.line), "restart or change before it")
    return None
