"""Why a line is anomalous: six kinds of evidence, the rule that weighs them, and incident spans.

- sequence: the detector ranked the line's template outside its top-K given the keys before it
  (or the session ended before the model expected);
- novel: the template never occurred in the history the detector learned from;
- severity: the line's level field (CRITICAL, ERROR, WARN), or its words (panic, fatal, exception,
  out of memory, segfault, denied, refused, timeout, …) — where the level field says less than the
  words, the words count as a warning;
- burst: the template's count in one minute (one block of 100 lines when lines carry no time)
  far above its usual rate in this file (counted without that minute);
- rare: the template occurs in only a few lines of this file, or only in a short stretch of it;
- unusual: a general log language model, trained on the text of many systems, finds the template's text
  far more error-like than the file's other templates (engine.detect.unusual): no history needed.

The default rule ("combined") adds the weights and flags a line at `threshold`. The weights are
documented defaults, chosen so that no single weak signal flags a line: a routine template
that is merely rare or merely out of sequence is not flagged (both together are), an error
line is flagged when something else agrees (it is rare, in a burst or out of sequence), and two
things are flagged on their own: a template unseen in a long history, and a line whose level
field says CRITICAL/FATAL. The rule "topk" is the pure LogGPT/LogNEO method: sequence and novel
evidence only, each enough on its own. How the defaults were set, and what they score on
planted incidents, BGL and HDFS: docs/benchmarks.md.

Rarity and bursts depend on the whole file so far, so a line's verdict can change as the file
grows; `FileTally` keeps the counts (a template id a line, 4 bytes, and where each run of one bucket starts).
"""

from __future__ import annotations

import bisect
from array import array
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np

from engine.logs.formats.record import LEVEL_RANK, Record, sniff_level
from engine.logs.timestamps import MinuteReader

if TYPE_CHECKING:  # a type only: the line model (and torch) load where it is used
    from engine.detect.unusual import Unusual

RULES = ("combined", "topk")
LINES_PER_BUCKET = 100  # a bucket of a log whose lines carry no time
ACTIVE_BUCKETS = 5  # a template seen in this many buckets has a usual rate of its own (see FileTally.in_bucket)
SKIPPED = -1  # FileTally.key_ids of a line a flood skipped
CONTINUED = -2  # FileTally.key_ids of a record's continuation line: a record counts once, on its first line


@dataclass(frozen=True)
class Evidence:
    kind: str  # "sequence", "novel", "severity", "burst" or "rare"
    weight: float
    detail: str  # in words: "rank 7, p=0.0012", "level ERROR", "9 in one minute (usually 0.2)", …

    def to_json(self) -> dict[str, object]:
        return {"kind": self.kind, "weight": self.weight, "detail": self.detail}


@dataclass(frozen=True)
class EvidenceRule:
    kind: str = "combined"  # or "topk"
    threshold: float = 2.0
    sequence: float = 1.0
    pretrained: float = 0.5  # out of sequence by the pretrained model, which never saw this system: weaker than a
    # self-trained detector's word (rare and out of sequence is not enough; error words and out of sequence are)
    novel: float = 2.0
    critical: float = 2.0  # a CRITICAL (FATAL, PANIC, EMERG) level field
    error: float = 2.0  # an ERROR level field: the software says it failed, flagged unless that is routine here
    words: float = 1.5  # ERROR known from words only (no level field): something else must agree (CRITICAL words,
    # `BUG:`, `panic`, an upper-case `ALERT`, weigh `critical`)
    warning: float = 1.0  # WARN, or error words in a line whose level field says less; a routine error template
    overstated: float = 0.5  # an ERROR/CRITICAL level field whose words say nothing is wrong, in a file whose
    # level field over-states (more than `overstated_share` of its lines say ERROR or worse: BGL's FATAL register
    # dumps); calibrated by how the level is spread through the file, never by labels
    overstated_share: float = 0.05
    routine_buckets: int = 5  # an error template is routine in this file when it occurs in at least this many …
    routine_share: float = 0.3  # … and this share of the buckets (minutes, or blocks of lines) that have lines
    burst: float = 1.5
    rare: float = 1.0
    rare_lines: int = 5  # rare: at most this many lines of the template …
    rare_share: float = 0.002  # … or this share of the file's lines, whichever is more; or it occurs …
    rare_time_share: float = 0.01  # … in at most this share of the buckets that have lines, in a file with 100
    # or more such buckets holding 3 lines each on average (in a sparse file, time says no more than counts)
    rare_common_share: float = 0.25  # rarity weighs `rare_weak` where more than this share of the file's records
    # are of rare templates: in a kernel's OOM report or a 20-line paste nearly every template is a one-off
    # (measured: 35-100% of the records of the shared real cases, at most 22% of any Loghub 2k sample), so rare
    # and out of sequence is not enough there, while error words and rare still are
    rare_weak: float = 0.5
    burst_min: int = 3  # a burst: at least this many lines of the template in one bucket …
    burst_ratio: float = 10.0  # … and this many times its average per bucket
    incident_gap: int = 50  # flags at most this many lines apart belong to one incident
    unusual: float = 1.0  # a template whose text the line model finds unusual for this file (engine.detect.unusual) …
    unusual_z: float = 2.0  # … at least this robust z above the file's templates: something else must agree
    unusual_strong: float = 1.5  # … and this weight at `unusual_strong_z` or more
    unusual_strong_z: float = 5.0

    def rare_count(self, lines: int) -> float:
        """The most records a template may have in a file of `lines` lines and still be rare."""
        return max(self.rare_lines, self.rare_share * lines)

    def overstates(self, severe: int, records: int) -> bool:
        """Whether a level field that says ERROR or worse on `severe` of `records` records over-states
        (`overstated_share`; which records count: `states_error`)."""
        return severe > self.overstated_share * max(1, records)

    def rare_is_common(self, counts: Collection[int], lines: int) -> bool:
        """Whether so many records (`counts`: records per template, of a file of `lines` lines) are of rare
        templates that rarity says nothing (`rare_common_share`)."""
        limit = self.rare_count(lines)
        return sum(n for n in counts if n <= limit) > self.rare_common_share * max(1, sum(counts))

    def flags(self, evidence: Sequence[Evidence]) -> bool:
        """The flag rule, for the pipeline and the stream consumer alike: evidence whose weights reach
        `threshold` (with "topk", any evidence at all)."""
        return bool(evidence) and (self.kind == "topk" or sum(e.weight for e in evidence) >= self.threshold)

    def __post_init__(self) -> None:
        if self.kind not in RULES:
            raise ValueError(f"rule must be one of {RULES}")


