"""Template-mining accuracy on Loghub-style folders: grouping accuracy and parsing accuracy.

A folder holds one sub-folder per system with `<System>_2k.log` and
`<System>_2k.log_structured.csv` (columns `Content`, `EventId`,
`EventTemplate`). The log is read raw: the format is detected, lines are
parsed and mined exactly as `logpt templates` does, with no per-system tuning.

- Grouping accuracy (GA): a line counts when the set of lines sharing its
  mined template is exactly the set sharing its true EventId.
- Parsing accuracy (PA): a line counts when its mined template, written with
  `<*>` placeholders, equals the true template (whitespace and runs of
  adjacent placeholders normalised).
"""

from __future__ import annotations

import csv
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from engine.errors import InputError
from engine.logs.formats import detect_format, parse_lines
from engine.logs.templates import MinerConfig, TemplateMiner, as_wildcards
from engine.logs.textio import read_lines


@dataclass(frozen=True)
class SystemScore:
    system: str
    format: str  # the format detected for it
    lines: int
    templates_true: int
    templates_found: int
    grouping_accuracy: float
    parsing_accuracy: float


def grouping_accuracy(truth: Sequence[str], predicted: Sequence[int]) -> float:
    assert len(truth) == len(predicted)
    true_sizes = Counter(truth)
    members: dict[int, list[str]] = defaultdict(list)
    for t, p in zip(truth, predicted, strict=True):
        members[p].append(t)
    correct = 0
    for labels in members.values():
        first = labels[0]
        if all(label == first for label in labels) and true_sizes[first] == len(labels):
            correct += len(labels)
    return correct / len(truth) if truth else 0.0


def normalise_template(template: str) -> str:
    template = re.sub(r"\s+", " ", template.strip())
    return re.sub(r"(?:<\*>[\s]*)+<\*>|<\*>", "<*>", template)


def read_truth(csv_path: Path) -> list[dict[str, str]]:
    try:
        with csv_path.open(encoding="utf-8", errors="replace", newline="") as f:
            rows = list(csv.DictReader(f))
    except OSError as e:
        raise InputError(f"cannot read {csv_path}: {e.strerror}", "check the Loghub folder") from e
    if not rows or not {"EventId", "EventTemplate"} <= set(rows[0]):
        raise InputError(f"{csv_path} has no EventId/EventTemplate columns", "pass a Loghub-style folder")
    return rows


def evaluate_system(folder: Path, config: MinerConfig | None = None) -> SystemScore:
    system = folder.name
    log = next(iter(sorted(folder.glob("*.log"))), None)
    if log is None:
        raise InputError(f"{folder} has no .log file", "pass a Loghub-style folder")
    truth = read_truth(log.with_name(log.name + "_structured.csv"))
    lines = read_lines(log)
    if len(lines) != len(truth):
        raise InputError(f"{log.name}: {len(lines)} lines but {len(truth)} labelled rows", "the files do not match")
    detection = detect_format(lines)
    records = list(parse_lines(lines, detection.format, multiline=False))  # Loghub labels every line
    miner = TemplateMiner(config)
    keys = [miner.add(r.message) for r in records]
    text = {t.key: normalise_template(as_wildcards(t.text)) for t in miner.templates()}
    parsed = sum(1 for k, row in zip(keys, truth, strict=True) if text[k] == normalise_template(row["EventTemplate"]))
    return SystemScore(
        system=system,
        format=detection.format.name,
        lines=len(lines),
        templates_true=len({row["EventId"] for row in truth}),
        templates_found=len(set(keys)),
        grouping_accuracy=grouping_accuracy([row["EventId"] for row in truth], keys),
        parsing_accuracy=parsed / len(truth),
    )


def evaluate_loghub(
    root: Path, config: MinerConfig | None = None, on_system: Callable[[SystemScore], None] | None = None
) -> list[SystemScore]:
    """Scores for every system folder under root (those with a structured CSV)."""
    if not root.is_dir():
        raise InputError(f"no folder at {root}", "pass the Loghub folder, e.g. ../shared/datasets/loghub")
    folders = sorted(p for p in root.iterdir() if p.is_dir() and any(p.glob("*.log_structured.csv")))
    if not folders:
        raise InputError(f"{root} has no <System>/<System>.log_structured.csv folders", "pass a Loghub-style folder")
    scores = []
    for folder in folders:
        score = evaluate_system(folder, config)
        scores.append(score)
        if on_system is not None:
            on_system(score)
    return scores
