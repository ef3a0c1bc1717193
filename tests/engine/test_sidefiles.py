"""Side files through one reader: regular files only, a cap per kind, nesting bombs refused, one-line errors."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from engine.errors import InputError
from engine.sidefiles import read_json, read_text


def refused(path: Path, match: str, kind: str = "settings") -> None:
    with pytest.raises(InputError, match=match) as e:
        read_json(path, kind, "fix it")
    assert str(path) in e.value.message and "\n" not in str(e.value)


def fifo(folder: Path) -> Path:
    os.mkfifo(folder / "pipe")
    return folder / "pipe"  # opening it would block


def dev_zero(folder: Path) -> Path:
    (folder / "zero").symlink_to("/dev/zero")
    return folder / "zero"  # reading it would never end


def written(name: str, data: bytes) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        (folder / name).write_bytes(data)
        return folder / name

    return make


def sparse_3gb(folder: Path) -> Path:
    with (folder / "big.json").open("wb") as f:  # sparse: a large size costs no disk
        f.truncate(3 << 30)
    return folder / "big.json"


@pytest.mark.parametrize(
    "make, match",
    [
        (fifo, "not a regular file"),
        (dev_zero, "not a regular file"),
        (lambda folder: folder, "not a regular file"),
        (lambda folder: folder / "missing.json", "No such file"),
        (written("deep.json", b"[" * 200_000 + b"]" * 200_000), "nested too deeply"),
        (written("latin1.json", b'{"a": "\xe9"}'), "not UTF-8"),
        (written("bad.json", b"{nope"), "not valid JSON"),
        (sparse_3gb, "MiB, over"),
    ],
    ids=["fifo", "dev-zero", "folder", "missing", "nesting-bomb", "latin-1", "bad-json", "3-GB-sparse"],
)
def test_a_bad_side_file_is_a_one_line_error(tmp_path: Path, make: Callable[[Path], Path], match: str) -> None:
    folder = tmp_path / "side"
    folder.mkdir()
    refused(make(folder), match)


def test_a_good_side_file_reads(tmp_path: Path) -> None:
    good = tmp_path / "good.json"
    good.write_text('{"theme": "dark"}')
    assert read_json(good, "settings", "") == {"theme": "dark"}
    assert read_text(good, "settings", "") == '{"theme": "dark"}'
