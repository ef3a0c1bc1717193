"""Whole-file incident timeline (`logpt analyze --whole`, the explorer's `O`): lines per second.

Synthetic syslog (routine traffic with injected incidents, `train.synth`),
`--lines` of it, read into memory first. The baseline is the map as it was
before 2026-11-30: a fresh digest (its own template miner and signature
matches) for every 500-line chunk; ours keeps one miner and one signature
match per template for the whole file (`engine.analysis.digest.Mining`).
Alternating rounds in one process, medians. Target (the analysis issue): a
1 GiB log within 2 minutes on the 2-core machine.

    python -m tests.benchmarks.bench_whole [--lines 500000] [--rounds 2]
"""

from __future__ import annotations

import argparse
import platform
import random
import statistics
import time

from engine.analysis.chunker import line_chunks
from engine.analysis.digest import build_digest
from engine.analysis.timeline import CHUNK_LINES, episodes_of
from engine.logs.formats import detect_format
from train.synth.incidents import INCIDENTS, synthetic_window


def per_chunk_digests(lines: list[str]) -> int:
    """The baseline map: every chunk digested from scratch; the number of signature hits found."""
    fmt = detect_format(lines[:200]).format
    found = 0
    for chunk in line_chunks(lines, CHUNK_LINES):
        found += len(
            build_digest(chunk.text.split("\n"), first_line=chunk.first_line, fmt=fmt, entities=False).signatures
        )
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=500_000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    rng = random.Random(0)
    lines: list[str] = []
    while len(lines) < args.lines:
        lines += synthetic_window(rng, "syslog", 60, rng.choice((None, *INCIDENTS)))
    size = sum(len(line) + 1 for line in lines)
    times: dict[str, list[float]] = {"fresh digest per chunk (before)": [], "one miner for the file (logpt)": []}
    for _ in range(args.rounds):
        for name, run in zip(times, (per_chunk_digests, episodes_of), strict=True):
            t0 = time.perf_counter()
            run(lines)
            times[name].append(time.perf_counter() - t0)
    print(f"{len(lines):,} lines ({size / 2**20:.0f} MiB) of synthetic syslog; {platform.machine()}; medians of "
          f"{args.rounds} rounds")  # fmt: skip
    print("| map | seconds | lines/s | a GiB of such lines |\n|---|---:|---:|---:|")
    for name, values in times.items():
        seconds = statistics.median(values)
        print(f"| {name} | {seconds:.1f} | {len(lines) / seconds:,.0f} | {2**30 / size * seconds / 60:.1f} min |")


if __name__ == "__main__":
    main()
