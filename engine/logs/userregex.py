"""Regexes that come from people and files: compiled with the `regex` package and run with a time limit.

A user format, a detector bundle's session pattern, the explorer's search and
filters are regexes nobody here wrote; one such as `^(a+)+$` backtracks for
ever on a line of a's, and Python's `re` holds the GIL while it does, so even
a worker thread freezes the explorer. `UserRegex` compiles with `regex`
(Matthew Barnett's engine, the same syntax), releases the GIL while matching
(`concurrent=True`) and gives up after `TIMEOUT_S` on one line with a
one-line InputError that names the regex. A pattern just under that limit
(`^((a|aa)+)$` at half a second a line) would still take hours over a file,
so each pattern also keeps the time it has spent: once it has spent
`BUDGET_S` at more than `SLOW_S` a line on average, it gives up the same way,
whatever runs it (a format over a file, a search, a filter). Built-in formats
and masks keep `re`: they are ours, tested, and on the hot path.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import regex

from engine.errors import InputError

TIMEOUT_S = 1.0  # per line: ordinary regexes take microseconds
BUDGET_S = 2.0  # seconds a pattern may spend before its average speed is judged …
SLOW_S = 0.002  # … and the average per call above which it gives up (a million lines would take over half an hour)


class UserRegex:
    """`re.Pattern`'s match / search / finditer / groupindex / pattern, with a time limit per call."""

    def __init__(self, pattern: str, what: str = "regex", *, ignore_case: bool = False) -> None:
        self.what = what
        self.ignore_case = ignore_case
        try:
            self._compiled = regex.compile(pattern, flags=regex.VERSION0 | (regex.IGNORECASE if ignore_case else 0))
        except (regex.error, TypeError, ValueError) as e:
            raise InputError(f"bad {what} {pattern!r:.80}: {e}", "fix the regex") from None
        self.pattern = pattern
        self.groupindex = self._compiled.groupindex
        self.groups = self._compiled.groups
        self.spent = 0.0  # seconds spent matching, over all calls
        self.calls = 0

    def _give_up(self) -> InputError:
        return InputError(
            f"the {self.what} /{self.pattern:.60}/ took over {TIMEOUT_S:g} s on one line (catastrophic backtracking)",
            "simplify it: avoid nested repeats such as (a+)+",
        )

    def _account(self, started: float) -> None:
        """Add one call's time; give up when the pattern is too slow to run over a file."""
        self.spent += time.perf_counter() - started
        self.calls += 1
        if self.spent > BUDGET_S and self.spent > SLOW_S * self.calls:
            raise InputError(
                f"the {self.what} /{self.pattern:.60}/ takes {1000 * self.spent / self.calls:.0f} ms a line on "
                f"average: too slow to run over a log (catastrophic backtracking)",
                "simplify it: avoid nested repeats such as (a|aa)+",
            )

    def match(self, text: str) -> Any:  # noqa: ANN401 - a regex.Match
        started = time.perf_counter()
        try:
            return self._compiled.match(text, concurrent=True, timeout=TIMEOUT_S)
        except TimeoutError:
            raise self._give_up() from None
        finally:
            self._account(started)

    def search(self, text: str) -> Any:  # noqa: ANN401
        started = time.perf_counter()
        try:
            return self._compiled.search(text, concurrent=True, timeout=TIMEOUT_S)
        except TimeoutError:
            raise self._give_up() from None
        finally:
            self._account(started)

    def finditer(self, text: str) -> Iterator[Any]:
        started = time.perf_counter()
        try:
            found = list(self._compiled.finditer(text, concurrent=True, timeout=TIMEOUT_S))
        except TimeoutError:
            raise self._give_up() from None
        finally:
            self._account(started)
        yield from found

    def __repr__(self) -> str:
        return f"UserRegex({self.pattern!r})"
