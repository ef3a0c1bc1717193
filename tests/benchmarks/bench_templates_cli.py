"""The whole `logpt templates FILE` command (read, detect, parse, mine, print) beside stock drain3, in CPU seconds.

Each run is a subprocess timed by the CPU it used (user + sys, `resource.getrusage` of the children): logpt
as checked out here, optionally logpt at an older commit (`--base`, a `git worktree` of it: the baseline),
and stock drain3 (`drain3.TemplateMiner`, no persistence, the masks and similarity bench_pipeline gives it)
fed the messages logpt mines from the same file; its CPU is counted from its first message to its last
(reading and parsing the file first is not counted: that favours drain3). The three alternate, `--repeats`
times; the table gives medians. The log defaults to a 1M-line mix of the Loghub samples
(`bench_pipeline.build_log`: 13 systems in turn, digits re-drawn), written to a temporary file when no
`--log` is given. Both logpt runs must print the same templates (`--json`), or the script says so.

    git worktree add /tmp/base28 <commit>
    python -m tests.benchmarks.bench_templates_cli --log /tmp/mix1m.log --base /tmp/base28 [--tree DIR] [--out table.md]
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_LOGPT = "import sys; from logpt_tui.cli import main; sys.argv = ['logpt', 'templates', sys.argv[1], '--json']; main()"


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def logpt_run(log: Path, tree: Path) -> tuple[float, str]:
    """(CPU seconds, digest of its JSON output) of `logpt templates LOG --json` run from the source tree `tree`."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    before = _children_cpu()
    done = subprocess.run(
        [sys.executable, "-c", _LOGPT, str(log)], env=env, cwd=tempfile.gettempdir(), capture_output=True, check=True
    )
    return _children_cpu() - before, hashlib.sha256(done.stdout).hexdigest()


def stock_run(log: Path) -> tuple[float, int]:
    """(CPU seconds of stock drain3's mining, templates) on the messages logpt mines from `log`."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    code = "import sys; from tests.benchmarks.bench_templates_cli import stock_child; stock_child(sys.argv[1])"
    done = subprocess.run(
        [sys.executable, "-c", code, str(log)], env=env, cwd=tempfile.gettempdir(), capture_output=True, check=True,
        text=True,
    )  # fmt: skip
    cpu, templates = done.stdout.split()
    return float(cpu), int(templates)


def stock_child(log: str) -> None:
    """In the child: parse as logpt does (not counted), then mine with stock drain3 and print its CPU seconds."""
    import drain3  # noqa: F401 - imported before the clock starts

    from engine.logs.formats import choose_format, parse_lines
    from engine.logs.textio import read_lines
    from tests.benchmarks.bench_pipeline import stock_drain3

    lines = read_lines(Path(log))
    messages = [record.message for record in parse_lines(lines, choose_format(lines))]
    del lines
    t0 = time.process_time()
    _, templates = stock_drain3(messages)
    print(time.process_time() - t0, templates)


def build(lines: int) -> Path:
    from tests.benchmarks.bench_pipeline import DEFAULT_DATA, build_log

    path = Path(tempfile.mkstemp(prefix="logpt-mix-", suffix=".log")[1])
    path.write_text("".join(line + "\n" for block in build_log(DEFAULT_DATA, lines) for line in block), "utf-8")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--log", type=Path, help="the log (default: a mix of the Loghub samples, --lines long)")
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--tree", type=Path, default=ROOT, help="the source tree timed (default: this checkout)")
    parser.add_argument("--base", type=Path, help="a source tree of the baseline commit (git worktree)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, help="also write the table here")
    args = parser.parse_args()
    log = args.log or build(args.lines)
    with log.open("rb") as f:
        n = sum(1 for _ in f)
    runs: dict[str, list[float]] = {"stock drain3 (mining only)": [], "logpt templates": []}
    if args.base:
        runs["logpt templates, baseline"] = []
    outputs, stock_templates = set(), 0
    for _ in range(args.repeats):  # alternate, so that load on the shared machine falls on all of them
        cpu, stock_templates = stock_run(log)
        runs["stock drain3 (mining only)"].append(cpu)
        for name, tree in (("logpt templates", args.tree), ("logpt templates, baseline", args.base)):
            if tree is not None:
                cpu, digest = logpt_run(log, tree)
                runs[name].append(cpu)
                outputs.add(digest)
    stock = statistics.median(runs["stock drain3 (mining only)"])
    base = f" (baseline: {args.base}, commit {_commit(args.base)})" if args.base else ""
    table = [
        f"`python -m tests.benchmarks.bench_templates_cli {' '.join(sys.argv[1:])}`, "
        f"{datetime.date.today().isoformat()}, commit {_commit(args.tree)}{base}; {platform.machine()}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}; {n:,} lines of {log}",
        "",
        "| run | CPU s, median | CPU s, each run | lines/s | vs stock drain3 |",
        "|---|---:|---|---:|---:|",
    ]
    for name, cpus in runs.items():
        med = statistics.median(cpus)
        each = ", ".join(f"{c:.1f}" for c in cpus)
        table.append(f"| {name} | {med:.1f} | {each} | {n / med:,.0f} | {stock / med:.2f}× |")
    table.append("")
    table.append(f"stock drain3: {stock_templates:,} templates; logpt runs printed "
                 f"{'the same templates' if len(outputs) == 1 else 'DIFFERENT templates'}")  # fmt: skip
    text = "\n".join(table)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")


def _commit(tree: Path) -> str:
    done = subprocess.run(["git", "-C", str(tree), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    return done.stdout.strip() or "?"


if __name__ == "__main__":
    main()
