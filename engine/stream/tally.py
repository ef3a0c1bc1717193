"""Bursts and rarity in a stream: per-source template counts kept in Redis, so `logpt serve` weighs what
`logpt detect` and the explorer weigh.

For each source file the consumers keep, under `{stream}:tally:{source}`:

- `:n`, a hash of template key → records so far, and `""` → all records so far;
- `:b:{bucket}`, a hash of key → records in that bucket (a minute; a block of 100 lines where lines carry
  no time), kept two days;
- `:last` and `:active`, which bucket each key (and `""`, the source) was last seen in and in how many
  buckets it occurred, counted as runs like `engine.detect.evidence.FileTally` counts them;
- `:span`, `lo` and `hi`: the source's lowest and highest bucket number so far (a minute, or a block of lines):
  the span a template's usual rate is spread over, as `FileTally.in_bucket` spreads it over the file's; and
  `severe`: its records whose level field says ERROR or worse (whether the level field over-states, as
  `SessionBook.levels_overstated` asks of a file).

They are updated by the same Lua script, in the same step, as an entry's flag and context (exactly once:
`COLLECT` and `FLUSH` are spliced into `engine.stream.apply.APPLY`). Before a batch is judged, `read_counts` fetches
the counts its entries need; `StreamTally` adds the batch's own records before each entry and answers the
questions `engine.detect.evidence.weigh` asks of a `FileTally`. So a line is judged against its source as
far as the stream has got — as the explorer judges a followed file — with one difference a stream cannot
avoid: a verdict, once written, is not revised when later lines change a count. A source's first records,
where counts so far say least, are judged later (engine.stream.hold).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from engine.detect.evidence import ACTIVE_BUCKETS, LINES_PER_BUCKET, EvidenceRule

BUCKET_TTL_S = 2 * 86_400

# Lua spliced into APPLY after it decoded the batch (`str`: the batch's strings, indexed from 1): COLLECT defines
# `tally_add(source, key, bucket, severe)` (indexes into `str`; severe 1 for a record whose level field says ERROR
# or worse), which APPLY runs for each applied entry, gathering the batch's increments in tables keyed by those
# indexes (0: the source's own field ""); FLUSH writes them after the
# loop, one call per distinct hash field (a batch of 500 entries has a few dozen templates and buckets) instead of
# several per entry, and each source's `:last` in one HSET. KEYS[4] is the `{stream}:tally:` prefix and ARGV[4]
# the buckets' time to live.
COLLECT = """
local t_n, t_b, t_last, t_runs, t_sev = {}, {}, {}, {}, {}
local function tally_run(src, k, bucket)
  local last = t_last[src]
  if last[k] == nil then
    last[k] = redis.call('HGET', KEYS[4] .. str[src] .. ':last', k == 0 and '' or str[k]) or false
  end
  if last[k] ~= bucket then
    last[k] = bucket
    t_runs[src][k] = (t_runs[src][k] or 0) + 1
  end
end
local function tally_add(src, key, b, severe)
  local n = t_n[src]
  if n == nil then
    n = {}
    t_n[src], t_b[src], t_last[src], t_runs[src], t_sev[src] = n, {}, {}, {}, 0
  end
  t_sev[src] = t_sev[src] + severe
  n[key] = (n[key] or 0) + 1
  n[0] = (n[0] or 0) + 1
  local here = t_b[src][b]
  if here == nil then
    here = {}
    t_b[src][b] = here
  end
  here[key] = (here[key] or 0) + 1
  tally_run(src, key, str[b])
  tally_run(src, 0, str[b])