@dataclass(frozen=True)
class Surprise:
    """What the sequence model said about one line (only lines outside the top-K are kept)."""

    line: int
    session: str
    key: str
    detail: str  # "unseen template", "rank 7, p=0.0012" or "session ended early"
    unseen: bool
    expected: tuple[str, ...]  # keys the model expected most
    pretrained: bool = False  # said by the pretrained sequence model (engine.detect.textseq), not the file's own


def states_error(severity: tuple[str, str] | None) -> bool:
    """Whether a record's severity is one `EvidenceRule.overstates` counts: its level field says ERROR or worse."""
    return severity is not None and severity[1].startswith("level field") and severity[0] != "WARN"


def severity_of(record: Record) -> tuple[str, str] | None:
    """(level, how it is known) for a record at WARN or worse: "level field", "level field and words" (an ERROR
    or worse level whose words say so too), "words", or "words in an INFO line" (a level field below WARN, but
    the message says error, exception, timeout, …)."""
    if record.level is not None and LEVEL_RANK[record.level] >= LEVEL_RANK["WARN"]:
        words = sniff_level(record.message) if LEVEL_RANK[record.level] >= LEVEL_RANK["ERROR"] else None
        if words is not None and LEVEL_RANK[words] >= LEVEL_RANK["ERROR"]:
            return record.level, "level field and words"
        return record.level, "level field"
    guess = sniff_level(record.message)
    if guess is None or LEVEL_RANK[guess] < LEVEL_RANK["WARN"]:
        return None
    if record.level is not None:
        return (guess, f"words in a {record.level} line") if LEVEL_RANK[guess] >= LEVEL_RANK["ERROR"] else None
    return guess, "words"


