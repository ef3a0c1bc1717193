"""Incremental scoring (engine.detect.incremental) against the full path (score_sequences over the whole
session), key by key: Loghub sessions and synthetic ones of several lengths, fed in steps of every size,
with the window sliding past the model's context, slots evicted, a cache another consumer never saw, and a
step that was scored but never applied."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from engine.detect import incremental
from engine.detect.history import mine_sessions
from engine.detect.incremental import Step, StreamScorer, continued_groups, window_start
from engine.detect.scoring import TopK, score_sequences, windows
from engine.logs.formats import detect_format
from engine.logs.sessions import SessionSpec
from engine.logs.templates import TemplateMiner
from tests.engine.detect.test_pipeline import random_detector, syslog

LOGHUB = Path(__file__).resolve().parents[4] / "shared" / "datasets" / "loghub"


def full_scores(detector, keys: list[str]):  # noqa: ANN001, ANN201
    """The full path's scores of `keys`: the session scored whole, extended (with any keys: a key's score
    reads only the keys before it) to a window's end, so its last window is a regular one."""
    block, stride = detector.model.config.block_size, detector.model.config.block_size // 2
    length = len(keys) if len(keys) <= block else block + -(-(len(keys) - block) // stride) * stride
    padded = keys + [detector.vocab.keys[0]] * (length - len(keys))
    return score_sequences(detector.model, [detector.vocab.encode(padded, complete=False)])[0]


def feed(scorer_for, sessions: dict[str, list[str]], block: int, seed: int) -> dict[str, dict[int, tuple]]:  # noqa: ANN001
    """Score the sessions in interleaved steps of random sizes (each step's context: the last `block` keys,
    as serve keeps them), each pass by one of two scorers (two consumers sharing the sessions), now and then
    a new one (a consumer restarted). One pass in ten is never applied: its sessions' counts stay, and half
    of those passes score other keys than the sessions' own (what a consumer scored and another applied
    differently). Position → (rank, prob, expected, flagged) of the applied passes."""
    rng = random.Random(seed)
    scorers = [scorer_for(), scorer_for()]
    got: dict[str, dict[int, tuple]] = {name: {} for name in sessions}
    at = dict.fromkeys(sessions, 0)
    while any(at[n] < len(k) for n, k in sessions.items()):
        if rng.random() < 0.05:
            scorers[rng.randrange(2)] = scorer_for()
        scorer, applied, decoy = rng.choice(scorers), rng.random() > 0.1, rng.random() < 0.5
        steps = []
        for name, keys in sessions.items():
            if at[name] < len(keys) and rng.random() < 0.6:
                m = rng.choice([1, 1, 1, 2, 3, 5, 13, 40])
                n = at[name]
                new = keys[n : n + m] if applied or not decoy else rng.choices(scorer.detector.vocab.keys, k=m)
                steps.append(Step(name, n, tuple(keys[max(0, n - block) : n]), tuple(new)))
        detector = scorer.detector
        for step, scores in zip(steps, scorer.score(steps), strict=True):
            if not applied:
                continue
            flags = scores.flags(detector.topk, len(detector.vocab))
            for i in range(len(step.keys)):
                got[step.name][step.count + i] = (scores.ranks[i], scores.probs[i], tuple(scores.expected[i]),
                                                  bool(flags[i]))  # fmt: skip
            at[step.name] += len(step.keys)
    return got


def assert_same_as_full(detector, sessions: dict[str, list[str]], got: dict[str, dict[int, tuple]]) -> None:  # noqa: ANN001
    for name, keys in sessions.items():
        full = full_scores(detector, keys)
        flags = full.flags(detector.topk, len(detector.vocab))
        assert sorted(got[name]) == list(range(len(keys)))
        for p in range(len(keys)):
            rank, prob, expected, flagged = got[name][p]
            where = f"session {name!r} (length {len(keys)}) key {p}"
            assert flagged == bool(flags[p]), where
            assert rank == full.ranks[p], where
            assert expected == tuple(full.expected[p]), where
            assert prob == pytest.approx(float(full.probs[p]), rel=1e-4, abs=1e-6), where


def loghub_sessions(name: str, spec: SessionSpec | None, count: int = 12) -> tuple[list[str], dict[str, list[str]]]:
    path = LOGHUB / name.split("_")[0] / f"{name}.log"
    if not path.exists():
        pytest.skip(f"{path} is not here (the shared Loghub samples)")
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    fmt = detect_format(lines).format
    found = mine_sessions(lines, fmt, spec or SessionSpec.default_for(fmt.name), TemplateMiner())
    keys = sorted({k for s in found for k in s.keys})
    longest = sorted(found, key=lambda s: -len(s.keys))[:count]  # and their first 150 keys: a test of seconds
    return keys[: len(keys) * 3 // 4], {s.id: s.keys[:150] for s in longest}  # a quarter of the keys unseen: UNK


def test_window_start_is_the_regular_window_that_owns_each_position() -> None:
    for block in (2, 3, 8, 9, 16):
        owner = {}
        for start, end, owned in windows(20 * block, block)[:-1]:  # the last one sits against the end
            owner.update(dict.fromkeys(range(owned, end), start))
        assert all(window_start(p, block) == s for p, s in owner.items()), block


@pytest.mark.parametrize(("name", "spec", "count", "longest"), [
    ("Linux_2k", SessionSpec("component"), 12, 150),  # a dozen programs, the longest past many windows
    ("Zookeeper_2k", SessionSpec("window"), 1, 150),  # one stream
    ("HDFS_2k", None, 120, 2),  # blocks: hundreds of sessions of one or two keys at once
])  # fmt: skip
@pytest.mark.parametrize("block", [8, 9])
def test_incremental_scores_equal_the_full_path_on_loghub_sessions(name: str, spec: SessionSpec | None, count: int,
                                                                   longest: int, block: int) -> None:  # fmt: skip
    known, sessions = loghub_sessions(name, spec, count)
    detector = random_detector(known, block=block, complete=False)
    detector = type(detector)(detector.model, detector.vocab, TopK("count", 3.0))
    got = feed(lambda: StreamScorer(detector), sessions, block, seed=block)
    assert_same_as_full(detector, sessions, got)
    assert max(len(k) for k in sessions.values()) == longest  # past the context (Linux, ZooKeeper) or not (HDFS)


@pytest.mark.parametrize("pool_slots", [2, 1000])  # two slots for eight sessions: evicted all the time
@pytest.mark.parametrize("block", [4, 9])
def test_incremental_scores_equal_the_full_path_at_every_session_length(pool_slots: int, block: int) -> None:
    lines = syslog(600, seed=3)
    fmt = detect_format(lines).format
    keyed = mine_sessions(lines, fmt, SessionSpec("window"), TemplateMiner())[0].keys
    detector = random_detector(sorted(set(keyed[:300])), block=block, complete=True)
    detector = type(detector)(detector.model, detector.vocab, TopK("count", 4.0), complete=True)
    lengths = [1, block - 1, block, block + 1, 2 * block, 3 * block + 1, 60, 150]
    sessions = {f"s{length}": keyed[-length:] for length in lengths}
    sessions["one key"] = [keyed[0]] * 150  # every tail alike: only the count tells a stale cache
    config = detector.model.config
    slot_bytes = 2 * config.n_layer * config.n_embd * block * 4
    got = feed(lambda: StreamScorer(detector, pool_bytes=pool_slots * slot_bytes), sessions, block, seed=pool_slots)
    assert_same_as_full(detector, sessions, got)


def test_rows_of_every_reach_in_one_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    """A context of 64: sessions at different places of their windows continue in the same passes, so the rows
    that read 2..64 cached inputs and add 1..40 fall in groups of several shapes (each group's padding and mask
    against the full path)."""
    keys = syslog_keys(1200)
    detector = random_detector(sorted(set(keys)), block=64, complete=False)
    sessions = {f"s{i}": keys[i * 37 : i * 37 + 40 + 15 * i] for i in range(8)}  # lengths 40..145
    shapes: list[int] = []

    def groups(rows, first, device):  # noqa: ANN001, ANN202
        shapes.append(len({incremental.shape(g) for g in rows}))
        return continued_groups(rows, first, device)

    monkeypatch.setattr(incremental, "continued_groups", groups)
    got = feed(lambda: StreamScorer(detector), sessions, 64, seed=4)
    assert_same_as_full(detector, sessions, got)
    assert max(shapes) >= 4  # groups of several reads and several new counts in one pass


def test_flagged_verdicts_are_the_full_paths_verdicts() -> None:
    known, sessions = loghub_sessions("Linux_2k", SessionSpec("component"))
    detector = random_detector(known, block=8, complete=False)
    scorer = StreamScorer(detector)
    name, keys = max(sessions.items(), key=lambda kv: len(kv[1]))
    found: dict[int, object] = {}
    for n in range(0, len(keys), 7):
        step = Step(name, n, tuple(keys[max(0, n - 8) : n]), tuple(keys[n : n + 7]))
        found.update((n + i, v) for i, v in scorer.advance([step])[0].items())
    full = full_scores(detector, keys)
    flags = full.flags(detector.topk, len(detector.vocab))
    positions = [int(i) for i in np.nonzero(flags)[0]]
    assert sorted(found) == positions and positions
    expected = detector._verdicts(keys, full, positions, flags)  # noqa: SLF001
    for p, verdict in zip(positions, expected, strict=True):
        assert (found[p].key, found[p].unseen, found[p].rank, found[p].expected) == (
            verdict.key, verdict.unseen, verdict.rank, verdict.expected)  # fmt: skip


def test_a_window_of_keys_another_consumer_replaced_is_not_continued() -> None:
    """Consumer A scores keys that are never applied; B applies as many other keys; A continues the session at
    the same count: its cache holds the keys it scored, not the session's, and is not used."""
    keys = syslog_keys(60)
    detector = random_detector(sorted(set(keys)), block=16, complete=False)
    a, b = StreamScorer(detector), StreamScorer(detector)
    step = lambda n, m, new=None: Step("s", n, tuple(keys[max(0, n - 16) : n]), tuple(new or keys[n : n + m]))  # noqa: E731
    a.score([step(0, 25)])
    decoy = [k for k in sorted(set(keys)) if k not in keys[25:29]][:4]
    a.score([step(25, 4, decoy)])  # scored, never applied
    b.score([step(25, 4)])  # applied
    got = a.score([step(29, 3)])[0]  # keys 29..31: the window of keys 24..31 that A's cache holds (block 16)
    full = full_scores(detector, keys[:32])
    assert list(got.ranks) == list(full.ranks[29:32])
    np.testing.assert_allclose(got.probs, full.probs[29:32], rtol=1e-4, atol=1e-6)


def syslog_keys(n: int) -> list[str]:
    lines = syslog(n, seed=5)
    return mine_sessions(lines, detect_format(lines).format, SessionSpec("window"), TemplateMiner())[0].keys
