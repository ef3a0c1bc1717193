"""Incidents in a stream: flags close together from one source, analysed once quiet, written exactly once.

`logpt detect` groups its flags into incidents (flags at most `EvidenceRule.incident_gap` lines apart); a
stream does the same per source file, as the flags are written, and closes an incident once no flag has
joined it for `quiet_s` seconds (of Redis's clock, so consumers on machines whose clocks differ agree).

State, under the stream's hash tag (`{stream}:inc…`, one Redis Cluster slot), so any consumer can close any
incident:

- `{stream}:inc:ID`, a hash per incident not yet written (ID: its first flagged entry's id): source, first and
  last flagged line, first and last flag time, flags; `{stream}:inc:ID:flags`, its first KEPT_FLAGS flags
  (line, entry id, why, evidence kinds, the record's text cut to TEXT_KEPT);
- `{stream}:inc-open`, source → the incident flags of that source join; `{stream}:inc-due`, incident → its
  last flag time (0 once sealed: a flag came too far away or too late, and opened the next one).

JOIN is spliced into `engine.stream.apply.APPLY`: a flag joins its source's open incident in the same Lua
step that writes the flag and sets the entry's marker, so a re-applied entry joins nothing twice.

Closing (`Incidents.tick`, from each consumer's loop, once a second): CLAIM takes incidents quiet for
`quiet_s` with `SET {stream}:inc-claim:ID NX PX claim_ttl_ms` (a closer killed after its claim holds it that
long, then another redoes it); the closer reads the incident's lines back from the stream (XREVRANGE /
XRANGE around its entries, CONTEXT_LINES before and after, at most MAX_LINES and SCAN_ENTRIES entries read),
asks the analyst (engine.analysis: digest, cause finder, root cause; no language model) and WRITE adds the
incident to `{stream}:incidents` only if its done marker `{stream}:inc-done:ID` is unset and the incident is
as claimed, sets the marker and drops the state: written once, whoever closes it, however many race.

Left out: an incident is not revised once written (a flag of its source after it opens the next one), and
lines the stream no longer holds (trimmed by MAXLEN) are analysed from the flagged records kept with it.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from engine.analysis.analyst import analyze, category_of
from engine.analysis.cause import CauseLine
from engine.analysis.digest import build_digest
from engine.analysis.knowledge import default_kb
from engine.analysis.queries import SIGNATURE_FIELD
from engine.logs.formats.spec import LogFormat
from engine.stream import tagged

QUIET_S = 60.0  # an incident is closed once no flag has joined it for this long (`logpt serve --incident-quiet-s`)
CONTEXT_LINES = 20  # lines of its source read before its first flag and after its last, for the analyst
MAX_LINES = 2_000  # lines analysed at most (a longer incident: its first ones, the entry says its whole span)
SCAN_ENTRIES = 20_000  # stream entries read at most on each side of the first flag to find them
PAGE = 1_000  # entries per XRANGE
KEPT_FLAGS = 100  # flags kept with an open incident (its count goes on)
TEXT_KEPT = 500  # characters of a flagged record kept with it (analysed when the stream was trimmed)
CLOSE_EVERY_S = 1.0  # how often a consumer looks for quiet incidents
BUSY_SHARE = 0.1  # while entries wait, closing takes at most this share of a consumer's time (the rest wait in Redis)
CLOSE_AT_ONCE = 4  # incidents one look claims at most (each is analysed between two batches)
SIGNATURE_LINE = re.compile(re.escape(SIGNATURE_FIELD) + r"\s*(.+?)(?: \(\d+ lines? from line \d+\))?$", re.MULTILINE)

# Lua spliced into APPLY (engine.stream.apply) before its loop; `join_incident(id, inc)` runs for each applied
# entry with a flag, `incidents_flush()` after the loop. KEYS[6] is `{stream}:inc`; ARGV[5] the quiet time in ms,
# ARGV[6] the gap in lines, ARGV[7] KEPT_FLAGS, ARGV[8] TEXT_KEPT. `inc` is {source, line, why, text, kinds}, the
# text kept cut to TEXT_KEPT characters (as Python cuts a str: UTF-8 continuation bytes are not counted). A source's open incident
# is read once a script and followed in Lua through the batch's flags; its hash, kept flags, due time and the
# open map are written once at the end (or when a flag seals it): the state each flag joining in turn would leave,
# at a few calls a batch instead of six a flag. Every flag of one script has the script's time (TIME, read once).
JOIN = """
local inc_now, inc_at = nil, {}
local function inc_cut(s, n)
  if #s <= n then return s end
  local chars = 0
  for i = 1, #s do
    local b = string.byte(s, i)
    if b < 128 or b >= 192 then
      chars = chars + 1
      if chars > n then return string.sub(s, 1, i - 1) end
    end
  end
  return s