class FileTally:
    """Counts over one file: records per template key, and a template id and a run of one time bucket per line.

    A bucket is a minute (or 100 lines where lines carry no time); a run is consecutive lines in one
    bucket. Runs always rise, so a clock that jumps back (a wrap, a reset) splits counts, never mixes them.
    Every count is of records: a multi-line record (a stack trace) carries its template id on its first
    line only, so a burst of traces counts traces, like `counts` and `active`.
    """

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.active: Counter[str] = Counter()  # buckets each key occurs in (runs of one bucket: buckets rise)
        self._last_of: dict[str, int] = {}
        self.occupied = 0  # buckets with lines (runs of one bucket)
        self.ids: dict[str, int] = {}
        self.key_ids = array("i")  # per line (0-based): the record's template id on its first line, else
        # CONTINUED on its continuation lines, SKIPPED on lines a flood skipped
        # Where each run of lines sharing one bucket starts (0-based line; run r, from 1, starts at run_starts[r - 1]):
        # 4 bytes a run, not a line (a minute holds many lines), and runs rise, so a line's run is a bisection.
        self.run_starts = array("I")
        self._run_span = (0, 0, 0)  # (first line, end, run) of the run last asked for (`run_of`)
        self.timed: bool | None = None  # decided by the first record: minutes, or blocks of lines
        self._last_bucket = 0
        self._minute_of = MinuteReader()
        self._span: tuple[int, int] | None = None  # lowest and highest bucket
        self._previous: int | None = None  # the last line's bucket
        self._cache: dict[int, int] = {}  # key id → its records in run `_cache_run`: the run asked for last only
        self._cache_run = 0

    def add(self, records: Sequence[tuple[Record, str]]) -> None:
        if not records:
            return
        if self.timed is None:
            self.timed = self._minute_of(records[0][0].timestamp) is not None
        keys = [key for _, key in records]
        self.counts.update(keys)
        ids = self.ids
        key_ids = [ids[k] if k in ids else ids.setdefault(k, len(ids)) for k in keys]
        buckets = [self._bucket(r) for r, _ in records]
        last_of, active, previous = self._last_of, self.active, self._previous
        for (record, key), key_id, bucket in zip(records, key_ids, buckets, strict=True):
            if last_of.get(key) != bucket:
                last_of[key] = bucket
                active[key] += 1
            if bucket != previous:  # a new run (lines a flood skipped before this record are in it): never back
                self.occupied += 1
                self.run_starts.append(len(self.key_ids))
                previous = bucket
            gap = record.line - 1 - len(self.key_ids)
            if gap > 0 or record.end_line != record.line:  # lines a flood skipped, or continuation lines
                self._pad(record, key_id, gap)
            else:
                self.key_ids.append(key_id)
        self._previous = previous
        lo, hi = self._span or (buckets[0], buckets[0])
        self._span = (min(lo, min(buckets)), max(hi, max(buckets)))
        self._cache, self._cache_run, self._run_span = {}, 0, (0, 0, 0)

    def _pad(self, record: Record, key_id: int, gap: int) -> None:
        if gap > 0:
            self.key_ids.extend([SKIPPED] * gap)
        self.key_ids.append(key_id)
        self.key_ids.extend([CONTINUED] * (record.end_line - record.line))

    def run_of(self, line: int) -> int:
        """The run (from 1) that 1-based `line` is in; lines asked for in order mostly find the run asked for last."""
        lo, hi, run = self._run_span
        if not lo <= line - 1 < hi:
            starts = self.run_starts
            run = bisect.bisect_right(starts, line - 1)
            lo, hi = starts[run - 1], starts[run] if run < len(starts) else len(self.key_ids)
            self._run_span = (lo, hi, run)
        return run

    def _bucket(self, record: Record) -> int:
        if not self.timed:
            return (record.line - 1) // LINES_PER_BUCKET
        timestamp = record.timestamp
        minute = self._minute_of(timestamp)
        if minute is not None:
            self._last_bucket = minute
        return self._last_bucket  # a line without time belongs with the one before it

    @property
    def lines(self) -> int:
        return len(self.key_ids)

    def records_of(self, keys: Sequence[str]) -> dict[int, str]:
        """1-based first line → key, for every record of `keys` (a scan of the per-line ids; `keys` are few)."""
        wanted = {self.ids[k]: k for k in keys if k in self.ids}
        if not wanted:
            return {}
        ids = np.frombuffer(self.key_ids, dtype=np.int32)
        at = np.flatnonzero(np.isin(ids, list(wanted)))
        return {int(i) + 1: wanted[int(ids[i])] for i in at}

    def unit(self) -> str:
        return "one minute" if self.timed else f"{LINES_PER_BUCKET} lines"

    def unit_plural(self) -> str:
        return "minutes" if self.timed else f"blocks of {LINES_PER_BUCKET} lines"

    def in_bucket(self, line: int, key: str) -> tuple[int, float]:
        """(records of `key` in the bucket of 1-based `line`, its usual count per bucket outside that bucket).

        Usual: per bucket it occurs in, once it has occurred in ACTIVE_BUCKETS of them (a template that
        always comes in clusters is not bursting when it clusters again); before that, per bucket of
        the file's whole span.
        """
        key_id = self.ids.get(key, len(self.ids))  # a key never counted: an id no line holds
        run = self.run_of(line)
        if run != self._cache_run:  # lines come in order (`SessionBook.flags`): one run's counts are kept at a time
            self._cache, self._cache_run = {}, run
        here = self._cache.get(key_id)
        if here is None:
            lo, hi, _ = self._run_span
            here = self._cache[key_id] = self.key_ids[lo:hi].count(key_id)
        elsewhere = self.counts[key] - here
        if self.active[key] > ACTIVE_BUCKETS:
            return here, elsewhere / (self.active[key] - 1)
        lo, hi = self._span or (0, 0)  # a clock that wraps or jumps back spans less time than it has runs
        return here, elsewhere / max(1, hi - lo, self.occupied - 1)


