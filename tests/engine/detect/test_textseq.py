"""The pretrained sequence model: batched, windowed scoring against a per-position recompute, its rule, and the
pipeline that uses it where a file is too short to self-train on."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from engine.detect.pipeline import NO_HISTORY, DetectionPipeline
from engine.detect.textseq import TextSeq, next_logits, template_vectors
from engine.lm.config import GPTConfig
from engine.lm.model import GPT
from engine.lm.tokenizer import ENDOFTEXT, Tokenizer, byte_level_ranks
from engine.logs.formats import detect_format

TEXTS = {"a": "worker started job <NUM>", "b": "cache hit for key <*>", "c": "request served in <NUM> ms",
         "d": "ERROR connection refused to <IP>", "e": "user <*> logged in"}  # fmt: skip


def tiny(floor: float = 0.05, block: int = 9) -> TextSeq:
    ranks = byte_level_ranks()
    tokenizer = Tokenizer(ranks, {ENDOFTEXT: len(ranks)})
    model = GPT(GPTConfig(block_size=block, vocab_size=264, n_layer=1, n_head=2, n_embd=16))
    model.init_weights(seed=3)
    with torch.no_grad():
        model.transformer.wte.weight.mul_(20)  # sharper predictions than at initialisation
    return TextSeq(model, tokenizer, floor, name="tiny")


def test_a_template_vector_is_the_mean_of_its_token_embeddings() -> None:
    seq = tiny()
    vectors = template_vectors(seq.model, seq.tokenizer, ["ab", ""])
    wte = seq.model.transformer.wte.weight
    ids = seq.tokenizer.encode("ab")
    assert torch.allclose(vectors[0], wte[ids].mean(0))
    assert torch.allclose(vectors[1], wte[seq.tokenizer.special(ENDOFTEXT)])  # an empty text: the end token


@pytest.mark.parametrize("length", [5, 9, 23])
def test_windowed_batched_scores_equal_a_recompute_per_position(length: int) -> None:
    seq = tiny()
    rng = random.Random(length)
    sessions = [[rng.choice("abcde") for _ in range(length)], ["a", "b"], [rng.choice("abcde") for _ in range(7)]]
    got = seq.score(sessions, TEXTS, batch_size=2)  # several batches, padded rows
    keys = list(TEXTS)
    vectors = template_vectors(seq.model, seq.tokenizer, [TEXTS[k] for k in keys])
    for session, scored in zip(sessions, got, strict=True):
        for i, key in enumerate(session):
            start = next(a for a, b, owned in _windows(len(session), seq.block_size) if max(owned, a) <= i < b)
            row = torch.tensor([[keys.index(k) for k in session[start : i + 1]]])
            logp = next_logits(seq.model, seq.tokenizer, vectors, row)[0, -1].log_softmax(-1)
            assert scored.probs[i] == pytest.approx(logp[keys.index(key)].exp().item(), rel=1e-4)
            assert scored.ranks[i] == int((logp > logp[keys.index(key)]).sum())
            assert scored.expected[i][0] == keys[int(logp.argmax())]
        if len(session) > seq.block_size:  # a long session's later positions read at least half a context
            assert all(i - a >= seq.block_size // 2 for a, b, o in _windows(len(session), seq.block_size)
                       for i in range(max(o, a), b) if a > 0)  # fmt: skip


def _windows(length: int, block: int) -> list[tuple[int, int, int]]:
    from engine.detect.scoring import windows

    return windows(length, block)


def test_outliers_are_the_positions_below_the_floor_and_judge_agrees() -> None:
    seq = tiny(floor=0.3)
    sessions = [list("abcabcabdeab"), list("ccccd")]
    scored = seq.score(sessions, TEXTS)
    found = seq.outliers(sessions, TEXTS)
    judged = seq.judge(sessions, TEXTS)
    for session, s, (length, flagged), verdict in zip(sessions, scored, found, judged, strict=True):
        low = {i for i, p in enumerate(s.probs) if p < 0.3}
        assert length == len(session) and set(flagged) == low and low  # the tiny model is unsure somewhere
        assert {i for i, v in enumerate(verdict.positions) if v.flagged} == low
        assert all(not v.unseen and v.key == session[i] for i, v in flagged.items())


def short_log(n: int = 40) -> list[str]:
    rng = random.Random(5)
    messages = ["worker {n} started job {p}", "cache hit for key k{p}", "request /items/{n} served in {p} ms",
                "ERROR failed to write block {p} to disk", "user u{p} logged in"]  # fmt: skip
    return [f"2024-01-02 10:{i // 60:02d}:{i % 60:02d} INFO {rng.choice(messages).format(n=i, p=rng.randint(1, 9999))}"
            for i in range(n)]  # fmt: skip


def test_a_short_file_gets_sequence_evidence_from_the_pretrained_model_in_any_blocks() -> None:
    lines = short_log()
    fmt = detect_format(lines).format
    plain = DetectionPipeline.prepare(lines, fmt)
    assert plain.detector is None and plain.source == NO_HISTORY
    pipeline = DetectionPipeline.prepare(lines, fmt, sequence=tiny(floor=0.2))
    assert pipeline.detector is None and pipeline.source == "pretrained tiny"
    whole = pipeline.judge(lines, keep_verdicts=True)
    flags = whole.flags()
    assert any(e.kind == "sequence" for f in flags for e in f.evidence)
    assert all(len(f.expected) > 0 for f in flags if any(e.kind == "sequence" for e in f.evidence))
    assert {s.id for s, _ in whole.session_verdicts()} == set(whole.sessions)
    again = DetectionPipeline.prepare(lines, fmt, sequence=tiny(floor=0.2))
    book = again.book()
    for at in range(0, len(lines), 7):  # blocks, each scored as the explorer does
        book.add(lines[at : at + 7], at + 1)
        book.score()
    book.finish()
    book.score()
    assert [(f.line, f.reason) for f in book.flags()] == [(f.line, f.reason) for f in flags]


def test_a_file_long_enough_to_self_train_does_not_use_it() -> None:
    lines = short_log(1200)  # 24 windows of 50 keys
    pipeline = DetectionPipeline.prepare(lines, detect_format(lines).format, sequence=tiny())
    assert pipeline.source == "self-trained" and pipeline.sequence is None
    assert np.isfinite(len(pipeline.judge(lines).flags()))
