"""One parsed file per tab: the Templates view lists the flag engine's keys, mined once, in the format detected once."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from engine.logs import formats
from engine.logs.templates import TemplateMiner
from logpt_tui.explorer import flagset
from logpt_tui.explorer.app import LogptApp
from logpt_tui.explorer.flagset import FlagEngine
from logpt_tui.explorer.mining import BookMining
from tests.logpt_tui.explorer.test_app import host_log, panel_text, settle, status

SAMPLE = Path(__file__).parents[3] / "assets" / "samples" / "web-incident.log"


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """How many template miners are built and how many times a format is detected (the tab's path to both)."""
    counts = {"miners": 0, "formats": 0}
    init, detect = TemplateMiner.__init__, formats.detect_format

    def built(self: TemplateMiner, *args: object, **kwargs: object) -> None:
        counts["miners"] += 1
        init(self, *args, **kwargs)  # type: ignore[arg-type]

    def detected(*args: object, **kwargs: object) -> object:
        counts["formats"] += 1
        return detect(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(TemplateMiner, "__init__", built)
    monkeypatch.setattr(formats, "detect_format", detected)
    return counts


def table_rows(app: LogptApp) -> dict[str, tuple[str, str]]:
    """The Templates view's rows as shown: key → (count, text)."""
    from textual.widgets import DataTable

    table = app.screen.query_one("#templates", DataTable)
    rows = [table.get_row_at(i) for i in range(table.row_count)]
    return {str(key): (str(count), str(text)) for count, key, text in rows}


async def why_key(app: LogptApp, pilot, line: int) -> str:  # noqa: ANN001
    """The key the why pane names for a flagged 0-based line."""
    app.view.show_line(line)
    await pilot.press("y")
    why = panel_text(app)
    assert f"Why line {line + 1} is flagged" in why, why
    return why.split("**Template ", 1)[1].split(":**", 1)[0]


def cached_detector(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path, list[str]]:
    """A host log and its detector, self-trained (2 epochs: it only has to exist) and cached: (log, cache, lines)."""
    path, cache = tmp_path / "host.log", tmp_path / "cache"
    lines = host_log(path)
    monkeypatch.setattr(flagset, "SELF_TRAIN_EPOCHS", 2)
    FlagEngine(path, cache=cache, line_model=None, sequence_model=None).prepare(lines)
    return path, cache, lines


@pytest.mark.slow  # ~7 s on the 2-core VM: a detector self-trained (and torch loaded) first
async def test_the_templates_view_lists_the_keys_the_why_pane_names(
    tmp_path: Path, counted: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    path, cache, lines = cached_detector(tmp_path, monkeypatch)
    counted.update(miners=0, formats=0)
    engine = FlagEngine(path, cache=cache, line_model=None, sequence_model=None)
    app = LogptApp(path, poll_seconds=60, backend=None, flags=engine)
    async with app.run_test(size=(160, 30)) as pilot:
        await settle(pilot, app, lambda: "flagged (cached" in status(app), tries=600)
        found = app.tab.state.flags.found
        assert 900 in found
        await pilot.press("t")
        await settle(pilot, app, lambda: bool(getattr(app.screen, "templates", None) and table_rows(app)))
        rows = table_rows(app)
        assert isinstance(app.tab.state.templates.source, BookMining)  # the view reads the flag engine's book
        await pilot.press("escape")
        for line in (900, found.lines[0]):
            key = await why_key(app, pilot, line)
            assert rows[key][1] == found.get(line).template[:200]  # the same key, the same text
        assert engine.book is not None and rows.keys() == engine.book.tally.counts.keys()
        assert sum(int(count.replace(",", "")) for count, _ in rows.values()) == len(lines)
    assert counted == {"miners": 1, "formats": 1}  # the book's miner (from the cached detector); state.format


@pytest.mark.slow  # ~7 s on the 2-core VM, as the other short-log flag tests
async def test_templates_opened_before_the_detector_hand_their_miner_to_the_flag_engine(
    tmp_path: Path, counted: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    release, prepare = threading.Event(), FlagEngine.prepare

    def held(self: FlagEngine, *args: object, **kwargs: object) -> None:
        assert release.wait(30), "the test never let the detector prepare"
        prepare(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(FlagEngine, "prepare", held)
    engine = FlagEngine(SAMPLE, cache=tmp_path / "cache", line_model=None, sequence_model=None)  # too short to train
    app = LogptApp(SAMPLE, poll_seconds=60, backend=None, flags=engine)
    async with app.run_test(size=(160, 30)) as pilot:
        await settle(pilot, app, lambda: "32 lines" in status(app))
        await pilot.press("t")  # before the detector: the Templates worker mines
        templates = app.tab.state.templates
        own = templates.source
        await settle(pilot, app, lambda: own.mined() == 32 and table_rows(app))
        keys, miner = list(own.keys), own.miner
        assert counted["miners"] == 1
        release.set()
        await settle(pilot, app, lambda: "flagged (no sequence model" in status(app), tries=600)
        assert own.handed_over and isinstance(templates.source, BookMining)
        assert engine.pipeline.miner is miner and len(miner.counts) == len(set(keys))  # continued, not mined again
        assert sum(miner.counts.values()) == sum(engine.book.tally.counts.values())  # each record added once
        assert [templates.source.lines_of(key, 0, 32) for key in set(keys)] == [
            [i for i, k in enumerate(keys) if k == key] for key in set(keys)
        ]  # the book's keys are the worker's
        await pilot.press("escape")
        await pilot.press("t")
        rows = table_rows(app)
        await pilot.press("escape")
        found = app.tab.state.flags.found
        assert len(found) >= 5
        for line in found.lines:
            key = await why_key(app, pilot, line)
            assert key == keys[line] and rows[key][1] == found.get(line).template[:200]  # the view cuts at 200
    assert counted["formats"] == 1


@pytest.mark.slow  # ~7 s on the 2-core VM: a detector self-trained (and torch loaded) first
async def test_templates_opened_before_a_cached_detector_wait_for_its_book_one_miner(
    tmp_path: Path, counted: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    path, cache, lines = cached_detector(tmp_path, monkeypatch)
    release, prepare = threading.Event(), FlagEngine.prepare

    def held(self: FlagEngine, *args: object, **kwargs: object) -> None:
        assert release.wait(30), "the test never let the detector prepare"
        prepare(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(FlagEngine, "prepare", held)
    counted.update(miners=0, formats=0)
    engine = FlagEngine(path, cache=cache, line_model=None, sequence_model=None)
    app = LogptApp(path, poll_seconds=60, backend=None, flags=engine)
    async with app.run_test(size=(160, 30)) as pilot:
        await settle(pilot, app, lambda: f"{len(lines):,} lines" in status(app))
        await pilot.press("t")  # before the cached detector: the view waits for its book, mining nothing
        await pilot.pause(0.2)
        assert isinstance(app.tab.state.templates.source, BookMining) and counted["miners"] == 0
        release.set()
        await settle(pilot, app, lambda: "flagged (cached" in status(app), tries=600)
        await settle(pilot, app, lambda: sum(int(c.replace(",", "")) for c, _ in table_rows(app).values()) == len(lines))
        rows = table_rows(app)
        await pilot.press("escape")
        assert engine.book is not None and rows.keys() == engine.book.tally.counts.keys()
        found = app.tab.state.flags.found
        for line in (900, found.lines[0]):
            key = await why_key(app, pilot, line)
            assert rows[key][1] == found.get(line).template[:200]
    assert counted == {"miners": 1, "formats": 1}  # the cached detector's miner, and no other


def reference_keys(lines: list[str]) -> list[str]:
    """Every line's key by one miner over the whole file parsed at once (the slow reference)."""
    fmt, miner, keys = formats.detect_format(lines).format, TemplateMiner(), []
    for record in formats.parse_lines(lines, fmt):
        keys += [str(miner.add(record.message))] * (record.end_line - record.line + 1)
    return keys


@pytest.mark.slow  # ~6 s on the 2-core VM (torch loads in the flag worker)
async def test_past_the_memory_cap_the_templates_view_still_covers_the_whole_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from logpt_tui.explorer import mining, tab_flags

    monkeypatch.setattr(tab_flags, "BATCH", 16)  # blocks of 16 lines: the cap is reached after the first
    monkeypatch.setattr(mining, "BATCH", 5)  # the lines past it mined in batches that cut records
    lines = SAMPLE.read_text().splitlines()
    engine = FlagEngine(SAMPLE, cache=tmp_path / "cache", line_model=None, sequence_model=None, cap_mb=0.0005)
    app = LogptApp(SAMPLE, poll_seconds=60, backend=None, flags=engine)
    async with app.run_test(size=(200, 30)) as pilot:
        await settle(pilot, app, lambda: "not judged (memory cap" in status(app), tries=600)
        capped = engine.capped_at
        assert capped is not None and 0 < capped < len(lines)
        assert engine.published.book is None  # nobody read the keys yet: nothing was published
        await pilot.press("t")
        templates = app.tab.state.templates
        await settle(pilot, app, lambda: templates.mined() == len(lines) and not templates.mining)
        rows, keys = table_rows(app), reference_keys(lines)
        assert sum(int(count.replace(",", "")) for count, _ in rows.values()) == len(lines)
        source = templates.source
        assert isinstance(source, BookMining) and engine.book is not None
        assert [source.lines_of(key, 0, len(lines)) for key in set(keys)] == [
            [i for i, k in enumerate(keys) if k == key] for key in set(keys)
        ]  # one miner's keys over the whole file: the book's up to the cap, then its copy's
        assert engine.book.tally.lines == capped  # the book holds no line past its cap
        assert all(source.template_of(i)[:200] == rows[keys[i]][1] for i in range(len(lines)))  # the view cuts at 200
        await pilot.press("escape")
        found = app.tab.state.flags.found
        assert found.lines and max(found.lines) < capped
        for line in found.lines:
            assert await why_key(app, pilot, line) == keys[line]
