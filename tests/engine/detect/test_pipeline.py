"""The one detection pipeline: block-by-block judging equals whole-file judging, rescoring equals scoring."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from engine.detect import Detector, KeyVocab, TopK
from engine.detect.evidence import EvidenceRule
from engine.detect.history import history_sessions, mine
from engine.detect.pipeline import DetectConfig, DetectionPipeline
from engine.detect.scoring import rescore_from, score_sequences, suffix_start
from engine.errors import InputError
from engine.lm.config import GPTConfig
from engine.lm.model import GPT
from engine.logs.formats import detect_format
from engine.logs.sessions import SessionSpec
from engine.logs.templates import TemplateMiner

PROGRAMS = {
    "sshd[{p}]": [
        "Accepted publickey for deploy from 10.0.0.{n} port {p} ssh2",
        "pam_unix(sshd:session): session opened",
    ],
    "CRON[{p}]": ["(root) CMD (run-parts /etc/cron.hourly)"],
    "kernel": ["eth0: link up", "usb 1-{n}: new high-speed USB device"],
    "dhclient[{p}]": ["DHCPREQUEST on eth0 to 10.0.0.1 port 67", "DHCPACK from 10.0.0.1", "bound to 10.0.0.{n}"],
}


def syslog(n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    lines = []
    for i in range(n):
        program = rng.choice(list(PROGRAMS))
        message = rng.choice(PROGRAMS[program]).format(n=rng.randint(2, 250), p=rng.randint(1000, 9999))
        lines.append(
            f"Nov 21 10:{i // 60 % 60:02d}:{i % 60:02d} web-01 {program.format(p=rng.randint(100, 999))}: {message}"
        )
    lines[n * 3 // 4] = "Nov 21 10:30:00 web-01 kernel: EXT4-fs (sda2): Remounting filesystem read-only"
    lines[n // 2] = "Nov 21 10:20:00 web-01 kernel: EXT4-fs error (device sda2): ext4_find_entry: reading lblock 0"
    return lines


def random_detector(keys: list[str], block: int, complete: bool, seed: int = 0) -> Detector:
    vocab = KeyVocab(keys)
    model = GPT(GPTConfig(block_size=block, vocab_size=len(vocab), n_layer=1, n_head=2, n_embd=16))
    model.init_weights(seed)
    return Detector(model.eval(), vocab, TopK("count", 2.0), complete=complete)


def test_rescoring_a_grown_sequence_from_rescore_from_equals_scoring_it_whole() -> None:
    torch.manual_seed(0)
    model = GPT(GPTConfig(block_size=8, vocab_size=12, n_layer=1, n_head=2, n_embd=16)).eval()
    rng = random.Random(0)
    for old, new in [(3, 5), (7, 9), (8, 30), (20, 21), (29, 47)]:
        seq = [1, *(rng.randrange(4, 12) for _ in range(new))]
        full = score_sequences(model, [seq])[0]
        start = rescore_from(old, 8)
        part = score_sequences(model, [seq], first=[start])[0]
        for name in ("ranks", "probs", "mass_before", "expected"):
            np.testing.assert_array_equal(getattr(part, name)[start:], getattr(full, name)[start:], err_msg=name)


@pytest.mark.parametrize("block", [8, 9])
def test_a_sequence_cut_at_suffix_start_scores_as_the_whole_from_first_on(block: int) -> None:
    torch.manual_seed(1)
    model = GPT(GPTConfig(block_size=block, vocab_size=12, n_layer=1, n_head=2, n_embd=16)).eval()
    rng = random.Random(3)
    keys = [rng.randrange(4, 12) for _ in range(70)]
    for length in (5, 9, 17, 40, 70):
        full = score_sequences(model, [[1, *keys[:length], 2]])[0]  # BOS, keys, EOS: positions 0..length
        for first in range(length + 1):
            cut = suffix_start(first, block)
            assert cut % (block // 2) == 0 and cut <= max(0, first - block)
            part = score_sequences(model, [[1, *keys[cut:length], 2]], first=[first - cut])[0]
            for name in ("ranks", "expected"):
                np.testing.assert_array_equal(getattr(part, name)[first - cut :], getattr(full, name)[first:])
            for name in ("probs", "mass_before"):  # fewer rows in a batch: the matmul may round differently
                np.testing.assert_allclose(getattr(part, name)[first - cut :], getattr(full, name)[first:], rtol=1e-5)
    assert suffix_start(1_000_000, 128) > 999_000  # a long session's last part reads only its end


@pytest.mark.parametrize(
    "spec", [SessionSpec("component"), SessionSpec("window", size=7), SessionSpec("id", r"port (\d)")]
)
@pytest.mark.parametrize("complete", [True, False])
@pytest.mark.parametrize("rule", ["topk", "combined"])
def test_a_file_judged_in_blocks_gets_the_flags_of_the_whole_file(spec: SessionSpec, complete: bool, rule: str) -> None:
    lines = syslog(400)
    fmt = detect_format(lines).format
    miner = TemplateMiner()
    keys = sorted({k for _, k in mine(lines[:300], fmt, miner)})  # the rest holds templates the detector never saw
    detector = random_detector(keys, block=8, complete=complete)
    detector.miner_state = miner.to_state()
    config = DetectConfig(session=spec, rule=EvidenceRule(rule))
    whole = DetectionPipeline.prepare(lines, fmt, detector=detector, config=config).judge(lines)
    pipeline = DetectionPipeline.prepare(lines, fmt, detector=detector, config=config)
    book = pipeline.book()
    rng = random.Random(1)
    start = 0
    while start < len(lines):  # uneven blocks, scored now and then, some sessions first
        stop = min(len(lines), start + rng.randint(1, 60))
        book.add(lines[start:stop], start + 1)
        if rng.random() < 0.5:
            book.score(book.pending()[: rng.randint(0, 5)])
        start = stop
    book.finish()
    book.score()
    assert whole.flags() and book.flags() == whole.flags()


def syslog_and_whole(spec: SessionSpec, *, complete: bool) -> tuple:
    """400 syslog lines, their format, a random detector over the first 300's keys, the config, and the flags of
    the whole file judged at once (the slow reference)."""
    lines = syslog(400)
    fmt = detect_format(lines).format
    miner = TemplateMiner()
    keys = sorted({k for _, k in mine(lines[:300], fmt, miner)})
    detector = random_detector(keys, block=8, complete=complete)
    detector.miner_state = miner.to_state()
    config = DetectConfig(session=spec)
    whole = DetectionPipeline.prepare(lines, fmt, detector=detector, config=config).judge(lines, keep_verdicts=True)
    return lines, fmt, detector, config, whole


@pytest.mark.parametrize("spec", [SessionSpec("component"), SessionSpec("window", size=7)])
@pytest.mark.parametrize("complete", [True, False])
@pytest.mark.parametrize("keep_verdicts", [True, False])
def test_sessions_scored_in_parts_until_a_line_get_the_flags_of_the_whole_file(
    spec: SessionSpec, complete: bool, keep_verdicts: bool
) -> None:
    lines, fmt, detector, config, whole = syslog_and_whole(spec, complete=complete)
    book = DetectionPipeline.prepare(lines, fmt, detector=detector, config=config).book(keep_verdicts=keep_verdicts)
    rng = random.Random(2)
    for start in range(0, len(lines), 100):
        book.add(lines[start : start + 100], start + 1)
        until = start
        while until < start + 100:  # long sessions scored in parts, as the explorer does for a big file
            until += rng.randint(1, 40)
            book.score(until_line=until)
            said = [s.line for found in book.surprises_of.values() for s in found.values()]
            assert all(line <= until for line in said)  # no part's end (EOS) taken for the session's
    book.finish()
    while book.pending():
        book.score(until_line=len(lines) - 30)  # a part, then (nothing left before the line) the rest
        book.score()
    assert whole.flags() and book.flags() == whole.flags()
    if keep_verdicts:
        assert [v.positions for _, v in book.session_verdicts()] == [v.positions for _, v in whole.session_verdicts()]


@pytest.mark.parametrize("spec", [SessionSpec("component"), SessionSpec("window", size=7)])
@pytest.mark.parametrize("keep_verdicts", [True, False])
def test_a_book_scores_in_passes_of_pass_keys_and_gets_the_flags_of_one_pass(
    spec: SessionSpec, keep_verdicts: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines, fmt, detector, config, whole = syslog_and_whole(spec, complete=True)
    read: list[int] = []  # keys each model pass read
    judge, outliers = detector.judge, detector.outliers
    monkeypatch.setattr(detector, "judge", lambda parts, **kw: read.append(sum(map(len, parts))) or judge(parts, **kw))
    monkeypatch.setattr(
        detector, "outliers", lambda parts, **kw: read.append(sum(map(len, parts))) or outliers(parts, **kw)
    )
    monkeypatch.setattr("engine.detect.pipeline.PASS_KEYS", 20)
    book = DetectionPipeline.prepare(lines, fmt, detector=detector, config=config).book(keep_verdicts=keep_verdicts)
    for start in range(0, len(lines), 150):  # a long session grown, scored in passes of 20 keys (+ a block or two)
        book.add(lines[start : start + 150], start + 1)
        book.score()
    book.finish()
    book.score()
    assert len(read) > 20 and max(read) <= 20 + 2 * 8  # never the whole session at once
    assert whole.flags() and book.flags() == whole.flags()
    if keep_verdicts:
        assert [v.positions for _, v in book.session_verdicts()] == [v.positions for _, v in whole.session_verdicts()]


TRACES = [
    [
        "java.lang.IllegalStateException: pool exhausted",
        "\tat com.shop.Pool.take(Pool.java:{n})",
        "\tat com.shop.Orders.place(Orders.java:88)",
        "Caused by: java.io.IOException: connection reset",
        "\tat com.shop.Db.read(Db.java:{n})",
        "\t... {n} more",
    ],
    ["Traceback (most recent call last):", '  File "jobs.py", line {n}, in run', "    step()", "KeyError: 'sku-{n}'"],
]


def java_log(n: int, seed: int = 0) -> list[str]:
    """A log4j log with stack traces and Python tracebacks: multi-line records, some of them in a burst."""
    rng = random.Random(seed)
    lines = []
    for i in range(n):
        ts = f"2026-11-21 10:{i // 30 % 60:02d}:{i % 30 * 2:02d},{rng.randint(100, 999)}"
        thread, n_ = rng.choice(["main", "worker-1", "worker-2"]), rng.randint(2, 99)
        if i % 23 == 11 or 300 <= i < 306:  # a failure now and then, and a burst of them
            trace = TRACES[i % 2]
            lines.append(f"{ts} ERROR [{thread}] com.shop.Orders: order {n_} failed")
            lines += [t.format(n=rng.randint(2, 99)) for t in trace[: rng.randint(2, len(trace))]]
        else:
            what = rng.choice(["order {n} placed", "cart {n} updated", "stock for sku-{n} reserved"])
            lines.append(f"{ts} INFO [{thread}] com.shop.Orders: {what.format(n=n_)}")
    return lines


@pytest.mark.parametrize("spec", [SessionSpec("component"), SessionSpec("window", size=7)])
def test_multi_line_records_cut_by_any_block_size_get_the_flags_of_the_whole_file(spec: SessionSpec) -> None:
    lines = java_log(400)
    fmt = detect_format(lines).format
    assert fmt.name == "log4j" and len(lines) > 450  # traces: continuation lines that blocks cut anywhere
    miner = TemplateMiner()
    keys = sorted({k for _, k in mine(lines[:300], fmt, miner)})
    detector = random_detector(keys, block=8, complete=False)
    detector.miner_state = miner.to_state()
    config = DetectConfig(session=spec)
    whole = DetectionPipeline.prepare(lines, fmt, detector=detector, config=config).judge(lines).flags()
    assert whole and all(not line.startswith(("\t", " ", "Caused", "Traceback")) for line in
                         (lines[f.line - 1] for f in whole))  # fmt: skip
    for size in (1, 2, 3, 7, 13, 50, 97):
        book = DetectionPipeline.prepare(lines, fmt, detector=detector, config=config).book()
        for start in range(0, len(lines), size):
            book.add(lines[start : start + size], start + 1)
            if start % (size * 5) == 0:
                book.score()  # scored now and then, the held-back record not yet in
        book.finish()
        book.score()
        assert book.lines == len(lines)
        assert book.flags() == whole, f"blocks of {size} lines"


def test_a_held_back_record_ends_where_lines_were_skipped() -> None:
    lines = java_log(60)
    fmt = detect_format(lines).format
    book = DetectionPipeline.prepare(lines, fmt, detector=None, config=DetectConfig()).book()
    book.add(lines[:12], 1)
    cut = lines.index(next(x for x in lines[12:] if x.startswith("20"))) + 1  # a record's first line, 1-based
    book.add(lines[cut - 1 :], cut)  # a flood skipped lines 13..cut-1: the record held at line 12 ends there
    book.finish()
    taken = [line for s in book.sessions.values() for line in s.lines]
    assert book.lines == len(lines) and book.tally.lines == len(lines)
    assert max(x for x in taken if x < cut) <= 12 and cut in taken
    with pytest.raises(AssertionError):
        book.add(lines[:1], 5)  # lines must come in order


def test_history_sessions_fall_back_to_windows_and_refuse_too_little() -> None:
    lines = syslog(200)
    fmt = detect_format(lines).format
    spec, sessions = history_sessions(mine(lines, fmt, TemplateMiner()), fmt, None)
    assert spec.kind == "window" and sessions[0].id == "all lines"  # four components are too few to learn from
    assert len(sessions) == 1 and len(sessions[0].keys) == 200  # one stream, scored with context throughout
    with pytest.raises(InputError, match="too little history"):
        history_sessions(mine(lines[:30], fmt, TemplateMiner()), fmt, SessionSpec("component"))


def test_a_bundle_saves_its_typed_session_rule(tmp_path) -> None:  # noqa: ANN001
    detector = random_detector(["a", "b"], block=8, complete=False)
    detector.session = SessionSpec("id", r"req=(\w+)")
    detector.save(tmp_path / "d")
    again = Detector.load(tmp_path / "d")
    assert again.session == SessionSpec("id", r"req=(\w+)") and again.complete is False
    detector.session = SessionSpec("window", size=9)
    detector.save(tmp_path / "w")
    assert Detector.load(tmp_path / "w").session == SessionSpec("window", size=9)


class WordsLineModel:
    """A line model that finds `failed` error-like (the real one is measured in bench_unusual); counts calls."""

    def __init__(self) -> None:
        self.scored: list[str] = []

    def score(self, texts):  # noqa: ANN001, ANN201
        from engine.detect.unusual import TextScore

        self.scored += texts
        return [TextScore(t, (t,), (1.0,), 1.0, 1.0, 2.0 if "failed" in t else 0.01 * (len(t) % 7), (),
                          error_words=("failed",) if "failed" in t else ()) for t in texts]  # fmt: skip


def test_the_line_model_reads_every_template_once_and_its_evidence_reaches_the_flags() -> None:
    said = ["Billing - batch {} reconciled", "Http - GET /orders/{} 200", "Cache - refreshed {} entries",
            "Scheduler - job {} started", "Scheduler - job {} finished", "Auth - session {} opened for user deploy",
            "Auth - session {} closed", "Metrics - flushed {} points"]  # fmt: skip
    routine = [f"2026-03-02 10:{i // 60:02d}:{i % 60:02d},000 INFO [main] {said[i % 8].format(i)}" for i in range(120)]
    odd = "2026-03-02 10:01:00,500 INFO [main] Ledger - write to ledger-b failed: disk quota exceeded"
    lines = [*routine[:60], odd, *routine[60:]]
    fmt = detect_format(lines[:200]).format
    line_lm = WordsLineModel()
    pipeline = DetectionPipeline.prepare(lines, fmt, line_lm=line_lm)  # type: ignore[arg-type]
    whole = pipeline.judge(lines)
    assert len(whole.unusual()) == len(whole.tally.counts)
    assert len(line_lm.scored) == len(set(line_lm.scored)) == len(whole.tally.counts)  # each text once
    flag = next(f for f in whole.flags() if f.line == 61)
    assert {e.kind for e in flag.evidence} == {"unusual", "rare", "severity"} and "'failed'" in flag.reason
    # Fed in blocks, as the explorer does, the same flags; texts widened by later lines are scored again.
    book = DetectionPipeline.prepare(lines, fmt, line_lm=line_lm).book()  # type: ignore[arg-type]
    for start in range(0, len(lines), 17):
        book.add(lines[start : start + 17], start + 1)
        book.flags()
    book.finish()
    assert [(f.line, f.reason) for f in book.flags()] == [(f.line, f.reason) for f in whole.flags()]
    without = DetectionPipeline.prepare(lines, fmt).judge(lines).flags()
    assert all("unusual" not in {e.kind for e in f.evidence} for f in without)


def test_a_file_of_one_off_templates_says_rarity_means_little() -> None:
    words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet"]
    report = [f"kernel: {w} {v} counter" for w in words for v in ("active", "inactive", "dirty", "mapped")]
    regular = [f"app: request {i} served in {i % 7} ms" for i in range(200)] + report[:3]
    for lines, common in ((report, True), (regular, False)):
        pipeline = DetectionPipeline.prepare(lines, detect_format(lines).format)
        assert pipeline.judge(lines).rare_is_common() is common
