"""What `logpt serve` tells Prometheus, and its health: `/metrics`, `/healthz`, `/readyz` on one port.

Counters of entries judged, flags, incidents written, dead letters, claims and reconnections; histograms of batch sizes and
of end-to-end latency (from the time in the entry's id, when the shipper wrote it, to the moment its result
was written); gauges of the group's lag and pending entries (XINFO GROUPS, read every few seconds).
`/healthz` answers 200 while the loop turns (a batch or an empty read within `STALL_S`), `/readyz` while
Redis answers and the group exists.
"""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from engine.stream.serve import Consumer, Stats

STALL_S = 30.0
GROUP_INFO_S = 2.0


class Metrics:
    def __init__(self) -> None:
        r = self.registry = CollectorRegistry()
        self.events_in = Counter("logpt_events_in", "Entries read and judged", registry=r)
        self.flags = Counter("logpt_flags", "Flags written to the flags stream", registry=r)
        self.dead = Counter("logpt_dead_letters", "Entries sent to the dead-letter stream", registry=r)
        self.claims = Counter("logpt_claimed", "Entries claimed from dead consumers", registry=r)
        self.reconnects = Counter("logpt_reconnects", "Lost connections to Redis", registry=r)
        self.groups = Counter("logpt_groups_recreated", "Consumer group found missing and made again", registry=r)
        self.incidents = Counter("logpt_incidents", "Incidents analysed and written to the incidents stream", registry=r)
        self.batch = Histogram("logpt_batch_size", "Entries per batch", registry=r,
                               buckets=(1, 10, 50, 100, 250, 500, 1000, 5000))  # fmt: skip
        self.latency = Histogram("logpt_end_to_end_seconds", "From the entry's id time to its result written",
                                 registry=r, buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 30))  # fmt: skip
        self.lag = Gauge("logpt_consumer_lag", "Entries in the stream the group has not read", registry=r)
        self.pending = Gauge("logpt_pending_entries", "Entries read by the group and not acknowledged", registry=r)
        self.beat = time.monotonic()
        self.ready = False
        self._seen = Stats()
        self._group_at = 0.0
        self._incidents = 0

    def update(self, consumer: Consumer) -> None:
        """After each turn of the loop: counters by what changed, the latencies of the last batch, the group."""
        now, stats, seen = time.monotonic(), consumer.stats, self._seen
        self.beat = now
        self.events_in.inc(stats.entries - seen.entries)
        self.flags.inc(stats.flags - seen.flags)
        self.dead.inc(stats.dead - seen.dead)
        self.claims.inc(stats.claimed - seen.claimed)
        self.reconnects.inc(stats.reconnects - seen.reconnects)
        self.groups.inc(stats.groups_recreated - seen.groups_recreated)
        self.incidents.inc(consumer.incidents.written - self._incidents)
        self._incidents = consumer.incidents.written
        if stats.batches > seen.batches:
            self.batch.observe(len(stats.latencies_ms))
            for ms in stats.latencies_ms:
                self.latency.observe(ms / 1000)
        self._seen = Stats(entries=stats.entries, flags=stats.flags, dead=stats.dead, claimed=stats.claimed,
                           batches=stats.batches, reconnects=stats.reconnects,
                           groups_recreated=stats.groups_recreated)  # fmt: skip
        if now - self._group_at >= GROUP_INFO_S:
            self._group_at = now
            self.ready = self.read_group(consumer)

    def read_group(self, consumer: Consumer) -> bool:
        try:
            groups = consumer.client.xinfo_groups(consumer.stream)  # type: ignore[attr-defined]
        except Exception:  # noqa: BLE001 - any failure means: not ready
            return False
        for group in groups:
            if group["name"].decode() == consumer.group:
                self.pending.set(group["pending"])
                if group.get("lag") is not None:
                    self.lag.set(group["lag"])
                return True
        return False


def serve_http(metrics: Metrics, port: int, host: str = "127.0.0.1") -> ThreadingHTTPServer:
    """Start `/metrics`, `/healthz` and `/readyz` in a daemon thread; returns the server (shutdown() stops it)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the http.server name
            if self.path == "/metrics":
                self.answer(200, generate_latest(metrics.registry), CONTENT_TYPE_LATEST)
            elif self.path == "/healthz":
                alive = time.monotonic() - metrics.beat < STALL_S
                self.answer(200 if alive else 503, b"ok\n" if alive else b"stalled\n")
            elif self.path == "/readyz":
                self.answer(200 if metrics.ready else 503, b"ready\n" if metrics.ready else b"not ready\n")
            else:
                self.answer(404, b"not found\n")

        def answer(self, code: int, body: bytes, kind: str = "text/plain; charset=utf-8") -> None:
            self.send_response(code)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: object) -> None:  # quiet: probes come every few seconds
            pass

    server = ThreadingHTTPServer((host, port), Handler)
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
    return server
