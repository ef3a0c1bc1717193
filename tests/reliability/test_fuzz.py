"""Property-based fuzzing (Hypothesis): any input ends in a result or a one-line error, within a time bound.

Covers format detection and record parsing, the line index, the chunker,
template state loading and bundle config loading. Each property runs a fixed
number of examples with a per-example deadline, so the default test run stays
short and deterministic (derandomized).
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.analysis.chunker import chunk_lines
from engine.errors import LogptError
from engine.lm.bundle import BundleConfig, TokenizerSpec
from engine.lm.config import GPTConfig
from engine.logs.formats import detect_format, parse_lines
from engine.logs.logsource import LogSource
from engine.logs.templates import TemplateMiner
from engine.logs.textio import decode_log, split_lines

FUZZ = settings(max_examples=150, deadline=2000, derandomize=True, suppress_health_check=[HealthCheck.too_slow])

# Text that looks like logs and text that does not: timestamps, brackets, escapes, NULs, CR, wide characters.
PIECES = st.sampled_from(
    ["Nov 21 10:00:00 ", "2026-11-21T10:00:00Z ", "web-01 ", "app[1]: ", "ERROR ", "<13>", "{\"level\": ", "\"x\"}",
     "[/x]", "\x1b[2J", "\x00", "\r", "\t", "é", "日本", "\u202e", "blk_-123 ", "10.0.0.1:80 ", " ", "(", "%", "\\"]
)  # fmt: skip
LINES = st.lists(st.lists(PIECES | st.text(max_size=20), max_size=12).map("".join), max_size=40)


@FUZZ
@given(LINES)
def test_detection_and_parsing_cover_every_line(lines: list[str]) -> None:
    fmt = detect_format(lines).format
    records = list(parse_lines(lines, fmt))
    covered = sum(r.end_line - r.line + 1 for r in records)
    assert covered == len(lines)
    assert all(1 <= r.line <= r.end_line <= len(lines) for r in records)


@FUZZ
@given(st.binary(max_size=4096))
def test_any_bytes_decode_to_text_or_a_binary_error(data: bytes) -> None:
    try:
        text = decode_log(data)
    except LogptError as e:
        assert "binary" in e.message
        return
    lines = data.split(b"\n")  # one definition of a line: LF ends it, CR and NUL are characters
    if lines and lines[-1] == b"":
        lines.pop()
    assert "\r\n" not in text and len(split_lines(text)) == len(lines)


@FUZZ
@given(st.binary(max_size=8192), st.integers(min_value=16, max_value=4096))
def test_the_line_index_agrees_with_splitting(data: bytes, max_line: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "log"
        path.write_bytes(data)
        with LogSource(path, max_line_bytes=max_line) as source:
            source.index()
            expected = data.split(b"\n")
            if expected and expected[-1] == b"":
                expected.pop()
            assert len(source) == len(expected)
            assert all(len(line) <= max_line for line in source.block(0, len(source)))


@FUZZ
@given(LINES, st.integers(min_value=8, max_value=200))
def test_chunks_cover_every_line_within_the_budget(lines: list[str], budget: int) -> None:
    def count(text: str) -> int:
        return len(text.encode()) // 3 + 1

    chunks = list(chunk_lines(lines, count, budget))
    assert sum(c.n_lines for c in chunks) == len(lines)
    assert all(c.n_tokens <= budget for c in chunks)


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)


@FUZZ
@given(JSONISH, st.sampled_from(["config", "clusters", "next_id", "version", None]))
def test_template_state_loads_or_is_one_error(junk: object, key: str | None) -> None:
    state = TemplateMiner().to_state()
    if key is None:
        state = junk  # type: ignore[assignment]
    else:
        state[key] = junk
    with contextlib.suppress(LogptError):  # a result or a one-line error; anything else fails the test
        TemplateMiner.from_state(state)


@FUZZ
@given(JSONISH, st.sampled_from(["model", "tokenizer", "prompt_format", "stop_tokens", "kind", "n_layer", "n_head"]))
def test_bundle_config_loads_or_is_one_error(junk: object, key: str) -> None:
    data = BundleConfig(model=GPTConfig(), tokenizer=TokenizerSpec()).to_json()
    if key in ("n_layer", "n_head"):
        data["model"][key] = junk
    else:
        data[key] = junk
    with contextlib.suppress(LogptError):
        BundleConfig.from_json(json.loads(json.dumps(data)), Path(os.devnull))


def test_split_lines_and_decode_agree_on_newlines() -> None:
    assert split_lines(decode_log(b"a\r\nb\rc\n")) == ["a", "b\rc"]  # a lone CR is no line break
