"""Reply plans: the analyst's text is its plan rendered, and the plan's grammar allows exactly its choices."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import torch

from engine.analysis.analyst import analyze, plan, reply_grammar
from engine.analysis.digest import Digest, build_digest
from engine.analysis.grounding import check_grounding
from engine.analysis.queries import NAMES
from engine.analysis.readability import readability
from engine.analysis.replyplan import MAX_OPTIONS, Pick, lark, pick, render
from engine.lm.grammar import GrammarConstraint
from engine.lm.tokenizer import Tokenizer, byte_level_ranks
from tests.conftest import SAMPLE_LOG

ROOT = Path(__file__).resolve().parents[3]
STOP = 256
BYTES = Tokenizer(byte_level_ranks(), {"<|end|>": STOP})


def accepts(grammar: str, text: str, tokenizer: Tokenizer = BYTES, stop: int = STOP) -> bool:
    """Is `text` a whole sentence of the grammar (token by token, as decoding sees it)?"""
    constraint = GrammarConstraint(tokenizer, grammar, [stop])
    return all(constraint.matcher.consume_token(i) for i in tokenizer.encode(text)) and constraint.complete


def test_render_takes_the_chosen_options_with_their_head() -> None:
    plan_ = ("# T", pick(["\n- a", "\n- b", "\n- c"], most=2, head="\n## L"), pick(["\n- x"], least=0, chosen=()))
    assert render(plan_) == "# T\n## L\n- a\n- b"


def test_a_pick_allows_any_subsequence_within_its_bounds_and_nothing_else() -> None:
    grammar = lark(("# T", pick(["\n- a", "\n- b", "\n- c"], least=1, most=2, head="\n## L")))
    allowed = ["\n- a", "\n- b", "\n- c", "\n- a\n- b", "\n- a\n- c", "\n- b\n- c"]
    for body in allowed:
        assert accepts(grammar, "# T\n## L" + body), body
    for body in ["", "\n- a\n- a", "\n- b\n- a", "\n- a\n- b\n- c", "\n- d"]:
        assert not accepts(grammar, "# T\n## L" + body), body
    assert not accepts(grammar, "# T")  # at least one


def test_an_optional_pick_writes_its_head_only_with_an_option() -> None:
    grammar = lark(("# T", pick(["\n- a"], least=0, head="\n## L")))
    assert accepts(grammar, "# T") and accepts(grammar, "# T\n## L\n- a")
    assert not accepts(grammar, "# T\n## L")


def test_options_carry_what_follows_from_them() -> None:
    grammar = lark(("X: ", pick([("a", pick(["; b"], least=0)), ("b", pick(["; a"], least=0))])))
    assert accepts(grammar, "X: a; b") and accepts(grammar, "X: b; a") and accepts(grammar, "X: b")
    assert not accepts(grammar, "X: a; a")


def test_quotes_and_newlines_in_statements_are_literal() -> None:
    text = 'say "hi" \\ `x`\n\t… 日本'
    assert accepts(lark((text,)), text)


def test_hostile_text_in_statements_still_compiles() -> None:
    text = "ERROR \x1b[31mred\x1b[0m \x00 \x07 \u202e \ufffd"
    assert accepts(lark((text,)), text)
    assert accepts(lark(("a \ud800 b",)), "a ? b")  # a lone surrogate cannot be tokenized; the grammar still builds


def test_bad_picks_are_refused() -> None:
    with pytest.raises(ValueError):
        Pick((("a",), ("b",)), chosen=(1, 0))
    with pytest.raises(ValueError):
        Pick((("a",),), chosen=(), least=1)
    assert len(pick([f"{i}" for i in range(MAX_OPTIONS + 3)]).options) == MAX_OPTIONS


def chunks() -> list[tuple[Digest, str]]:
    """(digest, text) of 25-line chunks of sample logs, and of a chunk without problems."""
    texts = [SAMPLE_LOG, (ROOT / "assets" / "samples" / "web-incident.log").read_text()]
    out = []
    for text in texts:
        lines = text.splitlines()
        for start in range(0, len(lines), 25):
            part = lines[start : start + 25]
            out.append((build_digest(part, first_line=start + 1, flagged={start + 2: "unseen key 7"}), "\n".join(part)))
    quiet = "Nov 30 02:00:01 host cron[1]: (root) CMD (true)"
    return [*out, (build_digest([quiet]), quiet)]


@pytest.mark.parametrize("query", NAMES)
def test_the_analysts_reply_is_a_sentence_of_its_grammar(query: str) -> None:
    for digest, _ in chunks():
        assert render(plan(digest, query)) == analyze(digest, query)
        assert accepts(reply_grammar(digest, query), analyze(digest, query))


@pytest.mark.parametrize("query", NAMES)
def test_every_reply_the_grammar_allows_is_grounded_and_readable(query: str) -> None:
    """Random walks through each grammar (any allowed token, uniformly): whatever a model picks is true and English."""
    rng = random.Random(7)
    for digest, text in chunks():
        sources = [text, digest.render()]
        for _ in range(3):
            constraint = GrammarConstraint(BYTES, reply_grammar(digest, query), [STOP])
            out = []
            for _ in range(6000):
                token = rng.choice(torch.from_numpy(constraint.allowed()).nonzero().flatten().tolist())
                if token == STOP:
                    break
                constraint.accept(token)
                out.append(token)
            text = BYTES.decode(out)
            assert constraint.complete and constraint.error is None
            assert check_grounding(text, sources).ungrounded == ()
            assert readability(text, sources).unknown == ()
