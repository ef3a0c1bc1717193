"""The facts of a chunk: what the analyst reasons from and what grounds a model's reply.

`build_digest(lines)` parses the chunk (format detected unless given), mines
its templates, counts levels, matches failure signatures from the knowledge
base, pulls out entities (IPs, users, hosts, paths, ids, exit codes) and
takes the flagged lines the caller's detector found. `Digest.render()` is a
compact, bounded text block: it goes into `logpt-digest` prompts and is what
the TUI shows as a chunk's facts. Everything in it is counted or copied from
the lines, never inferred.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field

from engine.analysis.cause import CauseFacts, Seen, cut, find_cause
from engine.analysis.knowledge import SEVERITY_RANK, KnowledgeBase, Signature, default_kb
from engine.logs.formats.detect import detect_format, parse_lines
from engine.logs.formats.record import LEVEL_RANK, LEVELS, level_of
from engine.logs.formats.spec import LogFormat
from engine.logs.patterns import HDFS_BLOCK, IPV4_OCTETS, PATH, UUID
from engine.logs.templates.masks import digit_shape
from engine.logs.templates.miner import MinerConfig, TemplateMiner
from engine.logs.templates.summary import LevelGuess, TemplateTally

TOP_TEMPLATES = 3
TOP_PROBLEMS = 4
TOP_FLAGGED = 4
TOP_SIGNATURES = 3
TOP_ENTITIES = 3
MAX_TEMPLATE_CHARS = 120
MAX_EXAMPLE_CHARS = 160
PROBLEM_LEVELS = ("WARN", "ERROR", "CRITICAL")

# Entities: (kind, pattern, group). Values are copied from the line as written.
ENTITY_PATTERNS: tuple[tuple[str, re.Pattern[str], int], ...] = (
    ("ip", re.compile(rf"(?<![\w.])({IPV4_OCTETS})(?![\w.])"), 1),
    ("user", re.compile(r"(?:\buser[= ]+|\blogname=|\bUSER=|\bfor (?:invalid user )?(?=\S+ from\b))([A-Za-z_][\w.-]{0,31})\b"), 1),
    ("host", re.compile(r"\b(?:rhost|host|hostname|server)[=: ]+([A-Za-z][\w-]*(?:\.[\w-]+)+)"), 1),
    ("path", re.compile(rf"(?<![\w/.:])({PATH})"), 1),
    ("id", re.compile(rf"\b({HDFS_BLOCK}|attempt_\d+_\d+_\w+|container_\w+|req-[0-9a-f-]{{36}}|{UUID}|0x[0-9a-f]{{8,}})\b", re.IGNORECASE), 1),
    # An exit code said as such, or systemd's `status=N/NAME`; a bare `status=200` is an HTTP status, not an exit code.
    ("exit code", re.compile(
        r"\b(?:(?:exit(?:ed)?(?: with)? (?:code|status)|exitCode|exit_code)[=: ]+|status=(?=\d{1,3}/[A-Z]))(\d{1,3})\b"
    ), 1),
)  # fmt: skip
IGNORED_USERS = frozenset({"invalid", "user", "the", "a", "root's"})


@dataclass(frozen=True)
class TemplateFact:
    template: str
    count: int
    first_line: int
    level: str | None
    signature: str | None = None  # id of the first signature its first line matched


@dataclass(frozen=True)
class SignatureFact:
    id: str
    title: str
    category: str
    severity: str
    generic: bool
    count: int  # lines that matched
    first_line: int
    example: str  # the first matching line, cut to MAX_EXAMPLE_CHARS
    symptom: bool = False  # follows a failure elsewhere: ranks after the causes (see knowledge.Signature)
    # Entities counted on the signature's own lines (the failing logins' addresses and users, not every
    # address of the chunk), most frequent first, and how many distinct values each kind has.
    entities: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    distinct: dict[str, int] = field(default_factory=dict)


def _signature_fact(s: Signature, count: int, line: int, example: str, lines: list[str] | None) -> SignatureFact:
    entities, distinct = entity_counts(lines) if lines else ({}, {})
    return SignatureFact(s.id, s.title, s.category, s.severity, s.generic, count, line,
                         cut(example, MAX_EXAMPLE_CHARS), s.symptom, entities, distinct)  # fmt: skip


def _rank(s: SignatureFact) -> tuple:
    """Specific before generic, causes before symptoms (a crash loop follows the error that crashes the
    service), then severity, then the earliest (a cascade's first failure; its consequences repeat more
    often, so counting would name them), then the most frequent."""
    return (s.generic, s.symptom, SEVERITY_RANK[s.severity], s.first_line, -s.count)


@dataclass(frozen=True)
class FlaggedLine:
    line: int
    reason: str


@dataclass
class Digest:
    first_line: int
    last_line: int
    format: str
    time_start: str | None = None
    time_end: str | None = None
    levels: dict[str, int] = field(default_factory=dict)  # most severe first
    templates: list[TemplateFact] = field(default_factory=list)  # most frequent first
    template_count: int = 0
    problems: list[TemplateFact] = field(default_factory=list)  # WARN and worse, most severe then most frequent
    problem_lines: int = 0
    flagged: list[FlaggedLine] = field(default_factory=list)
    flagged_count: int = 0
    entities: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    signatures: list[SignatureFact] = field(default_factory=list)  # ranked: specific, severe, frequent first
    cause: CauseFacts = field(default_factory=CauseFacts)  # onset, first error, hints, change (engine.analysis.cause)

    @property
    def line_count(self) -> int:
        return self.last_line - self.first_line + 1

    @property
    def primary(self) -> SignatureFact | None:
        """The signature most likely to be the root cause: the first in rank order."""
        return self.signatures[0] if self.signatures else None

    def to_dict(self) -> dict:
        return asdict(self) | {"line_count": self.line_count}

    def render(self) -> str:
        """The facts as a compact text block (bounded: top entries only, long text cut)."""
        out = [f"Facts for lines {self.first_line}-{self.last_line} ({self.line_count} lines, {self.format} format):"]
        if self.time_start:
            out.append(f"- time: {self.time_start} to {self.time_end}")
        if self.levels:
            out.append("- levels: " + ", ".join(f"{name} {n}" for name, n in self.levels.items()))
        out.append(f"- templates: {self.template_count}")
        for t in self.templates[:TOP_TEMPLATES]:
            out.append(f"  - {t.count}x {t.template}")
        if self.problems:
            out.append(f"- problems: {self.problem_lines} lines")
            for t in self.problems[:TOP_PROBLEMS]:
                out.append(f"  - {t.count}x {t.level} from line {t.first_line}: {t.template}")
        if self.flagged:
            out.append(f"- flagged: {self.flagged_count} lines")
            for f in self.flagged[:TOP_FLAGGED]:
                out.append(f"  - line {f.line}: {f.reason}")
        for kind, values in self.entities.items():
            out.append(f"- {kind}: " + ", ".join(f"{v} ({n})" for v, n in values[:TOP_ENTITIES]))
        cause = self.cause
        if cause.onset is not None and cause.errors is not None:
            out.append(f"- onset: line {cause.onset.line} ({cause.onset.why}); first error line {cause.errors.line}; "
                       f"{cause.error_lines} trouble lines")  # fmt: skip
            if cause.hints:
                out.append("- hints: " + ", ".join(f"line {h.line}" for h in cause.hints))
            if cause.change is not None:
                out.append(f"- change before it: line {cause.change.line}")
        if self.signatures:
            out.append("- signatures:")
            for s in self.signatures[:TOP_SIGNATURES]:
                out.append(f"  - {s.id} ({s.category}, {s.severity}) {s.count}x from line {s.first_line}: {s.title}")
                for kind, values in s.entities.items():
                    more = f" ({s.distinct[kind]} distinct)" if s.distinct.get(kind, 0) > TOP_ENTITIES else ""
                    out.append(f"    - {kind}: " + ", ".join(f"{v} ({n})" for v, n in values[:TOP_ENTITIES]) + more)
            out.append(f"  - example: {self.signatures[0].example}")
        return "\n".join(out)


def entities_of(lines: Sequence[str]) -> dict[str, list[tuple[str, int]]]:
    return entity_counts(lines)[0]


def entity_counts(lines: Sequence[str]) -> tuple[dict[str, list[tuple[str, int]]], dict[str, int]]:
    """The most frequent entities of each kind in `lines`, and how many distinct values each kind has."""
    counts: dict[str, Counter[str]] = {kind: Counter() for kind, _, _ in ENTITY_PATTERNS}
    for line in lines:
        for kind, pattern, group in ENTITY_PATTERNS:
            for m in pattern.finditer(line):
                value = m.group(group)
                if kind == "user" and value.lower() in IGNORED_USERS:
                    continue
                if kind == "path" and not any(c.isalpha() for c in value):  # "/10.0.0.1" is an address
                    continue
                counts[kind][value] += 1
    found = {kind: c for kind, c in counts.items() if c}
    return {kind: c.most_common(TOP_ENTITIES) for kind, c in found.items()}, {kind: len(c) for kind, c in found.items()}


MAX_SIGNATURE_LINES = 2000  # a signature's lines kept for counting its entities


@dataclass
class Mining:
    """A template miner and its signature matches kept across the digests of one file's chunks (the whole-file
    timeline): templates are mined once, not per chunk, and each template's signatures are matched once."""

    miner: TemplateMiner = field(default_factory=lambda: TemplateMiner(MinerConfig(cache_size=100_000)))
    signatures: dict[tuple[int, str | None], list[Signature]] = field(default_factory=dict)  # (key, program)
    level: LevelGuess = field(default_factory=LevelGuess)  # a record's level, or its words' guess once per shape


