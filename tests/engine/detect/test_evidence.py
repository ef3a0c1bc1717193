"""Evidence per line and the rule that weighs it: what flags a line, what does not, and incidents."""

from __future__ import annotations

import pytest

from engine.detect.evidence import EvidenceRule, FileTally, Surprise, incidents, severity_of, weigh
from engine.logs.formats.record import Record


def rec(line: int, message: str, *, level: str | None = None, ts: str | None = None) -> Record:
    return Record(line, line, message, ts, level)


def tally_of(keys: list[str], minutes: list[int] | None = None) -> FileTally:
    tally = FileTally()
    stamps = [f"2026-11-21T{10 + m // 60:02d}:{m % 60:02d}:00" for m in minutes] if minutes else [None] * len(keys)
    tally.add([(rec(i, "m", ts=t), k) for i, (k, t) in enumerate(zip(keys, stamps, strict=True), 1)])
    return tally


SURPRISE = Surprise(5, "s", "a", "rank 9 of the expected templates, p=0.001", False, ("b",))


def kinds(evidence: list) -> set[str]:  # noqa: ANN001
    return {e.kind for e in evidence}


def test_one_weak_signal_does_not_flag_but_two_do() -> None:
    rule = EvidenceRule()
    common = tally_of(["a"] * 500 + ["rare"] * 2)
    alone = weigh(5, "a", SURPRISE, None, common, rule)  # out of sequence, a common template
    assert kinds(alone) == {"sequence"} and sum(e.weight for e in alone) < rule.threshold
    rare = weigh(501, "rare", None, None, common, rule)  # rare, nothing else
    assert kinds(rare) == {"rare"} and sum(e.weight for e in rare) < rule.threshold
    error = weigh(5, "a", None, ("ERROR", "words"), common, rule)  # a routine error template
    assert sum(e.weight for e in error) < rule.threshold
    both = weigh(501, "rare", None, ("ERROR", "words"), common, rule)  # a rare error line
    assert kinds(both) == {"severity", "rare"} and sum(e.weight for e in both) >= rule.threshold


def test_unseen_templates_and_critical_levels_flag_on_their_own() -> None:
    rule, tally = EvidenceRule(), tally_of(["a"] * 500)
    unseen = Surprise(5, "s", "a", "unseen template", True, ())
    assert sum(e.weight for e in weigh(5, "a", unseen, None, tally, rule)) >= rule.threshold
    assert sum(e.weight for e in weigh(5, "a", None, ("CRITICAL", "words"), tally, rule)) < rule.threshold


def test_an_error_level_flags_alone_unless_routine_or_overstated() -> None:
    # "e" twice in each of the first three blocks of a 1,000-line file that is mostly "a": not routine, not rare,
    # no burst.
    keys = ["a"] * 1000
    for at in (0, 1, 100, 101, 200, 201):
        keys[at] = "e"
    rule, tally = EvidenceRule(), tally_of(keys)
    for level in ("ERROR", "CRITICAL"):
        assert sum(e.weight for e in weigh(3, "e", None, (level, "level field"), tally, rule)) >= rule.threshold
    # "a" runs through the whole file: an ERROR there is this file's routine, said so, and needs more to flag.
    routine = weigh(300, "a", None, ("ERROR", "level field"), tally, rule)
    assert sum(e.weight for e in routine) < rule.threshold and "routine: in 10 of 10" in routine[0].detail
    # In a file whose level field says ERROR on many lines, it flags alone only where the words agree.
    said = weigh(3, "e", None, ("CRITICAL", "level field"), tally, rule, overstated=True)
    assert sum(e.weight for e in said) < rule.threshold and "many lines of this file" in said[0].detail
    meant = weigh(3, "e", None, ("CRITICAL", "level field and words"), tally, rule, overstated=True)
    assert sum(e.weight for e in meant) >= rule.threshold
    # Without a level field, critical words (`BUG:`, an upper-case ALERT) flag alone where they are not routine;
    # error words (`failed`) need something else to agree.
    assert sum(e.weight for e in weigh(3, "e", None, ("CRITICAL", "words"), tally, rule)) >= rule.threshold
    assert sum(e.weight for e in weigh(3, "e", None, ("ERROR", "words"), tally, rule)) < rule.threshold
    assert sum(e.weight for e in weigh(300, "a", None, ("CRITICAL", "words"), tally, rule)) < rule.threshold


def test_severity_of_says_when_the_words_agree_with_the_level() -> None:
    assert severity_of(rec(1, "data storage interrupt", level="CRITICAL")) == ("CRITICAL", "level field")
    assert severity_of(rec(1, "Lustre mount FAILED", level="CRITICAL")) == ("CRITICAL", "level field and words")


