"""Anomaly flags for the explorer: a detector for this file, and a verdict per line.

`FlagEngine.prepare(lines)` detects the format, mines templates and forms
sessions, then loads the detector cached for this file (keyed by its resolved
path in the user cache dir) or, when there is none, trains one on the file's
own history and caches it. `FlagEngine.judge(lines, first)` returns the
flagged lines of a block with why they were flagged. Runs in worker threads;
torch and the training code load there, never when the explorer opens.
"""

from __future__ import annotations

import contextlib
import hashlib
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from engine.errors import InputError
from engine.logs.formats import detect_format, parse_lines
from engine.logs.formats.spec import LogFormat
from engine.logs.sessions import SessionSpec, group_sessions
from engine.logs.templates import TemplateMiner

TRAIN_LINES = 200_000  # history used for self-training at most (the file's start)
SELF_TRAIN_EPOCHS = 8
WINDOW = 20  # keys per session when the format has no session ids and too few components


@dataclass(frozen=True)
class Flag:
    """Why a line was flagged."""

    line: int  # 1-based
    template: str
    reason: str  # "unseen template" or "rank 7, p=0.0012"
    expected: tuple[str, ...]  # the templates the model expected most


class FlagSet:
    """The flags found so far in one file: 0-based line → Flag, and the same lines in order."""

    def __init__(self) -> None:
        self.by_line: dict[int, Flag] = {}
        self.lines: list[int] = []  # ascending
        self.upto = 0  # lines judged
        self.version = 0  # bumped on every change, for views that cache what they drew

    def __len__(self) -> int:
        return len(self.lines)

    def __contains__(self, line: int) -> bool:
        return line in self.by_line

    def get(self, line: int) -> Flag | None:
        return self.by_line.get(line)

    def replace(self, first: int, stop: int, flags: Sequence[Flag]) -> None:
        """The verdicts for 1-based lines first..stop-1: earlier flags there are dropped."""
        for line in self.lines[bisect_left(self.lines, first - 1) : bisect_left(self.lines, stop - 1)]:
            del self.by_line[line]
        for flag in flags:
            self.by_line[flag.line - 1] = flag
        self.lines = sorted(self.by_line)
        self.upto = max(self.upto, stop - 1)
        self.version += 1

    def clear(self) -> None:
        self.by_line, self.lines, self.upto = {}, [], 0
        self.version += 1

    def step(self, line: int, step: int) -> int | None:
        """The next flagged line after `line` (step > 0) or the previous one before it, wrapping round."""
        if not self.lines:
            return None
        if step > 0:
            i = bisect_right(self.lines, line)
            return self.lines[i] if i < len(self.lines) else self.lines[0]
        i = bisect_left(self.lines, line)
        return self.lines[i - 1] if i > 0 else self.lines[-1]

    def count(self, start: int, stop: int) -> int:
        """Flagged lines in 0-based start..stop-1."""
        return bisect_left(self.lines, stop) - bisect_left(self.lines, start)


def cache_dir() -> Path:
    return Path(platformdirs.user_cache_dir("logpt")) / "detectors"


def cache_key(path: Path) -> str:
    return hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:16]


class FlagEngine:
    def __init__(self, path: Path, cache: Path | None = None) -> None:
        self.path = path
        self.cache = (cache or cache_dir()) / cache_key(path)
        self.fmt: LogFormat | None = None
        self.miner: TemplateMiner | None = None
        self.spec: SessionSpec | None = None
        self.detector = None
        self.source = ""  # "cached" or "self-trained"

    def prepare(self, lines: Sequence[str], on_progress: Callable[[str], None] = lambda _s: None) -> None:
        from engine.detect import Detector  # noqa: PLC0415 - torch loads here, in the worker

        history = lines[:TRAIN_LINES]
        self.fmt = detect_format(history).format
        if (self.cache / "config.json").is_file():
            on_progress("loading the cached detector")
            detector = Detector.load(self.cache)
            self.miner = TemplateMiner.from_state(detector.miner_state) if detector.miner_state else TemplateMiner()
            s = detector.sessions
            self.spec = SessionSpec(s["kind"], s.get("pattern"), int(s.get("size", 50))) if "kind" in s else None
            self.spec = self.spec or SessionSpec.default_for(self.fmt.name)
            self.detector, self.source = detector, "cached"
            return
        on_progress("mining templates")
        miner = TemplateMiner()
        records = list(parse_lines(history, self.fmt))
        keyed = [(r, str(miner.add(r.message))) for r in records]
        spec = SessionSpec.default_for(self.fmt.name)
        sessions = group_sessions(keyed, spec)
        if len(sessions) < 10:  # a few long sessions (one per component): windows of them learn better
            spec = SessionSpec("window", size=WINDOW)
            sessions = group_sessions(keyed, spec)
        if len(sessions) < 10:
            raise InputError(f"only {len(sessions)} sessions", "too little history to learn what is normal")
        from engine.detect.fit import DetectorTrainConfig, fit_detector  # noqa: PLC0415 - lazily, in the worker

        complete = spec.kind == "id"
        model, vocab, topk = fit_detector(
            [s.keys for s in sessions], DetectorTrainConfig(epochs=SELF_TRAIN_EPOCHS), complete=complete,
            on_epoch=lambda r: on_progress(f"self-training {r.epoch}/{SELF_TRAIN_EPOCHS}"),
        )  # fmt: skip
        detector = Detector(
            model, vocab, topk,
            templates={str(t.key): t.text for t in miner.templates()},
            provenance={"trained_on": f"{self.path} (self-training in the explorer)", "sessions": len(sessions)},
            sessions={"kind": spec.kind, "pattern": spec.pattern, "size": spec.size, "complete": complete},
            miner_state=miner.to_state(),
        )  # fmt: skip
        with contextlib.suppress(OSError):  # a read-only cache costs the next start a retraining, nothing else
            detector.save(self.cache)
        self.miner, self.spec, self.detector, self.source = miner, spec, detector, "self-trained"

    def judge(self, lines: Sequence[str], first: int) -> list[Flag]:
        """Flags for consecutive lines whose first is 1-based line `first`."""
        assert self.detector is not None and self.miner is not None and self.fmt is not None and self.spec
        records = list(parse_lines(lines, self.fmt, first_line=first))
        keyed = [(r, str(self.miner.add(r.message))) for r in records]
        sessions = group_sessions(keyed, self.spec)
        verdicts = self.detector.judge([s.keys for s in sessions])
        templates = {str(t.key): t.text for t in self.miner.templates()} | self.detector.templates
        flags = []
        for session, verdict in zip(sessions, verdicts, strict=True):
            for i, v in enumerate(verdict.positions):
                if v.flagged and i < len(session.lines):
                    reason = "unseen template" if v.unseen else f"rank {v.rank + 1}, p={v.prob:.2g}"
                    expected = tuple(templates.get(k, k) for k in v.expected[:3])
                    flags.append(Flag(session.lines[i], templates.get(v.key, v.key), reason, expected))
        return sorted(flags, key=lambda f: f.line)
