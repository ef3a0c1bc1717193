"""Detector scoring against slow references, the top-K rules, and bundles."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import torch

from engine.detect import END, EOS, UNK, Detector, KeyVocab, TopK
from engine.detect.scoring import PositionScore, is_flagged, score_sequences, windows
from engine.errors import BundleError
from engine.lm.config import GPTConfig
from engine.lm.model import GPT


def tiny_model(vocab_size: int, block: int = 16) -> GPT:
    model = GPT(GPTConfig(block_size=block, vocab_size=vocab_size, n_layer=2, n_head=2, n_embd=16, activation="gelu"))
    model.init_weights(seed=3)
    return model.eval()


def naive_scores(model: GPT, seq: list[int], start: int, end: int) -> list[PositionScore]:
    """Positions start..end-1 of seq, from one forward pass over seq[start:end], ranks by sorting."""
    with torch.inference_mode():
        probs = model(torch.tensor([seq[start:end]]))[0].softmax(-1)
    out = []
    for t in range(end - start):
        p = probs[t]
        target = seq[start + t + 1]
        order = sorted(range(len(p)), key=lambda i: -float(p[i]))
        rank = sum(1 for i in range(len(p)) if p[i] > p[target])
        out.append(PositionScore(target, rank, float(p[target]), float(p[p > p[target]].sum()), tuple(order[:3])))
    return out


def test_batched_padded_scores_equal_one_at_a_time() -> None:
    model = tiny_model(12)
    rng = random.Random(0)
    seqs = [[1] + [rng.randrange(3, 12) for _ in range(rng.randrange(1, 15))] for _ in range(9)]
    batched = score_sequences(model, seqs, batch_size=4)
    for seq, got in zip(seqs, batched, strict=True):
        want = naive_scores(model, seq, 0, len(seq) - 1)
        assert [(g.token, g.rank, g.expected) for g in got] == [(w.token, w.rank, w.expected) for w in want]
        for g, w in zip(got, want, strict=True):
            assert g.prob == pytest.approx(w.prob, abs=1e-6) and g.mass_before == pytest.approx(w.mass_before, abs=1e-6)


def test_scores_do_not_depend_on_how_positions_are_tiled(monkeypatch: pytest.MonkeyPatch) -> None:
    """The head runs over TILE positions at a time; tile edges (here every 7 positions, inside windows) change nothing."""
    import engine.detect.scoring as scoring

    model = tiny_model(40, block=16)
    rng = random.Random(1)
    seqs = [[1] + [rng.randrange(3, 40) for _ in range(rng.randrange(1, 40))] for _ in range(12)]
    whole = score_sequences(model, seqs, batch_size=5)
    monkeypatch.setattr(scoring, "TILE", 7)
    tiled = score_sequences(model, seqs, batch_size=5)
    for a, b in zip(whole, tiled, strict=True):
        assert (a.ranks == b.ranks).all() and (a.expected == b.expected).all()
        assert a.probs == pytest.approx(b.probs, abs=1e-6) and a.mass_before == pytest.approx(b.mass_before, abs=1e-6)
    for seq, got in zip(seqs, tiled, strict=True):  # and both agree with sorting the softmax
        if len(seq) - 1 <= 16:
            assert [g.rank for g in got] == [w.rank for w in naive_scores(model, seq, 0, len(seq) - 1)]


@pytest.mark.parametrize("length", [17, 31, 40, 100])
def test_long_sequences_are_scored_in_windows_each_position_once(length: int) -> None:
    block = 16
    found = windows(length, block)
    owned = [p for i, (start, end, first) in enumerate(found) for p in range(max(first, start), end)]
    assert owned == list(range(length))  # every input position scored exactly once, in order
    assert all(
        p - start >= block // 2 or start == 0 for start, end, first in found for p in range(max(first, start), end)
    )
    model = tiny_model(12, block)
    seq = [1] + [3 + i % 9 for i in range(length)]
    got = score_sequences(model, [seq])[0]
    want = [
        s for start, end, first in found for s in naive_scores(model, seq, start, end)[max(first, start) - start :]
    ]
    assert [(g.token, g.rank) for g in got] == [(w.token, w.rank) for w in want]


def test_rules() -> None:
    score = PositionScore(token=7, rank=3, prob=0.01, mass_before=0.95, expected=(4, 5, 6))
    assert is_flagged(score, TopK("count", 3), 50) and not is_flagged(score, TopK("count", 4), 50)
    assert is_flagged(score, TopK("fraction", 0.06), 50) and not is_flagged(score, TopK("fraction", 0.08), 50)
    assert is_flagged(score, TopK("mass", 0.9), 50) and not is_flagged(score, TopK("mass", 0.99), 50)
    assert is_flagged(score, TopK("prob", 0.02), 50) and not is_flagged(score, TopK("prob", 0.005), 50)
    unseen = PositionScore(token=UNK, rank=0, prob=0.9, mass_before=0.0, expected=())
    assert is_flagged(unseen, TopK("count", 50), 50)
    with pytest.raises(ValueError):
        TopK("mass", 1.5)


def test_vocab_encodes_unseen_keys_and_session_ends() -> None:
    vocab = KeyVocab.from_sequences([["a", "b"], ["b", "c"]])
    assert vocab.encode(["a", "z"]) == [1, 4, UNK, EOS]
    assert vocab.encode(["c"], complete=False) == [1, 6]
    assert vocab.key(EOS) == END and vocab.key(5) == "b" and len(vocab) == 7


def normal_session(rng: random.Random) -> list[str]:
    """open, 2–4 reads or writes, close: the grammar the detector must learn."""
    body = [rng.choice(["read", "write"]) for _ in range(rng.randint(2, 4))]
    return ["open", "auth", *body, "flush", "close"]


@pytest.fixture(scope="module")
def trained() -> Detector:
    from engine.detect.fit import DetectorTrainConfig, fit_detector

    rng = random.Random(0)
    sessions = [normal_session(rng) for _ in range(400)]
    config = DetectorTrainConfig(n_layer=1, n_embd=32, block_size=16, epochs=8, batch_size=32, lr=1e-2, warmup_steps=5)
    model, vocab, topk = fit_detector(sessions, config, target_fpr=0.0)
    return Detector(model, vocab, topk, complete=True)


def test_a_trained_detector_flags_what_breaks_the_grammar(trained: Detector) -> None:
    rng = random.Random(1)
    normals = [normal_session(rng) for _ in range(50)]
    anomalies = [
        ["open", "auth", "read", "flush", "close", "panic"],  # unseen key
        ["open", "read", "auth", "read", "flush", "close"],  # wrong order
        ["open", "auth", "read", "read"],  # ends early
        ["auth", "open", "write", "write", "flush", "close"],  # wrong start
    ]
    verdicts = trained.judge(normals + anomalies)
    assert sum(v.flagged for v in verdicts[:50]) <= 2
    assert all(v.flagged for v in verdicts[50:])
    panic = verdicts[50].positions[5]
    assert panic.key == "panic" and panic.unseen and panic.flagged
    early = verdicts[52].positions[-1]
    assert early.key == END and early.flagged
    assert early.expected[0] in {"read", "write", "flush"}  # the session was expected to go on


def test_bundle_round_trip(trained: Detector, tmp_path: Path) -> None:
    trained.save(tmp_path / "det")
    again = Detector.load(tmp_path / "det")
    sessions = [["open", "auth", "read", "flush", "close"], ["open", "boom"]]
    assert [[(p.flagged, p.rank) for p in v.positions] for v in again.judge(sessions)] == [
        [(p.flagged, p.rank) for p in v.positions] for v in trained.judge(sessions)
    ]
    assert again.topk == trained.topk and again.complete


def test_broken_bundles(tmp_path: Path, trained: Detector) -> None:
    with pytest.raises(BundleError, match="no config.json"):
        Detector.load(tmp_path)
    trained.save(tmp_path / "det")
    (tmp_path / "det" / "config.json").write_text('{"format": "logpt-bundle", "kind": "generator"}')
    with pytest.raises(BundleError, match="not a detector"):
        Detector.load(tmp_path / "det")
