"""Synthetic log streams: normal background traffic and injected incidents with known causes.

Backgrounds (`train.synth.background`) are plausible steady-state logs of a Linux host (syslog), a Java
service (ISO-8601 application log) and a JSON-lines service. An incident is a
short burst of lines of one failure kind (OOM kill, disk full, SSH brute
force, …), written in the background's style, whose knowledge-base signature
is known: the data builder injects one into a background window so that root
causes vary and are known. Everything is drawn from a seeded `random.Random`.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from train.synth.background import (
    BAD_USERS,
    DEVICES,
    DOMAINS,
    HOSTS,
    PATHS,
    SERVICES,
    STYLES,
    Clock,
    Event,
    normal_events,
    random_ip,
)

# ---------------------------------------------------------------- incidents: bursts with a known signature


@dataclass(frozen=True)
class Incident:
    kind: str  # the knowledge-base signature id the burst is built to match
    make: Callable[[random.Random], list[Event]]


def _n(r: random.Random, lo: int, hi: int) -> int:
    return r.randint(lo, hi)


def _oom(r: random.Random) -> list[Event]:
    pid, proc = r.randint(1000, 60000), r.choice(("java", "postgres", "python3", "node", "mysqld"))
    return [
        (
            "kernel",
            "WARN",
            f"{proc} invoked oom-killer: gfp_mask=0x100cca(GFP_HIGHUSER_MOVABLE), order=0, oom_score_adj=0",
        ),
        (
            "kernel",
            "ERROR",
            f"Out of memory: Killed process {pid} ({proc}) total-vm:{r.randint(2, 16) * 1048576}kB, anon-rss:{r.randint(1, 15) * 1000000}kB",
        ),
        ("systemd", "ERROR", f"{r.choice(SERVICES)}.service: Main process exited, code=killed, status=9/KILL"),
    ]


def _disk_full(r: random.Random) -> list[Event]:
    path = r.choice(PATHS)
    return [
        (
            "postgres",
            "ERROR",
            f'could not write to file "{path}/base/{r.randint(10000, 99999)}": No space left on device',
        )
    ] + [
        (
            r.choice(SERVICES),
            "ERROR",
            f"write {path}/{r.choice(('app.log', 'cache.db', 'upload.tmp'))}: no space left on device",
        )
        for _ in range(_n(r, 1, 4))
    ]


def _io_error(r: random.Random) -> list[Event]:
    dev = r.choice(DEVICES)
    return [
        (
            "kernel",
            "ERROR",
            f"blk_update_request: I/O error, dev {dev}, sector {r.randint(10**6, 10**9)} op 0x0:(READ) flags 0x0",
        )
        for _ in range(_n(r, 2, 5))
    ] + [
        ("kernel", "ERROR", f"Buffer I/O error on dev {dev}1, logical block {r.randint(10**5, 10**8)}, async page read")
    ]


def _readonly(r: random.Random) -> list[Event]:
    dev = r.choice(DEVICES)
    return [
        (
            "kernel",
            "ERROR",
            f"EXT4-fs error (device {dev}1): ext4_journal_check_start:{r.randint(50, 90)}: Detected aborted journal",
        ),
        ("kernel", "CRITICAL", f"EXT4-fs ({dev}1): Remounting filesystem read-only"),
        (r.choice(SERVICES), "ERROR", f"open {r.choice(PATHS)}/state.json: read-only file system"),
    ]


def _brute_force(r: random.Random) -> list[Event]:
    ip = random_ip(r, private=False)
    out: list[Event] = []
    for _ in range(_n(r, 4, 12)):
        user = r.choice(BAD_USERS)
        out.append(("sshd", "INFO", f"Invalid user {user} from {ip} port {r.randint(30000, 65000)}"))
        out.append(
            ("sshd", "WARN", f"Failed password for invalid user {user} from {ip} port {r.randint(30000, 65000)} ssh2")
        )
    return out


def _dns(r: random.Random) -> list[Event]:
    name = r.choice(DOMAINS)
    return [
        (r.choice(SERVICES), "ERROR", f"dial tcp: lookup {name} on {random_ip(r)}:53: no such host")
        for _ in range(_n(r, 2, 5))
    ] + [
        (
            "systemd-resolved",
            "WARN",
            "Server returned error NXDOMAIN, mitigating potential DNS violation DVE-2018-0001, retrying transaction with reduced feature level UDP.",
        )
    ]


def _cert_expired(r: random.Random) -> list[Event]:
    name = r.choice(DOMAINS)
    return [
        (
            r.choice(SERVICES),
            "ERROR",
            f'Get "https://{name}/v1/status": x509: certificate has expired or is not yet valid: current time 2024-0{r.randint(1, 9)}-1{r.randint(0, 9)}T0{r.randint(0, 9)}:00:00Z is after 2024-0{r.randint(1, 9)}-01T00:00:00Z',
        )
        for _ in range(_n(r, 2, 5))
    ]


def _tls_verify(r: random.Random) -> list[Event]:
    name = r.choice(DOMAINS)
    return [
        (
            r.choice(SERVICES),
            "ERROR",
            f"HTTPSConnectionPool(host='{name}', port=443): Max retries exceeded (Caused by SSLError(SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: unable to get local issuer certificate')))",
        )
        for _ in range(_n(r, 2, 4))
    ]


def _refused(r: random.Random) -> list[Event]:
    up = f"{random_ip(r)}:{r.choice((8080, 5432, 6379, 9000, 3000))}"
    return [
        (
            "nginx",
            "ERROR",
            f'connect() failed (111: Connection refused) while connecting to upstream, client: {random_ip(r)}, upstream: "http://{up}/"',
        )
        for _ in range(_n(r, 3, 8))
    ] + [("nginx", "ERROR", f'{random_ip(r)} - - "GET /api/orders HTTP/1.1" 502 157 {r.randint(1, 30)}ms')]


def _crash_loop(r: random.Random) -> list[Event]:
    svc = r.choice(SERVICES)
    out: list[Event] = []
    for i in range(_n(r, 2, 4)):
        out.append(
            (
                "systemd",
                "ERROR",
                f"{svc}.service: Main process exited, code=exited, status={r.choice((1, 2, 78))}/FAILURE",
            )
        )
        out.append(("systemd", "INFO", f"{svc}.service: Scheduled restart job, restart counter is at {i + 1}."))
    out.append(("systemd", "ERROR", f"{svc}.service: Start request repeated too quickly."))
    return out


def _replication(r: random.Random) -> list[Event]:
    seg = f"0000000100000{r.randint(100, 999)}000000{r.randint(10, 99)}"
    return [
        (
            "postgres",
            "ERROR",
            f"could not receive data from WAL stream: ERROR:  requested WAL segment {seg} has already been removed",
        ),
        ("postgres", "INFO", f"waiting for WAL to become available at {r.randint(1, 9)}/{r.getrandbits(28):07X}"),
    ] * _n(r, 1, 3)


def _too_many_clients(r: random.Random) -> list[Event]:
    return [("postgres", "CRITICAL", "sorry, too many clients already") for _ in range(_n(r, 3, 8))] + [
        (
            r.choice(SERVICES),
            "ERROR",
            f"pool error: Cannot get a connection, pool error Timeout waiting for idle object after {r.randint(5, 60)}s",
        )
    ]


def _segfault(r: random.Random) -> list[Event]:
    proc = r.choice(("php-fpm", "nginx", "python3", "node", "envoy"))
    return [
        (
            "kernel",
            "ERROR",
            f"{proc}[{r.randint(1000, 60000)}]: segfault at {r.getrandbits(16):x} ip {r.getrandbits(48):016x} sp {r.getrandbits(48):016x} error 4 in libc.so.6",
        )
        for _ in range(_n(r, 1, 3))
    ]


def _nofile(r: random.Random) -> list[Event]:
    return [
        (
            r.choice(SERVICES),
            "ERROR",
            f"accept tcp [::]:{r.choice((8080, 9000, 443))}: accept4: too many open files; retrying in {r.randint(5, 1000)}ms",
        )
        for _ in range(_n(r, 3, 7))
    ]


def _java_heap(r: random.Random) -> list[Event]:
    return [
        (
            "orders",
            "ERROR",
            f'Exception in thread "pool-{r.randint(1, 9)}-thread-{r.randint(1, 40)}" java.lang.OutOfMemoryError: Java heap space',
        ),
        ("orders", "ERROR", "\tat java.base/java.util.Arrays.copyOf(Arrays.java:3537)"),
    ] * _n(r, 1, 3)


def _conntrack(r: random.Random) -> list[Event]:
    return [("kernel", "WARN", "nf_conntrack: nf_conntrack: table full, dropping packet") for _ in range(_n(r, 3, 8))]


def _hung_task(r: random.Random) -> list[Event]:
    return [
        (
            "kernel",
            "ERROR",
            f"INFO: task {r.choice(('jbd2/sda1-8', 'postgres', 'kworker/u8:2', 'mysqld'))}:{r.randint(100, 60000)} blocked for more than {r.choice((120, 241, 362))} seconds.",
        )
        for _ in range(_n(r, 1, 4))
    ]


def _image_pull(r: random.Random) -> list[Event]:
    image = f"registry.local/{r.choice(SERVICES)}:{r.randint(1, 3)}.{r.randint(0, 20)}.{r.randint(0, 9)}"
    return [
        ("kubelet", "ERROR", f'Failed to pull image "{image}": rpc error: code = NotFound desc = manifest unknown'),
        ("kubelet", "WARN", f'Error: ImagePullBackOff, back-off pulling image "{image}"'),
    ] * _n(r, 1, 3)


def _probe(r: random.Random) -> list[Event]:
    return [
        (
            "kubelet",
            "WARN",
            f'Readiness probe failed: Get "http://{random_ip(r)}:{r.choice((8080, 9090))}/healthz": context deadline exceeded',
        )
        for _ in range(_n(r, 2, 6))
    ]


def _port_in_use(r: random.Random) -> list[Event]:
    port = r.choice((80, 443, 8080, 5432, 6379))
    return [(r.choice(SERVICES), "CRITICAL", f"listen tcp 0.0.0.0:{port}: bind: address already in use")] * _n(r, 1, 3)


def _deadlock(r: random.Random) -> list[Event]:
    return [
        ("postgres", "ERROR", "deadlock detected"),
        (
            "postgres",
            "INFO",
            f"Process {r.randint(1000, 60000)} waits for ShareLock on transaction {r.randint(10**5, 10**7)}; blocked by process {r.randint(1000, 60000)}.",
        ),
    ] * _n(r, 1, 3)


def _raid(r: random.Random) -> list[Event]:
    return [
        ("kernel", "CRITICAL", f"md/raid1:md{r.randint(0, 3)}: Disk failure on {r.choice(DEVICES)}1, disabling device.")
    ]


def _upstream_timeout(r: random.Random) -> list[Event]:
    return [
        (
            "nginx",
            "ERROR",
            f"upstream timed out (110: Connection timed out) while reading response header from upstream, client: {random_ip(r)}",
        )
        for _ in range(_n(r, 2, 6))
    ]


INCIDENTS: tuple[Incident, ...] = (
    Incident("oom-kill", _oom), Incident("disk-full", _disk_full), Incident("io-error", _io_error),
    Incident("fs-readonly", _readonly), Incident("ssh-failed-password", _brute_force), Incident("dns-failure", _dns),
    Incident("tls-cert-expired", _cert_expired), Incident("tls-verify", _tls_verify),
    Incident("connection-refused", _refused), Incident("crash-loop", _crash_loop),
    Incident("replication-broken", _replication), Incident("db-too-many-connections", _too_many_clients),
    Incident("segfault", _segfault), Incident("too-many-open-files", _nofile), Incident("java-heap", _java_heap),
    Incident("conntrack-full", _conntrack), Incident("hung-task", _hung_task), Incident("image-pull", _image_pull),
    Incident("probe-failed", _probe), Incident("port-in-use", _port_in_use), Incident("db-deadlock", _deadlock),
    Incident("raid-degraded", _raid), Incident("timeout", _upstream_timeout),
)  # fmt: skip


def synthetic_window(
    rng: random.Random, style: str, n_lines: int, incident: Incident | None, *, start: datetime | None = None
) -> list[str]:
    """`n_lines` of normal traffic in `style`, with `incident`'s burst (if any) injected at a random point."""
    clock = Clock(start or datetime(2024, rng.randint(1, 12), rng.randint(1, 28), rng.randint(0, 23)), rng)
    host = rng.choice(HOSTS)
    makers = normal_events(rng)
    weights = [rng.random() ** 2 for _ in makers]  # each window has its own mix of traffic
    events: list[Event] = [rng.choices(makers, weights)[0]() for _ in range(n_lines)]
    if incident is not None:
        burst = incident.make(rng)
        at = rng.randint(0, max(0, n_lines - len(burst)))
        events[at : at + len(burst)] = burst  # the burst replaces normal lines: the window keeps its size
        events = events[: max(n_lines, len(burst))]
    write = STYLES[style]
    pids: dict[str, int] = {}
    out = []
    for program, level, message in events:
        pid = None if program == "kernel" else pids.setdefault(program, rng.randint(200, 60000))
        out.append(write(clock, host, program, level, message, pid))
    return out
