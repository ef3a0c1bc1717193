"""A source's first records held (engine.stream.hold): the stream's flags against `logpt detect`'s on the same
lines (the slow reference: the pipeline judging the whole file), and each held record judged once."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

redis = pytest.importorskip("redis")

from engine.detect.evidence import EvidenceRule  # noqa: E402
from engine.detect.history import mine  # noqa: E402
from engine.detect.pipeline import NO_HISTORY, DetectionPipeline  # noqa: E402
from engine.logs.formats import detect_format  # noqa: E402
from engine.logs.sessions import SessionSpec  # noqa: E402
from engine.logs.templates import TemplateMiner  # noqa: E402
from engine.stream.serve import Consumer  # noqa: E402
from engine.stream.ship import ship_files  # noqa: E402
from tests.engine.detect.test_pipeline import syslog  # noqa: E402
from tests.engine.stream.test_serve import drain  # noqa: E402

RETRY = "Nov 21 10:{m:02d}:{s:02d} web-01 app[77]: upstream timed out, retrying request {n}"
REFUSED = "Nov 21 10:06:{s:02d} web-01 app[77]: connection refused by db-{n}"


def planted_log(path: Path) -> list[str]:
    """600 syslog lines (ten minutes) with two error lines of templates seen once (EXT4, from `syslog`), an
    error template that comes four at a time in five minutes (routine: a burst only the first time, so far),
    and one that comes five times in one minute (a burst whose first lines come before it)."""
    lines = syslog(600)
    for m in (1, 3, 5, 7, 9):
        for s in range(4):
            lines[60 * m + 10 + s] = RETRY.format(m=m, s=10 + s, n=s)
    for s in range(5):
        lines[360 + 30 + s] = REFUSED.format(s=30 + s, n=s)
    path.write_text("\n".join(lines) + "\n")
    return lines


def pipelines(lines: list[str]) -> tuple[DetectionPipeline, DetectionPipeline]:
    """`logpt detect`'s pipeline and the consumer's, over the same frozen templates (no sequence model: the counts
    and severities are what is compared)."""
    fmt = detect_format(lines).format
    miner = TemplateMiner()
    mine(lines, fmt, miner)
    state = miner.to_state()
    spec = SessionSpec.default_for(fmt.name)
    return tuple(DetectionPipeline(fmt, TemplateMiner.from_state(state), spec, None, NO_HISTORY, EvidenceRule())
                 for _ in range(2))  # type: ignore[return-value]  # fmt: skip


def stream_flags(client, consumer: Consumer, total: int) -> dict[int, list[str]]:  # noqa: ANN001
    """Every entry judged and every held source released: line → its flag's evidence kinds."""
    drain(consumer, client, total)
    deadline = time.monotonic() + 30
    while client.zcard("{logs}:hold-due") and time.monotonic() < deadline:
        consumer.step()
    assert not client.zcard("{logs}:hold-due"), "held records never judged"
    return {int(f[b"line"]): sorted({e[0] for e in json.loads(f[b"evidence"])})
            for _i, f in client.xrange("{logs}:flags")}  # fmt: skip


def test_a_short_source_held_until_quiet_is_flagged_as_logpt_detect_flags_the_file(redis_server, tmp_path: Path) -> None:  # noqa: ANN001
    """Judged as it came, the stream flagged the routine error's first cluster (no usual rate yet: a burst) and
    missed the rare errors (no rarity before 1,000 records) and the first two lines of the one-minute burst.
    Held until the source is quiet, its lines are judged on all its counts: detect's flags, line and evidence."""
    client = redis.Redis.from_url(redis_server.url)
    lines = planted_log(tmp_path / "app.log")
    detect, served = pipelines(lines)
    want = {f.line: sorted({e.kind for e in f.evidence}) for f in detect.judge(lines).flags()}
    assert {301, 451} <= want.keys() and set(range(391, 396)) <= want.keys()  # EXT4 lines, every refused line
    assert not want.keys() & {71, 72, 73, 74}  # the routine error's first cluster: no burst in the whole file
    ship_files(client, [tmp_path / "app.log"], once=True)
    got = stream_flags(client, Consumer(client, served, name="c1", batch=64, incident_quiet_s=0.3), len(lines))
    assert got == want
    why = [f[b"why"].decode() for _i, f in client.xrange("{logs}:flags")]
    assert all(w.endswith("(judged at the source's record 600)") for w in why)


def test_a_source_reaching_hold_records_is_judged_on_its_first_records_at_once(redis_server, tmp_path: Path) -> None:  # noqa: ANN001
    """With hold_records 400 (batches of 100), the lines up to 400 are judged once the source has 400 records, with
    no quiet wait: as detect judges the file cut there; later lines are judged as they come."""
    client = redis.Redis.from_url(redis_server.url)
    lines = planted_log(tmp_path / "app.log")
    detect, served = pipelines(lines)
    want = {f.line: sorted({e.kind for e in f.evidence}) for f in detect.judge(lines[:400]).flags()}
    ship_files(client, [tmp_path / "app.log"], once=True)
    consumer = Consumer(client, served, name="c1", batch=100, incident_quiet_s=3600, hold_records=400)
    drain(consumer, client, len(lines))
    assert not client.zcard("{logs}:hold-due")  # released at record 400, not waiting for the quiet hour
    got = {int(f[b"line"]): sorted({e[0] for e in json.loads(f[b"evidence"])})
           for _i, f in client.xrange("{logs}:flags") if int(f[b"line"]) <= 400}  # fmt: skip
    assert got == want and want


