"""Template mining: the cached miner against uncached Drain, masks, state, bounded memory."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from engine.errors import InputError
from engine.logs.formats import detect_format, parse_lines
from engine.logs.templates import Masker, MinerConfig, TemplateMiner, as_wildcards, digit_shape
from engine.logs.templates.drain import WordAwareDrain
from tests.conftest import SAMPLE_LOG

LOGHUB = Path(__file__).resolve().parents[4] / "shared" / "datasets" / "loghub"


def uncached_keys(messages: list[str], config: MinerConfig) -> list[int]:
    """The slow reference: every message masked and sent through Drain, no cache."""
    masker = Masker(typed=config.typed_masks)
    drain = WordAwareDrain(
        depth=config.depth, sim_th=config.sim_th, max_children=config.max_children, max_clusters=config.max_clusters
    )
    return [drain.add_log_message(masker.mask(m.partition("\n")[0]))[0].cluster_id for m in messages]


def synthetic_messages(n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    shapes = [
        "Accepted password for {w} from 10.0.{a}.{b} port {p} ssh2",
        "session opened for user {w} by (uid={a})",
        "PacketResponder {a} for block blk_{p}{b} terminating",
        "Took {a}.{b} seconds to spawn the instance on the hypervisor",
        "connection from 10.{a}.{b}.1 ({w}) at Sun Jul {a} 03:55:{b} 2005",
        "disk {w} at {a}% on /dev/sd{w}{a}",
        "VM {w} (Lifecycle Event)",
    ]
    words = ["root", "alice", "bob", "Paused", "Resumed", "guest", "x"]
    return [
        rng.choice(shapes).format(
            w=rng.choice(words), a=rng.randint(0, 300), b=rng.randint(0, 99), p=rng.randint(1000, 99999)
        )
        for _ in range(n)
    ]


def test_cached_miner_matches_uncached_drain_on_synthetic_lines() -> None:
    messages = synthetic_messages(3000)
    miner = TemplateMiner()
    assert [miner.add(m) for m in messages] == uncached_keys(messages, miner.config)


@pytest.mark.skipif(not LOGHUB.is_dir(), reason="Loghub samples (../shared/datasets/loghub) are not on this machine")
def test_cached_miner_matches_uncached_drain_on_loghub() -> None:
    for folder in sorted(p for p in LOGHUB.iterdir() if p.is_dir()):
        lines = (folder / f"{folder.name}_2k.log").read_text(encoding="utf-8", errors="replace").splitlines()
        messages = [r.message for r in parse_lines(lines, detect_format(lines).format, multiline=False)]
        miner = TemplateMiner()
        assert [miner.add(m) for m in messages] == uncached_keys(messages, miner.config), folder.name


def test_masks_ignore_digit_values() -> None:
    masker = Masker()
    rng = random.Random(1)
    for message in synthetic_messages(500, seed=2) + SAMPLE_LOG.splitlines():
        other = "".join(str(rng.randint(0, 9)) if c.isdigit() else c for c in message)
        assert digit_shape(other) == digit_shape(message)
        assert masker.mask(other) == masker.mask(message)


@pytest.mark.parametrize(
    "message, masked",
    [
        ("connect to 10.1.2.3:8080 failed", "connect to <IP> failed"),
        ("from 10.0.0.1,10.0.0.2 via eth0", "from <IP> via eth<N>"),
        ("instance 38101a0b-2096-447d-96ea-a692162415ae done", "instance <UUID> done"),
        ("at Sun Jul 10 03:55:21 2005 ok", "at <DATE> ok"),
        ("took 250ms, wrote 4 KB", "took <DUR>, wrote <SIZE>"),
        ("www.google.com:443 close, 1190 bytes (1.16 KB) sent", "<HOST> close, <SIZE> sent"),
        ("PacketResponder 1 for block blk_-69522958 terminating", "PacketResponder <NUM> for block <BLK> terminating"),
        ("addr 0x7ffd1a2b mac 00:1b:44:11:3a:b7", "addr <HEX> mac <MAC>"),
    ],
)
def test_mask_examples(message: str, masked: str) -> None:
    assert Masker().mask(message) == masked
    assert as_wildcards(Masker().mask(message)) == Masker(typed=False).mask(message)


def test_words_that_differ_make_different_templates_but_variables_merge() -> None:
    miner = TemplateMiner()
    paused, resumed = miner.add("VM Paused (Lifecycle Event)"), miner.add("VM Resumed (Lifecycle Event)")
    a, b = miner.add("Invalid user webmaster from 1.2.3.4"), miner.add("Invalid user oracle from 5.6.7.8")
    assert paused != resumed and a == b
    assert miner.template(a) == "Invalid user <*> from <IP>"


def test_state_round_trip_keeps_keys_and_counts() -> None:
    messages = synthetic_messages(500)
    miner = TemplateMiner()
    keys = [miner.add(m) for m in messages]
    state = json.loads(json.dumps(miner.to_state()))  # plain JSON only
    again = TemplateMiner.from_state(state)
    assert [again.match(m) for m in messages] == keys
    assert {t.key: t.count for t in again.templates()} == {t.key: t.count for t in miner.templates()}
    assert again.add("a brand new message never seen") == max(keys) + 1


@pytest.mark.parametrize(
    "state", [{}, {"version": 9}, {"version": 1, "config": {}, "next_id": 1, "clusters": [["x", [], 1]]}]
)
def test_malformed_state_is_refused(state: dict) -> None:
    with pytest.raises(InputError):
        TemplateMiner.from_state(state)


def test_template_explosion_stays_bounded() -> None:
    miner = TemplateMiner(MinerConfig(max_clusters=50, cache_size=100))
    words = [f"w{chr(97 + i % 26)}{chr(97 + i // 26 % 26)}{chr(97 + i // 676 % 26)}" for i in range(5000)]
    for w in words:
        miner.add(f"{w.replace('w', 'q')} unique {w[::-1]} event")  # every line its own template
        assert len(miner) <= 50 and len(miner._cache) <= 100
    assert miner.templates()[0].count >= 1


def test_store_saves_and_restores_the_same_keys(tmp_path: Path) -> None:
    from engine.logs.templates.store import TemplateStore

    store = TemplateStore(tmp_path / "state.json")
    miner = store.load()
    keys = [miner.add(m) for m in synthetic_messages(200)]
    assert miner.dirty
    store.save(miner)
    assert not miner.dirty and not (tmp_path / "state.json.tmp").exists()
    again = TemplateStore(tmp_path / "state.json").load()
    assert [again.add(m) for m in synthetic_messages(200)] == keys  # stable ids across runs of the same source


def test_store_sets_a_corrupt_state_aside(tmp_path: Path) -> None:
    from engine.logs.templates.store import TemplateStore

    path = tmp_path / "state.json"
    path.write_text('{"version": 1, "clusters": "nonsense"')
    store = TemplateStore(path)
    miner = store.load()
    assert len(miner) == 0 and "unreadable" in store.problem and (tmp_path / "state.json.corrupt").is_file()
