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
TOP_ENTITY_VALUES = 3


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


def _entities(found: dict[str, list[tuple[str, int]]], distinct: dict[str, int]) -> list[str]:
    """One evidence line per entity kind: its most frequent values with counts, and how many there are."""
    out = []
    for kind in ENTITY_KINDS_IN_EVIDENCE:
        if found.get(kind):
            more = distinct.get(kind, 0)
            tail = f" ({more} distinct)" if more > len(found[kind][:TOP_ENTITY_VALUES]) else ""
            out.append(f"\n- {kind}: " + ", ".join(f"{v} ({n})" for v, n in found[kind][:TOP_ENTITY_VALUES]) + tail)
    return out


def _evidence_extras(digest: Digest, primary: SignatureFact | None = None) -> list[Part]:
    """What a root cause's evidence adds after its lines: the entities (of the cause's own lines when a
    signature is the cause: the failing logins' addresses, not every address of the chunk) and flagged lines."""
    entities = _entities(primary.entities, primary.distinct) if primary is not None else _entities(digest.entities, {})
    flagged = [f"\n- flagged line {f.line}: {f.reason}" for f in digest.flagged[:2]]
    return [pick(entities, least=0), pick(flagged, least=0)]


def _what_the_log_says(digest: Digest, before: int | None = None) -> list[Part]:
    """The hints the software wrote, the onset when it came before line `before` (the signature's first
    line), and what changed just before: lines of the chunk, quoted with their numbers (engine.analysis.cause)."""
    cause = digest.cause
    said = [f"\n- line {h.line} ({h.why}): `{h.text}`" for h in cause.hints]
    if before is not None and cause.onset is not None and cause.onset.line < before:
        said.insert(0, f"\n- line {cause.onset.line} ({cause.onset.why}): `{cause.onset.text}`")
    if cause.change is not None:
        said.append(f"\n- line {cause.change.line} ({cause.change.why}): `{cause.change.text}`")
    return [pick(said, least=0, head="\n\n### What the log says")]


def _because_of(digest: Digest, kb: KnowledgeBase, primary: SignatureFact) -> Plan:
    """A root cause naming `primary`, one of the listed signatures; the others are "also seen"."""
    others = [s for s in digest.signatures[:TOP_SIGNATURES] if s is not primary]
    return (
        f"{primary.category}\n{SIGNATURE_FIELD} {primary.title} ({_lines(primary.count)} from line {primary.first_line})",
        f"\n\n{kb.by_id[primary.id].explanation}\n\n### Evidence\n- line {primary.first_line}: `{primary.example}`",
        *_evidence_extras(digest, primary),
        *_what_the_log_says(digest, before=primary.first_line),
        pick([f"\n- {s.title} ({_lines(s.count)} from line {s.first_line})" for s in others], least=0, head="\n\n### Also seen"),
    )  # fmt: skip


def _from_structure(digest: Digest) -> Plan:
    """A root cause no specific signature explains, read from the log's structure: the onset of the trouble
    (not its loudest line), the first error, the software's hints and what changed before it; signatures of
    symptoms or broad ones are "also seen"."""
    cause = digest.cause
    assert cause.onset is not None and cause.errors is not None
    category = digest.signatures[0].category if digest.signatures else "unknown"
    statement = f"No known failure signature explains this. The first sign of trouble is line {cause.onset.line} ({cause.onset.why})"
    if cause.errors.line != cause.onset.line:
        statement += f", before the first error at line {cause.errors.line}"
    loudest = next((t for t in digest.problems if t.count > 1 and t.first_line != cause.onset.line), None)
    problems = [f"\n- {_problem(t)}" for t in digest.problems[:TOP_PROBLEMS]]
    return (
        f"{category}\n\n{statement}:\n`{cause.onset.text}`",
        pick([f"\n\nThe most repeated problem, {loudest.level} `{loudest.template}` ({_lines(loudest.count)}), "
              "follows it and is more likely a symptom than the cause."] if loudest else [], least=0),  # fmt: skip
        *_what_the_log_says(digest),
        pick(problems, least=0, most=3, head="\n\n### Evidence"),
        *_evidence_extras(digest),
        pick([f"\n- {s.title} ({_lines(s.count)} from line {s.first_line})" for s in digest.signatures[:TOP_SIGNATURES]],
             least=0, head="\n\n### Also seen"),
    )  # fmt: skip


def root_cause(digest: Digest, kb: KnowledgeBase | None = None) -> Plan:
    """A specific signature that is not a symptom names the cause; else the cause finder's onset (the log's
    structure, engine.analysis.cause); else a broad or symptom signature; else nothing is wrong."""
    kb = kb or default_kb()
    opening = f"{HEADINGS['root_cause']}\n{CATEGORY_FIELD} "
    shown = digest.signatures[:TOP_SIGNATURES]
    causes = [s for s in shown if not (s.generic or s.symptom)]
    if causes:  # a reply (the model's too) names one of the causes; symptoms and broad ones are "also seen"
        return (opening, pick([_because_of(digest, kb, s) for s in causes], most=1))
    onset = digest.cause.onset
    # Only symptoms or broad signatures: one that shows at the onset itself (nothing came before it) is still
    # the best reading, a symptom's before a broad one's; one that came later is not, and the onset is named.
    at_onset = sorted((s for s in shown if onset is not None and s.first_line <= onset.line), key=lambda s: s.generic)
    if at_onset:
        named = [at_onset[0], *(s for s in shown if s is not at_onset[0])]
        return (opening, pick([_because_of(digest, kb, s) for s in named], most=1))
    if onset is not None:
        return (opening, *_from_structure(digest))
    if shown:
        return (opening, pick([_because_of(digest, kb, s) for s in shown], most=1))
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