class _SignatureHits:
    """Knowledge-base signatures per template key, and how often each signature's templates occur."""

    def __init__(self, kb: KnowledgeBase, by_key: dict[tuple[int, str | None], list[Signature]] | None = None,
                 *, keep_lines: bool = True) -> None:  # fmt: skip
        self.kb = kb
        self.by_key = {} if by_key is None else by_key  # shared by the chunks of one file (see Mining)
        self.hits: dict[str, list] = {}  # signature id → [signature, count, first line, example, lines or None]
        self.keep_lines = keep_lines

    def match(self, key: int, program: str | None, line: str) -> list[Signature]:
        """The signatures of a template of `program` (matched on its first line, then remembered)."""
        found = self.by_key.get((key, program))
        if found is None:
            found = self.by_key[(key, program)] = self.kb.match(line, program)
        return found

    def count(self, found: list[Signature], line_number: int, line: str) -> None:
        for sig in found:
            hit = self.hits.get(sig.id)
            if hit is None:
                self.hits[sig.id] = [sig, 1, line_number, line, [line] if self.keep_lines else None]
            else:
                hit[1] += 1
                if hit[4] is not None and len(hit[4]) < MAX_SIGNATURE_LINES:
                    hit[4].append(line)


def build_digest(
    lines: Sequence[str],
    *,
    first_line: int = 1,
    fmt: LogFormat | None = None,
    flagged: Mapping[int, str] | None = None,
    kb: KnowledgeBase | None = None,
    entities: bool = True,
    mining: Mining | None = None,
) -> Digest:
    """The facts of consecutive `lines` whose first is line number `first_line` of the log (`entities=False`
    skips the IPs, users, hosts… a caller that does not show them need not pay for; `mining` carries templates and
    signature matches over from earlier chunks of the same file)."""
    kb = kb or default_kb()
    fmt = fmt or detect_format(lines).format
    miner = mining.miner if mining else TemplateMiner(MinerConfig(cache_size=10_000))
    tally, levels = TemplateTally(), Counter[str]()
    hits = _SignatureHits(kb, mining.signatures if mining else None, keep_lines=entities)
    time_start = time_end = None
    seen: list[Seen] = []
    for record in parse_lines(lines, fmt, first_line=first_line):
        shape = digit_shape(record.message) if mining else None  # one shape for the level and the miner's caches
        level = mining.level(record, shape) if shape is not None else level_of(record)[0]
        if level is not None:
            levels[level] += 1
        if record.timestamp:
            time_start = time_start or record.timestamp
            time_end = record.timestamp
        key = miner.add(record.message, shape)
        seen.append(Seen(record.line, record.end_line, level, key, record.message))
        line = fmt.record_line(record, lines[record.line - first_line])  # what signatures read
        tally.add(key, record, level)
        # Signatures are matched once per template and program, on its first line: lines of one template
        # differ only in parameters, and matching hundreds of patterns on every line would dominate.
        hits.count(hits.match(key, record.component, line), record.line, line)
    facts = []
    for k, r in tally.first.items():
        found = hits.by_key[(k, r.component)]
        facts.append(TemplateFact(cut(miner.template(k) or r.message, MAX_TEMPLATE_CHARS), tally.counts[k], r.line,
                                  tally.levels[k], found[0].id if found else None))  # fmt: skip
    problems = [t for t in facts if t.level in PROBLEM_LEVELS]
    signatures = [_signature_fact(s, n, line, example, kept) for s, n, line, example, kept in hits.hits.values()]
    flagged_lines = sorted((flagged or {}).items())
    return Digest(
        first_line=first_line,
        last_line=first_line + len(lines) - 1,
        format=fmt.name,
        time_start=time_start,
        time_end=time_end,
        levels={name: levels[name] for name in reversed(LEVELS) if levels[name]},
        templates=sorted(facts, key=lambda t: (-t.count, t.first_line)),
        template_count=len(facts),
        problems=sorted(problems, key=lambda t: (-LEVEL_RANK[t.level or "INFO"], -t.count, t.first_line)),
        problem_lines=sum(t.count for t in problems),
        flagged=[FlaggedLine(line, reason) for line, reason in flagged_lines[:TOP_FLAGGED]],
        flagged_count=len(flagged_lines),
        entities=entities_of(lines) if entities else {},
        signatures=sorted(signatures, key=_rank),
        cause=find_cause(seen, lines, first_line, flagged=flagged, template_counts=tally.counts),
    )
