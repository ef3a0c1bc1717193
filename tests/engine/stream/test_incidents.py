"""Incidents in the stream service, against a real Redis: flags close together from one source become an
incident, analysed by the analyst once quiet and written to `{logs}:incidents` exactly once, whoever closes
it: closers racing, a claim's holder gone, a consumer SIGKILLed after its flags and before the close. The
spans are those `logpt detect` groups its flags into (engine.detect.evidence.incidents, the slow reference),
and the root cause is the analyst's on the source's own lines."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

redis = pytest.importorskip("redis")

from engine.detect import Detector  # noqa: E402
from engine.detect.evidence import Evidence, EvidenceRule, incidents  # noqa: E402
from engine.logs.formats import detect_format  # noqa: E402
from engine.stream.incidents import CONTEXT_LINES, IncidentConfig, Incidents, root_cause  # noqa: E402
from engine.stream.serve import Consumer, pipeline_for  # noqa: E402
from tests.engine.detect.test_pipeline import syslog  # noqa: E402
from tests.engine.stream.test_serve import detector_for, drain  # noqa: E402

ROOT = Path(__file__).resolve().parents[3]
OOM = "Nov 21 10:05:{s:02d} web-01 kernel: Out of memory: Killed process {p} (java) total-vm:{k}kB"
APP, WEB = "/var/log/app.log", "/var/log/web.log"
N = 600


@dataclass(frozen=True)
class Flag:
    line: int
    template: str = ""
    evidence: tuple[Evidence, ...] = ()


def sources() -> dict[str, list[str]]:
    """Two syslogs; the first has an out-of-memory episode at lines 301-306."""
    app = syslog(N)
    for s in range(6):
        app[300 + s] = OOM.format(s=s, p=4000 + s, k=1000 * s)
    return {APP: app, WEB: syslog(N, seed=1)}


def publish(client, logs: dict[str, list[str]], lines: int = N) -> None:  # noqa: ANN001
    """The sources' first `lines` records, interleaved entry by entry as two shippers write them."""
    pipe = client.pipeline(transaction=False)
    for n in range(lines):
        for source, lines in logs.items():
            pipe.xadd("logs", {"source": source, "line": n + 1, "text": lines[n]})
    pipe.execute()


def consumer(client, bundle: Path, name: str, quiet_s: float, **kw: object) -> Consumer:  # noqa: ANN001
    """A consumer that judges every entry as it comes (no source's first records held: engine.stream.hold)."""
    fmt = detect_format(syslog(10)).format
    return Consumer(client, pipeline_for(Detector.load(bundle), fmt, EvidenceRule("combined")), name=name,
                    incident_quiet_s=quiet_s, **{"batch": 128, "hold_records": 0, **kw})  # fmt: skip


def closer(url: str, name: str, quiet_s: float = 0.05, claim_ttl_ms: int = 30_000) -> Incidents:
    fmt = detect_format(syslog(10)).format
    return Incidents(redis.Redis.from_url(url), "logs", fmt, IncidentConfig(quiet_s, 50, claim_ttl_ms), name)


def flagged_and_open(redis_server, tmp_path: Path) -> tuple[object, Path]:  # noqa: ANN001
    """Both sources published and judged by a consumer whose incidents stay open (quiet for a minute)."""
    client = redis.Redis.from_url(redis_server.url)
    bundle = detector_for(syslog(N), tmp_path / "det")
    publish(client, sources())
    drain(consumer(client, bundle, "c1", quiet_s=60), client, 2 * N)
    assert client.xlen("{logs}:incidents") == 0 and client.hlen("{logs}:inc-open") >= 1  # open, not written
    return client, bundle


def expected(client) -> dict[tuple[str, int], tuple[int, int]]:  # noqa: ANN001
    """(source, first flagged line) → (last flagged line, flags): the flags grouped as `logpt detect` groups them."""
    by_source: dict[str, list[Flag]] = {}
    for _id, f in client.xrange("{logs}:flags"):
        by_source.setdefault(f[b"source"].decode(), []).append(Flag(int(f[b"line"])))
    return {(source, i.first): (i.last, i.lines) for source, flags in by_source.items()
            for i in incidents(sorted(flags, key=lambda f: f.line), EvidenceRule().incident_gap)}  # fmt: skip


def written(client) -> list[dict[str, str]]:  # noqa: ANN001
    return [{k.decode(): v.decode() for k, v in f.items()} for _i, f in client.xrange("{logs}:incidents")]


def close_all(*closers: Incidents, client, timeout: float = 30) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while client.zcard("{logs}:inc-due") and time.monotonic() < deadline:
        for c in closers:
            c.close_due()
    assert client.zcard("{logs}:inc-due") == 0


