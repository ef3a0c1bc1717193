"""The compact severe lines and the flags weighed once per (key, severity, run), against plain references:
a dict of line → (key, severity), and every candidate line weighed on its own."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from engine.detect.evidence import EvidenceRule, Surprise, weigh
from engine.detect.history import mine
from engine.detect.pipeline import DetectConfig, DetectionPipeline, Flag, SessionBook
from engine.detect.severe import SevereLines
from engine.logs.formats import detect_format
from engine.logs.templates import TemplateMiner
from tests.engine.detect.test_pipeline import WordsLineModel, random_detector, syslog

LOGHUB = Path("/work/shared/datasets/loghub")


def test_severe_lines_answer_as_a_dict_does() -> None:
    rng = random.Random(0)
    severities = [("WARN", "words"), ("ERROR", "level field"), ("CRITICAL", "level field and words")]
    severe, plain = SevereLines(), {}
    line = 0
    for _ in range(2_000):
        line += rng.randint(1, 5)
        entry = (f"k{rng.randrange(7)}", rng.choice(severities))
        severe.add(line, *entry)
        plain[line] = entry
    assert len(severe) == len(plain) and list(severe.items()) == list(plain.items())
    for probe in range(line + 3):
        assert severe.get(probe) == plain.get(probe)
    counts: dict[tuple[str, tuple[str, str]], int] = {}
    for entry in plain.values():
        counts[entry] = counts.get(entry, 0) + 1
    assert severe.counts() == counts
    others = sorted(rng.sample(range(1, line + 10), 500))
    assert list(severe.union(others)) == [(n, plain.get(n)) for n in sorted(plain.keys() | set(others))]
    with pytest.raises(AssertionError):
        severe.add(line, "k0", severities[0])  # lines come in order, each once


def plain_flags(book: SessionBook) -> list[Flag]:
    """`SessionBook.flags` as first written: every candidate line weighed on its own (the reference)."""
    surprises: dict[int, Surprise] = {}
    for found in book.surprises_of.values():
        for surprise in found.values():
            surprises.setdefault(surprise.line, surprise)
    rule, tally, templates = book.pipeline.rule, book.tally, book.pipeline.templates()
    severe = dict(book.severe.items())
    candidates = surprises.keys() | (severe.keys() if rule.kind == "combined" else set())
    unusual = book.unusual(templates) if rule.kind == "combined" else {}
    keys_of = tally.records_of([key for key, found in unusual.items() if found.z >= rule.unusual_z])
    overstated, rare_is_common, flags = book.levels_overstated(), book.rare_is_common(), []
    for line in sorted(candidates | keys_of.keys()):
        surprise = surprises.get(line)
        key, severity = severe.get(line, (surprise.key if surprise else keys_of.get(line, ""), None))
        evidence = weigh(line, key, surprise, severity, tally, rule, overstated=overstated,
                         unusual=unusual.get(key), rare_is_common=rare_is_common)  # fmt: skip
        score = sum(e.weight for e in evidence)
        if score >= rule.threshold or (rule.kind == "topk" and evidence):
            expected = tuple(templates.get(k, k) for k in surprise.expected[:3]) if surprise else ()
            flags.append(Flag(line, surprise.session if surprise else "", templates.get(key, key),
                              "; ".join(e.detail for e in evidence), expected, tuple(evidence), score, key))  # fmt: skip
    return flags


def loghub(system: str) -> list[str]:
    path = LOGHUB / system / f"{system}_2k.log"
    if not path.exists():
        pytest.skip(f"no Loghub sample at {path}")
    return path.read_text(encoding="utf-8", errors="replace").splitlines()


@pytest.mark.parametrize("source", ["OpenSSH", "Linux", "syslog"])
@pytest.mark.parametrize("rule", ["combined", "topk"])
def test_flags_weighed_once_per_run_equal_every_line_weighed_alone(source: str, rule: str) -> None:
    lines = syslog(1_500) if source == "syslog" else loghub(source) * 2  # twice: clocks that go back
    fmt = detect_format(lines[:2_000]).format
    miner = TemplateMiner()
    keys = sorted({k for _, k in mine(lines[:600], fmt, miner)})  # later lines: templates it never saw
    detector = random_detector(keys, block=8, complete=False)
    detector.miner_state = miner.to_state()
    config = DetectConfig(rule=EvidenceRule(rule))
    pipeline = DetectionPipeline.prepare(lines, fmt, detector=detector, config=config, line_lm=WordsLineModel())  # type: ignore[arg-type]
    book = pipeline.book()
    for start in range(0, len(lines), 1_500):
        book.add(lines[start : start + 1_500], start + 1)
        book.score()
        assert book.flags() == plain_flags(book)
    book.finish()
    book.score()
    flags = book.flags()
    assert flags == plain_flags(book)
    assert len({id(f.evidence) for f in flags}) == len({f.evidence for f in flags}) < len(flags)  # alike: shared
    assert len({id(f.reason) for f in flags}) == len({f.reason for f in flags})
    assert len(flags) >= 2 and (rule == "topk" or source == "syslog" or len(book.severe) > 100)
