"""Foreign checkpoints that describe more than they hold: refused before any allocation."""

from __future__ import annotations

import tracemalloc
import zipfile
from pathlib import Path

import pytest
import torch

from engine.errors import CheckpointError
from engine.lm.importers.safe_pickle import load_torch_checkpoint


def test_a_stride_zero_view_describing_gigabytes_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bomb.pth"
    torch.save({"model": {"w": torch.zeros(1).expand(1 << 32)}}, path)  # 4 bytes on disk, 16 GiB when copied
    assert path.stat().st_size < 4096
    with pytest.raises(CheckpointError, match="more data than it holds"):
        load_torch_checkpoint(path)


def test_views_inside_their_storage_still_load(tmp_path: Path) -> None:
    base = torch.randn(8, 8)
    path = tmp_path / "views.pth"
    torch.save({"a": base[2:5, 1::3], "b": base.t(), "c": torch.zeros(0, 4)}, path)
    ours = load_torch_checkpoint(path)
    torch.testing.assert_close(ours["a"], base[2:5, 1::3])
    torch.testing.assert_close(ours["b"], base.t())
    assert ours["c"].shape == (0, 4)


def test_a_zip_member_larger_than_its_tensor_is_refused_before_inflating(tmp_path: Path) -> None:
    honest = tmp_path / "honest.pth"
    torch.save({"w": torch.zeros(4)}, honest)
    bomb = tmp_path / "bomb.pth"
    with zipfile.ZipFile(honest) as src, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if "/data/" in info.filename:
                data = bytes(200 << 20)  # 200 MiB of zeros: a few hundred KiB deflated
            dst.writestr(info.filename, data)
    assert bomb.stat().st_size < 1 << 20
    tracemalloc.start()
    with pytest.raises(CheckpointError, match="wrong size"):
        load_torch_checkpoint(bomb)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 20 << 20
