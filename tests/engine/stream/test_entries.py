"""A stream entry's shapes: the flag fields written to the flags stream, the batch's latencies."""

from __future__ import annotations

import json

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from engine.detect.evidence import Evidence
from engine.stream.entries import Entry, Stats, evidence_json, verdict_fields

weights = st.one_of(st.floats(allow_nan=False, allow_infinity=False), st.integers(-(10**6), 10**6),
                    st.floats(0, 10).map(np.float64))  # fmt: skip
evidence = st.builds(Evidence, st.text(max_size=12), weights, st.text(max_size=80))


@given(st.lists(evidence, max_size=6))
def test_evidence_json_is_what_json_dumps_writes(found: list[Evidence]) -> None:
    """The slow reference: json.dumps of [kind, weight, detail] per piece, as the flags stream always had it."""
    assert evidence_json(found) == json.dumps([[e.kind, e.weight, e.detail] for e in found])


def test_verdict_fields() -> None:
    found = [Evidence("severity", 2.0, 'ERROR ("words")'), Evidence("rare", 1.0, "template in 1 of 20 lines"),
             Evidence("severity", 0.5, "again")]  # fmt: skip
    score, why, kept, kinds = verdict_fields(found, "; judged at the release")
    assert score == 3.5
    assert why == 'ERROR ("words"); template in 1 of 20 lines; again; judged at the release'
    assert json.loads(kept) == [["severity", 2.0, 'ERROR ("words")'], ["rare", 1.0, "template in 1 of 20 lines"],
                                ["severity", 0.5, "again"]]  # fmt: skip
    assert kinds == "severity,rare"


def test_latencies_are_those_of_the_last_batch() -> None:
    stats = Stats()
    stats.took([Entry("1000-0", "a", 1, "x"), Entry("1500-3", "a", 2, "y")], dead=1)
    now_ms = stats.last[0]
    assert stats.latencies_ms == [now_ms - 1000, now_ms - 1500]
    stats.took([Entry("2000-0", "a", 3, "z")], dead=0)
    assert len(stats.latencies_ms) == 1
    assert (stats.entries, stats.dead, stats.batches) == (3, 1, 2)
