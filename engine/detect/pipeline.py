"""The one detection recipe: mine → sessions → load-or-self-train → judge → flags.

`logpt detect`, `logpt train detector`, `logpt eval detector --dataset
hdfs-raw` and the explorer all go through here, so the same file with the
same detector gets the same flags (a test runs the explorer and the CLI side
by side).

`DetectionPipeline.prepare` detects nothing itself: it takes the format, the
history lines and, when there is one, a detector bundle (its miner state and
session rule come with it); otherwise it self-trains on the history
(`engine.detect.history`), and where the history is too short for that, the
pretrained sequence model given (`engine.detect.textseq`) judges the order of
lines instead. `SessionBook` then takes lines in file order, in as
many blocks as the caller likes (the explorer: while it indexes and as the
file grows), mines them into sessions and scores what changed: a grown
session is rescored only from where its windows change
(`engine.detect.scoring.rescore_from`), so judging block by block gives
exactly the flags of judging the whole file at once.
"""

from __future__ import annotations

import sys
from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from engine.detect.columns import IntColumn, KeyColumn, KeyTable
from engine.detect.detector import Detector, SessionVerdict, Verdict, verdict_surprise
from engine.detect.evidence import (
    Evidence,
    EvidenceRule,
    FileTally,
    Incident,
    Surprise,
    incidents,
    severity_of,
    states_error,
)
from engine.detect.fit import EpochReport
from engine.detect.history import HISTORY_LINES, DetectConfig, key_records, self_train
from engine.detect.scoring import rescore_from, suffix_start
from engine.detect.severe import SevereLines
from engine.detect.textseq import TextSeq
from engine.detect.unusual import LineLM, TextScore, Unusual, calibrate
from engine.detect.weighing import Weigher
from engine.errors import InputError
from engine.logs.formats import LogFormat, Record, parse_lines
from engine.logs.sessions import Session, SessionSpec, group_sessions
from engine.logs.templates import TemplateMiner
from engine.logs.templates.table import KeyedMiner

__all__ = ["HISTORY_LINES", "NO_HISTORY", "DetectConfig", "DetectionPipeline", "Flag", "SessionBook", "surprise_at"]

NO_HISTORY = "no sequence model: too little history"  # the source when self-training had too little to learn from
# Keys one model pass reads at most. While scored, a key costs ~90 bytes (its str in the part, its id, its scores and
# top-3 expected ids, the copy with END; tracemalloc, docs/benchmarks.md): ~6 MB a pass, however long the session.
PASS_KEYS = 1 << 16


@dataclass(frozen=True, slots=True)  # a big file has tens of thousands, built again after each part
class Flag:
    """Why a line was flagged: its evidence, strongest first (see `engine.detect.evidence`)."""

    line: int  # 1-based
    session: str  # the session whose sequence flagged it ("" when no sequence evidence)
    template: str
    reason: str  # the evidence in words, strongest first
    expected: tuple[str, ...]  # the templates the model expected most (sequence evidence only)
    evidence: tuple[Evidence, ...] = ()
    score: float = 0.0  # the evidence's weights added
    key: str = ""  # the line's template key, as the miner numbered it (the explorer's Templates view shows it)

    def to_json(self) -> dict[str, object]:
        return {"line": self.line, "session": self.session, "template": self.template, "reason": self.reason,
                "score": self.score, "expected": list(self.expected),
                "evidence": [e.to_json() for e in self.evidence]}  # fmt: skip


def pretrained_source(sequence: TextSeq) -> str:
    """The source when the pretrained sequence model judges a file too short to self-train on (a status bar's
    words: the explorer shows `N flagged (pretrained logpt-sequence · line model)`)."""
    return f"pretrained {sequence.name}"


