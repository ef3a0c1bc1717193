"""The explorer and `logpt detect` flag the same lines of the same file with the same detector.

The explorer takes the file in small blocks here (and scores a few sessions
at a time, the visible ones first), then follows appended lines; `logpt
detect --json` judges the whole file at once. Both go through
engine.detect.pipeline, so their flags must be equal, before and after the
file grows.
"""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import pytest

from logpt_tui.explorer.app import LogptApp
from logpt_tui.explorer.flagset import FlagEngine, cache_key
from tests.logpt_tui.cli.test_cli import run
from tests.logpt_tui.explorer.test_app import settle, status

CYCLE = [
    "sshd[{p}]: Accepted publickey for deploy from 10.0.0.{n} port {p} ssh2",
    "CRON[{p}]: (root) CMD (run-parts /etc/cron.hourly)",
    "systemd[1]: Started Session {n} of user deploy.",
    "kernel: [ {n}.5] eth0: link up",
    "dhclient[{p}]: DHCPACK from 10.0.0.1",
]
ODD = [
    "kernel: EXT4-fs (sda2): Remounting filesystem read-only",
    "sshd[{p}]: error: maximum authentication attempts exceeded for root from 203.0.113.{n} port {p} ssh2",
    "systemd[1]: nginx.service: Main process exited, code=killed, status=9/KILL",
]


def lines_of(count: int, seed: int, odd_every: int) -> list[str]:
    rng = random.Random(seed)
    out = []
    for i in range(count):
        template = rng.choice(ODD) if i % odd_every == odd_every - 1 else CYCLE[rng.randrange(len(CYCLE))]
        message = template.format(n=rng.randint(2, 250), p=rng.randint(1000, 9999))
        out.append(f"Nov 21 10:{i // 60 % 60:02d}:{i % 60:02d} web-01 {message}")
    return out


def cli_flags(path: Path, detector: Path, capsys: pytest.CaptureFixture[str]) -> list[tuple[int, str]]:
    code, out, err = run(["detect", str(path), "--detector", str(detector), "--json"], capsys)
    assert code == 0, err
    return [(o["line"], o["reason"]) for o in map(json.loads, out.splitlines()) if o["type"] == "flag"]


def explorer_flags(app: LogptApp) -> list[tuple[int, str]]:
    flags = app.tab.state.flags.found
    return [(line + 1, flags.by_line[line].reason) for line in flags.lines]


async def test_explorer_and_cli_flag_the_same_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "host.log"
    path.write_text("\n".join(lines_of(1500, 0, odd_every=150)) + "\n")
    saved = tmp_path / "detector"
    code, _, err = run(["detect", str(path), "--self-train", "--epochs", "3", "--save", str(saved), "--json"], capsys)
    assert code == 0, err
    expected = cli_flags(path, saved, capsys)
    assert 0 < len(expected) < 300  # some lines flagged, not the whole file

    cache = tmp_path / "cache"
    shutil.copytree(saved, cache / cache_key(path))
    monkeypatch.setattr("logpt_tui.explorer.tab_flags.BATCH", 97)  # many uneven blocks
    monkeypatch.setattr("logpt_tui.explorer.tab_flags.SCORE_SESSIONS", 3)
    monkeypatch.setattr("logpt_tui.explorer.tab_flags.SCORE_LINES", 211)  # long sessions scored in parts
    app = LogptApp(path, poll_seconds=0.05, backend=None, flags=FlagEngine(path, cache=cache))
    async with app.run_test(size=(120, 24)) as pilot:
        await settle(pilot, app, lambda: "flagged (cached" in status(app), tries=600)
        assert explorer_flags(app) == expected
        with path.open("a") as f:  # the file grows: sessions continue, and are rescored where they changed
            f.write("\n".join(lines_of(300, 1, odd_every=40)) + "\n")
        await settle(pilot, app, lambda: app.tab.state.flags.engine.lines == 1800, tries=600)
        await settle(pilot, app, lambda: app.tab.state.flags.found.upto == 1800, tries=600)
        after = explorer_flags(app)
    grown = cli_flags(path, saved, capsys)  # outside the app: Textual holds stdout while it runs
    # The grown file has flags of its own, and a line's verdict may change with it (rarity counts the whole file).
    assert any(line > 1500 for line, _ in grown) and grown != expected
    assert after == grown


