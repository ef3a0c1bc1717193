"""Known templates matched before mining: raw lines get the keys a detector was trained on."""

from __future__ import annotations

import pytest

from engine.logs.templates.table import MINED, KeyedMiner

TABLE = {
    "5": "Receiving block <*> src: /<*> dest: /<*>",
    "6": "Received block <*> src: /<*> dest: /<*> of size <*>",
    "9": "Received block <*> of size <*> from /<*>",
    "4": "<*>:Got exception while serving <*> to /<*>:",
}


def test_messages_get_the_key_of_the_template_they_match() -> None:
    miner = KeyedMiner(TABLE)
    assert miner.add("Receiving block blk_-1 src: /10.0.0.1:5001 dest: /10.0.0.2:50010") == "5"
    assert miner.add("Received block blk_7 src: /10.0.0.1:5001 dest: /10.0.0.2:50010 of size 91178") == "6"
    assert miner.add("Received block blk_7 of size 67108864 from /10.0.0.1") == "9"
    assert miner.add("10.0.0.9:50010:Got exception while serving blk_3 to /10.0.0.4:") == "4"
    assert miner.add("Received  block blk_7 of size 1\tfrom /10.0.0.1") == "9"  # any whitespace between words


def test_unmatched_messages_are_mined_under_keys_no_table_has() -> None:
    miner = KeyedMiner(TABLE)
    first = miner.add("BLOCK* ask 10.0.0.1:50010 to delete blk_1")
    assert first.startswith(MINED) and miner.add("BLOCK* ask 10.0.0.7:50010 to delete blk_9") == first
    texts = {t.key: t.text for t in miner.templates()}
    assert texts["5"] == TABLE["5"] and first in texts


def test_a_copy_continues_independently_and_an_empty_table_is_refused() -> None:
    miner = KeyedMiner(TABLE)
    key = miner.add("something else entirely 1")
    copy = miner.copy()
    assert copy.add("something else entirely 2") == key and copy.add("new words here") != key
    assert len(miner.templates()) == len(TABLE) + 1  # the copy's new template stayed in the copy
    with pytest.raises(ValueError, match="at least one"):
        KeyedMiner({})


@pytest.mark.parametrize(
    ("template", "message", "expected"),
    [
        ("a <*> b <*> c", "a x b y c", True),
        ("a <*> b <*> c", "a b c", False),  # each <*> stands for at least one character
        ("a <*> b <*> c", "a x b y b z c", True),  # leftmost placement still finds the match
        ("<*> end", "x end end", True),
        ("start <*>", "start", False),
        ("no wildcard", "no wildcard", True),
    ],
)
def test_glob_matching_agrees_with_the_wildcard_meaning(template: str, message: str, expected: bool) -> None:
    from engine.logs.templates.table import _parts, glob_match

    assert glob_match(_parts(template), message) is expected
