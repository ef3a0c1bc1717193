"""Search on a 300 MB log: the block search (engine/logs/search.py) beside `grep -c` and the per-line path
it replaced, in one process on the same file.

The file is Loghub's OpenSSH_2k (shared/datasets/loghub, see its README) repeated to --lines lines, each copy
ending in a newline (the sample's last line has none), written to /tmp once. For each pattern:

- first match: `search.find` from line 0 and from the middle (the explorer shows that line at once);
- count: `search.scan` over the whole file, with two threads and with one (wall and CPU seconds);
- `grep -c` on the same file (-F for a literal, -P for a regex, -i where the pattern ignores case); its count
  when it differs: most of the sample's lines end in CRLF, and grep's `$` does not match before the CR;
- before: the per-line path the explorer used (every line read as text, `UserRegex.search` on each), timed
  on the first tenth of the lines and multiplied by ten.

Then the explorer itself (Textual's Pilot, headless): `/pattern` Enter from the top of the file, to the first
match shown and to the whole count in the status bar. lnav is not installed on this machine (it cannot be
fetched here), so it has no column; the issue measured it at ~20 s for the count.

`--engines` adds the regex engines side by side on the file's first 8 MB as one text (and as bytes): the
`regex` module the search uses, Python's `re`, each finding every match (median of 3, alternating). `re`
holds the GIL while it matches and has no time limit, so it is measured here, not used.

`--no-before --no-explorer` leave out the slow columns, for runs alternated with another checkout's engine
(`PYTHONPATH=that/checkout python tests/benchmarks/bench_search.py ...` runs this script on its engine).

    python -m tests.benchmarks.bench_search [--lines 2700000] [--engines] [--no-before] [--no-explorer]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import resource
import shutil
import subprocess
import time
from pathlib import Path

from engine.logs import search
from engine.logs.logsource import LogSource
from engine.logs.userregex import UserRegex

DATASET = Path(__file__).resolve().parents[3] / "shared" / "datasets" / "loghub" / "OpenSSH" / "OpenSSH_2k.log"
# (what it is, pattern, ignore case)
PATTERNS = [
    ("13,500 matches (issue)", "Did not receive", False),
    ("regex, rare literal", r"Failed password for \w+ from 5\.36", False),
    ("ignore case", "did NOT receive", True),
    ("no match, literal", "segfault", False),
    ("no match, regex", r"Accepted publickey for \w+ from 10\.", False),
    ("many matches", r"port \d+ ssh2$", False),
    ("literal `.25` in 44% of lines", r"\d+\.\d+\.\d+\.25\b", False),
]


def build(lines: int) -> Path:
    """The benchmark file in /tmp (kept between runs): OpenSSH_2k repeated, each copy ending in a newline."""
    if not DATASET.exists():
        raise SystemExit(f"{DATASET} not found: the benchmark reads Loghub's OpenSSH_2k from shared/datasets")
    sample = DATASET.read_bytes().rstrip(b"\n") + b"\n"
    per_copy = sample.count(b"\n")
    copies = -(-lines // per_copy)
    path = Path("/tmp") / f"logpt-bench-search-{copies * per_copy}.log"
    if not path.exists() or path.stat().st_size != copies * len(sample):
        with path.open("wb") as f:
            for _ in range(copies):
                f.write(sample)
    return path


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def timed(run):  # noqa: ANN001, ANN201
    wall, used = time.perf_counter(), cpu()
    result = run()
    return result, time.perf_counter() - wall, cpu() - used


def grep_count(path: Path, pattern: str, ignore_case: bool) -> tuple[int, float]:
    literal = re.escape(pattern) == pattern
    command = ["grep", "-c", "-F" if literal else "-P", *(["-i"] if ignore_case else []), pattern, str(path)]
    started = time.perf_counter()
    out = subprocess.run(command, capture_output=True, text=True, check=False).stdout.strip()
    return int(out or 0), time.perf_counter() - started


def per_line(source: LogSource, pattern: UserRegex) -> float:
    """The path the explorer used: blocks of 20,000 lines as text, `search` on each; a tenth of the file, ×10."""
    tenth, started = len(source) // 10, time.perf_counter()
    for a in range(0, tenth, 20_000):
        [i for i, text in enumerate(source.block(a, min(a + 20_000, tenth))) if pattern.search(text)]
    return (time.perf_counter() - started) * 10


def engine_row(source: LogSource, path: Path, what: str, text: str, ignore_case: bool, *,
               with_before: bool = True) -> list[str]:  # fmt: skip
    pattern = lambda: UserRegex(text, "search", ignore_case=ignore_case)  # noqa: E731 - a fresh time budget each
    _, first, _ = timed(lambda: search.find(source, pattern(), 0))
    _, middle, _ = timed(lambda: search.find(source, pattern(), len(source) // 2))
    count, wall2, cpu2 = timed(lambda: sum(len(lines) for _, _, lines in search.scan(source, pattern())))
    _, wall1, cpu1 = timed(lambda: sum(len(lines) for _, _, lines in search.scan(source, pattern(), workers=1)))
    grepped, grep_s = grep_count(path, text, ignore_case)
    assert grepped == count or "$" in text, (what, grepped, count)  # `$`: grep keeps the CR of a CRLF line
    before = f"~{per_line(source, pattern()):.0f}" if with_before else "–"
    return [what, f"`{text}`{' (i)' if ignore_case else ''}", f"{count:,}", f"{first:.3f}", f"{middle:.3f}",
            f"{wall2:.2f} ({cpu2:.2f})", f"{wall1:.2f} ({cpu1:.2f})", f"{grep_s:.2f}" + (f" ({grepped:,})" if grepped != count else ""), before]  # fmt: skip


def engines(path: Path) -> None:
    """`regex` (what the search uses) beside `re` on the first 8 MB, as text and as bytes: seconds to find
    every match (MULTILINE, as the block search runs them), median of 3 runs alternating."""
    import regex  # noqa: PLC0415 - only for this table

    raw = path.open("rb").read(8 << 20)
    raw = raw[: raw.rfind(b"\n")]
    text = raw.decode("utf-8", "replace").replace("\r\n", "\n")
    print("\nregex engines on the first 8 MB (matches found, s; median of 3)\n")
    print("| pattern | regex, text | re, text | regex, bytes | re, bytes |\n|---|---|---|---|---|")
    for _, pattern, ignore_case in PATTERNS:
        flags = re.MULTILINE | (re.IGNORECASE if ignore_case else 0)
        runs = [(regex.compile(pattern, flags | regex.VERSION0), text), (re.compile(pattern, flags), text),
                (regex.compile(pattern.encode(), flags | regex.VERSION0), raw), (re.compile(pattern.encode(), flags), raw)]  # fmt: skip
        times: list[list[float]] = [[] for _ in runs]
        found = [0] * len(runs)
        for _ in range(3):
            for k, (compiled, data) in enumerate(runs):
                started = time.perf_counter()
                found[k] = sum(1 for _ in compiled.finditer(data))
                times[k].append(time.perf_counter() - started)
        cells = [f"{sorted(t)[1]:.3f} ({n:,})" for t, n in zip(times, found, strict=True)]
        print(f"| `{pattern}` | " + " | ".join(cells) + " |", flush=True)


async def explorer(path: Path, text: str) -> tuple[float | None, float, str]:
    """In the explorer: `/text` Enter at the top; seconds to the first match shown and to the whole count."""
    from logpt_tui.explorer.app import LogptApp  # noqa: PLC0415 - Textual only for this part

    app = LogptApp(path, backend=None, flags=None)
    async with app.run_test(size=(160, 40)) as pilot:
        status = lambda: str(app.tab.query_one("#status").render())  # noqa: E731
        while app.tab.indexing or f"{len(app.tab.source):,} lines" not in status() or not len(app.tab.source):
            await pilot.pause(0.05)
        await pilot.press("g")
        await pilot.pause(0.2)
        app.tab.prompt.value = ""
        await pilot.press("slash")
        app.tab.prompt.value = text
        shown: list[float] = []
        show_line = app.tab.view.show_line  # the search's result lands here: note when
        app.tab.view.show_line = lambda line: (shown.append(time.perf_counter()), show_line(line))[1]
        started = time.perf_counter()
        await pilot.press("enter")
        while not app.tab.state.search.counted:
            await pilot.pause(0.01)
        done = time.perf_counter() - started
        first = shown[0] - started if shown else None
        return first, done, status().split("match")[-1].split("·")[0].strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=2_700_000)
    parser.add_argument("--engines", action="store_true", help="add `regex` beside `re` on the first 8 MB")
    parser.add_argument("--no-before", action="store_true", help="leave out the per-line path (minutes)")
    parser.add_argument("--no-explorer", action="store_true", help="leave out the explorer through Pilot")
    args = parser.parse_args()
    path = build(args.lines)
    print(f"engine: {Path(search.__file__).resolve().parents[2]}")
    print(f"{path}: {path.stat().st_size / 1e6:.0f} MB; {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}; "
          f"lnav: {'installed' if shutil.which('lnav') else 'not installed'}")  # fmt: skip
    with LogSource(path) as source:
        _, index_s, _ = timed(source.index)
        print(f"{len(source):,} lines, indexed in {index_s:.2f} s\n")
        head = ["pattern", "", "lines", "first (s)", "from middle (s)", "count, 2 threads: wall (cpu) s",
                "1 thread", "grep -c (s)", "before (s)"]  # fmt: skip
        print("| " + " | ".join(head) + " |\n|" + "---|" * len(head))
        for what, text, ignore_case in PATTERNS:
            row = engine_row(source, path, what, text, ignore_case, with_before=not args.no_before)
            print("| " + " | ".join(row) + " |", flush=True)
    if args.engines:
        engines(path)
    if args.no_explorer:
        print(f"\nload after: {os.getloadavg()[0]:.1f}")
        return
    print("\nexplorer (Pilot): `/pattern` Enter from the top\n\n| pattern | first match shown (s) | count done (s) | status |\n|---|---|---|---|")  # fmt: skip
    for _, text, _ in PATTERNS[:1] + PATTERNS[3:4]:
        first, done, shown = asyncio.run(explorer(path, text))
        print(f"| `{text}` | {'–' if first is None else f'{first:.2f}'} | {done:.2f} | {shown} |", flush=True)
    print(f"\nload after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
