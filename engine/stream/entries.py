"""A stream entry as `logpt serve` judges it: its id, source file, line and text, or why it is dead-lettered
(no text, not UTF-8, over MAX_RECORD_BYTES); and the shapes a batch takes between reading and judging. What it
leaves out: reading (engine.stream.serve) and judging. `Stats`: what a consumer did so far."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from json.encoder import encode_basestring_ascii as quote
from typing import TYPE_CHECKING

from engine.logs.formats.record import Record
from engine.logs.sessions import Session
from engine.stream import MAX_RECORD_BYTES

if TYPE_CHECKING:
    from engine.detect.evidence import Evidence


@dataclass
class Entry:
    id: str
    source: str
    line: int
    text: str


@dataclass
class Parsed:
    """A batch's entries as `logpt serve` reads them before asking Redis anything (records are lined by their
    entry's index in the batch)."""

    keyed: list[tuple[Record, str]]  # each entry's record (those of the format) and template key
    severities: dict[int, tuple[str, str] | None]  # by entry index
    errors: set[int]  # entries whose level field says ERROR or worse (`states_error`: what the counts' `severe` adds)
    seen: list[tuple[str, str, str, bool]]  # per record of `keyed`: its source, key, bucket and whether it is a minute
    sessions: list[Session]  # the batch's sessions, a source's apart from another's
    names: list[str]  # each session's name, `source|session id`
    sources: list[str]  # each session's source


def verdict_fields(found: Sequence[Evidence], why_after: str = "") -> list[object]:
    """A flag's score, why (its evidence's details, then `why_after`), evidence (JSON) and evidence kinds
    (comma-separated), as its fields are written to the flags stream and its incident (engine.stream.apply)."""
    return [sum(e.weight for e in found), "; ".join(e.detail for e in found) + why_after, evidence_json(found),
            ",".join(dict.fromkeys(e.kind for e in found))]  # fmt: skip


def evidence_json(found: Sequence[Evidence]) -> str:
    """`json.dumps([[kind, weight, detail], ...])`, as the flags stream has it, written without a `json.dumps` call
    per flag (~4 µs each, a third of a flag's cost in `logpt serve`): its strings by json's own escaping."""
    return "[" + ", ".join(f"[{quote(e.kind)}, {number(e.weight)}, {quote(e.detail)}]" for e in found) + "]"


def number(value: float) -> str:
    """A weight as json writes it (a float by `float.__repr__`, numpy's too; an int as an int)."""
    return float.__repr__(value) if isinstance(value, float) else int.__repr__(int(value))


Raw = list[tuple[bytes, dict[bytes, bytes]]]  # a read's entries: (id, fields)
Ahead = tuple[Raw, list[Entry], list[tuple[bytes, dict[bytes, bytes], str]], Parsed]  # a read, parsed: its entries,
# its dead-lettered ones (id, fields, why) and the entries' parse


def as_entry(entry_id: bytes, fields: dict[bytes, bytes]) -> tuple[Entry | None, str]:
    """The entry as a record to judge, or None and why it is not one."""
    text = fields.get(b"text")
    if text is None:
        return None, "no text field"
    if len(text) > MAX_RECORD_BYTES:
        return None, f"text of {len(text):,} bytes (at most {MAX_RECORD_BYTES:,})"
    try:
        decoded = text.decode("utf-8")
        source = fields.get(b"source", b"-").decode("utf-8")
        line = int(fields.get(b"line", b"0"))
    except (UnicodeDecodeError, ValueError) as e:
        return None, f"not a record: {e}"
    return Entry(entry_id.decode(), source, line, decoded), ""


@dataclass
class Stats:
    """What the consumer did so far (the metrics read it)."""

    entries: int = 0
    flags: int = 0
    dead: int = 0
    claimed: int = 0
    batches: int = 0
    reconnects: int = 0
    groups_recreated: int = 0  # the consumer group was missing (destroyed, or Redis restarted empty) and made again
    last: tuple[float, Sequence[Entry]] = (0.0, ())  # when the last batch was done (ms), and its entries

    @property
    def latencies_ms(self) -> list[float]:
        """Entry id time → result written, per entry of the last batch (worked out when asked: the metrics)."""
        now_ms, entries = self.last
        return [now_ms - int(e.id.split("-")[0]) for e in entries]

    def took(self, entries: list[Entry], dead: int) -> None:
        """A batch done: its entries (by id: their latency from the id's time) and its dead-lettered ones."""
        self.last = (time.time() * 1000, entries)
        self.entries, self.dead, self.batches = self.entries + len(entries), self.dead + dead, self.batches + 1
