"""The explorer and `logpt analyze` write the same reply for the same chunk with the same engine.

The explorer's panel hands the chunk its backend reads to engine.analysis.reply.answer from a worker;
`logpt analyze` hands its planned chunk to the same function. Each case below is a log that is one chunk
for both, answered greedily (the explorer's sampling) by: the model-free analyst; the bundled digest model
(weights/logpt-analyst, held to the analyst's grammar); tiny random logpt-v1 models (chunks counted in
tokens) with `--engine auto`, one whose reply reads, one whose garbled reply both replace by the analyst's.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.analysis.reply import Reply
from logpt_tui.explorer.app import LogptApp
from logpt_tui.explorer.backend import Backend, ModelBackend
from tests.conftest import SAMPLE_LOG, make_bundle
from tests.logpt_tui.cli.test_cli import run
from tests.logpt_tui.explorer.test_app import settle, status

SAMPLE = Path(__file__).resolve().parents[2] / "assets" / "samples" / "web-incident.log"
KEYS = {"summary": "s", "root_cause": "r", "action_items": "a"}
SHORT = "".join(SAMPLE_LOG.splitlines(keepends=True)[i] for i in (1, 3, 4))  # 68 tokens: one chunk of the tiny model


async def explorer_reply(log: Path, backend: Backend | None, engine: str, query: str, ready: str) -> Reply:
    """The reply the explorer's panel keeps for the log's only chunk, once the engine shows `ready`."""
    app = LogptApp(log, poll_seconds=60, backend=backend, engine=engine, flags=None)
    async with app.run_test(size=(140, 30)) as pilot:
        await settle(pilot, app, lambda: "chunk 1/1" in status(app) and ready in status(app), tries=400)
        await pilot.press(KEYS[query])
        await settle(pilot, app, lambda: app.tab.panel.replies != {}, tries=400)
        (reply,) = app.tab.panel.replies.values()
        return reply


def cli_replies(log: Path, argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[dict, str]:
    """`logpt analyze` on the log: its one JSON object, and its text output (what streamed, then the rest)."""
    code, out, err = run(["analyze", "-f", str(log), *argv, "--json"], capsys)
    assert code == 0, err
    (record,) = [json.loads(line) for line in out.splitlines()]
    code, text, err = run(["analyze", "-f", str(log), *argv], capsys)
    assert code == 0, err
    return record, text


@pytest.mark.parametrize("query", ["summary", "root_cause"])
async def test_the_analyst_writes_the_same_reply(query: str, capsys: pytest.CaptureFixture[str]) -> None:
    reply = await explorer_reply(SAMPLE, None, "analyst", query, "analyst")
    record, text = cli_replies(SAMPLE, ["--engine", "analyst", "-q", query], capsys)
    assert reply.by_analyst and reply.author == record["model"] == "analyst"
    assert (reply.first_line, reply.last_line) == (record["first_line"], record["last_line"]) == (1, 32)
    assert reply.text == record["text"] and reply.text + "\n" in text
    assert reply.text.startswith({"summary": "## Summary", "root_cause": "## Root cause"}[query])


async def test_the_bundled_model_writes_the_same_reply(capsys: pytest.CaptureFixture[str]) -> None:
    reply = await explorer_reply(SAMPLE, ModelBackend(None, "cpu", max_new_tokens=48), "model", "summary",
                                 "logpt-analyst")  # fmt: skip
    record, text = cli_replies(SAMPLE, ["--device", "cpu", "--temperature", "0", "--max-tokens", "48"], capsys)
    assert not reply.by_analyst and reply.author == record["model"] == "logpt-analyst"
    assert reply.generation.constrain == record["constrain"] == "grammar"
    assert reply.text == record["text"] and reply.text.startswith("## Summary") and reply.text + "\n" in text
    assert reply.tokens == record["tokens"] == 48 and list(reply.ungrounded) == record["ungrounded"]
    assert reply.readability.to_json() == record["readability"]


@pytest.mark.parametrize(("seed", "garbled"), [(0, False), (1, True)])  # seed 1's greedy reply: "milmilmil…"
async def test_a_tiny_model_with_engine_auto_writes_the_same_reply(
    seed: int, garbled: bool, models_dir: Path, vocab: tuple, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_bundle(models_dir / "random", vocab, seed=seed, block_size=128)
    log = tmp_path / "short.log"
    log.write_text(SHORT)
    backend = ModelBackend("random", "cpu", max_new_tokens=16)
    reply = await explorer_reply(log, backend, "auto", "root_cause", "random")
    argv = ["-m", "random", "--device", "cpu", "--temperature", "0", "--max-tokens", "16", "--engine", "auto",
            "-q", "root_cause"]  # fmt: skip
    record, text = cli_replies(log, argv, capsys)
    assert reply.text == record["text"] and reply.author == record["model"]
    generated = reply.instead_of or reply  # the model's own reply, whether or not the analyst's replaced it
    assert generated.author == "random" and generated.generation.constrain == record["constrain"] == "off"
    assert generated.tokens == record["tokens"] == 16 and list(generated.ungrounded) == record["ungrounded"]
    assert generated.readability.to_json() == record["readability"] and generated.garbled == garbled
    if garbled:  # the analyst's reply in its place, the model's kept beside it
        assert reply.by_analyst and reply.text.startswith("## Root cause")
        assert record["instead_of"] == {"model": "random", "text": generated.text}
        assert generated.text in text and reply.text + "\n" in text  # the model's as it streamed, then the analyst's
    else:
        assert not reply.by_analyst and "instead_of" not in record and reply.text + "\n" in text
