"""Learning what is normal from a file's own history: mining records into template keys, forming sessions,
and self-training a detector on them (engine.detect.fit).

`engine.detect.pipeline` calls `self_train` when it is given no detector; `logpt train detector` calls it and
`fit_sessions` directly. What this leaves out: judging lines (the pipeline's `SessionBook`).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from engine.detect.detector import Detector
from engine.detect.evidence import EvidenceRule
from engine.detect.fit import RULE_WINDOW, DetectorTrainConfig, EpochReport, fit_detector, fit_streams
from engine.errors import InputError
from engine.logs.formats import LogFormat, Record, parse_lines
from engine.logs.sessions import Session, SessionSpec, group_sessions
from engine.logs.templates import TemplateMiner
from engine.logs.templates.table import KeyedMiner

HISTORY_LINES = 200_000  # self-training learns from the file's first lines at most
MIN_SESSIONS = 10  # fewer than this: too little history to learn what is normal
WINDOW = 20  # keys per window when the format's own sessions are too few (one per component)


@dataclass(frozen=True)
class DetectConfig:
    session: SessionSpec | None = None  # None: the detector's own rule, else the format's default
    epochs: int = 8  # self-training epochs at most (early stopping on held-out sessions)
    target_fpr: float = 0.001  # share of held-out sessions the self-trained rule may flag
    history_lines: int = HISTORY_LINES
    rule: EvidenceRule = EvidenceRule()


def mine(lines: Sequence[str], fmt: LogFormat, miner: TemplateMiner, first_line: int = 1) -> list[tuple[Record, str]]:
    """(record, template key) for each record of consecutive lines; the miner learns as it goes.

    Keys are interned: a file's sessions hold one key string per line, all of them copies of a few hundred.
    """
    return key_records(parse_lines(lines, fmt, first_line=first_line), miner)


def key_records(records: Iterable[Record], miner: TemplateMiner | KeyedMiner) -> list[tuple[Record, str]]:
    """(record, template key) for each record, in order; the miner learns as it goes (keys interned, see `mine`)."""
    return [(r, sys.intern(str(miner.add(r.message)))) for r in records]


def mine_sessions(lines: Sequence[str], fmt: LogFormat, spec: SessionSpec, miner: TemplateMiner) -> list[Session]:
    """The sessions of a whole file: its records mined in order and grouped by `spec`."""
    return group_sessions(mine(lines, fmt, miner), spec)


def history_sessions(
    keyed: Sequence[tuple[Record, str]], fmt: LogFormat, spec: SessionSpec | None
) -> tuple[SessionSpec, list[Session]]:
    """Sessions to learn from: `spec`'s, or the format's default, or one stream when the default gives too few."""
    chosen = spec or SessionSpec.default_for(fmt.name)
    sessions = group_sessions(keyed, chosen)
    if spec is None and chosen.kind != "window" and len(sessions) < MIN_SESSIONS:
        chosen = SessionSpec("window", size=WINDOW)  # a few long sessions (one per component): the stream learns better
        sessions = group_sessions(keyed, chosen)
    count = sum(len(s.keys) for s in sessions) // chosen.size if chosen.kind == "window" else len(sessions)
    if count < MIN_SESSIONS:
        what = f"{count} windows of {chosen.size} keys" if chosen.kind == "window" else f"{count} sessions"
        raise InputError(f"only {what}: too little history to learn what is normal", "use a longer log")
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
    if spec.kind != "id":  # long streams: one per program, or the whole log
        window = spec.size if spec.kind == "window" else RULE_WINDOW
        model, vocab, topk = fit_streams([s.keys for s in sessions], DetectorTrainConfig(epochs=config.epochs),
                                         window=window, target_fpr=config.target_fpr, on_epoch=on_epoch)  # fmt: skip
        detector = Detector(model, vocab, topk, provenance=_provenance(trained_on, [s.keys for s in sessions], config),
                            complete=False)  # fmt: skip
    else:
        detector = fit_sessions([s.keys for s in sessions], config, complete=True, trained_on=trained_on,
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
    return Detector(model, vocab, topk, provenance=_provenance(trained_on, sessions, config), complete=complete)


def _provenance(trained_on: str, sessions: Sequence[Sequence[str]], config: DetectConfig) -> dict[str, object]:
    return {"trained_on": trained_on, "sessions": len(sessions), "keys": sum(len(s) for s in sessions),
            "epochs_max": config.epochs, "target_fpr": config.target_fpr}  # fmt: skip
