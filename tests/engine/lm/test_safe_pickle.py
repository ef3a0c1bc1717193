"""The restricted unpickler: real checkpoints load, code-executing pickles are refused."""

from __future__ import annotations

import io
import os
import pickle
import zipfile
from collections import OrderedDict
from pathlib import Path

import pytest
import torch

from engine.errors import CheckpointError
from engine.lm.importers.safe_pickle import load_torch_checkpoint


def test_state_dict_matches_torch_weights_only(tmp_path: Path) -> None:
    state = OrderedDict(
        w=torch.randn(3, 4), b=torch.arange(5), h=torch.randn(2, 2).half(), bf=torch.randn(4).bfloat16(),
        view=torch.randn(6, 6)[1:4, ::2],  # non-contiguous, offset into a shared storage
        flag=torch.tensor([True, False]),
    )  # fmt: skip
    path = tmp_path / "s.pt"
    torch.save({"model": state, "iter_num": 3, "nested": [1, (2.5, "x")]}, path)
    ours = load_torch_checkpoint(path)
    ref = torch.load(path, weights_only=True)
    assert ours["iter_num"] == 3 and ours["nested"] == [1, (2.5, "x")]
    for key, value in ref["model"].items():
        assert ours["model"][key].dtype == value.dtype
        torch.testing.assert_close(ours["model"][key], value)


class Exploit:
    def __reduce__(self):  # noqa: ANN204 - the classic pickle attack
        return (os.system, ("echo pwned > /tmp/logpt-pwned",))


def write_zip_pickle(path: Path, payload: object) -> None:
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("archive/data.pkl", pickle.dumps(payload, protocol=2))


def test_code_executing_pickle_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "evil.pth"
    write_zip_pickle(path, {"model": {}, "config": Exploit()})
    with pytest.raises(CheckpointError, match="posix.system|os.system|not allowed"):
        load_torch_checkpoint(path)
    assert not Path("/tmp/logpt-pwned").exists()


def test_arbitrary_class_is_refused_unless_named_as_config(tmp_path: Path) -> None:
    path = tmp_path / "c.pth"
    write_zip_pickle(path, {"config": io.BytesIO(b"")})
    with pytest.raises(CheckpointError, match="not allowed"):
        load_torch_checkpoint(path)


def test_legacy_and_corrupt_files_are_refused(tmp_path: Path) -> None:
    legacy = tmp_path / "legacy.pth"
    legacy.write_bytes(pickle.dumps({"a": 1}))
    with pytest.raises(CheckpointError, match="not a zip-format"):
        load_torch_checkpoint(legacy)
    good = tmp_path / "good.pth"
    torch.save({"w": torch.randn(100)}, good)
    truncated = tmp_path / "truncated.pth"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(CheckpointError):
        load_torch_checkpoint(truncated)
    with pytest.raises(CheckpointError, match="cannot read|not a zip"):
        load_torch_checkpoint(tmp_path / "missing.pth")
