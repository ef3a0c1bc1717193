"""`logpt generate --compile`: off the GPU a one-line note and the same reply as without it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.logpt_tui.cli.test_cli import run


def test_compile_on_the_cpu_says_so_and_changes_nothing(models_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["generate", "-m", "tiny", "-p", "kernel: Out of memory", "--max-tokens", "8", "--seed", "2", "--json"]
    code, plain, err = run([*argv, "--device", "cpu"], capsys)
    assert code == 0 and "--compile" not in err
    code, compiled, err = run([*argv, "--device", "cpu", "--compile"], capsys)
    assert code == 0 and "--compile works on CUDA only; decoding on cpu without it" in err
    assert json.loads(compiled)["ids"] == json.loads(plain)["ids"]
