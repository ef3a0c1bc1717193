"""Malformed files and values: one-line errors (or the data ignored where it is only decoration), never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.detect import Detector, KeyVocab, TopK
from engine.errors import BundleError, InputError
from engine.lm.bundle import load_bundle
from engine.lm.config import GPTConfig
from engine.lm.devices import placement
from engine.lm.model import GPT
from engine.lm.tokenizer import Tokenizer
from engine.logs.formats import parse_lines
from engine.logs.formats.spec import regex_format
from engine.logs.formats.user import load_format_file
from engine.logs.templates import TemplateMiner
from logpt_tui.explorer.app import LogptApp
from tests.logpt_tui.explorer.test_app import settle, status


def test_tokenizer_ranks_must_be_0_to_n_once() -> None:
    good = {bytes([b]): b for b in range(256)}
    with pytest.raises(BundleError, match="0..N-1"):
        Tokenizer({**good, b"ab": -5}, {})
    with pytest.raises(BundleError, match="0..N-1"):
        Tokenizer({**good, b"ab": 3}, {})  # a duplicate rank: tiktoken would panic
    with pytest.raises(BundleError, match="special token ids"):
        Tokenizer(good, {"<|endoftext|>": "256"})  # type: ignore[dict-item]


@pytest.mark.parametrize(
    "toml, message",
    [
        ("format = 5\n", "must be a list"),
        ("[[format]]\nname = 'x'\nregex = '(?P<message>.*)'\nlevels = ['W']\n", "levels must be a table"),
        ("[[format]]\nname = 'x'\nregex = '(?P<message>.*)'\ndescription = 3\n", "description must be text"),
        ("[[format]]\nname = 5\nregex = '(?P<message>.*)'\n", "needs a name and a regex"),
    ],
)
def test_user_format_files_with_wrong_types(tmp_path: Path, toml: str, message: str) -> None:
    path = tmp_path / "f.toml"
    path.write_text(toml)
    with pytest.raises(InputError, match=message):
        load_format_file(path)


def test_non_numeric_priority_and_status_groups_are_ignored() -> None:
    fmt = regex_format("x", r"^<(?P<pri>[^>]*)> (?P<status>\S+) (?P<message>.*)$")
    records = list(parse_lines(["<abc> OK all fine", "<11> - upstream down", "<x> 503 upstream down"], fmt))
    assert [r.level for r in records] == [None, "ERROR", "ERROR"]


@pytest.mark.parametrize(
    "change",
    [{"max_clusters": "x"}, {"depth": -1}, {"sim_th": 7}, {"cache_size": 0}, {"typed_masks": "yes"}],
)
def test_template_state_with_bad_config_values(change: dict) -> None:
    state = TemplateMiner().to_state()
    state["config"].update(change)
    with pytest.raises(InputError, match="malformed"):
        TemplateMiner.from_state(state)


@pytest.mark.parametrize(
    "sessions, message",
    [({"kind": "window", "size": 0}, "size"), ({"kind": "id", "pattern": "(a"}, "not a regex"),
     ({"kind": "window", "size": "9"}, "malformed")],
)  # fmt: skip
def test_detector_bundle_with_a_bad_session_rule(tmp_path: Path, sessions: dict, message: str) -> None:
    vocab = KeyVocab(["a", "b"])
    model = GPT(GPTConfig(block_size=8, vocab_size=len(vocab), n_layer=1, n_head=2, n_embd=16))
    Detector(model, vocab, TopK()).save(tmp_path / "d")
    config = json.loads((tmp_path / "d" / "config.json").read_text())
    config["sessions"] = sessions
    (tmp_path / "d" / "config.json").write_text(json.dumps(config))
    with pytest.raises(BundleError, match=message):
        Detector.load(tmp_path / "d")


def test_special_token_ids_out_of_range_in_a_bundle(tiny_bundle: Path) -> None:
    path = tiny_bundle / "config.json"
    data = json.loads(path.read_text())
    data["tokenizer"]["special_tokens"]["<|endoftext|>"] = 10**12
    path.write_text(json.dumps(data))
    with pytest.raises(BundleError):
        load_bundle(tiny_bundle, placement("cpu"))


async def test_an_unforeseen_error_in_a_worker_is_a_notice_not_a_crash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "a.log"
    path.write_text("".join(f"Nov 21 10:00:00 web-01 app[1]: request {i} ok\n" for i in range(300)))

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr("engine.logs.linefilter.LineFilter.scan", broken)
    app = LogptApp(path, poll_seconds=60, backend=None, flags=None)
    async with app.run_test(size=(100, 24)) as pilot:
        await settle(pilot, app, lambda: "300 lines" in status(app))
        await pilot.press("L")  # the filter worker raises
        await pilot.pause(0.5)
        assert app.is_running
        await pilot.press("g")
        assert "300 lines" in status(app)


@pytest.mark.parametrize("option", [["--top-p", "0"], ["--seed", str(2**70)], ["--seed", "-1"]])
def test_sampling_options_out_of_range_are_one_line_errors(option: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    from tests.logpt_tui.cli.test_cli import run

    code, out, err = run(["generate", "-p", "hi", "--max-tokens", "2", *option], capsys)
    assert code == 2 and "Invalid value" in err and "Traceback" not in err + out


def test_a_write_that_fails_is_one_line_and_a_save_with_nothing_learned_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import random

    from tests.logpt_tui.cli.test_cli import run

    rng = random.Random(1)
    words = ["worker {n} started job {p}", "cache hit for key k{p}", "request {n} served in {p} ms", "user u{p} in"]
    log = tmp_path / "long.log"
    log.write_text("".join(f"2024-01-02 10:{i // 60 % 60:02d}:{i % 60:02d} INFO "
                           f"{rng.choice(words).format(n=i, p=rng.randint(1, 999))}\n" for i in range(1500)))  # fmt: skip
    (tmp_path / "afile").write_text("x")
    code, _out, err = run(["detect", str(log), "--self-train", "--save", str(tmp_path / "afile" / "sub" / "det")],
                          capsys)  # fmt: skip
    assert code == 2 and err.strip().startswith("error: cannot write or read") and "\n" not in err.strip()
    assert not [p for p in tmp_path.rglob("*.tmp")]
    short = tmp_path / "short.log"
    short.write_text("".join(log.read_text().splitlines(keepends=True)[:30]))
    code, _out, err = run(["detect", str(short), "--self-train", "--save", str(tmp_path / "det")], capsys)
    assert code == 0 and "not saved to" in err and not (tmp_path / "det").exists()
