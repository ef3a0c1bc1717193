"""The analyst: a summary, root cause or action items written from a chunk's digest.

Deterministic and model-free. It is `logpt analyze --engine analyst`, the
target text the bundled model is trained to write, and the reference its
replies are scored against. Replies follow LoGPT's style: Markdown headings
and lists. Every number, address, id or path it writes comes from the digest,
and the knowledge base contributes words only (its remedies carry no numbers
or paths), so an analyst reply is grounded by construction.

The root cause is the digest's primary signature (specific before generic,
then most severe, then most frequent); without one, the most severe and
frequent problem template; without problems, none. Its category is written as
`**Category:** name` so that replies can be compared by category.
"""

from __future__ import annotations

import re

from engine.analysis.digest import TOP_PROBLEMS, TOP_SIGNATURES, TOP_TEMPLATES, Digest, SignatureFact, TemplateFact
from engine.analysis.knowledge import KnowledgeBase, default_kb
from engine.analysis.queries import CATEGORY_FIELD, QUERIES, SIGNATURE_FIELD, check_query
from engine.analysis.replyplan import Part, Pick, Plan, lark, pick, render

CATEGORY_LINE = re.compile(r"\*\*Category:\*\*\s*([\w-]+)")
HEADINGS = {q.name: q.heading for q in QUERIES}
OPENINGS = {q.name: q.opening for q in QUERIES}  # a model's reply is held to these (engine.analysis.factguard)
ENTITY_KINDS_IN_EVIDENCE = ("ip", "user", "host", "id", "exit code")


def category_of(text: str) -> str | None:
    """The root-cause category a reply states, if it states one."""
    m = CATEGORY_LINE.search(text)
    return m.group(1) if m else None


def root_cause_category(digest: Digest) -> str:
    if digest.primary is not None:
        return digest.primary.category
    return "unknown" if digest.problems else "none"


def supported_fields(digest: Digest) -> dict[str, list[str]]:
    """The values a reply's fields can take on these facts: a category of a signature the digest lists
    ("unknown" when problems match none, "none" without problems), and a listed signature's title."""
    shown = digest.signatures[:TOP_SIGNATURES]
    categories = list(dict.fromkeys(s.category for s in shown)) or [root_cause_category(digest)]
    return {CATEGORY_FIELD: categories, SIGNATURE_FIELD: [s.title for s in shown]}


def quotable(kb: KnowledgeBase | None = None) -> list[str]:
    """Text a reply may quote besides the chunk and its digest: the knowledge base's explanations and remedies."""
    kb = kb or default_kb()
    return [text for s in kb.signatures for text in (s.explanation, *s.remedies)]


def _where(digest: Digest) -> str:
    return f"lines {digest.first_line}-{digest.last_line}"


def _lines(n: int) -> str:
    return f"{n} line" if n == 1 else f"{n} lines"


def _problem(t: TemplateFact) -> str:
    return f"{t.count}x {t.level} from line {t.first_line}: `{t.template}`"


def summary(digest: Digest) -> Plan:
    head = f"{_lines(digest.line_count)} of {digest.format} log"
    if digest.time_start:
        head += f" from {digest.time_start} to {digest.time_end}"
    plan: list[Part] = [HEADINGS["summary"], f"\n{head}."]
    if digest.levels:
        plan.append("\nLevels: " + ", ".join(f"{name} {n}" for name, n in digest.levels.items()) + ".")
    plan.append("\n\n### Activity")
    plan.append(pick([f"\n- {t.count}x `{t.template}`" for t in digest.templates[:TOP_TEMPLATES]], most=3))
    plan.append("\n\n### Problems")
    if digest.problems:
        plan.append(pick([f"\n- {_problem(t)}" for t in digest.problems[:TOP_PROBLEMS]], most=3))
    else:
        plan.append("\n- No warnings or errors.")
    if digest.flagged:
        flagged = f"\n- {_lines(digest.flagged_count)} flagged as anomalous, first at line {digest.flagged[0].line}."
        plan.append(pick([flagged], least=0))
    signatures = [
        f"\n- **{s.title}**: {_lines(s.count)} from line {s.first_line} ({s.category}, {s.severity})"
        for s in digest.signatures[:TOP_SIGNATURES]
    ]
    plan.append(pick(signatures, head="\n\n### Signatures"))
    return tuple(plan)


