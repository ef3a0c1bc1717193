"""The pretrained models in a stream (engine.stream.pretrained): the sequence model where `logpt serve` has no
detector, against the slow reference of `TextSeq.score` over each key's window; the line model's unusual text and
the over-stating level field, against `logpt detect`'s pipeline over the whole file (BGL_2k)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

redis = pytest.importorskip("redis")

from engine.detect.evidence import EvidenceRule  # noqa: E402
from engine.detect.incremental import window_start  # noqa: E402
from engine.detect.textseq import find_text_seq  # noqa: E402
from engine.detect.unusual import find_line_lm  # noqa: E402
from engine.logs.formats import detect_format, parse_lines  # noqa: E402
from engine.logs.sessions import group_sessions  # noqa: E402
from engine.stream.pretrained import text_of  # noqa: E402
from engine.stream.serve import Consumer, pipeline_for  # noqa: E402
from engine.stream.ship import ship_files  # noqa: E402
from tests.engine.detect.test_pipeline import syslog  # noqa: E402
from tests.engine.stream.test_hold import pipelines, stream_flags  # noqa: E402
from tests.engine.stream.test_serve import NOVEL, drain  # noqa: E402

BGL = Path("/work/shared/datasets/loghub/BGL/BGL_2k.log")
BATCH = 16  # every read takes this many entries (FIRST_COUNT): the templates so far are known per batch


def test_without_a_detector_each_key_is_scored_once_as_the_pretrained_model_scores_its_window(redis_server, tmp_path: Path) -> None:  # noqa: ANN001
    """Every key of every session (its floor raised so that each is returned): the probability and rank the stream
    gives it equal `TextSeq.score` over the key's window (the window `logpt detect` scores it in, cut at the key),
    against the source's templates up to the end of the key's batch; sessions longer than the model's context
    included."""
    client = redis.Redis.from_url(redis_server.url)
    lines = syslog(300)
    for i in (40, 41, 170, 250):
        lines[i] = NOVEL.format(n=i)
    (tmp_path / "app.log").write_text("\n".join(lines) + "\n")
    fmt = detect_format(lines).format
    sequence = replace(find_text_seq(), floor=1.01)  # every key "outside the expected set": all of them returned
    consumer = Consumer(client, pipeline_for(None, fmt, EvidenceRule(), sequence=sequence), name="c1", batch=BATCH,
                        hold_records=0)  # fmt: skip
    got: dict[tuple[str, int], tuple[float, int]] = {}
    advance = consumer.pretrained.advance

    def spy(steps, sources, candidates):  # noqa: ANN001, ANN202
        found = advance(steps, sources, candidates)
        for step, verdicts in zip(steps, found, strict=True):
            got.update(((step.name, step.count + j), (v.prob, v.rank)) for j, v in verdicts.items())
        return found

    consumer.pretrained.advance = spy  # type: ignore[method-assign]
    ship_files(client, [tmp_path / "app.log"], once=True)
    drain(consumer, client, len(lines))
    keyed = [(r, consumer.reader.key_of(r.message)) for r in parse_lines(lines, fmt)]
    text, source = text_of({}), str(tmp_path / "app.log")
    block, want = sequence.block_size, {}
    for session in group_sessions(keyed, consumer.pipeline.spec):
        for p, line in enumerate(session.lines):
            so_far = {k: text(k) for r, k in keyed if (r.line - 1) // BATCH <= (line - 1) // BATCH}
            start = window_start(p, block)
            scored = sequence.score([list(session.keys[start : p + 1])], so_far)[0]
            want[(f"{source}|{session.id}", p)] = (float(scored.probs[-1]), int(scored.ranks[-1]))
    assert max(len(s.keys) for s in group_sessions(keyed, consumer.pipeline.spec)) > block
    assert got.keys() == want.keys()
    for at, (prob, rank) in want.items():
        assert got[at][0] == pytest.approx(prob, rel=1e-4, abs=1e-7) and got[at][1] == rank, at


@pytest.mark.skipif(not BGL.exists(), reason="the Loghub samples are in /work/shared/datasets")
def test_unusual_text_and_an_overstating_level_field_are_judged_as_logpt_detect_judges_the_file(redis_server, tmp_path: Path) -> None:  # noqa: ANN001
    """BGL_2k held whole (hold_records 2,000) and released when quiet: the stream's flags, line and evidence kinds,
    equal the pipeline's over the file with the line model ('data storage interrupt' and 'program interrupt' flag
    with unusual text; the FATAL register dumps' level field over-states). Before, the stream weighed neither."""
    client = redis.Redis.from_url(redis_server.url)
    lines = BGL.read_text(errors="replace").splitlines()
    (tmp_path / "bgl.log").write_text("\n".join(lines) + "\n")
    detect, served = (replace(p, line_lm=find_line_lm()) for p in pipelines(lines))
    book = detect.judge(lines)
    want = {f.line: sorted({e.kind for e in f.evidence}) for f in book.flags()}
    assert book.levels_overstated() and sum("unusual" in kinds for kinds in want.values()) >= 50
    ship_files(client, [tmp_path / "bgl.log"], once=True)
    consumer = Consumer(client, served, name="c1", batch=200, incident_quiet_s=0.3, hold_records=2_000)
    assert stream_flags(client, consumer, len(lines)) == want
    details = [e for _i, f in client.xrange("{logs}:flags") for e in json.loads(f[b"evidence"]) if e[0] == "unusual"]
    assert details and all("over the source's" in e[2] and "so far" not in e[2] for e in details)


def test_serve_without_a_detector_judges_with_the_pretrained_sequence_model_and_says_so(redis_server, tmp_path: Path,  # noqa: ANN001
                                                                                       capsys, monkeypatch) -> None:  # noqa: ANN001
    """`logpt serve` with no --detector (it was required) builds the consumer `logpt detect` builds for a short file:
    the pretrained sequence model and the line model, named on its start line; --no-sequence-model says none."""
    from engine.stream import serve as serve_module  # noqa: PLC0415
    from tests.logpt_tui.cli.test_cli import run  # noqa: PLC0415

    client = redis.Redis.from_url(redis_server.url)
    (tmp_path / "app.log").write_text("\n".join(syslog(120)) + "\n")
    ship_files(client, [tmp_path / "app.log"], once=True)
    built = []

    def one_pass(consumer, _stop, _on_turn):  # noqa: ANN001, ANN202 - the loop, until the stream is judged
        built.append(consumer)
        drain(consumer, client, 120)
        return consumer.stats

    monkeypatch.setattr(serve_module, "serve", one_pass)
    code, _out, err = run(["serve", "--redis", redis_server.url, "--incident-quiet-s", "1"], capsys)
    assert code == 0 and "judged by pretrained logpt-sequence (no detector) · line model" in " ".join(err.split())
    assert built[0].pretrained is not None and built[0].unusual is not None and built[0].scorer is None
    client.flushall()
    ship_files(client, [tmp_path / "app.log"], once=True)
    code, _out, err = run(["serve", "--redis", redis_server.url, "--no-sequence-model", "--no-line-model"], capsys)
    assert code == 0 and "no sequence model (severity, bursts and rarity)" in " ".join(err.split())
    assert built[1].pretrained is None and built[1].unusual is None
