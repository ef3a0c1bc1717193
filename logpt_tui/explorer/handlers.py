"""What the parts of a tab share: the guard for handlers of worker messages."""

from __future__ import annotations

from collections.abc import Callable


def needs_view(handler: Callable) -> Callable:
    """For handlers of worker messages: those can arrive while the app shuts down, when there is no view left."""

    def guarded(self: object, message: object) -> None:
        from logpt_tui.explorer.widgets.log_view import LogView  # noqa: PLC0415 - Textual is loaded by then

        if self.query(LogView):  # type: ignore[attr-defined]
            handler(self, message)

    guarded.__name__ = handler.__name__
    guarded.__doc__ = handler.__doc__
    return guarded
