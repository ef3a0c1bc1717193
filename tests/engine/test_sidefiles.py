"""Side files through one reader: regular files only, a cap per kind, nesting bombs refused, one-line errors."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from engine import sidefiles
from engine.errors import InputError
from engine.sidefiles import read_json, read_text


def refused(path: Path, match: str, kind: str = "settings") -> None:
    with pytest.raises(InputError, match=match) as e:
        read_json(path, kind, "fix it")
    assert str(path) in e.value.message and "\n" not in str(e.value)


def test_a_good_file_reads_and_bad_ones_are_one_line_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    good = tmp_path / "good.json"
    good.write_text('{"theme": "dark"}')
    assert read_json(good, "settings", "") == {"theme": "dark"}
    os.mkfifo(tmp_path / "pipe")
    refused(tmp_path / "pipe", "not a regular file")  # opening it would block
    (tmp_path / "zero").symlink_to("/dev/zero")
    refused(tmp_path / "zero", "not a regular file")  # reading it would never end
    refused(tmp_path, "not a regular file")
    refused(tmp_path / "missing.json", "No such file")
    (tmp_path / "deep.json").write_text("[" * 200_000 + "]" * 200_000)
    refused(tmp_path / "deep.json", "nested too deeply")
    (tmp_path / "latin1.json").write_bytes(b'{"a": "\xe9"}')
    refused(tmp_path / "latin1.json", "not UTF-8")
    (tmp_path / "bad.json").write_text("{nope")
    refused(tmp_path / "bad.json", "not valid JSON")
    monkeypatch.setitem(sidefiles.CAPS, "settings", 1024)
    big = tmp_path / "big.json"
    with big.open("wb") as f:  # sparse: a large size costs no disk
        f.truncate(3 << 30)
    refused(big, "over the 0 MiB|MiB, over")
    assert read_text(good, "settings", "") == '{"theme": "dark"}'
