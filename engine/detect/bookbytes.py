"""What a session book holds in memory, counted from its parts: the number a memory cap compares.

A big file's book is mostly per-line data in compact arrays, so it is counted from their lengths rather than
from the process's resident memory (which moves with whatever else the process holds): the same file reaches a
cap at the same line on every run. Per line: its key and line number in its session (4 + 4 bytes,
engine.detect.columns), its template id in the tally (4); per WARN-or-worse line its number and (key, severity)
code (4 + 4, engine.detect.severe); per run of one time bucket its first line (4). Per session, its objects and
first chunks (SESSION_BYTES); per position the sequence model put outside its top-K, its Surprise object, the
expected keys and its entry in the book (SURPRISE_BYTES; a file the detector does not know well can have many);
with kept verdicts (the CLI's --json), one Verdict a position (VERDICT_BYTES). The file's index, the miner, the
models and what scoring needs for a while are not the book's (logpt_tui/explorer/flagset.py has the whole budget).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.detect.pipeline import SessionBook

LINE_BYTES = 8  # a record's key code and line number in its session's columns (engine.detect.columns)
SESSION_BYTES = 600  # a session's objects and first chunks (tests/engine/detect/test_columns.py)
SURPRISE_BYTES = 400  # a Surprise (~270 B with its detail), its expected keys' tuple and its dict entry (tracemalloc)
VERDICT_BYTES = 200  # a kept Verdict and its list slot


def book_bytes(book: SessionBook) -> int:
    """The bytes `book` holds, by the sizes above and its arrays' item sizes (each record's key and line are in
    one session: the tally's lines bound them). Cheap enough to ask after every block."""
    tally = book.tally
    lines = len(tally.key_ids)
    columns = lines * (LINE_BYTES + tally.key_ids.itemsize) + len(book.sessions) * SESSION_BYTES
    runs = len(tally.run_starts) * tally.run_starts.itemsize
    surprises = sum(map(len, book.surprises_of.values())) * SURPRISE_BYTES
    verdicts = sum(map(len, book.verdicts.values())) * VERDICT_BYTES
    return columns + runs + book.severe.nbytes() + surprises + verdicts
