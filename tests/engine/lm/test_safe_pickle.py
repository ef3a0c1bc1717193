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


def test_a_compressed_storage_that_would_inflate_is_refused_before_reading(tmp_path: Path) -> None:
    # A real checkpoint of one 1 MiB tensor, its storage member rewritten deflated: 1 MiB declared in a few KB,
    # as a bomb declares gigabytes in megabytes (torch.save never compresses).
    real, bomb = tmp_path / "real.pt", tmp_path / "bomb.pt"
    torch.save({"w": torch.zeros(256, 1024)}, real)
    with zipfile.ZipFile(real) as src, zipfile.ZipFile(bomb, "w") as dst:
        for info in src.infolist():
            kind = zipfile.ZIP_DEFLATED if "/data/" in info.filename else zipfile.ZIP_STORED
            dst.writestr(info.filename, src.read(info), compress_type=kind)
    assert load_torch_checkpoint(real)["w"].shape == (256, 1024)
    with pytest.raises(CheckpointError, match="declares 1,048,576 bytes in"):
        load_torch_checkpoint(bomb)


def empty_dicts_pickle(n: int) -> bytes:
    """A list of n empty dicts as opcodes (PROTO 2, EMPTY_LIST, MARK, EMPTY_DICT × n, APPENDS, STOP): built as bytes,
    not by pickling n dicts, which costs seconds of CPU and garbage collection in a full test run."""
    return b"\x80\x02](" + b"}" * n + b"e."


def test_a_pickle_too_large_to_be_structure_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "dicts.pt"
    assert pickle.loads(empty_dicts_pickle(3)) == [{}, {}, {}]  # the same opcodes, a few of them: a valid pickle
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("archive/data.pkl", empty_dicts_pickle(5_000_000))  # 5 MB: ~360 MB unpickled
    with pytest.raises(CheckpointError, match="data.pkl is over 4 MiB"):
        load_torch_checkpoint(path)
