"""`--compile` (`logpt generate`, `logpt analyze`, `logpt-tui`): off the GPU a one-line note and the same reply
as without it; the flag reaches the analysis request that decodes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from logpt_tui.explorer.backend import ModelBackend
from tests.logpt_tui.cli.test_cli import run


def test_compile_on_the_cpu_says_so_and_changes_nothing(models_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["generate", "-m", "tiny", "-p", "kernel: Out of memory", "--max-tokens", "8", "--seed", "2", "--json"]
    code, plain, err = run([*argv, "--device", "cpu"], capsys)
    assert code == 0 and "--compile" not in err
    code, compiled, err = run([*argv, "--device", "cpu", "--compile"], capsys)
    assert code == 0 and "--compile works on CUDA only; decoding on cpu without it" in err
    assert json.loads(compiled)["ids"] == json.loads(plain)["ids"]


def test_analyze_takes_compile_and_replies_the_same_on_the_cpu(
    models_dir: Path, sample_log: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["analyze", "-f", str(sample_log), "-m", "tiny", "--device", "cpu", "--chunk", "1", "--max-tokens", "8",
            "--temperature", "0", "--json"]  # fmt: skip
    code, plain, err = run(argv, capsys)
    assert code == 0 and "--compile" not in err
    code, compiled, err = run([*argv, "--compile"], capsys)
    assert code == 0 and "--compile works on CUDA only; decoding on cpu without it" in err
    timing = ("seconds", "prefill_seconds", "decode_seconds", "tokens_per_s")
    same = [{k: v for k, v in json.loads(out).items() if k not in timing} for out in (plain, compiled)]
    assert same[0] == same[1] and same[0]["text"] is not None


def test_the_explorer_s_backend_asks_for_compiled_decoding(models_dir: Path) -> None:
    backend = ModelBackend("tiny", "cpu", max_new_tokens=8, compiled=True)
    backend.load()
    assert backend.loaded().request.compiled
    assert backend.device.endswith("(--compile: CUDA only)")
    plain = ModelBackend("tiny", "cpu", max_new_tokens=8)
    plain.load()
    assert not plain.loaded().request.compiled and "--compile" not in plain.device
