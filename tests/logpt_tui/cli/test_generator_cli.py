"""`logpt analyze --engine analyst`, `logpt train tokenizer|generator` and `logpt eval generator` end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.logpt_tui.cli.test_cli import run

INCIDENT = """\
Nov 21 10:00:01 web-01 sshd[812]: Accepted publickey for deploy from 10.0.0.4 port 50122 ssh2
Nov 21 10:00:03 web-01 kernel: Out of memory: Killed process 4121 (java) total-vm:8123456kB
Nov 21 10:00:04 web-01 systemd[1]: api.service: Main process exited, code=killed, status=9/KILL
"""


def test_analyst_engine_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "incident.log"
    log.write_text(INCIDENT * 3)
    code, out, _ = run(
        ["analyze", "-f", str(log), "--engine", "analyst", "-q", "root_cause", "--json", "--chunk-lines", "4"], capsys
    )
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert [(r["first_line"], r["last_line"]) for r in rows] == [(1, 4), (5, 8), (9, 9)]
    assert rows[0]["model"] == "analyst" and "**Category:** memory" in rows[0]["text"]


@pytest.mark.usefixtures("models_dir")
def test_model_json_reports_grounding(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "incident.log"
    log.write_text(INCIDENT)
    code, out, _ = run(["analyze", "-f", str(log), "-m", "tiny", "--json", "--max-tokens", "8", "--seed", "1"], capsys)
    assert code == 0
    row = json.loads(out.splitlines()[0])
    assert 0.0 <= row["grounding_precision"] <= 1.0 and isinstance(row["ungrounded"], list)


@pytest.mark.slow  # three trainings and an evaluation in a row
def test_train_tokenizer_then_generator_then_eval(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no ../shared here: synthetic data only
    code, out, err = run(["train", "tokenizer", "tok.tiktoken", "--vocab-size", "300"], capsys)
    assert code == 0, err
    assert (tmp_path / "tok.tiktoken").is_file() and "300 ranks" in out
    work = tmp_path / "work"
    argv = [
        "train",
        "generator",
        str(tmp_path / "bundle"),
        "--work",
        str(work),
        "--preset",
        "tiny",
        "--synthetic",
        "40",
    ]
    code, out, err = run(argv, capsys)
    assert code == 0, err
    config = json.loads((tmp_path / "bundle" / "config.json").read_text())
    assert config["prompt_format"] == "logpt-digest"
    assert config["provenance"]["training"]["steps"] == 4 and config["provenance"]["preset"] == "tiny"
    data = config["provenance"]["data"]
    assert set(data["by_source"]) <= {"loghub", "synthetic", "made-up"} and data["by_source"]["synthetic"] > 0
    assert sum(data["by_source"].values()) == data["examples"]
    assert (work / "loss.png").is_file() and (work / "metrics.jsonl").is_file()
    code, out, err = run(["eval", "generator", "--data", str(work / "eval.jsonl"), "-m", str(tmp_path / "bundle"),
                          "--limit", "3", "--max-tokens", "4", "--json", "--record"], capsys)  # fmt: skip
    assert code == 0, err
    scores = json.loads(out)["groups"]["synthetic"]
    assert scores["examples"] == 3 and 0.0 <= scores["grounding_precision"] <= 1.0
    recorded = json.loads((tmp_path / "bundle" / "config.json").read_text())["provenance"]["evaluation"]
    assert recorded["examples"] == 3 and recorded["rouge_l"] == pytest.approx(scores["rouge_l"], abs=1e-4)
    code, out, err = run(["eval", "generator", "--data", str(work / "eval.jsonl"), "-m", str(tmp_path / "bundle"),
                          "--limit", "3", "--max-tokens", "4", "--json", "--record", "--constrain", "off"], capsys)  # fmt: skip
    assert code == 0, err
    provenance = json.loads((tmp_path / "bundle" / "config.json").read_text())["provenance"]
    assert provenance["evaluation"] == recorded  # a run without the grammar is recorded beside, not over, it
    assert recorded["constrain"] == "grammar" and provenance["evaluation_constrain_off"]["constrain"] == "off"


def test_unknown_preset_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["train", "generator", str(tmp_path / "b"), "--preset", "huge"], capsys)
    assert code == 2 and "unknown preset 'huge'" in err and "Traceback" not in err
