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

For searching a whole file in large blocks (engine/logs/search.py) a pattern
also says what a block scan may rely on: `literals`, texts that every match
contains (a prefilter over raw bytes), each with its `context` where the
pattern has one (the literal and the plain items beside it, a narrower regex
that every matching line also matches, cheap to search because it starts with
the literal), and `line_local`, whether a match found in lines joined by
newlines that stays inside one line is that line's match. `finditer_lines`
and `mark_lines` search such a block with `^` and `$` at every line's ends;
their time counts against the same budget, one call per line they covered.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import regex

from engine.errors import InputError

try:  # the parser of Python's own `re`: `regex` keeps its syntax, and exposes no parse tree of its own
    from re import _constants as sre_constants
    from re import _parser as sre_parse
except ImportError:  # Python 3.10
    import sre_constants  # type: ignore[no-redef]
    import sre_parse  # type: ignore[no-redef]

TIMEOUT_S = 1.0  # per line: ordinary regexes take microseconds
BUDGET_S = 2.0  # seconds a pattern may spend before its average speed is judged …
SLOW_S = 0.002  # … and the average per call above which it gives up (a million lines would take over half an hour)


# `(?` forms that keep a match inside the line it was found in: groups, names, comments, case and ASCII flags.
_LOCAL_GROUP = re.compile(r"\(\?(?::|P?<(?![=!])|P=|#|[aiLux]+[:)])")
_FUZZY = re.compile(r"\{[^}]*[a-z<]")  # `regex`'s fuzzy matching, {e<=1}: `re` would read it as literal text
_GROUPS = {sre_constants.SUBPATTERN, getattr(sre_constants, "ATOMIC_GROUP", None)}
_REPEATS = {sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT, getattr(sre_constants, "POSSESSIVE_REPEAT", None)}


@dataclass(frozen=True)
class Literal:
    """Text that every match of a pattern contains: its UTF-8 bytes, ASCII-lowercased when `folded` (the
    pattern ignores case; then it is ASCII and only stands for ASCII text)."""

    needle: bytes
    folded: bool
    whole: bool  # the pattern is this text and nothing else: a line that contains it matches
    context: str = ""  # a regex every matching line also matches: the text and the plain items beside it ("": none)


def stays_in_line(pattern: str) -> bool:
    """Whether nothing in the pattern looks past the ends of the text it matches, or at where the text starts
    and ends other than by `^`, `$` and word boundaries (which see a newline as a line's end)."""
    i = 0
    while i < len(pattern):
        if pattern[i] == "\\":
            if pattern[i + 1 : i + 2] in ("A", "Z", "z", "G", "K"):
                return False
            i += 2
            continue
        if pattern.startswith("(*", i) or (pattern.startswith("(?", i) and not _LOCAL_GROUP.match(pattern, i)):
            return False
        i += 1
    return not _FUZZY.search(pattern)


def _runs(items: Any, runs: list[str]) -> None:  # noqa: ANN401 - an sre_parse.SubPattern
    """Append the runs of literal text that every match of `items` (a concatenation) contains."""
    run: list[str] = []
    for op, av in items:
        if op is sre_constants.LITERAL:
            run.append(chr(av))
            continue
        runs.append("".join(run))
        run = []
        if op in _GROUPS and (op is not sre_constants.SUBPATTERN or not (av[1] or av[2])):  # no scoped flags
            _runs(av[-1], runs)
        elif op in _REPEATS and av[0] >= 1:
            _runs(av[2], runs)
    runs.append("".join(run))


_AT = {sre_constants.AT_BEGINNING: "^", sre_constants.AT_END: "$", sre_constants.AT_BOUNDARY: r"\b",
       sre_constants.AT_NON_BOUNDARY: r"\B"}  # fmt: skip
_CATEGORY = {sre_constants.CATEGORY_DIGIT: r"\d", sre_constants.CATEGORY_NOT_DIGIT: r"\D",
             sre_constants.CATEGORY_SPACE: r"\s", sre_constants.CATEGORY_NOT_SPACE: r"\S",
             sre_constants.CATEGORY_WORD: r"\w", sre_constants.CATEGORY_NOT_WORD: r"\W"}  # fmt: skip
