"""Typed errors that the edges (CLI, TUI) turn into one-line messages.

Every error carries a `hint` that says what the user can do about it. Broken
internal invariants are plain assertions, not these.
"""

from __future__ import annotations


class LogptError(Exception):
    """A user-facing failure: a one-line message plus a hint."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class InputError(LogptError):
    """The log input is missing, unreadable or not text."""


class BundleError(LogptError):
    """A model bundle is missing, incomplete or corrupt."""


class CheckpointError(LogptError):
    """A foreign checkpoint cannot be imported (unsafe, unknown layout, corrupt)."""


class ContextOverflowError(LogptError):
    """A prompt does not fit the model's context window."""
