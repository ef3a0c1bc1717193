"""The status bar follows the tab by its typed fields: after each key, the line it renders is the one the tab's state
gives, worked out here from the state the slow way (as the hand-written `update_status` did before the bar had
fields); nobody renders it by hand."""

from __future__ import annotations

import contextlib
from bisect import bisect_left
from pathlib import Path

import pytest

from logpt_tui.explorer.app import LogptApp
from logpt_tui.explorer.status import Part, fit
from logpt_tui.explorer.tab import LogTab
from logpt_tui.explorer.widgets.status_bar import StatusBar
from tests.logpt_tui.explorer.test_app import FakeBackend, settle, status


def reference(tab: LogTab) -> str:
    """The bar's line read from the tab's state, its view and its source, with nothing of the bar's fields."""
    n, view, state, plan = len(tab.source), tab.view, tab.state, tab.state.plan
    search, at = state.search, view.current
    found = ""
    if search.pattern is not None:
        k = bisect_left(search.matches, at) if at is not None else len(search.matches)
        hit = k + 1 if at is not None and k < len(search.matches) and search.matches[k] == at else "–"
        total = f"{len(search.matches):,}{'' if search.counted else '…'}"
        found = f"{hit}/{total}"
        case = "" if search.ignore_case else " (case)"
    parts = [Part(Path(tab.display_name).name, 0), Part(f"{n:,} line{'' if n == 1 else 's'}", 0),
             Part(f"line {at + 1:,}" if at is not None else "", 0), Part(tab.indexing, 0),
             Part(state.format.name if state.format is not None else "", 3), Part(tab.time_span(), 2),
             Part(f"/{search.pattern.pattern}/{case} match {found}", 1, found) if found else Part(""),
             Part("following" if view.follow else "paused", 0), Part("wrap" if view.wrap else "", 2),
             Part(f"+{state.new_since_scroll:,} new" if state.new_since_scroll and not view.follow else "", 1)]  # fmt: skip
    if plan is not None and len(plan):
        k = plan.chunk_of(view.current if view.current is not None else -1)
        parts.append(Part(f"chunk {k + 1 if k is not None else '–'}/{len(plan):,}{'+' if plan.planned < n else ''}", 1))
    if state.filter.rule.active:
        rows = len(state.filter.rows)
        parts.append(Part(f"filter {state.filter.rule.describe()}: {rows:,} shown", 1, f"filter: {rows:,} shown"))
    if state.templates.picked is not None:
        parts.append(Part(f"template {state.templates.picked}: {view.row_count:,} lines", 1))
    if state.flags.only:
        parts.append(Part(f"flagged only: {view.row_count:,} shown", 0))
    if state.queued is not None:
        parts.append(Part(f"{state.queued[0].replace('_', ' ')} queued", 1))
    parts += [tab.flag_part(), Part(tab.model_state, 1, tab.model_state.split(" · ")[0])]
    return fit(parts, tab.status.size.width - 2)


@pytest.mark.slow  # ~10 s on the 2-core VM: ~30 keys driven, each checked against the tab's state
async def test_the_bar_follows_every_field_the_keys_change(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    path.write_text("".join(f"Nov 21 10:{i // 60:02d}:{i % 60:02d} web-01 app[1]: request {i} "
                            f"{'ERROR db down' if i % 10 == 0 else 'ok'}\n" for i in range(1, 601)))  # fmt: skip
    app = LogptApp(path, poll_seconds=0.05, backend=FakeBackend(), flags=None)
    async with app.run_test(size=(200, 24)) as pilot:
        await settle(pilot, app, lambda: "chunk 1" in status(app) and "fake · cpu" in status(app))
        tab, seen = app.tab, set()
        steps: list[tuple[str, ...]] = [
            ("g",), ("j", "j"), ("W",), ("W",), ("G",), ("f",), ("f",),  # cursor, wrap, follow
            ("left_square_bracket",), ("p",), ("right_square_bracket",),  # chunks
            ("slash", *"request 5", "enter"), ("n",), ("n",), ("N",), ("C",), ("escape",), ("escape",),  # search
            ("colon", *"250", "enter"), ("colon", *"10:05", "enter"),  # go to a line, a time
            ("L", "L"), ("x", *"request 10 ", "enter"), ("x", "enter"), ("L", "L"),  # filters
            ("F",), ("F",), ("t",), ("enter",), ("escape",), ("t",), ("escape",),  # flagged only, a template
        ]
        for keys in steps:
            await pilot.press(*keys)
            # the workers done and the bar drawn (what the view laid out is told to the bar by a message)
            with contextlib.suppress(AssertionError):
                await settle(pilot, app, lambda: not [w for w in tab.workers if not w.is_finished]
                             and status(app) == reference(tab), tries=40)  # fmt: skip
            assert status(app) == reference(tab), keys
            seen.add(status(app))
        with path.open("a") as f:  # paused: appended lines are counted
            f.write("Nov 21 10:11:00 web-01 app[1]: late 1\nNov 21 10:11:01 web-01 app[1]: late 2\n")
        await settle(pilot, app, lambda: "602 lines" in status(app))
        assert status(app) == reference(tab) and "+2 new" in status(app)
        await pilot.press("r")  # a query the bar shows while its chunk waits
        tab.model_ready(None, "no model: gone")  # the app's model failed: the tab's bound reactive
        await pilot.pause()
        assert status(app) == reference(tab) and status(app).endswith("no model: gone")
    assert len(seen) > 15 and any("template " in s for s in seen) and any("flagged only" in s for s in seen)
    assert not hasattr(LogTab, "update_status")  # fields, not a hand-written render


def test_the_bar_renders_from_its_fields_alone() -> None:
    bar = StatusBar()
    bar.title, bar.lines, bar.cursor, bar.following, bar.new_lines = "a.log", 12, 3, False, 5
    assert [p.text for p in bar.parts() if p.text] == ["a.log", "12 lines", "line 4", "paused", "+5 new"]
    bar.search, bar.queued, bar.template, bar.shown = Part("/x/ match 1/2", 1, "1/2"), "root_cause", "7", 3
    assert "/x/ match 1/2 · paused · +5 new · template 7: 3 lines · root cause queued" in fit(bar.parts(), 200)
