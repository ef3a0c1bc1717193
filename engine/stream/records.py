"""A stream batch's entries as `logpt serve` judges them: each entry's record, template key, severity and count
bucket, and the batch's sessions (`RecordReader.parse`), before anything is asked of Redis.

Keys every consumer agrees on: the bundle's templates matched without learning (a frozen miner, or its key table),
and for a message no template fits its masked text (`~…`, a template never seen). What it leaves out: reading the
stream and judging (engine.stream.serve).
"""

from __future__ import annotations

from engine.detect.evidence import severity_of, states_error
from engine.detect.pipeline import DetectionPipeline
from engine.logs.formats.detect import parse_lines
from engine.logs.formats.record import Record
from engine.logs.sessions import group_sessions
from engine.logs.templates.table import MINED, KeyedMiner
from engine.logs.timestamps import MinuteReader
from engine.stream.entries import Entry, Parsed
from engine.stream.tally import LINES_PER_BUCKET

# (level, message) → its key and severity, for the messages seen lately (a frozen miner gives a message one key):
# a log repeats many messages exactly (in a 500-record batch of Loghub's samples: 0% on HDFS, 30-84% on most)
KNOWN_MESSAGES = 65_536


class RecordReader:
    """Entries to records with keys, for one pipeline (its format, miner and session rule)."""

    def __init__(self, pipeline: DetectionPipeline) -> None:
        self.pipeline = pipeline
        self.minute_of = MinuteReader()
        self.known: dict[tuple[str | None, str], tuple[str, tuple[str, str] | None]] = {}  # see KNOWN_MESSAGES

    def parse(self, entries: list[Entry]) -> Parsed:
        """What judging needs that Redis does not hold: each entry's record (its line: the entry's index), key,
        severity and bucket, and the batch's sessions."""
        keyed, severities = self.records(entries)
        errors = {k for k, severity in severities.items() if states_error(severity)}
        minute_of, seen = self.minute_of, []
        for record, key in keyed:
            entry = entries[record.line]
            minute = minute_of(record.timestamp)
            bucket = f"m{minute}" if minute is not None else f"l{max(0, entry.line - 1) // LINES_PER_BUCKET}"
            seen.append((entry.source, key, bucket, minute is not None))
        by_source: dict[str, list] = {}
        for record, key in keyed:  # sessions never mix files
            by_source.setdefault(entries[record.line].source, []).append((record, key))
        sessions, names, sources = [], [], []
        for source, part in by_source.items():
            for session in group_sessions(part, self.pipeline.spec):
                sessions.append(session)
                names.append(f"{source}|{session.id}")
                sources.append(source)
        return Parsed(keyed, severities, errors, seen, sessions, names, sources)

    def records(self, entries: list[Entry]) -> tuple[list[tuple[Record, str]], dict[int, tuple[str, str] | None]]:
        """Each entry's record (its line: the entry's index) and key, and severities by index."""
        fmt, known = self.pipeline.fmt, self.known
        keyed, severities = [], {}
        for k, entry in enumerate(entries):
            record = fmt.parse(entry.text, k) if "\n" not in entry.text else None  # one line: what parse_lines does
            if record is not None:
                record = fmt.finish(record, [])
            else:
                record = next(iter(parse_lines(entry.text.split("\n"), fmt, first_line=k)), None)
            if record is None:
                continue
            found = known.get((record.level, record.message))
            if found is None:  # a message seen lately is matched and read for its level once
                if len(known) >= KNOWN_MESSAGES:
                    known.clear()
                found = known[(record.level, record.message)] = (self.key_of(record.message), severity_of(record))
            keyed.append((record, found[0]))
            severities[k] = found[1]
        return keyed, severities

    def key_of(self, message: str) -> str:
        """The template key every consumer gives `message`: the bundle's, else its masked text (novel)."""
        miner = self.pipeline.miner
        if isinstance(miner, KeyedMiner):
            key = miner.match(message)
            return key if key is not None else MINED + miner.fallback.masked(message)
        found = miner.match(message)
        return str(found) if found is not None else MINED + miner.masked(message)
