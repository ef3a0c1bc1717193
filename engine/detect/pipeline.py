"""The one detection recipe: mine → sessions → load-or-self-train → judge → flags.

`logpt detect`, `logpt train detector`, `logpt eval detector --dataset
hdfs-raw` and the explorer all go through here, so the same file with the
same detector gets the same flags (a test runs the explorer and the CLI side
by side).

`DetectionPipeline.prepare` detects nothing itself: it takes the format, the
history lines and, when there is one, a detector bundle (its miner state and
session rule come with it); otherwise it self-trains on the history
(`engine.detect.fit`). `SessionBook` then takes lines in file order, in as
many blocks as the caller likes (the explorer: while it indexes and as the
file grows), mines them into sessions and scores what changed: a grown
session is rescored only from where its windows change
(`engine.detect.scoring.rescore_from`), so judging block by block gives
exactly the flags of judging the whole file at once.
"""

from __future__ import annotations

import sys
from array import array
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from engine.detect.detector import Detector, SessionVerdict, Verdict, verdict_surprise
from engine.detect.fit import DetectorTrainConfig, EpochReport, fit_detector
from engine.detect.scoring import rescore_from
from engine.errors import InputError
from engine.logs.formats import LogFormat, Record, parse_lines
from engine.logs.sessions import Session, SessionSpec, group_sessions
from engine.logs.templates import TemplateMiner

HISTORY_LINES = 200_000  # self-training learns from the file's first lines at most
MIN_SESSIONS = 10  # fewer than this: too little history to learn what is normal
WINDOW = 20  # keys per window when the format's own sessions are too few (one per component)


@dataclass(frozen=True)
class DetectConfig:
    session: SessionSpec | None = None  # None: the detector's own rule, else the format's default
    epochs: int = 8  # self-training epochs at most (early stopping on held-out sessions)
    target_fpr: float = 0.001  # share of held-out sessions the self-trained rule may flag
    history_lines: int = HISTORY_LINES


@dataclass(frozen=True)
class Flag:
    """Why a line was flagged."""

    line: int  # 1-based
    session: str
    template: str
    reason: str  # "unseen template", "rank 7, p=0.0012" or "session ended early"
    expected: tuple[str, ...]  # the templates the model expected most


def mine(lines: Sequence[str], fmt: LogFormat, miner: TemplateMiner, first_line: int = 1) -> list[tuple[Record, str]]:
    """(record, template key) for each record of consecutive lines; the miner learns as it goes.

    Keys are interned: a file's sessions hold one key string per line, all of them copies of a few hundred.
    """
    return [(r, sys.intern(str(miner.add(r.message)))) for r in parse_lines(lines, fmt, first_line=first_line)]


def mine_sessions(lines: Sequence[str], fmt: LogFormat, spec: SessionSpec, miner: TemplateMiner) -> list[Session]:
    """The sessions of a whole file: its records mined in order and grouped by `spec`."""
    return group_sessions(mine(lines, fmt, miner), spec)


def history_sessions(
    keyed: Sequence[tuple[Record, str]], fmt: LogFormat, spec: SessionSpec | None
) -> tuple[SessionSpec, list[Session]]:
    """Sessions to learn from: `spec`'s, or the format's default, or windows when the default gives too few."""
    chosen = spec or SessionSpec.default_for(fmt.name)
    sessions = group_sessions(keyed, chosen)
    if spec is None and len(sessions) < MIN_SESSIONS:  # a few long sessions (one per component): windows learn better
        chosen = SessionSpec("window", size=WINDOW)
        sessions = group_sessions(keyed, chosen)
    if len(sessions) < MIN_SESSIONS:
        raise InputError(
            f"only {len(sessions)} sessions: too few to learn what is normal",
            "use --session window:N with a smaller N, or a longer log",
        )
    return chosen, sessions


