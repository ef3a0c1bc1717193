"""The key bar: the keys Textual's footer would show, rebuilt only when they change."""

from __future__ import annotations

from pathlib import Path

import pytest

from logpt_tui.explorer.app import LogptApp
from logpt_tui.explorer.widgets.footer import KeyBar
from tests.logpt_tui.explorer.test_app import FakeBackend, settle, status


@pytest.fixture
def log(tmp_path: Path) -> Path:
    path = tmp_path / "app.log"
    path.write_text("".join(f"Nov 21 10:00:{i % 60:02d} web-01 app[1]: request {i} ok\n" for i in range(1, 301)))
    return path


def shown(bar: KeyBar) -> list[tuple[str, str]]:
    """(key, label) of the keys on the bar, as drawn."""
    return [(key.key, key.description) for key in bar.query("FooterKey")]


def expected(bar: KeyBar) -> list[tuple[str, str]]:
    """What Textual's footer would show: every shown binding of the screen, one per action, command palette last."""
    seen: dict[str, tuple[str, str]] = {}
    for _, binding, _, _ in bar.screen.active_bindings.values():
        if binding.show and binding.action not in seen:
            seen[binding.action] = (binding.key, binding.description)
    palette = bar.screen.active_bindings.get(bar.app.COMMAND_PALETTE_BINDING)
    extra = [(palette[1].key, palette[1].description)] if palette and bar.show_command_palette else []
    return [*seen.values(), *extra]


async def test_the_bar_shows_the_screen_s_keys_and_is_rebuilt_only_when_they_change(log: Path) -> None:
    app = LogptApp(log, poll_seconds=60, backend=FakeBackend(), flags=None)
    async with app.run_test(size=(160, 30)) as pilot:
        await settle(pilot, app, lambda: "300 lines" in status(app))
        bar = app.query_one(KeyBar)
        await settle(pilot, app, lambda: bool(shown(bar)))
        assert sorted(shown(bar)) == sorted(expected(bar))
        builds = 0
        real = bar.recompose

        async def counted() -> None:
            nonlocal builds
            builds += 1
            await real()

        bar.recompose = counted  # type: ignore[method-assign]
        for _ in range(3):  # a prompt opens and closes: focus moves twice, the keys the bar shows may change
            await pilot.press("colon")
            await pilot.pause(0.05)
            await pilot.press("escape")
            await pilot.pause(0.05)
        await settle(pilot, app, lambda: sorted(shown(bar)) == sorted(expected(bar)))
        assert builds <= 2 * 3  # at most a rebuild a change of keys
        before = builds
        for _ in range(3):  # the same keys: nothing to rebuild
            app.screen.bindings_updated_signal.publish(app.screen)
            await pilot.pause(0.05)
        assert builds == before and sorted(shown(bar)) == sorted(expected(bar))
