"""`logpt serve`: a consumer in a Redis Streams consumer group that flags anomalous records.

Any number of consumers (on one machine or many) read the stream with XREADGROUP in micro-batches. A
batch is judged with the detector's pipeline pieces:

- keys: the detector bundle's templates, matched without learning (a frozen miner, or the bundle's key
  table), so every consumer gives a message the same key; a message no template fits gets a key made of
  its masked text (`~…`), the same on every consumer, and counts as a template never seen;
- sessions: the bundle's session rule, within each source file; each session's last keys (a context of the
  model's) and their count live in Redis (`{stream}:ctx:{session}`, `{stream}:ctx-count`), so any consumer
  continues any session;
- evidence: out of sequence or novel (the detector's top-K, each key scored once in the window the whole
  session's scoring puts it in: engine.detect.incremental; without a detector, the pretrained sequence model
  against the source's templates so far: engine.stream.pretrained), severity, unusual text (the line model,
  z against the source's templates so far), and bursts and rarity against the source's template counts in
  Redis (engine.stream.tally), weighed by the evidence rule on the lines `logpt detect` weighs (a severity, a
  surprise or unusual text); a source's first `hold_records` records are judged later, against the counts of
  its first `hold_records` or of all of it when it went quiet first (engine.stream.hold).

Exactly once, per entry: a Lua script (engine.stream.apply) applies an entry's effects (its key appended to its
session's context and counted, its flag `XADD`ed to `{stream}:flags` with the why) only if the entry's marker
(`{stream}:done:{id}`, kept a day) was not set, and sets it; the batch is `XACK`ed in the same step. A consumer
killed before it leaves its entries pending: another consumer claims them after `claim_idle_ms`
(XAUTOCLAIM), the script skips what was applied, and nothing is flagged twice or lost. An entry that is
not a record (no text, not UTF-8, over MAX_RECORD_BYTES) goes to `{stream}:dead` with the reason and is acknowledged.

Incidents (engine.stream.incidents): the same script joins each flag to its source's open incident (flags at
most the rule's `incident_gap` lines apart), and each consumer, between batches, closes the incidents quiet
for `incident_quiet_s`: the analyst's root cause of their lines, written once to `{stream}:incidents`.

A read asks for at most `batch` entries and as many as BATCH_BYTES holds at the largest entry size seen in the
last read (from FIRST_COUNT): entries someone wrote at 10 MB each are read a few at a time, never 500 at once.
"""

from __future__ import annotations

import contextlib
import gc
import time
from collections.abc import Callable
from dataclasses import replace

from engine.detect.evidence import EvidenceRule, FileTally, Surprise, weigh
from engine.detect.incremental import Step, StreamScorer
from engine.detect.pipeline import DetectConfig, DetectionPipeline, surprise_at
from engine.logs.formats.spec import LogFormat
from engine.logs.sessions import Session
from engine.stream import BATCH, HOLD_MAX_S, HOLD_RECORDS, backoff, check_slot, migrate, tagged, wrong_type
from engine.stream.apply import Applier, Batch
from engine.stream.entries import Ahead, Entry, Parsed, Stats, as_entry, verdict_fields
from engine.stream.hold import Holds, held_item
from engine.stream.incidents import IncidentConfig, Incidents
from engine.stream.pretrained import PretrainedSequence, SourceTemplates, SourceUnusual, said, text_of
from engine.stream.records import RecordReader
from engine.stream.tally import BUCKET_TTL_S, StreamTally, read_counts, tallies

BATCH_BYTES = 16 * 1024 * 1024  # a read asks for as many entries as fit this, judged by the largest entry seen lately
FIRST_COUNT = 16  # entries asked for before any size is known; doubled while they fit
DONE_TTL_S = 86_400  # how long an applied entry's marker is kept (redeliveries come within minutes)
# torch's intra-op threads while a consumer serves: a batch's pass is small, where a second thread spins more than it
# computes (on the 2-core VM: twice the CPU a record) and takes Redis's core; consumers scale as processes.
SCORING_THREADS = 1
# The garbage collector's first threshold while a consumer serves: a batch holds thousands of young lists and tuples
# at once, so at Python's 700 it collected ~10 times a batch (8 µs a record, docs/benchmarks.md); they are freed by
# their counts when the batch ends, so at 10,000 it hardly runs (a few collections per 100,000 records).
GC_THRESHOLD = 10_000

