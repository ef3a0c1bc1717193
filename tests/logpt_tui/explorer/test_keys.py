"""The key table: every action exists, and bindings, footer, help and palette agree with it."""

from __future__ import annotations

import re

from logpt_tui.explorer.app import LogptApp
from logpt_tui.explorer.keys import KEY_NAMES, KEYS, bindings, help_rows, help_text, palette_commands
from logpt_tui.explorer.tab import LogTab
from logpt_tui.explorer.widgets.log_view import LogView


def method_of(action: str) -> str:
    return "action_" + re.sub(r"\(.*\)$", "", action.removeprefix("app."))


def test_every_action_in_the_table_exists() -> None:
    for key in KEYS:
        owner = LogptApp if key.scope == "app" or key.action.startswith("app.") else LogTab
        owner = LogView if key.scope == "view" else owner
        assert hasattr(owner, method_of(key.action)), f"{key.key}: no {owner.__name__}.{method_of(key.action)}"


def test_bindings_come_from_the_table_and_keys_are_unique() -> None:
    assert bindings("tab") == LogTab.BINDINGS and bindings("app") == LogptApp.BINDINGS
    assert bindings("view") == LogView.BINDINGS
    keys = [k.key for k in KEYS]
    assert len(keys) == len(set(keys))


def test_help_lists_every_key_once_and_shows_no_markup() -> None:
    shown = " / ".join(keys for keys, _ in help_rows()).split(" / ")
    assert sorted(shown) == sorted(KEY_NAMES.get(k.key, k.key) for k in KEYS)
    plain = help_text("intro", "outro").plain
    assert "[b]" not in plain and "[/b]" not in plain
    assert "] / [" in plain  # brackets are keys here, not markup


def test_palette_entries_are_bound_keys_with_help() -> None:
    for key in palette_commands():
        assert key.palette_help and key.bind and key.scope == "tab"
