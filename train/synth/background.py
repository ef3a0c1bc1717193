"""Synthetic background traffic: hosts, users and services, a clock, the three line styles, and the
steady-state events of a Linux host and its services.

`train.synth.incidents` injects failure bursts into windows of it; `train.synth.random_traffic` writes its made-up
windows in the same styles. Everything is drawn from a seeded `random.Random`.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

HOSTS = ("web-1", "web-2", "api-3", "db-1", "worker-7", "edge-2", "node-4", "cache-1")
USERS = ("deploy", "alice", "bob", "ci", "backup", "www-data", "postgres", "svc-orders")
BAD_USERS = ("admin", "test", "oracle", "guest", "ubuntu", "pi", "support", "user1")
SERVICES = ("nginx", "api", "orders", "billing", "search", "auth", "queue-worker", "metrics")
PATHS = ("/var/lib/postgresql/data", "/var/log/nginx", "/srv/app/uploads", "/var/lib/docker", "/data/kafka", "/tmp")
DEVICES = ("sda", "sdb", "nvme0n1", "vdb", "xvdf")
DOMAINS = ("api.internal", "db.prod.local", "auth.example.com", "registry.local", "queue.svc.cluster.local")


def random_ip(rng: random.Random, private: bool = True) -> str:
    if private:
        return f"10.{rng.randint(0, 40)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
    return f"{rng.choice((45, 61, 103, 117, 185, 193, 203))}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"


@dataclass
class Clock:
    now: datetime
    rng: random.Random

    def tick(self, max_seconds: float = 20.0) -> datetime:
        self.now += timedelta(seconds=self.rng.uniform(0.01, max_seconds))
        return self.now


# ---------------------------------------------------------------- styles: how a (program, level, message) line looks


def syslog_line(clock: Clock, host: str, program: str, level: str, message: str, pid: int | None) -> str:
    tag = f"{program}[{pid}]" if pid else program
    return f"{clock.tick():%b} {clock.now.day:2d} {clock.now:%H:%M:%S} {host} {tag}: {message}"


def iso_line(clock: Clock, host: str, program: str, level: str, message: str, pid: int | None) -> str:
    ts = clock.tick()
    return f"{ts:%Y-%m-%d %H:%M:%S},{ts.microsecond // 1000:03d} {level:<5} [{program}] {message}"


def json_line(clock: Clock, host: str, program: str, level: str, message: str, pid: int | None) -> str:
    ts = clock.tick()
    record = {"ts": f"{ts:%Y-%m-%dT%H:%M:%S}.{ts.microsecond // 1000:03d}Z", "level": level.lower(), "logger": program}
    return json.dumps(record | {"host": host, "msg": message})


STYLES: dict[str, Callable[..., str]] = {"syslog": syslog_line, "iso": iso_line, "json": json_line}

# ---------------------------------------------------------------- normal traffic: (program, level, message) makers

Event = tuple[str, str, str]


def normal_events(rng: random.Random) -> list[Callable[[], Event]]:
    r = rng
    return [
        lambda: (
            "sshd",
            "INFO",
            f"Accepted publickey for {r.choice(USERS)} from {random_ip(r)} port {r.randint(30000, 65000)} ssh2",
        ),
        lambda: ("sshd", "INFO", f"pam_unix(sshd:session): session opened for user {r.choice(USERS)} by (uid=0)"),
        lambda: ("sshd", "INFO", f"pam_unix(sshd:session): session closed for user {r.choice(USERS)}"),
        lambda: (
            "CRON",
            "INFO",
            f"({r.choice(USERS)}) CMD (/usr/local/bin/{r.choice(('rotate', 'backup', 'sync', 'report'))}.sh)",
        ),
        lambda: ("systemd", "INFO", f"Started {r.choice(SERVICES)}.service."),
        lambda: ("systemd", "INFO", f"Starting {r.choice(('logrotate', 'apt-daily', 'man-db', 'fstrim'))}.service..."),
        lambda: (
            "kernel",
            "INFO",
            f"[{r.randint(1000, 900000)}.{r.randint(0, 999999):06d}] IPv4: martian source {random_ip(r)} from {random_ip(r)}, on dev eth0",
        ),
        lambda: (
            "nginx",
            "INFO",
            f'{random_ip(r)} - - "GET /api/{r.choice(("orders", "users", "health", "items"))}/{r.randint(1, 99999)} HTTP/1.1" 200 {r.randint(80, 9000)} {r.randint(1, 250)}ms',
        ),
        lambda: (
            "nginx",
            "INFO",
            f'{random_ip(r)} - - "POST /api/{r.choice(("orders", "login", "events"))} HTTP/1.1" 201 {r.randint(20, 900)} {r.randint(3, 400)}ms',
        ),
        lambda: (
            "api",
            "INFO",
            f"request_id={r.getrandbits(64):016x} method=GET path=/v1/items status=200 duration_ms={r.randint(1, 300)}",
        ),
        lambda: (
            "orders",
            "INFO",
            f"Processed order {r.randint(100000, 999999)} for customer {r.randint(1000, 99999)} in {r.randint(5, 900)} ms",
        ),
        lambda: ("billing", "DEBUG", f"Cache hit ratio {r.uniform(0.5, 0.99):.2f} over {r.randint(100, 5000)} lookups"),
        lambda: (
            "queue-worker",
            "INFO",
            f"Job {r.getrandbits(32):08x} completed in {r.uniform(0.1, 30):.1f}s (queue=default, attempts=1)",
        ),
        lambda: (
            "postgres",
            "INFO",
            f"checkpoint complete: wrote {r.randint(10, 9000)} buffers ({r.uniform(0, 20):.1f}%); sync files={r.randint(1, 90)}",
        ),
        lambda: ("dhclient", "INFO", f"DHCPACK of {random_ip(r)} from {random_ip(r)}"),
        lambda: (
            "metrics",
            "INFO",
            f"flushed {r.randint(100, 20000)} samples to {r.choice(DOMAINS)} in {r.randint(2, 400)} ms",
        ),
    ]
