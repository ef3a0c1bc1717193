"""The failure knowledge base: every signature is checked against its example line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from engine.analysis.grounding import fact_tokens
from engine.analysis.knowledge import CATEGORIES, KnowledgeBase, default_kb

LOGHUB = Path(__file__).resolve().parents[4] / "shared" / "datasets" / "loghub"
LOGHUB_SYSTEMS = ("HDFS", "Hadoop", "Spark", "Zookeeper", "OpenStack", "BGL", "HPC", "Thunderbird", "Linux", "Mac",
                  "Apache", "OpenSSH", "Proxifier")  # fmt: skip
KB = default_kb()


def test_at_least_sixty_signatures_with_unique_ids() -> None:
    assert len(KB) >= 60
    assert len({s.id for s in KB.signatures}) == len(KB)
    assert {s.category for s in KB.signatures} <= set(CATEGORIES)


@pytest.mark.parametrize("signature", KB.signatures, ids=lambda s: s.id)
def test_each_signature_ranks_first_on_its_example(signature) -> None:  # noqa: ANN001
    assert signature.matches(signature.example)
    assert KB.first(signature.example).id == signature.id


def test_every_loghub_system_is_covered() -> None:
    systems = {name for s in KB.signatures for name in s.systems}
    assert set(LOGHUB_SYSTEMS) - {"Spark"} <= systems
    assert "Spark" in systems  # Spark's sample has no failure line, its signatures come from Spark's own messages


def test_texts_carry_no_numbers_or_paths() -> None:
    """Replies built from the knowledge base stay grounded in the log: it contributes words only."""
    for s in KB.signatures:
        for text in (s.title, s.explanation, *s.remedies):
            assert fact_tokens(text) == [], (s.id, text)


def test_plain_lines_match_nothing() -> None:
    for line in (
        "Nov 21 10:00:01 web-01 sshd[812]: Accepted publickey for deploy from 10.0.0.4 port 50122 ssh2",
        "2024-03-02 10:11:12,345 INFO [main] OrderService - processed order 1234 in 23 ms",
        '10.0.0.7 - - [02/Mar/2024:10:11:12 +0000] "GET /health HTTP/1.1" 200 2 "-" "kube-probe/1.29"',
    ):
        assert KB.match(line) == [], line


def test_malformed_file_names_the_signature() -> None:
    with pytest.raises(ValueError, match="broken"):
        KnowledgeBase.from_toml('[[signature]]\nid = "broken"\npattern = "("\n')


@pytest.mark.skipif(not LOGHUB.is_dir(), reason="Loghub samples not found at ../shared/datasets/loghub")
@pytest.mark.parametrize(
    ("system", "needle", "expected"),
    [
        ("OpenSSH", "Failed password for invalid user", "ssh-failed-password"),
        ("Zookeeper", "Cannot open channel to", "zk-election-channel"),
        ("BGL", "data TLB error interrupt", "cpu-exception"),
        ("HDFS", "Got exception while serving", "hdfs-serving-exception"),
        ("Apache", "workerEnv in error state", "apache-worker-error"),
        ("Proxifier", "Could not resolve", "dns-failure"),
        ("Hadoop", "ERROR IN CONTACTING RM", "yarn-rm-contact"),
        ("HPC", "psu failure", "psu-thermal"),
        ("Linux", "authentication failure;", "pam-auth-failure"),
    ],
)
def test_real_loghub_lines(system: str, needle: str, expected: str) -> None:
    lines = (LOGHUB / system / f"{system}_2k.log").read_text(encoding="utf-8", errors="replace").splitlines()
    line = next(line for line in lines if needle in line)
    assert KB.first(line).id == expected


def test_another_programs_failed_to_start_is_not_a_systemd_unit() -> None:
    from engine.analysis.knowledge import default_kb

    unit = next(s for s in default_kb().signatures if s.id == "systemd-unit-failed")
    assert unit.pattern.search("systemd[1]: Failed to start nginx.service - A high performance web server.")
    assert unit.pattern.search("Failed to start Network Time Synchronization.")
    assert not unit.pattern.search("SQM: Failed to start upload with file pattern: C:\\Windows\\x, flags: 0x2")


def test_every_file_of_the_package_is_loaded_and_ids_stay_unique() -> None:
    from importlib import resources

    files = [f.name for f in resources.files("engine.analysis.knowledge").iterdir() if f.name.endswith(".toml")]
    texts = [resources.files("engine.analysis.knowledge").joinpath(n).read_text(encoding="utf-8") for n in files]
    assert len(KB) == len(KnowledgeBase.from_toml(*texts)) == sum(len(re.findall(r"^\[\[signature\]\]", t, re.MULTILINE)) for t in texts)


@pytest.mark.parametrize("signature", [s for s in KB.signatures if s.false_friends], ids=lambda s: s.id)
def test_false_friends_do_not_match(signature) -> None:  # noqa: ANN001
    for line in signature.false_friends:
        assert not signature.matches(line), line


def test_a_signature_with_programs_fires_only_on_their_lines_or_an_unknown_program() -> None:
    kb = KnowledgeBase.from_toml(
        '[[signature]]\nid = "x"\ntitle = "Scheduler refused a container"\ncategory = "cluster"\nseverity = "error"\n'
        'pattern = "Cannot assign container"\nexplanation = "e"\nremedies = ["r"]\nsystems = ["Kubernetes"]\n'
        'example = "Cannot assign container"\nprograms = ["kube-scheduler"]\n'
    )
    assert kb.match("Cannot assign container", "kube-scheduler") != []
    assert kb.match("Cannot assign container", None) != []
    assert kb.match("Cannot assign container", "org.apache.hadoop.yarn.RMContainerAllocator") == []


def test_a_refinement_replaces_what_it_refines() -> None:
    entry = ('[[signature]]\nid = "{id}"\ntitle = "t"\ncategory = "memory"\nseverity = "critical"\npattern = "{p}"\n'
             'explanation = "e"\nremedies = ["r"]\nsystems = ["Linux"]\nexample = "x"\n{extra}\n')  # fmt: skip
    kb = KnowledgeBase.from_toml(entry.format(id="oom", p="oom-kill", extra="")
                                 + entry.format(id="memcg", p="CONSTRAINT_MEMCG", extra='refines = "oom"'))  # fmt: skip
    assert [s.id for s in kb.match("oom-kill:constraint=CONSTRAINT_MEMCG")] == ["memcg"]
    assert [s.id for s in kb.match("oom-kill:constraint=CONSTRAINT_NONE")] == ["oom"]
    with pytest.raises(ValueError, match="refine"):
        KnowledgeBase.from_toml(entry.format(id="a", p="a", extra='refines = "missing"'))


def test_every_signature_has_a_false_friend() -> None:
    """A signature says what harmless line it must not fire on (a capability, start-up or recovery line)."""
    assert [s.id for s in KB.signatures if not s.false_friends] == []


SERVICES = Path(__file__).resolve().parents[3] / "engine" / "analysis" / "knowledge" / "services.toml"


def _service_ids() -> set[str]:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib

    return {entry["id"] for entry in tomllib.loads(SERVICES.read_text(encoding="utf-8"))["signature"]}


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        # one symptom, several causes: the sub-signature that names the cause ranks first
        ("1:M 02 Mar 2024 10:11:12.345 # Can't save in background: fork: Cannot allocate memory", "redis-fork-enomem"),
        ("redis.exceptions.ResponseError: OOM command not allowed when used memory > 'maxmemory'.", "redis-maxmemory"),
        ("27:C 02 Mar 2024 10:11:12.345 # Failed opening the temp RDB file temp-27.rdb (in server root dir /data) "
         "for saving: Permission denied", "redis-rdb-permission"),
        ("27:C 02 Mar 2024 10:11:12.345 # Failed opening the temp RDB file temp-27.rdb (in server root dir /data) "
         "for saving: Read-only file system", "redis-rdb-readonly"),
        ('2024-03-02 10:11:12.345 UTC [1026] PANIC:  could not write to file "pg_wal/xlogtemp.1026": '
         "No space left on device", "pg-wal-disk-full"),
        ('2024-03-02 10:11:12.345 UTC [41] FATAL:  lock file "postmaster.pid" already exists', "pg-lock-file-exists"),
        ('2024-03-02 10:11:12.345 UTC [41] FATAL:  could not open file "postgresql.auto.conf": Permission denied',
         "pg-file-permission"),
        ("2024-03-02T10:11:12.345678Z 0 [ERROR] [MY-012574] [InnoDB] Unable to lock ./ibdata1 error: 11", "mysql-ibdata-lock"),
        ("Mar  2 10:11:12 lb-1 haproxy[1021]: [WARNING]  (1021) : Server app/app-2 is DOWN, reason: Layer4 connection "
         'problem, info: "Connection refused", check duration: 0ms.', "haproxy-server-down-refused"),
        ("Mar  2 10:11:12 lb-1 haproxy[1021]: [WARNING]  (1021) : Server app/app-3 is DOWN, reason: Layer4 timeout, "
         "check duration: 2001ms.", "haproxy-server-down-timeout"),
        ("Mar  2 10:11:12 lb-1 haproxy[1021]: [WARNING]  (1021) : Server app/app-1 is DOWN, reason: Layer7 wrong "
         "status, code: 503, check duration: 12ms.", "haproxy-server-down-l7"),
        ("Warning  Evicted  2m  kubelet  The node was low on resource: memory.", "k8s-evicted-memory"),
        ("Warning  Evicted  2m  kubelet  The node was low on resource: ephemeral-storage.", "k8s-evicted-ephemeral-storage"),
        ('Warning  Unhealthy  5s  kubelet  Liveness probe failed: Get "http://10.244.1.17:8080/healthz": dial tcp '
         "10.244.1.17:8080: connect: connection refused", "k8s-probe-refused"),
        ("2024/03/02 10:11:12 [error] 31#31: *7 upstream timed out (110: Connection timed out) while connecting to "
         "upstream, client: 10.0.0.7", "nginx-upstream-timeout"),
        ("2024/03/02 10:11:12 [error] 31#31: *7 upstream timed out (110: Connection timed out) while reading response "
         "header from upstream, client: 10.0.0.7", "nginx-upstream-read-timeout"),
        ('Exception in thread "main" java.lang.OutOfMemoryError: Metaspace', "jvm-metaspace"),
        ('Exception in thread "main" java.lang.OutOfMemoryError: Java heap space', "java-heap"),
    ],
)
def test_service_sub_signatures_name_the_cause(line: str, expected: str) -> None:
    assert KB.first(line).id == expected


def test_service_start_up_and_health_lines_match_no_service_signature() -> None:
    """Start-up, capability and "all is well" lines of the services must not give a root cause."""
    services = _service_ids()
    for line in (
        "2024-03-02 10:11:12.345 UTC [1] LOG:  database system is ready to accept connections",
        "2024-03-02 10:11:12.345 UTC [1] LOG:  database system is shut down",
        "2024-03-02T10:11:12.345678Z 0 [System] [MY-010931] [Server] /usr/sbin/mysqld: ready for connections. "
        "Version: '8.0.36'  socket: '/var/run/mysqld/mysqld.sock'  port: 3306  MySQL Community Server - GPL.",
        "1:M 02 Mar 2024 10:11:12.345 * Ready to accept connections tcp",
        "1:M 02 Mar 2024 10:11:12.345 * Background saving terminated with success",
        "[2024-03-02T10:11:12,345][INFO ][o.e.n.Node               ] [es-1] started",
        "[2024-03-02 10:11:12,345] INFO [KafkaServer id=1] started (kafka.server.KafkaServer)",
        "[2024-03-02 10:11:12,345] INFO [Partition orders-3 broker=1] Expanding ISR from 1,3 to 1,3,2 (kafka.cluster.Partition)",
        "2024/03/02 10:11:12 [notice] 1#1: start worker processes",
        "Mar  2 10:11:12 lb-1 haproxy[1021]: Proxy http-in started.",
        "Normal  Started  30s  kubelet  Started container api",
        'time="2024-03-02T10:11:12.345678Z" level=info msg="API listen on /run/docker.sock"',
        "[2024-03-02 10:11:12 +0000] [1] [INFO] Booting worker with pid: 27",
    ):
        assert {s.id for s in KB.match(line)} & services == set(), line


@pytest.mark.slow  # every line of the 13 Loghub samples against every signature (bench_signatures counts them)
@pytest.mark.skipif(not LOGHUB.is_dir(), reason="Loghub samples not found at ../shared/datasets/loghub")
def test_service_signatures_do_not_fire_on_loghub_info_lines() -> None:
    import re

    services = [s for s in KB.signatures if s.id in _service_ids()]
    quiet = re.compile(r"\b(?:INFO|DEBUG|TRACE)\b|\[(?:notice|info|debug)\]")
    for system in LOGHUB_SYSTEMS:
        for line in (LOGHUB / system / f"{system}_2k.log").read_text(encoding="utf-8", errors="replace").splitlines():
            if quiet.search(line):
                assert [s.id for s in services if s.matches(line)] == [], (system, line)
