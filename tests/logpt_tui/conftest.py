"""Fixtures of the CLI and explorer tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import make_bundle


@pytest.fixture
def models_dir(tmp_path: Path, vocab: tuple, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A user models dir holding one tiny random bundle, `tiny`."""
    folder = tmp_path / "models"
    make_bundle(folder / "tiny", vocab, block_size=128)
    monkeypatch.setenv("LOGPT_MODELS", str(folder))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    return folder


from tests.redis_server import redis_server  # noqa: E402, F401 - a real redis-server, for ship and streams
