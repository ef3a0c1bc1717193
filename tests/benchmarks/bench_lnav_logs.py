"""Times and levels on lnav's test logs: logs nobody here wrote, with lnav's own expectations beside them.

For each text file `test/logfile_*` of the lnav repository (binary or compressed ones are skipped): the
format logpt detects (`detect_format` on the first 200 lines; `generic` is the fallback), the records it
parses, the share of records whose first line `TimeReader` (engine/logs/clock.py: what time jumps, the
status bar and the merged view use, given the detected format as engine/logs/fileclock.py gives it) reads a
time from, the share whose `timestamp` field `minute_of` reads
(engine/logs/timestamps.py: bursts, timeline), and how many records have a declared level.

"Records that carry a time" are those whose first line has a clock (`h:mm:ss`) or a 10/13/16/19-digit Unix
time in its first 96 characters: a rough, format-free count of where a time is written.

lnav's expectations come from its `test/test_logfile.sh`: the `drive_logfile -t` blocks (one time per line
lnav does not ignore, printed as `%b %d %H:%M:%S %Y -- ms` in UTC) written inline after `check_output`, or
captured under `test/expected/` (`run_cap_test`, found by the SHA-1 of the command as lnav's test harness
computes it; runs under another `TZ` are left out), and the `drive_logfile -v` blocks (one level per line).
A `touch -t` before a run stands for the file's mtime (the year of a log that writes none, the day of a time
of day alone), as lnav takes them from it; without one, the lnav commit's time does (a checkout's files
carry some time, and a time of day is read on any day);
`cp` copies are followed; gzip/bzip2 copies are left out (the same lines again). logpt's time of a line is
`TimeReader`'s, or the line before's when it has none (lnav gives a continuation line its record's time);
lines are paired in order when the counts agree (after dropping blank and `#` lines), else as multisets. A
level is logpt's declared or guessed level (`level_of`), none counting as lnav's `info`.

    python -m tests.benchmarks.bench_lnav_logs [--lnav DIR]

DIR is a checkout of lnav or a bare git repository of it (default: /work/.mirror/tstack+lnav/repo); the
script says so and exits 0 when it is absent.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from engine.logs.clock import HEAD, TimeReader
from engine.logs.fileclock import TAIL_LINES, file_reader
from engine.logs.formats import LogFormat, detect_format, level_of, parse_lines
from engine.logs.timestamps import MinuteReader

DEFAULT = Path("/work/.mirror/tstack+lnav/repo")
CARRIES = re.compile(r"\d:\d\d:\d\d|(?<![\d.])1\d{9}(?:\d{3}|\d{6}|\d{9})?(?![\d])")
EXPECTED_TIME = re.compile(r"^([A-Z][a-z]{2}) (\d{2}) (\d{2}):(\d{2}):(\d{2}) (\d{4}) -- (\d{3})$")
LNAV_LEVELS = {"TRACE": "trace", "DEBUG": "debug", "INFO": "info", "NOTICE": "notice", "WARN": "warning",
               "ERROR": "error", "CRITICAL": "critical", None: "info"}  # fmt: skip
SAME_LEVEL = {"fatal": "critical"}  # lnav's names that mean logpt's


class Lnav:
    """lnav's files, from a checkout (a folder with `test/`) or a bare git repository (`git show`)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.bare = not (root / "test").is_dir()

    def exists(self) -> bool:
        if not self.bare:
            return True
        return subprocess.run(["git", "-C", str(self.root), "rev-parse", "HEAD"], capture_output=True).returncode == 0

    def names(self, folder: str) -> list[str]:
        if not self.bare:
            return sorted(p.name for p in (self.root / folder).iterdir() if p.is_file())
        out = subprocess.run(["git", "-C", str(self.root), "ls-tree", "--name-only", f"HEAD:{folder}"],
                             capture_output=True, check=True).stdout  # fmt: skip
        return sorted(out.decode().split())

    def day(self) -> date:
        """The day of lnav's commit (UTC): a file's mtime where the script sets none."""
        if not self.bare:
            return date.today()
        out = subprocess.run(["git", "-C", str(self.root), "log", "-1", "--format=%ct", "HEAD"],
                             capture_output=True, check=True).stdout  # fmt: skip
        return datetime.fromtimestamp(int(out), tz=timezone.utc).date()

    def read(self, path: str) -> bytes | None:
        if not self.bare:
            p = self.root / path
            return p.read_bytes() if p.is_file() else None
        done = subprocess.run(["git", "-C", str(self.root), "show", f"HEAD:{path}"], capture_output=True)
        return done.stdout if done.returncode == 0 else None


def text_of(data: bytes) -> str | None:
    """The file as text, or None when it reads as binary or compressed."""
    if b"\0" in data[:8192] or data[:2] in (b"\x1f\x8b", b"BZ") or data[:6] == b"\xfd7zXZ\x00":
        return None
    return data.decode("utf-8", errors="replace")


