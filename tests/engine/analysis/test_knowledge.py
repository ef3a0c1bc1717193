"""The failure knowledge base: every signature is checked against its example line."""

from __future__ import annotations

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
    loaded = sum(len(KnowledgeBase.from_toml(resources.files("engine.analysis.knowledge").joinpath(n).read_text(
        encoding="utf-8"))) for n in files)  # fmt: skip
    assert len(KB) == loaded


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