def test_a_burst_is_judged_against_the_templates_own_rate() -> None:
    # "b" once an hour for 8 hours, then 12 times in one minute: a burst. "c" always comes 6 to a minute: none.
    keys, minutes = [], []
    for hour in range(8):
        keys += ["b"] + ["c"] * 6 + ["x"] * 20
        minutes += [hour * 60] + [hour * 60 + 1] * 6 + [hour * 60 + 2 + i for i in range(20)]
    keys += ["b"] * 12
    minutes += [480] * 12
    tally = tally_of(keys, minutes)
    burst = weigh(len(keys), "b", None, None, tally, EvidenceRule())
    assert "burst" in kinds(burst) and "12 in one minute (usually 1)" in next(
        e.detail for e in burst if e.kind == "burst"
    )
    assert "burst" not in kinds(weigh(2, "c", None, None, tally, EvidenceRule()))


def test_lines_without_time_are_counted_in_blocks_of_lines() -> None:
    tally = tally_of(["a"] * 1000 + ["b"] * 8 + ["a"] * 1000)
    assert tally.timed is False and tally.unit() == "100 lines"
    assert "burst" in kinds(weigh(1005, "b", None, None, tally, EvidenceRule()))


def test_a_burst_of_multi_line_records_is_counted_in_records() -> None:
    # "b" is a 5-line stack trace: once an hour for 8 hours, then 12 times in one minute. Counts are records,
    # so the burst reads 12 against a usual 1, not 60 lines against records (usually -5).
    tally, line = FileTally(), 1
    hours = [(h * 60, 1) for h in range(8)] + [(480, 12)]
    for minute, times in hours:
        stamp = f"2026-11-21T{10 + minute // 60:02d}:{minute % 60:02d}:00"
        batch = [(rec(line + i, "x", ts=stamp), "x") for i in range(20)]
        line += 20
        for _ in range(times):
            batch.append((Record(line, line + 4, "boom\n\tat a\n\tat b\n\tat c\n\tat d", stamp), "b"))
            line += 5
        tally.add(batch)
    assert tally.lines == line - 1 and tally.counts["b"] == 20
    first = line - 5  # the last trace's first line; its continuation lines are counted with it, once
    assert tally.in_bucket(first, "b") == (12, 1.0) and tally.in_bucket(first + 3, "b") == (12, 1.0)
    burst = next(e for e in weigh(first, "b", None, None, tally, EvidenceRule()) if e.kind == "burst")
    assert burst.detail == "12 in one minute (usually 1)"
    quiet = weigh(21, "b", None, None, tally, EvidenceRule())  # one trace in its minute: no burst
    assert "burst" not in kinds(quiet)


def test_the_topk_rule_uses_the_sequence_model_alone() -> None:
    rule, tally = EvidenceRule("topk"), tally_of(["a"] * 500 + ["rare"])
    assert kinds(weigh(5, "a", SURPRISE, ("ERROR", "words"), tally, rule)) == {"sequence"}
    with pytest.raises(ValueError, match="rule"):
        EvidenceRule("vibes")


@pytest.mark.parametrize(
    ("message", "level", "expected"),
    [
        ("Setting up libgpg-error-dev (1.46-1) ...", None, None),  # a package name, not an error
        ("liberror-perl is already the newest version", None, None),
        ("request timeout=30s", None, None),  # a setting
        ("Out of memory: Killed process 2211 (app)", None, ("ERROR", "words")),
        ("nginx.service: Main process exited, code=exited, status=2/FAILURE", None, ("ERROR", "words")),
        ("nf_conntrack: table full, dropping packet", None, ("ERROR", "words")),
        ("kernel panic - not syncing", None, ("CRITICAL", "words")),
        ("writeBlock blk_1 received exception java.io.IOException", "INFO", ("ERROR", "words in a INFO line")),
        ("all good", "ERROR", ("ERROR", "level field")),
        ("deprecated option", "INFO", None),  # words below ERROR do not overrule a level field
    ],
)
def test_severity_comes_from_the_level_field_or_from_words(message: str, level: str | None, expected) -> None:  # noqa: ANN001
    assert severity_of(rec(1, message, level=level)) == expected


def test_flags_close_together_make_one_incident() -> None:
    from typing import NamedTuple

    class F(NamedTuple):
        line: int
        template: str
        evidence: tuple = ()

    found = incidents([F(10, "t1"), F(30, "t2"), F(55, "t1"), F(500, "t3")], gap=50)
    assert [(i.first, i.last, i.lines) for i in found] == [(10, 55, 3), (500, 500, 1)]
    assert found[0].templates == ("t1", "t2")


