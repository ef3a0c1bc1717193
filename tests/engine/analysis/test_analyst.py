"""The analyst: replies written from the digest, grounded by construction."""

from __future__ import annotations

import random

import pytest

from engine.analysis.analyst import analyze, category_of, root_cause_category
from engine.analysis.digest import build_digest
from engine.analysis.grounding import check_grounding
from engine.analysis.knowledge import default_kb
from engine.analysis.queries import NAMES as QUERIES
from train.synth.incidents import INCIDENTS, synthetic_window

QUIET = [f"Nov 21 10:00:{i:02d} web-01 sshd[812]: Accepted publickey for deploy from 10.0.0.4 port 5012{i % 10} ssh2" for i in range(20)]  # fmt: skip


def test_quiet_chunk() -> None:
    d = build_digest(QUIET)
    assert "No warnings or errors." in analyze(d, "summary")
    assert category_of(analyze(d, "root_cause")) == "none"
    assert "No action needed" in analyze(d, "action_items")


@pytest.mark.parametrize("incident", INCIDENTS, ids=lambda i: i.kind)
def test_injected_incident_is_found_and_every_reply_is_grounded(incident) -> None:  # noqa: ANN001
    rng = random.Random(7)
    lines = synthetic_window(rng, "syslog", 30, incident)
    d = build_digest(lines, first_line=500)
    expected = default_kb().by_id[incident.kind].category
    refined = default_kb().by_id[d.primary.id].refines == incident.kind  # a narrower reading of the same incident
    assert root_cause_category(d) == expected or refined or d.primary.id in {"ssh-invalid-user"}  # brute force reads as a scan too
    for query in QUERIES:
        reply = analyze(d, query)
        grounding = check_grounding(reply, ["\n".join(lines), d.render()])
        assert grounding.ungrounded == (), (query, grounding.ungrounded)
        assert reply.startswith("## ")


def test_root_cause_names_category_signature_and_evidence_line() -> None:
    lines = QUIET[:5] + ["Nov 21 10:01:00 db-1 kernel: EXT4-fs (sda2): Remounting filesystem read-only"] + QUIET[5:]
    reply = analyze(build_digest(lines, first_line=11), "root_cause")
    assert category_of(reply) == "storage"
    title = default_kb().first("EXT4-fs (sda2): Remounting filesystem read-only", "kernel").title
    assert f"**Signature:** {title} (1 line from line 16)" in reply
    assert "- line 16: `Nov 21 10:01:00 db-1 kernel: EXT4-fs (sda2): Remounting filesystem read-only`" in reply


def test_errors_without_a_signature_are_unknown() -> None:
    lines = QUIET + ["2024-03-02 10:11:12,345 ERROR [main] Billing - reconciliation mismatch for batch 77"]
    reply = analyze(build_digest(lines), "root_cause")
    assert category_of(reply) == "unknown"
    assert "reconciliation mismatch" in reply


def test_the_cause_comes_before_the_restart_loop_it_causes() -> None:
    from engine.analysis.analyst import analyze
    from engine.analysis.digest import build_digest

    lines = [
        "Nov 21 10:00:01 web-01 app[2211]: Traceback (most recent call last):",
        "Nov 21 10:00:01 web-01 app[2211]: KeyError: 'DATABASE_URL'",
        "Nov 21 10:00:02 web-01 systemd[1]: app.service: Main process exited, code=exited, status=1/FAILURE",
        "Nov 21 10:00:07 web-01 systemd[1]: app.service: Scheduled restart job, restart counter is at 1.",
        "Nov 21 10:00:08 web-01 app[2290]: KeyError: 'DATABASE_URL'",
        "Nov 21 10:00:14 web-01 systemd[1]: app.service: Start request repeated too quickly.",
    ]
    reply = analyze(build_digest(lines, first_line=1), "root_cause")
    assert "**Signature:** Invalid or missing configuration" in reply and "DATABASE_URL" in reply
    assert reply.index("Service restarting in a loop") > reply.index("### Also seen")  # the symptom, seen too