def self_train(
    history: Sequence[str],
    fmt: LogFormat,
    config: DetectConfig,
    *,
    trained_on: str,
    on_stage: Callable[[str], None] = lambda _s: None,
    on_epoch: Callable[[EpochReport], None] | None = None,
) -> Detector:
    """A detector trained on the file's own history (assumed mostly normal), its miner state included."""
    on_stage("mining templates")
    miner = TemplateMiner()
    spec, sessions = history_sessions(mine(history, fmt, miner), fmt, config.session)
    on_stage("self-training")
    detector = fit_sessions([s.keys for s in sessions], config, complete=spec.kind == "id", trained_on=trained_on,
                            on_epoch=on_epoch)  # fmt: skip
    detector.templates = {str(t.key): t.text for t in miner.templates()}
    detector.session, detector.miner_state = spec, miner.to_state()
    return detector


def fit_sessions(
    sessions: Sequence[Sequence[str]],
    config: DetectConfig,
    *,
    complete: bool,
    trained_on: str,
    on_epoch: Callable[[EpochReport], None] | None = None,
) -> Detector:
    """A detector fitted on sessions of template keys (mined here, or pre-parsed like DeepLog's HDFS)."""
    if len(sessions) < MIN_SESSIONS:
        raise InputError(f"only {len(sessions)} sessions", f"a detector needs at least {MIN_SESSIONS} sessions")
    model, vocab, topk = fit_detector(
        sessions, DetectorTrainConfig(epochs=config.epochs), complete=complete, target_fpr=config.target_fpr,
        on_epoch=on_epoch,
    )  # fmt: skip
    provenance = {"trained_on": trained_on, "sessions": len(sessions), "epochs_max": config.epochs,
                  "target_fpr": config.target_fpr}  # fmt: skip
    return Detector(model, vocab, topk, provenance=provenance, complete=complete)


@dataclass
class DetectionPipeline:
    """A format, a template miner, a session rule and a detector that belong together."""

    fmt: LogFormat
    miner: TemplateMiner
    spec: SessionSpec
    detector: Detector
    source: str  # "bundle", "cached" or "self-trained": what the status line says

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
    ) -> DetectionPipeline:
        """With `detector`, its miner and session rule; without, one self-trained on `history`."""
        if detector is None:
            limit = history[: config.history_lines]
            detector = self_train(limit, fmt, config, trained_on=trained_on, on_stage=on_stage, on_epoch=on_epoch)
            source = "self-trained"
        state = detector.miner_state
        miner = TemplateMiner.from_state(state) if state else TemplateMiner()
        spec = config.session or detector.session or SessionSpec.default_for(fmt.name)
        return cls(fmt, miner, spec, detector, source)

    def book(self, *, keep_verdicts: bool = False) -> SessionBook:
        return SessionBook(self, keep_verdicts=keep_verdicts)

    def judge(self, lines: Sequence[str], *, keep_verdicts: bool = False) -> SessionBook:
        """A whole file judged at once (the CLI); the explorer feeds a book block by block instead."""
        book = self.book(keep_verdicts=keep_verdicts)
        book.add(lines, 1)
        book.score()
        return book

    def templates(self) -> dict[str, str]:
        return {str(t.key): t.text for t in self.miner.templates()} | self.detector.templates


