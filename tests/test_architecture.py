"""The dependency direction of docs/architecture.md, checked two ways: in subprocesses and by import-linter."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEADLESS = [
    "engine", "engine.lm.model", "engine.lm.generate", "engine.lm.bundle", "engine.analysis.run", "engine.analysis.chunker",
    "engine.lm.importers.hf", "engine.lm.importers.logpt_checkpoint", "engine.lm.registry", "engine.lm.quantize",
    "engine.logs.formats", "engine.logs.templates", "engine.logs.sessions", "engine.detect", "engine.logs.logsource",
    "engine.detect.pipeline", "engine.analysis.queries", "engine.analysis.digest", "engine.logs.patterns",
]  # fmt: skip
TORCH_FREE = ["engine.logs.formats", "engine.logs.templates", "engine.logs.sessions", "engine.logs.logsource",
              "engine.logs.linefilter", "engine.logs.textio"]  # fmt: skip


@pytest.mark.parametrize("module", HEADLESS)
def test_engine_loads_no_ui_library(module: str) -> None:
    code = (
        f"import sys, {module}\n"
        "bad = sorted(m for m in ('textual', 'typer', 'rich', 'click', 'train', 'logpt_tui') if m in sys.modules)\n"
        "print(','.join(bad))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"{module} imports {result.stdout.strip()}"


def test_import_linter_contracts() -> None:
    lint = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
    if not Path(lint).exists():
        pytest.skip("import-linter is not installed (pip install -e '.[dev]')")
    result = subprocess.run([lint], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_is_clean() -> None:
    ruff = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    if not Path(ruff).exists():
        pytest.skip("ruff is not installed (pip install -e '.[dev]')")
    result = subprocess.run([ruff, "check", "."], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_explorer_starts_without_torch() -> None:
    code = "import sys, logpt_tui.explorer.app\nprint(','.join(m for m in ('torch', 'typer', 'train') if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 0 and result.stdout.strip() == "", result.stdout + result.stderr


@pytest.mark.parametrize("module", TORCH_FREE)
def test_engine_logs_loads_no_torch(module: str) -> None:
    code = f"import sys, {module}\nprint(','.join(m for m in ('torch', 'safetensors') if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 0 and result.stdout.strip() == "", result.stdout + result.stderr
