"""Untrusted and precious bundles: checked before anything is built, written atomically, never clobbered."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

from engine.detect import Detector, KeyVocab, TopK
from engine.errors import BundleError
from engine.lm.bundle import load_bundle
from engine.lm.config import GPTConfig
from engine.lm.devices import placement
from engine.lm.model import GPT
from logpt_tui.explorer.app import LogptApp
from logpt_tui.explorer.flagset import FlagEngine, cache_key
from tests.logpt_tui.cli.test_cli import run
from tests.logpt_tui.explorer.test_app import settle, status


def detector(keys: int, seed: int = 0) -> Detector:
    vocab = KeyVocab(str(k) for k in range(keys))
    model = GPT(GPTConfig(block_size=8, vocab_size=len(vocab), n_layer=1, n_head=2, n_embd=16))
    model.init_weights(seed)
    return Detector(model, vocab, TopK("count", 2.0), complete=False)


@pytest.mark.parametrize(
    "change, message",
    [
        ({"n_head": 0}, "n_head"),
        ({"n_layer": 1_000_000_000}, "n_layer"),
        ({"n_embd": 64.0}, "n_embd must be int"),
        ({"bias": "yes"}, "bias must be bool"),
        ({"vocab_size": [1]}, "vocab_size must be int"),
        ({"n_layer": 40, "n_embd": 1024, "n_head": 16}, "parameters but model.safetensors holds"),
    ],
)
def test_a_hostile_model_config_is_one_error_before_anything_is_built(
    tiny_bundle: Path, change: dict, message: str
) -> None:
    path = tiny_bundle / "config.json"
    data = json.loads(path.read_text())
    data["model"].update(change)
    path.write_text(json.dumps(data))
    t0 = time.perf_counter()
    with pytest.raises(BundleError, match=message):
        load_bundle(tiny_bundle, placement("cpu"))
    assert time.perf_counter() - t0 < 5


def test_an_existing_bundle_is_replaced_only_with_force_and_a_non_bundle_never(tmp_path: Path) -> None:
    target = tmp_path / "det"
    detector(5).save(target)
    with pytest.raises(BundleError, match="already exists"):
        detector(7).save(target)
    assert len(Detector.load(target).vocab) == 9  # untouched
    detector(7).save(target, force=True)
    assert len(Detector.load(target).vocab) == 11
    (tmp_path / "config.json").write_text("{}")  # `--save .` in a project folder
    with pytest.raises(BundleError, match="not a logpt bundle"):
        detector(5).save(tmp_path, force=True)
    assert (tmp_path / "config.json").read_text() == "{}"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary folder left behind


def test_concurrent_saves_leave_one_whole_bundle(tmp_path: Path) -> None:
    target = tmp_path / "det"
    detector(3).save(target)
    errors: list[Exception] = []

    def save(keys: int) -> None:
        for _ in range(5):
            try:
                detector(keys).save(target, force=True)
            except (BundleError, OSError) as e:  # a lost race is an error, never a mixed bundle
                errors.append(e)

    threads = [threading.Thread(target=save, args=(k,)) for k in (4, 40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    loaded = Detector.load(target)  # weights and config belong together
    assert len(loaded.vocab) in (8, 44) and loaded.model.config.vocab_size == len(loaded.vocab)


def test_a_bad_miner_state_is_named(tmp_path: Path) -> None:
    d = detector(5)
    d.miner_state = {"version": 1}
    d.save(tmp_path / "det")
    (tmp_path / "det" / "miner.json").write_text("{not json")
    with pytest.raises(BundleError, match="miner.json is not valid JSON"):
        Detector.load(tmp_path / "det")
    (tmp_path / "det" / "miner.json").unlink()
    (tmp_path / "det" / "miner.json").symlink_to("/dev/zero")  # never ends: refused before reading
    with pytest.raises(BundleError, match="miner.json is not a regular file"):
        Detector.load(tmp_path / "det")
    (tmp_path / "det" / "miner.json").unlink()
    (tmp_path / "det" / "miner.json").write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(BundleError, match="nested too deeply"):
        Detector.load(tmp_path / "det")


def test_save_refuses_an_existing_bundle_without_force(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "a.log"
    log.write_text("".join(f"Nov 21 10:00:{i % 60:02d} web-01 app[1]: request {i % 7} ok\n" for i in range(600)))
    argv = ["detect", str(log), "--self-train", "--epochs", "1", "--session", "window:10", "--json", "--save"]
    assert run([*argv, str(tmp_path / "d")], capsys)[0] == 0
    code, _, err = run([*argv, str(tmp_path / "d")], capsys)
    assert code == 2 and "already exists" in err and "--force" in err
    assert run([*argv, str(tmp_path / "d"), "--force"], capsys)[0] == 0


async def test_a_corrupt_detector_cache_is_set_aside_and_rebuilt(tmp_path: Path) -> None:
    cycle = ["sshd[1]: Accepted publickey for deploy", "CRON[2]: (root) CMD (run-parts)", "kernel: eth0: link up"]
    path = tmp_path / "host.log"
    path.write_text("".join(f"Nov 21 10:{i // 60 % 60:02d}:{i % 60:02d} web-01 {cycle[i % 3]}\n" for i in range(600)))
    cache = tmp_path / "cache"
    folder = cache / cache_key(path)
    folder.mkdir(parents=True)
    (folder / "config.json").write_text('{"format": "logpt-bundle", "kind": "detector", "model": 5}')
    app = LogptApp(path, poll_seconds=60, backend=None, flags=FlagEngine(path, cache=cache))
    async with app.run_test(size=(120, 24)) as pilot:
        await settle(pilot, app, lambda: "flagged (self-trained" in status(app), tries=600)
    assert (cache / (cache_key(path) + ".corrupt") / "config.json").is_file()
    assert Detector.load(folder).provenance["keys"] == 600  # the new one learned the whole history


def test_a_detector_with_a_session_rule_this_version_does_not_know_is_refused(tmp_path: Path) -> None:
    import json

    d = detector(5)
    d.save(tmp_path / "det")
    path = tmp_path / "det" / "config.json"
    data = json.loads(path.read_text())
    data["sessions"] = {"kind": "bogus", "complete": True}
    path.write_text(json.dumps(data))
    with pytest.raises(BundleError, match="session rule .* is not one of"):
        Detector.load(tmp_path / "det")


@pytest.mark.parametrize(
    "config, message",
    [({"n_head": 0}, "n_head must be in"), ({"n_head": "abc"}, "invalid literal"), ([], "not a JSON object"),
     ({"n_positions": 10**12}, "block_size must be in"), ({"layer_norm_epsilon": "tiny"}, "could not convert")],
)  # fmt: skip
def test_a_hugging_face_config_that_cannot_be_a_gpt2_is_one_error(tmp_path: Path, config: object, message: str) -> None:
    import json

    from engine.errors import CheckpointError
    from engine.lm.importers.hf import read_hf_config

    (tmp_path / "config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match=message):
        read_hf_config(tmp_path)