def check(client) -> list[dict[str, str]]:  # noqa: ANN001
    """Every incident written once, as `logpt detect` spans it, with the analyst's root cause of its lines; no
    state left behind."""
    found = written(client)
    assert len({f["incident"] for f in found}) == len(found)  # none written twice
    spans = {(f["source"], int(f["first_line"])): (int(f["last_line"]), int(f["flags"])) for f in found}
    assert len(spans) == len(found) and spans == expected(client)
    logs, fmt = sources(), detect_format(syslog(10)).format
    flags = {(f[b"source"].decode(), int(f[b"line"])): f[b"why"].decode() for _i, f in client.xrange("{logs}:flags")}
    for f in found:  # the analyst on the source's own lines around the flags (read back from the stream)
        lo, hi = max(1, int(f["first_line"]) - CONTEXT_LINES), min(N, int(f["last_line"]) + CONTEXT_LINES)
        assert f["lines"] == f"{lo}-{hi}"
        mine = {line: why for (source, line), why in flags.items() if source == f["source"] and lo <= line <= hi}
        cause = root_cause(logs[f["source"]][lo - 1 : hi], lo, fmt, mine)
        assert (f["category"], f["signature"], f["root_cause"]) == (cause.category, cause.signature, cause.text)
    oom = next(f for f in found if f["source"] == APP and f["first_line"] == "301")
    assert (oom["last_line"], oom["flags"], oom["category"]) == ("306", "6", "memory")
    assert "out of memory" in oom["signature"].lower() and json.loads(oom["onset"])[0] == 301
    assert any(e.startswith("line 301: `Nov 21 10:05:00") for e in json.loads(oom["evidence"]))
    assert "novel ×6" in oom["why"] and oom["root_cause"].startswith("## Root cause\n**Category:** memory")
    assert not client.keys("{logs}:inc:*") and not client.keys("{logs}:inc-claim:*")  # bounded: nothing kept
    assert client.hlen("{logs}:inc-open") == 0
    return found


def test_incidents_are_written_once_quiet_with_the_analysts_root_cause(redis_server, tmp_path: Path) -> None:  # noqa: ANN001
    from logpt_tui.explorer.redis_stream import entry_text

    client, bundle = flagged_and_open(redis_server, tmp_path)
    other = consumer(client, bundle, "c2", quiet_s=0.2)  # any consumer closes any incident
    time.sleep(0.25)
    other.step()
    close_all(other.incidents, client=client)
    found = check(client)
    assert other.incidents.written == len(found) >= 2
    assert other.incidents.close_due() == 0 and len(written(client)) == len(found)
    oom = next(fields for _i, fields in client.xrange("{logs}:incidents") if fields[b"first_line"] == b"301")
    shown = entry_text(oom)
    assert shown.startswith("incident: memory: ") and " · app.log lines 301-306 · 6 flagged (novel ×6" in shown
    assert "  onset (first error): Nov 21 10:05:00 web-01 kernel: Out of memory" in shown
    assert f"o: its lines here; or logpt-tui {APP}, then :301 (analysed lines 281-326)" in shown


