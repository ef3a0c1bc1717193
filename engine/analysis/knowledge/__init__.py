"""The failure knowledge base: signatures that say what a log line means and what to do.

The signatures live in the `*.toml` files beside this module (package data):
`signatures.toml` first, then the others in name order (one file per family of
software). `KnowledgeBase.match(text, program)` returns the signatures whose
pattern occurs in a line, specific ones before generic ones; a signature whose
words are ambiguous names the `programs` it belongs to and fires only on their
lines (a line whose program is unknown is read by every signature).
`default_kb()` loads and validates the shipped files once. A malformed file is a
packaging bug, so it fails loudly with the signature's id.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

from engine.analysis.knowledge.needles import Needles, needles

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

CATEGORIES = (
    "memory", "storage", "hardware", "network", "dns", "tls", "auth", "security", "process", "resource",
    "timeout", "cluster", "container", "replication", "database", "application", "config",
)  # fmt: skip
SEVERITIES = ("critical", "error", "warning")
SEVERITY_RANK = {name: i for i, name in enumerate(SEVERITIES)}  # 0 is the most severe

MATCH_CHARS = 4096  # a signature shows in a line's start; ~80 patterns over a 250 KB line took seconds


@dataclass(frozen=True)
class Signature:
    id: str
    title: str
    category: str
    severity: str
    pattern: re.Pattern[str]
    explanation: str
    remedies: tuple[str, ...]
    systems: tuple[str, ...]
    example: str
    generic: bool = False  # broad (a timeout, an exception): ranks after specific signatures
    symptom: bool = False  # follows a failure elsewhere (a restart loop, failing probes): ranks after causes
    programs: tuple[str, ...] = ()  # lowercase program names it belongs to (substrings); () for any program
    false_friends: tuple[str, ...] = ()  # lines that look alike and must not match (the tests check them)
    refines: str = ""  # the id of a broader signature this one narrows (memcg OOM of OOM): it replaces it
    needles: Needles | None = None  # texts one of which every match holds (needles.py); None: always search

    def matches(self, text: str, program: str | None = None) -> bool:
        return self.applies_to(program) and self.pattern.search(text) is not None

    def applies_to(self, program: str | None) -> bool:
        """Whether a line of `program` (None: unknown) may carry this signature."""
        if not self.programs or not program:
            return True
        lowered = program.lower()
        return any(name in lowered for name in self.programs)


def _signature(entry: dict) -> Signature:
    ident = entry.get("id", "?")
    try:
        sig = Signature(
            id=entry["id"],
            title=entry["title"],
            category=entry["category"],
            severity=entry["severity"],
            pattern=re.compile(entry["pattern"], re.IGNORECASE | re.MULTILINE),
            explanation=entry["explanation"],
            remedies=tuple(entry["remedies"]),
            systems=tuple(entry["systems"]),
            example=entry["example"],
            generic=bool(entry.get("generic", False)),
            symptom=bool(entry.get("symptom", False)),
            programs=tuple(name.lower() for name in entry.get("programs", ())),
            false_friends=tuple(entry.get("false_friends", ())),
            refines=str(entry.get("refines", "")),
            needles=needles(entry["pattern"], re.IGNORECASE | re.MULTILINE),
        )
    except (KeyError, re.error) as e:
        raise ValueError(f"signature {ident!r} is malformed: {e}") from e
    if sig.category not in CATEGORIES or sig.severity not in SEVERITIES or not sig.remedies:
        raise ValueError(f"signature {ident!r} has an unknown category or severity, or no remedies")
    return sig


class KnowledgeBase:
    def __init__(self, signatures: list[Signature]) -> None:
        ids = [s.id for s in signatures]
        if len(set(ids)) != len(ids):
            raise ValueError("signature ids are not unique")
        self.signatures = signatures
        self.by_id = {s.id: s for s in signatures}
        unknown = [s.id for s in signatures if s.refines and s.refines not in self.by_id]
        if unknown:
            raise ValueError(f"signatures {unknown} refine a signature that does not exist")
        # Specific before generic; a refinement before what it refines; then file order.
        self._ordered = sorted(signatures, key=lambda s: (s.generic, -self._depth(s)))
        # Each needle with the places in that order of the signatures it admits (needles.py); those without
        # needles are always searched.
        admits: dict[str, list[int]] = {}
        for i, sig in enumerate(self._ordered):
            for needle in sig.needles or ():
                admits.setdefault(needle, []).append(i)
        self._admits = list(admits.items())
        self._always = [i for i, sig in enumerate(self._ordered) if sig.needles is None]

    @classmethod
    def from_toml(cls, *texts: str) -> KnowledgeBase:
        """One knowledge base of the signatures of every text (a signature may refine one of another text)."""
        return cls([_signature(entry) for text in texts for entry in tomllib.loads(text)["signature"]])

    def _depth(self, s: Signature) -> int:
        depth, seen = 0, {s.id}
        while s.refines and s.refines not in seen:
            s = self.by_id[s.refines]
            seen.add(s.id)
            depth += 1
        return depth

    def match(self, text: str, program: str | None = None) -> list[Signature]:
        """Signatures found in `text` (its first MATCH_CHARS) of a line of `program` (None: unknown):
        specific ones first, each group in file order; a signature that a matching one refines is left out."""
        text = text[:MATCH_CHARS]
        found = [s for s in self.candidates(text) if s.applies_to(program) and s.pattern.search(text)]
        replaced = {s.refines for s in found if s.refines}
        return [s for s in found if s.id not in replaced] if replaced else found

    def candidates(self, text: str) -> list[Signature]:
        """The signatures that may match `text`, in match order: those with a needle in it (an ASCII text,
        lower-cased) and those without needles; every signature for a non-ASCII text (needles.py says why)."""
        if not text.isascii():
            return self._ordered
        lowered = text.lower()
        places = set(self._always)
        for needle, admitted in self._admits:
            if needle in lowered:
                places.update(admitted)
        return [self._ordered[i] for i in sorted(places)]

    def first(self, text: str, program: str | None = None) -> Signature | None:
        found = self.match(text, program)
        return found[0] if found else None

    def __len__(self) -> int:
        return len(self.signatures)


KB_FILES_FIRST = "signatures.toml"  # the general signatures; the per-family files follow in name order


@cache
def default_kb() -> KnowledgeBase:
    folder = resources.files(__package__)
    names = sorted((f.name for f in folder.iterdir() if f.name.endswith(".toml")), key=lambda n: (n != KB_FILES_FIRST, n))
    return KnowledgeBase.from_toml(*(folder.joinpath(name).read_text(encoding="utf-8") for name in names))
