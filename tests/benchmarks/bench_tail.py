"""Tail latency of `logpt-tui`: from appending a line to seeing it on screen, through tmux.

Appends a uniquely marked line to a followed file, polls the tmux pane every
2 ms until it shows, 30 times; prints the median and p90. The poll itself
costs a few ms (tmux capture-pane), so the numbers are an upper bound. Toolong
is measured the same way when installed. Then, on a log with a regular cycle
of templates (the explorer self-trains its detector on it first), the time
from appending an odd line until its flag mark (▌) shows beside it.

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

from tests.tmux_pane import Pane, explorer_command, have_tmux

SESSION = "logpt-bench"


def measure(command: str, path: Path, rounds: int) -> list[float]:
    with Pane(command, session=SESSION, width=160, height=30) as pane:
        pane.wait_for("line 200", timeout=30, poll=0.05)
        time.sleep(1.0)  # let watchers start
        latencies = []
        for i in range(rounds):
            mark = f"tail-mark-{i:04d}"
            t0 = time.perf_counter()
            with path.open("a") as f:
                f.write(f"Nov 21 10:59:59 web-01 app[1]: {mark}\n")
            pane.wait_for(mark, timeout=10, poll=0.002)
            latencies.append((time.perf_counter() - t0) * 1000)
            time.sleep(0.2)
        return latencies


CYCLE = (
    "sshd[1]: Accepted publickey for deploy from 10.0.0.4 port 5012 ssh2",
    "CRON[2]: (root) CMD (run-parts /etc/cron.hourly)",
    "systemd[1]: Started Session 7 of user deploy.",
    "kernel: [ 12.5] eth0: link up",
)


def wait_for_flag(pane: Pane, mark: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(mark in row and "▌" in row for row in pane.screen().splitlines()):
            return
        time.sleep(0.002)
    raise TimeoutError(f"no flag on {mark!r}")


def measure_flags(path: Path, rounds: int) -> list[float]:
    path.write_text("".join(f"Nov 21 10:00:00 web-01 {CYCLE[i % 4]}\n" for i in range(4000)))
    with Pane(f"{explorer_command()} {path}", session=SESSION, width=200, height=30) as pane:
        pane.wait_for("flagged (", timeout=180, poll=0.1)  # self-trained (or cached) and judged
        latencies = []
        for i in range(rounds):
            with path.open("a") as f:  # keep the cycle going between the odd lines
                f.write("".join(f"Nov 21 10:59:59 web-01 {CYCLE[k % 4]}\n" for k in range(8)))
            time.sleep(0.3)
            mark = f"odd-{i:04d}"
            t0 = time.perf_counter()
            with path.open("a") as f:
                f.write(f"Nov 21 10:59:59 web-01 kernel: EXT4-fs (sda2): Remounting filesystem read-only {mark}\n")
            wait_for_flag(pane, mark)
            latencies.append((time.perf_counter() - t0) * 1000)
        return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    if not have_tmux():
        sys.exit("tmux is not installed")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "live.log"
        path.write_text("".join(f"Nov 21 10:00:00 web-01 app[1]: line {i}\n" for i in range(1, 201)))
        programs = [("logpt-tui", f"{explorer_command()} {path}")]
        if shutil.which("tl"):
            programs.append(("Toolong (tl)", f"tl {path}"))
        print(f"append → visible, {args.rounds} appends each, through tmux (poll every 2 ms)")
        print("| program | median ms | p90 ms |")
        print("|---|---:|---:|")
        for name, command in programs:
            ms = sorted(measure(command, path, args.rounds))
            print(f"| {name} | {statistics.median(ms):.0f} | {ms[int(0.9 * (len(ms) - 1))]:.0f} |")
        ms = sorted(measure_flags(Path(tmp) / "cycle.log", max(5, args.rounds // 3)))
        print(f"\nappend an odd line → its flag shows (logpt-tui; Toolong has no flags), {len(ms)} appends")
        print("| program | median ms | p90 ms |")
        print("|---|---:|---:|")
        print(f"| logpt-tui | {statistics.median(ms):.0f} | {ms[int(0.9 * (len(ms) - 1))]:.0f} |")


if __name__ == "__main__":
    main()
