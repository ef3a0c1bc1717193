"""The key bar: Textual's `Footer`, rebuilt only when the keys it shows change.

Textual's footer rebuilds all of its keys whenever the screen's bindings are updated, which is every focus
change: each prompt that opens or closes (`:`, `/`, `i`, `x`, `X`) paid for fifteen new widgets although
the same keys were shown. This one compares what it would show (key, label, action, enabled, tooltip)
with what it shows and rebuilds only on a difference.
"""

from __future__ import annotations

from textual.screen import Screen
from textual.widgets import Footer


class KeyBar(Footer):
    """A `Footer` that keeps its keys while they are the same."""

    def __init__(self) -> None:
        super().__init__()
        self._shown: tuple | None = None

    def shown_keys(self, screen: Screen) -> tuple:
        """What `Footer.compose` builds its keys from."""
        keys = tuple(
            (binding.key, binding.description, binding.action, binding.group, enabled, tooltip)
            for (_, binding, enabled, tooltip) in screen.active_bindings.values()
            if binding.show
        )
        return keys, self.show_command_palette, self.compact

    def bindings_changed(self, screen: Screen) -> None:
        if self.is_attached and screen is self.screen and screen.app.app_focus:
            shown = self.shown_keys(screen)
            if shown == self._shown:
                return
            self._shown = shown
        super().bindings_changed(screen)
