"""A tab's state without an app: the one rule for which rows show, and the template hand-off."""

from __future__ import annotations

import re
import threading

import pytest

from engine.detect.pipeline import Flag
from engine.logs.linefilter import LineFilter
from logpt_tui.explorer.mining import WorkerMining, record_lines
from logpt_tui.explorer.state import TabState, TemplateState


def mined(keys: list[str]) -> WorkerMining:
    """A Templates worker's mining that holds `keys` (one a line)."""
    own = WorkerMining()
    own.keys.extend(keys)
    return own


def test_rows_flagged_only_beats_a_picked_template_beats_the_filter() -> None:
    state = TabState()
    assert state.rows() is None
    state.filter.rule, state.filter.rows = LineFilter(include=re.compile("x")), [1, 2]
    assert state.rows() == [1, 2]
    state.templates.source = mined(["7", "8", "7"])
    state.templates.pick(7)  # the Templates screen's row key, as an int
    assert state.rows() == [0, 2]
    state.flags.found.reset([Flag(2, "s", "t", "unseen template", ())], 3)
    state.flags.only = True
    assert state.rows() == [1]
    state.flags.only = False
    state.templates.pick(None)
    assert state.rows() == [1, 2]


def lines_of(key: str, lines: list[str]) -> list[int]:
    return [i for i, text in enumerate(lines) if text.startswith(key)]


def test_the_worker_mines_records_as_the_book_does_and_a_reset_stops_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from engine.logs.formats import detect_format, parse_lines
    from engine.logs.templates import TemplateMiner
    from logpt_tui.explorer import mining

    lines = [f"2024-05-01 10:00:{i % 60:02d} ERROR job {i} failed" if i % 5 == 0 else
             f"2024-05-01 10:00:{i % 60:02d} INFO user u{i} logged in" for i in range(300)]  # fmt: skip
    lines[7:7] = ["Traceback (most recent call last):", '  File "x.py", line 3, in run']  # lines 8-9 join line 7's
    fmt = detect_format(lines).format
    reference, miner = [], TemplateMiner()  # the slow reference: the whole file parsed at once, as the book does
    for r in parse_lines(lines, fmt):
        reference += [str(miner.add(r.message))] * (r.end_line - r.line + 1)
    monkeypatch.setattr(mining, "BATCH", 4)  # batches that cut the traceback's record
    templates = TemplateState()
    own = templates.open(None)
    assert own is not None and templates.open(None) is own  # opened again: the same mining
    while own.mine(lambda a, b: lines[a:b], len(lines), fmt):
        pass
    assert own.keys == reference and own.keys[6] == own.keys[7] == own.keys[8]
    _, counts, texts = templates.snapshot()
    assert sum(counts.values()) == len(lines) - 2  # records, not lines
    templates.pick(own.keys[0])
    assert templates.shown == [i for i, key in enumerate(own.keys) if key == own.keys[0]]
    assert "failed" in texts[own.keys[0]] and templates.shown[:3] == [0, 5, 12]
    templates.reset()  # the file was replaced: the worker mines no more
    assert own.handed_over and templates.source is None and templates.mined() == 0
    assert not own.mine(lambda a, b: lines[a:b], len(lines) + 5, fmt)


def test_mining_and_extend_picked_from_two_threads_keep_every_line() -> None:
    from engine.logs.formats import detect_format

    lines = [f"2024-05-01 10:00:00 INFO {'disk full' if i % 3 else f'user u{i} logged in'}" for i in range(600)]
    fmt = detect_format(lines).format
    templates = TemplateState()
    own = templates.open(None)
    assert own is not None
    total = 0

    def worker() -> None:
        nonlocal total
        for total in range(3, 601, 3):  # the file grows 3 lines at a time
            own.mine(lambda a, b: lines[a:b], total, fmt)

    own.mine(lambda a, b: lines[a:b], 3, fmt)
    templates.pick(own.keys[1])
    thread = threading.Thread(target=worker)
    thread.start()
    while thread.is_alive():
        templates.extend_picked()
    thread.join()
    templates.extend_picked()
    assert templates.shown == [i for i, k in enumerate(own.keys) if k == own.keys[1]] and len(own.keys) == 600


def test_record_lines_give_a_records_continuation_lines_its_key() -> None:
    from array import array

    from engine.detect.evidence import CONTINUED, SKIPPED

    key_ids = array("i", [0, 1, CONTINUED, CONTINUED, 0, SKIPPED, 1, CONTINUED, 0])
    resolved = [0, 1, 1, 1, 0, SKIPPED, 1, 1, 0]  # the slow reference: each line's record's id
    for start in range(10):
        for stop in range(start, 11):
            for key_id in (0, 1):
                expected = [i for i in range(start, min(stop, 9)) if resolved[i] == key_id]
                assert record_lines(key_ids, key_id, start, stop) == expected, (start, stop, key_id)


def test_progress_messages_coalesce_but_errors_stay() -> None:
    from logpt_tui.explorer.messages import FlagStatus, IndexProgress, SearchResult, TemplatesMined

    assert IndexProgress(2, 9).can_replace(IndexProgress(1, 9))
    assert not IndexProgress(2, 9).can_replace(TemplatesMined(1))
    assert FlagStatus("working", "self-training 2/8").can_replace(FlagStatus("working", "self-training 1/8"))
    assert not FlagStatus("done").can_replace(FlagStatus("off", "broken", failed=True))
    assert not SearchResult("x", 3).can_replace(SearchResult("x", 2))  # events, not states: each one counts


def test_a_line_s_template_is_its_record_s_in_the_book_and_in_the_worker() -> None:
    from array import array
    from types import SimpleNamespace

    from engine.detect.evidence import CONTINUED, SKIPPED
    from logpt_tui.explorer.mining import BookMining, Published

    key_ids = array("i", [0, 1, CONTINUED, CONTINUED, 0, SKIPPED, 1, CONTINUED, 0])
    texts = {"a": "job <*> failed", "b": "Traceback"}
    expected = ["job <*> failed", "Traceback", "Traceback", "Traceback", "job <*> failed", None, "Traceback",
                "Traceback", "job <*> failed", None]  # fmt: skip - the last: past what is mined
    book = SimpleNamespace(tally=SimpleNamespace(key_ids=key_ids, ids={"a": 0, "b": 1}))
    engine = SimpleNamespace(published=Published(1, book, len(key_ids), {"a": 3, "b": 2}, texts))  # type: ignore[arg-type]
    reading = BookMining(engine)
    assert [reading.template_of(i) for i in range(10)] == expected
    book.tally.ids["c"] = 2  # a template mined since: its id is past the names read so far
    key_ids.append(2)
    engine.published = Published(1, book, len(key_ids), {}, texts | {"c": "disk full"})  # type: ignore[arg-type]
    assert reading.template_of(9) == "disk full"
    worker = mined(["a", "b", "b"])
    worker.texts.update(texts)
    assert [worker.template_of(i) for i in range(4)] == expected[:3] + [None]
