"""Files that are not logs, or logs in odd states: a one-line error or the text, never a hang."""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

import pytest
import typer

from engine.errors import InputError
from engine.logs.logsource import LogSource
from engine.logs.textio import decode_log, read_log
from tests.logpt_tui.cli.test_cli import run


def test_a_fifo_is_refused_at_once_not_waited_on(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    outcome: list[str] = []

    def attempt() -> None:
        for opener in (read_log, LogSource):
            try:
                opener(fifo)
            except InputError as e:
                outcome.append(e.message)

    thread = threading.Thread(target=attempt, daemon=True)
    thread.start()
    thread.join(5)
    assert not thread.is_alive(), "opening a FIFO blocked"
    assert len(outcome) == 2 and all("not a regular file" in m for m in outcome)


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/null"])
def test_a_device_is_refused(device: str, capsys: pytest.CaptureFixture[str]) -> None:
    if not Path(device).exists():
        pytest.skip(f"no {device}")
    code, _, err = run(["templates", device], capsys)
    assert code == 2 and "not a regular file" in err and "Traceback" not in err


def test_a_copytruncated_log_with_a_nul_prefix_is_text() -> None:
    data = b"\x00" * 100_000 + b"Nov 21 10:00:00 web-01 app[1]: started\n" * 50
    text = decode_log(data)
    assert text.endswith("app[1]: started\n") and text.startswith("\x00")
    with pytest.raises(InputError, match="binary"):
        decode_log(b"\x00" * 1000 + bytes(range(256)) * 300)


def test_ctrl_c_at_the_continue_prompt_exits_130(
    models_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "a.log"
    log.write_text("".join(f"Nov 21 10:00:{i % 60:02d} web-01 app[1]: request {i} ok\n" for i in range(400)))

    def interrupted(*_args: object, **_kwargs: object) -> bool:
        raise typer.Abort

    monkeypatch.setattr(sys.modules["logpt_tui.cli.analyze"], "interactive", lambda: True)
    monkeypatch.setattr("typer.confirm", interrupted)
    code, _, err = run(["analyze", "-f", str(log), "--engine", "analyst", "--chunk-lines", "50"], capsys)
    assert code == 130 and "interrupted" in err and "Aborted" not in err


def test_the_stdin_spool_starts_over_past_its_cap(tmp_path: Path) -> None:
    from logpt_tui.explorer.follow import copy_capped

    read_end, write_end = os.pipe()
    spool = tmp_path / "spool.log"
    target = os.open(spool, os.O_WRONLY | os.O_CREAT)
    copier = threading.Thread(target=copy_capped, args=(read_end, target, 10_000))
    copier.start()
    with os.fdopen(write_end, "wb") as pipe:
        for i in range(2_000):  # 2,000 lines of 26 bytes: 52 KB through a 10 KB cap
            pipe.write(f"line {i:05d} of the flood\n".encode())
    copier.join(10)
    kept = spool.read_bytes()
    assert 0 < len(kept) <= 10_000 and kept.endswith(b"line 01999 of the flood\n")


def test_whole_file_commands_refuse_what_they_cannot_hold(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    from engine.logs import textio

    monkeypatch.setattr(textio, "MAX_READ_BYTES", 1000)
    big = tmp_path / "big.log"
    big.write_text("x\n" * 600)
    with pytest.raises(InputError, match="at most") as e:
        read_log(big)
    assert "logpt-tui" in e.value.hint
    with pytest.raises(InputError, match="stdin"):
        textio.read_stream(io.BytesIO(b"y\n" * 600))
    assert LogSource(big).index() == 600  # the explorer reads lines on demand: no cap


def format_file(path: Path) -> None:
    from engine.logs.formats.user import load_format_file

    load_format_file(path)


def template_state(path: Path) -> None:
    from engine.logs.templates.store import TemplateStore

    TemplateStore(path).load()


def ranks(path: Path) -> None:
    from engine.errors import BundleError
    from engine.lm.tokenizer import read_ranks

    try:
        read_ranks(path)
    except BundleError as e:  # a bundle's file: its own error class, the same one line
        raise InputError(e.message, e.hint) from None


@pytest.mark.parametrize(
    "reader, bad",
    [(format_file, "zero"), (format_file, "deep.toml"), (template_state, "zero"), (ranks, "zero")],
    ids=["format-file-dev-zero", "format-file-nesting-bomb", "template-state-dev-zero", "ranks-dev-zero"],
)
def test_side_files_that_never_end_or_nest_forever_are_one_line_errors(tmp_path: Path, reader, bad: str) -> None:  # noqa: ANN001
    (tmp_path / "zero").symlink_to("/dev/zero")
    (tmp_path / "deep.toml").write_text("a = " + "[" * 50_000 + "]" * 50_000 + "\n")
    with pytest.raises(InputError, match="not a regular file|nested too deeply|not valid TOML") as e:
        reader(tmp_path / bad)
    assert "\n" not in str(e.value)


def test_a_settings_file_that_never_ends_loses_the_saved_theme_only(tmp_path: Path) -> None:
    from logpt_tui.explorer.app import LogptApp

    (tmp_path / "zero").symlink_to("/dev/zero")
    (tmp_path / "a.log").write_text("one line\n")
    app = LogptApp(tmp_path / "a.log", settings=tmp_path / "zero", backend=None, flags=None)  # tui.json → /dev/zero
    assert app.saved_theme() is None  # the saved theme is lost, nothing else


def test_a_log_of_nothing_but_nuls_is_refused_before_decoding(tmp_path: Path) -> None:
    zeros = tmp_path / "zeros.log"
    with zeros.open("wb") as f:  # sparse: 64 MiB of NULs cost no disk
        f.truncate(64 << 20)
    with pytest.raises(InputError, match="only NUL bytes"):
        read_log(zeros)
    assert decode_log(b"\0" * 100 + b"after a copytruncate\n") == "\0" * 100 + "after a copytruncate\n"