def weigh(
    line: int,
    key: str,
    surprise: Surprise | None,
    severity: tuple[str, str] | None,
    tally: FileTally,
    rule: EvidenceRule,
    *,
    overstated: bool = False,
    unusual: Unusual | None = None,
    rare_is_common: bool = False,
) -> list[Evidence]:
    """Every piece of evidence about one line, strongest first (`overstated`: the file's level field says ERROR
    or worse on many of its lines, see `EvidenceRule.overstated`; `rare_is_common`: so many of the file's records
    are of rare templates that rarity says nothing, see `EvidenceRule.rare_common_share`)."""
    found: list[Evidence] = []
    if surprise is not None:
        if surprise.unseen:
            found.append(Evidence("novel", rule.novel, "template never seen in the detector's history"))
        elif surprise.pretrained:
            found.append(Evidence("sequence", rule.pretrained, f"{surprise.detail} (pretrained model)"))
        else:
            found.append(Evidence("sequence", rule.sequence, surprise.detail))
    if rule.kind == "topk":
        return found
    count, active, busy = tally.counts.get(key, 0), tally.active.get(key, 0), tally.occupied
    if severity is not None:
        level, how = severity
        if level == "WARN" or how.startswith("words in"):
            weight = rule.warning
        elif active >= max(rule.routine_buckets, rule.routine_share * busy):
            weight, how = rule.warning, f"{how}, routine: in {active} of {busy:,} {tally.unit_plural()}"
        elif not how.startswith("level field"):  # words only: a kernel's `BUG:` or `ALERT` flags alone, `failed` not
            weight = rule.critical if level == "CRITICAL" else rule.words
        elif overstated and how == "level field":
            weight, how = rule.overstated, f"{how}, which says ERROR or worse on many lines of this file"
        else:
            weight = rule.critical if level == "CRITICAL" else rule.error
        found.append(Evidence("severity", weight, f"{level} ({how})"))
    if 0 < count <= rule.rare_count(tally.lines):
        weight, why = (rule.rare_weak, ", as are most of this file's") if rare_is_common else (rule.rare, "")
        found.append(Evidence("rare", weight, f"template in {count} of {tally.lines:,} lines{why}"))
    elif not rare_is_common and busy >= 100 and tally.lines >= 3 * busy and 0 < active <= rule.rare_time_share * busy:
        found.append(
            Evidence("rare", rule.rare, f"template only in {active} of the {busy:,} {tally.unit_plural()} with lines")
        )
    if unusual is not None and unusual.z >= rule.unusual_z:
        weight = rule.unusual_strong if unusual.z >= rule.unusual_strong_z else rule.unusual
        found.append(Evidence("unusual", weight, unusual.detail))
    if 0 < line <= tally.lines:
        here, usual = tally.in_bucket(line, key)
        if here >= rule.burst_min and here >= rule.burst_ratio * usual:
            found.append(Evidence("burst", rule.burst, f"{here} in {tally.unit()} (usually {usual:.2g})"))
    return sorted(found, key=lambda e: -e.weight)


@dataclass(frozen=True)
class Incident:
    """Flags close together, reported once."""

    first: int
    last: int
    lines: int  # flagged lines in it
    templates: tuple[str, ...]  # distinct, in order of first appearance (at most 5)
    why: str  # evidence kinds and how many lines showed each

    def to_json(self) -> dict[str, object]:
        return {"first": self.first, "last": self.last, "lines": self.lines, "templates": list(self.templates),
                "why": self.why}  # fmt: skip


class Flagged(Protocol):
    """What incidents are made of (`engine.detect.pipeline.Flag`)."""

    line: int
    template: str
    evidence: tuple[Evidence, ...]


def incidents(flags: Sequence[Flagged], gap: int = EvidenceRule.incident_gap) -> list[Incident]:
    """Group flags, in line order, into incidents of flags at most `gap` lines apart."""
    groups: list[list[Flagged]] = []
    for flag in flags:
        if groups and flag.line - groups[-1][-1].line <= gap:
            groups[-1].append(flag)
        else:
            groups.append([flag])
    found = []
    for group in groups:
        templates = tuple(dict.fromkeys(f.template for f in group))[:5]
        kinds = Counter(e.kind for f in group for e in f.evidence)
        why = ", ".join(f"{kind} ×{n}" for kind, n in kinds.most_common())
        found.append(Incident(group[0].line, group[-1].line, len(group), templates, why))
    return found
