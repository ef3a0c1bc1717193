"""The merged timeline and time jumps, against a baseline run on the same machine in the same script.

1. First screen of `logpt-tui --merge a.log b.log` (two files of --mib MiB each), through tmux, from launch
   to the newest line on screen; beside it, one file of the same total size opened alone.
2. The whole merge (`MergedSource.index`: index both files, read every line's time, k-way merge) beside
   GNU `sort -m` merging the same two files (both ISO 8601, so a text merge is a time merge).
3. A time jump on the single file (2 × --mib MiB): `TimeIndex.first_at` for 20 random times, beside
   `grep -n -m1` finding the same minute by a linear scan.
4. Following: both files appended at --rate lines/s each, every line stamped with the clock; the screen is
   read through tmux every 0.1 s and the newest time on it compared with the clock (median and p95).

    python -m tests.benchmarks.bench_merge [--mib 512] [--rate 1000] [--samples 100]
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from engine.logs.clock import TimeIndex, seconds_of
from engine.logs.logsource import LogSource
from engine.logs.merged import MergedSource
from tests.tmux_pane import Pane, explorer_command, have_tmux

SESSION = "logpt-bench-merge"
START = seconds_of("2026-11-20T00:00:00Z") or 0.0


def stamp(t: float) -> str:
    s = int(t)
    return (
        f"2026-11-{20 + s // 86400:02d}T{s // 3600 % 24:02d}:{s // 60 % 60:02d}:{s % 60:02d}.{int(t % 1 * 1000):03d}Z"
    )


def write_log(path: Path, mib: int, name: str, seed: int) -> float:
    """Lines of ~90 bytes with times rising ~25 ms apart on average; returns the last time written."""
    rng, t, target = random.Random(seed), 0.0, mib << 20
    with path.open("w") as f:
        written = 0
        while written < target:
            batch = []
            for i in range(10_000):
                t += rng.random() * 0.05
                batch.append(f"{stamp(t)} INFO {name}: request {i} served in {rng.randint(1, 900)} ms from 10.0.0.7\n")
            text = "".join(batch)
            f.write(text)
            written += len(text)
    return t


def first_screen(command: str, mark: str) -> float:
    t0 = time.perf_counter()
    with Pane(command, session=SESSION, width=160, height=30) as pane:
        pane.wait_for(mark, timeout=120, poll=0.01)
        elapsed = time.perf_counter() - t0
        pane.keys("q")
    return elapsed


def follow_lag(files: list[Path], rate: int, samples: int, end: float) -> list[float]:
    """Both files appended at `rate` lines/s each, each line stamped with the clock (going on from the files'
    last time `end`); every 0.1 s the screen is read and the newest time on it compared with the clock."""
    stop, lags, started = threading.Event(), [], time.time()

    def clock() -> float:
        return START + end + time.time() - started

    def feed(path: Path, name: str) -> None:
        with path.open("a") as f:
            while not stop.is_set():
                f.write("".join(f"{stamp(clock() - START)} INFO {name}: live line\n" for _ in range(rate // 100)))
                f.flush()
                time.sleep(0.01)

    merge = "--merge " if len(files) > 1 else ""
    with Pane(f"{explorer_command()} --no-flags --no-model {merge}{' '.join(map(str, files))}", session=SESSION,
              width=160, height=30) as pane:  # fmt: skip
        pane.wait_for(" lines · ", timeout=300, poll=0.1)
        deadline = time.monotonic() + 600
        while "indexing" in pane.screen() and time.monotonic() < deadline:  # until the whole merge is done
            time.sleep(0.2)
        threads = [threading.Thread(target=feed, args=(p, p.stem), daemon=True) for p in files]
        for thread in threads:
            thread.start()
        time.sleep(2.0)
        for _ in range(samples):
            now = clock()  # before the capture: the capture's own cost does not count against us
            shown = [t for row in pane.screen().splitlines() if (t := seconds_of(row.split(" ", 2)[-1].strip()))]
            if shown:
                lags.append((now - max(shown)) * 1000)
            time.sleep(0.1)
        stop.set()
        pane.keys("q")
    return lags


def p95(values: list[float]) -> float:
    return sorted(values)[int(0.95 * (len(values) - 1))]


def timed(run: object) -> float:
    t0 = time.perf_counter()
    run()  # type: ignore[operator]
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mib", type=int, default=512, help="size of each of the two files")
    parser.add_argument("--rate", type=int, default=1000, help="lines per second appended to each file")
    parser.add_argument("--samples", type=int, default=100, help="screens read while following")
    args = parser.parse_args()
    if not have_tmux():
        sys.exit("tmux is not installed")
    with tempfile.TemporaryDirectory() as tmp:
        a, b, one = Path(tmp) / "web.log", Path(tmp) / "db.log", Path(tmp) / "one.log"
        print(f"writing two files of {args.mib} MiB and one of {2 * args.mib} MiB …", file=sys.stderr)
        end = max(write_log(a, args.mib, "web", 1), write_log(b, args.mib, "db", 2),
                  write_log(one, 2 * args.mib, "web", 3))  # fmt: skip
        last_b = b.read_bytes()[-200:].decode().splitlines()[-1]
        print("| measure | baseline | baseline time | logpt | target |")
        print("|---|---|---:|---:|---|")
        base = first_screen(f"{explorer_command()} --no-flags --no-model {one}", "one.log")
        ours = first_screen(f"{explorer_command()} --no-flags --no-model --merge {a} {b}", last_b[:40])
        print(f"| first screen, 2 × {args.mib} MiB merged | one {2 * args.mib} MiB file alone | {base:.2f} s "
              f"| {ours:.2f} s | ≤ 2 s |")  # fmt: skip
        merged = MergedSource([a, b])
        ours = timed(merged.index)
        base = timed(lambda: subprocess.run(["sort", "-m", "-s", "-k1,1", str(a), str(b)], stdout=subprocess.DEVNULL,
                                            check=True))  # fmt: skip
        print(f"| whole merge, {len(merged):,} lines | GNU sort -m (text) | {base:.1f} s | {ours:.1f} s | — |")
        source = LogSource(one)
        source.index()
        index, rng = TimeIndex(source), random.Random(5)
        targets = [START + rng.uniform(0, end) for _ in range(20)]
        ours_ms = statistics.median(timed(lambda t=t: index.first_at(t)) * 1000 for t in targets)
        grep = shutil.which("grep") or "grep"
        base_ms = statistics.median(
            timed(lambda t=t: subprocess.run([grep, "-n", "-m1", f"^{stamp(t)[:16]}", str(one)],
                                             stdout=subprocess.DEVNULL, check=False)) * 1000
            for t in targets[:5])  # fmt: skip
        print(f"| time jump, {len(source):,} lines ({2 * args.mib} MiB) | grep -n -m1 (scan) | {base_ms:.0f} ms "
              f"| {ours_ms:.1f} ms | ≤ 200 ms |")  # fmt: skip
        base = sorted(follow_lag([one], 2 * args.rate, args.samples, end))
        lags = sorted(follow_lag([a, b], args.rate, args.samples, end))
        print(f"| follow, clock − newest time on screen (median / p95): 2 files merged at {args.rate}/s each "
              f"| one file at {2 * args.rate}/s | {statistics.median(base):.0f} / {p95(base):.0f} ms "
              f"| {statistics.median(lags):.0f} / {p95(lags):.0f} ms | ≤ 100 ms |")  # fmt: skip


if __name__ == "__main__":
    main()
