"""`logpt serve` against a real Redis: ship → serve → flags end to end, a consumer killed with SIGKILL mid-batch
(another claims its entries: nothing lost, nothing flagged twice), bad entries dead-lettered."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

redis = pytest.importorskip("redis")

from engine.detect import Detector  # noqa: E402
from engine.detect.evidence import EvidenceRule  # noqa: E402
from engine.detect.history import mine  # noqa: E402
from engine.logs.formats import detect_format  # noqa: E402
from engine.logs.formats.detect import parse_lines  # noqa: E402
from engine.logs.sessions import group_sessions  # noqa: E402
from engine.logs.templates import TemplateMiner  # noqa: E402
from engine.stream.serve import Consumer, Entry, pipeline_for  # noqa: E402
from engine.stream.ship import ship_files  # noqa: E402
from tests.engine.detect.test_pipeline import random_detector, syslog  # noqa: E402

ROOT = Path(__file__).resolve().parents[3]
NOVEL = "Nov 21 11:00:00 web-01 kernel: BUG: unable to handle page fault for address {n}"


def detector_for(lines: list[str], folder: Path) -> Path:
    """A small detector over the templates of `lines` (random weights: sequence evidence is noise, but a
    template it never saw is novel on every consumer alike), saved as a bundle."""
    fmt = detect_format(lines).format
    miner = TemplateMiner()
    keys = sorted({k for _, k in mine(lines, fmt, miner)})
    detector = random_detector(keys, block=8, complete=False)
    detector.miner_state = miner.to_state()
    detector.save(folder)
    return folder


def log_with_novel_lines(path: Path, n: int, every: int) -> tuple[list[str], set[int]]:
    lines = syslog(n)
    novel = set(range(every, n, every))
    for i in novel:
        lines[i] = NOVEL.format(n=i)
    path.write_text("\n".join(lines) + "\n")
    return lines, {i + 1 for i in novel}


def drain(consumer: Consumer, client, total: int, timeout: float = 60) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        consumer.step()
        pending = client.xpending("logs", "detect")["pending"]
        done = len(client.keys("{logs}:done:*"))
        if pending == 0 and done >= total:
            return
    raise AssertionError(f"not drained: {client.xpending('logs', 'detect')}")


def flags(client) -> list[dict[str, str]]:  # noqa: ANN001
    return [{k.decode(): v.decode() for k, v in f.items()} for _i, f in client.xrange("{logs}:flags")]


def test_ship_serve_flags_end_to_end(redis_server, tmp_path: Path) -> None:  # noqa: ANN001
    client = redis.Redis.from_url(redis_server.url)
    bundle = detector_for(syslog(600), tmp_path / "det")
    log = tmp_path / "syslog"
    lines, novel = log_with_novel_lines(log, 600, 97)
    assert ship_files(client, [log], once=True) == 600
    fmt = detect_format(lines).format
    consumer = Consumer(client, pipeline_for(Detector.load(bundle), fmt, EvidenceRule("combined")), name="c1",
                        batch=128)  # fmt: skip
    drain(consumer, client, 600)
    found = flags(client)
    by_line = {int(f["line"]): f for f in found}
    assert novel <= by_line.keys()  # every planted line, with its why
    assert all("template never seen" in by_line[n]["why"] for n in novel)
    assert json.loads(by_line[min(novel)]["evidence"])[0][0] == "novel"
    assert len({f["entry"] for f in found}) == len(found)  # one flag per entry at most
    assert consumer.stats.entries == 600 and client.llen(f"{{logs}}:ctx:{log}|kernel") > 0  # contexts kept in Redis


@pytest.mark.slow  # subprocess consumers SIGKILLed: ~14 s; CI runs -m slow
def test_a_consumer_killed_mid_batch_loses_and_repeats_nothing(redis_server, tmp_path: Path) -> None:  # noqa: ANN001
    client = redis.Redis.from_url(redis_server.url)
    bundle = detector_for(syslog(600), tmp_path / "det")
    log = tmp_path / "syslog"
    lines, novel = log_with_novel_lines(log, 20_000, 211)
    ship_files(client, [log], once=True)
    code = ("import sys, redis; from pathlib import Path; from engine.detect import Detector; from engine.detect.evidence import EvidenceRule;"
            "from engine.logs.formats import detect_format; from engine.stream.serve import Consumer, pipeline_for, serve;"
            "c = redis.Redis.from_url(sys.argv[1]); fmt = detect_format([l.decode() for l in [c.xrange('logs', count=1)[0][1][b'text']]]).format;"
            "serve(Consumer(c, pipeline_for(Detector.load(Path(sys.argv[2])), fmt, EvidenceRule('combined')), name='doomed', batch=256), lambda: False)")  # fmt: skip

    def holding() -> int:  # entries the doomed consumer has read and not acknowledged
        return {c["name"]: c["pending"] for c in client.xpending("logs", "detect")["consumers"]}.get(b"doomed", 0)

    held, target = 0, 2000
    while not held and target < 20_000:  # a kill in the millisecond between an ack and the next read: again
        doomed = subprocess.Popen([sys.executable, "-c", code, redis_server.url, str(bundle)], cwd=ROOT)
        deadline = time.monotonic() + 60
        while (len(client.keys("{logs}:done:*")) < target or not holding()) and time.monotonic() < deadline:
            time.sleep(0.001)
        doomed.send_signal(signal.SIGKILL)  # mid-batch: it holds entries it has not acknowledged
        doomed.wait()
        held, target = holding(), target + 2000
    assert held > 0 and 0 < len(client.keys("{logs}:done:*")) < 20_000
    fmt = detect_format(lines).format
    rescuer = Consumer(client, pipeline_for(Detector.load(bundle), fmt, EvidenceRule("combined")), name="rescuer",
                       batch=256, claim_idle_ms=300)  # fmt: skip
    drain(rescuer, client, 20_000)
    found = flags(client)
    assert len({f["entry"] for f in found}) == len(found)  # no entry flagged twice
    assert novel <= {int(f["line"]) for f in found}  # no planted line lost
    assert client.xpending("logs", "detect")["pending"] == 0
    ids = [i.decode() for i, _ in client.xrange("logs")]
    assert all(client.exists(f"{{logs}}:done:{i}") for i in ids)  # every entry applied exactly once
    assert rescuer.stats.claimed >= held


def test_bad_entries_go_to_the_dead_letter_stream_and_the_consumer_goes_on(redis_server, tmp_path: Path) -> None:  # noqa: ANN001
    client = redis.Redis.from_url(redis_server.url)
    bundle = detector_for(syslog(600), tmp_path / "det")
    client.xadd("logs", {"source": "a", "line": 1, "text": syslog(10)[1]})  # routine
    client.xadd("logs", {"source": "a", "line": 2})  # no text
    client.xadd("logs", {"source": "a", "line": 3, "text": b"\xff\xfe not utf-8"})
    client.xadd("logs", {"source": "a", "line": 4, "text": "x" * 70_000})
    client.xadd("logs", {"source": "a", "line": 5, "text": NOVEL.format(n=5)})
    fmt = detect_format(syslog(10)).format
    consumer = Consumer(client, pipeline_for(Detector.load(bundle), fmt, EvidenceRule("combined")), name="c1")
    drain(consumer, client, 2)
    reasons = [f[b"reason"].decode() for _i, f in client.xrange("{logs}:dead")]
    assert reasons[0] == "no text field" and "not a record" in reasons[1] and "70,000 bytes" in reasons[2]
    assert [f["line"] for f in flags(client)] == ["5"]


def test_a_batch_is_bounded_by_bytes_as_well_as_entries(redis_server, tmp_path: Path) -> None:  # noqa: ANN001
    """Entries someone else wrote at 2 MB each (over the record cap: dead-lettered) are read a few at a time: after
    the first read, no read holds more than BATCH_BYTES; small entries after them are read in full batches again."""
    from engine.stream import serve as serve_module  # noqa: PLC0415

    client = redis.Redis.from_url(redis_server.url)
    bundle = detector_for(syslog(600), tmp_path / "det")
    for n in range(40):
        client.xadd("logs", {"source": "a", "line": n + 1, "text": "x" * 2_000_000})
    for n, line in enumerate(syslog(400)):
        client.xadd("logs", {"source": "b", "line": n + 1, "text": line})
    fmt = detect_format(syslog(10)).format
    consumer = Consumer(client, pipeline_for(Detector.load(bundle), fmt, EvidenceRule("combined")), name="c1",
                        batch=500)  # fmt: skip
    sizes = []
    read_any = consumer.read_any

    def spy(**options: bool) -> list:
        raw = read_any(**options)
        sizes.append(sum(len(k) + len(v) for _i, f in raw for k, v in f.items()))
        return raw

    consumer.read_any = spy  # type: ignore[method-assign]
    drain(consumer, client, 400)
    assert client.xlen("{logs}:dead") == 40
    assert sizes[0] <= serve_module.FIRST_COUNT * 2_000_100  # before any size is known: FIRST_COUNT entries
    assert max(sizes[1:]) <= serve_module.BATCH_BYTES  # then as many as the byte budget holds
    assert consumer.count > serve_module.FIRST_COUNT  # small entries again: the count grew back


def test_redis_restarted_the_consumer_reconnects_and_finishes(redis_server, tmp_path: Path) -> None:  # noqa: ANN001
    import threading

    from engine.stream.serve import serve

    client = redis.Redis.from_url(redis_server.url, socket_timeout=2)
    bundle = detector_for(syslog(600), tmp_path / "det")
    log = tmp_path / "syslog"
    lines, novel = log_with_novel_lines(log, 6000, 101)
    ship_files(client, [log], once=True)
    consumer = Consumer(client, pipeline_for(Detector.load(bundle), detect_format(lines).format,
                                             EvidenceRule("combined")), name="c1", batch=200)  # fmt: skip
    stop = threading.Event()
    thread = threading.Thread(target=serve, args=(consumer, stop.is_set))
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while len(client.keys("{logs}:done:*")) < 1000 and time.monotonic() < deadline:
            time.sleep(0.01)
        redis_server.stop()  # with AOF (fsync always): what was acknowledged survives
        time.sleep(0.5)
        redis_server.start()
        while time.monotonic() < deadline + 30:
            try:
                if len(client.keys("{logs}:done:*")) >= 6000 and client.xpending("logs", "detect")["pending"] == 0:
                    break
            except redis.exceptions.ConnectionError:
                pass
            time.sleep(0.1)
    finally:
        stop.set()
        thread.join(20)
    found = flags(client)
    assert consumer.stats.reconnects > 0
    assert len({f["entry"] for f in found}) == len(found) and novel <= {int(f["line"]) for f in found}
    assert all(client.exists(f"{{logs}}:done:{i.decode()}") for i, _ in client.xrange("logs"))


def test_metrics_and_probes(redis_server, tmp_path: Path) -> None:  # noqa: ANN001
    import socket
    import urllib.request

    from engine.stream.metrics import Metrics, serve_http

    client = redis.Redis.from_url(redis_server.url)
    bundle = detector_for(syslog(600), tmp_path / "det")
    log = tmp_path / "syslog"
    lines, novel = log_with_novel_lines(log, 500, 97)
    ship_files(client, [log], once=True)
    consumer = Consumer(client, pipeline_for(Detector.load(bundle), detect_format(lines).format,
                                             EvidenceRule("combined")), name="c1", batch=100)  # fmt: skip
    metrics = Metrics()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = serve_http(metrics, port, host="127.0.0.1")
    try:
        for _ in range(8):
            consumer.step()
            metrics.update(consumer)
        metrics._group_at = 0.0  # read the group now
        metrics.update(consumer)

        def get(path: str) -> tuple[int, str]:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}") as reply:  # noqa: S310 - local
                    return reply.status, reply.read().decode()
            except urllib.error.HTTPError as e:
                return e.code, ""

        code, text = get("/metrics")
        assert code == 200 and "logpt_events_in_total 500.0" in text
        assert f"logpt_flags_total {float(consumer.stats.flags)}" in text and consumer.stats.flags >= len(novel)
        assert "logpt_end_to_end_seconds_count 500.0" in text and "logpt_pending_entries 0.0" in text
        assert "logpt_incidents_total 0.0" in text  # none quiet yet
        assert get("/healthz")[0] == 200 and get("/readyz")[0] == 200
        metrics.beat -= 60  # a loop that stopped turning
        assert get("/healthz")[0] == 503
    finally:
        server.shutdown()


def test_a_destroyed_group_is_made_again_and_nothing_is_flagged_twice(redis_server, tmp_path: Path) -> None:  # noqa: ANN001
    from engine.stream.serve import serve

    client = redis.Redis.from_url(redis_server.url)
    bundle = detector_for(syslog(600), tmp_path / "det")
    fmt = detect_format(syslog(10)).format
    consumer = Consumer(client, pipeline_for(Detector.load(bundle), fmt, EvidenceRule("combined")), name="c1",
                        block_ms=10)  # fmt: skip
    client.xadd("logs", {"source": "a", "line": 1, "text": NOVEL.format(n=1)})
    drain(consumer, client, 1)
    client.xgroup_destroy("logs", "detect")  # an operator's mistake, or Redis restarted without persistence
    client.xadd("logs", {"source": "a", "line": 2, "text": NOVEL.format(n=2)})
    turns: list[int] = []
    stats = serve(consumer, lambda: len(turns) >= 3, lambda _c: turns.append(1))  # no NOGROUP traceback
    assert stats.groups_recreated == 1 and client.xpending("logs", "detect")["pending"] == 0
    assert [f["line"] for f in flags(client)] == ["1", "2"]  # the first entry, read again, is not flagged twice


def test_serve_scores_on_one_torch_thread_with_fewer_collections_and_gives_the_settings_back(redis_server, tmp_path: Path) -> None:  # noqa: ANN001
    import torch

    from engine.stream.serve import serve

    client = redis.Redis.from_url(redis_server.url)
    bundle = detector_for(syslog(200), tmp_path / "det")
    consumer = Consumer(client, pipeline_for(Detector.load(bundle), detect_format(syslog(10)).format,
                                             EvidenceRule("combined")), name="c1", block_ms=10)  # fmt: skip
    client.xadd("logs", {"source": "a", "line": 1, "text": NOVEL.format(n=1)})
    import gc

    from engine.stream.serve import GC_THRESHOLD

    before, collect = torch.get_num_threads(), gc.get_threshold()
    torch.set_num_threads(2)  # what torch starts with on a 2-core machine
    gc.set_threshold(700, 10, 10)  # Python's own
    try:
        seen: list[int] = []
        thresholds: list[int] = []
        serve(consumer, lambda: len(seen) >= 2,
              lambda _c: (seen.append(torch.get_num_threads()), thresholds.append(gc.get_threshold()[0])))  # fmt: skip
        assert seen == [1, 1] and torch.get_num_threads() == 2
        assert thresholds == [GC_THRESHOLD] * 2 and gc.get_threshold() == (700, 10, 10)
        serve(consumer, lambda: len(seen) >= 3, lambda _c: seen.append(torch.get_num_threads()), threads=None)
        assert seen[-1] == 2
    finally:
        torch.set_num_threads(before)
        gc.set_threshold(*collect)
    assert [f["line"] for f in flags(client)] == ["1"]


def test_metrics_listen_on_localhost_unless_told_and_a_taken_port_is_one_error(
    redis_server, tmp_path: Path, capsys  # noqa: ANN001
) -> None:
    import socket

    from engine.stream.metrics import Metrics, serve_http
    from tests.logpt_tui.cli.test_cli import run

    server = serve_http(Metrics(), 0)
    assert server.server_address[0] == "127.0.0.1"
    server.shutdown()
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    bundle = detector_for(syslog(600), tmp_path / "det")
    code, _out, err = run(["serve", "--detector", str(bundle), "--redis", redis_server.url, "--metrics-port",
                           str(port)], capsys)  # fmt: skip
    taken.close()
    assert code == 2 and "cannot serve metrics on 127.0.0.1" in err
    for option in (["--batch", "0"], ["--block-ms", "-1"], ["--claim-idle-ms", "-5"], ["--metrics-port", "99999"],
                   ["--incident-quiet-s", "0.5"]):
        code, _out, err = run(["serve", "--detector", str(bundle), "--redis", redis_server.url, *option], capsys)
        assert code == 2 and "Invalid value" in err
    code, _out, err = run(["ship", str(tmp_path / "x.log"), "--redis", redis_server.url, "--maxlen", "0"], capsys)
    assert code == 2 and "Invalid value" in err


def test_a_stream_key_of_another_type_is_one_line_error(redis_server, tmp_path: Path, capsys) -> None:  # noqa: ANN001
    from engine.errors import InputError
    from tests.logpt_tui.cli.test_cli import run

    client = redis.Redis.from_url(redis_server.url)
    client.set("logs", "a string where the stream should be")
    bundle = detector_for(syslog(600), tmp_path / "det")
    fmt = detect_format(syslog(10)).format
    with pytest.raises(InputError, match="'logs' holds another type"):
        Consumer(client, pipeline_for(Detector.load(bundle), fmt, EvidenceRule("combined")), name="c1")
    code, out, err = run(["serve", "--detector", str(bundle), "--redis", redis_server.url], capsys)  # the CLI's
    assert code == 2 and "'logs' holds another type" in err and "Traceback" not in out + err  # format sample too


def test_bursts_and_rarity_are_weighed_from_counts_kept_in_redis_exactly_once(redis_server, tmp_path: Path) -> None:  # noqa: ANN001
    client = redis.Redis.from_url(redis_server.url)
    base = syslog(3000)
    bundle = detector_for(base, tmp_path / "det")
    lines = list(base)
    burst = "Nov 21 10:40:{s:02d} web-01 app[42]: connection pool exhausted, request {s} dropped"
    for s in range(6):  # one minute, well past the first 1,000 records: a burst of a template never seen before
        lines[2400 + s] = burst.format(s=s)
    log = tmp_path / "app.log"
    log.write_text("\n".join(lines) + "\n")
    ship_files(client, [log], once=True)
    consumer = Consumer(client, pipeline_for(Detector.load(bundle), detect_format(lines).format,
                                             EvidenceRule("combined")), name="c1", batch=200)  # fmt: skip
    drain(consumer, client, len(lines))
    by_line = {int(f["line"]): f for f in flags(client)}
    kinds = {n: {e[0] for e in json.loads(by_line[n]["evidence"])} for n in range(2403, 2407) if n in by_line}
    assert any("burst" in k for k in kinds.values()) and any("rare" in k for k in kinds.values()), kinds
    assert "3 in one minute" in by_line[2403]["why"] or "burst" in kinds.get(2403, set())
    counts = client.hgetall(f"{{logs}}:tally:{log}:n")
    assert int(counts[b""]) == len(lines)  # every record counted once (the script skips what was applied)
    assert int(counts[b""]) == sum(int(v) for k, v in counts.items() if k)


def test_counts_kept_in_redis_are_each_entrys_counts_added_in_turn(redis_server, tmp_path: Path) -> None:  # noqa: ANN001
    """The script's counts (engine.stream.tally's COLLECT and FLUSH) after batches of 7 entries of two sources
    interleaved, one entry applied twice, equal `tallies` over every entry at once from nothing (the slow
    reference): records per key and source, runs of buckets, the last bucket, records per bucket, the span."""
    from engine.logs.timestamps import MinuteReader
    from engine.stream.tally import tallies

    client = redis.Redis.from_url(redis_server.url)
    logs = {"/a.log": syslog(300), "/b.log": syslog(300, seed=4)[:120]}
    logs["/a.log"][100:104] = [NOVEL.format(n=n) for n in range(4)]
    bundle = detector_for(syslog(300), tmp_path / "det")
    fmt = detect_format(logs["/a.log"]).format
    for n in range(300):
        for source, lines in logs.items():
            if n < len(lines):
                client.xadd("logs", {"source": source, "line": n + 1, "text": lines[n]})
    consumer = Consumer(client, pipeline_for(Detector.load(bundle), fmt, EvidenceRule("combined")), name="c1",
                        batch=7)  # fmt: skip
    drain(consumer, client, 420)
    first = client.xrange("logs", count=1)[0][0]
    client.xclaim("logs", "detect", "c1", 0, [first], force=True)  # pending again, as if its ack was lost
    again = Consumer(client, consumer.pipeline, name="c1", batch=7)  # restarted: reads its own pending first
    assert again.step() == 1 and client.xpending("logs", "detect")["pending"] == 0
    seen = []
    minute_of = MinuteReader()
    for _id, f in client.xrange("logs"):
        record = next(iter(parse_lines([f[b"text"].decode()], fmt)))
        bucket = f"m{minute_of(record.timestamp)}"
        seen.append((f[b"source"].decode(), consumer.reader.key_of(record.message), bucket, True))
    counts: dict = {}
    tallies(counts, seen)
    as_ints = lambda h: {k.decode(): int(v) for k, v in h.items()}  # noqa: E731
    for source, c in counts.items():
        base = f"{{logs}}:tally:{source}"
        assert as_ints(client.hgetall(f"{base}:n")) == {"": c.records, **c.total}
        assert as_ints(client.hgetall(f"{base}:active")) == {"": c.occupied, **c.active}
        assert {k.decode(): v.decode() for k, v in client.hgetall(f"{base}:last").items()} == c.last
        assert as_ints(client.hgetall(f"{base}:span")) == {"lo": c.lo, "hi": c.hi} | ({"severe": c.severe} if c.severe else {})
        for bucket in {b for b, _k in c.in_bucket}:
            want = {k: n for (b, k), n in c.in_bucket.items() if b == bucket}
            assert as_ints(client.hgetall(f"{base}:b:{bucket}")) == want
            assert 0 < client.ttl(f"{base}:b:{bucket}") <= 2 * 86_400


def test_an_entrys_record_is_the_first_that_parse_lines_reads_of_it(redis_server, tmp_path: Path) -> None:  # noqa: ANN001
    """Consumer.records reads a one-line entry with its format directly: the same record as parse_lines (the slow
    reference) for lines of the format, lines it does not match, multi-line entries, and a format whose records
    take their message from their continuation lines (tcsh's history: the stamp, then the command)."""
    from engine.logs.formats.detect import choose_format

    client = redis.Redis.from_url(redis_server.url)
    bundle = detector_for(syslog(200), tmp_path / "det")
    syslog_fmt = detect_format(syslog(10)).format
    cases = [
        (syslog_fmt, [*syslog(30), "not a syslog line", "", NOVEL.format(n=1) + "\n  at frame 1\n  at frame 2",
                      "Nov 21 11:00:00 web-01 app[1]: \u00e9t\u00e9 \u2603", "  continued"]),
        (choose_format([], "tcsh-history"), ["#+1700000000", "#+1700000001\nls -l", "echo hi"]),
    ]
    for fmt, texts in cases:
        consumer = Consumer(client, pipeline_for(Detector.load(bundle), fmt, EvidenceRule("combined")), name="c1")
        entries = [Entry(f"1-{k}", "/a.log", k + 1, text) for k, text in enumerate(texts)]
        keyed, _severities = consumer.reader.records(entries)
        want = [(k, r) for k, e in enumerate(entries)
                for r in [next(iter(parse_lines(e.text.split("\n"), fmt, first_line=k)), None)] if r is not None]  # fmt: skip
        assert [(record.line, record) for record, _key in keyed] == want



LOGHUB = ROOT.parent / "shared" / "datasets" / "loghub"


@pytest.mark.skipif(not LOGHUB.is_dir(), reason="Loghub samples (../shared/datasets/loghub) are not on this machine")
@pytest.mark.parametrize("sample", ["Linux", "OpenSSH", "HDFS"])
def test_a_message_seen_lately_gets_the_key_and_severity_it_got_first(redis_server, tmp_path: Path, sample: str,
                                                                      monkeypatch) -> None:  # noqa: ANN001
    """RecordReader.records keeps the key and severity of messages seen lately (cleared when KNOWN_MESSAGES are kept):
    over a Loghub sample in batches, every record gets the key and severity worked out for it alone (the slow
    reference: key_of, severity_of)."""
    from engine.detect.evidence import severity_of  # noqa: PLC0415
    from engine.stream import records as records_module  # noqa: PLC0415

    client = redis.Redis.from_url(redis_server.url)
    lines = (LOGHUB / sample / f"{sample}_2k.log").read_text(errors="replace").splitlines()
    bundle = detector_for(lines[:1000], tmp_path / "det")
    fmt = detect_format(lines[:200]).format
    monkeypatch.setattr(records_module, "KNOWN_MESSAGES", 300)  # cleared a few times on the way
    consumer = Consumer(client, pipeline_for(Detector.load(bundle), fmt, EvidenceRule("combined")), name="c1")
    reference = Consumer(client, pipeline_for(Detector.load(bundle), fmt, EvidenceRule("combined")), name="c2")
    repeats = 0
    for start in range(0, len(lines), 250):
        entries = [Entry(f"1-{k}", "/a.log", start + k + 1, t) for k, t in enumerate(lines[start : start + 250])]
        repeats += len(entries) - len({(r.level, r.message) for r, _k in consumer.reader.records(entries)[0]})
        keyed, severities = consumer.reader.records(entries)  # the second time: every message known
        assert [key for _r, key in keyed] == [reference.reader.key_of(r.message) for r, _k in keyed]
        assert severities == {r.line: severity_of(r) for r, _k in keyed}
        assert len(consumer.reader.known) <= 300
    assert repeats > 200 or sample == "HDFS"  # HDFS: every message names its block


@pytest.mark.slow
def test_sequence_flags_are_the_full_scorings_however_the_entries_are_batched(redis_server, tmp_path: Path) -> None:  # noqa: ANN001
    """Each session's keys are scored once, in the window the whole session's scoring puts them in: batches of 5
    or of hundreds, two consumers taking turns (each with its own cache), give the flags of the detector's
    full path over each session (its `outliers`, the session extended to a window's end)."""
    client = redis.Redis.from_url(redis_server.url)
    bundle = detector_for(syslog(300), tmp_path / "det")
    log = tmp_path / "syslog"
    lines, _novel = log_with_novel_lines(log, 300, 97)
    fmt = detect_format(lines).format
    detector = Detector.load(bundle)
    found = []
    for batches in ([5], [300], [7, 40]):  # one consumer per batch size, taking turns
        client.flushall()
        ship_files(client, [log], once=True)
        consumers = [Consumer(client, pipeline_for(detector, fmt, EvidenceRule("topk")), name=f"c{b}", batch=b)
                     for b in batches]  # fmt: skip
        turn = 0
        while len(client.keys("{logs}:done:*")) < 300:
            consumers[turn % len(consumers)].step()
            turn += 1
        found.append({int(f["line"]): f["why"] for f in flags(client)})
    pipeline = consumers[0].pipeline
    keyed = [(r, consumers[0].reader.key_of(r.message)) for r in parse_lines(lines, fmt)]
    expected = set()
    for session in group_sessions(keyed, pipeline.spec):
        ((_n, flagged),) = detector.outliers([session.keys + [session.keys[0]] * 8], first=[0])  # past its window's end
        expected |= {session.lines[i] for i in flagged if i < len(session.lines)}
    assert found[0] == found[1] == found[2]
    assert set(found[0]) == expected and len(expected) > 10


def test_serves_format_sample_reads_a_few_entries_at_a_time_and_cuts_huge_ones(redis_server) -> None:  # noqa: ANN001
    from engine.stream import MAX_RECORD_BYTES
    from logpt_tui.cli.stream import SAMPLE_RECORDS, SAMPLE_STEP, sample_texts

    client = redis.Redis.from_url(redis_server.url)
    for i in range(300):  # small records: the first 200, in order; an entry without text is skipped
        client.xadd("small", {"text": f"line {i}"} if i != 5 else {"other": "x"})
    assert sample_texts(client, "small") == [f"line {i}" for i in range(301) if i != 5][:SAMPLE_RECORDS]
    huge = "x" * (1 << 20)
    for _ in range(60):  # 60 MiB of records: one read of SAMPLE_STEP entries passes the byte budget
        client.xadd("huge", {"text": huge})
    texts = sample_texts(client, "huge")
    assert len(texts) == SAMPLE_STEP and all(len(t) == MAX_RECORD_BYTES for t in texts)
    assert sample_texts(client, "missing") == []


def state(client) -> dict[str, object]:  # noqa: ANN001
    """What a drain leaves in Redis, by line rather than entry id: flags, contexts, counts and incidents."""
    ids = {i: f[b"line"].decode() for i, f in client.xrange("logs")}
    found: dict[str, object] = {"flags": sorted((f["line"], f["why"], f["score"], f["evidence"]) for f in flags(client))}
    for key in sorted(k.decode() for k in client.keys("{logs}:*")):
        kind = client.type(key).decode()
        if kind == "list" and key.endswith(":flags"):  # an incident's kept flags: entry ids as lines
            found["inc-flags"] = [json.loads(v)[:1] + json.loads(v)[2:] for v in client.lrange(key, 0, -1)]
        elif kind == "list":
            found[key] = client.lrange(key, 0, -1)
        elif kind == "hash" and key.startswith("{logs}:inc:"):
            found["inc"] = {k: v for k, v in client.hgetall(key).items() if not k.endswith(b"_ms")}
        elif kind == "hash" and not key.endswith("inc-open"):
            found[key] = client.hgetall(key)
    found["open"] = [ids.get(v) for v in client.hvals("{logs}:inc-open")]
    return found


def test_reading_ahead_leaves_what_one_batch_at_a_time_leaves(redis_server, tmp_path: Path) -> None:  # noqa: ANN001
    """A consumer that reads the next batch before applying one (and parses it while Redis applies) leaves the
    flags, contexts, counts and incident of one that reads, judges and applies a batch at a time."""
    client = redis.Redis.from_url(redis_server.url)
    bundle = detector_for(syslog(600), tmp_path / "det")
    log = tmp_path / "syslog"
    lines, _novel = log_with_novel_lines(log, 1500, 37)
    fmt = detect_format(lines).format
    found, aheads = [], 0
    for read_ahead in (False, True):
        client.flushall()
        ship_files(client, [log], once=True)
        consumer = Consumer(client, pipeline_for(Detector.load(bundle), fmt, EvidenceRule("combined")), name="c1",
                            batch=64, incident_quiet_s=3600)  # fmt: skip
        consumer.read_ahead = read_ahead
        while len(client.keys("{logs}:done:*")) < 1500:
            consumer.step()
            aheads += consumer.ahead is not None
        found.append(state(client))
    assert aheads > 10  # batches were read ahead
    assert found[0] == found[1]
    assert len(found[0]["flags"]) > 40 and found[0]["inc"]


def test_serve_stopped_judges_the_batch_it_read_ahead(redis_server, tmp_path: Path) -> None:  # noqa: ANN001
    """Stopped after one batch (SIGTERM), serve judges and acknowledges the batch it read ahead too: nothing of
    this consumer's is left pending."""
    from engine.stream.serve import serve  # noqa: PLC0415

    client = redis.Redis.from_url(redis_server.url)
    bundle = detector_for(syslog(600), tmp_path / "det")
    log = tmp_path / "syslog"
    log_with_novel_lines(log, 600, 97)
    ship_files(client, [log], once=True)
    consumer = Consumer(client, pipeline_for(Detector.load(bundle), detect_format(syslog(10)).format,
                                             EvidenceRule("combined")), name="c1", batch=16, read_ahead=True)  # fmt: skip
    stats = serve(consumer, lambda: consumer.stats.batches >= 1)
    assert stats.batches == 2 and stats.entries == 32  # the first read (16), and the one read ahead of its APPLY
    assert client.xpending("logs", "detect")["pending"] == 0
    assert len(client.keys("{logs}:done:*")) == 32


def test_a_flags_fields_and_the_text_its_incident_keeps(redis_server, tmp_path: Path) -> None:  # noqa: ANN001
    """APPLY writes a flag's fields from the batch's places (source, template) and values, and JOIN keeps its
    record's text cut to TEXT_KEPT characters as Python cuts a str: long lines of 1-, 2-, 3- and 4-byte characters."""
    from engine.stream.incidents import TEXT_KEPT  # noqa: PLC0415

    client = redis.Redis.from_url(redis_server.url)
    bundle = detector_for(syslog(600), tmp_path / "det")
    log = tmp_path / "syslog"
    lines = syslog(300)
    planted = {50: "a" * 4200, 60: "\u00e9" * 700, 70: "\u2603" * 700, 80: "\U0001f600" * 700, 90: "x\u00e9\u2603" * 300}
    for i, pad in planted.items():
        lines[i] = NOVEL.format(n=i) + " " + pad
    log.write_text("\n".join(lines) + "\n")
    ship_files(client, [log], once=True)
    fmt = detect_format(lines).format
    consumer = Consumer(client, pipeline_for(Detector.load(bundle), fmt, EvidenceRule("combined")), name="c1",
                        batch=64, incident_quiet_s=3600)  # fmt: skip
    consumer.incidents.tick = lambda busy=False: 0  # nothing closed: the kept flags stay
    drain(consumer, client, 300)
    by_line = {int(f["line"]): f for f in flags(client)}
    kept = {item[0]: item for key in client.keys("{logs}:inc:*:flags") for item in map(json.loads, client.lrange(key, 0, -1))}
    for i in planted:
        f = by_line[i + 1]
        assert (f["source"], f["text"], f["template"]) == (str(log), lines[i][:4000], consumer.reader.key_of(fmt.parse(lines[i], 0).message))
        evidence = json.loads(f["evidence"])
        assert float(f["score"]) == sum(w for _k, w, _d in evidence) and f["why"] == "; ".join(d for _k, _w, d in evidence)
        assert kept[i + 1] == [i + 1, f["entry"], f["why"], ",".join(dict.fromkeys(k for k, _w, _d in evidence)),
                               lines[i][:TEXT_KEPT]]  # fmt: skip


def test_a_consumer_reads_ahead_only_while_no_other_consumer_of_its_group_reads(redis_server, tmp_path: Path) -> None:  # noqa: ANN001
    """Another consumer of the group seen within claim_idle_ms (from its start, before its first read): batches
    are read one at a time (a batch held back could be overtaken by the other's, a session's later keys applied
    first); once the other has been gone that long, the consumer reads ahead."""
    client = redis.Redis.from_url(redis_server.url)
    bundle = detector_for(syslog(600), tmp_path / "det")
    log = tmp_path / "syslog"
    log_with_novel_lines(log, 600, 97)
    ship_files(client, [log], once=True)
    pipeline = pipeline_for(Detector.load(bundle), detect_format(syslog(10)).format, EvidenceRule("combined"))
    first = Consumer(client, pipeline, name="c1", batch=16, claim_idle_ms=1000, read_ahead=True)
    Consumer(client, pipeline, name="c2", batch=16, claim_idle_ms=1000)  # started, reads nothing
    for _ in range(5):
        first.step()
        assert first.ahead is None
    time.sleep(1.2)
    aheads = 0
    for _ in range(5):
        first.step()
        aheads += first.ahead is not None
    assert aheads >= 4
