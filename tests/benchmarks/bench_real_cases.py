"""Real failures nobody here wrote: are the cause lines flagged, and does the root cause name the cause?

Reads the shared real cases (`../shared/datasets/real-cases/`: verbatim public logs, each with the cause its
source states, `keywords_any` a correct cause statement contains and `cause_lines_hint`). For each case:

- flags: `logpt detect FILE --self-train` (engine.detect.pipeline, the whole file, the bundled line model for
  unusual-text evidence as by default): is any cause line flagged,
  and what share of the file's lines is flagged (targets: cause lines flagged in >= 14 of 15 cases with <= 10%
  of each file's lines flagged);
- root cause: the analyst (`logpt analyze --engine analyst --lines 1-N`: one answer for the whole file, given
  the flags) scored on its cause statement only — the heading, category, signature and explanation before
  the first `###` section, with quoted log text removed, since the log's own words would match — against the
  case's keywords (target: >= 13 of 15), and never "No errors" on a file with a flagged line.

The cases are for measurement only: nothing in the project is written or tuned from them.

    python -m tests.benchmarks.bench_real_cases [--show]
"""

from __future__ import annotations

import argparse
import json
import platform
import re
from pathlib import Path

from engine.analysis.analyst import analyze
from engine.analysis.digest import build_digest
from engine.detect.pipeline import DetectionPipeline
from engine.logs.formats import detect_format
from engine.logs.textio import split_lines
from train.raw_eval import default_line_lm, default_sequence

CASES = Path(__file__).resolve().parents[3] / "shared" / "datasets" / "real-cases"
RANGE = re.compile(r"(\d+)\s*(?:-\s*(\d+)|(\+))?")


def cause_lines(hint: str, total: int) -> set[int]:
    """The line numbers a `cause_lines_hint` names ("1-2, 14-15", "224+", "149-185 (text)")."""
    found: set[int] = set()
    for part in hint.split(","):
        part = re.sub(r"\([^)]*\)", "", part).strip()
        m = RANGE.match(part)
        if not m:
            continue
        first = int(m.group(1))
        last = total if m.group(3) else int(m.group(2) or first)
        found.update(range(first, min(last, total) + 1))
    return found


def statement(reply: str) -> str:
    """A root cause's cause statement: the text before its first section, without quoted log text."""
    head = reply.split("\n###", 1)[0]
    return re.sub(r"`[^`]*`", " ", head)


def run_case(case: dict, show: bool) -> dict[str, object]:
    lines = split_lines((CASES / case["file"]).read_text(encoding="utf-8", errors="replace"))
    fmt = detect_format(lines[:200]).format
    pipeline = DetectionPipeline.prepare(lines, fmt, line_lm=default_line_lm(), sequence=default_sequence())
    flags = pipeline.judge(lines).flags()
    flagged = {f.line: f.reason for f in flags}
    causes = cause_lines(case["cause_lines_hint"], len(lines))
    reply = analyze(build_digest(lines, flagged=flagged), "root_cause")
    said = statement(reply).lower()
    named = any(k.lower() in said for k in case["keywords_any"])
    if show:
        print(f"\n=== {case['id']} ({pipeline.source}; flagged {sorted(flagged)[:12]})\n{reply}")
    return {
        "id": case["id"], "lines": len(lines), "flagged": len(flagged), "share": len(flagged) / max(1, len(lines)),
        "cause_flagged": bool(causes & flagged.keys()), "named": named, "no_errors": "No errors" in reply,
        "model": pipeline.source,
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--show", action="store_true", help="print each root cause")
    args = parser.parse_args()
    if not (CASES / "cases.json").is_file():
        print(f"skipped: no real cases at {CASES}")
        return
    cases = json.loads((CASES / "cases.json").read_text(encoding="utf-8"))["cases"]
    rows = [run_case(case, args.show) for case in cases]
    print(f"\nReal cases ({len(rows)}), {platform.machine()} {platform.python_version()}\n")
    print("| case | lines | flagged | share | cause line flagged | cause named | says 'No errors' | sequence model |")
    print("|---|---:|---:|---:|:-:|:-:|:-:|---|")
    for r in rows:
        print(f"| {r['id']} | {r['lines']} | {r['flagged']} | {r['share']:.1%} | {'yes' if r['cause_flagged'] else 'no'} | "
              f"{'yes' if r['named'] else 'no'} | {'yes' if r['no_errors'] else 'no'} | {r['model']} |")  # fmt: skip
    flagged_ok = sum(r["cause_flagged"] and r["share"] <= 0.10 for r in rows)
    print(f"\ncause lines flagged with <= 10% of lines flagged: {flagged_ok}/{len(rows)} (target >= 14); "
          f"cause lines flagged at all: {sum(r['cause_flagged'] for r in rows)}/{len(rows)}")  # fmt: skip
    print(f"root cause names the cause: {sum(r['named'] for r in rows)}/{len(rows)} (target >= 13); "
          f"'No errors' on a file with a flag: {sum(r['no_errors'] and r['flagged'] > 0 for r in rows)}")  # fmt: skip


if __name__ == "__main__":
    main()
