"""A tab's state without an app: the one rule for which rows show, and the template hand-off."""

from __future__ import annotations

import re
import threading

from engine.detect.pipeline import Flag
from engine.logs.linefilter import LineFilter
from logpt_tui.explorer.state import TabState, TemplateState


def test_rows_flagged_only_beats_a_picked_template_beats_the_filter() -> None:
    state = TabState()
    assert state.rows() is None
    state.filter.rule, state.filter.rows = LineFilter(include=re.compile("x")), [1, 2]
    assert state.rows() == [1, 2]
    state.templates.take(0, [7, 8, 7], {7: 2, 8: 1}, {7: "a", 8: "b"})
    state.templates.pick(7)
    assert state.rows() == [0, 2]
    state.flags.found.reset([Flag(2, "s", "t", "unseen template", ())], 3)
    state.flags.only = True
    assert state.rows() == [1]
    state.flags.only = False
    state.templates.pick(None)
    assert state.rows() == [1, 2]


def test_a_batch_mined_before_a_reset_is_dropped() -> None:
    templates = TemplateState()
    generation = templates.generation
    assert templates.take(generation, [1, 2], {1: 1, 2: 1}, {})
    templates.reset()  # the file was truncated while the worker mined
    assert not templates.take(generation, [3], {3: 1}, {}) and templates.mined() == 0
    assert templates.take(templates.generation, [5], {5: 1}, {}) and templates.keys == [5]


def test_take_and_extend_picked_from_two_threads_keep_every_line() -> None:
    templates = TemplateState()
    templates.pick(1)

    def worker() -> None:
        for _ in range(200):
            templates.take(0, [1, 0, 1], {}, {})

    thread = threading.Thread(target=worker)
    thread.start()
    while thread.is_alive():
        templates.extend_picked()
    thread.join()
    templates.extend_picked()
    assert templates.shown == [i for i, k in enumerate(templates.keys) if k == 1] and len(templates.keys) == 600


def test_progress_messages_coalesce_but_errors_stay() -> None:
    from logpt_tui.explorer.messages import FlagStatus, IndexProgress, SearchResult, TemplatesMined

    assert IndexProgress(2, 9).can_replace(IndexProgress(1, 9))
    assert not IndexProgress(2, 9).can_replace(TemplatesMined(1))
    assert FlagStatus("working", "self-training 2/8").can_replace(FlagStatus("working", "self-training 1/8"))
    assert not FlagStatus("done").can_replace(FlagStatus("off", "broken", failed=True))
    assert not SearchResult("x", 3).can_replace(SearchResult("x", 2))  # events, not states: each one counts
