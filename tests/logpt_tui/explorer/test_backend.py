"""The explorer's backends: the model backend owns the generation lock and the figures of each reply."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.analysis.reply import NOT_WRITTEN, AnalystWriter, answer
from logpt_tui.explorer.backend import AnalystBackend, Backend, ModelBackend, whole_chunk

LINES = ["Nov 21 10:00:03 web-01 kernel: Out of memory: Killed process 4121 (java)", "Nov 21 10:00:04 web-01 cron: ok"]


@pytest.fixture
def model(tiny_bundle: Path) -> ModelBackend:
    backend = ModelBackend(str(tiny_bundle), "cpu", max_new_tokens=6)
    backend.load()
    return backend


def test_a_reply_reports_its_tokens_and_frees_the_model(model: ModelBackend) -> None:
    reply = answer(model.chunk(LINES, 7), "summary", model)
    assert reply.author == "tiny" and (reply.first_line, reply.last_line) == (7, 8)
    assert reply.tokens == reply.generation.tokens and 1 <= reply.tokens <= 6
    assert reply.generation.prompt_tokens > 0 and reply.generation.stop_reason in {"max_tokens", "stop_token"}
    assert model.lock.acquire(blocking=False)  # released once the reply is written
    model.lock.release()


def test_a_reply_waiting_for_another_tabs_reply_can_be_cancelled(model: ModelBackend) -> None:
    seen: list[str] = []
    with model.lock:  # another tab's reply is generating
        reply = answer(model.chunk(LINES, 1), "summary", model, cancelled=lambda: True, on_text=seen.append)
    assert reply.cancelled and reply.text == "" and seen == [] and reply.generation == NOT_WRITTEN


def test_a_cancelled_reply_frees_the_model(model: ModelBackend) -> None:
    calls = iter([False])  # the first token, then cancelled
    reply = answer(model.chunk(LINES, 1), "summary", model, cancelled=lambda: next(calls, True))
    assert reply.cancelled and model.lock.acquire(blocking=False)
    model.lock.release()


def test_the_analyst_backend_is_the_analyst_with_chunks_of_lines() -> None:
    backend: Backend = AnalystBackend(chunk_lines=2)
    backend.load()
    assert backend.count_batch(LINES) == [1, 1] and backend.budget == 3  # two lines and their newline
    assert backend.chunk(LINES, 5) == whole_chunk(LINES, 5)
    chunk = backend.chunk(LINES, 5)
    assert answer(chunk, "root_cause", backend).text == answer(chunk, "root_cause", AnalystWriter()).text