def test_closers_racing_write_each_incident_once(redis_server, tmp_path: Path) -> None:  # noqa: ANN001
    client, _bundle = flagged_and_open(redis_server, tmp_path)
    closers = [closer(redis_server.url, f"closer-{k}") for k in range(3)]
    start = threading.Barrier(len(closers))

    def race(c: Incidents) -> None:
        start.wait()
        close_all(c, client=redis.Redis.from_url(redis_server.url))

    threads = [threading.Thread(target=race, args=(c,)) for c in closers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    found = check(client)
    assert sum(c.written for c in closers) == len(found)


def test_a_claim_expired_or_an_incident_grown_since_its_claim_is_not_written_twice(redis_server, tmp_path: Path) -> None:  # noqa: ANN001
    client, bundle = flagged_and_open(redis_server, tmp_path)
    slow = closer(redis_server.url, "slow", claim_ttl_ms=300)
    held = slow.claim(most=100)
    assert held and closer(redis_server.url, "other").claim(most=100) == []  # held: nobody else takes them
    time.sleep(0.35)  # the slow closer's claims expire (as a killed closer's would): another takes them
    fast = closer(redis_server.url, "fast")
    close_all(fast, client=client)
    assert [slow.write(inc, slow.analyse(inc)) for inc in held] == [False] * len(held)  # written already
    check(client)
    client.xadd("logs", {"source": APP, "line": N + 1, "text": OOM.format(s=9, p=1, k=1)})  # a new incident
    judge = consumer(client, bundle, "c3", quiet_s=60)
    drain(judge, client, 2 * N + 1)
    time.sleep(0.1)
    (late,) = slow.claim()  # claimed as quiet for 50 ms; then a flag joins it (for a consumer it is not quiet yet)
    client.xadd("logs", {"source": APP, "line": N + 2, "text": OOM.format(s=10, p=2, k=2)})
    drain(judge, client, 2 * N + 2)
    assert slow.write(late, slow.analyse(late)) is False and client.hget(f"{{logs}}:inc:{late.id}", "flags") == b"2"
    close_all(fast, client=client)  # the claim was dropped: written now, with both flags
    last = written(client)[-1]
    assert (last["incident"], last["first_line"], last["last_line"], last["flags"]) == (late.id, "601", "602", "2")


def incident_state(client) -> dict[str, object]:  # noqa: ANN001
    """The open incidents' state as Redis holds it, named by first line (times and entry ids left out: each run has its own)."""
    ids = {i: f"{h[b'source'].decode()}:{h[b'first_line'].decode()}"
           for i in (k.decode().split(":")[2] for k in client.keys("{logs}:inc:*") if not k.endswith(b":flags"))
           for h in [client.hgetall(f"{{logs}}:inc:{i}")]}  # fmt: skip
    return {
        "incidents": {ids[i]: {k.decode(): v.decode() for k, v in client.hgetall(f"{{logs}}:inc:{i}").items()
                               if not k.endswith(b"_ms")} for i in ids},  # fmt: skip
        "kept": {ids[i]: [json.loads(f)[0] for f in client.lrange(f"{{logs}}:inc:{i}:flags", 0, -1)] for i in ids},
        "open": {k.decode(): ids[v.decode()] for k, v in client.hgetall("{logs}:inc-open").items()},
        "sealed": sorted(ids[i.decode()] for i, score in client.zrange("{logs}:inc-due", 0, -1, withscores=True)
                         if score == 0),  # fmt: skip
    }


def test_a_batchs_flags_join_incidents_as_one_flag_a_step_does(redis_server, tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    """APPLY follows each source's open incident through the batch in Lua and writes it once: the state equals
    that of a consumer judging one entry a step (each flag joining in turn), sealed incidents and the kept-flags
    cap (3 here) and flags at most 10 lines apart included."""
    import engine.stream.incidents

    monkeypatch.setattr(engine.stream.incidents, "KEPT_FLAGS", 3)
    bundle = detector_for(syslog(N), tmp_path / "det")
    states = []
    for db, batch in ((1, 2), (2, 256)):  # two sources interleaved: a batch of 2 holds one entry of each
        client = redis.Redis(port=redis_server.port, db=db)
        publish(client, sources(), 250)
        judge = consumer(client, bundle, "c1", quiet_s=60, batch=batch)
        judge.incidents.tick = lambda busy=False: 0  # nothing closed (a sealed one is due at once): the state stays
        judge.incidents.config = replace(judge.incidents.config, gap=10)  # flags further apart: more incidents sealed
        drain(judge, client, 2 * 250)
        states.append(incident_state(client))
    one_a_step, batched = states
    assert batched == one_a_step
    assert batched["sealed"] and any(int(i["flags"]) > 3 for i in batched["incidents"].values())
    assert len(batched["open"]) == 2 and all(len(kept) <= 3 for kept in batched["kept"].values())


@pytest.mark.slow  # a consumer process started (~5 s of imports on the shared 2-core VM) and killed
def test_a_consumer_killed_after_its_flags_and_before_the_close_leaves_incidents_another_writes_once(
    redis_server, tmp_path: Path  # noqa: ANN001
) -> None:
    client = redis.Redis.from_url(redis_server.url)
    bundle = detector_for(syslog(N), tmp_path / "det")
    publish(client, sources())
    code = ("import sys, redis; from pathlib import Path; from engine.detect import Detector;"
            "from engine.detect.evidence import EvidenceRule; from engine.logs.formats import detect_format;"
            "from engine.stream.serve import Consumer, pipeline_for, serve; from tests.engine.detect.test_pipeline import syslog;"
            "c = redis.Redis.from_url(sys.argv[1]); fmt = detect_format(syslog(10)).format;"
            "serve(Consumer(c, pipeline_for(Detector.load(Path(sys.argv[2])), fmt, EvidenceRule('combined')), name='doomed',"
            " batch=128, incident_quiet_s=3600, hold_records=0), lambda: False)")  # fmt: skip
    doomed = subprocess.Popen([sys.executable, "-c", code, redis_server.url, str(bundle)], cwd=ROOT)
    deadline = time.monotonic() + 60
    while len(client.keys("{logs}:done:*")) < 2 * N and time.monotonic() < deadline:
        time.sleep(0.01)
    doomed.send_signal(signal.SIGKILL)  # its flags written, its incidents open: none closed
    doomed.wait()
    assert client.xlen("{logs}:incidents") == 0 and client.zcard("{logs}:inc-due") >= 2
    rescuer = consumer(client, bundle, "rescuer", quiet_s=0.2, claim_idle_ms=300)
    time.sleep(0.25)
    drain(rescuer, client, 2 * N)
    close_all(rescuer.incidents, client=client)
    check(client)


@pytest.mark.slow  # a closer process started and killed
def test_a_closer_killed_after_its_claim_is_redone_once_its_claim_expires(redis_server, tmp_path: Path) -> None:  # noqa: ANN001
    client, _bundle = flagged_and_open(redis_server, tmp_path)
    code = ("import sys, time; from tests.engine.stream.test_incidents import closer;"
            "print(len(closer(sys.argv[1], 'doomed', claim_ttl_ms=2000).claim(most=100)), flush=True); time.sleep(60)")
    doomed = subprocess.Popen([sys.executable, "-c", code, redis_server.url], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    claimed = int(doomed.stdout.readline())  # it holds them, mid-analysis …
    doomed.send_signal(signal.SIGKILL)
    doomed.wait()
    rescuer = closer(redis_server.url, "rescuer")
    assert claimed >= 2 and rescuer.close_due() == 0  # … its claims still stand
    time.sleep(2.1)
    close_all(rescuer, client=client)
    assert rescuer.written == claimed
    check(client)


def test_lines_are_read_back_per_source_and_flagged_records_stand_in_for_trimmed_ones(redis_server, monkeypatch) -> None:  # noqa: ANN001
    from engine.stream import incidents as module
    from engine.stream.incidents import Claimed, KeptFlag, read_lines

    client = redis.Redis.from_url(redis_server.url)
    ids, want = {}, {n: f"app {n}" for n in range(1, 101)} | {61: "  at frame"}
    for n in (n for n in range(1, 101) if n != 61):  # app.log (line 60 a record of two lines) interleaved with
        text = "app 60\n  at frame" if n == 60 else f"app {n}"  # web.log and entries that name no line; then
        ids[n] = client.xadd("logs", {"source": APP, "line": n, "text": text})  # app.log rotated
        client.xadd("logs", {"source": WEB, "line": n, "text": f"web {n}"})
        client.xadd("logs", {"source": APP, "line": "x", "text": "no line"})
    for n in range(1, 11):
        client.xadd("logs", {"source": APP, "line": n, "text": f"rotated {n}"})
    kept = tuple(KeptFlag(n, ids[n].decode(), "template never seen", "novel", f"app {n}") for n in (50, 55))
    inc = Claimed(ids[50].decode(), APP, 50, 55, 2, 0, 0, kept)
    assert read_lines(client, "logs", inc, 30, 75) == {n: want[n] for n in range(30, 76)}
    assert read_lines(client, "logs", inc, 30, 500) == {n: want[n] for n in range(30, 101)}  # up to the rotation
    assert read_lines(client, "logs", inc, 30, 75, scan=30) == {n: want[n] for n in range(40, 60)}  # 30 entries a way
    zero = client.xadd("logs", {"source": "zero.log", "line": 0, "text": "line 0"})  # an entry naming line 0 (not
    bare = Claimed(zero.decode(), "zero.log", 0, 0, 1, 0, 0, (KeptFlag(0, zero.decode(), "w", "novel", "line 0"),))  # `ship`'s): its incident is read from line 1
    assert read_lines(client, "logs", bare, 1, 20) == {}  # it failed: XREVRANGE count 0
    client.xtrim("logs", maxlen=0)  # trimmed: the kept flagged records are what is left to analyse
    incidents = closer(redis_server.url, "c")
    fields = dict(zip(*[iter(incidents.analyse(inc))] * 2, strict=True))
    assert fields["lines"] == "50-55" and fields["category"] == "unknown"
    monkeypatch.setattr(module, "root_cause", lambda *_a: 1 / 0)  # the analyst failing on some lines
    fields = dict(zip(*[iter(incidents.analyse(inc))] * 2, strict=True))
    assert fields["root_cause"] == "## Root cause\nThe analyst failed on lines 50-55: ZeroDivisionError: division by zero"
