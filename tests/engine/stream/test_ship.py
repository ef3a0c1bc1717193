"""`logpt ship` against a real Redis: one entry per record, positions kept with the entries, and no record lost
or repeated across a shipper killed with SIGKILL, a Redis restart, a rotation."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

redis = pytest.importorskip("redis")

from engine.stream.ship import ship_files  # noqa: E402


def entries(client, stream: str = "logs") -> list[dict[str, str]]:  # noqa: ANN001
    return [{k.decode(): v.decode() for k, v in fields.items()} for _id, fields in client.xrange(stream)]


def test_one_entry_per_record_with_a_stack_trace_whole(redis_server, tmp_path: Path) -> None:  # noqa: ANN001
    log = tmp_path / "app.log"
    log.write_text("2026-11-20 10:00:00,001 INFO app: up\n2026-11-20 10:00:01,002 ERROR app: failed\n"
                   "Traceback (most recent call last):\n  File \"x.py\", line 1, in f\nKeyError: 'DATABASE_URL'\n"
                   "2026-11-20 10:00:02,003 INFO app: retrying\n")  # fmt: skip
    client = redis.Redis.from_url(redis_server.url)
    assert ship_files(client, [log], once=True) == 3
    got = entries(client)
    assert [(e["line"], e["lines"]) for e in got] == [("1", "1"), ("2", "4"), ("6", "1")]
    assert got[1]["text"].endswith("KeyError: 'DATABASE_URL'") and got[1]["source"] == str(log)
    assert int(got[2]["offset"]) == log.read_bytes().index(b"2026-11-20 10:00:02")
    assert ship_files(client, [log], once=True) == 0  # the position is kept: nothing twice


def test_a_record_still_growing_waits_and_the_file_is_followed(redis_server, tmp_path: Path) -> None:  # noqa: ANN001
    log = tmp_path / "app.log"
    log.write_text("")
    client = redis.Redis.from_url(redis_server.url)
    stop = threading.Event()
    thread = threading.Thread(target=ship_files, args=(client, [log]),
                              kwargs={"stop": stop.is_set, "flush_s": 0.3, "poll_s": 0.02})  # fmt: skip
    thread.start()
    try:
        with log.open("a") as f:
            f.write("10:00:00 ERROR boom\n")
            f.flush()
            time.sleep(0.1)  # quiet for less than flush_s: a trace line may still come
            f.write("    at Foo.bar(Foo.java:1)\n")
            f.flush()
        deadline = time.monotonic() + 5
        while not entries(client) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert [e["text"] for e in entries(client)] == ["10:00:00 ERROR boom\n    at Foo.bar(Foo.java:1)"]
        os.rename(log, tmp_path / "app.log.1")  # rotation: the new file is read from its start
        log.write_text("10:01:00 INFO fresh\n")
        while len(entries(client)) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert entries(client)[-1]["text"] == "10:01:00 INFO fresh"
    finally:
        stop.set()
        thread.join(10)


def ship_process(url: str, log: Path) -> subprocess.Popen:
    code = ("import sys, redis; from pathlib import Path; from engine.stream.ship import ship_files; "
            "ship_files(redis.Redis.from_url(sys.argv[1]), [Path(sys.argv[2])], poll_s=0.01, flush_s=0.05)")  # fmt: skip
    return subprocess.Popen([sys.executable, "-c", code, url, str(log)], cwd=Path(__file__).resolve().parents[3])


@pytest.mark.slow  # six shippers SIGKILLed while 120k lines are written: ~15 s; CI runs -m slow
def test_sigkill_at_any_moment_loses_and_repeats_nothing(redis_server, tmp_path: Path) -> None:  # noqa: ANN001
    log = tmp_path / "busy.log"
    log.write_text("")
    client = redis.Redis.from_url(redis_server.url)
    written, cut_short, rng = 0, 0, random.Random(11)
    for _ in range(6):  # a shipper killed while it is sending, six times, while the file grows
        before = client.xlen("logs")
        shipper = ship_process(redis_server.url, log)
        with log.open("a") as f:
            for _ in range(20_000):
                written += 1
                f.write(f"2026-11-20T10:00:00Z INFO api: request {written}\n")
        deadline = time.monotonic() + 10
        while client.xlen("logs") == before and time.monotonic() < deadline:
            time.sleep(0.005)
        time.sleep(rng.uniform(0, 0.05))
        shipper.send_signal(signal.SIGKILL)
        shipper.wait()
        cut_short += client.xlen("logs") < written
    assert cut_short >= 3  # most kills landed while records were still being sent
    ship_files(client, [log], once=True)  # a last, clean run sends the rest
    lines = [int(e["line"]) for e in entries(client)]
    assert lines == list(range(1, written + 1))


def test_redis_restarted_with_aof_the_shipper_reconnects_and_resumes(redis_server, tmp_path: Path) -> None:  # noqa: ANN001
    log = tmp_path / "steady.log"
    log.write_text("")
    client = redis.Redis.from_url(redis_server.url, socket_timeout=2)
    stop = threading.Event()
    thread = threading.Thread(target=ship_files, args=(client, [log]),
                              kwargs={"stop": stop.is_set, "flush_s": 0.05, "poll_s": 0.01})  # fmt: skip
    thread.start()
    try:
        with log.open("a") as f:
            for i in range(1, 4001):
                f.write(f"2026-11-20T10:00:00Z INFO api: request {i}\n")
                if i == 1500:
                    f.flush()
                    time.sleep(0.3)
                    redis_server.stop()  # down while the file grows
                    time.sleep(1.0)
                    redis_server.start()  # the AOF brings the stream and the positions back
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if len(entries(client)) >= 4000:
                    break
            except redis.exceptions.ConnectionError:
                pass
            time.sleep(0.1)
        assert [int(e["line"]) for e in entries(client)] == list(range(1, 4001))
    finally:
        stop.set()
        thread.join(10)


def test_a_pipe_is_shipped_record_by_record(redis_server) -> None:  # noqa: ANN001
    from engine.stream.ship import ship_lines

    client = redis.Redis.from_url(redis_server.url)
    text = ["10:00:00 INFO up\n", "10:00:01 ERROR failed\n", "Traceback (most recent call last):\n",
            "  File \"x.py\", line 1\n", "10:00:02 INFO done"]  # fmt: skip
    assert ship_lines(client, iter(text)) == 3
    got = entries(client)
    assert [(e["line"], e["lines"], e["source"]) for e in got] == [("1", "1", "stdin"), ("2", "3", "stdin"),
                                                                  ("5", "1", "stdin")]  # fmt: skip
    assert got[1]["text"] == '10:00:01 ERROR failed\nTraceback (most recent call last):\n  File "x.py", line 1'


def stream_a_string(client, log: Path) -> tuple[str, str]:  # noqa: ANN001
    client.set("strings", "not a stream")
    return "strings", "holds another type"


def position_a_string(client, log: Path) -> tuple[str, str]:  # noqa: ANN001
    from engine.stream.ship import position_key

    client.set(position_key("logs", log), "not a hash")
    return "logs", "holds another type"


def position_corrupt(client, log: Path) -> tuple[str, str]:  # noqa: ANN001
    from engine.stream.ship import position_key

    client.hset(position_key("logs", log), mapping={"inode": log.stat().st_ino, "offset": "abc", "line": 3})
    return "logs", "is corrupt"


@pytest.mark.parametrize("spoil", [stream_a_string, position_a_string, position_corrupt])
def test_keys_of_the_wrong_type_and_corrupt_positions_are_one_line_errors(redis_server, tmp_path: Path, spoil) -> None:  # noqa: ANN001
    from engine.errors import InputError

    client = redis.Redis.from_url(redis_server.url)
    log = tmp_path / "a.log"
    log.write_text("".join(f"2026-11-20T10:00:00Z INFO api: request {i}\n" for i in range(1, 11)))
    stream, message = spoil(client, log)
    with pytest.raises(InputError, match=message):
        ship_files(client, [log], stream=stream, once=True)


def test_a_second_shipper_of_one_file_is_refused_while_the_first_holds_it(redis_server, tmp_path: Path) -> None:  # noqa: ANN001
    from engine.errors import InputError
    from engine.stream.ship import FileShipper

    client = redis.Redis.from_url(redis_server.url)
    log = tmp_path / "a.log"
    log.write_text("".join(f"2026-11-20T10:00:00Z INFO api: request {i}\n" for i in range(1, 11)))
    first = FileShipper(client, "logs", log, None)  # holds the file's lease, as a running shipper does
    with pytest.raises(InputError, match="another logpt ship is shipping"):
        ship_files(client, [log], once=True)
    first.release()
    assert ship_files(client, [log], once=True) == 10 and not client.exists(first.lease)  # released at the end


def test_a_pipe_without_newlines_is_read_in_bounded_pieces() -> None:
    import io

    from engine.stream.ship import bounded_lines

    endless = io.StringIO("y" * 100_000 + "\nnext\n" + "z" * 25)  # `yes | tr -d '\n'`, then more
    assert [len(line) for line in bounded_lines(endless, cap=1000)] == [1001, 5, 25]  # the long line cut at 1,000
    assert list(bounded_lines(io.StringIO("a" * 10 + "\nb\n"), cap=10)) == ["a" * 10 + "\n", "b\n"]  # exactly cap


def test_a_long_record_is_cut_to_the_consumers_cap_and_a_last_line_without_newline_is_sent(
    redis_server, tmp_path: Path  # noqa: ANN001
) -> None:
    """A 100,000-character line of two-byte characters is sent cut to MAX_RECORD_BYTES of UTF-8 (what `serve`
    judges, not a dead letter), never inside a character; `--once` sends the last line although no newline ends it."""
    from engine.stream import MAX_RECORD_BYTES  # noqa: PLC0415

    log = tmp_path / "app.log"
    log.write_text("2026-11-20 10:00:00,001 INFO app: " + "é" * 100_000 + "\n2026-11-20 10:00:01,002 ERROR app: last")
    client = redis.Redis.from_url(redis_server.url)
    assert ship_files(client, [log], once=True) == 2
    raw = [fields[b"text"] for _id, fields in client.xrange("logs")]
    assert MAX_RECORD_BYTES - 1 <= len(raw[0]) <= MAX_RECORD_BYTES
    assert raw[0].decode("utf-8").endswith("é") and raw[1] == b"2026-11-20 10:00:01,002 ERROR app: last"
    assert ship_files(client, [log], once=True) == 0  # run again on the same file: nothing twice
    with log.open("a") as f:
        f.write(" line, now ended\n2026-11-20 10:00:02,003 INFO app: next\n")
    assert ship_files(client, [log], once=True) == 1  # the grown last line is not sent again; the next one is
    assert client.xrange("logs")[-1][1][b"line"] == b"3"


def test_sigterm_while_redis_is_down_ends_with_one_line(redis_server, tmp_path: Path) -> None:  # noqa: ANN001
    """`logpt ship` waiting for a Redis that went away stops on SIGTERM at once: exit status, no traceback."""
    log = tmp_path / "app.log"
    log.write_text("".join(f"2026-11-20T10:00:00Z INFO api: request {i}\n" for i in range(100)))
    shipper = subprocess.Popen([sys.executable, "-c", "from logpt_tui.cli import main; main()", "ship", str(log), "--redis", redis_server.url],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               cwd=Path(__file__).resolve().parents[3])  # fmt: skip
    client = redis.Redis.from_url(redis_server.url)
    deadline = time.monotonic() + 30
    while client.xlen("logs") < 100 and time.monotonic() < deadline:
        time.sleep(0.05)
    redis_server.stop()
    with log.open("a") as f:
        f.write("2026-11-20T10:00:01Z INFO api: after the fall\n")
    time.sleep(1.0)  # the shipper is retrying now
    shipper.send_signal(signal.SIGTERM)
    out, err = shipper.communicate(timeout=20)
    assert "Traceback" not in err and "Traceback" not in out, err
    assert shipper.returncode == 0, (shipper.returncode, err)  # stopped as asked: what was complete was sent
    assert "100 records sent" in out + err, (out, err)