@dataclass
class Expectation:
    """What lnav's tests say of one file: a time (seconds, ms) and a level per line it does not ignore."""

    year: int | None = None  # from `touch -t` before the run
    day: date | None = None  # the same, for a time of day alone
    mtime: float | None = None  # the same instant, to the minute (UTC): a trace's hour
    times: list[tuple[int, int]] = field(default_factory=list)
    levels: list[str] = field(default_factory=list)
    captured: bool = False  # the times come from test/expected/ (run_cap_test), not from the script itself


def _instant(line: str) -> tuple[int, int] | None:
    m = EXPECTED_TIME.match(line.strip())
    if m is None:
        return None
    mon, d, h, mi, s, y, ms = m.groups()
    t = datetime.strptime(f"{y} {mon} {d} {h}:{mi}:{s}", "%Y %b %d %H:%M:%S").replace(tzinfo=timezone.utc)
    return int(t.timestamp()), int(ms)


_DRIVE = re.compile(r"^run_(cap_)?test (?:env TZ=UTC )?\./drive_logfile -([tv]) -f \S+ (\S+)\s*$")
_TOUCH = re.compile(r"^(?:env TZ=UTC )?touch -t (\d{4})(\d{2})(\d{2})(\d{2})(\d{2})\S* (\S+)")
_COPY = re.compile(r"^cp \$\{srcdir\}/(\S+) (\S+)")


def expectations(lnav: Lnav) -> dict[str, Expectation]:
    """lnav's expected times and levels per file name (see the module note)."""
    script = (lnav.read("test/test_logfile.sh") or b"").decode()
    lines = script.splitlines()
    touched: dict[str, date] = {}
    copies: dict[str, str] = {}
    found: dict[str, Expectation] = {}
    for i, line in enumerate(lines):
        if m := _TOUCH.match(line):
            touched[Path(m.group(6)).name] = datetime(*map(int, m.groups()[:5]), tzinfo=timezone.utc)
        elif m := _COPY.match(line):
            copies[m.group(2)] = m.group(1)
        elif m := _DRIVE.match(line):
            captured, mode, path = m.groups()
            name = Path(path).name
            if name.endswith((".gz", ".bz2", ".xz")):
                continue  # a compressed copy: the same lines again
            output = _captured(lnav, line) if captured else _inline(lines, i + 1)
            stamp = touched.get(name)
            day = stamp.date() if stamp else None
            entry = found.setdefault(copies.get(name, name), Expectation(day and day.year, day, stamp and stamp.timestamp()))
            if mode == "t":
                if stamp:
                    entry.year, entry.day, entry.mtime = day.year, day, stamp.timestamp()
                entry.times = [t for t in map(_instant, output) if t is not None]
                entry.captured = bool(captured)
            else:
                entry.levels = [w.split()[0] for w in output if w.strip()]
    return {name: e for name, e in found.items() if e.times or e.levels}


def _inline(lines: list[str], start: int) -> list[str]:
    """The heredoc of the `check_output` that follows a run."""
    for i in range(start, min(start + 6, len(lines))):
        if lines[i].startswith("check_output"):
            end = lines.index("EOF", i + 1)
            return lines[i + 1 : end]
        if lines[i].startswith("run_"):
            break
    return []


def _captured(lnav: Lnav, line: str) -> list[str]:
    """A `run_cap_test`'s output under test/expected/, named by the SHA-1 of `test: <command>` as lnav's
    harness writes it (its test folder as `{test_dir}`)."""
    command = line.removeprefix("run_cap_test ").replace("${srcdir}", "{test_dir}").replace("${test_dir}", "{test_dir}")
    digest = hashlib.sha1(f"test: {command}\n".encode()).hexdigest()
    data = lnav.read(f"test/expected/test_logfile.sh_{digest}.out")
    return data.decode().splitlines() if data else []


@dataclass(frozen=True)
class FileResult:
    name: str
    format: str
    records: int
    carrying: int  # records whose first line carries a time (CARRIES)
    timed: int  # records whose first line TimeReader reads
    timed_carrying: int  # of those that carry one
    minutes: int  # records whose timestamp field minute_of reads
    levels: int  # records with a declared level
    expected: int = 0  # times lnav's tests expect
    matched: int = 0  # of those, times logpt reads the same (to the millisecond)
    expected_levels: int = 0
    matched_levels: int = 0
    captured: bool = False  # the expected times come from test/expected/


