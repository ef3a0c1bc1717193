"""Seconds until a large log is on screen in `logpt-tui`, measured through tmux like a user.

Generates a syslog-style file (default 1 GiB), starts `logpt-tui FILE` in a
tmux pane and polls the screen until the file's last line is visible and the
status bar shows the full line count (indexing done). Peak memory comes from
the process's VmHWM. Toolong (`tl`) is timed the same way when installed
(until its last line is visible).

    python -m tests.benchmarks.bench_tui_open [--mib 1024]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.benchmarks.bench_index import write_log

SESSION = "logpt-bench"


def tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], capture_output=True, text=True, timeout=10).stdout


def time_until(command: str, marks: list[str], timeout: float = 120.0) -> tuple[float, int]:
    """(seconds until every mark is on screen, peak RSS in KiB of the pane's process)."""
    tmux("kill-session", "-t", SESSION)
    t0 = time.perf_counter()
    tmux(
        "new-session",
        "-d",
        "-s",
        SESSION,
        "-x",
        "160",
        "-y",
        "40",
        f"env -u COLUMNS -u LINES TERM=xterm-256color {command}",
    )
    pid = tmux("list-panes", "-t", SESSION, "-F", "#{pane_pid}").strip()
    peak = 0
    try:
        while time.perf_counter() - t0 < timeout:
            shown = tmux("capture-pane", "-t", SESSION, "-p")
            try:
                status = Path(f"/proc/{pid}/status").read_text()
                peak = max(peak, int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM"))))
            except (OSError, StopIteration, ValueError):
                pass
            if all(mark in shown for mark in marks):
                return time.perf_counter() - t0, peak
            time.sleep(0.02)
        raise TimeoutError(f"{command}: marks not on screen after {timeout} s")
    finally:
        tmux("kill-session", "-t", SESSION)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mib", type=int, default=1024)
    args = parser.parse_args()
    if shutil.which("tmux") is None:
        sys.exit("tmux is not installed")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.log"
        write_log(path, args.mib)
        with path.open("rb") as f:
            lines = sum(1 for _ in f)
            f.seek(-200, 2)
            last = f.read().decode().rstrip("\n").split("\n")[-1]
        tail_mark = last.split(": ", 1)[1][-30:]
        logpt = Path(sys.executable).with_name("logpt-tui")
        rows = [("logpt-tui", *time_until(f"{logpt} {path}", [tail_mark, f"{lines:,} lines"]))]
        if shutil.which("tl"):
            rows.append(("Toolong (tl)", *time_until(f"tl {path}", [tail_mark])))
        print(f"{path.stat().st_size / 2**30:.2f} GiB, {lines:,} lines, warm page cache, through tmux")
        print("| program | seconds to last line on screen, indexing done | peak RSS MiB |")
        print("|---|---:|---:|")
        for name, seconds, peak in rows:
            print(f"| {name} | {seconds:.2f} | {peak / 1024:.0f} |")


if __name__ == "__main__":
    main()
