"""`v`: the record under the cursor, whole, in the side panel."""

from __future__ import annotations

import json
from pathlib import Path

from logpt_tui.explorer.app import LogptApp
from tests.logpt_tui.explorer.test_app import panel_text, settle, status
from tests.logpt_tui.explorer.test_time import jump


async def test_v_shows_a_json_record_pretty_and_a_stack_trace_whole(tmp_path: Path) -> None:
    log = tmp_path / "mixed.log"
    records = [json.dumps({"time": f"2026-11-20T10:00:0{i}Z", "level": "info", "msg": f"tick {i}", "n": i})
               for i in range(3)]  # fmt: skip
    log.write_text("\n".join(records) + "\n")
    app = LogptApp(log, backend=None, flags=None)
    async with app.run_test(size=(140, 30)) as pilot:
        await settle(pilot, app, lambda: "3 lines" in status(app))
        await jump(pilot, "2")
        await pilot.press("v")
        text = panel_text(app)
        assert "**json** record, line 2" in text and "| `msg` | `tick 1` |" in text and '"n": 1' in text

    trace = tmp_path / "trace.log"
    trace.write_text("2026-11-20 10:00:01,002 ERROR app: request failed\nTraceback (most recent call last):\n"
                     '  File "/srv/app.py", line 12, in handle\nKeyError: \'DATABASE_URL\'\n'
                     "2026-11-20 10:00:02,003 INFO app: retrying\n")  # fmt: skip
    app = LogptApp(trace, backend=None, flags=None)
    async with app.run_test(size=(140, 30)) as pilot:
        await settle(pilot, app, lambda: "5 lines" in status(app))
        await jump(pilot, "3")  # inside the trace: the record starts two lines up
        await pilot.press("v")
        text = panel_text(app)
        assert "record, line 1–4" in text and "| `level` | `ERROR` |" in text
        assert "3 more lines" in text and "KeyError: 'DATABASE_URL'" in text


async def test_a_journald_export_entry_is_one_record_in_the_record_pane_and_the_templates(tmp_path: Path) -> None:
    from tests.engine.logs.test_journal_export import entry  # noqa: PLC0415

    log = tmp_path / "journal.export"
    n = 1500  # 14 lines an entry, 21,000 lines: the templates view's first batch (20,000) ends inside an entry
    log.write_bytes(b"".join(entry(i, f"Session {i} opened" if i % 4 else f"disk {i} is full", 6, "app", 7)
                             for i in range(n)))  # fmt: skip
    app = LogptApp(log, backend=None, flags=None)
    async with app.run_test(size=(140, 30)) as pilot:
        await settle(pilot, app, lambda: f"{n * 14:,} lines" in status(app))
        await jump(pilot, "20")  # inside the second entry
        await pilot.press("v")
        text = panel_text(app)
        assert "**journal-export** record, line 15–28" in text and "| `MESSAGE` | `Session 1 opened` |" in text
        await pilot.press("t")
        await settle(pilot, app, lambda: app.tab.state.templates.mined() == n * 14)
        keys = app.tab.state.templates.source.keys  # the Templates worker's (no detector: --no-flags)
        assert all(len(set(keys[i * 14 : i * 14 + 14])) == 1 for i in range(n))  # one key per entry
        assert len(set(keys)) == 2
