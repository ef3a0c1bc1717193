"""The pretrained sequence model on logs it never trained on: does the order of templates alone point at trouble?

For each file the records are mined in order (one `TemplateMiner`, as the detector does), the whole file is one
session, and every position gets the probability the pretrained model (`weights/logpt-sequence`) gives its
template among the file's templates, from the templates before it alone (engine.detect.textseq). Reported:

- BGL_2k (a Loghub system held out of training; its alert records are labelled): the AUC of the surprisal
  (−log p) for alert records against the rest, and precision and recall of the model's own rule (p < floor);
- the shared real cases (verbatim public failures, never trained on): per case, the positions below the floor,
  whether a cause line is among them, and the AUC of the surprisal for the cause lines against the rest.

Beside it, the same numbers for a baseline that needs no model: a template's first appearance in the file
(surprisal 1 at a template's first line, 0 after) — what any sequence model must beat to say more than "new".

    python -m tests.benchmarks.bench_sequence [--bundle weights/logpt-sequence]
"""

from __future__ import annotations

import argparse
import json
import platform
from pathlib import Path

import numpy as np

from engine.detect.history import mine
from engine.detect.textseq import TextSeq, load_text_seq
from engine.logs.formats import detect_format
from engine.logs.templates import TemplateMiner
from engine.logs.textio import split_lines
from tests.benchmarks.bench_real_cases import cause_lines

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "datasets"
BGL = SHARED / "loghub" / "BGL" / "BGL_2k.log"
CASES = SHARED / "real-cases"


def auc(score: np.ndarray, positive: np.ndarray) -> float:
    """Mann-Whitney AUC, ties counted half; nan without both classes."""
    pos, neg = score[positive], score[~positive]
    if not len(pos) or not len(neg):
        return float("nan")
    greater = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    return float(greater / (len(pos) * len(neg)))


def positions(model: TextSeq, lines: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(1-based line of each record, the model's probability of its template, 1 where a template first appears)."""
    miner = TemplateMiner()
    keyed = mine(lines, detect_format(lines[:200]).format, miner)
    keys = [key for _, key in keyed]
    texts = {str(t.key): t.text for t in miner.templates()}
    probs = model.score([keys], texts)[0].probs
    seen: set[str] = set()
    first = np.array([not (k in seen or seen.add(k)) for k in keys], dtype=float)
    return np.array([r.line for r, _ in keyed]), probs, first


def bgl_row(model: TextSeq) -> list[str]:
    lines = split_lines(BGL.read_text(encoding="utf-8", errors="replace"))
    at, probs, first = positions(model, lines)
    alert = np.array([not lines[n - 1].startswith("-") for n in at])
    flagged = probs < model.floor
    hits = int((flagged & alert).sum())
    return [f"{auc(-np.log(probs), alert):.3f}", f"{auc(first, alert):.3f}", f"{int(flagged.sum())}",
            f"{hits / max(1, flagged.sum()):.3f}", f"{hits / max(1, alert.sum()):.3f}", f"{alert.mean():.3f}"]  # fmt: skip


def case_rows(model: TextSeq) -> list[tuple[str, int, int, bool, float, float]]:
    rows = []
    for case in json.loads((CASES / "cases.json").read_text(encoding="utf-8"))["cases"]:
        lines = split_lines((CASES / case["file"]).read_text(encoding="utf-8", errors="replace"))
        at, probs, first = positions(model, lines)
        cause = np.isin(at, sorted(cause_lines(case["cause_lines_hint"], len(lines))))
        flagged = probs < model.floor
        rows.append((case["id"], len(at), int(flagged.sum()), bool((flagged & cause).any()),
                     auc(-np.log(probs), cause), auc(first, cause)))  # fmt: skip
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bundle", type=Path, default=ROOT / "weights" / "logpt-sequence")
    args = parser.parse_args()
    model = load_text_seq(args.bundle)
    print(f"\nPretrained sequence model {args.bundle.name} (rule p < {model.floor:.2g}), "
          f"{platform.machine()} {platform.python_version()}\n")  # fmt: skip
    if BGL.is_file():
        print("| BGL_2k (held out) | AUC surprisal | AUC first appearance | below the floor | precision | recall | "
              "alert share |\n|---|---:|---:|---:|---:|---:|---:|")  # fmt: skip
        print("| alert records | " + " | ".join(bgl_row(model)) + " |\n")
    if not (CASES / "cases.json").is_file():
        print(f"skipped: no real cases at {CASES}")
        return
    rows = case_rows(model)
    print("| real case | records | below the floor | a cause line among them | AUC surprisal | AUC first appearance |")
    print("|---|---:|---:|:-:|---:|---:|")
    for name, n, low, hit, a, b in rows:
        print(f"| {name} | {n} | {low} | {'yes' if hit else 'no'} | {a:.3f} | {b:.3f} |")
    mean = lambda i: np.nanmean([r[i] for r in rows])  # noqa: E731
    print(f"\nmean AUC over the cases: surprisal {mean(4):.3f}, first appearance {mean(5):.3f}; "
          f"cases with a cause line below the floor: {sum(r[3] for r in rows)}/{len(rows)}; "
          f"positions below the floor: {sum(r[2] for r in rows)} of {sum(r[1] for r in rows)}")  # fmt: skip


if __name__ == "__main__":
    main()
