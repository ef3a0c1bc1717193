"""The GPU training script runs end to end (on the CPU, tiny preset): data, training in its budget, bundle, scores."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.benchmarks import train_gpu


@pytest.mark.slow  # a whole (tiny) training run: opt-in
def test_the_gpu_script_trains_within_its_budget_and_records_its_evaluation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # no ../shared here: synthetic data only
    summary = train_gpu.main(["--out", str(tmp_path / "b"), "--work", str(tmp_path / "w"), "--preset", "tiny",
                              "--device", "cpu", "--minutes", "3", "--synthetic", "30", "--eval-examples", "4"])  # fmt: skip
    assert summary["device"] == "cpu" and summary["stopped"] in {"steps", "patience", "time"}
    provenance = json.loads((tmp_path / "b" / "config.json").read_text())["provenance"]
    assert provenance["evaluation"]["examples"] == 4 and provenance["evaluation"]["constrain"] == "grammar"
    assert "| cpu |" in capsys.readouterr().out


def test_without_cuda_it_refuses_the_gpu_preset(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="no CUDA device"):
        train_gpu.main(["--out", str(tmp_path / "b"), "--device", "cpu"])
