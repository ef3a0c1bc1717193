"""`logpt ship` and `logpt serve` on a real local Redis Cluster (three nodes, started by the `redis_cluster`
fixture): every key of a stream carries the stream's hash tag, so each Lua step and each transaction touches
one slot; the flags are those a single Redis gives, each entry applied once."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

redis = pytest.importorskip("redis")

from engine.detect import Detector  # noqa: E402
from engine.detect.evidence import EvidenceRule  # noqa: E402
from engine.logs.formats import detect_format  # noqa: E402
from engine.stream import shares_slot, tagged  # noqa: E402
from engine.stream.incidents import IncidentConfig, Incidents  # noqa: E402
from engine.stream.serve import Consumer, pipeline_for  # noqa: E402
from engine.stream.ship import ship_files  # noqa: E402
from tests.engine.detect.test_pipeline import syslog  # noqa: E402
from tests.engine.stream.test_serve import detector_for, log_with_novel_lines  # noqa: E402


def served(client, log: Path, bundle: Path, lines: list[str], total: int) -> tuple[dict[int, str], list[tuple]]:  # noqa: ANN001
    """Ship `log` and serve it with two consumers taking turns, then close its incidents; the flags by line, with
    their why, and the incidents (span, flags, root cause)."""
    assert ship_files(client, [log], once=True) == total
    fmt = detect_format(lines).format
    detector = Detector.load(bundle)
    consumers = [Consumer(client, pipeline_for(detector, fmt, EvidenceRule("combined")), name=f"c{i}", batch=64,
                          incident_quiet_s=0.2) for i in range(2)]  # fmt: skip
    turn = 0
    while len(list(client.scan_iter("{logs}:done:*", count=1000))) < total:
        consumers[turn % 2].step()
        turn += 1
    assert client.xpending("logs", "detect")["pending"] == 0
    found = [{k.decode(): v.decode() for k, v in f.items()} for _i, f in client.xrange("{logs}:flags")]
    assert len({f["entry"] for f in found}) == len(found)  # none flagged twice
    time.sleep(0.25)
    while client.zcard("{logs}:inc-due"):  # the incidents' Lua steps (join, claim, write) touch the stream's slot
        consumers[turn % 2].incidents.close_due()
        turn += 1
    incidents = [{k.decode(): v.decode() for k, v in f.items()} for _i, f in client.xrange("{logs}:incidents")]
    assert len({i["incident"] for i in incidents}) == len(incidents)  # none written twice
    spans = [tuple(i[k] for k in ("first_line", "last_line", "flags", "category", "signature", "root_cause"))
             for i in incidents]  # fmt: skip
    return {int(f["line"]): f["why"] for f in found}, sorted(spans)


def test_tagged_keys_share_the_streams_slot() -> None:
    from redis.crc import key_slot

    assert tagged("logs") == "{logs}" and tagged("{app}logs") == "{app}logs" and tagged("a{}b") == "{a{}b}"
    for stream in ("logs", "app:prod", "{app}logs"):
        slot = key_slot(stream.encode())
        incidents = Incidents(redis.Redis(), stream, detect_format(["x"]).format, IncidentConfig(), "c")
        assert incidents.key == tagged(stream) + ":inc" and incidents.incidents == tagged(stream) + ":incidents"
        for suffix in (":flags", ":dead", ":done:1-0", ":ctx:f|kernel", ":ctx-count", ":tally:f:n", ":ship:/x",
                       ":inc:1-0", ":inc:1-0:flags", ":inc-open", ":inc-due", ":inc-claim:1-0", ":inc-done:1-0",
                       ":incidents"):  # fmt: skip
            assert key_slot((tagged(stream) + suffix).encode()) == slot, (stream, suffix)
        assert shares_slot(stream)
    assert not shares_slot("a{}b") and not shares_slot("x}{}y")  # hashed whole: no tag can hold the `}`


@pytest.mark.slow  # ~3 s of cluster start
def test_a_stream_whose_keys_cannot_share_its_slot_is_refused_in_one_line(redis_cluster: str, redis_server,  # noqa: ANN001
                                                                         tmp_path: Path) -> None:  # fmt: skip
    """`a{}b` hashes whole, so no prefix of its keys sits in its slot: on a cluster `ship` and `serve` say so before
    any work (a Lua step failed with CROSSSLOT in the middle of serving); on one Redis the name works."""
    from engine.errors import InputError
    from engine.stream import connect

    log = tmp_path / "syslog"
    lines, _novel = log_with_novel_lines(log, 50, 7)
    pipeline = pipeline_for(None, detect_format(lines).format, EvidenceRule("combined"))
    client = connect(redis_cluster)
    for start in (lambda: ship_files(client, [log], stream="a{}b", once=True),
                  lambda: Consumer(client, pipeline, stream="a{}b")):  # fmt: skip
        with pytest.raises(InputError, match="cannot share one slot"):
            start()
    single = redis.Redis.from_url(redis_server.url)
    assert ship_files(single, [log], stream="a{}b", once=True) == 50
    consumer = Consumer(single, pipeline, stream="a{}b", hold_records=0)
    assert sum(consumer.step() for _ in range(8)) == 50


@pytest.mark.slow  # ~3 s of cluster start and ~10 s of serving on the loaded 2-core VM
def test_ship_serve_on_a_local_cluster_flag_what_one_redis_flags(redis_cluster: str, redis_server,  # noqa: ANN001
                                                                  tmp_path: Path) -> None:  # fmt: skip
    from engine.stream import connect

    client = connect(redis_cluster)
    assert isinstance(client, redis.RedisCluster)  # found out from the node's INFO: no option to pass
    assert len({n.port for n in client.get_nodes()}) == 3
    bundle = detector_for(syslog(200), tmp_path / "det")
    log = tmp_path / "syslog"
    lines, novel = log_with_novel_lines(log, 200, 37)
    on_cluster, incidents = served(client, log, bundle, lines, 200)
    single, single_incidents = served(redis.Redis.from_url(redis_server.url), log, bundle, lines, 200)
    assert on_cluster == single and novel <= on_cluster.keys()
    assert incidents == single_incidents and len(incidents) >= 1
    assert ship_files(client, [log], once=True) == 0  # the position was kept (in the stream's slot)
    followed = follow_in_the_explorer(redis_cluster, "{logs}:incidents", len(incidents))
    assert [row.split(" · ")[1] for row in followed] == [f"syslog lines {i[0]}-{i[1]}" for i in incidents]


def follow_in_the_explorer(node_url: str, stream: str, count: int, timeout: float = 20) -> list[str]:
    """What `logpt-tui redis://NODE/STREAM` spools from a cluster node (a cluster client, found from the node):
    the first row of each incident, once `count` are there."""
    from urllib.parse import urlparse

    from logpt_tui.explorer.follow import CLEANUPS
    from logpt_tui.explorer.redis_stream import spool_stream

    path, _name = spool_stream(f"redis://{urlparse(node_url).netloc}/{stream}")
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            heads = [row for row in path.read_text().splitlines() if row.startswith("incident: ")]
            if len(heads) >= count:
                return heads
            time.sleep(0.05)
        raise AssertionError(f"{count} incidents not spooled: {path.read_text()!r}")
    finally:
        for cleanup in CLEANUPS:
            cleanup()
        CLEANUPS.clear()


def test_an_earlier_versions_positions_and_flags_are_renamed_on_a_single_redis(redis_server, tmp_path: Path) -> None:  # noqa: ANN001
    from engine.stream.ship import position_key

    client = redis.Redis.from_url(redis_server.url)
    log = tmp_path / "syslog"
    lines, _novel = log_with_novel_lines(log, 50, 7)
    assert ship_files(client, [log], once=True) == 50
    client.rename(position_key("logs", log), f"logs:ship:{log.resolve()}")  # as an earlier version named them
    client.xadd("logs:flags", {"entry": "1-0", "line": 3})
    assert ship_files(client, [log], once=True) == 0  # the old position was found: nothing shipped twice
    Consumer(client, pipeline_for(Detector.load(detector_for(lines, tmp_path / "det")), detect_format(lines).format,
                                  EvidenceRule("combined")))  # fmt: skip
    assert client.xlen("{logs}:flags") == 1 and not client.exists("logs:flags", f"logs:ship:{log.resolve()}")


@pytest.mark.slow  # ~3 s of cluster start, ~3 s of serving
def test_apply_on_a_cluster_goes_to_the_slots_node_and_follows_a_moved_slot(redis_cluster: str, redis_server,  # noqa: ANN001
                                                                           tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001  # fmt: skip
    """A consumer alone on a cluster sends APPLY on a connection of the node holding the stream's slot and reads
    the next batch meanwhile; a node that answers MOVED (the slot went elsewhere), or no node known for the slot,
    gets the batch applied through the cluster client instead: the flags are those a single Redis gives, none
    twice."""
    from engine.stream import connect

    client = connect(redis_cluster)
    bundle = detector_for(syslog(300), tmp_path / "det")
    log = tmp_path / "syslog"
    lines, novel = log_with_novel_lines(log, 600, 37)
    fmt = detect_format(lines).format
    holder = client.get_node_from_key("{logs}:done:")
    elsewhere = next(node for node in client.get_primaries() if node.name != holder.name)
    sent: list[str] = []

    def node_of(key: str) -> object:
        """The first batch finds no node (its slot not covered now), the next go to a node that does not hold the
        slot, the rest to the one that does."""
        sent.append(key)
        if len(sent) == 1:
            raise redis.exceptions.SlotNotCoveredError("slot not covered")
        return elsewhere if len(sent) <= 4 else holder

    monkeypatch.setattr(client, "get_node_from_key", node_of)
    found = []
    for target in (client, redis.Redis.from_url(redis_server.url)):
        ship_files(target, [log], once=True)
        consumer = Consumer(target, pipeline_for(Detector.load(bundle), fmt, EvidenceRule("combined")), name="c1",
                            batch=32, incident_quiet_s=3600)  # fmt: skip
        aheads = 0
        while target.xpending("logs", "detect")["pending"] or target.xinfo_groups("logs")[0]["lag"]:
            consumer.step()
            aheads += consumer.ahead is not None
        consumer.finish()
        assert aheads > 5
        assert target is not client or len(sent) > 10  # each batch's APPLY went on a connection of the node's pool
        why = [(int(f[b"line"]), f[b"why"]) for _i, f in target.xrange("{logs}:flags")]
        assert len(why) == len({line for line, _w in why})
        found.append(sorted(why))
    assert found[0] == found[1] and novel <= {line for line, _w in found[0]}
