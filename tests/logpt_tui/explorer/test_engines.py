"""Who writes the replies in the explorer: the model, the model-free analyst, or the analyst when no model loads."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.analysis.knowledge import default_kb
from engine.errors import LogptError
from logpt_tui.explorer.app import LogptApp
from tests.logpt_tui.explorer.test_app import FakeBackend, panel_text, settle, status

SAMPLE = Path(__file__).resolve().parents[3] / "assets" / "samples" / "web-incident.log"


class BrokenBackend(FakeBackend):
    def load(self) -> None:
        raise LogptError("no model bundle named 'absent'", "see `logpt models`")


async def test_without_a_model_the_analyst_answers_at_once() -> None:
    app = LogptApp(SAMPLE, poll_seconds=0.05, backend=None, engine="auto", flags=None)
    async with app.run_test(size=(140, 30)) as pilot:
        await settle(pilot, app, lambda: "analyst · model-free" in status(app) and "chunk 1/1" in status(app))
        await pilot.press("r")
        await settle(pilot, app, lambda: "written by the analyst" in panel_text(app))
        (reply,) = app.tab.panel.replies.values()
        assert reply.by_analyst and reply.query == "root_cause" and reply.first_line == 1 and reply.last_line == 32
        assert "Root cause" in panel_text(app) and not reply.ungrounded
        assert "  \n**Signature:**" in panel_text(app)  # a hard break: Category and Signature stay two lines


async def test_auto_falls_back_to_the_analyst_when_the_model_fails(tmp_path: Path) -> None:
    app = LogptApp(SAMPLE, poll_seconds=0.05, backend=BrokenBackend(), engine="auto", flags=None)
    async with app.run_test(size=(140, 30)) as pilot:
        await settle(pilot, app, lambda: "analyst · model-free" in status(app))
        await pilot.press("A")  # no model to switch to: the analyst stays
        assert app.tab.backend is app.analyst


async def test_a_key_switches_between_the_model_and_the_analyst() -> None:
    model = FakeBackend()
    app = LogptApp(SAMPLE, poll_seconds=0.05, backend=model, engine="auto", flags=None)
    async with app.run_test(size=(140, 30)) as pilot:
        await settle(pilot, app, lambda: "fake · cpu" in status(app))
        await pilot.press("A")
        await settle(pilot, app, lambda: "analyst · model-free" in status(app))
        await pilot.press("s")
        await settle(pilot, app, lambda: "written by the analyst" in panel_text(app))
        assert model.calls == []  # the model was not asked
        await pilot.press("A")
        await settle(pilot, app, lambda: "fake · cpu" in status(app))
        assert app.tab.backend is model


async def test_engine_model_keeps_the_old_behaviour_and_bad_engines_are_refused() -> None:
    app = LogptApp(SAMPLE, poll_seconds=0.05, backend=BrokenBackend(), engine="model", flags=None)
    async with app.run_test(size=(140, 30)) as pilot:
        await settle(pilot, app, lambda: "no model" in status(app))
        assert app.tab.backend is None
    with pytest.raises(LogptError, match="unknown engine"):
        LogptApp(SAMPLE, backend=None, engine="vibes", flags=None)


async def test_the_whole_files_timeline_comes_from_the_analyst_with_any_engine() -> None:
    app = LogptApp(SAMPLE, poll_seconds=0.05, backend=FakeBackend(), engine="model", flags=None)
    async with app.run_test(size=(140, 30)) as pilot:
        await settle(pilot, app, lambda: "fake · cpu" in status(app))
        await pilot.press("O")
        await settle(pilot, app, lambda: "Likely cause" in panel_text(app))
        text = panel_text(app)
        assert "Incident timeline · whole file · analyst" in text and "lines 1–32 · written by the analyst" in text
        assert f"**Likely cause:** {default_kb().by_id['oom-global'].title}, from line 15" in text


class GarbledBackend(FakeBackend):
    def pieces(self, chunk, digest, query):  # noqa: ANN001, ANN201
        return ["A service or areaks; the service or port: the service or rundancanccess killer."]


async def test_a_garbled_reply_is_labelled_in_the_panel() -> None:
    app = LogptApp(SAMPLE, poll_seconds=0.05, backend=GarbledBackend(), flags=None)
    async with app.run_test(size=(140, 30)) as pilot:
        await settle(pilot, app, lambda: "chunk" in status(app) and "fake" in status(app))
        await pilot.press("s")
        await settle(pilot, app, lambda: "tok/s" in panel_text(app))
        assert "garbled: 15% unknown words" in panel_text(app)  # areaks, rundancanccess: 2 of 13
        (reply,) = app.tab.panel.replies.values()
        assert reply.garbled


async def test_with_engine_auto_the_analyst_replaces_a_garbled_reply_and_says_so() -> None:
    app = LogptApp(SAMPLE, poll_seconds=0.05, backend=GarbledBackend(), engine="auto", flags=None)
    async with app.run_test(size=(140, 30)) as pilot:
        await settle(pilot, app, lambda: "chunk" in status(app) and "fake" in status(app))
        await pilot.press("r")
        await settle(pilot, app, lambda: "written by the analyst" in panel_text(app))
        assert "instead of the model's garbled reply (15% unknown words)" in panel_text(app)
        (reply,) = app.tab.panel.replies.values()
        assert reply.by_analyst and not reply.garbled and reply.text.startswith("## Root cause")
        assert "areaks" not in panel_text(app)


@pytest.mark.slow  # a 30,000-line file mapped by two processes: ~6 s; CI runs -m slow
async def test_the_timeline_of_a_big_file_streams_with_progress_and_equals_the_clis(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`O` on a file on disk: mapped by two processes (the size threshold lowered); the panel hears how far it
    has read and gets the "in order" list piece by piece; the reply is the timeline the CLI writes."""
    import engine.analysis.wholefile as wf
    from engine.analysis.timeline import timeline
    from engine.logs.formats import detect_format
    from logpt_tui.explorer.widgets.analysis_panel import AnalysisPanel
    from tests.engine.analysis.test_wholefile import synthetic_log

    log = tmp_path / "big.log"
    lines = synthetic_log(log, 30_000)
    monkeypatch.setattr(wf, "PARALLEL_BYTES", 1)
    monkeypatch.setattr(wf, "BLOCK_BYTES", 256 * 1024)  # several blocks: progress between them
    heads: list[str] = []
    pieces: list[str] = []
    on_progress, on_piece = AnalysisPanel.on_analysis_progress, AnalysisPanel.on_analysis_piece

    def spy_progress(panel, message) -> None:  # noqa: ANN001
        on_progress(panel, message)
        panel.render_panel()
        heads.append(str(panel.query_one("#panel-head").render()))

    def spy_piece(panel, message) -> None:  # noqa: ANN001
        pieces.append(message.text)
        on_piece(panel, message)

    monkeypatch.setattr(AnalysisPanel, "on_analysis_progress", spy_progress)
    monkeypatch.setattr(AnalysisPanel, "on_analysis_piece", spy_piece)
    app = LogptApp(log, poll_seconds=0.05, backend=None, flags=None)
    async with app.run_test(size=(140, 30)) as pilot:
        await settle(pilot, app, lambda: "30,000 lines" in status(app))
        await pilot.press("O")
        await settle(pilot, app, lambda: "Likely cause" in panel_text(app), tries=400)
        text = panel_text(app)
    expected = timeline(wf.map_file(wf.scan(log, 2), detect_format(lines[:200]).format, 500), 1, len(lines))
    assert "lines 1–30000 · written by the analyst" in text
    assert all(line in text for line in expected.splitlines() if line.startswith("- line"))
    assert any("read " in head and "of 30,000 lines (Esc cancels)" in head for head in heads), heads
    assert "".join(pieces) + "\n" == expected.split("\n\n**Started")[0].split("- … and")[0]  # streamed as found
