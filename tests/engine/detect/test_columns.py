"""Chunked columns read back as the lists they stand for (the slow reference), across chunk edges."""

from __future__ import annotations

import random
from bisect import bisect_left, bisect_right

import pytest

from engine.detect import columns
from engine.detect.columns import IntColumn, KeyColumn


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(columns, "CHUNK", 7)  # many chunk edges in a few items


def test_an_int_column_reads_as_the_list_it_was_given() -> None:
    rng = random.Random(0)
    column, reference = IntColumn(), []
    for _ in range(40):  # appends and extends of every size, edges anywhere
        items = [rng.randrange(10**9) for _ in range(rng.randint(0, 20))]
        column.extend(items)
        reference.extend(items)
        column.append(len(reference))
        reference.append(len(reference))
    assert len(column) == len(reference) and list(column) == reference and column == reference
    for _ in range(300):
        a, b = rng.randint(-len(reference), len(reference)), rng.randint(-len(reference), len(reference) + 5)
        assert column[a:b] == reference[a:b] and column[a::3] == reference[a::3]
        i = rng.randrange(-len(reference), len(reference))
        assert column[i] == reference[i]
    with pytest.raises(IndexError):
        column[len(reference)]  # noqa: B018


def test_bisect_on_a_column_of_ascending_lines_finds_what_it_finds_in_a_list() -> None:
    lines = sorted(random.Random(1).sample(range(1, 1000), 100))
    column = IntColumn("I", lines)
    for x in range(0, 1001, 7):
        assert bisect_right(column, x) == bisect_right(lines, x) and bisect_left(column, x) == bisect_left(lines, x)


def test_a_key_column_holds_each_distinct_key_once_and_reads_as_its_keys() -> None:
    rng = random.Random(2)
    keys = [rng.choice(["a", "b", "c", "long template key"]) for _ in range(100)]
    column = KeyColumn(keys[:30])
    column.extend(keys[30:])
    assert list(column) == keys and column == keys and column[-1] == keys[-1] and column[13:61] == keys[13:61]
    assert sorted(column.names) == sorted(set(keys)) and column != keys[:-1]
    shared = KeyColumn(["b", "new"], table=column.table)  # a book's sessions share one table
    assert list(shared) == ["b", "new"] and column.names[-1] == "new" and list(column) == keys
