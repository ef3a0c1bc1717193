"""Judging a whole log (parse + mine + sessions + evidence + score) on one core, beside an earlier build.

The baseline is another checkout of logpt (a git worktree of an earlier commit): both judge the same
generated syslog (the flag-parity log: sshd, cron, systemd, kernel and dhclient traffic with an odd
line every 5,000) with a detector each self-trains (untimed, 2 epochs) on its first 20,000 lines, in
alternating subprocesses so that a busy machine slows both alike; the table gives medians and the
median of the per-pair ratios.

    git worktree add /tmp/logpt-before <commit>
    python -m tests.benchmarks.bench_detect --baseline /tmp/logpt-before [--lines 100000] [--pairs 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[2]


def worker(lines: int, line_model: bool = False) -> None:
    """In the checkout given by the working directory: seconds to judge `lines` lines (one run); with
    `line_model`, the bundled line model weighs unusual text too (loaded before the clock starts)."""
    import torch  # noqa: PLC0415

    torch.set_num_threads(1)
    from engine.detect.pipeline import DetectConfig, DetectionPipeline  # noqa: PLC0415
    from engine.logs.formats import detect_format  # noqa: PLC0415
    from tests.logpt_tui.test_flag_parity import lines_of  # noqa: PLC0415

    log = lines_of(lines, 0, 5000)
    extra = {}
    if line_model:
        from engine.detect.unusual import find_line_lm  # noqa: PLC0415

        extra["line_lm"] = find_line_lm()
    pipeline = DetectionPipeline.prepare(log[:20_000], detect_format(log[:200]).format, config=DetectConfig(epochs=2),
                                         **extra)  # fmt: skip
    t0 = time.perf_counter()
    flags = pipeline.judge(log).flags()
    print(json.dumps({"seconds": time.perf_counter() - t0, "flags": len(flags)}))


def run(tree: Path, lines: int, line_model: bool = False) -> dict[str, float]:
    """One timed run of this file's worker with `tree`'s packages first on the path."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    command = [sys.executable, __file__, "--worker", str(lines), *(["line-model"] if line_model else [])]
    result = subprocess.run(command, cwd=tree, env=env, capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", type=Path, required=True, help="another logpt checkout (an earlier commit)")
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--pairs", type=int, default=5)
    parser.add_argument("--line-model", action="store_true",
                        help="this build with the bundled line model (logpt detect's default), the baseline without")  # fmt: skip
    args = parser.parse_args()
    ours, theirs = [], []
    for _ in range(args.pairs):
        theirs.append(run(args.baseline.resolve(), args.lines))
        ours.append(run(HERE, args.lines, args.line_model))
    ratios = [o["seconds"] / t["seconds"] for o, t in zip(ours, theirs, strict=True)]
    print(f"{args.lines:,} lines, 1 thread, {args.pairs} alternating pairs; Python {sys.version.split()[0]}")
    print("| build | median s | lines/s | flags |")
    print("|---|---:|---:|---:|")
    for name, runs in (("baseline", theirs), ("this build", ours)):
        median = statistics.median(r["seconds"] for r in runs)
        print(f"| {name} | {median:.2f} | {args.lines / median:,.0f} | {int(runs[0]['flags'])} |")
    print(f"median ratio this/baseline: {statistics.median(ratios):.2f}× (per pair: "
          f"{', '.join(f'{r:.2f}' for r in ratios)})")  # fmt: skip


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        worker(int(sys.argv[2]), line_model=sys.argv[3:] == ["line-model"])
    else:
        main()