@dataclass
class DetectionPipeline:
    """A format, a template miner, a session rule and a detector that belong together.

    `detector` is None when the history was too short to learn from: then `sequence`, a model pretrained
    across systems on template text (engine.detect.textseq), gives the sequence evidence if there is one;
    severity, bursts, rarity and unusual text flag lines either way.
    """

    fmt: LogFormat
    miner: TemplateMiner | KeyedMiner
    spec: SessionSpec
    detector: Detector | None
    source: str  # "bundle", "cached", "self-trained" or NO_HISTORY: what the status line says
    rule: EvidenceRule = EvidenceRule()
    line_lm: LineLM | None = None  # the general log language model behind `unusual` evidence (none: no such evidence)
    sequence: TextSeq | None = None  # the pretrained sequence model, used only when `detector` is None

    @classmethod
    def prepare(
        cls,
        history: Sequence[str],
        fmt: LogFormat,
        *,
        detector: Detector | None = None,
        source: str = "bundle",
        config: DetectConfig = DetectConfig(),
        trained_on: str = "the file's own history (self-training)",
        on_stage: Callable[[str], None] = lambda _s: None,
        on_epoch: Callable[[EpochReport], None] | None = None,
        line_lm: LineLM | None = None,
        sequence: TextSeq | None = None,
    ) -> DetectionPipeline:
        """With `detector`, its miner and session rule; without, one self-trained on `history` if it is long enough,
        else `sequence` (pretrained, engine.detect.textseq) judges the order of lines, if given.
        `line_lm` (engine.detect.unusual) reads every template's text for `unusual` evidence, history or not."""
        if detector is None:
            try:
                detector = self_train(history[: config.history_lines], fmt, config, trained_on=trained_on,
                                      on_stage=on_stage, on_epoch=on_epoch)  # fmt: skip
                source = "self-trained"
            except InputError:
                if config.rule.kind == "topk":
                    raise  # the pure top-K rule has nothing to go on
                source = NO_HISTORY if sequence is None else pretrained_source(sequence)
        state = detector.miner_state if detector is not None else None
        miner = TemplateMiner.from_state(state) if state else TemplateMiner()
        if detector is not None and detector.key_table:
            miner = KeyedMiner(detector.key_table, miner)
        spec = config.session or (detector.session if detector else None) or SessionSpec.default_for(fmt.name)
        return cls(fmt, miner, spec, detector, source, config.rule, line_lm, sequence if detector is None else None)

    def book(self, *, keep_verdicts: bool = False) -> SessionBook:
        return SessionBook(self, keep_verdicts=keep_verdicts)

    def judge(self, lines: Sequence[str], *, keep_verdicts: bool = False) -> SessionBook:
        """A whole file judged at once (the CLI); the explorer feeds a book block by block instead."""
        book = self.book(keep_verdicts=keep_verdicts)
        book.add(lines, 1)
        book.finish()
        book.score()
        return book

    def templates(self) -> dict[str, str]:
        known = self.detector.templates if self.detector is not None else {}
        return {str(t.key): t.text for t in self.miner.templates()} | known


