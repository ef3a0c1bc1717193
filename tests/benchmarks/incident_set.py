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


# Issue 27's second set: kinds the sets above do not have, written from the real software's own message strings in
# their real formats before the benchmark was ever run on them (its first-sight figure is recorded in the commit
# that added them); never tuned on. The loudest lines are symptoms: other software reacting.
SECOND_SET = [
    incident(
        "PostgreSQL cannot write WAL on a full disk, panics, and every client loses its connection",
        {"pg-wal-disk-full", "disk-full"},
        [
            ("postgres", 'PANIC:  could not write to file "pg_wal/xlogtemp.28211": No space left on device'),
            ("postgres", "LOG:  server process (PID 28211) was terminated by signal 6: Aborted"),
        ],
        [
            ("api", "psycopg2.OperationalError: server closed the connection unexpectedly"),
            ("nginx", 'POST /api/v2/orders HTTP/1.1" 500 312 "-" "okhttp/4.9"'),
        ],
    ),
    incident(
        "PostgreSQL keeps its last slots for superusers; the application pool cannot connect",
        {"pg-too-many-clients", "db-too-many-connections"},
        [
            (
                "postgres",
                "FATAL:  remaining connection slots are reserved for non-replication superuser connections",
            )
        ],
        [
            (
                "api",
                "sqlalchemy.exc.TimeoutError: QueuePool limit of size 20 overflow 10 reached, connection timed out, timeout 30.00",
            ),
            ("nginx", 'GET /api/v2/account HTTP/1.1" 503 197 "-" "okhttp/4.9"'),
        ],
    ),
    incident(
        "a stale postmaster.pid stops PostgreSQL from starting; clients are refused",
        "pg-lock-file-exists",
        [
            ("postgres", 'FATAL:  lock file "postmaster.pid" already exists'),
            (
                "postgres",
                'HINT:  Is another postmaster (PID 1822) running in data directory "/var/lib/postgresql/16/main"?',
            ),
        ],
        [
            (
                "systemd",
                "postgresql@16-main.service: Can't open PID file /run/postgresql/16-main.pid (yet?) after start: No such file or directory",
            ),
            (
                "api",
                'psycopg2.OperationalError: connection to server at "10.20.3.4", port 5432 failed: Connection refused',
            ),
        ],
    ),
    incident(
        "a second mysqld cannot lock ibdata1; the service fails and the app cannot connect",
        "mysql-ibdata-lock",
        [
            ("mysqld", "2026-11-30T09:02:20.114522Z 1 [ERROR] [MY-012574] [InnoDB] Unable to lock ./ibdata1 error: 11"),
            (
                "mysqld",
                "2026-11-30T09:02:20.114601Z 1 [Note] [MY-012575] [InnoDB] Check that you do not already have another mysqld process using the same InnoDB data or log files.",
            ),
        ],
        [
            ("systemd", "mysql.service: Failed with result 'exit-code'."),
            (
                "php-fpm",
                "PHP Warning:  mysqli::__construct(): (HY000/2002): Connection refused in /var/www/shop/db.php on line 12",
            ),
        ],
    ),
    incident(
        "MySQL refuses new connections at max_connections; PHP pages fail",
        {"mysql-too-many-connections", "db-too-many-connections"},
        [
            (
                "php-fpm",
                "PHP Fatal error:  Uncaught mysqli_sql_exception: Too many connections in /var/www/shop/db.php:12",
            )
        ],
        [
            ("nginx", 'GET /checkout HTTP/1.1" 500 5 "-" "Mozilla/5.0"'),
            ("worker", "job 4411 failed: database unavailable, retrying in 10s"),
        ],
    ),
    incident(
        "a MyISAM table is marked as crashed; session writes fail",
        {"mysql-table-crashed", "db-corruption"},
        [
            (
                "mysqld",
                "2026-11-30T09:02:20.114522Z 12 [ERROR] [MY-013113] [Server] /usr/sbin/mysqld: Table './shop/sessions' is marked as crashed and should be repaired",
            )
        ],
        [
            ("app", "session save failed for user 7712, logging the user out"),
            ("nginx", 'POST /login HTTP/1.1" 500 312 "-" "Mozilla/5.0"'),
        ],
    ),
    incident(
        "Redis cannot fork for BGSAVE; MISCONF refuses every write",
        {"redis-fork-enomem", "redis-fork-failed", "fork-enomem"},
        [("redis", "# Can't save in background: fork: Cannot allocate memory")],
        [
            (
                "sidekiq",
                "Redis::CommandError: MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error.",
            ),
            ("nginx", 'POST /api/v2/cart HTTP/1.1" 500 312 "-" "okhttp/4.9"'),
        ],
    ),
    incident(
        "Redis cannot open its snapshot file for writing; BGSAVE fails and clients get MISCONF",
        {"redis-rdb-permission", "redis-rdb-open-failed"},
        [
            (
                "redis",
                "# Failed opening the temp RDB file temp-3111.rdb (in server root dir /var/lib/redis) for saving: Permission denied",
            ),
            ("redis", "# Background saving error"),
        ],
        [
            (
                "app",
                "redis.exceptions.ResponseError: MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error.",
            ),
            ("app", "rate limiter unavailable, allowing request id=req88 through"),
        ],
    ),
    incident(
        "another mongod holds the data directory; the service exits and clients cannot select a server",
        "mongo-dbpath-in-use",
        [
            (
                "mongod",
                "DBException in initAndListen, terminating: DBPathInUse: Unable to lock the lock file: /var/lib/mongodb/mongod.lock (Resource temporarily unavailable). Another mongod instance is already running on the /var/lib/mongodb directory",
            )
        ],
        [
            ("systemd", "mongod.service: Main process exited, code=exited, status=100/n/a"),
            ("api", "MongoServerSelectionError: connect ECONNREFUSED 10.20.3.7:27017"),
        ],
        style="json",
    ),
    incident(
        "MongoDB hits its connection limit; the drivers time out",
        "mongo-too-many-connections",
        [("mongod", "Connection refused because there are too many open connections: 51200")],
        [
            ("api", "MongoWaitQueueTimeoutError: Timed out while checking out a connection from connection pool"),
            ("nginx", 'GET /api/v2/feed HTTP/1.1" 504 167 "-" "okhttp/4.9"'),
        ],
        style="json",
    ),
    incident(
        "Elasticsearch passes the flood-stage watermark; indices go read-only and Logstash retries",
        {"es-flood-stage", "disk-full"},
        [
            (
                "elasticsearch",
                "[o.e.c.r.a.DiskThresholdMonitor] [es-data-1] flood stage disk watermark [95%] exceeded on [xP1qv7VQTn6][es-data-1][/var/lib/elasticsearch] free: 1.9gb[2.1%], all indices on this node will be marked read-only",
            )
        ],
        [
            (
                "logstash",
                'retrying failed action with response code: 403 ({"type"=>"cluster_block_exception", "reason"=>"index [logs-2026.11.30] blocked by: [FORBIDDEN/12/index read-only / allow delete (api)];"})',
            ),
            ("app", "audit event 8812 not indexed: search cluster rejected the write"),
        ],
        style="iso",
    ),
    incident(
        "a Kafka broker loses its only log directory and shuts down; ISRs shrink and producers retry",
        {"kafka-log-dir-failed", "io-error"},
        [
            (
                "kafka",
                "ERROR Error while writing to checkpoint file /var/lib/kafka/data/recovery-point-offset-checkpoint (kafka.server.LogDirFailureChannel) java.io.IOException: Input/output error",
            ),
            (
                "kafka",
                "ERROR Shutdown broker because all log dirs in /var/lib/kafka/data have failed (kafka.log.LogManager)",
            ),
        ],
        [
            (
                "kafka",
                "INFO [Partition orders-3 broker=1] Shrinking ISR from 1,2,3 to 1,3. Leader: (highWatermark: 88121, endOffset: 88130). Out of sync replicas: (brokerId: 2, endOffset: 88100). (kafka.cluster.Partition)",
            ),
            (
                "api",
                "WARN [Producer clientId=producer-1] Got error produce response with correlation id 4412 on topic-partition orders-3, retrying (2147483646 attempts left). Error: NOT_LEADER_OR_FOLLOWER",
            ),
        ],
        style="iso",
    ),
    incident(
        "nothing listens behind nginx any more; every request is answered 502",
        {"nginx-upstream-refused", "connection-refused"},
        [
            (
                "nginx",
                '2026/11/30 09:02:20 [error] 1811#1811: *88121 connect() failed (111: Connection refused) while connecting to upstream, client: 10.20.0.5, server: shop.example, request: "GET /api/v2/cart HTTP/1.1", upstream: "http://127.0.0.1:8000/api/v2/cart", host: "shop.example"',
            )
        ],
        [
            ("nginx", 'GET /api/v2/cart HTTP/1.1" 502 157 "-" "okhttp/4.9"'),
            ("mobile-gw", "cart fetch for user 4411 failed with 502, retrying in 1s"),
        ],
    ),
    incident(
        "nginx runs out of worker_connections; the load balancer sees resets",
        "nginx-worker-connections",
        [("nginx", "2026/11/30 09:02:20 [alert] 1811#1811: 1024 worker_connections are not enough")],
        [
            (
                "haproxy",
                '10.20.0.5:51234 [30/Nov/2026:09:02:21.114] fe_http be_web/web-1 0/0/0/-1/2 502 209 - - SH-- 812/812/40/40/0 0/0 "GET /api/v2/catalog HTTP/1.1"',
            ),
            ("app", "request to web-1.internal failed: connection reset by peer, retrying"),
        ],
    ),
    incident(
        "HAProxy marks both API servers DOWN on failing health checks; no server is left",
        {"haproxy-server-down", "haproxy-no-server"},
        [
            (
                "haproxy",
                'Server be_api/api-1 is DOWN, reason: Layer7 wrong status, code: 500, info: "Internal Server Error", check duration: 3ms. 1 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.',
            ),
            (
                "haproxy",
                'Server be_api/api-2 is DOWN, reason: Layer7 wrong status, code: 500, info: "Internal Server Error", check duration: 4ms. 0 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.',
            ),
            ("haproxy", "backend be_api has no server available!"),
        ],
        [
            (
                "haproxy",
                '10.20.0.5:51234 [30/Nov/2026:09:02:21.114] fe_http be_api/<NOSRV> 0/-1/-1/-1/0 503 217 - - SC-- 12/12/0/0/0 0/0 "GET /api/v2/cart HTTP/1.1"',
            ),
            ("mobile-gw", "upstream api returned 503 Service Unavailable for user 4411"),
        ],
    ),
    incident(
        "the JVM runs out of Metaspace; health checks time out and the pod restarts",
        {"jvm-metaspace", "jvm-out-of-memory"},
        [("orders", 'Exception in thread "http-nio-8080-exec-12" java.lang.OutOfMemoryError: Metaspace')],
        [
            (
                "kubelet",
                'Liveness probe failed: Get "http://10.42.0.17:8080/actuator/health": context deadline exceeded (Client.Timeout exceeded while awaiting headers)',
            ),
            ("nginx", 'POST /api/v2/orders HTTP/1.1" 503 197 "-" "okhttp/4.9"'),
        ],
        style="iso",
    ),
    incident(
        "the JVM hits the GC overhead limit; Kafka consumers leave their group",
        {"jvm-gc-overhead", "jvm-out-of-memory", "java-heap"},
        [("billing", "java.lang.OutOfMemoryError: GC overhead limit exceeded")],
        [
            (
                "billing",
                "[Consumer clientId=consumer-billing-1, groupId=billing] Member consumer-billing-1-4f1c sending LeaveGroup request to coordinator kafka-1:9092 (id: 2147483646 rack: null) due to consumer poll timeout has expired. This means the time between subsequent calls to poll() was longer than the configured max.poll.interval.ms, which typically implies that the poll loop is spending too much time processing messages.",
            ),
            ("api", "invoice 8812 still pending after 120 s, billing consumer lag 40211"),
        ],
        style="iso",
    ),
    incident(
        "a Go service dereferences a nil pointer, panics, and restarts behind the proxy",
        {"go-nil-pointer", "go-panic"},
        [
            ("inventory", "panic: runtime error: invalid memory address or nil pointer dereference"),
            ("inventory", "[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x6b2f1a]"),
        ],
        [
            ("systemd", "inventory.service: Main process exited, code=exited, status=2/INVALIDARGUMENT"),
            (
                "envoy",
                "upstream connect error or disconnect/reset before headers. reset reason: connection termination",
            ),
        ],
    ),
    incident(
        "a Go service writes a map from two goroutines and dies; clients get 502",
        "go-concurrent-map",
        [("pricing", "fatal error: concurrent map writes"), ("pricing", "goroutine 4412 [running]:")],
        [
            ("systemd", "pricing.service: Scheduled restart job, restart counter is at 9."),
            ("nginx", 'GET /api/v2/price?sku=88 HTTP/1.1" 502 157 "-" "okhttp/4.9"'),
        ],
    ),
    incident(
        "a container reaches its memory cgroup limit; the kernel kills java and clients see resets",
        {"oom-kill", "container-oomkilled"},
        [
            ("kernel", "java invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=936"),
            ("kernel", "memory: usage 1048576kB, limit 1048576kB, failcnt 8812"),
            (
                "kernel",
                "Memory cgroup out of memory: Killed process 4412 (java) total-vm:4812344kB, anon-rss:1020112kB, file-rss:20480kB, shmem-rss:0kB, UID:1000 pgtables:2480kB oom_score_adj:936",
            ),
        ],
        [
            ("envoy", "upstream connect error or disconnect/reset before headers. reset reason: connection failure"),
            (
                "api",
                "call to reports.internal failed: read tcp 10.42.0.9:51234->10.42.1.4:8080: read: connection reset by peer",
            ),
        ],
    ),
    incident(
        "a 32-bit host runs out of low memory; the OOM killer takes Apache children",
        "oom-kill",
        [
            ("kernel", "apache2 invoked oom-killer: gfp_mask=0xd0, order=0, oom_score_adj=0"),
            (
                "kernel",
                "Normal free:3308kB min:3328kB low:4160kB high:4992kB active_anon:0kB inactive_anon:0kB present:883912kB managed:858112kB",
            ),
            ("kernel", "Out of memory: Kill process 2211 (apache2) score 42 or sacrifice child"),
            ("kernel", "Killed process 2211 (apache2) total-vm:412344kB, anon-rss:120112kB, file-rss:4480kB"),
        ],
        [
            ("apache2", "[mpm_prefork:notice] [pid 1201] AH00052: child pid 2211 exit signal Killed (9)"),
            (
                "haproxy",
                '10.20.0.5:51234 [30/Nov/2026:09:02:21.114] fe_http be_web/web-1 0/0/0/-1/2 502 209 - - SH-- 12/12/4/4/0 0/0 "GET / HTTP/1.1"',
            ),
        ],
        repeat=8,
    ),
    incident(
        "the NFS server stops answering; tasks hang on it and uploads time out",
        {"nfs-server-not-responding", "hung-task-nfs"},
        [("kernel", "nfs: server nas.internal not responding, still trying")],
        [
            ("kernel", "INFO: task php-fpm:4412 blocked for more than 120 seconds."),
            ("nginx", 'POST /upload HTTP/1.1" 504 167 "-" "Mozilla/5.0"'),
        ],
    ),
    incident(
        "a disk has unreadable sectors (media error, not the link); PostgreSQL reads fail",
        "ata-media-error",
        [
            ("kernel", "ata3.00: exception Emask 0x0 SAct 0x80000 SErr 0x0 action 0x0"),
            ("kernel", "ata3.00: failed command: READ FPDMA QUEUED"),
            ("kernel", "ata3.00: status: { DRDY ERR }"),
            ("kernel", "ata3.00: error: { UNC }"),
            ("kernel", "sd 2:0:0:0: [sda] tag#19 Add. Sense: Unrecovered read error - auto reallocate failed"),
        ],
        [
            ("postgres", 'ERROR:  could not read block 88121 in file "base/16384/24611": Input/output error'),
            ("api", "query for order 8812 failed, returning 500"),
        ],
        repeat=8,
    ),
    incident(
        "the SATA link keeps resetting (cable or port, not the media); writes stall",
        "ata-link-reset",
        [
            ("kernel", "ata2.00: exception Emask 0x10 SAct 0x0 SErr 0x4050000 action 0xe frozen"),
            ("kernel", "ata2: SError: { PHYRdyChg CommWake DevExch }"),
            ("kernel", "ata2: hard resetting link"),
            ("kernel", "ata2: SATA link up 1.5 Gbps (SStatus 113 SControl 310)"),
        ],
        [
            ("app", "write of upload 8812 took 31022 ms"),
            ("nginx", 'POST /api/v2/upload HTTP/1.1" 504 167 "-" "okhttp/4.9"'),
        ],
        repeat=8,
    ),
    incident(
        "ext4 aborts its journal and goes read-only; the application cannot write",
        {"journal-aborted", "fs-corruption"},
        [
            ("kernel", "Aborting journal on device sdb1-8."),
            ("kernel", "EXT4-fs error (device sdb1): ext4_journal_check_start:83: Detected aborted journal"),
            ("kernel", "EXT4-fs (sdb1): Remounting filesystem read-only"),
        ],
        [
            ("app", "OSError: [Errno 30] Read-only file system: '/srv/uploads/2026/11/30/8812.jpg'"),
            ("nginx", 'POST /api/v2/upload HTTP/1.1" 500 312 "-" "okhttp/4.9"'),
        ],
    ),
    incident(
        "an uncorrectable memory error kills a PostgreSQL backend; the server resets every session",
        {"edac-uncorrected", "mce-hardware-error", "ecc-memory", "memory-failure-poison"},
        [
            ("kernel", "mce: [Hardware Error]: Machine check events logged"),
            (
                "kernel",
                "EDAC MC0: 1 UE memory read error on CPU_SrcID#0_Ha#0_Chan#1_DIMM#0 (channel:1 slot:0 page:0x1a2b3c offset:0x0 grain:32 - err_code:0x0000:0x0090 socket:0 ha:0 channel_mask:2 rank:0)",
            ),
        ],
        [
            ("postgres", "LOG:  server process (PID 4412) was terminated by signal 7: Bus error"),
            ("api", "psycopg2.OperationalError: server closed the connection unexpectedly"),
        ],
    ),
    incident(
        "a typo in nginx's configuration: the start request is repeated too quickly and the unit fails",
        "config-error",
        [
            ("nginx", 'nginx: [emerg] unknown directive "proxy_passs" in /etc/nginx/sites-enabled/shop:14'),
            ("nginx", "nginx: configuration file /etc/nginx/nginx.conf test failed"),
        ],
        [
            ("systemd", "nginx.service: Start request repeated too quickly."),
            ("systemd", "nginx.service: Failed with result 'exit-code'."),
            (
                "blackbox",
                "probe https://shop.example/healthz failed: dial tcp 10.20.0.2:443: connect: connection refused",
            ),
        ],
        repeat=4,
    ),
    incident(
        "chrony cannot synchronise after a reboot with a dead RTC; TLS certificates are not yet valid",
        {"chrony-no-sources", "clock-skew"},
        [
            ("chronyd", "Can't synchronise: no selectable sources"),
            ("chronyd", "Source 10.20.0.1 offline"),
        ],
        [
            (
                "api",
                'Post "https://billing.internal:8443/v1/charge": x509: certificate has expired or is not yet valid: current time 2026-11-28T09:02:20Z is before 2026-11-29T00:00:00Z',
            ),
            (
                "apt",
                "E: Release file for http://deb.debian.org/debian/dists/bookworm-updates/InRelease is not valid yet (invalid for another 2d 3h 4min 5s). Updates for this repository will not be applied.",
            ),
        ],
    ),
    incident(
        "sshd is brute-forced from many addresses; MaxStartups drops the deploy user's logins too",
        {"ssh-failed-password", "ssh-invalid-user", "sshd-max-auth-attempts"},
        [
            ("sshd", "Invalid user admin from 45.148.10.71 port 52114"),
            ("sshd", "Failed password for invalid user admin from 45.148.10.71 port 52114 ssh2"),
            ("sshd", "Failed password for root from 218.92.0.112 port 33817 ssh2"),
            ("sshd", "Failed password for invalid user ubuntu from 103.152.118.20 port 40442 ssh2"),
            (
                "sshd",
                "error: maximum authentication attempts exceeded for root from 61.177.172.140 port 12044 ssh2 [preauth]",
            ),
        ],
        [
            ("sshd", "drop connection #10 from [141.98.11.23]:55112 on [10.20.0.2]:22 past MaxStartups"),
            ("sshd", "Connection closed by authenticating user root 180.101.88.240 port 22011 [preauth]"),
            ("deploy", "rsync: connection unexpectedly closed (0 bytes received so far) [sender]; retrying in 10s"),
        ],
        repeat=6,
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