end
"""
FLUSH = """
for src, n in pairs(t_n) do
  local base = KEYS[4] .. str[src]
  for k, v in pairs(n) do redis.call('HINCRBY', base .. ':n', k == 0 and '' or str[k], v) end
  local lo, hi = nil, nil  -- the batch's lowest and highest bucket number: over its few buckets, not per entry
  for b, here in pairs(t_b[src]) do
    local at = tonumber(string.sub(str[b], 2))
    if lo == nil or at < lo then lo = at end
    if hi == nil or at > hi then hi = at end
    local bk = base .. ':b:' .. str[b]
    for k, v in pairs(here) do redis.call('HINCRBY', bk, str[k], v) end
    redis.call('EXPIRE', bk, tonumber(ARGV[4]))
  end
  for k, v in pairs(t_runs[src]) do redis.call('HINCRBY', base .. ':active', k == 0 and '' or str[k], v) end
  local last = {}
  for k, b in pairs(t_last[src]) do
    if b then
      last[#last + 1] = k == 0 and '' or str[k]
      last[#last + 1] = b
    end
  end
  for i = 1, #last, 1000 do redis.call('HSET', base .. ':last', unpack(last, i, math.min(i + 999, #last))) end
  local span = redis.call('HMGET', base .. ':span', 'lo', 'hi')
  local was_lo, was_hi = tonumber(span[1]), tonumber(span[2])
  redis.call('HSET', base .. ':span', 'lo', string.format('%d', (was_lo and was_lo < lo) and was_lo or lo),
             'hi', string.format('%d', (was_hi and was_hi > hi) and was_hi or hi))
  if t_sev[src] > 0 then redis.call('HINCRBY', base .. ':span', 'severe', t_sev[src]) end
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
    lo: int | None = None  # the lowest and highest bucket number so far (`:span`)
    hi: int | None = None
    severe: int = 0  # records whose level field says ERROR or worse (`:span`'s `severe`)
    fields: int = 0  # `:n`'s fields: the source's template keys so far and "" (engine.stream.pretrained reads it)

    def overstated(self, rule: EvidenceRule, more: int = 0) -> bool:
        """Whether the source's level field over-states (`SessionBook.levels_overstated`), with `more` such records
        and the records counted since."""
        return rule.overstates(self.severe + more, self.records)


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
        pipe.hmget(base + ":span", ["lo", "hi", "severe"])
        pipe.hlen(base + ":n")
        for bucket, in_it in by_bucket.items():  # a batch spans a few buckets: one call each
            pipe.hmget(f"{base}:b:{bucket}", in_it)
        plan.append((source, keys, by_bucket))
    replies = iter(pipe.execute())
    found = {}
    num = lambda v: int(v) if v is not None else 0  # noqa: E731
    for source, keys, by_bucket in plan:
        n, active, last, (lo, hi, severe) = next(replies), next(replies), next(replies), next(replies)
        counts = Counts(num(n[0]), num(active[0]), dict(zip(keys, map(num, n[1:]), strict=True)),
                        dict(zip(keys, map(num, active[1:]), strict=True)))  # fmt: skip
        counts.lo, counts.hi = (int(lo), int(hi)) if lo is not None and hi is not None else (None, None)
        counts.severe, counts.fields = num(severe), int(next(replies))
        counts.last = {k: v.decode() for k, v in zip(["", *keys], last, strict=True) if v is not None}
        for bucket, in_it in by_bucket.items():
            counts.in_bucket.update(((bucket, k), num(v)) for k, v in zip(in_it, next(replies), strict=True))
        found[source] = counts
    return found


@dataclass
class StreamTally:
    """What `weigh` asks of a file's tally, for one entry of a stream: its source's counts so far, the entry
    itself and the batch's earlier entries included (or, for a held entry, all of them so far). `line` arguments
    are ignored (an entry is one record)."""

    key: str
    total: int  # this key's records so far
    key_buckets: int  # buckets this key occurred in
    occupied: int
    lines: int
    here: int  # this key's records in this entry's bucket
    timed: bool
    span: int = 0  # the source's highest bucket number so far less its lowest

    @property
    def counts(self) -> dict[str, int]:
        return {self.key: self.total}

    @property
    def active(self) -> dict[str, int]:
        return {self.key: self.key_buckets}

    def unit(self) -> str:
        return "one minute" if self.timed else f"{LINES_PER_BUCKET} lines"

    def unit_plural(self) -> str:
        return "minutes" if self.timed else f"blocks of {LINES_PER_BUCKET} lines"

    def in_bucket(self, _line: int, key: str) -> tuple[int, float]:
        """As `FileTally.in_bucket`: the records here, and the usual count per bucket elsewhere (per bucket the
        key occurred in, or over the source's span so far)."""
        elsewhere = self.total - self.here
        if self.key_buckets > ACTIVE_BUCKETS:
            return self.here, elsewhere / (self.key_buckets - 1)
        return self.here, elsewhere / max(1, self.span, self.occupied - 1)


def tallies(counts: dict[str, Counts], seen: Sequence[tuple[str, str, str, bool]]) -> list[tuple]:  # type: ignore[type-arg]
    """A tally per entry of the batch, in order, as `StreamTally`'s fields (made into one only for an entry that is
    weighed: most are not): `seen` holds each entry's (source, key, bucket, timed); each entry's counts include the
    entries before it and itself, as the script will leave them."""
    found = []
    for source, key, bucket, timed in seen:
        c = counts.get(source)
        if c is None:
            c = counts[source] = Counts()
        total, last, active, in_bucket = c.total, c.last, c.active, c.in_bucket
        c.records += 1
        n = total[key] = total.get(key, 0) + 1
        if last.get(key) != bucket:
            last[key] = bucket
            active[key] = active.get(key, 0) + 1
        if last.get("") != bucket:
            last[""] = bucket
            c.occupied += 1
        here = in_bucket[(bucket, key)] = in_bucket.get((bucket, key), 0) + 1
        at = int(bucket[1:])
        c.lo, c.hi = (at, at) if c.lo is None or c.hi is None else (min(c.lo, at), max(c.hi, at))
        found.append((key, n, active[key], c.occupied, c.records, here, timed, c.hi - c.lo))
    return found
