"""Indexing a large log: seconds and bytes per line, beside a plain Python line count.

Writes a syslog-style file (lines of 60–160 bytes) of the requested size into
a temporary folder, then times `LogSource.index()` (numpy newline scan, int64
offsets) and, as the baseline, iterating the file's lines in Python, in the
same process, on a warm page cache.

    python -m tests.benchmarks.bench_index [--mib 1024]
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

from engine.logs.logsource import LogSource


def write_log(path: Path, mib: int) -> None:
    rng = random.Random(0)
    programs = ["sshd[2211]", "kernel", "systemd[1]", "CRON[3350]", "app[4242]", "nginx[1181]"]
    block = "".join(
        f"Nov 21 10:{i // 60 % 60:02d}:{i % 60:02d} web-{rng.randint(1, 9):02d} {rng.choice(programs)}: "
        f"{'x' * rng.randint(10, 100)} id={rng.randint(0, 10**9)}\n"
        for i in range(8000)
    ).encode()
    with path.open("wb") as f:
        written = 0
        while written < mib * 1024 * 1024:
            f.write(block)
            written += len(block)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mib", type=int, default=1024)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.log"
        write_log(path, args.mib)
        size = path.stat().st_size
        with path.open("rb") as f:  # warm the page cache for both
            while f.read(1 << 24):
                pass
        t0 = time.perf_counter()
        with path.open("rb") as f:
            baseline_lines = sum(1 for _ in f)
        t_baseline = time.perf_counter() - t0
        t0 = time.perf_counter()
        with LogSource(path) as src:
            src.index()
            t_index = time.perf_counter() - t0
            assert len(src) == baseline_lines
            per_line = src.index_bytes / len(src)
            last = src.line(len(src) - 1)
        print(f"{size / 2**30:.2f} GiB, {baseline_lines:,} lines, warm page cache")
        print("| method | seconds | lines/s | index bytes/line |")
        print("|---|---:|---:|---:|")
        print(
            f"| Python line iteration (baseline, count only) | {t_baseline:.2f} | {baseline_lines / t_baseline:,.0f} | |"
        )
        print(
            f"| logpt LogSource.index (numpy scan) | {t_index:.2f} | {baseline_lines / t_index:,.0f} | {per_line:.1f} |"
        )
        print(f"last line read back: {last[:60]!r}…")


if __name__ == "__main__":
    main()
