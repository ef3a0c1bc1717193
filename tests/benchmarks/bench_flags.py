"""Seconds until the explorer shows anomaly flags on a large log, beside `logpt detect` on the same file.

Generates a syslog-style log (default 300,000 lines: sshd, cron, systemd,
kernel and dhclient traffic with an odd line every 5,000), self-trains a
detector on it once through `logpt detect --self-train --save`, then:

- baseline: `logpt detect FILE --detector D --json` (the whole file judged at
  once by engine.detect.pipeline), wall time of the command;
- logpt-tui: the explorer with that detector in its cache, started headless
  (Textual's test driver), timed until the first flags are applied (the
  sessions on screen are scored first) and until the status bar shows the
  final count. Both run the same pipeline, so the flag counts must agree.

    python -m tests.benchmarks.bench_flags [--lines 300000] [--repeat 3]

With `--file FILE --detector D` (a big log, e.g. the 300 MB OpenSSH one bench_search builds, and a detector
bundle trained on its first lines: `logpt detect` on the whole file would take as long as what is measured),
the explorer runs on that file instead, and the table adds its peak RSS (`--no-cli` skips the baseline).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from logpt_tui.explorer.app import LogptApp
from logpt_tui.explorer.flagset import FlagEngine, cache_key
from tests.logpt_tui.test_flag_parity import lines_of


def detect_cli(path: Path, detector: Path) -> tuple[float, int]:
    """(seconds, flagged lines) of `logpt detect --json` on the whole file."""
    t0 = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "logpt_tui", "detect", str(path), "--detector", str(detector), "--json"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    seconds = time.perf_counter() - t0
    return seconds, sum(1 for line in result.stdout.splitlines() if '"type": "flag"' in line)


async def explorer(path: Path, cache: Path, limit: float = 600) -> tuple[float, float, int]:
    """(seconds to the first flags, seconds to the final count, flagged lines) in the headless explorer."""
    app = LogptApp(path, poll_seconds=60, backend=None, flags=FlagEngine(path, cache=cache))
    t0 = time.perf_counter()
    first = None
    async with app.run_test(size=(120, 30)) as pilot:
        while time.perf_counter() - t0 < limit:
            await pilot.pause(0.02)
            if first is None and len(app.tab.state.flags.found):
                first = time.perf_counter() - t0
            if app.tab.state.flags.done:  # the status bar says the count (its words depend on the models)
                return first or 0.0, time.perf_counter() - t0, len(app.tab.state.flags.found)
    raise TimeoutError(f"the explorer did not finish flagging in {limit:.0f} s")


def given_file(path: Path, detector: Path, repeat: int, cli: bool) -> None:
    """The explorer (and `logpt detect --json`, unless not `cli`) on a given file with a given detector."""
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp) / "cache"
        shutil.copytree(detector, cache / cache_key(path))
        first, done, baseline, counts = [], [], [], set()
        for _ in range(repeat):
            t_first, t_done, tui_flags = asyncio.run(explorer(path, cache, limit=3_600))
            first.append(t_first)
            done.append(t_done)
            counts.add(tui_flags)
            if cli:
                seconds, cli_flags = detect_cli(path, detector)
                baseline.append(seconds)
                counts.add(cli_flags)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    if len(counts) != 1:
        sys.exit(f"flag counts differ between runs or with logpt detect: {sorted(counts)}")
    print(f"{path} ({path.stat().st_size / 1e6:,.0f} MB), {counts.pop():,} flagged; median of {repeat} runs")
    print("| what | seconds |")
    print("|---|---:|")
    if cli:
        print(
            f"| `logpt detect --json` (the whole file at once, process start included) | {statistics.median(baseline):.1f} |"
        )
    print(f"| logpt-tui: first flags on screen (the view's block, provisional) | {statistics.median(first):.1f} |")
    print(f"| logpt-tui: every line judged | {statistics.median(done):.1f} |")
    print(f"| logpt-tui: peak RSS of the explorer process, MB | {peak:,} |")
    print(json.dumps({"first": first, "done": done, "cli": baseline, "peak_mb": peak}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=300_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--file", type=Path, help="a given log instead of a generated one (needs --detector)")
    parser.add_argument("--detector", type=Path, help="the detector bundle for --file")
    parser.add_argument("--no-cli", action="store_true", help="with --file: skip `logpt detect --json`")
    args = parser.parse_args()
    if args.file is not None:
        if args.detector is None:
            parser.error("--file needs --detector")
        given_file(args.file.resolve(), args.detector, args.repeat, not args.no_cli)
        return
    with tempfile.TemporaryDirectory() as tmp:
        path, detector = Path(tmp) / "host.log", Path(tmp) / "detector"
        path.write_text("\n".join(lines_of(args.lines, 0, odd_every=5_000)) + "\n")
        subprocess.run(
            [sys.executable, "-m", "logpt_tui", "detect", str(path), "--self-train", "--epochs", "4", "--save",
             str(detector), "--json"], capture_output=True, check=True,
        )  # fmt: skip
        cache = Path(tmp) / "cache"
        shutil.copytree(detector, cache / cache_key(path))
        cli, first, done = [], [], []
        for _ in range(args.repeat):
            seconds, cli_flags = detect_cli(path, detector)
            cli.append(seconds)
            t_first, t_done, tui_flags = asyncio.run(explorer(path, cache))
            first.append(t_first)
            done.append(t_done)
            if tui_flags != cli_flags:
                sys.exit(f"flag counts differ: explorer {tui_flags}, logpt detect {cli_flags}")
        print(f"{args.lines:,} lines, {cli_flags:,} flagged by both; median of {args.repeat} runs, seconds")
        print("| what | seconds |")
        print("|---|---:|")
        print(
            f"| `logpt detect --json` (baseline: the whole file at once, process start included) | {statistics.median(cli):.2f} |"
        )
        print(f"| logpt-tui: first flags on screen (the view's block, provisional) | {statistics.median(first):.2f} |")
        print(f"| logpt-tui: every line judged | {statistics.median(done):.2f} |")
        print(json.dumps({"cli": cli, "first": first, "done": done}))


if __name__ == "__main__":
    main()
