"""Tail latency of `logpt-tui`: from appending a line to seeing it on screen, through tmux.

Appends a uniquely marked line to a followed file, polls the tmux pane every
2 ms until it shows, 30 times; prints the median and p90. The poll itself
costs a few ms (tmux capture-pane), so the numbers are an upper bound. Toolong
is measured the same way when installed.

    python -m tests.benchmarks.bench_tail [--rounds 30]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from tests.benchmarks.bench_tui_open import SESSION, tmux


def measure(command: str, path: Path, rounds: int) -> list[float]:
    tmux("kill-session", "-t", SESSION)
    tmux(
        "new-session",
        "-d",
        "-s",
        SESSION,
        "-x",
        "160",
        "-y",
        "30",
        f"env -u COLUMNS -u LINES TERM=xterm-256color {command}",
    )
    try:
        deadline = time.monotonic() + 30
        while "line 200" not in tmux("capture-pane", "-t", SESSION, "-p") and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(1.0)  # let watchers start
        latencies = []
        for i in range(rounds):
            mark = f"tail-mark-{i:04d}"
            t0 = time.perf_counter()
            with path.open("a") as f:
                f.write(f"Nov 21 10:59:59 web-01 app[1]: {mark}\n")
            while mark not in tmux("capture-pane", "-t", SESSION, "-p"):
                if time.perf_counter() - t0 > 10:
                    raise TimeoutError(f"{command}: {mark} never appeared")
                time.sleep(0.002)
            latencies.append((time.perf_counter() - t0) * 1000)
            time.sleep(0.2)
        return latencies
    finally:
        tmux("kill-session", "-t", SESSION)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    if shutil.which("tmux") is None:
        sys.exit("tmux is not installed")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "live.log"
        path.write_text("".join(f"Nov 21 10:00:00 web-01 app[1]: line {i}\n" for i in range(1, 201)))
        programs = [("logpt-tui", f"{Path(sys.executable).with_name('logpt-tui')} {path}")]
        if shutil.which("tl"):
            programs.append(("Toolong (tl)", f"tl {path}"))
        print(f"append → visible, {args.rounds} appends each, through tmux (poll every 2 ms)")
        print("| program | median ms | p90 ms |")
        print("|---|---:|---:|")
        for name, command in programs:
            ms = sorted(measure(command, path, args.rounds))
            print(f"| {name} | {statistics.median(ms):.0f} | {ms[int(0.9 * (len(ms) - 1))]:.0f} |")


if __name__ == "__main__":
    main()
