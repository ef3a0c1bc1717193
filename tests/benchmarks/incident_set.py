"""Incidents with known causes, written for the cause benchmark (not the knowledge base's example lines).

Each incident is a cascade as an on-call engineer meets it: routine traffic,
then the cause (one or a few lines), then its symptoms — errors in other
services, retries, restarts, 5xx — which usually outnumber the cause. An
incident names the knowledge-base signatures that count as naming the cause;
a reply that names only a symptom fails. `render(incident, seed)` writes the
log in its style (syslog, ISO-8601 service log or JSON lines) with the cause
at a known line.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass

ROUTINE = [
    ("nginx", 'GET /api/v2/catalog?page={n} HTTP/1.1" 200 {n}3 "-" "Mozilla/5.0"'),
    ("app", "request id=req{n}a served in {n}ms route=/api/v2/catalog"),
    ("cron", "(root) CMD (/usr/local/bin/rotate-metrics --quiet)"),
    ("systemd", "Started Session {n} of user deploy."),
    ("app", "cache refresh finished: {n} keys in 42ms"),
    ("worker", "job {n} picked from queue default, attempt 1"),
    ("worker", "job {n} done in 0.{n}s"),
    ("sshd", "Accepted publickey for deploy from 10.20.0.{n} port 5{n}22 ssh2"),
]


@dataclass(frozen=True)
class Incident:
    name: str
    cause: frozenset[str]  # signature ids that name the cause
    cause_lines: tuple[tuple[str, str], ...]  # (program, message)
    symptoms: tuple[tuple[str, str], ...]  # (program, message), repeated after the cause
    style: str = "syslog"
    repeat: int = 6  # how often the symptom lines repeat (symptoms outnumber causes)


def incident(name: str, cause: str | set[str], cause_lines: list[tuple[str, str]], symptoms: list[tuple[str, str]],
             style: str = "syslog", repeat: int = 6) -> Incident:  # fmt: skip
    causes = frozenset({cause} if isinstance(cause, str) else cause)
    return Incident(name, causes, tuple(cause_lines), tuple(symptoms), style, repeat)


INCIDENTS = [
    incident(
        "disk full, then database writes fail and the API returns 500",
        "disk-full",
        [("postgres", 'ERROR:  could not extend file "base/16384/24611": No space left on device')],
        [
            ("api", "psycopg.errors.DiskFull: could not write to database, rolling back order 88121"),
            ("nginx", 'POST /api/v2/orders HTTP/1.1" 500 312 "-" "okhttp/4.9"'),
        ],
    ),
    incident(
        "the OOM killer ends the worker, systemd restarts it in a loop",
        "oom-kill",
        [
            (
                "kernel",
                "Out of memory: Killed process 30412 (celery) total-vm:9812344kB, anon-rss:7920112kB, file-rss:0kB",
            )
        ],
        [
            ("systemd", "celery-worker.service: Main process exited, code=killed, status=9/KILL"),
            ("systemd", "celery-worker.service: Scheduled restart job, restart counter is at 7."),
        ],
    ),
    incident(
        "DNS stops resolving the payment provider; calls to it fail",
        "dns-failure",
        [
            ("app", "getaddrinfo ENOTFOUND api.payments-example.net"),
            ("systemd-resolved", "Server returned error NXDOMAIN, mitigating potential DNS violation DVE-2018-0001"),
        ],
        [
            ("app", "payment capture failed for order 5512: upstream unavailable, retrying in 2s"),
            ("nginx", 'POST /api/v2/pay HTTP/1.1" 502 166 "-" "okhttp/4.9"'),
        ],
    ),
    incident(
        "an expired certificate breaks every TLS handshake",
        "tls-cert-expired",
        [("envoy", "TLS error: 268436501:SSL routines:OPENSSL_internal:SSLV3_ALERT_CERTIFICATE_EXPIRED")],
        [
            ("envoy", "upstream connect error or disconnect/reset before headers. reset reason: connection failure"),
            ("api", "TLS handshake failed with billing.internal:8443, retrying"),
        ],
    ),
    incident(
        "DATABASE_URL is not set: the container crashes at start and restarts in a loop",
        {"config-error", "python-traceback"},
        [
            ("api", "KeyError: 'DATABASE_URL'"),
            ("api", "RuntimeError: required environment variable DATABASE_URL is not set"),
        ],
        [
            ("kubelet", "Back-off restarting failed container api in pod api-7d9f8-x2x1p"),
            ("kubelet", "api container exited with code 1, CrashLoopBackOff"),
        ],
    ),
    incident(
        "the proxy runs out of file descriptors and refuses connections",
        "too-many-open-files",
        [("haproxy", "accept(): Too many open files; pausing listener for 100 ms")],
        [
            ("app", "upstream request to 10.20.1.15:8080 failed: connection refused"),
            ("nginx", 'GET /api/v2/catalog HTTP/1.1" 503 197 "-" "Mozilla/5.0"'),
        ],
    ),
    incident(
        "the database hits its connection limit",
        "db-too-many-connections",
        [("postgres", "FATAL:  sorry, too many clients already")],
        [
            ("api", "sqlalchemy.exc.OperationalError: connection to server failed, pool exhausted"),
            ("nginx", 'GET /api/v2/account HTTP/1.1" 500 312 "-" "okhttp/4.9"'),
        ],
    ),
    incident(
        "I/O errors on the disk, then the filesystem goes read-only",
        {"io-error"},
        [
            (
                "kernel",
                "blk_update_request: I/O error, dev nvme0n1, sector 812442 op 0x1:(WRITE) flags 0x800 phys_seg 4 prio class 0",
            )
        ],
        [
            ("kernel", "EXT4-fs (nvme0n1p2): Remounting filesystem read-only"),
            ("app", "cannot write session file /var/lib/app/sessions/s1: Read-only file system"),
        ],
    ),
    incident(
        "the conntrack table fills and packets are dropped",
        "conntrack-full",
        [("kernel", "nf_conntrack: nf_conntrack: table full, dropping packet")],
        [
            ("app", "request to inventory.internal timed out after 5000 ms"),
            ("app", "circuit breaker opened for inventory.internal"),
        ],
    ),
    incident(
        "a second instance cannot bind its port; the unit fails",
        "port-in-use",
        [
            ("gunicorn", "Connection in use: ('0.0.0.0', 8000)"),
            ("gunicorn", "OSError: [Errno 98] Address already in use"),
        ],
        [
            ("systemd", "shop-api.service: Failed with result 'exit-code'."),
            ("systemd", "Failed to start Shop API server."),
        ],
    ),
    incident(
        "the registry refuses the image; pods never start",
        "image-pull",
        [
            (
                "kubelet",
                'Failed to pull image "registry.internal/shop/api:2.14.1": rpc error: code = NotFound desc = manifest unknown',
            )
        ],
        [
            ("kubelet", "Error: ImagePullBackOff for container api in pod api-6c5b-kq2zt"),
            ("kubelet", "Readiness probe failed: Get http://10.42.0.17:8080/healthz: connection refused"),
        ],
    ),
    incident(
        "the JVM runs out of heap; requests time out",
        "java-heap",
        [("search", "java.lang.OutOfMemoryError: Java heap space")],
        [
            ("search", "[gc][4112] overhead, spent [9.8s] collecting in the last [10.1s]"),
            ("nginx", 'GET /search?q=shoes HTTP/1.1" 504 167 "-" "Mozilla/5.0"'),
        ],
        style="iso",
    ),
    incident(
        "replication to the replica stops; reads go stale",
        "replication-broken",
        [
            (
                "mysqld",
                "Slave I/O thread: error connecting to master 'repl@10.20.3.4:3306' - retry-time: 60 retries: 12, Error_code: 2003",
            ),
            ("mysqld", "Slave SQL thread stopped because of an error: Error 'Duplicate entry' on query"),
        ],
        [("api", "read-after-write check failed for order 8812: replica lag unknown")],
        style="iso",
    ),
    incident(
        "the clock jumps; tokens are rejected as not yet valid",
        "clock-skew",
        [
            ("chronyd", "System clock wrong by 612.4 seconds, adjustment started"),
            ("kernel", "clocksource: timekeeping watchdog on CPU2: Marking clocksource 'tsc' as unstable"),
        ],
        [
            ("api", "JWT rejected for user 4411: token not yet valid (nbf in the future)"),
            ("nginx", 'GET /api/v2/account HTTP/1.1" 401 88 "-" "okhttp/4.9"'),
        ],
    ),
    incident(
        "a RAID member fails; the array runs degraded and slow",
        "raid-degraded",
        [
            (
                "kernel",
                "md/raid1:md0: Disk failure on sdb1, disabling device. md/raid1:md0: Operation continuing on 1 devices.",
            )
        ],
        [
            ("postgres", "LOG:  checkpoint complete: wrote 8812 buffers; write=88.1 s, sync=41.2 s"),
            ("app", "slow query took 8211ms: SELECT * FROM orders WHERE customer_id = $1"),
        ],
    ),
    incident(
        "password guessing against sshd from one address",
        {"ssh-failed-password", "ssh-invalid-user"},
        [
            ("sshd", "Failed password for invalid user oracle from 185.220.101.33 port 40112 ssh2"),
            ("sshd", "Failed password for root from 185.220.101.33 port 40118 ssh2"),
        ],
        [("sshd", "Disconnected from authenticating user root 185.220.101.33 port 40118 [preauth]")],
        repeat=8,
    ),
    incident(
        "the image service segfaults and is restarted over and over",
        "segfault",
        [
            (
                "kernel",
                "thumbnailer[19211]: segfault at 0 ip 00007f3a2b1c4e10 sp 00007ffd1c2a9b70 error 4 in libvips.so.42[7f3a2b000000+2c0000]",
            )
        ],
        [
            ("systemd", "thumbnailer.service: Main process exited, code=dumped, status=11/SEGV"),
            ("systemd", "thumbnailer.service: Scheduled restart job, restart counter is at 12."),
        ],
    ),
    incident(
        "a Kubernetes node goes NotReady and its pods are evicted",
        "node-not-ready",
        [
            ("kubelet", "Node worker-3 status is now: NodeNotReady"),
            ("kube-controller-manager", "Node worker-3 is unreachable, marking pods for eviction"),
        ],
        [
            ("kube-scheduler", "0/5 nodes are available: 1 node(s) were unschedulable, 4 Insufficient memory."),
            ("api", "dial tcp 10.42.3.9:5432: i/o timeout"),
        ],
    ),
    incident(
        "a task blocks on I/O for minutes; requests time out",
        "hung-task",
        [
            ("kernel", "INFO: task jbd2/dm-0-8:412 blocked for more than 120 seconds."),
            ("kernel", '"echo 0 > /proc/sys/kernel/hung_task_timeout_secs" disables this message.'),
        ],
        [
            ("app", "request id=req9a to /api/v2/upload timed out after 30000 ms"),
            ("nginx", 'POST /api/v2/upload HTTP/1.1" 504 167 "-" "okhttp/4.9"'),
        ],
    ),
    incident(
        "the service cannot read its key file after a permission change",
        "permission-denied",
        [
            (
                "nginx",
                'nginx: [emerg] cannot load certificate key "/etc/nginx/tls/shop.key": BIO_new_file() failed (SSL: error:8000000D:system library::Permission denied)',
            )
        ],
        [
            ("systemd", "nginx.service: Control process exited, code=exited, status=1/FAILURE"),
            ("systemd", "Failed to start A high performance web server and a reverse proxy server."),
        ],
    ),
    incident(
        "the upstream's certificate fails verification; the gateway returns 502",
        "tls-verify",
        [
            (
                "gateway",
                'x509: certificate signed by unknown authority (possibly because of "crypto/rsa: verification error" while trying to verify candidate authority certificate "internal-ca")',
            )
        ],
        [
            ("gateway", "proxy error: upstream inventory.internal:8443 unavailable"),
            ("nginx", 'GET /api/v2/stock HTTP/1.1" 502 166 "-" "Mozilla/5.0"'),
        ],
        style="json",
    ),
    incident(
        "the filesystem runs out of inodes; small writes fail",
        "inode-exhaustion",
        [
            (
                "kernel",
                "EXT4-fs warning (device sda1): ext4_dx_add_entry: Directory index full, reach max htree level :2",
            ),
            ("app", "cannot create /var/spool/app/msg-88121: No space left on device (inodes: 0 free of 6553600)"),
        ],
        [("worker", "job 8812 failed: could not persist message, retrying in 5s")],
    ),
    incident(
        "the JVM cannot create native threads; the pool stalls",
        "thread-exhaustion",
        [
            (
                "orders",
                "java.lang.OutOfMemoryError: unable to create native thread: possibly out of memory or process/resource limits reached",
            )
        ],
        [
            (
                "orders",
                "RejectedExecutionException: Task rejected from ThreadPoolExecutor[Running, pool size = 200, active threads = 200]",
            ),
            ("nginx", 'POST /api/v2/orders HTTP/1.1" 503 197 "-" "okhttp/4.9"'),
        ],
        style="iso",
    ),
    incident(
        "two transactions deadlock; one is rolled back and retried",
        "db-deadlock",
        [
            ("postgres", "ERROR:  deadlock detected"),
            ("postgres", "DETAIL:  Process 8812 waits for ShareLock on transaction 991; blocked by process 8813."),
        ],
        [("api", "transaction for order 7712 rolled back, retrying (attempt 2 of 3)")],
        repeat=3,
    ),
]


# Written after the knowledge base and ranking were fixed on the set above, and never tuned on: the held-out check.
HELD_OUT = [
    incident(
        "the container exceeds its memory limit and is OOMKilled; the deployment restarts it",
        "container-oomkilled",
        [
            (
                "kubelet",
                "Container report-builder in pod reports-5f7c-qq8vd was OOMKilled (exit code 137), memory limit 512Mi",
            )
        ],
        [
            ("kubelet", "Back-off restarting failed container report-builder in pod reports-5f7c-qq8vd"),
            ("api", "report 4411 generation failed: worker unavailable"),
        ],
    ),
    incident(
        "the primary database restarts; every pooled connection is lost",
        "db-connection-lost",
        [
            ("api", "psycopg.OperationalError: server closed the connection unexpectedly"),
            ("api", "lost connection to database at 10.20.3.4:5432, reconnecting"),
        ],
        [
            ("api", "request id=req7 failed: could not fetch cart 9912"),
            ("nginx", 'GET /api/v2/cart HTTP/1.1" 500 312 "-" "okhttp/4.9"'),
        ],
    ),
    incident(
        "the ZooKeeper ensemble loses its leader; clients disconnect",
        "leader-election",
        [
            ("zookeeper", "LEADING - LEADER ELECTION TOOK - 4012 MS"),
            ("zookeeper", "Leader lost: shutting down, new election started"),
        ],
        [
            (
                "kafka",
                "Session 0x1007f2 for server zk-2.internal/10.20.4.2:2181, closing socket connection and attempting reconnect",
            ),
            ("api", "event publish delayed: broker metadata unavailable"),
        ],
        style="iso",
    ),
    incident(
        "the NFS share fails to mount at boot; the backup job cannot write",
        "mount-failed",
        [
            ("systemd", "mnt-backup.mount: Mount process exited, code=exited, status=32/n/a"),
            ("mount", "mount.nfs: Connection timed out while mounting nas.internal:/export/backup"),
        ],
        [("backup", 'rsync: mkdir "/mnt/backup/2026-11-30" failed: No such file or directory (2)')],
    ),
    incident(
        "Python workers cannot allocate memory for a huge import",
        "python-memoryerror",
        [
            (
                "importer",
                "MemoryError: Unable to allocate 7.45 GiB for an array with shape (1000000000,) and data type float64",
            )
        ],
        [("importer", "import batch 77 aborted, 0 rows written"), ("worker", "job 7781 failed after 3 attempts")],
        style="iso",
    ),
    incident(
        "Kafka partitions fall under-replicated after a broker disk fills",
        "disk-full",
        [
            (
                "kafka",
                "ERROR Error while appending records to orders-3 in dir /var/lib/kafka (kafka.server.LogDirFailureChannel) java.io.IOException: No space left on device",
            )
        ],
        [
            ("kafka", "Partition orders-3 is under-replicated: ISR shrunk from 1,2,3 to 1"),
            ("api", "produce to orders timed out after 30000 ms"),
        ],
        style="iso",
    ),
    incident(
        "the upstream rate-limits the scraper; its queue backs up",
        "rate-limited",
        [("scraper", "upstream api.partner.example replied 429 Too Many Requests, Retry-After: 60")],
        [
            ("scraper", "queue depth 8812 above threshold 5000"),
            ("worker", "job 9001 deferred: partner quota exhausted"),
        ],
    ),
    incident(
        "Redis reaches maxmemory; writes are refused",
        "redis-maxmemory",
        [("redis", "OOM command not allowed when used memory > 'maxmemory'.")],
        [
            ("api", "session store write failed for user 7712, falling back to cookie"),
            ("nginx", 'POST /api/v2/login HTTP/1.1" 500 312 "-" "okhttp/4.9"'),
        ],
    ),
]


def _stamp(style: str, second: int, program: str, message: str, pid: int) -> str:
    hh, mm, ss = 9 + second // 3600, (second // 60) % 60, second % 60
    if style == "iso":
        level = "ERROR" if any(w in message for w in ("Error", "error", "Exception", "failed")) else "INFO"
        return f"2026-11-30T{hh:02d}:{mm:02d}:{ss:02d}.{pid % 1000:03d}Z {level} [{program}] {message}"
    if style == "json":
        return json.dumps(
            {"ts": f"2026-11-30T{hh:02d}:{mm:02d}:{ss:02d}Z", "service": program, "pid": pid, "msg": message}
        )
    return f"Nov 30 {hh:02d}:{mm:02d}:{ss:02d} shop-01 {program}[{pid}]: {message}"


def render(case: Incident, seed: int = 0, before: int = 20, after: int = 12) -> tuple[list[str], int]:
    """(the log's lines, the 1-based line of the first cause line): routine traffic, the cause, then the
    symptoms repeated among more routine traffic."""
    rng = random.Random(seed)

    def routine(n: int) -> list[tuple[str, str]]:
        return [(p, m.format(n=rng.randint(1, 99))) for p, m in (rng.choice(ROUTINE) for _ in range(n))]

    programs = {p for p, _ in (*ROUTINE, *case.cause_lines, *case.symptoms)}
    pids = {program: rng.randint(300, 32000) for program in sorted(programs)}
    rows = routine(before)
    cause_at = len(rows) + 1
    rows += case.cause_lines
    for _ in range(case.repeat):
        rows += [*case.symptoms, *routine(2)]
    rows += routine(after)
    return [_stamp(case.style, i * 7, p, m, pids[p]) for i, (p, m) in enumerate(rows)], cause_at
