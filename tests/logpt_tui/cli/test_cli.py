"""The `logpt` CLI end to end on tiny bundles: output contracts and one-line errors."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from logpt_tui.cli import main
from tests.conftest import SAMPLE_LOG, make_bundle


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        main(argv)
        code = 0
    except SystemExit as e:
        code = int(e.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_analyze_json_one_object_per_chunk(
    models_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "two-samples.log"  # two copies: already several 128-token contexts, a chunk each
    log.write_text(SAMPLE_LOG * 2, encoding="utf-8")
    code, out, err = run(["analyze", "-f", str(log), "-m", "tiny", "--json", "--max-tokens", "12", "--seed", "1"], capsys)
    assert code == 0, err
    records = [json.loads(line) for line in out.splitlines()]
    assert len(records) > 3  # the log is far larger than a 128-token context
    assert [r["index"] for r in records] == list(range(1, len(records) + 1))
    assert records[0]["first_line"] == 1 and records[-1]["last_line"] == len(SAMPLE_LOG.splitlines()) * 2
    assert all(a["last_line"] + 1 == b["first_line"] for a, b in zip(records, records[1:], strict=False))
    for r in records:
        assert r["query"] == "summary" and r["model"] == "tiny" and 0 <= r["tokens"] <= 12
        assert r["constrain"] == "off"  # a logpt-v1 bundle has no digest to hold it to
        assert r["prompt_tokens"] + 12 <= 128 and r["seconds"] > 0
        assert set(r["readability"]) == {"unknown_share", "garbled", "words", "unknown"}
        assert r["readability"]["garbled"] == (r["readability"]["unknown_share"] > 0.05)


def test_analyze_a_span_of_lines_keeps_the_files_line_numbers(
    models_dir: Path, sample_log: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(
        ["analyze", "-f", str(sample_log), "--engine", "analyst", "--lines", "40-95", "--json"], capsys
    )
    assert code == 0, err
    (record,) = [json.loads(line) for line in out.splitlines()]  # the analyst answers for the span at once
    assert (record["first_line"], record["last_line"]) == (40, 95)
    code, out, err = run(
        ["analyze", "-f", str(sample_log), "-m", "tiny", "--lines", "40-95", "--json", "--max-tokens", "4"], capsys
    )
    records = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and records[0]["first_line"] == 40 and records[-1]["last_line"] == 95
    for bad in ("95-40", "x-3", "0-3", "100000-"):
        code, _out, err = run(["analyze", "-f", str(sample_log), "--engine", "analyst", "--lines", bad], capsys)
        assert code == 2 and "--lines" in err and "Traceback" not in err


def test_analyze_one_chunk_from_stdin_streams_text(
    models_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(SAMPLE_LOG.encode())))
    code, out, err = run(
        ["analyze", "-m", "tiny", "--chunk", "2", "-q", "root_cause", "--temperature", "0", "--max-tokens", "8"], capsys
    )
    assert code == 0, err
    assert "chunk 2/" in out and "tok/s" in err
    assert "Continue" not in out + err  # never asks when stdin is a pipe


def test_generate_json_reports_ids_and_speed(models_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        [
            "generate",
            "-m",
            "tiny",
            "--prompt",
            "kernel: Out of memory",
            "--max-tokens",
            "5",
            "--temperature",
            "0",
            "--json",
        ],
        capsys,
    )
    assert code == 0
    record = json.loads(out)
    assert len(record["prompt_ids"]) > 3 and len(record["ids"]) <= 5
    assert record["prefill_seconds"] > 0 and record["stop_reason"] in {"max_tokens", "stop_token"}


def test_generate_with_int8(models_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        ["generate", "-m", "tiny", "-p", "sshd", "--max-tokens", "4", "--quantize", "int8", "--seed", "3"], capsys
    )
    assert code == 0 and "int8" in err


def test_models_lists_bundles(models_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["models"], capsys)
    assert code == 0 and "tiny" in out and "logpt-v1" in out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["analyze", "-f", "/nonexistent.log", "-m", "tiny"], "no such file"),
        (["analyze", "-f", "{binary}", "-m", "tiny"], "binary"),
        (["analyze", "-f", "{empty}", "-m", "tiny"], "empty"),
        (["analyze", "-f", "{log}", "-m", "absent"], "no model bundle named"),
        (["analyze", "-f", "{log}", "-m", "tiny", "--chunk", "999", "--max-tokens", "8"], "does not exist"),
        (["analyze", "-f", "{log}", "-m", "tiny"], "leaves no room"),  # 256 reply tokens, 128 context
        (["analyze", "-f", "{log}", "-m", "{corrupt}"], "corrupt"),
        (["analyze", "-f", "{log}", "-m", "tiny", "--device", "cuda"], "CUDA is not available"),
    ],
)
def test_user_errors_are_one_line(
    argv: list[str],
    message: str,
    models_dir: Path,
    tmp_path: Path,
    sample_log: Path,
    vocab: tuple,
    capsys: pytest.CaptureFixture[str],
) -> None:
    if "cuda" in argv:
        import torch

        if torch.cuda.is_available():
            pytest.skip("this machine has CUDA")
    binary = tmp_path / "blob.bin"
    binary.write_bytes(os.urandom(4096))
    empty = tmp_path / "empty.log"
    empty.write_bytes(b"")
    corrupt = make_bundle(tmp_path / "corrupt", vocab)
    (corrupt / "model.safetensors").write_bytes(b"\x00" * 64)
    subs = {"{binary}": str(binary), "{empty}": str(empty), "{log}": str(sample_log), "{corrupt}": str(corrupt)}
    code, out, err = run([subs.get(a, a) for a in argv], capsys)
    assert code == 2
    assert message in err and err.strip().count("\n") == 0, err
    assert "Traceback" not in err


def test_no_default_model_says_how_to_get_one(
    tmp_path: Path, sample_log: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LOGPT_MODELS", str(tmp_path / "none"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr("engine.lm.registry.bundled_dir", lambda: None)
    code, _, err = run(["analyze", "-f", str(sample_log)], capsys)
    assert code == 2 and "logpt import" in err


def test_unknown_query_is_a_usage_error(models_dir: Path, sample_log: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["analyze", "-f", str(sample_log), "-q", "poem"], capsys)
    assert code == 2 and "poem" in err


def test_escape_sequences_in_output_are_made_visible() -> None:
    from logpt_tui.terminal import visible

    assert visible("a\x1b[2Jb\x07c\x9b\td\n") == "a^[[2Jb^Gc\\x9b\td\n"


def test_help_runs_as_a_console_script() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "logpt_tui", "analyze", "--help"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0 and "--max-tokens" in result.stdout


def test_analyze_auto_uses_the_analyst_when_the_default_model_cannot_load(
    sample_log: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from engine.errors import BundleError

    def no_model(*_args: object, **_kwargs: object) -> None:
        raise BundleError("no default model", "see `logpt models`")

    monkeypatch.setattr(sys.modules["logpt_tui.cli.analyze"], "load_model", no_model)
    code, out, err = run(
        ["analyze", "-f", str(sample_log), "--engine", "auto", "--chunk", "1", "-q", "root_cause"], capsys
    )
    assert code == 0 and "the analyst answers" in err and "## Root cause" in out
    code, _out, err = run(["analyze", "-f", str(sample_log), "--engine", "auto", "-m", "named", "--chunk", "1"], capsys)
    assert code == 2 and "no default model" in err  # a model named is a model asked for


def test_analyze_whole_writes_one_timeline(sample_log: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["analyze", "-f", str(sample_log), "--whole", "--json"], capsys)
    assert code == 0, err
    (record,) = [json.loads(line) for line in out.splitlines()]
    assert record["type"] == "timeline" and record["first_line"] == 1 and "## Incident timeline" in record["text"]
    assert [e["first_line"] for e in record["episodes"]] == sorted(e["first_line"] for e in record["episodes"])


def test_analyze_whole_streams_the_timeline_the_same_from_a_file_two_processes_and_stdin(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Text mode writes `timeline()` line by line as it is found; a file on disk is read in blocks (here by two
    processes: the size threshold lowered), stdin from memory; `--json` carries the same text."""
    import engine.analysis.wholefile as wf
    from tests.engine.analysis.test_wholefile import synthetic_log

    log = tmp_path / "big.log"
    synthetic_log(log, 3000)
    code, from_file, err = run(["analyze", "-f", str(log), "--whole"], capsys)
    assert code == 0, err
    code, as_json, err = run(["analyze", "-f", str(log), "--whole", "--json"], capsys)
    assert code == 0, err
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(log.read_bytes())))
    code, from_stdin, err = run(["analyze", "--whole"], capsys)
    assert code == 0, err
    monkeypatch.setattr(wf, "PARALLEL_BYTES", 1)
    code, parallel, err = run(["analyze", "-f", str(log), "--whole"], capsys)
    assert code == 0, err
    text = json.loads(as_json)["text"]
    assert from_file == from_stdin == text + "\n" and "### In order" in text and "**Likely cause:**" in text
    # Two processes cut the file mid-chunk: only where the last chunk of an episode ends may differ.
    cut = [line.split(", not after")[0].split(", last seen")[0] for line in parallel.splitlines()]
    assert cut == [line.split(", not after")[0].split(", last seen")[0] for line in from_file.splitlines()]