def line_times(lines: list[str], reader: TimeReader) -> list[tuple[int, int] | None]:
    """(seconds, ms) of each line as `reader` reads it; a line without a time takes the one before's."""
    last, out = None, []
    for line in lines:
        t = reader(line)
        if t is not None:
            ms = int(round(t * 1000, 3))  # floor to the millisecond, as lnav prints it
            last = (ms // 1000, ms % 1000)
        out.append(last)
    return out


def paired(expected: list[Any], ours: list[Any], lines: list[str]) -> int:
    """How many of `expected` logpt's per-line values equal: in order when the counts agree (blank and `#`
    lines dropped if that makes them agree), else as multisets."""
    if len(ours) != len(expected):
        kept = [v for v, line in zip(ours, lines, strict=True) if line.strip() and not line.startswith("#")]
        ours = kept if len(kept) == len(expected) else ours
    if len(ours) == len(expected):
        return sum(a == b for a, b in zip(expected, ours, strict=True))
    return sum((Counter(expected) & Counter(ours)).values())


def clock(fmt: LogFormat, expectation: Expectation | None, default: date, lines: list[str]) -> TimeReader:
    """The file's reader as engine/logs/fileclock.py gives it: its format, its first and last lines, and its
    `touch -t` instant as the mtime (else the end of `default`, the day of lnav's commit)."""
    mtime = expectation.mtime if expectation and expectation.mtime else None
    if mtime is None:
        mtime = datetime(default.year, default.month, default.day, 23, 59, tzinfo=timezone.utc).timestamp()
    return file_reader(lines[:200], mtime, fmt, tail=lines[-TAIL_LINES:])


def measure(name: str, text: str, expectation: Expectation | None, default: date) -> FileResult:
    lines = text.splitlines()
    fmt = detect_format(lines).format
    records = list(parse_lines(lines, fmt))
    reader, minutes = clock(fmt, expectation, default, lines), MinuteReader()
    carrying = timed = timed_carrying = minuted = levels = 0
    line_levels: list[str] = []
    for r in records:
        carries = CARRIES.search(lines[r.line - 1][:HEAD]) is not None
        read = reader(lines[r.line - 1]) is not None
        carrying += carries
        timed += read
        timed_carrying += carries and read
        minuted += minutes(r.timestamp) is not None
        levels += r.level is not None
        line_levels += [LNAV_LEVELS.get(level_of(r)[0], "info")] * (r.end_line - r.line + 1)
    result = FileResult(name, fmt.name, len(records), carrying, timed, timed_carrying, minuted, levels)
    if expectation is None:
        return result
    times = line_times(lines, clock(fmt, expectation, default, lines))
    wanted = [SAME_LEVEL.get(w, w) for w in expectation.levels]
    return FileResult(**{**result.__dict__, "expected": len(expectation.times),
                         "matched": paired(expectation.times, times, lines),
                         "expected_levels": len(wanted), "matched_levels": paired(wanted, line_levels, lines),
                         "captured": expectation.captured})  # fmt: skip


def share(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "—"


def report(results: list[FileResult]) -> None:
    print("| file | format | records | time read (TimeReader) | of those carrying one | minute (minute_of) "
          "| levels | lnav's times read | lnav's levels read |")  # fmt: skip
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        print(f"| {r.name} | {r.format} | {r.records} | {share(r.timed, r.records)} "
              f"| {r.timed_carrying}/{r.carrying} | {share(r.minutes, r.records)} | {r.levels} "
              f"| {f'{r.matched}/{r.expected}' if r.expected else ''} "
              f"| {f'{r.matched_levels}/{r.expected_levels}' if r.expected_levels else ''} |")  # fmt: skip
    n = len(results)
    generic = sum(r.format == "generic" for r in results)
    expected = [r for r in results if r.expected]
    print()
    print(
        f"- files: {n}; `generic`: {generic} ({share(generic, n)}); with any time read: "
        f"{sum(r.timed > 0 for r in results)}; with any minute: {sum(r.minutes > 0 for r in results)}"
    )
    print(f"- records with a time read: {sum(r.timed for r in results)} of {sum(r.records for r in results)}; "
          f"of the records that carry one: {sum(r.timed_carrying for r in results)} of "
          f"{sum(r.carrying for r in results)} ({share(sum(r.timed_carrying for r in results), sum(r.carrying for r in results))})")  # fmt: skip
    for label, group in (("in test_logfile.sh itself", [r for r in expected if not r.captured]),
                         ("captured under test/expected/", [r for r in expected if r.captured]),
                         ("in all", expected)):  # fmt: skip
        print(
            f"- timestamps lnav expects that logpt reads, {label}: {sum(r.matched for r in group)} of "
            f"{sum(r.expected for r in group)} ({sum(r.matched == r.expected for r in group)} of "
            f"{len(group)} files whole)"
        )
    print(
        f"- levels lnav expects that logpt gives: {sum(r.matched_levels for r in results)} of "
        f"{sum(r.expected_levels for r in results)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lnav", type=Path, default=DEFAULT, help="an lnav checkout or bare git repository")
    args = parser.parse_args()
    lnav = Lnav(args.lnav)
    if not args.lnav.exists() or not lnav.exists():
        print(f"no lnav repository at {args.lnav}: nothing to measure (pass --lnav DIR)", file=sys.stderr)
        return
    wanted = expectations(lnav)
    results, skipped = [], []
    for name in (n for n in lnav.names("test") if n.startswith("logfile_")):
        data = lnav.read(f"test/{name}")
        text = text_of(data) if data is not None else None
        if text is None:
            skipped.append(name)
            continue
        results.append(measure(name, text, wanted.get(name), lnav.day()))
    missing = sorted(set(wanted) - {r.name for r in results})
    report(results)
    print(
        f"- skipped (binary or compressed): {', '.join(skipped) or 'none'}; expectations for files not "
        f"measured: {', '.join(missing) or 'none'}"
    )


if __name__ == "__main__":
    main()
