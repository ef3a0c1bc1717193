"""Planted-incident syslogs: the incident sits at its span, and the clean twin has the same traffic without it."""

from __future__ import annotations

from train.synth.planted import planted_log


def test_the_incident_is_inside_its_span_and_absent_from_the_clean_log() -> None:
    log, clean = planted_log(7, 600), planted_log(7, 600, incident=False)
    assert log.span is not None and log.incident and clean.span is None and clean.incident is None
    first, last = log.span
    assert 60 <= first <= last <= len(log.lines) and len(log.lines) > len(clean.lines)
    assert log.lines[: first - 1] == clean.lines[: first - 1]  # the same traffic before the incident
    assert planted_log(7, 600).lines == log.lines  # seeded
