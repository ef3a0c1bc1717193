"""One batch's effects, applied exactly once in one Lua step (`logpt serve`'s APPLY): each entry's key appended
to its session's context and counted, its source's template counts (engine.stream.tally), its flag XADDed with
the why and joined to its source's open incident (engine.stream.incidents), its marker set, and the batch
acknowledged — an entry whose marker was set already (a redelivery) changes nothing but is acknowledged.

`Batch` is what the consumer sends: each distinct string once (a batch's entries share a few sources, sessions,
keys and buckets), entries as rows of places. `Applier` sends it without waiting for the reply, so the consumer
reads the next batch while Redis applies this one. What it leaves out: judging (engine.stream.serve).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from engine.stream.hold import PUSH
from engine.stream.incidents import JOIN
from engine.stream.tally import COLLECT, FLUSH

# KEYS: `{stream}:done:`, `{stream}:ctx:`, the flags stream, `{stream}:tally:`, `{stream}:ctx-count`, `{stream}:inc`
# the stream itself, the `{stream}:hold:` prefix and `{stream}:hold-due` (engine.stream.hold); ARGV: the batch
# (`Batch.to_json`), the keys kept per session, the markers' and the buckets' time to live, JOIN's four (ARGV[5..8]),
# the consumer group and the longest hold in ms. An entry's effects apply only if its marker was
# unset; every entry of the batch (and the dead-lettered ones) is acknowledged in the same step. A flag's fields
# are XADDed as `entry`, `source`, `line`, `text`, `template`, `score`, `why`, `evidence`.
APPLY = (
    """
local batch = cjson.decode(ARGV[1])
local str, entries, flags, acks, holds = batch[1], batch[2], batch[3], batch[4], batch[5]
"""
    + JOIN
    + PUSH
    + COLLECT
    + """
