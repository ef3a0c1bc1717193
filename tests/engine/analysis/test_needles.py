"""The knowledge base's prefilter: a pattern's needles are in every text it matches, and matching with them
gives what searching every pattern gives."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.analysis.knowledge import MATCH_CHARS, KnowledgeBase, default_kb
from engine.analysis.knowledge.needles import needles

FLAGS = re.IGNORECASE | re.MULTILINE


@pytest.mark.parametrize(
    "pattern, expected",
    [
        (r"No space left on device", ("no space left on device",)),
        (r"(?:Out of memory|oom-kill)\b", ("oom-kill", "out of memory")),
        (r"\d+\.\d+\.25\b", (".25",)),
        (r"EXT4-fs error(?: \(device \S+\))?", ("ext4-fs error",)),
        (r"(?:a|b)xyz", ("xyz",)),  # a run longer than any branch wins
        (r"(?:fork|clone)(?:\(\))?: Cannot allocate", (": cannot allocate",)),
        (r"(?:timed out|timeout)+ waiting", (" waiting",)),
        (r"(?:segfault|)\s+at", ("at",)),  # an empty branch needs nothing: the run after it is what is sure
    ],
)
def test_needles_of_a_pattern(pattern: str, expected: tuple[str, ...]) -> None:
    assert needles(pattern, FLAGS) == expected


@pytest.mark.parametrize("pattern", [r"\d{4}", r"(?:\w+|x)", r"(?:abc)?", r"[A-Z]+\s\d", r"(?x) a b c", r"ſtop"])
def test_a_pattern_with_nothing_sure_has_no_needles(pattern: str) -> None:
    assert needles(pattern, FLAGS) is None


def test_a_signature_without_needles_is_always_a_candidate_and_a_non_ascii_line_meets_every_one() -> None:
    kb = KnowledgeBase.from_toml(
        '[[signature]]\nid = "a"\ntitle = "A"\ncategory = "memory"\nseverity = "error"\npattern = "\\\\d{4} lost"\n'
        'explanation = "x"\nremedies = ["y"]\nsystems = ["z"]\nexample = "1234 lost"\n'
        '[[signature]]\nid = "b"\ntitle = "B"\ncategory = "memory"\nseverity = "error"\npattern = "\\\\d{4}"\n'
        'explanation = "x"\nremedies = ["y"]\nsystems = ["z"]\nexample = "1234"\n'
    )
    assert [s.id for s in kb.candidates("nothing here")] == ["b"]
    assert [s.id for s in kb.candidates("1234 LOST")] == ["a", "b"]
    assert [s.id for s in kb.candidates("1234 loſt")] == ["a", "b"]


def test_case_matters_where_the_pattern_does_not_ignore_it() -> None:
    assert needles("Killed process", 0) is None  # upper case in a case-sensitive pattern: no lower-cased needle
    assert needles("killed process", 0) == ("killed process",)


def _slow_match(text: str, program: str | None = None) -> list[str]:
    """Every signature's pattern searched, as the knowledge base did before the needles."""
    kb, text = default_kb(), text[:MATCH_CHARS]
    found = [s for s in kb._ordered if s.applies_to(program) and s.pattern.search(text)]
    replaced = {s.refines for s in found if s.refines}
    return [s.id for s in found if s.id not in replaced]


def test_the_knowledge_base_matches_as_searching_every_pattern_does() -> None:
    kb = default_kb()
    lines = [s.example for s in kb.signatures] + [f for s in kb.signatures for f in s.false_friends]
    lines += [s.example.upper() for s in kb.signatures[::4]]  # case folded
    lines += ["kernel: Out of memory: Kill proceſs 42", "disk full on /dev/\u212a1", "plain text", ""]  # non-ASCII folds
    for text in lines:
        assert [s.id for s in kb.match(text)] == _slow_match(text), text
    assert all(s.needles is not None for s in kb.signatures)  # every shipped pattern has a prefilter


SIGNATURES = default_kb().signatures


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(st.data())
def test_every_text_a_signature_matches_holds_one_of_its_needles(data: st.DataObject) -> None:
    signature = data.draw(st.sampled_from(SIGNATURES))
    text = data.draw(st.from_regex(signature.pattern, alphabet=st.characters(max_codepoint=126)))
    if signature.pattern.search(text):  # from_regex honours the flags; a lookaround may still refuse
        assert signature in default_kb().candidates(text), (signature.id, text)
