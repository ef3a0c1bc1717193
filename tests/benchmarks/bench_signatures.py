"""Signature misfires on Loghub: knowledge-base matches on lines that say nothing is wrong.

Every signature of the knowledge base reads every line of the 13 Loghub 2k samples, as the digest reads
them: the format detected from the file, `fmt.record_line(record, line)` as the text and the record's
component as the program. A match is a misfire when its line is not a problem: its level field is below
WARN, its words do not say otherwise (`sniff_level`), and, for BGL and Thunderbird, its alert label (the
first column) is `-`. The analyst names a root cause from the best-ranked signature of a chunk, so a
signature that fires on a harmless line names a wrong cause.

Some matches are right although the line reads as harmless to those rules (a failure in words that
`sniff_level` does not know); ALLOWED lists them, each with its reason. The target is no unexplained
misfire. The table lists every signature that matched: all its matches, those on lines that are not a
problem, the unexplained ones, and an example line.

    python -m tests.benchmarks.bench_signatures [--data ../shared/datasets/loghub] [--all]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from engine.analysis.knowledge import KnowledgeBase, default_kb
from engine.logs.formats.detect import detect_format, parse_lines
from engine.logs.formats.record import LEVEL_RANK, sniff_level

DEFAULT_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "datasets" / "loghub"
SYSTEMS = ("HDFS", "Hadoop", "Spark", "Zookeeper", "OpenStack", "BGL", "HPC", "Thunderbird", "Linux", "Mac",
           "Apache", "OpenSSH", "Proxifier")  # fmt: skip
LABELLED = ("BGL", "Thunderbird")  # the first column is an alert label, `-` for a line that raised none
WARN = LEVEL_RANK["WARN"]

# (signature id, a substring of the line, why the match is right although the line reads as harmless)
ALLOWED: tuple[tuple[str, str, str], ...] = (
    ("ssh-invalid-user", "Invalid user ", "a login for a user that does not exist: a probe, in words sniff_level does not know"),
    ("ssh-invalid-user", "input_userauth_request: invalid user", "sshd's pre-authentication trace of the same probe"),
    ("ssh-failed-password", "Too many authentication failures", "sshd cutting off a client after repeated failed logins"),
    ("ssh-failed-password", "more authentication failures", "PAM's count of failed logins on one connection"),
    ("task-attempt-failed", "TaskAttempt Transitioned from", "a task attempt entering a failure state (Hadoop logs transitions at INFO)"),
    ("task-attempt-failed", "failures on node", "the MapReduce AM counting failed task attempts on a node (logged at INFO)"),
)  # fmt: skip


@dataclass
class Tally:
    """What one signature matched over all systems."""

    matches: int = 0
    harmless: int = 0  # matches on lines that are not a problem
    unexplained: int = 0  # harmless matches that no ALLOWED entry explains
    example: str = ""  # an unexplained misfire first, else a harmless match, else any match
    example_rank: int = 3


def is_problem(system: str, line: str, level: str | None, message: str) -> bool:
    if level is not None and LEVEL_RANK.get(level, 0) >= WARN:
        return True
    words = sniff_level(message)
    if words is not None and LEVEL_RANK[words] >= WARN:
        return True
    return system in LABELLED and not line.startswith("- ")


used_allowances: set[tuple[str, str]] = set()  # the ALLOWED entries that explained a match in this run


def allowed(signature_id: str, line: str) -> str | None:
    for ident, needle, reason in ALLOWED:
        if ident == signature_id and needle in line:
            used_allowances.add((ident, needle))
            return reason
    return None


def scan(kb: KnowledgeBase, data: Path) -> tuple[dict[str, Tally], Counter[str], int]:
    """Per signature id, its tally; per system, its unexplained misfires; lines read."""
    tallies: dict[str, Tally] = {}
    per_system: Counter[str] = Counter()
    read = 0
    for system in SYSTEMS:
        lines = (data / system / f"{system}_2k.log").read_text(encoding="utf-8", errors="replace").splitlines()
        fmt = detect_format(lines).format
        for record in parse_lines(lines, fmt):
            first = lines[record.line - 1]
            text = fmt.record_line(record, first)
            read += 1
            problem = None  # decided on the first match: most lines match nothing
            for s in kb.signatures:
                if not s.matches(text, record.component):
                    continue
                if problem is None:
                    problem = is_problem(system, first, record.level, record.message)
                t = tallies.setdefault(s.id, Tally())
                t.matches += 1
                rank = 2
                if not problem:
                    t.harmless += 1
                    rank = 1
                    if allowed(s.id, text) is None:
                        t.unexplained += 1
                        per_system[system] += 1
                        rank = 0
                if rank < t.example_rank:
                    t.example, t.example_rank = f"{system}: {text}", rank
    return tallies, per_system, read


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the Loghub folder (<System>/<System>_2k.log)")
    parser.add_argument("--all", action="store_true", help="list signatures without harmless matches too")
    args = parser.parse_args()
    if not all((args.data / s / f"{s}_2k.log").is_file() for s in SYSTEMS):
        print(f"skipped: the Loghub 2k samples are not at {args.data} (they live in ../shared/datasets/loghub)")
        return
    kb = default_kb()
    t0 = time.perf_counter()
    tallies, per_system, read = scan(kb, args.data)
    seconds = time.perf_counter() - t0
    shown = sorted(((i, t) for i, t in tallies.items() if args.all or t.harmless),
                   key=lambda it: (-it[1].unexplained, -it[1].harmless, it[0]))  # fmt: skip
    print(f"{len(kb)} signatures over {read:,} lines of {len(SYSTEMS)} Loghub systems in {seconds:.1f} s; "
          f"Python {sys.version.split()[0]}")  # fmt: skip
    print("| signature | matches | on non-problem lines | unexplained | example |")
    print("|---|---:|---:|---:|---|")
    for ident, t in shown:
        example = t.example if len(t.example) <= 110 else t.example[:107] + "..."
        print(f"| {ident} | {t.matches} | {t.harmless} | {t.unexplained} | `{example.replace('|', '/')}` |")
    unexplained = sum(t.unexplained for t in tallies.values())
    harmless = sum(t.harmless for t in tallies.values())
    print(f"\nmatches {sum(t.matches for t in tallies.values())}, on non-problem lines {harmless}, "
          f"explained by the allowlist {harmless - unexplained}, unexplained {unexplained}"
          + (f" ({', '.join(f'{s} {n}' for s, n in per_system.most_common())})" if unexplained else ""))  # fmt: skip
    for ident, needle, reason in ALLOWED:
        used = "" if (ident, needle) in used_allowances else " (matched nothing in this run)"
        print(f"allowed: {ident} on lines with {needle!r}: {reason}{used}")


if __name__ == "__main__":
    main()
