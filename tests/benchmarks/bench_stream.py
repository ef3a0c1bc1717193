"""Streaming detection over Redis Streams on this machine, beside LogNEO's published figures.

A real redis-server on a free local port (AOF off), a detector bundle over the templates of a syslog-like
log, and HDFS-like volume: --lines records of which 4% are anomalous (templates the detector never saw).

1. Backlog: the records are shipped first (`ship_files`), then N consumers (separate processes, N = 1, 2)
   drain them; throughput = records / time to drain (from every consumer's first read), per consumer = / N.
   Also the consumers' and redis-server's CPU (user + system, from /proc) per record over the same span: the
   cost of our work, less swayed than time by other work on a busy machine.
2. Offered load: records XADDed at --rate per second while one consumer judges them; end-to-end latency of
   each flag = the flag's stream id time − the record's stream id time (both Redis's clock), P50/P95/P99.
3. Kill -9: two consumers at --rate; one is killed with SIGKILL; recovery = from the kill until the other
   has claimed (claim idle --claim-ms) and judged all the dead one's entries. Lost = entries never applied,
   duplicated = entries flagged twice (both must be 0).

    python -m tests.benchmarks.bench_stream [--lines 1000000] [--rate 5000] [--claim-ms 5000] [--consumers 1,2]
                                            [--block 16] [--trained-size] [--components 200] [--cluster]

`--cluster`: every run on a local Redis Cluster of three nodes (tests/engine/stream/local_cluster.py) instead of
one redis-server; the consumers and the bench connect as `logpt serve` does (a cluster client from a node).
    python -m tests.benchmarks.bench_stream --parity FILES... [--detectors DIR]   # parity with `logpt detect`

The detector has random weights (its flags are noise, its cost is real): a 1-layer, 16-wide model with a
context of --block keys, or with --trained-size the size `logpt train detector` gives (2 layers, 64 wide,
4 heads; --block 128 is its context). With --components N the records' programs are N names drawn at random, so
each of N sessions gets a few keys per batch (where rescoring each session's context per batch cost most).
"""

from __future__ import annotations

import argparse
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import redis

from engine.detect import Detector, KeyVocab, TopK
from engine.detect.history import mine
from engine.lm.config import GPTConfig
from engine.lm.model import GPT
from engine.logs.formats import detect_format
from engine.logs.templates import TemplateMiner
from engine.stream import HOLD_RECORDS, connect
from engine.stream.ship import ship_files
from tests.engine.detect.test_pipeline import random_detector, syslog
from tests.engine.stream.local_cluster import LocalCluster
from tests.redis_server import RedisServer

ROOT = Path(__file__).resolve().parents[2]
NOVEL = "Nov 21 11:00:00 web-01 kernel: BUG: unable to handle page fault for address {n}"
CONSUMER = (
    "import sys; from pathlib import Path; from engine.detect import Detector; from engine.stream import connect; "
    "from engine.detect.evidence import EvidenceRule; from engine.logs.formats import detect_format; "
    "from engine.stream.serve import Consumer, pipeline_for, serve; c = connect(sys.argv[1]); "
    "fmt = detect_format([sys.argv[4]]).format; "
    "serve(Consumer(c, pipeline_for(Detector.load(Path(sys.argv[2])), fmt, EvidenceRule('combined')), "
    "name=sys.argv[3], claim_idle_ms=int(sys.argv[5])), lambda: False)"
)


def bench_detector(keys: list[str], block: int, trained_size: bool) -> Detector:
    if not trained_size:
        return random_detector(keys, block=block, complete=False)
    vocab = KeyVocab(keys)
    model = GPT(GPTConfig(block_size=block, vocab_size=len(vocab), n_layer=2, n_head=4, n_embd=64))
    model.init_weights(0)
    return Detector(model.eval(), vocab, TopK("count", 2.0), complete=False)