def test_analyze_whole_refuses_an_empty_or_binary_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "empty.log").write_bytes(b"")
    (tmp_path / "blob.log").write_bytes(bytes(range(256)) * 64)
    code, _out, err = run(["analyze", "-f", str(tmp_path / "empty.log"), "--whole"], capsys)
    assert code == 2 and "is empty" in err
    code, _out, err = run(["analyze", "-f", str(tmp_path / "blob.log"), "--whole"], capsys)
    assert code == 2 and "binary" in err


def test_ship_once_through_the_cli_and_a_clear_error_without_redis(
    redis_server,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],  # noqa: ANN001
) -> None:
    import redis

    log = tmp_path / "app.log"
    log.write_text("10:00:00 INFO up\n10:00:01 ERROR down\n")
    code, _out, err = run(["ship", str(log), "--redis", redis_server.url, "--once"], capsys)
    assert code == 0 and "2 records sent" in err
    assert redis.Redis.from_url(redis_server.url).xlen("logs") == 2
    code, _out, err = run(["ship", str(log), "--redis", "redis://127.0.0.1:1/0", "--once"], capsys)
    assert code != 0 and "does not answer" in err and "Traceback" not in err


def test_engine_auto_gives_the_analysts_reply_for_a_garbled_one(
    models_dir: Path, sample_log: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [
        "analyze",
        "-f",
        str(sample_log),
        "-m",
        "tiny",
        "--max-tokens",
        "60",
        "--temperature",
        "1.2",
        "--seed",
        "1",
        "--chunk",
        "2",
    ]
    code, out, err = run([*argv, "--json"], capsys)
    (model,) = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and model["readability"]["garbled"], model  # a random model's reply
    code, out, err = run([*argv, "--json", "--engine", "auto"], capsys)
    (auto,) = [json.loads(line) for line in out.splitlines()]
    assert auto["model"] == "analyst" and auto["text"].startswith("## Summary")
    assert auto["instead_of"] == {"model": "tiny", "text": model["text"]}
    code, out, err = run([*argv, "--engine", "auto"], capsys)
    assert code == 0 and "the analyst's reply instead (--engine auto)" in err and "## Summary" in out


def test_the_cli_starts_without_torch() -> None:
    """`logpt --version`, `--help` and `templates` need no model: torch loads only when a command needs one."""
    import subprocess
    import sys

    code = ("import sys, logpt_tui.cli; from logpt_tui.cli import main\n"
            "try:\n    main(['--version'])\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in ('torch', 'safetensors') if m in sys.modules))")  # fmt: skip
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.splitlines()[-1] == "[]" and "logpt " in done.stdout