_CHARS = {sre_constants.LITERAL, sre_constants.NOT_LITERAL, sre_constants.ANY, sre_constants.IN}


def _char(code: int) -> str:
    """One character as regex source that means it alone, in a set or out of one."""
    c = chr(code)
    if c.isascii() and c.isalnum():
        return c
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def _set(items: Any) -> str | None:  # noqa: ANN401 - an IN node's items
    parts = []
    for op, av in items:
        if op is sre_constants.NEGATE and not parts:
            parts.append("^")
        elif op is sre_constants.LITERAL:
            parts.append(_char(av))
        elif op is sre_constants.RANGE:
            parts.append(f"{_char(av[0])}-{_char(av[1])}")
        elif op is sre_constants.CATEGORY and av in _CATEGORY:
            parts.append(_CATEGORY[av])
        else:
            return None
    return "[" + "".join(parts) + "]"


def _plain(op: Any, av: Any) -> str | None:  # noqa: ANN401 - an sre_parse item
    """An item as regex source when it is plain: a character, a set, `.`, `^`, `$`, `\\b`, `\\B`, or a repeat of
    one character or set (no group, so nothing a backreference or a later item could depend on); else None."""
    if op is sre_constants.LITERAL:
        return _char(av)
    if op is sre_constants.NOT_LITERAL:
        return f"[^{_char(av)}]"
    if op is sre_constants.ANY:
        return "."
    if op is sre_constants.AT:
        return _AT.get(av)
    if op is sre_constants.IN:
        return _set(av)
    if op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT) and len(av[2]) == 1 and av[2][0][0] in _CHARS:
        one, most = _plain(*av[2][0]), "" if av[1] == sre_constants.MAXREPEAT else str(av[1])
        return None if one is None else f"(?:{one}){{{av[0]},{most}}}"
    return None


def _leading(items: list[Any]) -> list[str]:
    """The sources of the plain items that `items` starts with."""
    out = []
    for op, av in items:
        if (source := _plain(op, av)) is None:
            break
        out.append(source)
    return out


def _contexts(items: list[Any], flags: str) -> dict[str, str]:
    """For each run of literal text in the pattern's top-level sequence, a regex every line the pattern matches
    also matches: the run and the plain items after it (`\\.25\\b` in `\\d+\\.\\d+\\.25\\b`) or, when none follows,
    the run behind a lookbehind of the plain items before it (also where what follows is all optional). A match's part from the run on is such a text
    (the items after the run see the same text either way). None for a pattern that starts with literal text
    (the regex finds that as fast as it would a context), nor where the items beside the run are all optional."""
    contexts: dict[str, str] = {}
    i = 0 if items and items[0][0] is not sre_constants.LITERAL else len(items)
    while i < len(items):
        j = i
        while j < len(items) and items[j][0] is sre_constants.LITERAL:
            j += 1
        if j == i:
            i += 1
            continue
        text, source = "".join(chr(av) for _, av in items[i:j]), "".join(_char(av) for _, av in items[i:j])
        after, before = _leading(items[j:]), _leading(items[:i][::-1])[::-1]
        after_constrains = bool(after) and _constrains(items[j : j + len(after)])
        if after_constrains:
            contexts.setdefault(text, flags + source + "".join(after))
        elif before and _constrains(items[i - len(before) : i]):  # nothing after, or only optional items
            contexts.setdefault(text, f"{flags}(?<={''.join(before)}){source}")
        i = j
    return contexts


def _constrains(items: list[Any]) -> bool:
    """Whether some item is more than an optional repeat (`\\s*` alone would make the context the literal's)."""
    return any(op not in _REPEATS or av[0] > 0 for op, av in items)