class SessionBook:
    """The sessions of one file so far, what the sequence model said about them, and the counts the other
    evidence needs; which sessions changed since they were scored."""

    def __init__(self, pipeline: DetectionPipeline, *, keep_verdicts: bool = False) -> None:
        self.pipeline = pipeline
        self.keep_verdicts = keep_verdicts
        self.sessions: dict[str, Session] = {}  # in order of first appearance
        self.keys = KeyTable()  # the distinct keys, which the sessions' key columns hold by index
        self.scored: dict[str, int] = {}  # session id → positions scored (EOS included)
        self.dirty: dict[str, None] = {}  # sessions with keys not yet scored, in order
        self.surprises_of: dict[str, dict[int, Surprise]] = {}  # session id → position → outside the top-K
        self.severe = SevereLines()  # 1-based line → (key, severity) for WARN and worse
        self.tally = FileTally()
        self.verdicts: dict[str, list[Verdict]] = {}  # only with keep_verdicts
        self.text_scores: dict[str, TextScore] = {}  # template text → the line model's score of it
        self.lines = 0  # lines taken so far, the held-back record's included
        self.held: list[str] = []  # the last record's lines, not yet mined: its continuation may come next
        self.held_keys: list[str] = []  # their keys where `add` was given them ("" where not)

    def add(self, lines: Sequence[str], first_line: int, keys: Sequence[str] | None = None) -> None:
        """Take the next lines of the file: 1-based `first_line` is the line after the last one taken (or a later
        one, where a flood skipped lines). `keys`: each line's key as this book's miner gave it already (the
        explorer's Templates view mined them first): records on those lines are not mined again.

        The last record is held back, unmined, until later lines show where it ends (a new record starts)
        or `finish` says the file ends there: a block may cut a stack trace anywhere, and its continuation
        lines must join it as they do when the whole file is parsed at once. So blocks of any size give the
        records, keys and flags of the whole file.
        """
        assert first_line > self.lines, f"line {first_line} was taken already ({self.lines} lines so far)"
        if first_line > self.lines + 1:  # lines were skipped: the held record cannot continue
            self.finish()
        if not lines:
            return
        start, text = first_line - len(self.held), [*self.held, *lines] if self.held else lines
        given = [*self.held_keys, *(keys or [""] * len(lines))] if keys or any(self.held_keys) else None
        records = list(parse_lines(text, self.pipeline.fmt, first_line=start))
        last = records.pop()  # a record starts with it, as in the whole file: the parse restarts there next time
        self.held, self.held_keys = list(text[last.line - start :]), given[last.line - start :] if given else []
        self.lines = first_line - 1 + len(lines)
        self._take(self._keyed(records, given, start))

    def finish(self) -> None:
        """The file ends here (for now): mine the held-back record. `judge` calls it after the whole file; the
        explorer when it has read to the end of the file."""
        if self.held:
            (held, given), self.held, self.held_keys = (self.held, self.held_keys), [], []
            start = self.lines - len(held) + 1
            self._take(self._keyed(list(parse_lines(held, self.pipeline.fmt, first_line=start)), given, start))

    def _keyed(self, records: list[Record], given: Sequence[str] | None, start: int) -> list[tuple[Record, str]]:
        """Records with their keys: the one `given` for the record's first line (1-based `start` is given[0]'s),
        else the miner's."""
        if not given:
            return key_records(records, self.pipeline.miner)
        miner = self.pipeline.miner
        return [(r, sys.intern(given[r.line - start] or str(miner.add(r.message)))) for r in records]

    def _take(self, keyed: list[tuple[Record, str]]) -> None:
        """Records mined in file order into their sessions, the tally and the severe lines."""
        for part in group_sessions(keyed, self.pipeline.spec):
            session = self.sessions.get(part.id)
            if session is None:  # compact columns in chunks: 8 bytes a line, never reallocated (engine.detect.columns)
                session = self.sessions[part.id] = Session(part.id, KeyColumn(table=self.keys), IntColumn())  # type: ignore[arg-type]
            session.keys.extend(part.keys)
            session.lines.extend(part.lines)
            self.dirty[part.id] = None
        self.tally.add(keyed)
        for record, key in keyed:
            if (severity := severity_of(record)) is not None:
                self.severe.add(record.line, key, severity)

    def pending(self) -> list[str]:
        """Sessions with keys not yet scored, in order of first appearance."""
        return list(self.dirty)

    def score(self, only: Iterable[str] | None = None, *, batch_size: int = 64, until_line: int | None = None) -> None:
        """Score the pending sessions (or those of `only` that are pending) from where they changed.

        `until_line`: only each session's keys on lines up to it (1-based); a session with later keys is scored
        that far, as if it ended there, and stays pending: the rest is scored from where that part changes, as
        for a session that grew (a file of one long session is scored in parts, with flags in between)."""
        ids = [s for s in (self.pending() if only is None else only) if s in self.dirty]
        detector = self.pipeline.detector
        if detector is None:  # no sequence model of the file's own: the pretrained one, if any
            if ids and self.pipeline.sequence is not None:
                self._score_pretrained(self.pipeline.sequence)
            for sid in ids:
                self.dirty.pop(sid, None)
            return
        ends = {s: self._scored_end(s, until_line, detector.complete) for s in ids}
        ids = [s for s in ids if ends[s] is not None]
        block = detector.model.config.block_size
        while ids:  # in passes of at most PASS_KEYS keys: a long session's rest is the next pass's
            taken, ids = self._next_pass(ids, ends, block)
            self._score_pass(taken, batch_size, block)

    def _next_pass(
        self, ids: list[str], ends: Mapping[str, int | None], block: int
    ) -> tuple[dict[str, int], list[str]]:
        """The sessions one model pass scores, each with how far (its keys' end): the keys it reads (from a window
        start before the first changed position) add up to about PASS_KEYS; a part past that is cut there, as an
        `until_line` part is, and the sessions left (that one first) are for the next pass."""
        taken: dict[str, int] = {}
        room = PASS_KEYS
        for n, sid in enumerate(ids):
            end = ends[sid]
            assert end is not None
            cut = suffix_start(rescore_from(self.scored.get(sid, 0), block), block)
            taken[sid] = min(end, cut + max(room, 2 * block))  # 2 blocks: past the part's first changed position
            room -= taken[sid] - cut
            if taken[sid] < end:
                return taken, ids[n:]
            if room <= 0:
                return taken, ids[n + 1 :]
        return taken, []

    def _score_pass(self, ends: Mapping[str, int], batch_size: int, block: int) -> None:
        """Score each session of `ends` up to its end there (a session whose end is its last key is scored whole)."""
        detector = self.pipeline.detector
        assert detector is not None
        ids = list(ends)
        first = [rescore_from(self.scored.get(s, 0), block) for s in ids]
        # Only the keys from a window start a block before `first` are read: a session grown to millions of keys
        # is scored from near its end without encoding (or holding scores for) the positions before.
        cut = [suffix_start(f, block) for f in first]
        parts = [self.sessions[s].keys[c : ends[s]] for s, c in zip(ids, cut, strict=True)]
        need = [f - c for f, c in zip(first, cut, strict=True)]  # `first` in the parts' positions
        if self.keep_verdicts:
            verdicts = detector.judge(parts, batch_size=batch_size, first=need)
            for sid, start, c, verdict in zip(ids, first, cut, verdicts, strict=True):
                self.verdicts[sid] = self.verdicts.get(sid, [])[:start] + verdict.positions[start - c :]
            found = [(len(v.positions), {i: p for i, p in enumerate(v.positions) if p.flagged}) for v in verdicts]
        else:  # the explorer: only flagged positions are built
            found = detector.outliers(parts, batch_size=batch_size, first=need)
        for sid, start, c, (length, flagged) in zip(ids, first, cut, found, strict=True):
            session, end = self.sessions[sid], ends[sid]
            surprises = {p: f for p, f in self.surprises_of.get(sid, {}).items() if p < start}
            whole = end == len(session.keys)  # else a part: its end (EOS) is not the session's
            surprises.update((c + i, surprise_at(session, c + i, v)) for i, v in flagged.items()
                             if start <= c + i and (whole or c + i < end))  # fmt: skip
            self.surprises_of[sid], self.scored[sid] = surprises, c + length
            if whole:
                del self.dirty[sid]

    def _scored_end(self, sid: str, until_line: int | None, complete: bool) -> int | None:
        """How many of a pending session's keys are on lines up to `until_line` (all: None); None when that part
        is scored already."""
        session = self.sessions[sid]
        if until_line is None or session.lines[-1] <= until_line:
            return len(session.keys)
        n = bisect_right(session.lines, until_line)
        return n if n > max(0, self.scored.get(sid, 0) - complete) else None

    def _score_pretrained(self, sequence: TextSeq) -> None:
        """Every session again, against the file's templates as they read now: the candidates are all of the file's
        templates and mining may have widened any of them, so a file judged block by block ends with the flags of
        the whole file judged at once. Only short files get here (longer ones self-train), so this stays cheap."""
        ids = list(self.sessions)
        keys = [self.sessions[s].keys for s in ids]
        if self.keep_verdicts:
            verdicts = sequence.judge(keys, self.pipeline.templates())
            self.verdicts.update((sid, v.positions) for sid, v in zip(ids, verdicts, strict=True))
            found = [(len(v.positions), {i: p for i, p in enumerate(v.positions) if p.flagged}) for v in verdicts]
        else:
            found = sequence.outliers(keys, self.pipeline.templates())
        for sid, (length, flagged) in zip(ids, found, strict=True):
            session = self.sessions[sid]
            self.surprises_of[sid] = {i: surprise_at(session, i, v, pretrained=True) for i, v in flagged.items()}
            self.scored[sid] = length
        self.dirty.clear()

    def unusual(self, templates: Mapping[str, str] | None = None) -> dict[str, Unusual]:
        """Every template's unusual-text score against this file's templates (engine.detect.unusual); empty
        without a line model. A template's text is scored once (again only when mining widens it).
        `templates`: the pipeline's key → text, when the caller has it already."""
        line_lm = self.pipeline.line_lm
        if line_lm is None or not self.tally.counts:
            return {}
        templates = self.pipeline.templates() if templates is None else templates
        texts = {key: templates.get(key, key) for key in self.tally.counts}
        new = list(dict.fromkeys(t for t in texts.values() if t not in self.text_scores))
        if new:
            self.text_scores.update(zip(new, line_lm.score(new), strict=True))
        return calibrate({key: self.text_scores[text] for key, text in texts.items()})

    def flags(self) -> list[Flag]:
        """The lines the rule flags, by line, each with its evidence (the first session's surprise, if any).

        A line without a surprise is weighed once per (key, severity, bucket run): nothing else of the line
        counts then (`weigh` reads the line only for its run's burst count), and most candidates of a big file
        are such lines (WARN and worse). Candidates come in line order and runs rise with lines, so one run's
        weighings are kept at a time."""
        surprises: dict[int, Surprise] = {}
        for found in self.surprises_of.values():
            for surprise in found.values():
                surprises.setdefault(surprise.line, surprise)
        rule, tally, templates = self.pipeline.rule, self.tally, self.pipeline.templates()
        unusual = self.unusual(templates) if rule.kind == "combined" else {}
        keys_of = tally.records_of([key for key, found in unusual.items() if found.z >= rule.unusual_z])
        others = sorted(surprises.keys() | keys_of.keys())
        if rule.kind == "combined":
            candidates = self.severe.union(others)
        else:
            candidates = ((line, self.severe.get(line)) for line in others)
        weighed = Weigher(tally, rule, unusual, self.levels_overstated(), self.rare_is_common())
        flags = []
        for line, entry in candidates:
            surprise = surprises.get(line)
            key, severity = entry or (surprise.key if surprise else keys_of.get(line, ""), None)
            evidence, score, reason = weighed(line, key, surprise, severity)
            if reason:  # the weigher gives a reason exactly where the rule flags the evidence
                expected = tuple(templates.get(k, k) for k in surprise.expected[:3]) if surprise else ()
                flags.append(Flag(line, surprise.session if surprise else "", templates.get(key, key), reason, expected,
                                  evidence, score, key))  # fmt: skip
        return flags

    def levels_overstated(self) -> bool:
        """Whether this file's level field says ERROR or worse on so many lines that it over-states (the rule's)."""
        severe = sum(n for (_, severity), n in self.severe.counts().items() if states_error(severity))
        return self.pipeline.rule.overstates(severe, self.tally.lines)

    def rare_is_common(self) -> bool:
        """Whether so many of this file's records are of rare templates that rarity says nothing (the rule's)."""
        return self.pipeline.rule.rare_is_common(list(self.tally.counts.values()), self.tally.lines)

    def incidents(self, flags: Sequence[Flag] | None = None) -> list[Incident]:
        """The flags grouped into incidents (flags close together reported once)."""
        return incidents(self.flags() if flags is None else flags, self.pipeline.rule.incident_gap)

    def session_verdicts(self) -> list[tuple[Session, SessionVerdict]]:
        """Every scored session with its verdict (needs keep_verdicts)."""
        assert self.keep_verdicts, "SessionBook(keep_verdicts=True) keeps verdicts"
        return [(s, SessionVerdict(self.verdicts[s.id], verdict_surprise(self.verdicts[s.id])))
                for s in self.sessions.values() if s.id in self.verdicts]  # fmt: skip


def surprise_at(session: Session, i: int, v: Verdict, *, pretrained: bool = False) -> Surprise:
    """The surprise of position i of a session (the verdict of a key outside the top-K, or of its end);
    `pretrained`: the pretrained sequence model's verdict, whose candidates are the file's templates."""
    if i >= len(session.lines):  # the EOS position: the session stopped before it was expected to
        return Surprise(session.lines[-1], session.id, session.keys[-1], "session ended early", False, v.expected)
    of = "the file's templates" if pretrained else "the expected templates"
    detail = "unseen template" if v.unseen else f"rank {v.rank + 1} of {of}, p={v.prob:.2g}"
    return Surprise(session.lines[i], session.id, v.key, detail, v.unseen, v.expected, pretrained)
