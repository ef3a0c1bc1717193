"""Template mining: the cached miner against uncached Drain, masks, state, bounded memory."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from engine.errors import InputError
from engine.logs.formats import detect_format, parse_lines
from engine.logs.templates import Masker, MinerConfig, TemplateMiner, as_wildcards, digit_shape
from engine.logs.templates.drain import WordAwareDrain, glob_fits, widen
from tests.conftest import SAMPLE_LOG

LOGHUB = Path(__file__).resolve().parents[4] / "shared" / "datasets" / "loghub"


def uncached_keys(messages: list[str], config: MinerConfig) -> list[int]:
    """The slow reference: every message masked and sent through Drain, no cache."""
    masker = Masker(typed=config.typed_masks, rules=config.rules)
    drain = WordAwareDrain(
        depth=config.depth,
        sim_th=config.sim_th,
        max_children=config.max_children,
        max_clusters=config.max_clusters,
        globs=config.rules >= 2,
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


@pytest.mark.parametrize("rules", [1, 2])
def test_cached_miner_matches_uncached_drain_on_synthetic_lines(rules: int) -> None:
    messages = synthetic_messages(3000)
    miner = TemplateMiner(MinerConfig(rules=rules))
    assert [miner.add(m) for m in messages] == uncached_keys(messages, miner.config)


@pytest.mark.skipif(not LOGHUB.is_dir(), reason="Loghub samples (../shared/datasets/loghub) are not on this machine")
@pytest.mark.parametrize("rules", [1, 2])
def test_cached_miner_matches_uncached_drain_on_loghub(rules: int) -> None:
    for folder in sorted(p for p in LOGHUB.iterdir() if p.is_dir()):
        lines = (folder / f"{folder.name}_2k.log").read_text(encoding="utf-8", errors="replace").splitlines()
        messages = [r.message for r in parse_lines(lines, detect_format(lines).format, multiline=False)]
        miner = TemplateMiner(MinerConfig(rules=rules))
        assert [miner.add(m) for m in messages] == uncached_keys(messages, miner.config), folder.name


@pytest.mark.parametrize("rules", [1, 2])
def test_masks_ignore_digit_values(rules: int) -> None:
    masker = Masker(rules=rules)
    rng = random.Random(1)
    extra = ["blk_-42 blk_7 at /var/lib/x/7.img, attempt_1_2_m_3 took 250ms: host-1:8080. done"]
    for message in synthetic_messages(500, seed=2) + SAMPLE_LOG.splitlines() + extra:
        other = "".join(str(rng.randint(0, 9)) if c.isdigit() else c for c in message)
        assert digit_shape(other) == digit_shape(message)
        assert masker.mask(other) == masker.mask(message)


@pytest.mark.parametrize(
    "message, masked",
    [
        ("connect to 10.1.2.3:8080 failed", "connect to <IP>:<NUM> failed"),
        ("from 10.0.0.1,10.0.0.2 via eth0", "from <IP> via eth<N>"),
        ("instance 38101a0b-2096-447d-96ea-a692162415ae done", "instance <UUID> done"),
        ("at Sun Jul 10 03:55:21 2005 ok", "at <DATE> ok"),
        ("took 250ms, wrote 4 KB", "took <NUM>ms, wrote <SIZE>"),
        ("www.google.com:443 close, 1190 bytes (1.16 KB) sent", "<HOST>:<NUM> close, <SIZE> sent"),
        (
            "PacketResponder 1 for block blk_-69522958 terminating",
            "PacketResponder <NUM> for block blk_<NUM> terminating",
        ),
        ("ask 10.0.0.1:50010 to delete blk_-1 blk_2 blk_3", "ask <IP>:<NUM> to delete blk_<NUM>"),
        ("addr 0x7ffd1a2b mac 00:1b:44:11:3a:b7", "addr <HEX> mac <MAC>"),
        ("Launching attempt_1445144423722_0020_m_000000_0", "Launching attempt_<NUM>"),
        ("ok /etc/httpd/conf/workers2.properties", "ok <PATH>"),
        ("log source = /proc/kmsg started.", "log source = /proc/kmsg started."),
        ("src: /10.250.19.102:54106 dest", "src: /<IP>:<NUM> dest"),
        (
            "connect to server: msra-sa-41:8030. Already tried 9 time(s)",
            "connect to server: <HOST>:<NUM>. Already tried <NUM> time(s)",
        ),
        ("unknown lease 10.0.0.1.", "unknown lease <IP>."),
    ],
)
def test_mask_examples(message: str, masked: str) -> None:
    assert Masker().mask(message) == masked
    assert as_wildcards(Masker().mask(message)) == Masker(typed=False).mask(message)


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
        ("ok /etc/httpd/conf/workers2.properties", "ok /etc/httpd/conf/<NUM>"),
    ],
)
def test_rules_1_mask_examples(message: str, masked: str) -> None:
    """The first masks, which template states saved before rules 2 keep using."""
    assert Masker(rules=1).mask(message) == masked


def test_a_saved_state_without_rules_keeps_the_first_rules() -> None:
    miner = TemplateMiner(MinerConfig(rules=1))
    key = miner.add("connect to 10.1.2.3:8080 failed")
    state = miner.to_state()
    del state["config"]["rules"]  # as a state saved before rules 2 was written
    restored = TemplateMiner.from_state(state)
    assert restored.config.rules == 1 and restored.add("connect to 10.9.9.9:1 failed") == key
    assert TemplateMiner.from_state(TemplateMiner().to_state()).config.rules == 2
    with pytest.raises(ValueError, match="rules 7"):
        Masker(rules=7)


@pytest.mark.parametrize(
    "template, token, widened",
    [
        ("rhost=<IP>", "rhost=<HOST>", "rhost=<*>"),
        ("<IP>,", "LOCAL(<NUM>),", "<*>,"),
        ("admin", "alice", "<*>"),  # words are never split
        ("<IP>:<NUM>", "<HOST>:<NUM>", "<*>:<NUM>"),
        ("rhost=<*>", "rhost=", "rhost=<*>"),
        ("rhost=<*>", "ruser=x", "<*>"),
        ("[<NUM>]", "[<IP>]", "[<*>]"),
    ],
)
def test_widen_keeps_the_punctuation_both_share(template: str, token: str, widened: str) -> None:
    assert widen(template, token, "<*>") == widened
    assert glob_fits(widened, token) and (widened == "<*>" or glob_fits(widened, template))


def test_a_widened_template_reads_like_its_messages() -> None:
    miner = TemplateMiner()
    keys = {
        miner.add(f"authentication failure; ruser= rhost={host} user=root") for host in ("10.0.0.1", "a.example.com")
    }
    keys |= {miner.add(f"synchronized to {peer}, stratum 2") for peer in ("10.1.1.1", "LOCAL(0)")}
    assert {miner.template(k) for k in keys} == {
        "authentication failure; ruser= rhost=<*> user=root",
        "synchronized to <*>, stratum <NUM>",
    }


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


NOT_STATES = {"log.txt": "Nov 20 10:00:00 host app: started\n", "notes.json": '{"todo": ["milk"]}',
              "broken.json": '{"version": 1, "clusters": "nonsense"', "deep.json": "[" * 100_000 + "]" * 100_000}


@pytest.mark.parametrize("name", [*NOT_STATES, "pipe", "dir"])
def test_store_never_replaces_or_sets_aside_a_file_that_is_not_a_state(tmp_path: Path, name: str) -> None:
    import os

    from engine.errors import InputError
    from engine.logs.templates.store import TemplateStore

    if name in NOT_STATES:
        (tmp_path / name).write_text(NOT_STATES[name])
    elif name == "pipe":
        os.mkfifo(tmp_path / "pipe")
    else:
        (tmp_path / "dir").mkdir()
    with pytest.raises(InputError) as e, TemplateStore(tmp_path / name) as store:
        store.load()
    assert str(tmp_path / name) in e.value.message and "\n" not in str(e.value)
    if name in NOT_STATES:
        assert (tmp_path / name).read_text() == NOT_STATES[name]  # untouched
    assert [p.name for p in tmp_path.iterdir()] == [name]  # nothing renamed aside, no lock or temporary file left


@pytest.mark.parametrize("broken", ["next-id-below-the-ids", "one-id-twice"])
def test_store_refuses_a_state_whose_ids_do_not_fit(tmp_path: Path, broken: str) -> None:
    import json

    from engine.errors import InputError
    from engine.logs.templates.store import TemplateStore

    good = TemplateStore(tmp_path / "state.json")
    miner = good.load()
    for m in synthetic_messages(50):
        miner.add(m)
    good.save(miner)
    state = json.loads((tmp_path / "state.json").read_text())
    bad = {**state, "next_id": 1} if broken == "next-id-below-the-ids" else {**state, "clusters": state["clusters"] + state["clusters"][:1]}
    (tmp_path / "bad.json").write_text(json.dumps(bad))
    with pytest.raises(InputError, match="next_id|bad id"):
        TemplateStore(tmp_path / "bad.json").load()


def test_a_second_run_on_one_state_is_refused_while_the_first_holds_it(tmp_path: Path) -> None:
    from engine.errors import InputError
    from engine.logs.templates.store import TemplateStore

    with TemplateStore(tmp_path / "state.json") as first:
        first.save(first.load())
        with pytest.raises(InputError, match="in use by another logpt run"), TemplateStore(tmp_path / "state.json"):
            pass
    with TemplateStore(tmp_path / "state.json") as again:  # released: the next run goes ahead
        assert len(again.load()) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.json"]