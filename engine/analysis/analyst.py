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

from engine.analysis.digest import TOP_SIGNATURES, Digest, TemplateFact
from engine.analysis.knowledge import KnowledgeBase, default_kb
from engine.analysis.queries import CATEGORY_FIELD, QUERIES, SIGNATURE_FIELD, check_query

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


def summary(digest: Digest) -> str:
    head = f"{_lines(digest.line_count)} of {digest.format} log"
    if digest.time_start:
        head += f" from {digest.time_start} to {digest.time_end}"
    out = [HEADINGS["summary"], f"{head}."]
    if digest.levels:
        out.append("Levels: " + ", ".join(f"{name} {n}" for name, n in digest.levels.items()) + ".")
    out += ["", "### Activity"]
    out += [f"- {t.count}x `{t.template}`" for t in digest.templates[:3]]
    out += ["", "### Problems"]
    if digest.problems:
        out += [f"- {_problem(t)}" for t in digest.problems[:3]]
    else:
        out.append("- No warnings or errors.")
    if digest.flagged:
        out.append(f"- {_lines(digest.flagged_count)} flagged as anomalous, first at line {digest.flagged[0].line}.")
    if digest.signatures:
        out += ["", "### Signatures"]
        out += [
            f"- **{s.title}**: {_lines(s.count)} from line {s.first_line} ({s.category}, {s.severity})"
            for s in digest.signatures[:3]
        ]
    return "\n".join(out)


def root_cause(digest: Digest, kb: KnowledgeBase | None = None) -> str:
    kb = kb or default_kb()
    out = [HEADINGS["root_cause"], f"{CATEGORY_FIELD} {root_cause_category(digest)}"]
    primary = digest.primary
    if primary is not None:
        out.append(f"{SIGNATURE_FIELD} {primary.title} ({_lines(primary.count)} from line {primary.first_line})")
        out += [
            "",
            kb.by_id[primary.id].explanation,
            "",
            "### Evidence",
            f"- line {primary.first_line}: `{primary.example}`",
        ]
    elif digest.problems:
        worst = digest.problems[0]
        out += [
            "",
            f"No known failure signature matches. The main problem is {worst.level} `{worst.template}` "
            f"({_lines(worst.count)} from line {worst.first_line}).",
            "",
            "### Evidence",
        ]
        out += [f"- {_problem(t)}" for t in digest.problems[1:3]]
    else:
        out += ["", f"No errors, warnings or known failure signatures in {_where(digest)}."]
        return "\n".join(out)
    for kind in ENTITY_KINDS_IN_EVIDENCE:
        values = digest.entities.get(kind)
        if values:
            out.append(f"- {kind}: " + ", ".join(f"{v} ({n})" for v, n in values[:2]))
    for f in digest.flagged[:2]:
        out.append(f"- flagged line {f.line}: {f.reason}")
    others = digest.signatures[1:3]
    if others:
        out += ["", "### Also seen"]
        out += [f"- {s.title} ({_lines(s.count)} from line {s.first_line})" for s in others]
    return "\n".join(out)


def action_items(digest: Digest, kb: KnowledgeBase | None = None) -> str:
    kb = kb or default_kb()
    out = [HEADINGS["action_items"]]
    if digest.signatures:
        primary = digest.signatures[0]
        out += [f"- [ ] {remedy}" for remedy in kb.by_id[primary.id].remedies]
        for s in digest.signatures[1:3]:
            out.append(f"- [ ] {kb.by_id[s.id].remedies[0]} ({s.title.lower()})")
    unexplained = [t for t in digest.problems if t.signature is None]
    for t in unexplained[: 2 if digest.signatures else 3]:
        out.append(f"- [ ] Review line {t.first_line}: {t.level} `{t.template}` ({_lines(t.count)})")
    if len(out) == 1:
        out.append(f"- [ ] No action needed: no errors, warnings or known failure signatures in {_where(digest)}.")
    return "\n".join(out)


def analyze(digest: Digest, query: str, kb: KnowledgeBase | None = None) -> str:
    """The analyst's reply to `query` (summary, root_cause or action_items)."""
    query = check_query(query)
    if query == "summary":
        return summary(digest)
    if query == "root_cause":
        return root_cause(digest, kb)
    return action_items(digest, kb)
