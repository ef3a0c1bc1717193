"""The line model: batched scoring equals one text at a time, calibration within a file, the words it
reports, and the shipped bundle."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from engine.detect.unusual import (
    ERROR,
    INFO,
    LineLM,
    TextScore,
    calibrate,
    encode_line,
    load_line_lm,
    special_tokens,
    surprising_words,
)
from engine.errors import BundleError
from engine.lm.config import GPTConfig
from engine.lm.model import GPT
from engine.lm.tokenizer import Tokenizer, byte_level_ranks

SHIPPED = Path(__file__).resolve().parents[3] / "weights" / "logpt-lines"
TEXTS = [
    "Accepted publickey for <*> from <IP> port <NUM> ssh<N>",
    "session opened",
    "Bad page state in process 'swapper' page:<HEX> flags:<HEX> mapping:<HEX> mapcount:<NUM> count:<NUM>",
    "ü é — naïve café",
    "",
    "x" * 500,  # longer than the context: cut
]


@pytest.fixture(scope="module")
def tiny() -> LineLM:
    ranks = byte_level_ranks()
    tokenizer = Tokenizer(ranks, special_tokens(len(ranks)))
    model = GPT(GPTConfig(block_size=128, vocab_size=264, n_layer=2, n_head=2, n_embd=32))
    model.init_weights(seed=0)
    return LineLM(model.eval(), tokenizer, batch_size=4)


def one_at_a_time(lm: LineLM, text: str, tag: str) -> list[float]:
    """The slow reference: the text alone, no padding, log-softmax written out."""
    ids = torch.tensor([encode_line(lm.tokenizer, text, tag, lm.block_size)])
    with torch.no_grad():
        logits = lm.model(ids[:, :-1])[0, 1:]  # predictions of ids 2..
    logp = logits - logits.logsumexp(-1, keepdim=True)
    return [-logp[t, ids[0, t + 2]].item() for t in range(ids.shape[1] - 2)]


def test_batched_scoring_equals_one_text_at_a_time(tiny: LineLM) -> None:
    batched = tiny.score(TEXTS)  # batches of 4 across very different lengths: padding must not leak
    for text, score in zip(TEXTS, batched, strict=True):
        alone = one_at_a_time(tiny, text, INFO)
        assert score.surprisals == pytest.approx(alone, abs=1e-4)
        assert score.total == pytest.approx(sum(alone), abs=1e-3)
        assert score.mean == pytest.approx(sum(alone) / len(alone), abs=1e-4)
        as_error = one_at_a_time(tiny, text, ERROR)
        assert score.contrast == pytest.approx((sum(alone) - sum(as_error)) / len(alone), abs=1e-4)
        assert score.contrasts == pytest.approx([a - e for a, e in zip(alone, as_error, strict=True)], abs=1e-4)
    assert [s.total for s in tiny.score(TEXTS[::-1])] == pytest.approx([s.total for s in batched[::-1]], abs=1e-4)


def test_pieces_rebuild_the_text_and_words_are_in_it(tiny: LineLM) -> None:
    for score in tiny.score(TEXTS[:4]):
        assert "".join(score.tokens) == score.text
        assert len(score.surprisals) == len(score.tokens) + 1  # and the end token
        assert score.words and all(w in score.text for w in score.words)
        assert all(w in score.text for w in score.error_words)
        assert not any(w in ("<NUM>", "<*>", "<IP>", "<HEX>") for w in score.words + score.error_words)
    cut = tiny.score([TEXTS[5]])[0]
    assert len(cut.tokens) == tiny.block_size - 3


def test_surprising_words_merges_pieces_and_adjacent_words() -> None:
    pieces = ["Bad", " page", " st", "ate", " in", " <", "NUM", ">", " ok"]
    surprisal = [5.0, 4.0, 1.0, 2.5, 0.1, 9.0, 9.0, 9.0, 0.2]
    # "<NUM>" is the most surprising but only a placeholder; "Bad page state" are adjacent: one span.
    assert surprising_words(pieces, surprisal) == ("Bad page state",)
    assert surprising_words(pieces, surprisal, limit=1) == ("Bad",)
    assert surprising_words(["a", " b"], [0.1, 0.2]) == ("a b",)
    assert surprising_words(["a", " b", " c"], [-0.5, 0.3, -0.1]) == ("b",)  # a contrast: only what pushes it up


def fake(text: str, mean: float, contrast: float | None) -> TextScore:
    return TextScore(text, (text,), (mean,), mean, mean, contrast, (f"{text}?",), (contrast or 0.0,), (text,))


def test_a_routine_file_gives_small_z_and_the_odd_template_the_highest() -> None:
    routine = {k: fake(f"t{k}", 2.0 + 0.05 * (k % 5), -1.0 + 0.05 * (k % 3)) for k in range(20)}
    assert max(abs(u.z) for u in calibrate(routine).values()) < 2.0
    unfamiliar = {k: fake(f"t{k}", 6.0 + 0.05 * (k % 5), -0.8 + 0.05 * (k % 3)) for k in range(20)}  # never seen
    assert max(abs(u.z) for u in calibrate(unfamiliar).values()) < 2.0
    odd = unfamiliar | {"odd": fake("Bad page state", 6.1, 1.5)}
    found = calibrate(odd)
    top = max(found.values(), key=lambda u: u.z)
    assert top.key == "odd" and top.z > 3 and top.words == ("Bad page state",)
    assert top.detail.startswith("unusual text (z=") and "'Bad page state'" in top.detail
    assert calibrate({}) == {}
    assert calibrate({"only": fake("x", 3.0, 0.2)})["only"].z == 0.0
    # Without a contrast the surprisal is calibrated, and the most surprising words are reported.
    plain = calibrate({k: fake(f"t{k}", 2.0 + 0.05 * (k % 5), None) for k in range(20)} | {"odd": fake("x", 9.0, None)})
    assert max(plain.values(), key=lambda u: u.z).words == ("x?",)


def test_the_same_texts_everywhere_give_identical_z(tiny: LineLM) -> None:
    scores = dict(enumerate(tiny.score(["disk ok", "disk ok", "disk ok"])))
    assert {u.z for u in calibrate(scores).values()} == {0.0}


def test_loading_refuses_other_bundle_kinds() -> None:
    analyst = SHIPPED.parent / "logpt-analyst"
    with pytest.raises(BundleError, match="not a line model"):
        load_line_lm(analyst)


@pytest.mark.skipif(not SHIPPED.is_dir(), reason="no shipped line model")
def test_the_shipped_bundle_loads_and_scores_every_template() -> None:
    """Its speed is the benchmark's (tests/benchmarks/bench_unusual.py reports templates per second)."""
    lm = load_line_lm(SHIPPED)
    texts = [
        f"{verb} block blk_<NUM> of size <NUM> from <IP> after {n} tries"
        for n in range(100)
        for verb in ("Served", "Deleted")
    ]
    assert [s.text for s in lm.score(texts)] == texts
    normal, odd = lm.score(
        ["Accepted publickey for <*> from <IP> port <NUM> ssh<N>", "Kernel panic - not syncing: Fatal exception"]
    )
    assert odd.contrast is not None and normal.contrast is not None and odd.contrast > normal.contrast
