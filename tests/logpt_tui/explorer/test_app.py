"""The explorer driven by keys: opens at the end, follows appends, rotation and truncation, pauses."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from engine.analysis.reply import Generation
from logpt_tui.explorer.app import LogptApp
from logpt_tui.explorer.backend import whole_chunk
from logpt_tui.explorer.messages import FlagsFound
from logpt_tui.explorer.widgets.log_view import LogView


def screen_text(app: LogptApp) -> str:
    view = app.tab.view
    return "\n".join(view.render_line(y).text for y in range(view.size.height))


def status(app: LogptApp) -> str:
    return str(app.tab.query_one("#status").render())


async def settle(pilot, app: LogptApp, predicate, tries: int = 100) -> None:  # noqa: ANN001
    for _ in range(tries):
        await pilot.pause(0.05)
        if predicate():
            return
    raise AssertionError(f"timed out; status: {status(app)!r}")


@pytest.fixture
def log(tmp_path: Path) -> Path:
    path = tmp_path / "app.log"
    path.write_text("".join(f"Nov 21 10:00:{i % 60:02d} web-01 app[1]: request {i} ok\n" for i in range(1, 1001)))
    return path


async def test_opens_at_the_end_and_follows_appends(log: Path) -> None:
    app = LogptApp(log, poll_seconds=0.05, backend=None, flags=None)
    async with app.run_test(size=(100, 20)) as pilot:
        await settle(pilot, app, lambda: "1,000 lines" in status(app) and "request 1000 ok" in screen_text(app))
        assert "following" in status(app)
        with log.open("a") as f:
            f.write("Nov 21 10:01:00 web-01 app[1]: request 1001 FAILED\n")
        # The view reads the source as soon as the poll refreshed it; the status follows with the change message.
        await settle(pilot, app, lambda: "request 1001 FAILED" in screen_text(app) and "1,001 lines" in status(app))


async def test_paused_view_counts_new_lines_and_g_goes_to_the_top(log: Path) -> None:
    app = LogptApp(log, poll_seconds=0.05, backend=None, flags=None)
    async with app.run_test(size=(100, 20)) as pilot:
        await settle(pilot, app, lambda: "1,000 lines" in status(app))
        await pilot.press("g")
        assert "request 1 ok" in screen_text(app) and "paused" in status(app)
        with log.open("a") as f:
            f.write("".join(f"late line {i}\n" for i in range(3)))
        await settle(pilot, app, lambda: "+3 new" in status(app))
        assert "late line" not in screen_text(app)
        await pilot.press("f")
        assert "following" in status(app)
        await settle(pilot, app, lambda: "late line 2" in screen_text(app))


async def test_survives_truncation_and_rotation(log: Path) -> None:
    app = LogptApp(log, poll_seconds=0.05, backend=None, flags=None)
    async with app.run_test(size=(100, 20)) as pilot:
        await settle(pilot, app, lambda: "1,000 lines" in status(app))
        log.write_text("after truncation\n")
        await settle(pilot, app, lambda: "after truncation" in screen_text(app))
        assert "· 1 line ·" in status(app)
        os.rename(log, log.with_suffix(".1"))
        log.write_text("fresh file 1\nfresh file 2\n")
        await settle(pilot, app, lambda: "fresh file 2" in screen_text(app))


async def test_escape_sequences_are_shown_not_interpreted(tmp_path: Path) -> None:
    path = tmp_path / "esc.log"
    path.write_text("plain\n\x1b[2J\x1b]0;owned\x07 colour \x1b[31mred\x1b[0m\n")
    app = LogptApp(path, backend=None, flags=None)
    async with app.run_test(size=(100, 10)) as pilot:
        await settle(pilot, app, lambda: "2 lines" in status(app))
        text = screen_text(app)
        assert "^[[2J" in text and "^[[31mred" in text and "\x1b" not in text


async def test_file_events_follow_without_polling(log: Path) -> None:
    app = LogptApp(
        log, poll_seconds=60, backend=None, flags=None
    )  # only the watchdog observer can bring this line in time
    async with app.run_test(size=(100, 20)) as pilot:
        await settle(pilot, app, lambda: "request 1000 ok" in screen_text(app))
        await pilot.pause(0.2)  # let the observer start
        with log.open("a") as f:
            f.write("seen through inotify\n")
        await settle(pilot, app, lambda: "seen through inotify" in screen_text(app), tries=40)


async def test_regex_search_with_next_and_previous(log: Path) -> None:
    with log.open("a") as f:
        f.write("Nov 21 10:02:00 web-01 app[1]: request 2001 FAILED: db timeout\n")
    app = LogptApp(log, poll_seconds=60, backend=None, flags=None)
    async with app.run_test(size=(100, 20)) as pilot:
        await settle(pilot, app, lambda: "1,001 lines" in status(app))
        await pilot.press("g", "slash")
        app.query_one("#search").value = "request (5|50) ok"  # typed text with symbols
        await pilot.press("enter")
        await settle(pilot, app, lambda: app.query_one(LogView).current == 4)  # line 5
        await pilot.press("n")
        await settle(pilot, app, lambda: app.query_one(LogView).current == 49)
        await pilot.press("N")
        await settle(pilot, app, lambda: app.query_one(LogView).current == 4)
        await pilot.press("slash", *"FAILED")
        await pilot.press("enter")
        await settle(pilot, app, lambda: app.query_one(LogView).current == 1000)
        assert "db timeout" in screen_text(app) and "paused" in status(app)


async def test_bad_regex_and_help(log: Path) -> None:
    app = LogptApp(log, poll_seconds=60, backend=None, flags=None)
    async with app.run_test(size=(100, 20)) as pilot:
        await settle(pilot, app, lambda: "1,000 lines" in status(app))
        await pilot.press("slash")
        app.query_one("#search").value = "("
        await pilot.press("enter")
        await pilot.pause(0.1)
        assert app.query_one(LogView).current == 999  # the cursor did not move (following: the last line)
        await pilot.press("question_mark")
        await pilot.pause(0.1)
        assert app.screen.__class__.__name__ == "HelpScreen"
        await pilot.press("x")
        await pilot.pause(0.1)
        assert app.screen.__class__.__name__ != "HelpScreen"


async def test_every_rendered_row_covers_the_full_width(log: Path) -> None:
    app = LogptApp(log, poll_seconds=60, backend=None, flags=None)
    async with app.run_test(size=(100, 20)) as pilot:
        await settle(pilot, app, lambda: "request 1000 ok" in screen_text(app))
        view = app.query_one(LogView)
        width = view.scrollable_content_region.width
        assert all(view.render_line(y).cell_length == width for y in range(view.size.height))


class FakeBackend:
    """Counts one token per word and streams a fixed reply word by word; can be slowed to test cancelling.

    Every member of logpt_tui.explorer.backend.Backend, as the app uses them: nothing is read with getattr.
    """

    name, device, budget, model_free = "fake", "cpu", 60, False

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.calls: list[tuple[int, str]] = []

    def load(self) -> None:
        return None

    def count_batch(self, lines):  # noqa: ANN001, ANN201
        return [len(line.split()) for line in lines]

    def chunk(self, lines, first_line):  # noqa: ANN001, ANN201
        return whole_chunk(lines, first_line)

    def pieces(self, chunk, digest, query):  # noqa: ANN001, ANN201
        return [word + " " for word in f"## {query}\nlines {chunk.first_line}-{digest.last_line}: "
                f"{digest.line_count} lines seen at 10.9.9.9".split(" ")]  # fmt: skip

    def written(self, pieces: int) -> Generation:
        return Generation(tokens=pieces)

    def write(self, chunk, digest, query, cancelled):  # noqa: ANN001, ANN201
        import time

        self.calls.append((chunk.first_line, query))
        count = 0
        for piece in self.pieces(chunk, digest, query):
            if cancelled():
                break
            time.sleep(self.delay)
            count += 1
            yield piece
        return self.written(count)


def panel_text(app: LogptApp) -> str:
    from textual.widgets import Markdown

    return app.query_one("#panel-body", Markdown).source + "\n" + str(app.query_one("#panel-head").render())


async def test_chunks_and_streamed_analysis_with_a_fake_model(log: Path) -> None:
    backend = FakeBackend()
    app = LogptApp(log, poll_seconds=0.05, backend=backend, flags=None)
    async with app.run_test(size=(120, 22)) as pilot:  # a view of 20 rows
        # 1,000 lines of 8 words: 6 lines (53 tokens with newlines) per 60-token chunk → 167 chunks;
        # the current chunk holds the cursor, on the last line while following.
        await settle(pilot, app, lambda: "chunk 167/167" in status(app) and "fake · cpu" in status(app))
        await pilot.press("left_square_bracket", "left_square_bracket", "left_square_bracket")
        assert "chunk 164/167" in status(app)
        await pilot.press("s")
        await settle(pilot, app, lambda: "tok/s" in panel_text(app))
        text = panel_text(app)
        assert "lines 979-984: 6 lines" in text and "Not grounded" in text and "10.9.9.9" in text
        await pilot.press("right_square_bracket", "left_square_bracket", "s")  # cached: no second call
        assert backend.calls == [(979, "summary")]
        await pilot.press("r")
        await settle(pilot, app, lambda: "root_cause" in panel_text(app) and "tok/s" in panel_text(app))
        assert backend.calls[-1] == (979, "root_cause")


async def test_escape_cancels_a_running_analysis(log: Path) -> None:
    backend = FakeBackend(delay=0.2)
    app = LogptApp(log, poll_seconds=0.05, backend=backend, flags=None)
    async with app.run_test(size=(120, 24)) as pilot:
        await settle(pilot, app, lambda: "/167" in status(app))
        await pilot.press("a")
        await settle(pilot, app, lambda: "generating" in panel_text(app))
        await pilot.press("escape")
        await settle(pilot, app, lambda: "cancelled" in panel_text(app))
        assert app.tab.panel.replies == {}  # a cancelled reply is not kept
        await pilot.press("escape")  # nothing running: closes the panel
        assert not app.query_one("#panel").has_class("-open")


class ChattyBackend(FakeBackend):
    """Streams 300 pieces as fast as a model on a quick machine."""

    def __init__(self) -> None:
        super().__init__(delay=0.002)

    def pieces(self, chunk, digest, query):  # noqa: ANN001, ANN201
        return [f"w{i} " for i in range(300)]


async def test_a_streaming_reply_is_redrawn_at_a_steady_pace_not_per_token(log: Path) -> None:
    app = LogptApp(log, poll_seconds=0.05, backend=ChattyBackend(), flags=None)
    async with app.run_test(size=(120, 24)) as pilot:
        await settle(pilot, app, lambda: "/167" in status(app))
        panel = app.tab.panel
        redraws = 0
        render = panel.render_panel

        def counting(reply=None):  # noqa: ANN001, ANN202
            nonlocal redraws
            redraws += 1
            render(reply)

        panel.render_panel = counting
        await pilot.press("s")
        await settle(pilot, app, lambda: "tok/s" in panel_text(app), tries=200)
        assert "w0 " in panel_text(app) and "w299 " in panel_text(app)  # every piece arrives
        assert redraws < 40  # 300 pieces over ≥ 0.6 s: a few redraws a second, not 300


async def test_tiny_real_bundle_streams_into_the_panel(log: Path, tiny_bundle: Path) -> None:
    from logpt_tui.explorer.backend import ModelBackend

    app = LogptApp(log, poll_seconds=0.05, backend=ModelBackend(str(tiny_bundle), "cpu", max_new_tokens=8), flags=None)
    async with app.run_test(size=(120, 24)) as pilot:
        await settle(pilot, app, lambda: "tiny" in status(app) and "chunk" in status(app), tries=200)
        await pilot.press("s")
        await settle(pilot, app, lambda: "tok/s" in panel_text(app), tries=200)
        reply = next(iter(app.tab.panel.replies.values()))
        assert reply.tokens >= 1 and reply.query == "summary"


async def test_without_a_model_the_keys_explain(log: Path) -> None:
    app = LogptApp(log, poll_seconds=0.05, backend=None, flags=None)
    async with app.run_test(size=(100, 20)) as pilot:
        await settle(pilot, app, lambda: "no model" in status(app))
        await pilot.press("s")
        await pilot.pause(0.1)
        assert app.tab.panel.replies == {}


async def test_go_to_line(log: Path) -> None:
    app = LogptApp(log, poll_seconds=0.05, backend=None, flags=None)
    async with app.run_test(size=(100, 20)) as pilot:
        await settle(pilot, app, lambda: "1,000 lines" in status(app))
        await pilot.press("colon", *"250", "enter")
        assert app.view.current == 249 and "request 250 ok" in screen_text(app)
        await pilot.press("colon", *"x", "enter")  # not a number: an error notice, the view stays
        assert app.view.current == 249


async def test_filters_apply_to_the_file_and_to_followed_lines(tmp_path: Path) -> None:
    path = tmp_path / "mixed.log"
    path.write_text(
        "".join(
            f"Nov 21 10:00:00 web-01 app[1]: request {i} {'ERROR db down' if i % 10 == 0 else 'ok'}\n"
            for i in range(1, 501)
        )
    )
    app = LogptApp(path, poll_seconds=0.05, backend=None, flags=None)
    async with app.run_test(size=(100, 20)) as pilot:
        await settle(pilot, app, lambda: "500 lines" in status(app))
        await pilot.press("L", "L")  # minimum level ERROR
        await settle(pilot, app, lambda: "≥ERROR: 50 shown" in status(app) and "request 500 ERROR" in screen_text(app))
        assert " ok" not in screen_text(app)
        await pilot.press("x", *"request 500 ", "enter")
        await settle(pilot, app, lambda: "49 shown" in status(app))
        with path.open("a") as f:
            f.write(
                "Nov 21 10:01:00 web-01 app[1]: request 501 ok\nNov 21 10:01:00 web-01 app[1]: request 502 ERROR late\n"
            )
        await settle(pilot, app, lambda: "50 shown" in status(app) and "request 502 ERROR late" in screen_text(app))
        await pilot.press("i", *"late", "enter")
        await settle(pilot, app, lambda: ": 1 shown" in status(app))
        await pilot.press("L", "L")  # ERROR → CRITICAL → all levels
        await pilot.press("x", "enter")  # an empty exclude clears it
        await pilot.press("i", "enter")  # and an empty include
        await settle(pilot, app, lambda: "shown" not in status(app))
        assert app.view.rows is None


def host_log(path: Path) -> list[str]:
    """1,200 lines of a quiet host and one ext4 read-only remount (line 901), written to `path`."""
    cycle = ["sshd[1]: Accepted publickey for deploy from 10.0.0.4 port 5012 ssh2",
             "CRON[2]: (root) CMD (run-parts /etc/cron.hourly)",
             "systemd[1]: Started Session 7 of user deploy.",
             "kernel: [ 12.5] eth0: link up"]  # fmt: skip
    lines = [f"Nov 21 10:{i // 60 % 60:02d}:{i % 60:02d} web-01 {cycle[i % 4]}" for i in range(1200)]
    lines[900] = "Nov 21 10:15:00 web-01 kernel: EXT4-fs (sda2): Remounting filesystem read-only"
    path.write_text("\n".join(lines) + "\n")
    return lines


async def test_self_trained_flags_then_cached_jump_and_why(tmp_path: Path) -> None:
    path = tmp_path / "host.log"
    host_log(path)
    await check_flags(path, tmp_path / "cache", "self-trained")
    await check_flags(path, tmp_path / "cache", "cached")  # the second start finds the detector in the cache


async def test_a_short_log_shows_its_incident_without_a_sequence_model(tmp_path: Path) -> None:
    from logpt_tui.explorer.flagset import FlagEngine

    sample = Path(__file__).parents[3] / "assets" / "samples" / "web-incident.log"
    engine = FlagEngine(sample, cache=tmp_path / "cache", sequence_model=None)
    app = LogptApp(sample, poll_seconds=60, backend=None, flags=engine)
    async with app.run_test(size=(140, 24)) as pilot:  # the status bar whole
        await settle(pilot, app, lambda: "flagged (no sequence model" in status(app), tries=600)
        found = app.tab.state.flags.found
        assert len(found) >= 5 and all(not found.get(n).expected for n in found.lines)  # severity, rarity, bursts
        await pilot.press("g", "e")
        await pilot.press("y")
        assert "**Incident:** lines" in panel_text(app)
    assert not (tmp_path / "cache").exists()  # nothing learned, nothing cached


async def test_a_short_log_is_judged_by_the_pretrained_sequence_model(tmp_path: Path) -> None:
    from logpt_tui.explorer.flagset import FlagEngine

    sample = Path(__file__).parents[3] / "assets" / "samples" / "web-incident.log"
    app = LogptApp(sample, poll_seconds=60, backend=None, flags=FlagEngine(sample, cache=tmp_path / "cache"))
    async with app.run_test(size=(160, 24)) as pilot:
        await settle(pilot, app, lambda: "flagged (pretrained logpt-sequence · line model)" in status(app), tries=600)
        assert len(app.tab.state.flags.found) >= 5
    assert not (tmp_path / "cache").exists()  # nothing learned from the file, nothing cached


async def check_flags(path: Path, cache: Path, source: str) -> None:
    from logpt_tui.explorer.flagset import FlagEngine

    app = LogptApp(path, poll_seconds=0.05, backend=None, flags=FlagEngine(path, cache=cache))
    async with app.run_test(size=(120, 24)) as pilot:
        await settle(pilot, app, lambda: f"flagged ({source}" in status(app), tries=600)
        assert f"flagged ({source} · line model)" in status(app)  # which models judged
        # The odd line is flagged (it is in the training history once, so by its rank, not as unseen),
        # and the regular cycle is not.
        assert 900 in app.tab.state.flags.found and len(app.tab.state.flags.found) < 12
        await pilot.press("g", "e")
        assert app.view.current == app.tab.state.flags.found.lines[0]
        app.view.current = None
        await pilot.press("G", "E")  # backwards from the end: the last flag
        assert app.view.current == app.tab.state.flags.found.lines[-1]
        app.view.show_line(900)
        await pilot.press("y")
        why, flag = panel_text(app), app.tab.state.flags.found.get(900)
        assert "Why line 901 is flagged" in why and flag.evidence  # each piece of evidence, with its weight
        assert all(f"**{e.kind}** (+{e.weight:g}): {e.detail}" in why for e in flag.evidence), why
        await pilot.press("F")
        assert app.view.rows == app.tab.state.flags.found.lines


async def test_templates_view_filters_by_template(tmp_path: Path) -> None:
    path = tmp_path / "t.log"
    path.write_text(
        "".join(
            f"Nov 21 10:00:00 web-01 app[1]: {'user alice logged in' if i % 3 else f'disk {i} is full'}\n"
            for i in range(300)
        )
    )
    app = LogptApp(path, poll_seconds=0.05, backend=None, flags=None)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot, app, lambda: "300 lines" in status(app))
        await pilot.press("t")
        await settle(pilot, app, lambda: app.tab.state.templates.mined() == 300)
        await pilot.pause(0.2)
        await pilot.press("enter")  # the most frequent template: 200 login lines
        await settle(pilot, app, lambda: "200 lines" in status(app))
        assert "logged in" in screen_text(app) and "full" not in screen_text(app)
        with path.open("a") as f:
            f.write("Nov 21 10:00:01 web-01 app[1]: user bob logged in\n")
        await settle(pilot, app, lambda: "201 lines" in status(app))
        await pilot.press("t", "escape")
        await settle(pilot, app, lambda: app.tab.state.templates.picked is None)
        assert app.view.rows is None


async def test_several_files_open_as_tabs_and_each_follows_its_own(tmp_path: Path) -> None:
    first, second = tmp_path / "first.log", tmp_path / "second.log"
    first.write_text("".join(f"first line {i}\n" for i in range(50)))
    second.write_text("".join(f"second line {i}\n" for i in range(70)))
    app = LogptApp([first, second], poll_seconds=0.05, backend=None, flags=None)
    async with app.run_test(size=(100, 20)) as pilot:
        await settle(pilot, app, lambda: "50 lines" in status(app) and "first line 49" in screen_text(app))
        await pilot.press("tab")
        await settle(pilot, app, lambda: "70 lines" in status(app) and "second line 69" in screen_text(app))
        with first.open("a") as f:
            f.write("first line 50\n")
        with second.open("a") as f:
            f.write("second line 70\n")
        await settle(pilot, app, lambda: "second line 70" in screen_text(app))
        await pilot.press("shift+tab")
        await settle(pilot, app, lambda: "51 lines" in status(app) and "first line 50" in screen_text(app))
        assert app.tab.path == first


async def test_wrap_folds_long_lines_and_still_follows_the_end(tmp_path: Path) -> None:
    path = tmp_path / "long.log"
    path.write_text("".join(f"{i} " + "x" * 150 + f" end{i}\n" for i in range(30)))
    app = LogptApp(path, poll_seconds=0.05, backend=None, flags=None)
    async with app.run_test(size=(80, 20)) as pilot:
        await settle(pilot, app, lambda: "30 lines" in status(app))
        assert "end29" not in screen_text(app)  # past the right edge
        await pilot.press("W")
        await settle(pilot, app, lambda: "end29" in screen_text(app) and "wrap" in status(app))
        view = app.query_one(LogView)
        assert all(
            view.render_line(y).cell_length == view.scrollable_content_region.width for y in range(view.size.height)
        )
        with path.open("a") as f:
            f.write("30 " + "y" * 150 + " end30\n")
        await settle(pilot, app, lambda: "end30" in screen_text(app))  # following shows the newest line whole
        await pilot.press("g")
        assert screen_text(app).lstrip().startswith("1 ") and "end0" in screen_text(app)
        await pilot.press("W")
        assert "end0" not in screen_text(app)


async def test_n_and_p_move_between_chunks_unless_searching(log: Path) -> None:
    app = LogptApp(log, poll_seconds=0.05, backend=FakeBackend(), flags=None)
    async with app.run_test(size=(120, 22)) as pilot:  # a view of 20 rows
        await settle(pilot, app, lambda: "chunk 167/167" in status(app))  # the cursor's: the last line
        await pilot.press("p", "p")
        assert "chunk 165/167" in status(app)
        await pilot.press("n")
        assert "chunk 166/167" in status(app)
        await pilot.press("slash", *"request 5", "enter")
        await settle(pilot, app, lambda: app.view.current is not None)
        found = app.view.current
        await pilot.press("n")  # searching: the next match
        await settle(pilot, app, lambda: app.view.current != found)
        assert "request 5" in app.tab.source.line(app.view.current)
        await pilot.press("escape")  # ends the search: n is the next chunk again
        k = app.tab.current_chunk()
        await pilot.press("n")
        assert app.tab.current_chunk() == k + 1


def test_minimap_rows_are_proportional_and_shaded_by_chunk() -> None:
    from engine.detect.pipeline import Flag
    from logpt_tui.explorer.flagset import FlagSet
    from logpt_tui.explorer.widgets.minimap import bins_for

    flags = FlagSet()
    flags.reset([Flag(n, "window 1", "t", "unseen template", ()) for n in (5, 6, 7, 95)], 100)
    starts = [0, 10, 20, 30, 40, 50, 60, 70, 80, 90]
    rows = bins_for(starts, 100, 20, flags)  # two rows per chunk, shaded alike
    assert [(b.first, b.last, b.start, b.stop, b.flagged) for b in rows[:3]] == [
        (0, 5, 0, 10, 3), (5, 10, 0, 10, 3), (10, 15, 10, 20, 0)]  # fmt: skip
    assert rows[-1].flagged == 1 and len(rows) == 20
    grouped = bins_for(starts, 100, 4, flags)  # a row over several chunks sums them
    assert [(b.start, b.stop, b.flagged) for b in grouped] == [(0, 30, 3), (20, 50, 0), (50, 80, 0), (70, 100, 1)]
    by_lines = bins_for(None, 100, 5, flags)  # no chunks yet: the rows' own lines
    assert [(b.start, b.stop, b.flagged) for b in by_lines] == [
        (0, 20, 3),
        (20, 40, 0),
        (40, 60, 0),
        (60, 80, 0),
        (80, 100, 1),
    ]
    assert len(bins_for(None, 3, 10, flags)) == 3 and bins_for(None, 0, 5, flags) == []


async def test_minimap_click_jumps_and_a_click_on_a_flagged_line_shows_why(tmp_path: Path) -> None:
    from engine.detect.pipeline import Flag
    from logpt_tui.explorer.widgets.minimap import Minimap

    path = tmp_path / "m.log"
    path.write_text("".join(f"line {i}\n" for i in range(1, 401)))
    app = LogptApp(path, poll_seconds=0.05, backend=None, flags=None)
    async with app.run_test(size=(100, 22)) as pilot:
        await settle(pilot, app, lambda: "400 lines" in status(app))
        tab = app.tab
        tab.post_message(FlagsFound([Flag(3, "window 1", "line <*>", "rank 9, p=0.001", ("line <*>",))], 400))
        await settle(pilot, app, lambda: len(tab.state.flags.found) == 1)
        minimap = app.query_one(Minimap)
        assert minimap.bins[0].flagged == 1 and minimap.render_line(0).text.strip("┃ ") != "··"
        await pilot.click(Minimap, offset=(1, 0))  # the first row: the file's start
        await settle(pilot, app, lambda: app.view.current == 0)
        assert screen_text(app).split("\n")[0].split() == ["1", "line", "1"]
        await pilot.click(LogView, offset=(10, 2))  # line 3, the flagged one
        await settle(pilot, app, lambda: "Why line 3 is flagged" in panel_text(app))


async def test_command_palette_runs_explorer_actions(log: Path) -> None:
    app = LogptApp(log, poll_seconds=0.05, backend=None, flags=None)
    async with app.run_test(size=(100, 24)) as pilot:
        await settle(pilot, app, lambda: "1,000 lines" in status(app))
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Wrap long lines on / off" in titles and "Root cause of this chunk" in titles
        await pilot.press("ctrl+p", *"wrap long", "enter")
        await settle(pilot, app, lambda: app.view.wrap)


async def test_the_chosen_theme_is_remembered(log: Path, tmp_path: Path) -> None:
    settings = tmp_path / "config" / "tui.json"
    app = LogptApp(log, poll_seconds=60, backend=None, flags=None, settings=settings)
    async with app.run_test(size=(80, 12)) as pilot:
        await settle(pilot, app, lambda: "1,000 lines" in status(app))
        app.theme = "nord"
        await pilot.pause(0.05)
    assert LogptApp(log, backend=None, flags=None, settings=settings).theme == "nord"
    settings.write_text("not json")
    assert LogptApp(log, backend=None, flags=None, settings=settings).theme == "textual-dark"


async def test_appended_lines_extend_the_chunks_and_keep_the_replies(log: Path) -> None:
    backend = FakeBackend()
    app = LogptApp(log, poll_seconds=0.05, backend=backend, flags=None)
    async with app.run_test(size=(120, 22)) as pilot:  # a view of 20 rows
        await settle(pilot, app, lambda: "chunk 167/167" in status(app))
        await pilot.press("p", "s")
        await settle(pilot, app, lambda: app.tab.panel.replies != {})
        starts = list(app.tab.state.plan.starts)
        with log.open("a") as f:
            f.write("".join(f"Nov 21 10:01:00 web-01 app[1]: request {i} ok\n" for i in range(1001, 1031)))
        await settle(pilot, app, lambda: app.tab.state.plan.planned == 1030)
        assert app.tab.state.plan.starts[: len(starts)] == starts and len(app.tab.state.plan) > len(starts)
        assert app.tab.panel.replies != {} and len(backend.calls) == 1


def test_main_rejects_a_missing_file_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from logpt_tui.explorer.app import main

    with pytest.raises(SystemExit) as exit_info:
        main([str(tmp_path / "nope.log")])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "nope.log" in err and "\n" not in err
    with pytest.raises(SystemExit):
        main([str(tmp_path)])
    assert "is a directory" in capsys.readouterr().err
    (tmp_path / "ok.log").write_text("a line\n")
    with pytest.raises(SystemExit):
        main(["--theme", "no-such-theme", str(tmp_path / "ok.log")])
    assert "unknown theme 'no-such-theme'" in capsys.readouterr().err


async def test_a_large_file_shows_its_end_before_the_index_is_built(log: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    from engine.logs.logsource import LogSource

    release = threading.Event()
    index = LogSource.index

    def slow_index(self, on_progress=None):  # noqa: ANN001, ANN202
        release.wait(10)
        return index(self, on_progress)

    monkeypatch.setattr("logpt_tui.explorer.tab.PREVIEW_ABOVE_BYTES", 0)
    monkeypatch.setattr(LogSource, "index", slow_index)
    app = LogptApp(log, poll_seconds=0.05, backend=None, flags=None)
    async with app.run_test(size=(100, 20)) as pilot:
        await settle(pilot, app, lambda: "request 1000 ok" in screen_text(app))
        assert "0 lines" in status(app) and screen_text(app).split("\n")[0].startswith("  … ")
        release.set()
        await settle(pilot, app, lambda: "1,000 lines" in status(app) and "1000  Nov 21" in screen_text(app))
        assert app.view.preview is None


def test_without_a_file_the_journal_then_a_system_log_then_a_clear_error(tmp_path: Path) -> None:
    import stat

    from engine.errors import LogptError
    from logpt_tui.explorer.follow import CLEANUPS, system_log

    journal = tmp_path / "journalctl"  # a journal with entries: its output is spooled and followed
    journal.write_text("#!/bin/sh\necho '2026-11-20T10:00:00+0000 host sshd[1]: Accepted publickey'\nsleep 0\n")
    journal.chmod(journal.stat().st_mode | stat.S_IEXEC)
    path, name = system_log(str(journal), files=())
    try:
        for _ in range(100):
            if path.read_text():
                break
            import time

            time.sleep(0.02)
        assert name == "journal" and "Accepted publickey" in path.read_text()
    finally:
        for cleanup in CLEANUPS:
            cleanup()
        CLEANUPS.clear()
    empty = tmp_path / "empty-journalctl"
    empty.write_text("#!/bin/sh\n")
    empty.chmod(empty.stat().st_mode | stat.S_IEXEC)
    syslog = tmp_path / "syslog"
    syslog.write_text("Nov 20 10:00:00 host cron[1]: ok\n")
    assert system_log(str(empty), files=(tmp_path / "absent", syslog)) == (syslog, None)
    with pytest.raises(LogptError, match="no log given") as error:
        system_log(str(empty), files=(tmp_path / "absent",))
    assert "logpt-tui FILE" in error.value.hint