end
local function inc_write(st)
  local rec = KEYS[6] .. ':' .. st.id
  if st.new then
    redis.call('HSET', rec, 'source', st.source, 'first_line', st.first, 'last_line', st.last, 'first_ms', inc_now,
               'last_ms', inc_now, 'flags', st.flags)
    redis.call('HSET', KEYS[6] .. '-open', st.source, st.id)
  else
    redis.call('HSET', rec, 'first_line', st.first, 'last_line', st.last, 'last_ms', inc_now, 'flags', st.flags)
  end
  if #st.items > 0 then redis.call('RPUSH', rec .. ':flags', unpack(st.items)) end
  redis.call('ZADD', KEYS[6] .. '-due', st.sealed and 0 or inc_now, st.id)
end
local function join_incident(id, inc)
  if inc_now == nil then
    local t = redis.call('TIME')
    inc_now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  end
  local gap, kept = tonumber(ARGV[6]), tonumber(ARGV[7])
  local source, line = inc[1], tonumber(inc[2])
  local item = cjson.encode({line, id, inc[3], inc[5], inc_cut(inc[4], tonumber(ARGV[8]))})
  local st = inc_at[source]
  if st == nil then
    st = {}
    local open = redis.call('HGET', KEYS[6] .. '-open', source)
    if open then
      local f = redis.call('HMGET', KEYS[6] .. ':' .. open, 'first_line', 'last_line', 'last_ms', 'flags')
      if f[1] then
        st = {id = open, source = source, first = tonumber(f[1]), last = tonumber(f[2]), flags = tonumber(f[4]),
              items = {}, fresh = inc_now - tonumber(f[3]) < tonumber(ARGV[5])}
      end
    end
    inc_at[source] = st
  end
  if st.id and (st.new or st.fresh) and line >= st.first - gap and line <= st.last + gap then
    st.first, st.last, st.flags = math.min(st.first, line), math.max(st.last, line), st.flags + 1
    if st.flags <= kept then st.items[#st.items + 1] = item end
    st.dirty = true
    return
  end
  if st.id and st.dirty then  -- sealed: a flag too far away or too late opens the next one
    st.sealed = true
    inc_write(st)
  elseif st.id then
    redis.call('ZADD', KEYS[6] .. '-due', 0, st.id)
  end
  inc_at[source] = {id = id, source = source, first = line, last = line, flags = 1, items = {item}, new = true,
                    dirty = true}
end
local function incidents_flush()
  for _, st in pairs(inc_at) do
    if st.dirty then inc_write(st) end
  end
end
"""

# KEYS[1] `{stream}:inc`; ARGV: quiet ms, claim TTL ms, the closer's name, incidents at most. Returns the
# claimed incidents as {id, HGETALL, LRANGE flags}; written or vanished ones are dropped from the due set.
CLAIM = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ids = redis.call('ZRANGEBYSCORE', KEYS[1] .. '-due', '-inf', now - tonumber(ARGV[1]), 'LIMIT', 0, tonumber(ARGV[4]))
local out = {}
for _, id in ipairs(ids) do
  local rec = KEYS[1] .. ':' .. id
  if redis.call('EXISTS', KEYS[1] .. '-done:' .. id) == 1 or redis.call('EXISTS', rec) == 0 then
    redis.call('ZREM', KEYS[1] .. '-due', id)
  elseif redis.call('SET', KEYS[1] .. '-claim:' .. id, ARGV[3], 'NX', 'PX', tonumber(ARGV[2])) then
    table.insert(out, {id, redis.call('HGETALL', rec), redis.call('LRANGE', rec .. ':flags', 0, -1)})
  end
end
return out
"""

# KEYS[1] `{stream}:inc`, KEYS[2] `{stream}:incidents`; ARGV: id, its flags and last flag time as claimed, the
# entry's fields (JSON list), the done marker's TTL in s, the closer's name. 1 written, 0 written already,
# -1 changed since the claim (a flag joined it) or gone: the claim is dropped and it is closed again later.
WRITE = """
local id = ARGV[1]
local rec = KEYS[1] .. ':' .. id
if redis.call('EXISTS', KEYS[1] .. '-done:' .. id) == 1 then return 0 end
local f = redis.call('HMGET', rec, 'flags', 'last_ms', 'source')
if f[1] ~= ARGV[2] or f[2] ~= ARGV[3] then
  if redis.call('GET', KEYS[1] .. '-claim:' .. id) == ARGV[6] then redis.call('DEL', KEYS[1] .. '-claim:' .. id) end
  return -1
end
redis.call('XADD', KEYS[2], '*', unpack(cjson.decode(ARGV[4])))
redis.call('SET', KEYS[1] .. '-done:' .. id, '1', 'EX', tonumber(ARGV[5]))
redis.call('DEL', rec, rec .. ':flags', KEYS[1] .. '-claim:' .. id)
redis.call('ZREM', KEYS[1] .. '-due', id)
if redis.call('HGET', KEYS[1] .. '-open', f[3]) == id then redis.call('HDEL', KEYS[1] .. '-open', f[3]) end
return 1
"""


@dataclass(frozen=True)
class KeptFlag:
    line: int
    entry: str
    why: str
    kinds: str  # the evidence kinds, comma-separated (novel,severity)
    text: str  # the record's text, cut to TEXT_KEPT


@dataclass(frozen=True)
class Claimed:
    """An incident as a closer claimed it."""

    id: str
    source: str
    first_line: int
    last_line: int
    flags: int
    first_ms: int
    last_ms: int
    kept: tuple[KeptFlag, ...]

    @property
    def entries(self) -> tuple[str, str]:
        """The first and last of its kept flags' entry ids, in stream order."""
        ids = sorted((f.entry for f in self.kept), key=entry_order)
        return ids[0], ids[-1]

    def why(self) -> str:
        """Its evidence kinds and how many kept flags showed each (as `logpt detect` says an incident's why)."""
        counts: dict[str, int] = {}
        for f in self.kept:
            for kind in filter(None, f.kinds.split(",")):
                counts[kind] = counts.get(kind, 0) + 1
        return ", ".join(f"{kind} ×{n}" for kind, n in sorted(counts.items(), key=lambda kv: -kv[1]))


@dataclass(frozen=True)
class RootCause:
    """What the analyst says of an incident's lines."""

    category: str  # the knowledge base's category, "unknown", or "none"
    signature: str  # the title of the signature named, "" when none is
    onset: CauseLine | None  # the cause finder's first line of the trouble
    evidence: tuple[str, ...]  # the reply's evidence items, as written
    text: str  # the analyst's whole root-cause reply (Markdown)


def entry_order(entry: str) -> tuple[int, int]:
    ms, _, seq = entry.partition("-")
    return int(ms), int(seq or 0)


def as_claimed(reply: Sequence) -> Claimed:  # type: ignore[type-arg]
    """One incident of CLAIM's reply."""
    raw_id, pairs, kept = reply
    fields = {pairs[i].decode(): pairs[i + 1].decode() for i in range(0, len(pairs), 2)}
    flags = tuple(KeptFlag(int(line), entry, why, kinds, text) for line, entry, why, kinds, text in map(json.loads, kept))
    return Claimed(raw_id.decode(), fields["source"], int(fields["first_line"]), int(fields["last_line"]),
                   int(fields["flags"]), int(fields["first_ms"]), int(fields["last_ms"]), flags)  # fmt: skip


def root_cause(lines: Sequence[str], first_line: int, fmt: LogFormat, flagged: dict[int, str]) -> RootCause:
    """The analyst's root cause of consecutive `lines` (the first is line `first_line`), `flagged` by line."""
    digest = build_digest(lines, first_line=first_line, fmt=fmt, flagged=flagged)
    text = analyze(digest, "root_cause")
    signature = SIGNATURE_LINE.search(text)
    section = text.partition("### Evidence\n")[2].split("\n\n")[0] if "### Evidence\n" in text else ""
    evidence = tuple(item[2:] for item in section.splitlines() if item.startswith("- "))
    return RootCause(category_of(text) or "unknown", signature.group(1).strip() if signature else "",
                     digest.cause.onset, evidence, text)  # fmt: skip


def _line_of(fields: dict[bytes, bytes]) -> int | None:
    """The entry's first line, None when it names none (an entry `serve` dead-letters)."""
    line = fields.get(b"line", b"")
    return int(line) if line.isdigit() else None


def _add(found: dict[int, str], fields: dict[bytes, bytes], first: int) -> int:
    """The record's lines into `found` (line → text); its first line, `first`."""
    for k, text in enumerate(fields.get(b"text", b"").decode("utf-8", "replace").split("\n")):
        found.setdefault(first + k, text)
    return first


def _entries_of(client: object, stream: str, source: bytes, start: str, want: int, scan: int, *,
                backwards: bool) -> Iterator[tuple[int, dict[bytes, bytes]]]:  # fmt: skip
    """The source's entries (first line, fields) from `start` on, newest first when `backwards`: in pages of
    `want` entries, doubling (other sources' entries interleave), at most `scan` entries read."""
    read = 0
    while read < scan:
        count = max(1, min(want, PAGE, scan - read))  # want ≤ 0: an incident whose first line is below `lo` (line 0)
        want *= 2
        if backwards:
            page = client.xrevrange(stream, max=start, min="-", count=count)  # type: ignore[attr-defined]
        else:
            page = client.xrange(stream, min=start, max="+", count=count)  # type: ignore[attr-defined]
        read += len(page)
        for _id, fields in page:
            line = _line_of(fields) if fields.get(b"source") == source else None
            if line is not None:
                yield line, fields
        if len(page) < count:
            return
        start = "(" + page[-1][0].decode()


def read_lines(client: object, stream: str, inc: Claimed, lo: int, hi: int, scan: int = SCAN_ENTRIES) -> dict[int, str]:
    """Lines `lo`..`hi` of the incident's source, read back from the stream: newest first before its first
    flagged entry, then on from it, each way at most `scan` entries (other sources' entries interleave). A
    record whose line goes the wrong way (the file was rotated) ends the reading that way."""
    source, (first, _last) = inc.source.encode(), inc.entries
    found: dict[int, str] = {}
    below = None  # one source alone: one page back
    for line, fields in _entries_of(client, stream, source, "(" + first, inc.first_line - lo + 1, scan, backwards=True):
        if below is not None and line >= below:  # rotated: an older file at the path
            return _within(found, lo, hi)
        below = _add(found, fields, line)
        if below <= lo:
            break
    above = 0
    for line, fields in _entries_of(client, stream, source, first, hi - inc.first_line + 2, scan, backwards=False):
        if line < above or line > hi:  # rotated (a new file at the path), or past what is wanted
            return _within(found, lo, hi)
        above = _add(found, fields, line)
    return _within(found, lo, hi)


def _within(found: dict[int, str], lo: int, hi: int) -> dict[int, str]:
    return {n: t for n, t in found.items() if lo <= n <= hi}


@dataclass(frozen=True)
class IncidentConfig:
    quiet_s: float = QUIET_S  # an incident is closed once no flag has joined it for this long
    gap: int = 50  # flags at most this many lines apart join one incident (EvidenceRule.incident_gap)
    claim_ttl_ms: int = 30_000  # a closer killed after its claim holds the incident this long (serve's claim_idle_ms)
    done_ttl_s: int = 86_400  # how long a written incident's marker is kept


class Incidents:
    """One consumer's side of its stream's incidents: the keys and arguments its APPLY passes to JOIN, and
    closing the quiet ones (claim, analyse, write once)."""

    def __init__(self, client: object, stream: str, fmt: LogFormat, config: IncidentConfig, name: str) -> None:
        self.client, self.stream, self.fmt, self.config, self.name = client, stream, fmt, config, name
        self.key = f"{tagged(stream)}:inc"  # the stream's hash tag: one Redis Cluster slot with the stream
        self.incidents = f"{tagged(stream)}:incidents"
        self.claim_script = client.register_script(CLAIM)  # type: ignore[attr-defined]
        self.write_script = client.register_script(WRITE)  # type: ignore[attr-defined]
        self.written = 0
        self._next_look = 0.0
        default_kb()  # the analyst's signatures read now (~0.2 s), not between two batches at the first incident closed

    def apply_args(self) -> list[object]:
        """APPLY's ARGV[5..8] (its KEYS[6] is `self.key`)."""
        return [int(self.config.quiet_s * 1000), self.config.gap, KEPT_FLAGS, TEXT_KEPT]

    def tick(self, busy: bool = False) -> int:
        """Close what is quiet, at most once every CLOSE_EVERY_S, and while the consumer is `busy` (its last read
        was full) at most BUSY_SHARE of its time; returns the incidents written."""
        now = time.monotonic()
        if now < self._next_look:
            return 0
        written = self.close_due()
        spent = time.monotonic() - now
        self._next_look = now + max(CLOSE_EVERY_S, spent / BUSY_SHARE if busy else 0.0)
        return written

    def close_due(self) -> int:
        written = 0
        for inc in self.claim():
            written += self.write(inc, self.analyse(inc))
        return written

    def claim(self, most: int = CLOSE_AT_ONCE) -> list[Claimed]:
        """Incidents quiet for `quiet_s` that no live closer holds, now held by this one."""
        reply = self.claim_script(keys=[self.key], args=[int(self.config.quiet_s * 1000), self.config.claim_ttl_ms,
                                                         self.name, most])  # fmt: skip
        return [as_claimed(r) for r in reply]

    def analyse(self, inc: Claimed) -> list[str]:
        """The incident's entry: its span and flags, and the analyst's root cause of its lines."""
        lo = max(1, inc.first_line - CONTEXT_LINES)
        hi = min(inc.last_line + CONTEXT_LINES, lo + MAX_LINES - 1)
        found = read_lines(self.client, self.stream, inc, lo, hi)
        for f in inc.kept:  # lines the stream no longer holds (trimmed), from the flagged records kept
            for k, text in enumerate(f.text.split("\n")):
                if lo <= f.line + k <= hi:
                    found.setdefault(f.line + k, text)
        if not found:  # more flags than kept, their first ones outside the span analysed
            found = {f.line: f.text.split("\n")[0] for f in inc.kept}
        first, last = min(found), max(found)
        lines = [found.get(n, "") for n in range(first, last + 1)]
        flagged = {f.line: f.why for f in inc.kept if first <= f.line <= last}
        try:
            cause = root_cause(lines, first, self.fmt, flagged)
        except Exception as e:  # noqa: BLE001 - lines the analyst cannot read must not stop every consumer in turn
            cause = RootCause("unknown", "", None, (), f"## Root cause\nThe analyst failed on lines {first}-{last}: "
                                                       f"{type(e).__name__}: {e}")  # fmt: skip
        onset = [cause.onset.line, cause.onset.why, cause.onset.text] if cause.onset is not None else None
        first_entry, last_entry = inc.entries
        return ["incident", inc.id, "source", inc.source, "first_line", str(inc.first_line),
                "last_line", str(inc.last_line), "flags", str(inc.flags), "why", inc.why(),
                "lines", f"{first}-{last}", "first_entry", first_entry, "last_entry", last_entry,
                "opened_ms", str(inc.first_ms), "last_flag_ms", str(inc.last_ms),
                "category", cause.category, "signature", cause.signature, "onset", json.dumps(onset),
                "evidence", json.dumps(cause.evidence), "flagged", json.dumps([[f.line, f.why] for f in inc.kept]),
                "root_cause", cause.text]  # fmt: skip

    def write(self, inc: Claimed, fields: list[str]) -> bool:
        """Add the incident to `{stream}:incidents` unless it was written already or changed since the claim."""
        done = self.write_script(keys=[self.key, self.incidents],
                                 args=[inc.id, inc.flags, inc.last_ms, json.dumps(fields), self.config.done_ttl_s,
                                       self.name])  # fmt: skip
        self.written += int(done) == 1
        return int(done) == 1