def records(n: int, seed: int = 0, components: int = 0) -> list[str]:
    """n syslog records, 4% of them novel; with `components`, each record's program is one of that many
    (svc0..), drawn at random: as many sessions, each getting a few keys per batch."""
    lines = syslog(n, seed)
    rng = random.Random(seed)
    for i in rng.sample(range(n), n * 4 // 100):
        lines[i] = NOVEL.format(n=i)
    if components:
        program = re.compile(r" web-01 [^:\[]+")
        lines = [program.sub(f" web-01 svc{rng.randrange(components)}", line, count=1) for line in lines]
    return lines


# `logpt serve` without --detector (the pretrained sequence model, the line model), its hold of argv[2] records
SERVE_PRETRAINED = (
    "import sys; from engine.stream import connect; from engine.detect.evidence import EvidenceRule; "
    "from engine.detect.textseq import find_text_seq; from engine.detect.unusual import find_line_lm; "
    "from engine.logs.formats import detect_format; from engine.stream.serve import Consumer, pipeline_for, serve; "
    "c = connect(sys.argv[1]); fmt = detect_format([sys.argv[4]]).format; "
    "p = pipeline_for(None, fmt, EvidenceRule('combined'), line_lm=find_line_lm(), sequence=find_text_seq()); "
    "serve(Consumer(c, p, name=sys.argv[3], claim_idle_ms=int(sys.argv[5]), "
    "hold_records=int(sys.argv[2])), lambda: False)"
)
HELD_FILE = Path("/work/shared/datasets/loghub/Linux/Linux_2k.log")


def consumer(url: str, bundle: Path | str, name: str, sample: str, claim_ms: int,
             code: str = CONSUMER) -> subprocess.Popen:  # fmt: skip
    return subprocess.Popen([sys.executable, "-c", code, url, str(bundle), name, sample, str(claim_ms)], cwd=ROOT)


def client_of(url: str) -> redis.Redis:
    """A client for one Redis or, given a cluster node, the cluster (as `logpt ship` and `logpt serve` connect)."""
    return connect(url, needed_by="the bench")  # type: ignore[return-value]


def redis_pids(server: RedisServer | LocalCluster) -> list[int]:
    """The redis-server processes (a cluster's nodes)."""
    return [p.pid for p in (server.processes if isinstance(server, LocalCluster) else [server.process]) if p]


def done(client: redis.Redis) -> int:
    return sum(1 for _ in client.scan_iter("{logs}:done:*", count=10_000))


def wait_done(client: redis.Redis, total: int, timeout: float = 3600) -> float:
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < timeout:
        group = client.xinfo_groups("logs")[0]
        if group["pending"] == 0 and group.get("lag") == 0 and done(client) >= total:
            return time.perf_counter() - t0
        time.sleep(0.2)
    raise TimeoutError("the consumers did not finish")


def backlog(server: RedisServer | LocalCluster, log: Path, bundle: Path, n: int, consumers: int,
            total: int) -> tuple[float, float, float]:  # fmt: skip
    """Records per second, and the consumers' and redis-server's CPU seconds per record over the same span (Linux;
    less swayed by a busy machine)."""
    client = client_of(server.url)
    client.flushall()
    ship_files(client, [log], once=True)
    client.xgroup_create("logs", "detect", id="0")
    sample = log.open().readline().rstrip("\n")
    procs = [consumer(server.url, bundle, f"c{i}", sample, 30_000) for i in range(consumers)]
    try:
        while len(client.xinfo_consumers("logs", "detect")) < consumers:  # loaded and reading: the clock starts
            time.sleep(0.01)
        pids = redis_pids(server)
        cpu, redis_cpu = -sum(cpu_seconds(p.pid) for p in procs), -sum(map(cpu_seconds, pids))
        seconds = wait_done(client, total)
        cpu, redis_cpu = cpu + sum(cpu_seconds(p.pid) for p in procs), redis_cpu + sum(map(cpu_seconds, pids))
    finally:
        for p in procs:
            p.kill()
            p.wait()
    return total / seconds, cpu / total, redis_cpu / total


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux /proc; nan elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()  # fields from the 3rd (state) on
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def offered(server: RedisServer | LocalCluster, lines: list[str], bundle: Path | str, rate: int, consumers: int,
            claim_ms: int, kill_after: float | None = None, code: str = CONSUMER) -> dict[str, float]:  # fmt: skip
    client = client_of(server.url)
    client.flushall()
    client.xgroup_create("logs", "detect", id="0", mkstream=True)
    procs = [consumer(server.url, bundle, f"c{i}", lines[0], claim_ms, code) for i in range(consumers)]
    while len(client.xinfo_consumers("logs", "detect")) < consumers:  # loaded and reading: the load starts
        time.sleep(0.01)
    stop, sent = threading.Event(), [0]

    def feed() -> None:
        t0, i = time.perf_counter(), 0
        while not stop.is_set() and i < len(lines):
            due = int((time.perf_counter() - t0) * rate)
            pipe = client.pipeline(transaction=False)
            for line in lines[i : min(due, len(lines))]:
                pipe.xadd("logs", {"source": "bench", "line": i + 1, "text": line})  # 1-based, as `ship`
                i += 1
            pipe.execute()
            sent[0] = i
            time.sleep(0.005)

    feeder = threading.Thread(target=feed)
    feeder.start()
    recovery = float("nan")
    if kill_after is not None:
        time.sleep(kill_after)
        procs[0].send_signal(signal.SIGKILL)
        killed = time.perf_counter()
        while True:
            pending = {c["name"].decode(): c["pending"] for c in client.xinfo_consumers("logs", "detect")}
            if pending.get("c0", 0) == 0:
                recovery = time.perf_counter() - killed
                break
            time.sleep(0.05)
    feeder.join()
    wait_done(client_of(server.url), len(lines))
    for p in procs:
        p.kill()
        p.wait()
    flags = client.xrange("{logs}:flags")
    entries = [f[b"entry"].decode() for _i, f in flags]
    latency = sorted(
        int(fid.decode().split("-")[0]) - int(e.split("-")[0]) for (fid, _f), e in zip(flags, entries, strict=True)
    )
    held = sorted(int(fid.decode().split("-")[0]) - int(f[b"entry"].decode().split("-")[0])
                  for fid, f in flags if b"(judged at the source's record" in f[b"why"])  # fmt: skip  # held
    held_q = held[int(0.95 * (len(held) - 1))] if held else float("nan")
    ids = [i.decode() for i, _ in client.xrange("logs")]
    pipe = client.pipeline(transaction=False)
    for i in ids:
        pipe.exists(f"{{logs}}:done:{i}")
    lost = sum(1 for ok in pipe.execute() if not ok)
    q = lambda p: latency[int(p * (len(latency) - 1))]  # noqa: E731
    return {"p50": q(0.5), "p95": q(0.95), "p99": q(0.99), "lost": lost, "dup": len(entries) - len(set(entries)),
            "recovery": recovery, "flags": len(flags), "held_p95": held_q, "held_max": held[-1] if held else float("nan"),
            "held_flags": len(held)}  # fmt: skip


def held_runs(server: RedisServer | LocalCluster, rate: int) -> None:
    """The time to a flag for a new source, with its first HOLD_RECORDS records held and with none held: HELD_FILE
    offered at `rate` as one new source to `logpt serve` without --detector (the pretrained models)."""
    lines = HELD_FILE.read_text(errors="replace").splitlines()
    for hold in (HOLD_RECORDS, 0):
        r = offered(server, lines, str(hold), rate, 1, 30_000, code=SERVE_PRETRAINED)
        print(f"| {HELD_FILE.name} at {rate:,}/s, new source, hold {hold:,}: time to a flag P50 / P95 / P99 | "
              f"{r['p50']:.0f} / {r['p95']:.0f} / {r['p99']:.0f} ms, {r['flags']} flags; the {r['held_flags']} "
              f"judged at the release: P95 {r['held_p95']:.0f}, max {r['held_max']:.0f} ms | – |")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--rate", type=int, default=5000, help="records/s offered in the latency and kill runs")
    parser.add_argument("--offered-lines", type=int, default=100_000, help="records in the latency and kill runs")
    parser.add_argument("--claim-ms", type=int, default=5000)
    parser.add_argument("--runs", default="backlog,offered,kill", help="which runs, comma-separated")
    parser.add_argument("--consumers", default="1,2", help="consumer counts of the backlog runs, comma-separated")
    parser.add_argument("--block", type=int, default=16, help="the detector's context, in keys")
    parser.add_argument("--trained-size", action="store_true", help="a detector of logpt train detector's size")
    parser.add_argument("--components", type=int, default=0,
                        help="programs the records are spread over (that many sessions); 0: the log's own 4")
    parser.add_argument("--held-rates", default="10000,200",
                        help="with --runs held: the rates HELD_FILE is offered at, held and not (records/s)")
    parser.add_argument("--cluster", action="store_true", help="on a local Redis Cluster of three nodes")
    parser.add_argument("--parity", nargs="+", type=Path, metavar="FILE",
                        help="only the parity run (tests/benchmarks/stream_parity.py) on these files")
    parser.add_argument("--detectors", type=Path, help="with --parity: keep (and reuse) self-trained detectors here")
    args = parser.parse_args()
    if args.parity:
        from tests.benchmarks.stream_parity import print_parity  # noqa: PLC0415

        print_parity(args.parity, args.detectors)
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        server = LocalCluster(folder) if args.cluster else RedisServer(folder)
        server.start()
        try:
            history = syslog(2000, seed=9)
            fmt = detect_format(history).format
            miner = TemplateMiner()
            detector = bench_detector(sorted({k for _, k in mine(history, fmt, miner)}), args.block, args.trained_size)
            detector.miner_state = miner.to_state()
            bundle = folder / "detector"
            detector.save(bundle)
            lines = records(args.lines, components=args.components)
            log = folder / "replay.log"
            log.write_text("\n".join(lines) + "\n")
            print(
                "| run | logpt (this machine: 2 cores, Redis 7 on the same cores) | LogNEO (published, per instance) |"
            )
            print("|---|---|---|")
            for n in [int(c) for c in args.consumers.split(",")] if "backlog" in args.runs else ():
                rate, cpu, redis_cpu = backlog(server, log, bundle, args.lines, n, args.lines)
                spread = f" over {args.components} programs" if args.components else ""
                print(f"| backlog of {args.lines:,}{spread}, {n} consumer(s) | {rate:,.0f} records/s ({rate / n:,.0f} per consumer; "
                      f"{cpu * 1e6:,.0f} µs consumer CPU, {redis_cpu * 1e6:,.0f} µs redis-server CPU a record) "
                      "| 15,000 events/s |")  # fmt: skip
            part = records(args.offered_lines, seed=1)
            r = offered(server, part, bundle, args.rate, 1, args.claim_ms) if "offered" in args.runs else None
            if r is not None:
                print(f"| {args.rate:,}/s offered, 1 consumer: latency P50 / P95 / P99 | {r['p50']:.0f} / {r['p95']:.0f} / "
                  f"{r['p99']:.0f} ms; lost {r['lost']}, duplicated {r['dup']} | P50 45 ms, P95 < 200 ms |")  # fmt: skip
                print(f"| … the flags held among the source's first {HOLD_RECORDS:,} records | {r['held_flags']} flags: "
                      f"P95 {r['held_p95']:.0f} ms, max {r['held_max']:.0f} ms | – |")  # fmt: skip
            r = (
                offered(server, part, bundle, args.rate, 2, args.claim_ms, kill_after=5.0)
                if "kill" in args.runs
                else None
            )
            if r is not None:
                print(f"| {args.rate:,}/s, 2 consumers, one killed (-9) | recovery {r['recovery']:.1f} s (claim idle "
                  f"{args.claim_ms / 1000:g} s); lost {r['lost']}, duplicated {r['dup']}; P95 {r['p95']:.0f} ms "
                  f"| recovery < 30 s, zero loss |")  # fmt: skip
            for rate in [int(r) for r in args.held_rates.split(",")] if "held" in args.runs else ():
                held_runs(server, rate)
        finally:
            server.stop()


if __name__ == "__main__":
    main()
