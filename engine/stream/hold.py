"""A source's first records held: judged once its counts say what `logpt detect`'s counts of the file say.

Bursts and rarity are counts over the whole file in `logpt detect`; a stream has only the counts so far. Late in a
long source the two agree, but over its first records they do not: every template is rare so far, a template's
first cluster has no usual rate to be a burst against, and a burst's first lines come before the burst. So the
candidates (lines with a severity or a sequence surprise: the lines `logpt detect` weighs) of a source that had
fewer than HOLD_RECORDS (engine.stream, `logpt serve --hold-records`) records before their batch are held, not
judged: their counts and contexts are applied as any entry's, and each candidate is kept in Redis
(`{stream}:hold:SOURCE`, a list in line order) with what weighing needs (key, severity, surprise, bucket). They are
judged, against the source's counts as Redis holds them then, once the source reaches HOLD_RECORDS records, or has
sent nothing for the incidents' quiet time, or its first held record has waited HOLD_MAX_S (`--hold-max-s`). A
source shorter than HOLD_RECORDS (a short log shipped whole) is then judged on all its counts, as `logpt detect`
judges the file; a longer one's first records on its first HOLD_RECORDS (or more: the batch that crosses
HOLD_RECORDS is held whole, so up to HOLD_RECORDS + a batch). The flags say when they were judged ("judged at the
source's record N"). Where the line model weighs unusual text, every record of a held source is held (a template's
z changes as the source's templates come) and at the release its template's z is taken against all the source's templates, as `logpt detect` takes it over
the file; and whether the source's level field over-states (`EvidenceRule.overstates`) is asked of its counts then.

Exactly once: PUSH is spliced into APPLY (under the entry's marker); RELEASE writes the flags (and joins them to
incidents) and drops the items it judged only if the list still starts with the item the releaser read first:
consumers racing to release one source write its flags once. `{stream}:hold-due` orders sources by when they are
due; `{stream}:hold-due-first` keeps when a source's first held item came.

Left out: a source's record count, not its time, ends the hold (a slow source is judged per quiet spell).
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from engine.detect.evidence import EvidenceRule, Surprise, weigh
from engine.stream.entries import verdict_fields
from engine.stream.incidents import JOIN
from engine.stream.tally import Counts, StreamTally, read_counts

if TYPE_CHECKING:  # torch: `logpt serve --help` reads HOLD_RECORDS without loading the models
    from engine.detect.unusual import Unusual
    from engine.stream.pretrained import SourceUnusual

RELEASE_AT_ONCE = 16  # sources one look releases at most
LOOK_EVERY_S = 1.0

# Lua spliced into APPLY: `hold_push(source, item)` for each applied entry held, `holds_flush()` after the loop.
# KEYS[8] is the `{stream}:hold:` prefix, KEYS[9] `{stream}:hold-due`; ARGV[5] the quiet time in ms (the
# incidents'), ARGV[10] HOLD_MAX_S in ms. A source's due time: its last push + quiet, or its first + HOLD_MAX_S.
PUSH = """
local hold_items = {}
local function hold_push(source, item)
  local items = hold_items[source]
  if items == nil then
    items = {}
    hold_items[source] = items
  end
  items[#items + 1] = item
end
local function holds_flush()
  if next(hold_items) == nil then return end
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  for source, items in pairs(hold_items) do
    for i = 1, #items, 1000 do redis.call('RPUSH', KEYS[8] .. source, unpack(items, i, math.min(i + 999, #items))) end
    local first = tonumber(redis.call('HGET', KEYS[9] .. '-first', source))
    if first == nil then
      first = now
      redis.call('HSET', KEYS[9] .. '-first', source, now)
    end
    redis.call('ZADD', KEYS[9], math.min(first + tonumber(ARGV[10]), now + tonumber(ARGV[5])), source)
  end
end
"""

# KEYS: the source's hold list, `{stream}:hold-due`, the flags stream, (4, 5 unused: the flags stream again), the
# incidents' `{stream}:inc`; ARGV: the first item read, the items judged, the source, the flags (JSON: per flag
# entry, line, text, template, score, why, evidence JSON, kinds), then JOIN's four (ARGV[5..8]). Returns the flags
# written, or -1 when another releaser judged these items first.
RELEASE = (
    """
if redis.call('LINDEX', KEYS[1], 0) ~= ARGV[1] then return -1 end
"""
    + JOIN
    + """
local flags = cjson.decode(ARGV[4])
for _, f in ipairs(flags) do
  redis.call('XADD', KEYS[3], '*', 'entry', f[1], 'source', ARGV[3], 'line', f[2], 'text', f[3], 'template', f[4],
             'score', f[5], 'why', f[6], 'evidence', f[7])
  join_incident(f[1], {ARGV[3], f[2], f[6], f[3], f[8]})
end
incidents_flush()
redis.call('LTRIM', KEYS[1], tonumber(ARGV[2]), -1)
if redis.call('LLEN', KEYS[1]) == 0 then
  redis.call('ZREM', KEYS[2], ARGV[3])
  redis.call('HDEL', KEYS[2] .. '-first', ARGV[3])
end
return #flags
"""
)


# KEYS[1] `{stream}:hold-due`; ARGV[1] the sources at most. The sources due by Redis's clock (the node's that holds
# the stream, which wrote the due times).
DUE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
return redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
"""


def held_item(entry_id: str, line: int, key: str, text: str, severity: tuple[str, str] | None,
              surprise: Surprise | None, bucket: str, timed: bool) -> str:  # fmt: skip
    """What a held candidate keeps in Redis: what `weigh` needs of it later, and its flag's fields."""
    said = [surprise.detail, surprise.unseen, surprise.pretrained] if surprise is not None else None
    return json.dumps([entry_id, line, key, text[:4000], list(severity) if severity else None, said, bucket, timed])


def judge_held(items: Sequence[list], counts: Counts, totals: dict[str, int], rule: EvidenceRule,
               unusual: Mapping[str, Unusual] | None = None) -> list[list]:  # fmt: skip
    """The flags of held items (as `held_item` wrote them) against the source's counts now: of those `logpt detect`
    weighs (a severity, a surprise, or a template whose text is `unusual` against the source's templates now)."""
    common = rule.rare_is_common([n for key, n in totals.items() if key], counts.records)
    overstated, unusual = counts.overstated(rule), unusual or {}
    span = counts.hi - counts.lo if counts.hi is not None and counts.lo is not None else 0
    flags = []
    for entry_id, line, key, text, severity, said, bucket, timed in items:
        if severity is None and said is None and key not in unusual:
            continue  # held only for its text's z at the release (engine.stream.serve holds every record then)
        surprise = Surprise(line, "", key, said[0], said[1], (), said[2]) if said else None
        tally = StreamTally(key, counts.total.get(key, 0), counts.active.get(key, 0), counts.occupied, counts.records,
                            counts.in_bucket.get((bucket, key), 0), timed, span)  # fmt: skip
        found = weigh(counts.records, key, surprise, tuple(severity) if severity else None, tally, rule,
                      rare_is_common=common, overstated=overstated, unusual=unusual.get(key))  # fmt: skip
        if rule.flags(found):
            judged = f" (judged at the source's record {counts.records:,})"
            flags.append([entry_id, line, text, key, *verdict_fields(found, judged)])
    return flags


class Holds:
    """Releasing held sources: those due (`tick`, once a second) and those that reached HOLD_RECORDS (`release`)."""

    def __init__(self, client: object, keys: str, rule: EvidenceRule, incidents: object,
                 unusual: SourceUnusual | None = None) -> None:  # fmt: skip
        self.client, self.keys, self.rule, self.incidents = client, keys, rule, incidents
        self.unusual = unusual  # the line model's unusual text, calibrated at a release on all the source's templates
        self.prefix, self.due = f"{keys}:hold:", f"{keys}:hold-due"
        self.script = client.register_script(RELEASE)  # type: ignore[attr-defined]
        self.due_script = client.register_script(DUE)  # type: ignore[attr-defined]
        self._next_look = 0.0
        self.released = 0  # flags written by releases

    def apply_keys(self) -> list[str]:
        """APPLY's KEYS[8] and KEYS[9]."""
        return [self.prefix, self.due]

    def tick(self) -> int:
        """Release the sources due (at most RELEASE_AT_ONCE), at most once every LOOK_EVERY_S; returns the flags."""
        now = time.monotonic()
        if now < self._next_look:
            return 0
        self._next_look = now + LOOK_EVERY_S
        due = self.due_script(keys=[self.due], args=[RELEASE_AT_ONCE])
        return sum(self.release(s.decode()) for s in due)

    def release(self, source: str) -> int:
        """Judge the source's held items against its counts now and write their flags once; returns the flags."""
        raw = self.client.lrange(self.prefix + source, 0, -1)  # type: ignore[attr-defined]
        if not raw:
            self.client.zrem(self.due, source)  # type: ignore[attr-defined]
            return 0
        items = [json.loads(r) for r in raw]
        tally = f"{self.keys}:tally:"
        counts = read_counts(self.client, tally, {source: {(i[6], i[2]) for i in items}})[source]
        totals = {k.decode(): int(v) for k, v in self.client.hgetall(f"{tally}{source}:n").items()}  # type: ignore[attr-defined]
        unusual = self.unusual.of(source, [k for k in totals if k], so_far=False) if self.unusual is not None else {}
        flags = judge_held(items, counts, totals, self.rule, unusual)
        inc = self.incidents
        written = self.script(keys=[self.prefix + source, self.due, f"{self.keys}:flags", f"{self.keys}:flags",
                                    f"{self.keys}:flags", inc.key],  # type: ignore[attr-defined]
                              args=[raw[0], len(raw), source, json.dumps(flags), *inc.apply_args()])  # type: ignore[attr-defined]  # fmt: skip
        self.released += max(0, int(written))
        return max(0, int(written))