local keep, ttl = tonumber(ARGV[2]), tonumber(ARGV[3])
local flagged = 0
local pushes = {}
for _, e in ipairs(entries) do
  acks[#acks + 1] = e[1]
  if redis.call('SET', KEYS[1] .. e[1], '1', 'NX', 'EX', ttl) then
    for j = 7, #e, 2 do
      local p = pushes[e[j]]
      if p == nil then
        p = {}
        pushes[e[j]] = p
      end
      p[#p + 1] = str[e[j + 1]]
    end
    if e[2] > 0 then
      local f = flags[e[2]]
      local source = str[f[1]]
      redis.call('XADD', KEYS[3], '*', 'entry', e[1], 'source', source, 'line', f[3], 'text', f[4], 'template',
                 str[f[2]], 'score', f[5], 'why', f[6], 'evidence', f[7])
      join_incident(e[1], {source, f[3], f[6], f[4], f[8]})
      flagged = flagged + 1
    elseif e[2] < 0 then
      local h = holds[-e[2]]
      hold_push(str[h[1]], h[2])
    end
    if e[3] > 0 then tally_add(e[3], e[4], e[5], e[6]) end
  end
end
"""
    + FLUSH
    + """
incidents_flush()
holds_flush()
for s, keys in pairs(pushes) do
  local name = str[s]
  for i = 1, #keys, 1000 do redis.call('RPUSH', KEYS[2] .. name, unpack(keys, i, math.min(i + 999, #keys))) end
  redis.call('LTRIM', KEYS[2] .. name, -keep, -1)
  redis.call('HINCRBY', KEYS[5], name, #keys)
end
for i = 1, #acks, 1000 do redis.call('XACK', KEYS[7], ARGV[9], unpack(acks, i, math.min(i + 999, #acks))) end
return flagged
"""
)


@dataclass
class Batch:
    """What APPLY applies of a batch (its ARGV[1]), each string once (session names, keys, sources, buckets are
    the same for many entries): per entry [id, flag, source, key, bucket, severe (1: its level field says ERROR or
    worse), then its context pushes as session, key pairs], strings as their places in `strings` (from 1; a flag's
    place in `flags`, from 1; 0: no flag, no
    counts; below 0: its place in `holds`, from 1, negated); per flag [source, template (places), line, text, score,
    why, evidence (JSON), its evidence kinds (comma-separated)]; the ids of the batch's dead-lettered entries; per
    held entry [source (place), its item (engine.stream.hold.held_item)]."""

    strings: dict[str, int] = field(default_factory=dict)  # string → its place
    entries: list[list[object]] = field(default_factory=list)
    flags: list[list[object]] = field(default_factory=list)
    dead: list[str] = field(default_factory=list)
    holds: list[list[object]] = field(default_factory=list)

    def at(self, text: str) -> int:
        """The place of `text` in `strings`, added when new."""
        place = self.strings.get(text)
        if place is None:
            place = self.strings[text] = len(self.strings) + 1
        return place

    def to_json(self) -> str:
        return json.dumps([list(self.strings), self.entries, self.flags, self.dead, self.holds])


class Applier:
    """APPLY, sent without waiting: `send` writes the command and returns the wait for its reply, so the caller
    works (parses the next batch) while Redis runs the script. The command goes on a connection of the pool of
    the node that holds the keys' slot (one Redis: the client's pool; a cluster: the slot's primary, since the
    stream's keys share one slot), held until the wait. A reply that says the slot moved, or that the node lost
    its scripts, is answered by applying again through the client (which follows the cluster); a
    single-connection client, or a cluster client that does not know the slot's node now, waits at once."""

    def __init__(self, client: object) -> None:
        self.client, self.script = client, client.register_script(APPLY)  # type: ignore[attr-defined]
        single = getattr(client, "connection", None) is not None  # Redis(single_connection_client=True)
        self.cluster = hasattr(client, "get_node_from_key")  # RedisCluster: a pool per node
        self.pool = None if single else getattr(client, "connection_pool", None)

    def send(self, keys: Sequence[object], args: Sequence[object]) -> Callable[[], object]:
        """Send APPLY with `keys` and `args`; the returned call waits for (and returns) its reply. It must be
        called, even when the caller fails meanwhile: the connection goes back to the pool then."""
        pool = self.pool_of(keys[0]) if self.cluster else self.pool
        if pool is None:
            reply = self.script(keys=keys, args=args)
            return lambda: reply
        conn = pool.get_connection()
        try:
            conn.send_command("EVALSHA", self.script.sha, len(keys), *keys, *args)
        except BaseException:
            conn.disconnect()
            pool.release(conn)
            raise
        return lambda: self._reply(pool, conn, keys, args)

    def pool_of(self, key: object) -> Any:  # noqa: ANN401 - redis-py's ConnectionPool
        """A cluster's connection pool of the node that holds `key`'s slot; None when the client does not know the
        node now (the cluster changes: the client finds it)."""
        import redis  # noqa: PLC0415

        try:
            node = self.client.get_node_from_key(key)  # type: ignore[attr-defined]
        except redis.exceptions.RedisClusterException:
            return None
        return self.client.get_redis_connection(node).connection_pool  # type: ignore[attr-defined]

    def _reply(self, pool: object, conn: object, keys: Sequence[object], args: Sequence[object]) -> object:
        import redis  # noqa: PLC0415

        # Answered before the script runs: no scripts (Redis restarted), the slot moved or is migrating (a cluster)
        again = (redis.exceptions.NoScriptError, redis.exceptions.AskError, redis.exceptions.TryAgainError,
                 redis.exceptions.ClusterDownError)  # fmt: skip
        try:
            return conn.read_response()  # type: ignore[attr-defined]
        except again:
            pass
        except BaseException:
            conn.disconnect()  # type: ignore[attr-defined]
            raise
        finally:
            pool.release(conn)  # type: ignore[attr-defined]
        return self.script(keys=keys, args=args)