def _evidence_extras(digest: Digest) -> list[Part]:
    """What a root cause's evidence adds after its lines: the entities and flagged lines."""
    entities = [
        f"\n- {kind}: " + ", ".join(f"{v} ({n})" for v, n in digest.entities[kind][:2])
        for kind in ENTITY_KINDS_IN_EVIDENCE
        if digest.entities.get(kind)
    ]
    flagged = [f"\n- flagged line {f.line}: {f.reason}" for f in digest.flagged[:2]]
    return [pick(entities, least=0), pick(flagged, least=0)]


def _because_of(digest: Digest, kb: KnowledgeBase, primary: SignatureFact) -> Plan:
    """A root cause naming `primary`, one of the listed signatures; the others are "also seen"."""
    others = [s for s in digest.signatures[:TOP_SIGNATURES] if s is not primary]
    return (
        f"{primary.category}\n{SIGNATURE_FIELD} {primary.title} ({_lines(primary.count)} from line {primary.first_line})",
        f"\n\n{kb.by_id[primary.id].explanation}\n\n### Evidence\n- line {primary.first_line}: `{primary.example}`",
        *_evidence_extras(digest),
        pick([f"\n- {s.title} ({_lines(s.count)} from line {s.first_line})" for s in others], least=0, head="\n\n### Also seen"),
    )  # fmt: skip


def _main_problem(digest: Digest, worst: TemplateFact) -> Plan:
    """A root cause without a signature: `worst`, one of the problems, is the main one."""
    others = [t for t in digest.problems[:3] if t is not worst]
    return (
        f"unknown\n\nNo known failure signature matches. The main problem is {worst.level} `{worst.template}` "
        f"({_lines(worst.count)} from line {worst.first_line}).\n\n### Evidence",
        pick([f"\n- {_problem(t)}" for t in others], least=0),
        *_evidence_extras(digest),
    )


def root_cause(digest: Digest, kb: KnowledgeBase | None = None) -> Plan:
    kb = kb or default_kb()
    opening = f"{HEADINGS['root_cause']}\n{CATEGORY_FIELD} "
    if digest.signatures:
        return (opening, pick([_because_of(digest, kb, s) for s in digest.signatures[:TOP_SIGNATURES]], most=1))
    if digest.problems:
        return (opening, pick([_main_problem(digest, t) for t in digest.problems[:3]], most=1))
    return (opening, f"none\n\nNo errors, warnings or known failure signatures in {_where(digest)}.")


def _remedies_for(digest: Digest, kb: KnowledgeBase, primary: SignatureFact, review: Pick) -> Plan:
    """Action items led by the remedies of `primary`, then the first remedy of each other listed signature."""
    others = [s for s in digest.signatures[:TOP_SIGNATURES] if s is not primary]
    return (
        pick([f"\n- [ ] {remedy}" for remedy in kb.by_id[primary.id].remedies]),
        pick([f"\n- [ ] {kb.by_id[s.id].remedies[0]} ({s.title.lower()})" for s in others], least=0),
        review,
    )


def action_items(digest: Digest, kb: KnowledgeBase | None = None) -> Plan:
    kb = kb or default_kb()
    unexplained = [t for t in digest.problems[:TOP_PROBLEMS] if t.signature is None]  # those the digest shows
    review = [
        f"\n- [ ] Review line {t.first_line}: {t.level} `{t.template}` ({_lines(t.count)})" for t in unexplained
    ]  # fmt: skip
    heading = HEADINGS["action_items"]
    if digest.signatures:
        rest = pick(review, least=0, most=2)
        return (heading, pick([_remedies_for(digest, kb, s, rest) for s in digest.signatures[:TOP_SIGNATURES]], most=1))
    if review:
        return (heading, pick(review, most=3))
    return (heading, f"\n- [ ] No action needed: no errors, warnings or known failure signatures in {_where(digest)}.")


def plan(digest: Digest, query: str, kb: KnowledgeBase | None = None) -> Plan:
    """The analyst's reply to `query` as a plan: its choices, and the others a model may make (engine.analysis.replyplan)."""
    query = check_query(query)
    if query == "summary":
        return summary(digest)
    return root_cause(digest, kb) if query == "root_cause" else action_items(digest, kb)


def analyze(digest: Digest, query: str, kb: KnowledgeBase | None = None) -> str:
    """The analyst's reply to `query` (summary, root_cause or action_items)."""
    return render(plan(digest, query, kb))


def reply_grammar(digest: Digest, query: str, kb: KnowledgeBase | None = None) -> str:
    """The Lark grammar of every reply to `query` the analyst's plan allows on this digest."""
    return lark(plan(digest, query, kb))
