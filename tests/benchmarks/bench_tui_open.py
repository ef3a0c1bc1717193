"""Seconds until a large log is on screen in `logpt-tui`, measured through tmux like a user.

Generates a syslog-style file (default 1 GiB), starts `logpt-tui FILE` in a
tmux pane and polls the screen until the file's last line is visible and the
status bar shows the full line count (indexing done); the time until the
last line is first visible is reported apart (logpt shows the file's end
before its index is built). Peak memory comes from
the process's VmHWM. Toolong (`tl`) is timed the same way when installed
(until its last line is visible). logpt is timed twice: as it starts by
default, loading the analysis model and preparing the detector in background
threads that share the two cores with indexing, and with both turned off.

    python -m tests.benchmarks.bench_tui_open [--mib 1024]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

from tests.benchmarks.bench_index import write_log
from tests.tmux_pane import Pane, explorer_command, have_tmux

SESSION = "logpt-bench"


def time_until(command: str, marks: list[str], timeout: float = 120.0) -> tuple[float, float, int]:
    """(seconds until the first mark is on screen, until every mark has been, peak RSS in KiB of the process)."""
    t0 = time.perf_counter()
    seen: dict[str, float] = {}
    with Pane(command, session=SESSION, width=160, height=40) as pane:
        pid, peak = pane.pid, 0
        while time.perf_counter() - t0 < timeout:
            shown = pane.screen()
            try:
                status = Path(f"/proc/{pid}/status").read_text()
                peak = max(peak, int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM"))))
            except (OSError, StopIteration, ValueError):
                pass
            now = time.perf_counter() - t0
            seen.update({mark: now for mark in marks if mark in shown and mark not in seen})
            if len(seen) == len(marks):
                return seen[marks[0]], max(seen.values()), peak
            time.sleep(0.02)
    raise TimeoutError(f"{command}: marks not on screen after {timeout} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mib", type=int, default=1024)
    args = parser.parse_args()
    if not have_tmux():
        sys.exit("tmux is not installed")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.log"
        write_log(path, args.mib)
        with path.open("rb") as f:
            lines = sum(1 for _ in f)
            f.seek(-200, 2)
            last = f.read().decode().rstrip("\n").split("\n")[-1]
        tail_mark = last.split(": ", 1)[1][-30:]
        marks = [tail_mark, f"{lines:,} lines"]
        rows = [
            ("logpt-tui (model and detector loading meanwhile)", *time_until(f"{explorer_command()} {path}", marks)),
            (
                "logpt-tui --no-model --no-flags",
                *time_until(f"{explorer_command()} --no-model --no-flags {path}", marks),
            ),
        ]
        if shutil.which("tl"):
            rows.append(("Toolong (tl)", *time_until(f"tl {path}", [tail_mark])))
        print(f"{path.stat().st_size / 2**30:.2f} GiB, {lines:,} lines, warm page cache, through tmux")
        print("| program | s to last line on screen | s to indexing done | peak RSS MiB |")
        print("|---|---:|---:|---:|")
        for name, first, done, peak in rows:
            print(f"| {name} | {first:.2f} | {done:.2f} | {peak / 1024:.0f} |")


if __name__ == "__main__":
    main()
