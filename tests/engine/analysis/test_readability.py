"""Readability: English prose and the log's own words read; the bundled model's garbled replies do not."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.analysis.analyst import analyze
from engine.analysis.digest import build_digest
from engine.analysis.readability import GARBLED_ABOVE, english, readability

SAMPLE = Path(__file__).resolve().parents[3] / "assets" / "samples" / "web-incident.log"
CHUNK = "081109 203615 148 INFO dfs.DataNode$PacketResponder: SocketTimeoutException for blk_38865049064139660"


def test_the_word_list_is_english_and_lower_case() -> None:
    words = english()
    assert len(words) > 70_000 and {"service", "network", "restart", "the"} <= words
    assert all(w == w.lower() for w in list(words)[:1000])


@pytest.mark.parametrize("reply", [
    "A service or areaks; the service or port: the service or rundancanccess killer.",  # seen from the model
    "No errors, warnings or known failure signatures in lines 1x-15fa_request_request_request_conntrack.",
])  # fmt: skip
def test_the_bundled_models_garbled_replies_are_labelled(reply: str) -> None:
    found = readability(reply, [CHUNK])
    assert found.garbled and found.share > GARBLED_ABOVE
    assert "garbled" in found.describe()


def test_prose_and_the_logs_own_words_and_ids_read() -> None:
    reply = (
        "**Category:** timeout\n**Signature:** SocketTimeoutException in dfs.DataNode\n"
        "The PacketResponder for blk_38865049064139660 timed out; check the network between datanodes."
    )
    found = readability(reply, [CHUNK])
    assert not found.garbled and set(found.unknown) <= {"datanodes"}  # a plural the list lacks, at most
    assert readability("blk_99 is fine", [CHUNK]).unknown == ("blk_99",)  # an id the chunk does not have


@pytest.mark.parametrize("query", ["summary", "root_cause", "action_items"])
def test_the_analysts_replies_are_readable(query: str) -> None:
    lines = SAMPLE.read_text().splitlines()
    digest = build_digest(lines, first_line=1)
    found = readability(analyze(digest, query), ["\n".join(lines), digest.render()])
    assert not found.garbled and found.words > 20
