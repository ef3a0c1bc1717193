"""Readability: the share of a reply's words that are neither English nor words of what it was given.

Grounding checks a reply's facts; it says nothing of prose like "A service or areaks; the service or port:
the service or rundancanccess killer", which holds no wrong fact and no word of English either. A word
here is a run of letters (an apostrophe inside kept); it is known when it is in the English word list
shipped with logpt (`words/english.txt`: SCOWL's American English, lower-cased, 73,449 words; notice in
`words/COPYRIGHT-SCOWL.txt`), or occurs in the chunk, its digest, the knowledge base or the analyst's
phrases (names, programs, log vocabulary). A token with digits or underscores (`blk_38`, `request_request_conntrack`) is an
identifier: known only when a source has it as written. A reply with more than `GARBLED_ABOVE` unknown words is labelled garbled wherever it is
shown; the share is in `--json` as `readability` and in `logpt eval generator`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

WORD = re.compile(r"[A-Za-z0-9_]*[A-Za-z][A-Za-z0-9_]*(?:'[A-Za-z]+)?")  # with digits or `_`: an identifier
CAMEL = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])")  # SocketTimeoutException → Socket, Timeout, Exception
COUNT = re.compile(r"\d+x")
GARBLED_ABOVE = 0.05


@lru_cache(maxsize=1)
def english() -> frozenset[str]:
    text = resources.files("engine.analysis.words").joinpath("english.txt").read_text(encoding="utf-8")
    return frozenset(text.split())


@lru_cache(maxsize=1)
def knowledge_texts() -> tuple[str, ...]:
    """The knowledge base's files, read once."""
    knowledge = resources.files("engine.analysis.knowledge")
    return tuple(f.read_text(encoding="utf-8") for f in knowledge.iterdir() if f.name.endswith(".toml"))


@lru_cache(maxsize=1)
def knowledge_words() -> frozenset[str]:
    """The knowledge base's words and the analyst's phrase inventory (its own replies are the reference)."""
    code = [resources.files("engine.analysis").joinpath(name).read_text(encoding="utf-8")
            for name in ("analyst.py", "cause.py", "timeline.py")]  # fmt: skip
    return frozenset(w for t in (*knowledge_texts(), *code) for w in words_of(t))


@lru_cache(maxsize=1)
def knowledge_identifiers() -> frozenset[str]:
    """The settings and names the knowledge base's remedies write (`vm.overcommit_memory`, `proxy_read_timeout`)."""
    return frozenset(w.lower() for t in knowledge_texts() for w in WORD.findall(t) if is_identifier(w))


def words_of(text: str) -> set[str]:
    """The words of `text`, lower-cased, with the parts of camel-case and snake-case names too."""
    found = set()
    for word in WORD.findall(text):
        found.add(word.lower())
        found.update(part.lower() for part in CAMEL.findall(word))
    return found


def is_identifier(word: str) -> bool:
    return "_" in word or any(c.isdigit() for c in word)


@dataclass(frozen=True)
class Readability:
    words: int  # words in the reply
    unknown: tuple[str, ...]  # those neither English nor in the sources, in reply order, repeats kept

    @property
    def share(self) -> float:
        """Share of unknown words (0.0 for a reply without words)."""
        return len(self.unknown) / self.words if self.words else 0.0

    @property
    def garbled(self) -> bool:
        return self.share > GARBLED_ABOVE

    def describe(self) -> str:
        label = "garbled" if self.garbled else "readable"
        return f"{label}: {self.share:.0%} unknown words"

    def to_json(self) -> dict[str, object]:
        return {"unknown_share": round(self.share, 4), "garbled": self.garbled, "words": self.words,
                "unknown": list(dict.fromkeys(self.unknown))[:20]}  # fmt: skip


def readability(reply: str, sources: Iterable[str]) -> Readability:
    """How many of the reply's words are English or words of `sources` (the chunk, its digest)."""
    known = english() | knowledge_words()
    source_words: set[str] = set()
    for source in sources:
        source_words |= words_of(source)
    words = WORD.findall(reply)
    unknown = []
    for word in words:
        lower = word.lower()
        base = lower.removesuffix("'s")
        if COUNT.fullmatch(lower):  # "12x": how often, as the analyst writes it
            continue
        if is_identifier(word):  # an id, a key, a glued run: known only as written in a source or the knowledge base
            if base not in source_words and base not in knowledge_identifiers():
                unknown.append(word)
            continue
        if base in known or base in source_words or len(base) == 1:
            continue
        parts = [p.lower() for p in CAMEL.findall(word)]
        if len(parts) > 1 and all(p in known or p in source_words for p in parts):
            continue  # a name made of known words
        unknown.append(word)
    return Readability(len(words), tuple(unknown))