def test_held_records_are_judged_once_whoever_releases_them(redis_server, tmp_path: Path) -> None:  # noqa: ANN001
    """Two consumers release the same source: one writes its flags, the other nothing; a release whose list
    changed since it was read (another released it first) writes nothing; a redelivered batch holds nothing twice."""
    client = redis.Redis.from_url(redis_server.url)
    lines = planted_log(tmp_path / "app.log")
    _detect, served = pipelines(lines)
    ship_files(client, [tmp_path / "app.log"], once=True)
    first = Consumer(client, served, name="c1", batch=64, incident_quiet_s=3600)
    drain(first, client, len(lines))
    source = str(tmp_path / "app.log")
    held = client.lrange("{logs}:hold:" + source, 0, -1)
    assert held and client.xlen("{logs}:flags") == 0
    stale = held[0]
    whole = client.xrange("logs")
    client.xclaim("logs", "detect", "c1", 0, [whole[0][0]], force=True)  # its first entry delivered again
    again = Consumer(client, served, name="c1", batch=64, incident_quiet_s=3600)
    assert again.step() == 1 and client.lrange("{logs}:hold:" + source, 0, -1) == held  # held once
    second = Consumer(client, served, name="c2", batch=64, incident_quiet_s=3600)
    written = first.holds.release(source)
    assert written > 0 and second.holds.release(source) == 0
    flags = client.xrange("{logs}:flags")
    assert len(flags) == written and len({f[b"entry"] for _i, f in flags}) == written
    inc = second.incidents
    late = second.holds.script(keys=["{logs}:hold:" + source, "{logs}:hold-due", "{logs}:flags", "{logs}:flags",
                                     "{logs}:flags", inc.key],
                               args=[stale, 1, source, json.dumps([["1-0", 1, "x", "k", 2.0, "w", "[]", "severity"]]),
                                     *inc.apply_args()])  # fmt: skip
    assert late == -1 and client.xlen("{logs}:flags") == written
    assert not client.exists("{logs}:hold:" + source) and not client.zcard("{logs}:hold-due")


def test_a_stream_tallys_usual_rate_is_file_tallys_over_the_same_lines() -> None:
    """For the newest record, the stream's counts (engine.stream.tally.tallies) answer `in_bucket` as a FileTally of
    the lines so far does: the usual rate spread over the source's span of minutes, not only its busy minutes
    (a template seen once an hour before: 1/60 a minute, where the busy minutes alone said 1/2)."""
    from engine.detect.evidence import FileTally
    from engine.logs.timestamps import MinuteReader
    from engine.stream.tally import StreamTally, tallies

    lines = ["Nov 21 09:00:05 web-01 app[7]: upstream timed out, retrying request 1",
             "Nov 21 09:00:09 web-01 kernel: eth0: link up",
             *(f"Nov 21 10:00:{s:02d} web-01 app[7]: upstream timed out, retrying request {s}" for s in range(4))]
    fmt = detect_format(lines).format
    miner = TemplateMiner()
    keyed = mine(lines, fmt, miner)
    minute_of = MinuteReader()
    seen = [("/app.log", key, f"m{minute_of(record.timestamp)}", True) for record, key in keyed]
    for n in range(1, len(lines) + 1):
        stream = StreamTally(*tallies({}, seen[:n])[-1])
        whole = FileTally()
        whole.add(keyed[:n])
        assert stream.in_bucket(n, keyed[n - 1][1]) == whole.in_bucket(n, keyed[n - 1][1]), n


def test_a_held_record_waits_at_most_hold_max_s(redis_server, tmp_path: Path) -> None:  # noqa: ANN001
    """With hold_max_s 1 and an hour's quiet time, a short source's held records are judged about a second after its
    first was held (it was 5 minutes, fixed), with the flags of the source's counts then."""
    client = redis.Redis.from_url(redis_server.url)
    lines = planted_log(tmp_path / "app.log")
    _detect, served = pipelines(lines)
    ship_files(client, [tmp_path / "app.log"], once=True)
    consumer = Consumer(client, served, name="c1", batch=64, incident_quiet_s=3600, hold_max_s=1.0)
    drain(consumer, client, len(lines))
    assert client.zcard("{logs}:hold-due") == 1 and client.xlen("{logs}:flags") == 0
    deadline = time.monotonic() + 10
    while client.zcard("{logs}:hold-due") and time.monotonic() < deadline:
        consumer.step()
    assert not client.zcard("{logs}:hold-due") and client.xlen("{logs}:flags") > 0
    assert consumer.stats.flags == client.xlen("{logs}:flags")  # what `logpt serve` says and the metrics count


def test_serve_takes_the_holds_size_and_longest_wait_as_options(redis_server, tmp_path: Path, capsys,  # noqa: ANN001
                                                                 monkeypatch) -> None:  # noqa: ANN001
    from engine.stream import HOLD_MAX_S, HOLD_RECORDS  # noqa: PLC0415
    from engine.stream import serve as serve_module  # noqa: PLC0415
    from tests.logpt_tui.cli.test_cli import run  # noqa: PLC0415

    built = []
    monkeypatch.setattr(serve_module, "serve", lambda consumer, _stop, _turn: built.append(consumer) or consumer.stats)
    base = ["serve", "--redis", redis_server.url, "--no-line-model", "--no-sequence-model"]
    assert run(base, capsys)[0] == 0 and run([*base, "--hold-records", "0", "--hold-max-s", "2.5"], capsys)[0] == 0
    assert [(c.hold_records, c.hold_max_s) for c in built] == [(HOLD_RECORDS, HOLD_MAX_S), (0, 2.5)]
    code, _out, err = run([*base, "--hold-records", "-1"], capsys)
    assert code == 2 and "Invalid value" in err
