"""Prompt/response pairs for the generator, in the `logpt-digest` format.

Sources: windows of the Loghub samples, synthetic windows (train.synth.incidents)
with an injected incident in three out of four, and windows of made-up
traffic (train.synth.random_traffic), half of them with a knowledge-base signature's
line injected. Each window's digest is computed over all its lines, its text
goes into the prompt whole when it fits the log budget of the target bundle,
else as the excerpt `logpt analyze` shows (engine.analysis.excerpt); one query
is drawn and the analyst writes the response. Systems and styles are split: Loghub's
`HELD_OUT_SYSTEMS` and the JSON-lines style are evaluation only.

Examples are JSON lines (`Example` fields). A user's own LoGPT-format data
(`{"log": …, "query": …, "response": …}` per line, optional `facts`) loads
with `read_examples` and trains the same way.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from engine.analysis.analyst import analyze
from engine.analysis.digest import build_digest
from engine.analysis.excerpt import excerpt
from engine.analysis.knowledge import default_kb
from engine.analysis.prompts import fit_facts
from engine.analysis.queries import NAMES as QUERIES
from engine.errors import InputError
from engine.lm.tokenizer import Tokenizer
from train.synth.incidents import INCIDENTS, synthetic_window
from train.synth.random_traffic import random_window

HELD_OUT_SYSTEMS = ("Zookeeper", "OpenStack", "Mac")
TRAIN_STYLES = ("syslog", "iso")
EVAL_STYLES = ("json",)
INCIDENT_SHARE = 0.75


@dataclass(frozen=True)
class Example:
    log: str
    query: str
    response: str
    facts: str | None = None  # the rendered digest; computed at training time when absent
    first_line: int = 1
    source: str = ""  # loghub:<System>, synthetic:<style>, made-up:<style>, or user
    incident: str | None = None  # the injected incident's signature id
    window: str | None = None  # the whole window when `log` is an excerpt of it (held-out examples keep it)

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)


@dataclass(frozen=True)
class DataConfig:
    loghub: Path | None  # ../shared/datasets/loghub, or None for synthetic data only
    synthetic_train: int = 20_000
    synthetic_eval: int = 300
    made_up_train: int = 0  # windows of made-up traffic (train.synth.random_traffic), training only
    loghub_passes: int = 4  # windows per Loghub system ≈ passes × 2,000 / mean window length
    min_lines: int = 3
    max_lines: int = 60
    seed: int = 0


def make_example(
    lines: list[str], first_line: int, query: str, tokenizer: Tokenizer, log_budget: int, facts_budget: int, source: str,
    incident: str | None = None,
) -> Example | None:  # fmt: skip
    """The analyst's example for a window of lines, as `logpt analyze` prompts a digest model: the digest of every
    line, and the window whole when it fits `log_budget` tokens, else its excerpt (engine.analysis.excerpt)."""
    if not lines:
        return None
    digest = build_digest(lines, first_line=first_line)
    log, whole = excerpt(lines, first_line, digest, tokenizer.count, log_budget), "\n".join(lines)
    facts = fit_facts(tokenizer, digest.render(), facts_budget)
    return Example(log, query, analyze(digest, query), facts, first_line, source, incident,
                   window=None if log == whole else whole)  # fmt: skip


def _windows(lines: list[str], rng: random.Random, config: DataConfig) -> Iterator[tuple[int, list[str]]]:
    for _ in range(config.loghub_passes):
        start = rng.randint(0, config.max_lines // 2)
        while start < len(lines):
            n = rng.randint(config.min_lines, config.max_lines)
            yield start + 1, lines[start : start + n]
            start += n


def build_examples(
    tokenizer: Tokenizer,
    log_budget: int,
    facts_budget: int,
    config: DataConfig,
    on_progress: Callable[[int, int], None] | None = None,
) -> tuple[list[Example], list[Example]]:
    """(train, eval) examples; `on_progress(done, total)` is called as they are made."""
    rng = random.Random(config.seed)
    jobs: list[tuple[str, bool, Callable[[], Example | None]]] = []

    def job(
        lines: list[str], first: int, source: str, incident: str | None = None, draw: random.Random = rng
    ) -> Callable[[], Example | None]:
        query = draw.choice(QUERIES)
        return lambda: make_example(lines, first, query, tokenizer, log_budget, facts_budget, source, incident)

    if config.loghub is not None:
        for folder in sorted(p for p in config.loghub.iterdir() if p.is_dir()):
            path = folder / f"{folder.name}_2k.log"
            if not path.is_file():
                continue
            lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
            held_out = folder.name in HELD_OUT_SYSTEMS
            for first, window in _windows(lines, rng, config):
                jobs.append((folder.name, held_out, job(window, first, f"loghub:{folder.name}")))
    for n, held_out in ((config.synthetic_train, False), (config.synthetic_eval, True)):
        for _ in range(n):
            style = rng.choice(EVAL_STYLES if held_out else TRAIN_STYLES)
            incident = rng.choice(INCIDENTS) if rng.random() < INCIDENT_SHARE else None
            window = synthetic_window(rng, style, rng.randint(config.min_lines, config.max_lines), incident)
            first = rng.randint(1, 20_000)
            kind = incident.kind if incident else None
            jobs.append((style, held_out, job(window, first, f"synthetic:{style}", kind)))
    made_up = random.Random(config.seed + 1)  # its own stream: the examples above do not depend on it
    signatures = default_kb().signatures
    for _ in range(config.made_up_train):
        style = made_up.choice(TRAIN_STYLES)
        signature = made_up.choice(signatures) if made_up.random() < 0.5 else None
        window = random_window(made_up, style, made_up.randint(config.min_lines, config.max_lines), signature)
        first = made_up.randint(1, 20_000)
        kind = signature.id if signature else None
        jobs.append((style, False, job(window, first, f"made-up:{style}", kind, made_up)))
    train: list[Example] = []
    evaluation: list[Example] = []
    for done, (_, held_out, make) in enumerate(jobs, 1):
        example = make()
        if example is not None:  # only held-out examples keep their window: scoring rebuilds the digest from it
            (evaluation if held_out else train).append(example if held_out else replace(example, window=None))
        if on_progress is not None:
            on_progress(done, len(jobs))
    rng.shuffle(train)
    return train, evaluation


def write_examples(path: Path, examples: list[Example]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(e.to_json() + "\n" for e in examples), encoding="utf-8")


def read_examples(path: Path) -> list[Example]:
    """Examples from JSON lines: ours, or LoGPT-format `{"log", "query", "response"}` objects."""
    examples = []
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"cannot read {path}: {e}", "pass a UTF-8 JSON-lines file") from e
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            example = Example(
                log=str(data["log"]),
                query=str(data["query"]),
                response=str(data["response"]),
                facts=data.get("facts"),
                first_line=int(data.get("first_line", 1)),
                source=str(data.get("source", "user")),
                incident=data.get("incident"),
                window=data.get("window"),
            )
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as e:
            raise InputError(
                f"{path}:{number}: not a training example ({e})", 'each line needs "log", "query" and "response"'
            ) from e
        if example.query not in QUERIES:
            raise InputError(f"{path}:{number}: unknown query {example.query!r}", f"use one of {', '.join(QUERIES)}")
        examples.append(example)
    return examples