def required_literals(pattern: str, *, ignore_case: bool) -> tuple[Literal, ...]:
    """Runs of literal text that every match contains (the longest three, longest first), as bytes a raw
    block can be searched for; none when the pattern has none we can be sure of."""
    if "[:" in pattern or _FUZZY.search(pattern):  # POSIX classes and fuzzy counts: `re` reads them otherwise
        return ()
    try:
        parsed = sre_parse.parse(pattern)
    except Exception:  # noqa: BLE001 - `regex`-only syntax: no prefilter, the regex does it all
        return ()
    folded = ignore_case or bool(parsed.state.flags & re.IGNORECASE)
    runs: list[str] = []
    _runs(parsed, runs)
    usable = {r for r in runs if r and "\ufffd" not in r and not any("\ud800" <= c <= "\udfff" for c in r)}
    if folded:
        usable = {r for r in usable if r.isascii()}
    plain = not parsed.state.flags & re.VERBOSE
    contexts = _contexts(list(parsed), ("(?i)" if folded else "") + ("(?a)" if parsed.state.flags & re.ASCII else ""))
    whole = lambda r: plain and runs == [r] and not {"\r", "\n"} & set(r)  # noqa: E731
    return tuple(
        Literal((r.lower() if folded else r).encode(), folded, whole(r), contexts.get(r, ""))
        for r in sorted(usable, key=lambda r: (-len(r), r))[:3]
    )


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
        self._narrower: dict[str, UserRegex] = {}

    def _give_up(self) -> InputError:
        return InputError(
            f"the {self.what} /{self.pattern:.60}/ took over {TIMEOUT_S:g} s on one line (catastrophic backtracking)",
            "simplify it: avoid nested repeats such as (a+)+",
        )

    def _account(self, started: float, calls: int = 1) -> None:
        """Add one call's time (a block's, counted as `calls` lines); give up when the pattern is too slow to
        run over a file."""
        self.spent += time.perf_counter() - started
        self.calls += calls
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

    @cached_property
    def literals(self) -> tuple[Literal, ...]:
        """Texts every match contains, longest first (none when the pattern has none we can be sure of)."""
        return required_literals(self.pattern, ignore_case=self.ignore_case)

    @cached_property
    def line_local(self) -> bool:
        """Whether a match inside one line of a block of lines is a match of that line alone (no lookaround,
        \\A, \\Z, \\G, fuzzy or line-mode flags: those are matched line by line)."""
        return stays_in_line(self.pattern)

    @cached_property
    def _multiline(self) -> Any:  # noqa: ANN401 - a regex.Pattern
        return regex.compile(self.pattern, flags=self._compiled.flags | regex.MULTILINE)

    def finditer_lines(self, text: str, pos: int, endpos: int) -> Iterator[Any]:
        """The matches in text[pos:endpos] (lines joined by "\\n"; `^` and `$` at each line's ends), all within
        TIMEOUT_S (else TimeoutError: the caller reads those lines one by one), charged as one call a line."""
        started = time.perf_counter()
        try:
            yield from self._multiline.finditer(text, pos, endpos, concurrent=True, timeout=TIMEOUT_S)
        finally:
            self._account(started, text.count("\n", pos, endpos) + 1)

    def mark_lines(self, text: str, mark: str, count: int, lines: int) -> str:
        """The text (`lines` lines joined by "\\n"; `^` and `$` at each line's ends) with its first `count` matches
        each replaced by `mark`, in one call within TIMEOUT_S (else TimeoutError), charged as one call a line:
        where the matches are, without a Python step per match."""
        started = time.perf_counter()
        try:
            return self._multiline.sub(mark, text, count=count, concurrent=True, timeout=TIMEOUT_S)
        finally:
            self._account(started, lines)

    def narrower(self, literal: Literal) -> UserRegex | None:
        """The literal's `context` as a regex of its own (its own time budget), or None when it has none."""
        if not literal.context:
            return None
        if literal.context not in self._narrower:
            self._narrower[literal.context] = UserRegex(literal.context, self.what, ignore_case=self.ignore_case)
        return self._narrower[literal.context]

    def matching(self, texts: Sequence[str]) -> list[int]:
        """Indices of the texts that `search` finds a match in (each line under the same limits)."""
        search, clock, found = self._compiled.search, time.perf_counter, []
        for i, text in enumerate(texts):
            started = clock()
            try:
                if search(text, concurrent=True, timeout=TIMEOUT_S):
                    found.append(i)
            except TimeoutError:
                raise self._give_up() from None
            finally:
                self._account(started)
        return found

    def __repr__(self) -> str:
        return f"UserRegex({self.pattern!r})"