class SessionBook:
    """The sessions of one file so far, their flags, and which sessions changed since they were scored."""

    def __init__(self, pipeline: DetectionPipeline, *, keep_verdicts: bool = False) -> None:
        self.pipeline = pipeline
        self.keep_verdicts = keep_verdicts
        self.sessions: dict[str, Session] = {}  # in order of first appearance
        self.records: dict[int, Record] = {}  # 1-based line → record, only with keep_verdicts (the CLI prints them)
        self.scored: dict[str, int] = {}  # session id → positions scored (EOS included)
        self.dirty: dict[str, None] = {}  # sessions with keys not yet scored, in order
        self.flags_of: dict[str, dict[int, Flag]] = {}  # session id → position → flag
        self.verdicts: dict[str, list[Verdict]] = {}  # only with keep_verdicts
        self.lines = 0  # lines taken so far
        self._keys = 0  # keys taken so far (window sessions continue across blocks)

    def add(self, lines: Sequence[str], first_line: int) -> None:
        """Mine the next lines of the file (1-based `first_line` = the line after the last one added)."""
        keyed = mine(lines, self.pipeline.fmt, self.pipeline.miner, first_line)
        for part in group_sessions(keyed, self.pipeline.spec, keys_before=self._keys):
            session = self.sessions.get(part.id)
            if session is None:  # line numbers in a compact array: 8 bytes a line, not a list of int objects
                session = self.sessions[part.id] = Session(part.id, [], array("q"))  # type: ignore[arg-type]
            session.keys.extend(part.keys)
            session.lines.extend(part.lines)
            self.dirty[part.id] = None
        self._keys += len(keyed)
        if self.keep_verdicts:
            self.records.update((r.line, r) for r, _ in keyed)
        self.lines = first_line - 1 + len(lines)

    def pending(self) -> list[str]:
        """Sessions with keys not yet scored, in order of first appearance."""
        return list(self.dirty)

    def score(self, only: Iterable[str] | None = None, *, batch_size: int = 64) -> None:
        """Score the pending sessions (or those of `only` that are pending) from where they changed."""
        ids = [s for s in (self.pending() if only is None else only) if s in self.dirty]
        if not ids:
            return
        detector = self.pipeline.detector
        block = detector.model.config.block_size
        first = [rescore_from(self.scored.get(s, 0), block) for s in ids]
        verdicts = detector.judge([self.sessions[s].keys for s in ids], batch_size=batch_size, first=first)
        templates = self.pipeline.templates()
        for sid, start, verdict in zip(ids, first, verdicts, strict=True):
            self._apply(self.sessions[sid], start, verdict, templates)
            del self.dirty[sid]

    def _apply(self, session: Session, start: int, verdict: SessionVerdict, templates: dict[str, str]) -> None:
        flags = {p: f for p, f in self.flags_of.get(session.id, {}).items() if p < start}
        for i, v in enumerate(verdict.positions[start:], start):
            if v.flagged:
                flags[i] = _flag(session, i, v, templates)
        self.flags_of[session.id] = flags
        self.scored[session.id] = len(verdict.positions)
        if self.keep_verdicts:
            self.verdicts[session.id] = self.verdicts.get(session.id, [])[:start] + verdict.positions[start:]

    def flags(self) -> list[Flag]:
        """One flag per line (the first session's, in order of first appearance), by line."""
        by_line: dict[int, Flag] = {}
        for flags in self.flags_of.values():
            for flag in flags.values():
                by_line.setdefault(flag.line, flag)
        return [by_line[line] for line in sorted(by_line)]

    def session_verdicts(self) -> list[tuple[Session, SessionVerdict]]:
        """Every scored session with its verdict (needs keep_verdicts)."""
        assert self.keep_verdicts, "SessionBook(keep_verdicts=True) keeps verdicts"
        return [(s, SessionVerdict(self.verdicts[s.id], verdict_surprise(self.verdicts[s.id])))
                for s in self.sessions.values() if s.id in self.verdicts]  # fmt: skip


def _flag(session: Session, i: int, v: Verdict, templates: dict[str, str]) -> Flag:
    if i >= len(session.lines):  # the EOS position: the session stopped before it was expected to
        template = templates.get(session.keys[-1], session.keys[-1])
        return Flag(session.lines[-1], session.id, template, "session ended early", _expected(v, templates))
    reason = "unseen template" if v.unseen else f"rank {v.rank + 1}, p={v.prob:.2g}"
    return Flag(session.lines[i], session.id, templates.get(v.key, v.key), reason, _expected(v, templates))


def _expected(v: Verdict, templates: dict[str, str]) -> tuple[str, ...]:
    return tuple(templates.get(k, k) for k in v.expected[:3])