async def test_multi_line_records_cut_by_the_explorers_blocks_get_the_flags_of_logpt_detect(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.engine.detect.test_pipeline import java_log  # noqa: PLC0415

    path = tmp_path / "shop.log"
    path.write_text("\n".join(java_log(600)) + "\n")  # stack traces and tracebacks: 13-line blocks cut them
    saved = tmp_path / "detector"
    code, _, err = run(["detect", str(path), "--self-train", "--epochs", "2", "--save", str(saved), "--json"], capsys)
    assert code == 0, err
    expected = cli_flags(path, saved, capsys)
    assert expected and all(path.read_text().splitlines()[line - 1].startswith("2026") for line, _ in expected)
    cache = tmp_path / "cache"
    shutil.copytree(saved, cache / cache_key(path))
    monkeypatch.setattr("logpt_tui.explorer.tab_flags.BATCH", 13)
    app = LogptApp(path, poll_seconds=0.05, backend=None, flags=FlagEngine(path, cache=cache))
    async with app.run_test(size=(120, 24)) as pilot:
        await settle(pilot, app, lambda: "flagged (cached" in status(app), tries=600)
        assert explorer_flags(app) == expected


async def test_the_session_reaching_into_the_view_is_scored_in_parts_of_score_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from engine.detect.detector import Detector

    path, saved = tmp_path / "host.log", tmp_path / "detector"
    path.write_text("\n".join(lines_of(1500, 0, odd_every=150)) + "\n")
    code, _, err = run(["detect", str(path), "--self-train", "--epochs", "3", "--save", str(saved), "--json"], capsys)
    assert code == 0, err
    expected = cli_flags(path, saved, capsys)
    shutil.copytree(saved, tmp_path / "cache" / cache_key(path))
    monkeypatch.setattr("logpt_tui.explorer.tab_flags.BATCH", 97)
    monkeypatch.setattr("logpt_tui.explorer.tab_flags.SCORE_LINES", 211)
    scored, outliers = [], Detector.outliers

    def spy(self: Detector, sessions: list, **kwargs: object) -> list:
        scored.extend(len(keys) for keys in sessions)
        return outliers(self, sessions, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Detector, "outliers", spy)
    app = LogptApp(path, poll_seconds=0.05, backend=None, flags=FlagEngine(path, cache=tmp_path / "cache"))
    async with app.run_test(size=(120, 24)) as pilot:  # it follows: the view is the file's end
        await settle(pilot, app, lambda: "flagged (cached" in status(app), tries=600)
        assert explorer_flags(app) == expected
        block = app.tab.state.flags.engine.pipeline.detector.model.config.block_size
    # A part holds the keys of SCORE_LINES lines and the context before them (engine.detect.scoring.suffix_start),
    # never the whole session: the memory a part needs does not grow with the file.
    assert max(scored) <= 211 + 2 * block + block // 2 < 1500


async def test_a_file_past_the_memory_cap_is_judged_up_to_it_and_the_status_bar_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = lines_of(1500, 0, odd_every=150)
    path, judged, saved = tmp_path / "host.log", tmp_path / "judged.log", tmp_path / "detector"
    path.write_text("\n".join(lines) + "\n")
    judged.write_text("\n".join(lines[:970]) + "\n")  # what fits: the blocks taken before the cap was reached
    code, _, err = run(["detect", str(path), "--self-train", "--epochs", "3", "--save", str(saved), "--json"], capsys)
    assert code == 0, err
    expected = cli_flags(judged, saved, capsys)
    assert expected and expected != cli_flags(path, saved, capsys)
    cache = tmp_path / "cache"
    shutil.copytree(saved, cache / cache_key(path))
    monkeypatch.setattr("logpt_tui.explorer.tab_flags.BATCH", 97)
    monkeypatch.setattr("engine.detect.bookbytes.LINE_BYTES", 996)  # with its template id (4 B): 1,000 B a line
    engine = FlagEngine(path, cache=cache, cap_mb=0.9)  # 943,718 bytes: past it after 970 lines (blocks of 97)
    app = LogptApp(path, poll_seconds=0.05, backend=None, flags=engine)
    async with app.run_test(size=(220, 24)) as pilot:
        await settle(pilot, app, lambda: "flagged" in status(app) and "(cached" in status(app), tries=600)
        assert engine.capped_at == 970 and explorer_flags(app) == expected
        assert "lines after 970 not judged (memory cap 0.9 MB)" in status(app)


def engine_flags(engine: FlagEngine, lines: list[str], *, first: bool) -> list[tuple[int, str]]:
    """The explorer's flag engine driven as its workers drive it: the first pass in blocks, then the tail."""
    block = lambda a, b: lines[a:b]  # noqa: E731
    if first:
        engine.prepare(lines)
        for start in range(0, len(lines), 13):
            engine.catch_up(block, min(len(lines), start + 13))
        engine.follow(block, len(lines))
    else:
        engine.catch_up(block, len(lines))
    return [(f.line, f.reason) for f in engine.score()]


def test_a_followed_file_gets_the_flags_of_logpt_detect_at_every_size(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rng = random.Random(3)
    messages = ["worker {n} started job {p}", "cache hit for key k{p}", "request /items/{n} served in {p} ms",
                "connection from 10.0.0.{n} closed", "ERROR failed to write block {p} to disk", "queue depth {n}",
                "WARN retrying upload {p}", "gc pause {n} ms", "user u{p} logged in", "config reloaded",
                "ERROR timeout talking to db-{n}", "session {p} expired"]  # fmt: skip
    lines = [rng.choice(messages).format(n=rng.randint(1, 50), p=rng.randint(1000, 9999)) for _ in range(700)]
    path = tmp_path / "app.log"
    engine = FlagEngine(path, cache=tmp_path / "cache")
    counts = {}
    for size in (60, 100, 120, 300, 520, 700):  # lines without time: one bucket is 100 lines
        path.write_text("\n".join(lines[:size]) + "\n")
        found = engine_flags(engine, lines[:size], first=size == 60)
        if engine.source == "self-trained" and size > 520:  # trained once, at 520 lines: detect with that detector
            code, out, err = run(["detect", str(path), "--detector", str(engine.cache), "--json"], capsys)
        else:  # too little history, or trained just now on the file as it is: detect self-trains the same way
            code, out, err = run(["detect", str(path), "--self-train", "--json"], capsys)
        assert code == 0, err
        assert found == [(o["line"], o["reason"]) for o in map(json.loads, out.splitlines()) if o["type"] == "flag"]
        counts[size] = (len(found), engine.source, sum("in 100 lines (usually 0)" in reason for _, reason in found))
    assert counts[300][1] == "pretrained logpt-sequence" and counts[520][1] == "self-trained"
    # The user's jump (many flags at 100 lines, few at 120) is the burst rule, the same in `logpt detect`:
    # in the first 100 lines (one bucket) a template's usual rate elsewhere is 0, so any template with 3 to
    # 5 lines there is a burst, and rare; once the next bucket holds some of its lines, it is neither.
    assert counts[100][2] > 0 and counts[120][0] < counts[100][0] and counts[120][2] < counts[100][2]


BGL = Path(__file__).resolve().parents[3] / "shared" / "datasets" / "loghub" / "BGL" / "BGL_2k.log"


@pytest.mark.slow
@pytest.mark.skipif(not BGL.exists(), reason="Loghub BGL_2k is not in ../shared/datasets")
def test_bgl_2k_gets_the_flags_of_logpt_detect_self_train(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # The explorer trained 8 epochs where `logpt detect --self-train` trains 20: 378 flags against 377.
    lines = BGL.read_text().splitlines()
    found = engine_flags(FlagEngine(BGL, cache=tmp_path / "cache"), lines, first=True)
    code, out, err = run(["detect", str(BGL), "--self-train", "--json"], capsys)
    assert code == 0, err
    assert found == [(o["line"], o["reason"]) for o in map(json.loads, out.splitlines()) if o["type"] == "flag"]
    assert found  # (377 lines before the severity rules changed; the counts move with the rule, parity must not)
