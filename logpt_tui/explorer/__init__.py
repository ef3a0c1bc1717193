"""The Textual explorer (`logpt-tui FILE…`): the app, one tab per file with its
state, the key table, the analysis backend, modal screens and widgets.

Blocking work runs in thread workers that only post messages
(`messages.py`); torch loads in those workers, never when the explorer opens.
"""
