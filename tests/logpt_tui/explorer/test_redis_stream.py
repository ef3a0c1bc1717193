"""`logpt-tui redis://…/STREAM`: a real Redis stream followed like a file, across a Redis restart."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from engine.errors import LogptError
from logpt_tui.explorer.app import LogptApp, open_argument
from logpt_tui.explorer.follow import CLEANUPS
from logpt_tui.explorer.redis_stream import entry_text, parse_stream_url
from tests.logpt_tui.explorer.test_app import screen_text, settle, status


def wait_for(path: Path, text: str, timeout: float = 10) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        content = path.read_text()
        if text in content:
            return content
        time.sleep(0.02)
    raise AssertionError(f"{text!r} not in {path.read_text()!r}")


@contextlib.asynccontextmanager
async def stream_app(port: int, key: str, ready: str, size: tuple[int, int]) -> AsyncIterator[tuple]:
    """The explorer on `redis://127.0.0.1:PORT/KEY` once its local copy holds `ready`: (app, pilot, name); the
    stream readers are stopped after."""
    try:
        path, name = open_argument(f"redis://127.0.0.1:{port}/{key}")
        wait_for(path, ready)
        app = LogptApp(path, name=name, poll_seconds=0.05, backend=None, flags=None)
        async with app.run_test(size=size) as pilot:
            yield app, pilot, name
    finally:
        for cleanup in CLEANUPS:
            cleanup()
        CLEANUPS.clear()


def test_urls_and_entries() -> None:
    assert parse_stream_url("redis://127.0.0.1:6390/logs:flags") == ("redis://127.0.0.1:6390/0", "logs:flags")
    assert parse_stream_url("redis://h:1/logs?db=3") == ("redis://h:1/3", "logs")
    with pytest.raises(LogptError, match="no stream"):
        parse_stream_url("redis://127.0.0.1:6379/")
    assert entry_text({b"text": b"a\nb", b"line": b"3"}) == "a\nb"
    assert entry_text({b"level": b"error", b"why": b"novel template"}) == 'level=error why="novel template"'
    flag = {b"text": b"10:00 kernel: BUG\n  trace", b"why": b"template never seen", b"score": b"2.0"}
    assert entry_text(flag) == "10:00 kernel: BUG  ⟵ flagged: template never seen (score 2.0)\n  trace"


async def test_a_stream_is_followed_like_a_file_across_a_redis_restart(redis_server) -> None:  # noqa: ANN001
    import redis

    client = redis.Redis.from_url(redis_server.url)
    for i in range(1, 101):
        client.xadd(
            "logs", {"source": "/var/log/app.log", "line": i, "text": f"Nov 21 10:00:00 web-01 app[1]: req {i}"}
        )
    async with stream_app(redis_server.port, "logs", "req 100\n", (100, 20)) as (app, pilot, name):
        assert name == f"logs @ 127.0.0.1:{redis_server.port}"
        await settle(pilot, app, lambda: "100 lines" in status(app) and "req 100" in screen_text(app))
        client.xadd("logs", {"text": "Nov 21 10:00:01 web-01 app[1]: ERROR db down\n  at Db.connect"})
        await settle(pilot, app, lambda: "102 lines" in status(app) and "at Db.connect" in screen_text(app))
        redis_server.stop()
        time.sleep(0.5)
        redis_server.start()  # the AOF brings the stream back; the reader goes on from the last entry
        client.xadd("logs", {"text": "Nov 21 10:00:02 web-01 app[1]: after the restart"})
        await settle(pilot, app, lambda: "after the restart" in screen_text(app), tries=200)
        assert "103 lines" in status(app)  # nothing repeated


def test_a_key_that_is_no_stream_or_no_server_is_one_line(redis_server) -> None:  # noqa: ANN001
    import redis

    redis.Redis.from_url(redis_server.url).set("plain", "x")
    with pytest.raises(LogptError, match="is a string, not a stream"):
        open_argument(f"redis://127.0.0.1:{redis_server.port}/plain")
    with pytest.raises(LogptError, match="does not answer"):
        open_argument("redis://127.0.0.1:1/logs")


def test_a_stream_key_briefly_of_another_type_does_not_end_the_following(redis_server) -> None:  # noqa: ANN001
    import redis

    client = redis.Redis.from_url(redis_server.url)
    client.xadd("logs", {"text": "first"})
    try:
        path, _name = open_argument(f"redis://127.0.0.1:{redis_server.port}/logs")
        wait_for(path, "first\n")
        client.delete("logs")
        client.set("logs", "briefly a string")  # XREAD answers WRONGTYPE now
        time.sleep(1.5)
        client.delete("logs")
        client.xadd("logs", {"text": "second"}, id="9999999999999-0")  # a stream again, after the last id read
        assert wait_for(path, "second\n").splitlines() == ["first", "second"]
    finally:
        for cleanup in CLEANUPS:
            cleanup()
        CLEANUPS.clear()


async def test_stream_rows_are_numbered_by_their_source_file_and_line(redis_server) -> None:  # noqa: ANN001
    """Two shipped files and a flag: each row shows its file and its line there (a record of two lines: two
    lines in a row), an entry that named no file its place in the stream."""
    import redis

    client = redis.Redis.from_url(redis_server.url)
    client.xadd("logs", {"source": "/var/log/app.log", "line": 1241, "text": "10:00 app: ERROR db down\n  at Db.connect"})
    client.xadd("logs", {"source": "/srv/other/web.log", "line": 7, "text": "10:00 web: GET / 500"})
    client.xadd("logs", {"source": "/var/log/app.log", "line": 1243, "text": "10:01 app: retrying",
                         "why": "template never seen", "score": "2.0"})  # fmt: skip
    client.xadd("logs", {"text": "10:02 hand-written entry"})
    async with stream_app(redis_server.port, "logs", "hand-written entry\n", (100, 20)) as (app, pilot, _name):
        await settle(pilot, app, lambda: "5 lines" in status(app))
        rows = [line.rstrip() for line in screen_text(app).splitlines()[:5]]
        assert rows[0].startswith("1241 app.log") and "ERROR db down" in rows[0], rows
        assert rows[1].startswith("1242 app.log") and "at Db.connect" in rows[1], rows
        assert rows[2].startswith("   7 web.log") and "GET / 500" in rows[2], rows
        assert rows[3].startswith("1243 app.log") and "flagged: template never seen" in rows[3], rows
        assert rows[4].startswith("   5 ") and "hand-written entry" in rows[4], rows


INCIDENT = {
    "incident": "1700000000000-300", "source": "/var/log/app.log", "first_line": "301", "last_line": "306",
    "flags": "6", "why": "novel ×6, severity ×6", "lines": "281-326", "category": "memory",
    "signature": "Host ran out of memory (global OOM)",
    "onset": json.dumps([299, "first warning before the errors", "10:04:59 kernel: low memory"]),
    "evidence": json.dumps(["line 301: `10:05:00 kernel: Out of memory: Killed process 4000 (java)`", "host: web-01 (6)",
                            "flagged line 301: template never seen"]),
    "flagged": json.dumps([[301 + k, "template never seen"] for k in range(6)]),
    "root_cause": "## Root cause\n**Category:** memory\n…",
}  # fmt: skip


def test_an_incident_shows_as_rows_that_say_its_source_lines_and_cause() -> None:
    rows = entry_text({k.encode(): v.encode() for k, v in INCIDENT.items()}).split("\n")
    assert rows[0] == ("incident: memory: Host ran out of memory (global OOM) · app.log lines 301-306 · 6 flagged "
                       "(novel ×6, severity ×6)")  # fmt: skip
    assert rows[1] == "  onset (first warning before the errors): 10:04:59 kernel: low memory"
    assert rows[2] == "  evidence: 10:05:00 kernel: Out of memory: Killed process 4000 (java)"
    assert rows[3] == "  evidence: host: web-01 (6)"  # the analyst's flagged items are the flagged rows below
    assert rows[4:9] == ["  flagged: template never seen"] * 5 and rows[9] == "  … 1 more flagged"
    assert rows[10] == "  o: its lines here; or logpt-tui /var/log/app.log, then :301 (analysed lines 281-326)"
    assert len(rows) == 11


async def test_incident_rows_are_numbered_by_the_source_lines_they_point_at(redis_server) -> None:  # noqa: ANN001
    import redis

    client = redis.Redis.from_url(redis_server.url)
    client.xadd("{logs}:incidents", INCIDENT)
    opened = stream_app(redis_server.port, "{logs}:incidents", "analysed lines 281-326)\n", (120, 20))
    async with opened as (app, pilot, _name):
        await settle(pilot, app, lambda: "11 lines" in status(app))
        rows = [line.rstrip() for line in screen_text(app).splitlines()[:11]]
        numbers = [row.split()[:2] for row in rows]
        assert numbers == [["301", "app.log"], ["299", "app.log"], ["301", "app.log"], ["301", "app.log"],
                           *[[str(301 + k), "app.log"] for k in range(5)], ["301", "app.log"],
                           ["301", "app.log"]], rows  # fmt: skip
        assert "incident: memory: Host ran out of memory" in rows[0] and "low memory" in rows[1], rows


async def test_o_shows_a_stream_row_s_lines_in_its_source_file(redis_server, tmp_path: Path) -> None:  # noqa: ANN001
    """`o` on an incident's rows: the source file's lines around the row's line in the side panel, the row's own
    line marked; a source that is not on this machine, or a row with no source, is one line saying so."""
    import redis

    source = tmp_path / "app.log"
    source.write_text("".join(f"10:{i // 60:02d}:{i % 60:02d} app: step {i}\n" for i in range(1, 401)))
    client = redis.Redis.from_url(redis_server.url)
    client.xadd("{logs}:incidents", {**INCIDENT, "source": str(source)})
    client.xadd("{logs}:incidents", {**INCIDENT, "source": "/nowhere/app.log", "incident": "1700000000001-0"})
    opened = stream_app(redis_server.port, "{logs}:incidents", "/nowhere/app.log, then :301", (140, 40))
    async with opened as (app, pilot, _name):
        await settle(pilot, app, lambda: "22 lines" in status(app))
        await pilot.press("g", "j")  # the onset row: line 299 of the source
        await pilot.press("o")
        await settle(pilot, app, lambda: app.tab.panel.has_class("-open"))
        head = str(app.tab.panel.query_one("#panel-head").render())
        body = app.tab.panel.query_one("#panel-body").source  # the Markdown given
        assert "Source" in head and f"{source}:299" in head, head
        assert "▶ 299  10:04:59 app: step 299" in body and "  279  10:04:39 app: step 279" in body, body
        assert "  319  10:05:19 app: step 319" in body and "step 320" not in body and "step 278" not in body
        await pilot.press("G")  # the other incident's last row: its source is not on this machine
        await pilot.press("o")
        await pilot.pause(0.3)
        assert any("/nowhere/app.log" in str(n.message) for n in app._notifications), list(app._notifications)