class Consumer:
    def __init__(
        self,
        client: object,
        pipeline: DetectionPipeline,
        *,
        stream: str = "logs",
        group: str = "detect",
        name: str = "consumer-1",
        batch: int = BATCH,
        block_ms: int = 100,
        claim_idle_ms: int = 30_000,
        incident_quiet_s: float = IncidentConfig.quiet_s,
        read_ahead: bool = True,  # while alone: the next batch read and parsed while Redis applies this one
        hold_records: int = HOLD_RECORDS,  # a source's first records judged later (engine.stream.hold); 0: none
        hold_max_s: float = HOLD_MAX_S,  # … each at most this long after its source's first held record
    ) -> None:
        self.client, self.pipeline, self.stream, self.group, self.name = client, pipeline, stream, group, name
        self.batch, self.block_ms, self.claim_idle_ms = batch, block_ms, claim_idle_ms
        check_slot(client, stream)
        self.keys = tagged(stream)  # {stream}: its keys share the stream's Redis Cluster slot
        self.flags_stream, self.dead_stream = f"{self.keys}:flags", f"{self.keys}:dead"
        self.applier = Applier(client)  # APPLY sent, its reply awaited after the next batch is parsed
        self.reader = RecordReader(pipeline)  # entries to records, keys and sessions
        self.stats = Stats()
        self.context_count = f"{self.keys}:ctx-count"  # session → its keys so far (the place of its next key)
        detector = pipeline.detector
        self.scorer = StreamScorer(detector) if detector is not None else None  # sessions' windows, cached
        text = text_of(pipeline.templates())  # a key's template text (the pretrained models read it)
        sequence, line_lm = pipeline.sequence if detector is None else None, pipeline.line_lm  # engine.stream.pretrained
        self.pretrained = PretrainedSequence(sequence, text) if sequence is not None else None
        self.unusual = (SourceUnusual(line_lm, text, pipeline.rule.unusual_z)
                        if line_lm is not None and pipeline.rule.kind == "combined" else None)  # fmt: skip
        self.templates = SourceTemplates(client, f"{self.keys}:tally:")  # each source's template keys so far
        self.context = (detector.model.config.block_size if detector is not None else  # keys kept per session
                        self.pretrained.block_size if self.pretrained is not None else 64)  # fmt: skip
        self._last_claim = 0.0
        self.count = min(batch, FIRST_COUNT)  # entries the next read asks for (bounded by BATCH_BYTES)
        self.recover = True  # first read this consumer's own pending entries (after a crash or a lost connection)
        self.busy = False  # the last read was full
        # While entries wait and no other consumer reads, read the next batch before APPLY (`step`): parsing it then
        # runs beside Redis's script instead of after it (docs/benchmarks.md: 1M backlog, one consumer).
        self.read_ahead = read_ahead
        self._alone, self._alone_at = False, -1.0  # `alone`: its last answer, and when
        self.ahead: Ahead | None = None  # the batch read ahead and parsed, judged by the next step
        config = IncidentConfig(incident_quiet_s, pipeline.rule.incident_gap, claim_idle_ms, DONE_TTL_S)
        self.incidents = Incidents(client, stream, pipeline.fmt, config, name)  # flags close together, analysed
        self.holds = Holds(client, self.keys, pipeline.rule, self.incidents, self.unusual)  # first records, judged later
        self.hold_records, self.hold_max_s, self.crossed = hold_records, hold_max_s, list[str]()  # crossed: see counts_of
        for kept in (self.flags_stream, self.dead_stream):  # an earlier version's streams, named `STREAM:…`
            migrate(client, f"{stream}:{kept.rpartition(':')[2]}", kept)
        self.ensure_group()

    def ensure_group(self) -> None:
        import redis  # noqa: PLC0415

        try:
            self.client.xgroup_create(self.stream, self.group, id="0", mkstream=True)  # type: ignore[attr-defined]
        except redis.exceptions.ResponseError as e:
            if "BUSYGROUP" not in str(e):
                raise wrong_type(e, self.stream) or e from None
        with contextlib.suppress(redis.exceptions.ResponseError):  # before Redis 6.2: seen from its first read
            self.client.xgroup_createconsumer(self.stream, self.group, self.name)  # type: ignore[attr-defined]

    def alone(self) -> bool:
        """No other consumer of the group was seen within claim_idle_ms (asked once a second): only then may it read
        ahead (its batches stay in order; another's read could overtake a batch held back)."""
        now = time.monotonic()
        if now - self._alone_at >= 1.0:
            self._alone_at = now
            others = [c for c in self.client.xinfo_consumers(self.stream, self.group)  # type: ignore[attr-defined]
                      if c["name"] not in (self.name, self.name.encode())]  # fmt: skip
            self._alone = all(c["idle"] >= self.claim_idle_ms for c in others)
        return self._alone

    # ---- reading ----

    def read(self, *, wait: bool = True) -> list[tuple[bytes, dict[bytes, bytes]]]:
        """The next batch (`read_any`; `wait`: block up to block_ms for new entries), and the count the read
        after it asks for: as many entries as BATCH_BYTES holds at this batch's largest entry, doubling at most,
        never over `batch`."""
        raw = self.read_any(wait=wait)
        self.busy = len(raw) >= self.count  # a full read: more entries are waiting
        if raw:
            largest = max(sum(map(len, fields)) + sum(map(len, fields.values())) for _, fields in raw)
            fits = max(1, BATCH_BYTES // max(largest, 1))
            self.count = max(1, min(self.batch, fits, 2 * len(raw) if len(raw) >= self.count else self.count))
        return raw

    def read_any(self, *, wait: bool = True) -> list[tuple[bytes, dict[bytes, bytes]]]:
        """This consumer's own pending entries after a restart or a lost connection, else entries of dead
        consumers idle past claim_idle_ms (checked every second), else new ones."""
        if self.recover:
            reply = self.client.xreadgroup(self.group, self.name, {self.stream: "0"}, count=self.count)  # type: ignore[attr-defined]
            mine = [(i, f) for i, f in (reply[0][1] if reply else []) if f]
            if mine:
                return mine
            self.recover = False
        now = time.monotonic()
        if now - self._last_claim >= 1.0:
            self._last_claim = now
            claimed = self.client.xautoclaim(self.stream, self.group, self.name, self.claim_idle_ms,  # type: ignore[attr-defined]
                                             start_id="0-0", count=self.count)[1]  # fmt: skip
            claimed = [(i, f) for i, f in claimed if f]  # deleted entries (trimmed) come back empty
            if claimed:
                self.stats.claimed += len(claimed)
                return claimed
        reply = self.client.xreadgroup(self.group, self.name, {self.stream: ">"}, count=self.count,  # type: ignore[attr-defined]
                                       block=self.block_ms if wait else None)  # fmt: skip
        return reply[0][1] if reply else []

    def step(self) -> int:
        """Close the incidents gone quiet (once a second; while entries wait, in a tenth of the time at most),
        then judge one batch and apply it; returns the entries handled. While entries wait (the last read was
        full) and the consumer is `alone`, the next batch is read before this one's APPLY is sent and parsed
        while Redis runs it (`ahead`)."""
        self.incidents.tick(busy=self.busy)
        self.stats.flags += self.holds.tick()  # sources whose held records were due (quiet, or held hold_max_s)
        ahead, self.ahead = self.ahead, None  # dropped if this step fails: its entries are pending, read again
        raw, entries, dead, parsed = ahead if ahead is not None else self.prepare(self.read())
        if not raw:
            return 0
        for entry_id, fields, why in dead:
            self.client.xadd(self.dead_stream, {"entry": entry_id, "reason": why,  # type: ignore[attr-defined]
                                                "fields": repr(fields)[:2000]})  # fmt: skip
        if entries:  # applied and acknowledged in one step, the dead-lettered entries too
            batch = self.judge(entries, parsed)
            batch.dead = [entry_id.decode() for entry_id, _f, _w in dead]
            reading = self.busy and self.read_ahead and not self.recover and self.alone()  # before APPLY (a read waits on it)
            following = self.read(wait=False) if reading else []
            reply = self.applier.send([f"{self.keys}:done:", f"{self.keys}:ctx:", self.flags_stream,
                                       f"{self.keys}:tally:", self.context_count, self.incidents.key, self.stream,
                                       *self.holds.apply_keys()],
                                      [batch.to_json(), self.context, DONE_TTL_S, BUCKET_TTL_S,
                                       *self.incidents.apply_args(), self.group, int(self.hold_max_s * 1000)])  # fmt: skip
            try:
                ahead = self.prepare(following) if following else None
            finally:
                self.stats.flags += int(reply())  # type: ignore[call-overload]
            self.stats.flags += sum(self.holds.release(source) for source in self.crossed)  # judged at HOLD_RECORDS
            self.ahead = ahead  # only once this batch is applied: never judged before it
        else:
            self.client.xack(self.stream, self.group, *[i for i, _ in raw])  # type: ignore[attr-defined]
        self.stats.took(entries, len(dead))
        return len(raw)

    def finish(self) -> int:
        """Judge and apply the batch read ahead, if any, reading nothing more; returns its entries."""
        if self.ahead is None:
            return 0
        asked, self.read_ahead, self.busy = self.read_ahead, False, False
        try:
            return self.step()
        finally:
            self.read_ahead = asked

    def prepare(self, raw: list[tuple[bytes, dict[bytes, bytes]]]) -> Ahead:
        """A read's entries as records to judge (parsed: nothing Redis holds) and the dead-lettered ones."""
        entries, dead = [], []
        for entry_id, fields in raw:
            entry, why = as_entry(entry_id, fields)
            (entries.append(entry) if entry is not None else dead.append((entry_id, fields, why)))
        return raw, entries, dead, self.reader.parse(entries)

    # ---- judging ----

    def judge(self, entries: list[Entry], parsed: Parsed | None = None) -> Batch:
        """The batch's effects for the script: per entry its context pushes, its counts and its flag (or none);
        `parsed`: the entries' `parse`, when done already."""
        rule, p = self.pipeline.rule, parsed if parsed is not None else self.reader.parse(entries)
        batch = Batch(entries=[[e.id, 0, 0, 0, 0, 0] for e in entries])
        at, rows = batch.at, batch.entries
        keys_of = {record.line: key for record, key in p.keyed}
        (counts, holding, overstated, fields), no_counts = self.counts_of(p), FileTally()  # no_counts: an entry no record
        templates = self.templates_of(p, fields) if self.pretrained is not None or self.unusual is not None else {}
        surprises = self.surprises(p, templates)
        for session, name in zip(p.sessions, p.names, strict=True):
            place = at(name)
            for k, key in zip(session.lines, session.keys, strict=True):
                rows[k] += (place, at(key))
        buckets = {}
        for (record, key), (source, _key, bucket, timed) in zip(p.keyed, p.seen, strict=True):  # the script counts
            rows[record.line][2:6] = (at(source), at(key), at(bucket), int(record.line in p.errors))
            buckets[record.line] = (bucket, timed)
        unusual = {s: self.unusual.of(s, keys) for s, keys in templates.items()} if self.unusual is not None else {}
        for k, entry in enumerate(entries):
            key, surprise, severity = keys_of.get(k, ""), surprises.get(k), p.severities.get(k)
            odd = unusual.get(entry.source, {}).get(key)  # its text unusual against the source's templates so far
            # `logpt detect` weighs only lines with a severity, a surprise or unusual text (SessionBook.flags); with a
            # line model every record of a held source is held: its templates' z is taken again at the release
            held = entry.source in holding and k in keys_of and (self.unusual is not None or surprise or severity)
            if held and not rule.flags(weigh(0, "", surprise, None, no_counts, rule)):  # unless novel: flagged now
                batch.holds.append([at(entry.source), held_item(entry.id, entry.line, key, entry.text, severity,
                                                                surprise, *buckets[k])])  # fmt: skip
                rows[k][1] = -len(batch.holds)
                continue
            if surprise is None and severity is None and odd is None:
                continue
            row = counts.get(k)  # the entry is its source's newest record: its "line" in the source's counts
            tally = StreamTally(*row) if row is not None else no_counts
            found = weigh(tally.lines, key, surprise, severity, tally, rule,
                          overstated=entry.source in overstated, unusual=odd)  # fmt: skip
            if rule.flags(found):  # the pipeline's rule (EvidenceRule.flags)
                batch.flags.append([at(entry.source), at(key), entry.line, entry.text[:4000], *verdict_fields(found)])
                rows[k][1] = len(batch.flags)
        return batch

    def counts_of(self, parsed: Parsed) -> tuple[dict[int, tuple], set[str], set[str], dict[str, int]]:  # type: ignore[type-arg]
        """Entry index → its source's counts so far (`StreamTally`'s fields), Redis's before the batch read in one
        round trip for the (bucket, key) pairs the batch holds; the sources whose candidates are held (fewer
        than `hold_records` records before the batch; `crossed`: those of them the batch brings there); those
        whose level field over-states so far, the batch included; and per source its counts' fields in Redis
        (`Counts.fields`: `templates_of` reads the keys again only when they grew)."""
        wants: dict[str, set[tuple[str, str]]] = {}
        severe: dict[str, int] = {}
        for (record, _key), (source, key, bucket, _timed) in zip(parsed.keyed, parsed.seen, strict=True):
            wants.setdefault(source, set()).add((bucket, key))
            severe[source] = severe.get(source, 0) + (record.line in parsed.errors)
        counts = read_counts(self.client, f"{self.keys}:tally:", wants)
        holding = {source for source, c in counts.items() if c.records < self.hold_records}
        found = tallies(counts, parsed.seen)
        self.crossed = [source for source in holding if counts[source].records >= self.hold_records]
        overstated = {s for s, c in counts.items() if c.overstated(self.pipeline.rule, severe.get(s, 0))}
        fields = {s: c.fields for s, c in counts.items()}
        return ({record.line: tally for (record, _key), tally in zip(parsed.keyed, found, strict=True)}, holding,
                overstated, fields)  # fmt: skip

    def templates_of(self, parsed: Parsed, fields: dict[str, int]) -> dict[str, list[str]]:
        """Each source of the batch → its template keys so far, the batch's included (engine.stream.pretrained);
        `fields`: `counts_of`'s."""
        batch: dict[str, set[str]] = {}
        for source, key, _bucket, _timed in parsed.seen:
            batch.setdefault(source, set()).add(key)
        return self.templates.update(batch, fields)

    def steps(self, sessions: list[Session], names: list[str]) -> list[Step]:
        """Each session's new keys after its keys so far: their count and the last `context` of them (one
        round trip). A session from before the counts were kept counts the keys its list holds."""
        pipe = self.client.pipeline(transaction=False)  # type: ignore[attr-defined]
        for name in names:
            pipe.lrange(f"{self.keys}:ctx:{name}", -self.context, -1)
        pipe.hmget(self.context_count, names)
        *lists, counts = pipe.execute()
        return [Step(name, int(n) if n is not None else len(keys), tuple(k.decode() for k in keys), tuple(s.keys))
                for name, s, keys, n in zip(names, sessions, lists, counts, strict=True)]  # fmt: skip

    def surprises(self, parsed: Parsed, templates: dict[str, list[str]]) -> dict[int, Surprise]:
        """Entry index → the sequence model's surprise, for keys outside its expected set given the session's keys
        so far: the detector's top-K (engine.detect.incremental: each key scored once, in the window `logpt detect`
        scores it in), else the pretrained model's against the source's `templates` (engine.stream.pretrained)."""
        sessions, sources = parsed.sessions, parsed.sources
        if not sessions or (self.scorer is None and self.pretrained is None):
            return {}
        steps, out = self.steps(sessions, parsed.names), dict[int, Surprise]()
        if self.scorer is not None:
            found = self.scorer.advance(steps)
        else:
            found = self.pretrained.advance(steps, sources, templates)  # type: ignore[union-attr]
        for session, source, flagged in zip(sessions, sources, found, strict=True):
            for i, verdict in flagged.items():
                surprise = surprise_at(session, i, verdict, pretrained=self.scorer is None)
                if self.scorer is None:
                    surprise = replace(surprise, detail=said(verdict, len(templates[source])))
                out.setdefault(session.lines[i], surprise)
        return out


def serve(consumer: Consumer, stop: Callable[[], bool], on_turn: Callable[[Consumer], None] = lambda _c: None,
          *, threads: int | None = SCORING_THREADS) -> Stats:  # fmt: skip
    """Judge batches until `stop()`; the batch under way is finished and acknowledged first. A lost
    connection is retried with backoff; then the consumer's own unacknowledged entries are judged again (the
    script skips what was applied). torch runs `threads` intra-op threads meanwhile (None: as it was), and the
    garbage collector's first threshold is GC_THRESHOLD; both are given back after."""
    import torch  # noqa: PLC0415

    before, collect = torch.get_num_threads(), gc.get_threshold()
    if threads is not None:
        torch.set_num_threads(threads)
    gc.set_threshold(max(GC_THRESHOLD, collect[0]), *collect[1:])
    try:
        return _serve(consumer, stop, on_turn)
    finally:
        torch.set_num_threads(before)
        gc.set_threshold(*collect)


def _serve(consumer: Consumer, stop: Callable[[], bool], on_turn: Callable[[Consumer], None]) -> Stats:
    import redis  # noqa: PLC0415

    attempt = 0
    while not stop():
        try:
            consumer.step()
            attempt = 0
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError):
            consumer.stats.reconnects += 1
            consumer.recover = True
            time.sleep(backoff(attempt))
            attempt += 1
        except redis.exceptions.ResponseError as e:
            if "NOGROUP" not in str(e):
                raise wrong_type(e, f"{consumer.stream} (or its :flags, :dead, :done or :ctx keys)") or e from None
            # The group was destroyed, or Redis restarted empty: made again, read from the start (applied: skipped).
            consumer.stats.groups_recreated += 1
            consumer.ensure_group()
            consumer.recover = True
        on_turn(consumer)
    try:  # the batch read ahead is judged too (else its entries wait for this consumer's restart or a claim)
        consumer.finish()
    except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError):
        consumer.stats.reconnects += 1
    return consumer.stats


def pipeline_for(detector: object, fmt: LogFormat, rule: EvidenceRule, *, line_lm: object = None,
                 sequence: object = None) -> DetectionPipeline:  # fmt: skip
    """The pipeline a consumer judges with: the detector bundle's, or with none the pretrained `sequence` model
    (engine.detect.textseq; None: no sequence evidence); `line_lm` for unusual text (engine.detect.unusual)."""
    return DetectionPipeline.prepare([], fmt, detector=detector, config=DetectConfig(rule=rule), line_lm=line_lm,  # type: ignore[arg-type]
                                     sequence=sequence)  # type: ignore[arg-type]  # fmt: skip
