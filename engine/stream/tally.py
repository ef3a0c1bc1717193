"""Bursts and rarity in a stream: per-source template counts kept in Redis, so `logpt serve` weighs what
`logpt detect` and the explorer weigh.

For each source file the consumers keep, under `{stream}:tally:{source}`:

- `:n`, a hash of template key → records so far, and `""` → all records so far;
- `:b:{bucket}`, a hash of key → records in that bucket (a minute; a block of 100 lines where lines carry
  no time), kept two days;
- `:last` and `:active`, which bucket each key (and `""`, the source) was last seen in and in how many
  buckets it occurred, counted as runs like `engine.detect.evidence.FileTally` counts them.

They are updated by the same Lua script, in the same step, as an entry's flag and context (exactly once:
`COLLECT` and `FLUSH` are spliced into `engine.stream.serve.APPLY`). Before a batch is judged, `read_counts` fetches
the counts its entries need; `StreamTally` adds the batch's own records before each entry and answers the
questions `engine.detect.evidence.weigh` asks of a `FileTally`. So a line is judged against its source as
far as the stream has got — as the explorer judges a followed file — with one difference a stream cannot
avoid: a verdict, once written, is not revised when later lines change a count. And rarity (and whether an
error template is routine) is weighed only once a source has `MIN_RARE_RECORDS` records: before that a
stream cannot know it (docs/streaming.md says so).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from engine.detect.evidence import ACTIVE_BUCKETS, LINES_PER_BUCKET

BUCKET_TTL_S = 2 * 86_400
MIN_RARE_RECORDS = 1_000  # a source's records before rarity means anything in a stream

# Lua spliced into APPLY: COLLECT runs for each applied entry `it` (its `it.tally` is {source, key, bucket}),
# gathering the batch's increments in order; FLUSH writes them after the loop, one call per distinct hash field
# (a batch of 500 entries has a few dozen templates and buckets) instead of several per entry. KEYS[4] is the
# `{stream}:tally:` prefix and ARGV[4] the buckets' time to live.
COLLECT = """
    if it.tally ~= cjson.null then
      local base = KEYS[4] .. it.tally[1]
      local key, b = it.tally[2], it.tally[3]
      tally_n[base] = tally_n[base] or {}
      tally_n[base][key] = (tally_n[base][key] or 0) + 1
      tally_n[base][''] = (tally_n[base][''] or 0) + 1
      local bk = base .. ':b:' .. b
      tally_b[bk] = tally_b[bk] or {}
      tally_b[bk][key] = (tally_b[bk][key] or 0) + 1
      tally_runs[#tally_runs + 1] = {base, key, b}
    end
"""
FLUSH = """
for base, fields in pairs(tally_n) do
  for k, v in pairs(fields) do redis.call('HINCRBY', base .. ':n', k, v) end
end
for bk, fields in pairs(tally_b) do
  for k, v in pairs(fields) do redis.call('HINCRBY', bk, k, v) end
  redis.call('EXPIRE', bk, tonumber(ARGV[4]))
end
local last, where = {}, {}
for _, r in ipairs(tally_runs) do
  for _, k in ipairs({r[2], ''}) do
    local id = r[1] .. '|' .. k
    if last[id] == nil then
      last[id] = redis.call('HGET', r[1] .. ':last', k) or false
      where[id] = {r[1], k}
    end
    if last[id] ~= r[3] then
      last[id] = r[3]
      redis.call('HINCRBY', r[1] .. ':active', k, 1)
    end
  end
end
for id, b in pairs(last) do
  if b then redis.call('HSET', where[id][1] .. ':last', where[id][2], b) end
end
"""


@dataclass
class Counts:
    """One source's counts as Redis held them before the batch, for the keys and buckets the batch needs."""

    records: int = 0
    occupied: int = 0  # buckets with records (runs)
    total: dict[str, int] = field(default_factory=dict)
    active: dict[str, int] = field(default_factory=dict)
    last: dict[str, str] = field(default_factory=dict)  # key ("" the source) → the bucket it was last seen in
    in_bucket: dict[tuple[str, str], int] = field(default_factory=dict)  # (bucket, key) → records


def read_counts(client: object, prefix: str, wants: dict[str, set[tuple[str, str]]]) -> dict[str, Counts]:
    """Per source, the counts of the (bucket, key) pairs in `wants` (one round trip for the whole batch)."""
    pipe = client.pipeline(transaction=False)  # type: ignore[attr-defined]
    plan = []
    for source, pairs in wants.items():
        keys = sorted({k for _, k in pairs})
        by_bucket: dict[str, list[str]] = {}
        for bucket, key in sorted(pairs):
            by_bucket.setdefault(bucket, []).append(key)
        base = prefix + source
        for field_name in (":n", ":active", ":last"):
            pipe.hmget(base + field_name, ["", *keys])
        for bucket, in_it in by_bucket.items():  # a batch spans a few buckets: one call each
            pipe.hmget(f"{base}:b:{bucket}", in_it)
        plan.append((source, keys, by_bucket))
    replies = iter(pipe.execute())
    found = {}
    num = lambda v: int(v) if v is not None else 0  # noqa: E731
    for source, keys, by_bucket in plan:
        n, active, last = next(replies), next(replies), next(replies)
        counts = Counts(num(n[0]), num(active[0]), dict(zip(keys, map(num, n[1:]), strict=True)),
                        dict(zip(keys, map(num, active[1:]), strict=True)))  # fmt: skip
        counts.last = {k: v.decode() for k, v in zip(["", *keys], last, strict=True) if v is not None}
        for bucket, in_it in by_bucket.items():
            counts.in_bucket.update(((bucket, k), num(v)) for k, v in zip(in_it, next(replies), strict=True))
        found[source] = counts
    return found


@dataclass
class StreamTally:
    """What `weigh` asks of a file's tally, for one entry of a stream: its source's counts so far, the entry
    itself and the batch's earlier entries included. `line` arguments are ignored (an entry is one record).
    Before a source has MIN_RARE_RECORDS records its counts are not offered for rarity (nor for calling an
    error routine): the stream cannot know them yet; bursts are weighed from the start."""

    key: str
    total: int  # this key's records so far
    key_buckets: int  # buckets this key occurred in
    occupied: int
    lines: int
    here: int  # this key's records in this entry's bucket
    timed: bool

    @property
    def counts(self) -> dict[str, int]:
        return {self.key: self.total} if self.lines >= MIN_RARE_RECORDS else {}

    @property
    def active(self) -> dict[str, int]:
        return {self.key: self.key_buckets} if self.lines >= MIN_RARE_RECORDS else {}

    def unit(self) -> str:
        return "one minute" if self.timed else f"{LINES_PER_BUCKET} lines"

    def unit_plural(self) -> str:
        return "minutes" if self.timed else f"blocks of {LINES_PER_BUCKET} lines"

    def in_bucket(self, _line: int, key: str) -> tuple[int, float]:
        """As `FileTally.in_bucket`: the records here, and the usual count per bucket elsewhere."""
        elsewhere = self.total - self.here
        if self.key_buckets > ACTIVE_BUCKETS:
            return self.here, elsewhere / (self.key_buckets - 1)
        return self.here, elsewhere / max(1, self.occupied - 1)


def tallies(counts: dict[str, Counts], seen: Sequence[tuple[str, str, str, bool]]) -> list[StreamTally]:
    """A tally per entry of the batch, in order: `seen` holds each entry's (source, key, bucket, timed); each
    entry's counts include the entries before it and itself, as the script will leave them."""
    found = []
    for source, key, bucket, timed in seen:
        c = counts.setdefault(source, Counts())
        c.records += 1
        c.total[key] = c.total.get(key, 0) + 1
        if c.last.get(key) != bucket:
            c.last[key] = bucket
            c.active[key] = c.active.get(key, 0) + 1
        if c.last.get("") != bucket:
            c.last[""] = bucket
            c.occupied += 1
        c.in_bucket[(bucket, key)] = c.in_bucket.get((bucket, key), 0) + 1
        found.append(StreamTally(key, c.total[key], c.active[key], c.occupied, c.records, c.in_bucket[(bucket, key)],
                                 timed))  # fmt: skip
    return found
