"""The anomaly detector: a small GPT over template keys, its vocabulary and its top-K rule.

A detector bundle is a folder like a generator bundle without a tokenizer:
`config.json` (kind "detector", the model config, the key vocabulary, the
top-K rule, how sessions are formed, template texts, provenance),
`model.safetensors`, and, for detectors trained on raw logs, `miner.json`:
the template miner's state, so the same messages get the same keys again.
A detector trained on keys parsed elsewhere (DeepLog's HDFS key numbers)
carries a `key_table` instead: key → template, matched before mining
(`engine.logs.templates.table`), so raw lines get the keys it was trained on.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from engine.detect.scoring import SequenceScores, TopK, score_sequences, session_surprise, surprise_of
from engine.detect.vocab import END, KeyVocab
from engine.errors import BundleError
from engine.lm.bundle import (
    CONFIG_FILE,
    FORMAT,
    FORMAT_VERSION,
    build_model,
    bundle_json,
    load_state,
    save_weights,
    write_atomically,
    write_config,
)
from engine.lm.config import GPTConfig
from engine.lm.devices import Placement
from engine.lm.model import GPT
from engine.logs.sessions import SessionSpec

MINER_FILE = "miner.json"


@dataclass(frozen=True)
class Verdict:
    """Why one key was (or was not) flagged."""

    key: str  # the actual template key
    flagged: bool
    unseen: bool  # the key never occurred in training
    rank: int  # 0 = the most expected
    prob: float
    expected: tuple[str, ...]  # the keys the model expected most


@dataclass(frozen=True)
class SessionVerdict:
    positions: list[Verdict]
    score: float  # −log p of the least likely key

    @property
    def flagged(self) -> bool:
        return any(v.flagged for v in self.positions)


def verdict_surprise(positions: Sequence[Verdict]) -> float:
    """`session_surprise` of verdicts (a session scored in parts, its verdicts merged)."""
    return surprise_of((v.prob for v in positions), (v.unseen for v in positions))


# Stands for positions a partial scoring skipped (`first`): never read, one shared object.
NOT_SCORED = Verdict("", flagged=False, unseen=False, rank=0, prob=1.0, expected=())


@dataclass
class Detector:
    model: GPT
    vocab: KeyVocab
    topk: TopK = TopK()
    templates: dict[str, str] = field(default_factory=dict)  # key → template text, when known
    provenance: dict[str, Any] = field(default_factory=dict)
    session: SessionSpec | None = None  # how the sessions it learned were formed (None: pre-grouped sessions)
    complete: bool = True  # sessions end with EOS, so a session that stops early is unexpected too
    miner_state: dict[str, Any] | None = None  # TemplateMiner.to_state() of the miner that made the keys
    key_table: dict[str, str] | None = None  # key → template (`<*>` wildcards) for keys parsed elsewhere (DeepLog's)

    def score(
        self, sessions: Sequence[Sequence[str]], *, batch_size: int = 64, first: Sequence[int] | None = None
    ) -> list[SequenceScores]:
        encoded = [self.vocab.encode(s, complete=self.complete) for s in sessions]
        return score_sequences(self.model.eval(), encoded, batch_size=batch_size, first=first)

    def judge(
        self, sessions: Sequence[Sequence[str]], *, batch_size: int = 64, first: Sequence[int] | None = None
    ) -> list[SessionVerdict]:
        """A verdict for every key of every session, with the top-K rule applied.

        With `first`, positions before first[s] are not scored: they hold NOT_SCORED, and the session's score
        covers the scored positions only.
        """
        verdicts = []
        all_scores = self.score(sessions, batch_size=batch_size, first=first)
        for s, (keys, scores) in enumerate(zip(sessions, all_scores, strict=True)):
            start = first[s] if first is not None else 0
            keys = [*keys, END] if self.complete else list(keys)
            scored = self._verdicts(keys, scores, range(start, len(keys)), scores.flags(self.topk, len(self.vocab)))
            score = session_surprise(scores) if start == 0 else verdict_surprise(scored)
            verdicts.append(SessionVerdict([NOT_SCORED] * min(start, len(keys)) + scored, score))
        return verdicts

    def outliers(
        self, sessions: Sequence[Sequence[str]], *, batch_size: int = 64, first: Sequence[int] | None = None
    ) -> list[tuple[int, dict[int, Verdict]]]:
        """Per session: (positions scored, EOS included; the verdicts of the flagged positions from first[s] on).

        What `judge` finds, without building a verdict for every position (most are not flagged)."""
        found = []
        all_scores = self.score(sessions, batch_size=batch_size, first=first)
        for s, (keys, scores) in enumerate(zip(sessions, all_scores, strict=True)):
            start = first[s] if first is not None else 0
            keys = [*keys, END] if self.complete else list(keys)
            flags = scores.flags(self.topk, len(self.vocab))
            flagged = [int(i) for i in flags.nonzero()[0] if i >= start]
            found.append((len(keys), dict(zip(flagged, self._verdicts(keys, scores, flagged, flags), strict=True))))
        return found

    def _verdicts(
        self, keys: Sequence[str], scores: SequenceScores, positions: Sequence[int], flags: np.ndarray
    ) -> list[Verdict]:
        """Verdicts of `positions`; `flags` is the top-K rule over every position of `scores`."""
        at = np.asarray(positions, dtype=np.int64)
        chosen = flags[at].tolist()
        ranks, probs, expected = scores.ranks[at].tolist(), scores.probs[at].tolist(), scores.expected[at].tolist()
        name = {i: self.vocab.key(i) for i in {e for row in expected for e in row}}
        vocab = self.vocab
        return [
            Verdict(
                key=keys[i],
                flagged=chosen[n],
                unseen=keys[i] != END and keys[i] not in vocab,
                rank=ranks[n],
                prob=probs[n],
                expected=tuple(k for k in (name[e] for e in expected[n]) if k is not None),
            )
            for n, i in enumerate(positions)
        ]

    # ---- bundle I/O ----

    def save(self, folder: Path, *, force: bool = False) -> None:
        """Write the bundle atomically; an existing bundle is replaced only with `force`."""
        write_atomically(folder, self._write, force=force)

    def _write(self, folder: Path) -> None:
        save_weights(folder, self.model.config, self.model.state_dict())
        sessions = {**(self.session.to_json() if self.session else {}), "complete": self.complete}
        write_config(folder, {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "kind": "detector",
            "model": self.model.config.to_dict(),
            "vocabulary": self.vocab.keys,
            "top_k": {"kind": self.topk.kind, "value": self.topk.value},
            "templates": self.templates,
            **({"key_table": self.key_table} if self.key_table else {}),
            "sessions": sessions,
            "provenance": self.provenance,
        })  # fmt: skip
        if self.miner_state is not None:
            (folder / MINER_FILE).write_text(json.dumps(self.miner_state) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, folder: Path, placement: Placement | None = None) -> Detector:
        placement = placement or Placement(torch.device("cpu"), torch.float32)
        path = folder / CONFIG_FILE
        hint = "re-train it with `logpt train detector`"
        if not path.exists():
            raise BundleError(f"{folder} has no {CONFIG_FILE}", hint)
        data = bundle_json(path)
        try:
            if data.get("format") != FORMAT or data.get("kind") != "detector":
                raise BundleError(f"{folder} is not a detector bundle", hint)
            config = GPTConfig.from_dict(dict(data["model"]))
            vocab = KeyVocab(str(k) for k in data["vocabulary"])
            topk = TopK(str(data["top_k"]["kind"]), float(data["top_k"]["value"]))
            templates = {str(k): str(v) for k, v in data.get("templates", {}).items()}
            key_table = {str(k): str(v) for k, v in data.get("key_table", {}).items()} or None
            sessions = dict(data.get("sessions", {}))
            session = SessionSpec.from_json(sessions)
            provenance = dict(data.get("provenance", {}))
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            raise BundleError(f"{path} is malformed: {e}", hint) from e
        if len(vocab) > config.vocab_size:
            raise BundleError(f"{folder}: {len(vocab)} keys but the model has {config.vocab_size} rows", hint)
        miner_state = _miner_state(folder / MINER_FILE, hint)  # before the weights: a bad file fails cheaply
        model = build_model(config, load_state(folder, config), placement)
        complete = bool(sessions.get("complete", True))
        return cls(model, vocab, topk, templates, provenance, session, complete, miner_state, key_table)


def _miner_state(path: Path, hint: str) -> dict[str, Any] | None:
    """The template miner's saved state, if the bundle has one; a bad file is named in the error."""
    if not path.exists() and not path.is_symlink():
        return None
    state = bundle_json(path, "miner state")
    if not isinstance(state, dict):
        raise BundleError(f"{path} is malformed: not an object", hint)
    return state
