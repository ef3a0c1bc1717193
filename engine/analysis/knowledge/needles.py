"""Needles: texts one of which every match of a signature's pattern contains, so a line without any of them
is not searched with the pattern at all.

The knowledge base holds hundreds of signatures and reads every line of a chunk's digest with each, so most
of a digest's time went into regex searches that fail. `needles(pattern)` reads the pattern's parse tree
(Python's own `re` parser) and finds, where it can be sure, a set of plain texts such that any match holds
one of them: a run of literal characters in the pattern's sequence, one text per branch of an alternation
(`Out of memory|oom-kill`), what a group or a repeat of at least one holds. Of the sets that are sure it
keeps the one whose shortest text is longest. A pattern it cannot be sure of (a branch with no literal
text, a verbose pattern, non-ASCII needles) gets None and is always searched.

The texts are lower-cased ASCII; the knowledge base (`KnowledgeBase.candidates`) looks for them in the
line lower-cased, and only where the line
is ASCII: `re.IGNORECASE` folds a few non-ASCII letters onto ASCII ones (the long s onto `s`, the Kelvin
sign onto `k`) that `str.lower` does not, so a non-ASCII line is searched with every pattern, as before.
"""

from __future__ import annotations

import re
from typing import Any

try:  # Python 3.11+
    import re._constants as sre_constants  # type: ignore[import-not-found]
    import re._parser as sre_parse  # type: ignore[import-not-found]
except ImportError:  # Python 3.10
    import sre_constants  # type: ignore[no-redef]
    import sre_parse  # type: ignore[no-redef]

Needles = tuple[str, ...]
_REPEATS = {sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT, getattr(sre_constants, "POSSESSIVE_REPEAT", None)}
_ATOMIC = getattr(sre_constants, "ATOMIC_GROUP", None)  # Python 3.11+: (?>…)


def _better(a: Needles | None, b: Needles | None) -> Needles | None:
    """The surer prefilter of two: the one whose shortest needle is longer (fewer, where equal)."""
    if a is None or b is None:
        return a if b is None else b
    key = lambda n: (min(map(len, n)), -len(n))  # noqa: E731
    return a if key(a) >= key(b) else b


def _sequence(items: Any) -> Needles | None:  # noqa: ANN401 - a parsed sequence (sre_parse.SubPattern)
    """Needles for a sequence of items: the best of its literal runs and of its items that must occur."""
    best: Needles | None = None
    run: list[str] = []
    for op, av in list(items) + [(None, None)]:
        if op is sre_constants.LITERAL:
            run.append(chr(av))
            continue
        if run:
            best = _better(best, ("".join(run),))
            run = []
        if op is None:
            break
        best = _better(best, _item(op, av))
    return best


def _item(op: Any, av: Any) -> Needles | None:  # noqa: ANN401 - one parsed item
    """Needles that every match of one item holds, or None."""
    if op is sre_constants.SUBPATTERN:
        return _sequence(av[-1])
    if op is sre_constants.BRANCH:
        found = [_sequence(branch) for branch in av[1]]
        if any(f is None for f in found):
            return None
        return tuple(sorted({n for f in found for n in f}))  # type: ignore[union-attr]
    if op in _REPEATS and av[0] >= 1:
        return _sequence(av[2])
    if _ATOMIC is not None and op is _ATOMIC:
        return _sequence(av)
    return None  # a class, an anchor, a lookaround, a backreference, an optional part: nothing it must hold


def needles(pattern: str, flags: int = 0) -> Needles | None:
    """Lower-case ASCII texts one of which is in every match of `pattern` (with re `flags`), or None."""
    try:
        parsed = sre_parse.parse(pattern, flags)
    except re.error:
        return None
    if parsed.state.flags & re.VERBOSE:
        return None  # whitespace and comments were dropped by the parser: still sure, but keep it simple
    found = _sequence(parsed)
    if found is None or not all(n.isascii() and n for n in found):
        return None
    folded = bool(parsed.state.flags & re.IGNORECASE)
    if not folded and any(n != n.lower() for n in found):
        return None  # case matters: a lower-cased line would lose the difference
    return tuple(sorted({n.lower() for n in found}))

