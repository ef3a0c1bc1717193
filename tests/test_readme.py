"""The README's commands and CI stay in step."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def readme_commands() -> list[str]:
    return re.findall(r"```bash\n(.+?)\n```", (ROOT / "README.md").read_text(encoding="utf-8"))[:2]


def test_readme_opens_with_two_commands_and_ci_runs_the_second() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    setup, tests = readme_commands()
    assert text.index(setup) < 200, "the README must open with the two commands"
    assert "logpt" in setup and "pytest" in tests
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert tests in ci.splitlines()


def test_sample_named_in_the_first_command_exists() -> None:
    setup = readme_commands()[0]
    sample = re.search(r"logpt-tui (\S+)", setup)
    assert sample and (ROOT / sample.group(1)).is_file()
