"""Template surprisal with no history: how well the line model's surprise at a template ranks cause lines.

Every file is read as the detector reads it: its format detected (BGL: the `bgl` format, whose pattern
holds the alert label, so the model sees the message after it), records mined into templates by a fresh
`TemplateMiner`, each distinct template scored once by `weights/logpt-lines` and calibrated against the
file's templates (`engine.detect.unusual.calibrate`); a line gets its record's template's z. AUC is the
chance that a cause line outranks another line of the same file (ties count half).

- BGL_2k: cause lines are the alerts (the first column is not `-`). BGL was held out of training.
- Planted syslogs (`train.synth.planted`, seeds the trainer never drew): the incident's lines, i.e. the
  lines in its span whose template occurs nowhere else in the file. The incident kinds are the same as
  in training (other draws), so this number flatters the model; it is a check, not a measure.
- The real cases (../shared/datasets/real-cases/cases.json): `cause_lines_hint` ranges; per case AUC,
  then the mean and how many reach 0.8. Used for this measurement only, never for training or choices.

Beside the chosen score (the error-vs-info contrast, `engine.detect.unusual.score_of`): the other scores
the model gives (surprise with no level tag, as a normal line per token and in all, the sum of surprise
and contrast) and the baseline "severity words only" (`sniff_level` of the
message: CRITICAL > ERROR > WARN > none). Also the speed: templates scored per second on this CPU.

    python -m tests.benchmarks.bench_unusual [--data ../shared/datasets] [--bundle weights/logpt-lines]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from engine.detect.unusual import ANY, INFO, LineLM, TextScore, calibrate, load_line_lm
from engine.logs.formats.detect import choose_format, detect_format, parse_lines
from engine.logs.formats.record import LEVEL_RANK, sniff_level
from engine.logs.templates import TemplateMiner
from train.synth.planted import planted_log

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DATA = ROOT.parent / "shared" / "datasets"
BUNDLE = ROOT / "weights" / "logpt-lines"
PLANTED_SEEDS = range(9000, 9010)


@dataclass(frozen=True)
class File:
    name: str
    lines: list[str]
    causes: set[int]  # 1-based line numbers
    format: str | None = None  # a format name, else detected


@dataclass(frozen=True)
class Mined:
    """A file's records as templates: the template of every line, and each template's text once."""

    line_key: dict[int, int]  # line number → template key
    texts: dict[int, str]  # key → template text
    severity: dict[int, int]  # line number → sniff_level rank of its record's message (−1: none)


def mine(file: File) -> Mined:
    fmt = choose_format(file.lines, file.format) if file.format else detect_format(file.lines).format
    miner = TemplateMiner()
    line_key, severity = {}, {}
    for record in parse_lines(file.lines, fmt):
        key = miner.add(record.message)
        level = sniff_level(record.message)
        for n in range(record.line, record.end_line + 1):
            line_key[n] = key
            severity[n] = LEVEL_RANK[level] if level else -1
    texts = {key: miner.template(key) or "" for key in set(line_key.values())}
    return Mined(line_key, texts, severity)


def auc(scores: Sequence[float], positive: Sequence[bool]) -> float:
    """Mann-Whitney: P(a positive outranks a negative), ties half."""
    pos = [s for s, p in zip(scores, positive, strict=True) if p]
    neg = [s for s, p in zip(scores, positive, strict=True) if not p]
    if not pos or not neg:
        return float("nan")
    ranked = sorted(scores)
    below: dict[float, float] = {}
    at = 0
    while at < len(ranked):  # mid-rank of each distinct value
        end = at
        while end < len(ranked) and ranked[end] == ranked[at]:
            end += 1
        below[ranked[at]] = (at + end + 1) / 2
        at = end
    rank_sum = sum(below[s] for s in pos)
    return (rank_sum - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg))


def parse_hint(hint: str, n_lines: int) -> set[int]:
    """ "149-185 (text), 210-213, 224+" → line numbers (a trailing + runs to the end)."""
    found: set[int] = set()
    for part in re.sub(r"\([^)]*\)", "", hint).split(","):
        part = part.strip()
        if m := re.fullmatch(r"(\d+)\s*-\s*(\d+)", part):
            found.update(range(int(m[1]), int(m[2]) + 1))
        elif m := re.fullmatch(r"(\d+)\s*\+", part):
            found.update(range(int(m[1]), n_lines + 1))
        elif part.isdigit():
            found.add(int(part))
        elif part:
            raise ValueError(f"cannot read cause lines {part!r} in {hint!r}")
    return found


def read_lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8", errors="replace").splitlines()


def bgl(data: Path) -> File:
    lines = read_lines(data / "loghub" / "BGL" / "BGL_2k.log")
    return File("BGL_2k (alerts)", lines, {n for n, line in enumerate(lines, 1) if not line.startswith("-")}, "bgl")


def planted(seed: int) -> File:
    log = planted_log(seed)
    assert log.span is not None
    first, last = log.span
    fmt = detect_format(log.lines).format
    keys: dict[int, str] = {}
    miner = TemplateMiner()
    for record in parse_lines(log.lines, fmt):
        keys[record.line] = str(miner.add(record.message))
    outside = {k for n, k in keys.items() if not first <= n <= last}
    causes = {n for n in range(first, last + 1) if keys.get(n) not in outside}
    return File(f"planted {seed} ({log.incident})", log.lines, causes)


def real_cases(data: Path) -> list[File]:
    folder = data / "real-cases"
    cases = json.loads((folder / "cases.json").read_text(encoding="utf-8"))["cases"]
    found = []
    for case in cases:
        lines = read_lines(folder / case["file"])
        found.append(File(case["id"], lines, parse_hint(case["cause_lines_hint"], len(lines))))
    return found


# ---- the scores compared: name → (per-template value from the INFO and ANY scores)
Variant = Callable[[TextScore, TextScore], float]
VARIANTS: dict[str, Variant] = {
    "any: nats/token": lambda info, any_: any_.mean,
    "info: nats/token": lambda info, any_: info.mean,
    "info: total nats": lambda info, any_: info.total,
    "contrast err-info (chosen)": lambda info, any_: info.contrast or 0.0,
    "info + contrast": lambda info, any_: info.mean + (info.contrast or 0.0),
}


def evaluate(lm: LineLM, file: File) -> tuple[dict[str, float], float, list[tuple[float, str]]]:
    """AUC per variant (ranked by calibrated z: within a file, the same order as the score), the
    severity baseline's AUC, and the three templates with the highest z (z, words)."""
    mined = mine(file)
    keys = sorted(mined.texts)
    texts = [mined.texts[k] for k in keys]
    info = dict(zip(keys, lm.score(texts, tag=INFO, contrast=True), strict=True))
    any_ = dict(zip(keys, lm.score(texts, tag=ANY, contrast=False), strict=True))
    lines = sorted(mined.line_key)
    positive = [n in file.causes for n in lines]
    result = {}
    for name, value in VARIANTS.items():
        per_key = {k: value(info[k], any_[k]) for k in keys}
        result[name] = auc([per_key[mined.line_key[n]] for n in lines], positive)
    chosen = calibrate(info)
    top = sorted(((u.z, u.detail) for u in chosen.values()), reverse=True)[:3]
    baseline = auc([float(mined.severity[n]) for n in lines], positive)
    return result, baseline, top


