"""The dependency direction of docs/architecture.md, checked two ways: in subprocesses and by import-linter."""

from __future__ import annotations

import json
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


UI = ("textual", "typer", "rich", "click", "train", "logpt_tui")


def first_loads(modules: list[str], watched: tuple[str, ...]) -> dict[str, list[str]]:
    """For each module, imported in turn in one fresh interpreter, the watched packages its import brought in.

    One interpreter for all (torch is imported once, not once a module): a module that pulls in a watched
    package shows it on its own import; one imported earlier would have shown it first, and failed first.
    """
    code = (
        "import importlib, json, sys\n"
        f"watched, found = {watched!r}, {{}}\n"
        f"for name in {modules!r}:\n"
        "    before = {m for m in watched if m in sys.modules}\n"
        "    importlib.import_module(name)\n"
        "    found[name] = sorted({m for m in watched if m in sys.modules} - before)\n"
        "print(json.dumps(found))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def ui_loads() -> dict[str, list[str]]:
    return first_loads(HEADLESS, UI)


@pytest.fixture(scope="module")
def torch_loads() -> dict[str, list[str]]:
    return first_loads(TORCH_FREE, ("torch", "safetensors"))


@pytest.mark.parametrize("module", HEADLESS)
def test_engine_loads_no_ui_library(module: str, ui_loads: dict[str, list[str]]) -> None:
    assert ui_loads[module] == [], f"{module} imports {', '.join(ui_loads[module])}"


def test_the_one_interpreter_check_names_a_module_that_imports_a_watched_package() -> None:
    # tarfile imports shutil as engine.lm.model imports torch, without the 2 s of CPU that importing torch costs
    found = first_loads(["engine.logs.patterns", "wave", "tarfile"], ("shutil", "wave"))
    assert found == {"engine.logs.patterns": [], "wave": ["wave"], "tarfile": ["shutil"]}


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
def test_engine_logs_loads_no_torch(module: str, torch_loads: dict[str, list[str]]) -> None:
    assert torch_loads[module] == [], f"{module} imports {', '.join(torch_loads[module])}"
