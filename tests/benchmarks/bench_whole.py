"""Whole-file incident timeline (`logpt analyze --whole`, the explorer's `O`): lines per second, and a file end to end.

In memory (default): synthetic syslog (routine traffic with injected incidents, `train.synth`), `--lines`
of it. The baseline is the map as it was before 2026-11-30: a fresh digest (its own template miner and
signature matches) for every 500-line chunk; ours keeps one miner and one signature match per template
for the whole file (`engine.analysis.digest.Mining`). Alternating rounds in one process, medians.

A file (`--file PATH`, e.g. 1 GiB written by `--write PATH --gib 1`): `logpt analyze -f PATH --whole` end to
end, one process (`LOGPT_WORKERS=1`, the baseline) against the default (a worker per core, at most 4):
seconds to the timeline's first line, to its first episode, and to the end. Target (the analysis issue):
a 1 GiB log's first section within 5 s and all of it within 2 minutes on the 2-core machine.

    python -m tests.benchmarks.bench_whole [--lines 500000] [--rounds 2]
    python -m tests.benchmarks.bench_whole --write /tmp/1g.log --gib 1
    python -m tests.benchmarks.bench_whole --file /tmp/1g.log [--rounds 1]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

from engine.analysis.digest import build_digest
from engine.analysis.timeline import CHUNK_LINES, episodes_of
from engine.logs.formats import detect_format
from train.synth.incidents import INCIDENTS, synthetic_window


def synthetic(rng: random.Random, lines: int) -> list[str]:
    out: list[str] = []
    while len(out) < lines:
        out += synthetic_window(rng, "syslog", 60, rng.choice((None, *INCIDENTS)))
    return out


def per_chunk_digests(lines: list[str]) -> int:
    """The baseline map: every chunk digested from scratch; the number of signature hits found."""
    fmt = detect_format(lines[:200]).format
    found = 0
    for start in range(0, len(lines), CHUNK_LINES):
        part = lines[start : start + CHUNK_LINES]
        found += len(build_digest(part, first_line=start + 1, fmt=fmt, entities=False).signatures)
    return found


def in_memory(lines_wanted: int, rounds: int) -> None:
    lines = synthetic(random.Random(0), lines_wanted)
    size = sum(len(line) + 1 for line in lines)
    times: dict[str, list[float]] = {"fresh digest per chunk (before)": [], "one miner for the file (logpt)": []}
    for _ in range(rounds):
        for name, run in zip(times, (per_chunk_digests, episodes_of), strict=True):
            t0 = time.perf_counter()
            run(lines)
            times[name].append(time.perf_counter() - t0)
    print(f"{len(lines):,} lines ({size / 2**20:.0f} MiB) of synthetic syslog; {platform.machine()}; medians of "
          f"{rounds} rounds")  # fmt: skip
    print("| map | seconds | lines/s | a GiB of such lines |\n|---|---:|---:|---:|")
    for name, values in times.items():
        seconds = statistics.median(values)
        print(f"| {name} | {seconds:.1f} | {len(lines) / seconds:,.0f} | {2**30 / size * seconds / 60:.1f} min |")


def write(path: Path, gib: float) -> None:
    rng, size, target = random.Random(0), 0, int(gib * 2**30)
    with path.open("w") as f:
        while size < target:
            text = "\n".join(synthetic(rng, 12_000)) + "\n"
            f.write(text)
            size += len(text.encode())
    print(f"wrote {path}: {size / 2**30:.2f} GiB")


def end_to_end(path: Path, workers: str | None) -> tuple[float, float, float]:
    """Seconds to the first line of output, to the first episode, and to the end."""
    env = dict(os.environ, **({"LOGPT_WORKERS": workers} if workers else {}))
    command = [str(Path(sys.executable).with_name("logpt")), "analyze", "-f", str(path), "--whole"]
    t0 = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    assert process.stdout is not None
    first = episode = float("nan")
    for line in process.stdout:
        now = time.perf_counter() - t0
        first = now if first != first else first
        episode = now if episode != episode and line.startswith("- line") else episode
    if process.wait() != 0:
        raise SystemExit(f"logpt analyze failed ({process.returncode})")
    return first, episode, time.perf_counter() - t0


def on_file(path: Path, rounds: int) -> None:
    runs: dict[str, list[tuple[float, float, float]]] = {"one process (LOGPT_WORKERS=1)": [], "default": []}
    for _ in range(rounds):
        for name, workers in zip(runs, ("1", None), strict=True):
            runs[name].append(end_to_end(path, workers))
    print(f"`logpt analyze -f {path.name} --whole`: {path.stat().st_size / 2**30:.2f} GiB; {os.cpu_count()} cores; "
          f"{platform.machine()}; medians of {rounds} round(s)")  # fmt: skip
    print("| map | first line | first episode | whole timeline |\n|---|---:|---:|---:|")
    for name, values in runs.items():
        first, episode, total = (statistics.median(v[i] for v in values) for i in range(3))
        print(f"| {name} | {first:.1f} s | {episode:.1f} s | {total:.1f} s |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=500_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--file", type=Path, help="time `logpt analyze --whole` on this file")
    parser.add_argument("--write", type=Path, help="write a synthetic syslog file of --gib GiB")
    parser.add_argument("--gib", type=float, default=1.0)
    args = parser.parse_args()
    if args.write:
        write(args.write, args.gib)
    elif args.file:
        on_file(args.file, args.rounds)
    else:
        in_memory(args.lines, args.rounds)


if __name__ == "__main__":
    main()