def test_unusual_text_is_one_more_kind_of_evidence_that_needs_another_to_flag() -> None:
    from engine.detect.unusual import Unusual

    rule, tally = EvidenceRule(), tally_of(["a"] * 500 + ["odd"] * 2)
    mild = Unusual("odd", 1.0, 1.5, ("x",), "unusual text (z=1.5: 'x')")
    strong = Unusual("odd", 1.0, 3.2, ("data storage interrupt",), "unusual text (z=3.2: 'data storage interrupt')")
    assert "unusual" not in kinds(weigh(501, "odd", None, None, tally, rule, unusual=mild))
    alone = weigh(501, "a", None, None, tally_of(["a"] * 500), rule, unusual=strong)
    assert kinds(alone) == {"unusual"} and sum(e.weight for e in alone) < rule.threshold
    both = weigh(501, "odd", None, None, tally, rule, unusual=strong)  # unusual and rare
    assert kinds(both) == {"unusual", "rare"} and sum(e.weight for e in both) >= rule.threshold
    assert "z=3.2: 'data storage interrupt'" in next(e.detail for e in both if e.kind == "unusual")


def test_rarity_weighs_little_where_most_templates_are_rare_and_the_pretrained_model_weighs_less() -> None:
    # A kernel report or a short paste: nearly every template is a one-off, so rare and out of sequence (by a model
    # that never saw this system) is not enough, while error words and rarity still flag.
    rule, paste = EvidenceRule(), tally_of([f"t{i}" for i in range(40)])
    pretrained = Surprise(5, "s", "t4", "rank 9 of the file's templates, p=0.0001", False, ("t3",), pretrained=True)
    weak = weigh(5, "t4", pretrained, None, paste, rule, rare_is_common=True)
    assert kinds(weak) == {"sequence", "rare"} and sum(e.weight for e in weak) < rule.threshold
    assert "as are most of this file's" in weak[-1].detail and "(pretrained model)" in weak[0].detail
    words = weigh(5, "t4", None, ("ERROR", "words"), paste, rule, rare_is_common=True)
    assert sum(e.weight for e in words) >= rule.threshold
    both = weigh(5, "t4", pretrained, ("ERROR", "words"), paste, rule, rare_is_common=True)
    assert sum(e.weight for e in both) >= rule.threshold
    # The same surprise from a detector trained on this file, in a file where rarity means something: flagged.
    own = Surprise(5, "s", "t4", "rank 9 of the expected templates, p=0.0001", False, ("t3",))
    assert sum(e.weight for e in weigh(5, "t4", own, None, paste, rule)) >= rule.threshold


def test_one_flag_rule_for_the_pipeline_and_the_stream() -> None:
    from engine.detect.evidence import Evidence

    def ev(*weights: float) -> list[Evidence]:
        return [Evidence("severity", w, "level ERROR") for w in weights]

    combined, topk = EvidenceRule(), EvidenceRule(kind="topk")
    assert not combined.flags([]) and not topk.flags([])  # nothing found: never a flag
    assert combined.flags(ev(2.0)) and combined.flags(ev(1.0, 1.0)) and not combined.flags(ev(1.5))
    assert topk.flags(ev(0.5))  # with topk any evidence flags
    assert not EvidenceRule(threshold=0.0).flags([])


def test_a_lines_run_and_its_bucket_counts_equal_a_per_line_reference_in_any_order() -> None:
    """FileTally keeps where each run starts (not a run per line) and one run's counts at a time: a line's run and
    `in_bucket` equal a per-line run list built as the records come, asked in order, backwards and at random."""
    import random  # noqa: PLC0415

    rng, tally, runs, keys_at = random.Random(4), FileTally(), [], {}
    line, minute, previous = 1, 0, None
    for _ in range(40):  # blocks of records: minutes that jump back, lines a flood skipped, multi-line records
        block = []
        for _ in range(rng.randint(1, 30)):
            line += rng.choice([0, 0, 0, 0, 3])  # a gap: skipped lines join the next record's run
            minute = max(0, minute + rng.choice([0, 0, 0, 1, 2, -5]))
            span, key = rng.choice([1, 1, 1, 3]), rng.choice("abc")
            block.append((Record(line, line + span - 1, "m", f"2026-11-21T10:{minute:02d}:00", None), key))
            bucket = minute
            run = (runs[-1] if runs else 0) + (bucket != previous)
            previous = bucket
            runs += [run] * (line + span - 1 - len(runs))
            keys_at[line] = key
            line += span
        tally.add(block)
    lines = list(range(1, len(runs) + 1))
    for order in (lines, lines[::-1], rng.sample(lines, len(lines))):
        for n in order:
            assert tally.run_of(n) == runs[n - 1]
            key = keys_at.get(n, "a")
            here = sum(1 for m, k in keys_at.items() if k == key and runs[m - 1] == runs[n - 1])
            assert tally.in_bucket(n, key)[0] == here
    assert len(tally.run_starts) == runs[-1] == tally.occupied
