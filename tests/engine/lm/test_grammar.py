"""GrammarConstraint: llguidance's masks as a logits processor."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from engine.lm.bundle import load_bundle
from engine.lm.devices import placement
from engine.lm.generate import generate
from engine.lm.grammar import GrammarConstraint, GrammarError
from engine.lm.sampling import SamplingConfig
from engine.lm.tokenizer import Tokenizer, byte_level_ranks

STOP = 256
BYTES = Tokenizer(byte_level_ranks(), {"<|end|>": STOP})
GRAMMAR = 'start: "ab" ("c" | "d")\n'


def test_only_what_the_grammar_allows_survives_and_then_only_the_stop() -> None:
    c = GrammarConstraint(BYTES, GRAMMAR, [STOP])
    logits = torch.zeros(1, 300)
    logits[0, ord("z")] = 5.0
    masked = c(logits)
    assert torch.isfinite(masked[0]).nonzero().flatten().tolist() == [ord("a")]
    for ch in "ab":
        c.accept(ord(ch))
    assert sorted(torch.isfinite(c(logits)[0]).nonzero().flatten().tolist()) == [ord("c"), ord("d")]
    c.accept(ord("d"))
    assert c.complete
    assert torch.isfinite(c(logits)[0]).nonzero().flatten().tolist() == [STOP]  # ids past the vocabulary masked too
    assert c.masked_steps == 3


def test_a_step_where_the_model_chose_well_is_not_counted_as_masked() -> None:
    c = GrammarConstraint(BYTES, GRAMMAR, [STOP])
    logits = torch.zeros(1, 257)
    logits[0, ord("a")] = 1.0
    assert c(logits).argmax() == ord("a") and c.masked_steps == 0


def test_a_grammar_that_does_not_compile_is_a_clear_error() -> None:
    with pytest.raises(GrammarError, match="does not compile"):
        GrammarConstraint(BYTES, "start: (\n", [STOP])
    with pytest.raises(GrammarError, match="stop token"):
        GrammarConstraint(BYTES, GRAMMAR, [])


def test_a_token_forced_past_the_grammar_lets_go_instead_of_masking_everything() -> None:
    c = GrammarConstraint(BYTES, GRAMMAR, [STOP])
    c.accept(ord("x"))
    logits = torch.randn(1, 257)
    assert c.error and c(logits) is logits


def test_a_random_model_writes_only_the_grammars_language(tiny_bundle: Path) -> None:
    bundle = load_bundle(tiny_bundle, placement("cpu"))
    tok = bundle.tokenizer
    grammar = 'start: "Disk full on " ("/var" | "/srv") " (" ("3" | "12") " lines)."\n'
    for seed in range(4):
        c = GrammarConstraint(tok, grammar, bundle.stop_ids())
        ids = generate(bundle.model, tok.encode("log line\n"), max_new_tokens=60, seed=seed,
                       sampling=SamplingConfig(temperature=1.5), stop_ids=bundle.stop_ids(), processor=c)  # fmt: skip
        text = tok.decode(list(ids))
        assert c.error is None, c.error
        assert text.startswith("Disk full on /") and text.endswith(" lines).") and c.complete, text
