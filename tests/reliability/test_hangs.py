"""Inputs that used to hang: catastrophic regexes, huge lines, lines of unique words."""

from __future__ import annotations

import random
import string
import threading
import time
from pathlib import Path

import pytest

from engine.analysis.knowledge import default_kb
from engine.errors import InputError
from engine.logs.formats import parse_lines
from engine.logs.formats.user import load_format_file
from engine.logs.sessions import SessionSpec, group_sessions
from engine.logs.templates import TemplateMiner
from engine.logs.templates.drain import MAX_CANDIDATES
from engine.logs.userregex import UserRegex
from logpt_tui.explorer.app import LogptApp
from tests.logpt_tui.explorer.test_app import settle, status

EVIL = "^(a|a)*$"  # exponential in `regex` too; `^(a+)+$` it answers at once
VICTIM = "a" * 40 + "!"  # 2^40 backtracking paths


def test_a_catastrophic_user_format_regex_gives_up_with_one_error(tmp_path: Path) -> None:
    path = tmp_path / "f.toml"
    path.write_text("[[format]]\nname = 'evil'\nregex = '^(?P<message>(a|a)*)$'\n")
    fmt = load_format_file(path)[0]
    t0 = time.perf_counter()
    with pytest.raises(InputError, match="catastrophic backtracking"):
        list(parse_lines([VICTIM], fmt))
    assert time.perf_counter() - t0 < 10


def test_a_catastrophic_session_pattern_gives_up(tmp_path: Path) -> None:
    fmt = load_format_file(_simple(tmp_path))[0]
    records = [(r, "k") for r in parse_lines([VICTIM], fmt)]
    t0 = time.perf_counter()
    with pytest.raises(InputError, match="session pattern"):
        group_sessions(records, SessionSpec.parse(r"^((a|a)*)$"))
    assert time.perf_counter() - t0 < 10


def _simple(tmp_path: Path) -> Path:
    path = tmp_path / "simple.toml"
    path.write_text("[[format]]\nname = 'plain'\nregex = '^(?P<message>.*)$'\n")
    return path


def test_the_reported_pattern_now_answers_at_once() -> None:
    t0 = time.perf_counter()
    assert UserRegex("^(?P<message>(a+)+)$").match(VICTIM) is None
    assert time.perf_counter() - t0 < 0.5


def test_user_regex_matching_lets_other_threads_run() -> None:
    evil = UserRegex(EVIL, "search")
    ticks = []
    stop = threading.Event()

    def tick() -> None:
        while not stop.is_set():
            ticks.append(time.perf_counter())
            time.sleep(0.01)

    ticker = threading.Thread(target=tick)
    ticker.start()
    with pytest.raises(InputError):
        evil.search(VICTIM)
    stop.set()
    ticker.join()
    assert len(ticks) > 20  # the GIL was released while the regex backtracked


def test_signatures_on_a_250_kb_line_are_quick() -> None:
    kb = default_kb()
    t0 = time.perf_counter()
    kb.match("Nov 21 10:00:00 web-01 app[1]: " + "a b c d e " * 25_000 + " Out of memory: Killed process 1")
    assert time.perf_counter() - t0 < 1.0


def test_mining_compares_a_message_with_a_bounded_number_of_templates(monkeypatch: pytest.MonkeyPatch) -> None:
    from drain3.drain import Drain

    rng = random.Random(0)
    scanned: list[int] = []
    original = Drain.fast_match

    def counting(self, cluster_ids, tokens, sim_th, include_params):  # noqa: ANN001, ANN202
        scanned.append(len(cluster_ids))
        return original(self, cluster_ids, tokens, sim_th, include_params)

    monkeypatch.setattr(Drain, "fast_match", counting)
    miner = TemplateMiner()
    for _ in range(MAX_CANDIDATES + 300):  # lines of unique words pile up in one leaf
        miner.add(" ".join("".join(rng.choice(string.ascii_lowercase) for _ in range(7)) for _ in range(8)))
    assert max(scanned) == MAX_CANDIDATES