def speed(lm: LineLM, texts: list[str], repeats: int = 3) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        lm.score(texts)
        best = min(best, time.perf_counter() - start)
    return len(texts) / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--bundle", type=Path, default=BUNDLE)
    args = parser.parse_args()
    if not (args.data / "loghub" / "BGL").is_dir():
        print(f"skipped: no Loghub samples under {args.data} (pass --data ../shared/datasets)")
        return
    lm = load_line_lm(args.bundle)
    names = list(VARIANTS)
    header = "| file | lines | causes | " + " | ".join(names) + " | severity words | top template (z) |"
    print(header)
    print("|" + "---|" * (header.count("|") - 1))

    def row(file: File) -> tuple[dict[str, float], float]:
        result, baseline, top = evaluate(lm, file)
        cells = " | ".join(f"{result[n]:.3f}" for n in names)
        shown = top[0][1].replace("|", "\\|") if top else ""
        print(f"| {file.name} | {len(file.lines)} | {len(file.causes)} | {cells} | {baseline:.3f} | {shown} |")
        return result, baseline

    row(bgl(args.data))
    planted_rows = [row(planted(seed)) for seed in PLANTED_SEEDS]
    summary("planted (mean)", planted_rows, names)
    if (args.data / "real-cases" / "cases.json").is_file():
        case_rows = [row(case) for case in real_cases(args.data)]
        summary("real cases (mean)", case_rows, names)
        counts = " | ".join(str(sum(r[n] >= 0.8 for r, _ in case_rows)) for n in names)
        print(f"| real cases with AUC ≥ 0.8 (of {len(case_rows)}) | | | {counts} | "
              f"{sum(b >= 0.8 for _, b in case_rows)} | |")  # fmt: skip
    else:
        print("(no real cases under --data: skipped)")
    texts = sorted(set(mine(bgl(args.data)).texts.values()))
    texts = (texts * (1 + 200 // max(1, len(texts))))[:200]
    tokens = sum(len(lm.tokenizer.encode(t)) for t in texts) / len(texts)
    threads = torch.get_num_threads()
    print()
    for n in sorted({1, threads}):
        torch.set_num_threads(n)
        print(f"speed: {speed(lm, texts):,.0f} templates/s with {n} CPU thread(s) (200 BGL templates, "
              f"{tokens:.0f} tokens each on average, info + error passes)")  # fmt: skip
    torch.set_num_threads(threads)


def summary(label: str, rows: list[tuple[dict[str, float], float]], names: list[str]) -> None:
    cells = " | ".join(f"**{sum(r[n] for r, _ in rows) / len(rows):.3f}**" for n in names)
    print(f"| {label} | | | {cells} | {sum(b for _, b in rows) / len(rows):.3f} | |")


if __name__ == "__main__":
    sys.exit(main())
