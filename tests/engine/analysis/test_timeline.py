"""The whole-file incident timeline: episodes in order, the cause before its symptoms, what stopped and what goes on."""

from __future__ import annotations

from engine.analysis.timeline import episodes_of, timeline


def log() -> list[str]:
    quiet = [f"Nov 21 09:{m:02d}:00 web-01 app[7]: request {m} served in 12 ms" for m in range(50)]
    crash = [
        "Nov 21 10:00:01 web-01 app[2211]: KeyError: 'DATABASE_URL'",
        "Nov 21 10:00:02 web-01 systemd[1]: app.service: Main process exited, code=exited, status=1/FAILURE",
        "Nov 21 10:00:07 web-01 systemd[1]: app.service: Scheduled restart job, restart counter is at 1.",
    ]
    disk = [
        f"Nov 21 11:{m:02d}:00 web-01 postgres[90]: could not write to file: No space left on device" for m in range(3)
    ]
    return quiet + crash + quiet + disk


def test_episodes_are_in_order_and_the_cause_is_not_the_restart_loop() -> None:
    lines = log()
    found = episodes_of(lines, chunk_lines=20)
    assert [e.first_line for e in found] == sorted(e.first_line for e in found)
    titles = [e.title for e in found]
    assert titles.index("Invalid or missing configuration") < titles.index("Service restarting in a loop")
    text = timeline(found, 1, len(lines))
    assert "**Started:** line 51 (Nov 21 10:00:01)" in text
    assert "**Likely cause:** Invalid or missing configuration" in text


def test_what_stopped_and_what_is_still_going() -> None:
    lines = log()
    text = timeline(episodes_of(lines, chunk_lines=20), 1, len(lines))
    stopped = text.split("### Stopped before the end")[1].split("###")[0]
    going = text.split("### Still going at the end")[1]
    assert "Service restarting in a loop: 1 line, not after line 60" in stopped
    assert "No space left on device" in going and "No space" not in stopped


def test_a_quiet_log_says_so() -> None:
    lines = [f"Nov 21 09:{m:02d}:00 web-01 app[7]: request {m} served" for m in range(30)]
    assert "No errors or known failure signatures" in timeline(episodes_of(lines), 1, 30)


def test_big_files_are_read_in_fewer_coarser_chunks(monkeypatch) -> None:  # noqa: ANN001
    import engine.analysis.timeline as tl

    monkeypatch.setattr(tl, "MAX_CHUNKS", 2)
    seen: list[tuple[int, int]] = []
    found = tl.episodes_of(log(), chunk_lines=20, on_chunk=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (2, 2) and found  # 106 lines in 2 chunks of 53, not 6 of 20
    assert {e.last_seen for e in found} <= {(1, 53), (54, 106)}


def test_mining_once_for_the_file_finds_what_a_fresh_digest_per_chunk_finds() -> None:
    """The timeline keeps one miner and one signature match per template across chunks; the slow reference
    digests every chunk from scratch. Signatures, their first lines and counts must agree."""
    import random

    from engine.analysis.chunker import line_chunks
    from engine.analysis.digest import build_digest
    from train.synth.incidents import INCIDENTS, synthetic_window

    rng = random.Random(3)
    lines: list[str] = []
    while len(lines) < 3000:
        lines += synthetic_window(rng, "syslog", 60, rng.choice((None, *INCIDENTS)))
    reference: dict[str, list[int]] = {}
    for chunk in line_chunks(lines, 500):
        for s in build_digest(chunk.text.split("\n"), first_line=chunk.first_line, entities=False).signatures:
            first, count = reference.get(s.id, [s.first_line, 0])
            reference[s.id] = [min(first, s.first_line), count + s.count]
    fast = {e.key: [e.first_line, e.count] for e in episodes_of(lines, chunk_lines=500) if e.signature}
    assert fast == reference and len(fast) >= 10


def test_a_file_mapped_in_two_halves_and_absorbed_equals_one_map_and_streams_in_order() -> None:
    """The whole-file map of two processes: the second half's episodes folded into the first's."""
    import random

    from engine.analysis.timeline import TimelineMap
    from engine.logs.formats import detect_format
    from train.synth.incidents import INCIDENTS, synthetic_window

    rng = random.Random(7)
    lines: list[str] = []
    while len(lines) < 4000:
        lines += synthetic_window(rng, "syslog", 60, rng.choice((None, *INCIDENTS)))
    fmt = detect_format(lines[:200]).format
    whole = TimelineMap(fmt, 500)
    whole.feed(lines)
    whole.close()
    blocks = TimelineMap(fmt, 500)  # fed as blocks read from disk: any sizes, chunks cut the same
    for start in range(0, len(lines), 777):
        blocks.feed(lines[start : start + 777])
    blocks.close()
    assert [vars(e) for e in blocks.episodes()] == [vars(e) for e in whole.episodes()]
    streamed: list[int] = []
    half = 2000  # a chunk boundary, as the parallel map cuts
    first = TimelineMap(fmt, 500, on_episode=lambda e: streamed.append(e.first_line))
    second = TimelineMap(fmt, 500, first_line=half + 1)
    first.feed(lines[:half])
    second.feed(lines[half:])
    first.close()
    second.close()
    first.absorb(second.episodes())
    signatures = {e.key: (e.first_line, e.first_time, e.count, e.last_seen) for e in whole.episodes() if e.signature}
    assert {e.key: (e.first_line, e.first_time, e.count, e.last_seen) for e in first.episodes() if e.signature} == (
        signatures
    )
    assert len(signatures) >= 10 and streamed == sorted(streamed) == [e.first_line for e in first.episodes()]
