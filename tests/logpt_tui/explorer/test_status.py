"""The status line fitted to its width: short forms first, then the least important parts go."""

from __future__ import annotations

from logpt_tui.explorer.status import Part, fit


def parts() -> list[Part]:
    return [Part("web-incident.log", 0), Part("32 lines", 0), Part("syslog", 3),
            Part("2026-11-21 09:58:01–10:03:40", 2), Part("following", 0), Part("chunk 3/5", 1),
            Part("17 flagged (no sequence model: too little history)", 1, "17 flagged"),
            Part("logpt-analyst · (4.5M params) on cpu float32", 1, "logpt-analyst")]  # fmt: skip


def test_everything_shows_when_it_fits() -> None:
    assert fit(parts(), 300).count(" · ") == 8


def test_the_format_goes_first_then_the_time_span_then_short_forms() -> None:
    line = fit(parts(), 185)
    assert "syslog" not in line and "2026-11-21" in line and "(4.5M params)" in line
    line = fit(parts(), 110)
    assert "2026-11-21" not in line and "logpt-analyst" in line and "chunk 3/5" in line
    line = fit(parts(), 81)
    assert line == "web-incident.log · 32 lines · following · chunk 3/5 · 17 flagged · logpt-analyst"


def test_what_must_stay_stays_and_the_rest_is_cut() -> None:
    line = fit(parts(), 30)
    assert line.startswith("web-incident.log · 32 lines") and line.endswith("…") and len(line) == 30