@pytest.mark.slow  # runs a search to its time limit: ~5 s; CI runs -m slow
async def test_a_catastrophic_search_in_the_explorer_leaves_it_responsive(tmp_path: Path) -> None:
    path = tmp_path / "a.log"
    path.write_text("".join(f"{VICTIM}\n" for _ in range(20)))
    app = LogptApp(path, poll_seconds=60, backend=None, flags=None)
    async with app.run_test(size=(100, 24)) as pilot:
        await settle(pilot, app, lambda: "20 lines" in status(app))
        await pilot.press("slash", *EVIL, "enter")
        t0 = time.perf_counter()
        await pilot.press("g", "G")  # keys are handled while the search backtracks
        assert time.perf_counter() - t0 < 3
        await pilot.pause(2.0)
        assert app.is_running


def _tree(node, path=()):  # noqa: ANN001, ANN202
    yield path, tuple(node.cluster_ids)
    for key, child in sorted(node.key_to_child_node.items()):
        yield from _tree(child, (*path, key))


def test_the_prefix_tree_is_built_as_drain_builds_it() -> None:
    from drain3.drain import Drain

    from engine.logs.templates.drain import WordAwareDrain
    from tests.engine.logs.test_templates import synthetic_messages

    class Reference(WordAwareDrain):
        add_seq_to_prefix_tree = Drain.add_seq_to_prefix_tree

    rng = random.Random(3)
    messages = [*synthetic_messages(3000), *(f"job {rng.randint(1, 9)} {w} done" for w in string.ascii_lowercase * 8)]
    ours, theirs = WordAwareDrain(depth=4, max_children=5), Reference(depth=4, max_children=5)  # small: overflow too
    for message in messages:
        ours.add_log_message(message)
        theirs.add_log_message(message)
    assert list(_tree(ours.root_node)) == list(_tree(theirs.root_node))


def test_a_growing_leaf_is_cleaned_in_amortized_linear_time() -> None:
    from engine.logs.templates.drain import WordAwareDrain

    class Counting(dict):
        checks = 0

        def __contains__(self, key: object) -> bool:
            Counting.checks += 1
            return super().__contains__(key)

    drain = WordAwareDrain()
    drain.id_to_cluster = Counting()
    rng = random.Random(0)
    n = 3000
    for _ in range(n):
        drain.add_log_message(" ".join("".join(rng.choice(string.ascii_lowercase) for _ in range(7)) for _ in range(8)))
    assert max(len(ids) for _, ids in _tree(drain.root_node)) > n * 0.9  # one big leaf
    assert Counting.checks < 4 * n  # Drain's rebuild on every insert would check ~n²/2 = 4.5M ids


def test_a_bundles_template_table_cannot_make_a_line_hang() -> None:
    from engine.logs.templates.table import KeyedMiner

    miner = KeyedMiner({"1": " ".join(["<*>"] * 40) + " zzz end"})  # as a regex of lazy groups: exponential
    t0 = time.perf_counter()
    key = miner.add(" ".join(["a"] * 5000) + " zzz")
    assert key.startswith("~") and time.perf_counter() - t0 < 10


def test_everyday_formats_read_a_hostile_line_in_linear_time() -> None:
    from engine.logs.formats.everyday import EVERYDAY
    from engine.logs.formats.logfmt import LOGFMT

    heads = ["03-17 16:13:38.811  1702  2395 D ", "03-17 16:13:38.811 D/", "D/", "2026-11-21 10:00:09.640 UTC [1]",
             "2016-09-28 04:30:31, Error ", "a=1 " * 1000]  # fmt: skip
    t0 = time.perf_counter()
    for fmt in [*EVERYDAY, LOGFMT]:
        for head in heads:
            for tail in (" " * 60_000, "a " * 30_000):
                fmt.parse(head + tail, 1)
    assert time.perf_counter() - t0 < 10  # a lazy run before \s* made logcat's regex quadratic: ~10 s a line


def test_a_regex_just_under_the_per_line_limit_gives_up_over_a_file(tmp_path: Path) -> None:
    # ~0.15 s a line: never over the 1 s per line limit, but hours over a large log
    path = tmp_path / "f.toml"
    path.write_text("[[format]]\nname = 'slow'\nregex = '^(?P<message>(a|aa)+)$'\n")
    fmt = load_format_file(path)[0]
    lines = ["a" * 26 + "b"] * 10_000
    with pytest.raises(InputError, match="ms a line on average: too slow") as e:
        list(parse_lines(lines, fmt))
    assert "\n" not in str(e.value)
    fast = UserRegex("^(?P<message>.*)$")
    assert all(fast.match("x" * 200) for _ in range(20_000)) and fast.calls == 20_000  # a normal one never trips
