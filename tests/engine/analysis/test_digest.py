"""The digest: facts of a chunk, counted from its lines."""

from __future__ import annotations

from engine.analysis.digest import TOP_TEMPLATES, build_digest
from engine.analysis.prompts import DIGEST_TOKENS, fit_facts

LINES = [
    "Nov 21 10:00:01 web-01 sshd[812]: Accepted publickey for deploy from 10.0.0.4 port 50122 ssh2",
    "Nov 21 10:00:02 web-01 sshd[812]: Accepted publickey for alice from 10.0.0.5 port 50123 ssh2",
    "Nov 21 10:00:03 web-01 kernel: Out of memory: Killed process 4121 (java) total-vm:8123456kB",
    "Nov 21 10:00:04 web-01 systemd[1]: api.service: Main process exited, code=killed, status=9/KILL",
    'Nov 21 10:00:05 web-01 nginx[90]: open() "/srv/www/index.html" failed (13: Permission denied)',
    "Nov 21 10:00:06 web-01 sshd[812]: Accepted publickey for deploy from 10.0.0.4 port 50124 ssh2",
]


def test_counts_levels_templates_and_time_span() -> None:
    d = build_digest(LINES, first_line=101)
    assert (d.first_line, d.last_line, d.line_count) == (101, 106, 6)
    assert d.format == "syslog"
    assert (d.time_start, d.time_end) == ("Nov 21 10:00:01", "Nov 21 10:00:06")
    assert d.templates[0].count == 3 and "Accepted publickey" in d.templates[0].template
    assert sum(t.count for t in d.templates) == 6


def test_signatures_are_ranked_specific_before_generic_with_their_first_line() -> None:
    d = build_digest(LINES, first_line=101)
    ids = [s.id for s in d.signatures]
    assert ids[0] == "oom-global"  # the kernel's OOM killer on a host-wide shortage (it refines oom-kill)
    assert d.primary.first_line == 103 and d.primary.category == "memory"
    generic = [i for i, s in enumerate(d.signatures) if s.generic]
    assert generic and all(i > ids.index("oom-global") for i in generic)  # the generic ones rank after


def test_entities_are_copied_from_the_lines() -> None:
    d = build_digest(LINES)
    assert d.entities["ip"][0] == ("10.0.0.4", 2)
    assert ("deploy", 2) in d.entities["user"]
    assert ("/srv/www/index.html", 1) in d.entities["path"]


def test_flagged_lines_and_render() -> None:
    d = build_digest(LINES, flagged={3: "unseen template", 5: "rank 9 > k=5"})
    text = d.render()
    assert "- flagged: 2 lines" in text and "line 3: unseen template" in text
    assert "oom-global (memory, critical) 1x from line 3" in text
    assert text.startswith("Facts for lines 1-6 (6 lines, syslog format):")


def test_render_is_bounded_on_a_varied_chunk() -> None:
    lines = [
        f"Nov 21 10:00:{i % 60:02d} host app[1]: event kind{i} happened to item-{i} in /var/x{i}" for i in range(400)
    ]
    d = build_digest(lines)
    assert d.template_count >= 1
    assert d.render().count("\n  - ") <= TOP_TEMPLATES + 10


def test_fit_facts_drops_trailing_lines(vocab) -> None:  # noqa: ANN001
    from engine.lm.tokenizer import Tokenizer

    tok = Tokenizer(*vocab)
    facts = "\n".join(f"- line {i}: something long enough to cost tokens" for i in range(200))
    fitted = fit_facts(tok, facts, DIGEST_TOKENS)
    assert tok.count(fitted) <= DIGEST_TOKENS
    assert facts.startswith(fitted)


def test_empty_and_binary_lines_do_not_break_it() -> None:
    d = build_digest(["", "\x00\x01 weird \x1b[31mred\x1b[0m", "   "])
    assert d.line_count == 3
    assert isinstance(d.render(), str)


def test_an_http_status_is_not_an_exit_code() -> None:
    from engine.analysis.digest import build_digest

    http = build_digest(["api.request GET /v1/orders status=200 duration_ms=9", "GET /x HTTP/1.1 500"], first_line=1)
    assert "exit code" not in http.render()
    systemd = build_digest(["app.service: Main process exited, code=exited, status=2/FAILURE"], first_line=1)
    assert "- exit code: 2 (1)" in systemd.render()


def test_level_guesses_cached_by_digit_shape_equal_a_fresh_guess_for_every_line() -> None:
    """`Mining.level` guesses once per digit shape; the slow reference sniffs every message. Lines of one
    shape that differ in their digits (redrawn at random, "error2" against "error 2" kept apart) must agree."""
    import random
    from pathlib import Path

    from engine.analysis.digest import Mining
    from engine.logs.formats import detect_format, level_of, parse_lines
    from engine.logs.templates import digit_shape
    from train.synth.incidents import INCIDENTS, synthetic_window

    rng = random.Random(5)
    lines: list[str] = ["disk error2 on sda1", "disk error 2 on sda1", "timeout=30 reached", "Timeout 30 reached"]
    while len(lines) < 3000:
        lines += synthetic_window(rng, "syslog", 60, rng.choice((None, *INCIDENTS)))
    loghub = Path(__file__).resolve().parents[4] / "shared" / "datasets" / "loghub"
    for log in sorted(loghub.glob("*/*_2k.log")):
        lines += log.read_text(encoding="utf-8", errors="replace").splitlines()
    lines += ["".join(str(rng.randint(0, 9)) if c.isdigit() else c for c in line) for line in lines]
    mining = Mining()
    for chunk in (lines[i : i + 2000] for i in range(0, len(lines), 2000)):
        for record in parse_lines(chunk, detect_format(chunk).format):
            assert mining.level(record, digit_shape(record.message)) == level_of(record)[0], record.message
    assert len(mining.level.guessed) < len(lines) / 2  # the cache did serve
