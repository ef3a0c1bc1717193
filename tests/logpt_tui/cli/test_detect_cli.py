"""`logpt detect` and `logpt templates` on a generated HDFS-style log."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from tests.logpt_tui.cli.test_cli import run

STEPS = [
    "INFO dfs.DataNode$DataXceiver: Receiving block {b} src: /10.0.{i}.1:5001 dest: /10.0.{i}.2:50010",
    "INFO dfs.FSNamesystem: BLOCK* NameSystem.allocateBlock: /user/root/part-{i}. {b}",
    "INFO dfs.DataNode$PacketResponder: PacketResponder {n} for block {b} terminating",
    "INFO dfs.DataNode$PacketResponder: Received block {b} of size 67108864 from /10.0.{i}.1",
    "INFO dfs.FSNamesystem: BLOCK* NameSystem.addStoredBlock: blockMap updated: 10.0.{i}.2:50010 is added to {b} size 67108864",
]


@pytest.fixture
def hdfs_log(tmp_path: Path) -> Path:
    rng = random.Random(0)
    lines = []
    for i in range(80):
        block = f"blk_{rng.randrange(10**15, 10**16)}"
        steps = list(STEPS)
        if i == 70:  # the anomaly: an exception instead of the last two steps
            steps = steps[:3] + [
                "WARN dfs.DataNode$DataXceiver: writeBlock {b} received exception java.io.IOException: Connection reset by peer"
            ]
        for n, step in enumerate(steps):
            lines.append(f"081109 2036{i % 60:02d} {100 + i} " + step.format(b=block, i=i % 250, n=n % 3))
    path = tmp_path / "hdfs.log"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_self_trained_detector_flags_the_exception_and_can_be_saved(
    hdfs_log: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    saved = tmp_path / "det"
    code, out, err = run(
        ["detect", str(hdfs_log), "--self-train", "--epochs", "6", "--json", "--save", str(saved)], capsys
    )
    assert code == 0, err
    objects = [json.loads(line) for line in out.splitlines()]
    sessions = [o for o in objects if o["type"] == "session"]
    assert len(sessions) == 80
    flagged_lines = [o for o in objects if o["type"] == "line" and o["flagged"]]
    assert any("received exception" in (o["template"] or "") for o in flagged_lines)
    assert sum(s["flagged"] for s in sessions) <= 8
    # The saved bundle carries the miner state and session settings: reuse gives the same verdicts.
    code, again, err = run(["detect", str(hdfs_log), "--detector", str(saved), "--json"], capsys)
    assert code == 0, err
    assert [json.loads(line).get("flagged") for line in again.splitlines()] == [o.get("flagged") for o in objects]


def test_detect_needs_one_source(hdfs_log: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["detect", str(hdfs_log)], capsys)
    assert code == 2 and "--self-train" in err


def test_templates_json(hdfs_log: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["templates", str(hdfs_log), "--json"], capsys)
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert sum(r["count"] for r in rows) == 80 * 5 - 1
    top = rows[0]
    assert top["count"] == 80 and top["first_line"] == 1 and "blk_<NUM>" in top["template"]


def test_train_detector_from_sessions_file_and_list_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(0)
    lines = [" ".join(["5", "22"] + ["11", "9"] * rng.randint(1, 3) + ["26", "23", "21"]) for _ in range(120)]
    sessions = tmp_path / "sessions.txt"
    sessions.write_text("\n".join(lines) + "\n")
    monkeypatch.setenv("LOGPT_MODELS", str(tmp_path / "models"))
    code, out, err = run(
        ["train", "detector", str(tmp_path / "models" / "det"), "--sessions-file", str(sessions), "--epochs", "3"],
        capsys,
    )
    assert code == 0, err
    assert "wrote" in out and (tmp_path / "models" / "det" / "model.safetensors").is_file()
    code, out, _ = run(["models"], capsys)
    assert code == 0 and "det" in out and "detector" in out


HDFS = Path(__file__).resolve().parents[4] / "shared" / "datasets" / "hdfs"
BUNDLED = Path(__file__).resolve().parents[3] / "weights" / "detector-hdfs"


@pytest.mark.slow  # the whole HDFS test split through the bundled detector: a benchmark's run
@pytest.mark.skipif(
    not HDFS.is_dir() or not BUNDLED.is_dir(), reason="needs ../shared/datasets/hdfs and weights/detector-hdfs"
)
def test_shipped_hdfs_detector_reproduces_its_evaluation(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        [
            "eval",
            "detector",
            "--dataset",
            "hdfs",
            "--data",
            str(HDFS),
            "--detector",
            str(BUNDLED),
            "--no-deeplog",
            "--json",
        ],
        capsys,
    )
    assert code == 0, err
    result = json.loads(out)["results"][0]
    assert result["recall"] > 0.95 and result["f1"] > 0.9


def test_templates_state_keeps_keys_across_runs(
    hdfs_log: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "state.json"
    _, first, _ = run(["templates", str(hdfs_log), "--json", "--state", str(state)], capsys)
    other = tmp_path / "other.log"
    other.write_text("\n".join(hdfs_log.read_text().splitlines()[::-1]) + "\n")  # same templates, other order
    _, second, _ = run(["templates", str(other), "--json", "--state", str(state)], capsys)
    keys = lambda out: {json.loads(x)["template"]: json.loads(x)["key"] for x in out.splitlines()}  # noqa: E731
    assert keys(first) == keys(second) and state.is_file()


def test_templates_state_never_overwrites_what_is_not_a_state(
    hdfs_log: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = hdfs_log.read_text()
    for target in (hdfs_log, tmp_path):  # the log itself, a folder
        code, out, err = run(["templates", str(hdfs_log), "--state", str(target)], capsys)
        assert code != 0 and not out and err.startswith(f"error: template state {target}")
        assert err.count("\n") == 1
    assert hdfs_log.read_text() == before and not list(tmp_path.glob("*.corrupt"))


def test_json_flags_carry_their_evidence_and_incidents_group_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sample = Path(__file__).resolve().parents[3] / "assets" / "samples" / "web-incident.log"
    code, out, err = run(["detect", str(sample), "--self-train", "--json"], capsys)
    assert code == 0, err
    objects = [json.loads(line) for line in out.splitlines()]
    flags = [o for o in objects if o["type"] == "flag"]
    (incident,) = [o for o in objects if o["type"] == "incident"]  # one incident, reported once
    assert flags and all(f["evidence"] and f["score"] >= 2 for f in flags)
    assert incident["first"] == flags[0]["line"] and incident["last"] == flags[-1]["line"]
    assert incident["lines"] == len(flags) and "severity" in incident["why"]
    assert not any("Started nginx.service" in f["template"] for f in flags)  # routine lines are not flagged
    code, text, err = run(["detect", str(sample), "--self-train"], capsys)
    assert code == 0 and "incident 1 · lines" in text and "too little history" in err


def test_a_short_log_says_which_sequence_model_judged_it(capsys: pytest.CaptureFixture[str]) -> None:
    sample = Path(__file__).resolve().parents[3] / "assets" / "samples" / "web-incident.log"
    code, out, err = run(["detect", str(sample), "--self-train", "--json"], capsys)
    models = [o for o in map(json.loads, out.splitlines()) if o["type"] == "models"]
    assert code == 0 and models == [{"type": "models", "sequence": "pretrained logpt-sequence", "line_model": True}]
    code, _out, err = run(["detect", str(sample), "--self-train"], capsys)
    assert code == 0 and "too little history to self-train: the sequence model is pretrained logpt-sequence" in err
    code, out, err = run(["detect", str(sample), "--self-train", "--json", "--no-sequence-model"], capsys)
    models = [o for o in map(json.loads, out.splitlines()) if o["type"] == "models"]
    assert code == 0 and models[0]["sequence"] == "no sequence model: too little history"
    code, _out, err = run(["detect", str(sample), "--self-train", "--sequence-model", "nope"], capsys)
    assert code != 0 and "no model bundle named 'nope'" in err


def test_the_pure_topk_rule_needs_a_sequence_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sample = Path(__file__).resolve().parents[3] / "assets" / "samples" / "web-incident.log"
    code, _out, err = run(["detect", str(sample), "--self-train", "--rule", "topk"], capsys)
    assert code != 0 and "too little history" in err
    code, _out, err = run(["detect", str(sample), "--self-train", "--rule", "vibes"], capsys)
    assert code != 0 and "unknown rule" in err


def test_long_templates_are_cut_at_a_word_boundary() -> None:
    from logpt_tui.cli.detect import clip

    text = "BLOCK* NameSystem.addStoredBlock: blockMap updated: <IP> is added to <BLK> size <NUM>"
    assert clip(text, 60) == "BLOCK* NameSystem.addStoredBlock: blockMap updated: <IP> is …"
    assert clip("short", 60) == "short" and clip("x" * 80, 60) == "x" * 60 + " …"


def test_eval_finds_its_data_through_logpt_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    system = tmp_path / "data" / "loghub" / "Toy"
    system.mkdir(parents=True)
    lines = [f"2026-11-20 10:00:{i:02d},000 INFO svc: user {i} logged in" for i in range(20)]
    (system / "Toy_2k.log").write_text("\n".join(lines) + "\n")
    rows = ["LineId,EventId,EventTemplate"] + [f"{i + 1},E1,user <*> logged in" for i in range(20)]
    (system / "Toy_2k.log_structured.csv").write_text("\n".join(rows) + "\n")
    monkeypatch.delenv("LOGPT_DATA", raising=False)
    code, _out, err = run(["eval", "parser"], capsys)
    assert code != 0 and "LOGPT_DATA" in err
    monkeypatch.setenv("LOGPT_DATA", str(tmp_path / "data"))
    code, out, _err = run(["eval", "parser", "--json"], capsys)
    assert code == 0 and json.loads(out)["systems"][0]["system"] == "Toy"
