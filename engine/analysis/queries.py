"""The three questions logpt answers about a chunk: summary, root cause, action items.

One `Query` per kind holds everything the rest of the code needs to know of
it: its name (as written in prompts, bundles and `--query`), its title (panel,
palette, keys), the analyst's Markdown heading, how every reply of the kind
begins (a model's reply is held to that opening by the fact guard), and the
request line of the plain prompt format for base models.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.errors import LogptError

# How a digest model's reply is held to its chunk (engine.analysis.run): here, with the queries, so that the
# CLI's options name them without importing torch.
CONSTRAINTS = ("grammar", "facts", "off")

CATEGORY_FIELD, SIGNATURE_FIELD = "**Category:**", "**Signature:**"


@dataclass(frozen=True)
class Query:
    name: str  # summary, root_cause or action_items: in prompts, bundles' training data and the CLI
    title: str  # how the UI names it
    heading: str  # the analyst's Markdown heading
    opening: str  # how every reply of this kind begins
    plain_request: str  # the request line of the `plain` prompt format


SUMMARY = Query("summary", "Summary", "## Summary", "## Summary\n", "Summary of the log above:")
ROOT_CAUSE = Query(
    "root_cause", "Root cause", "## Root cause", f"## Root cause\n{CATEGORY_FIELD} ",
    "Root cause of the problems in the log above:",
)  # fmt: skip
ACTION_ITEMS = Query(
    "action_items", "Action items", "## Action items", "## Action items\n- [ ] ", "Action items for the log above:"
)
QUERIES: tuple[Query, ...] = (SUMMARY, ROOT_CAUSE, ACTION_ITEMS)
NAMES: tuple[str, ...] = tuple(q.name for q in QUERIES)
BY_NAME: dict[str, Query] = {q.name: q for q in QUERIES}


def get_query(name: str) -> Query:
    """The query called `name`; an unknown name is a one-line error."""
    if name not in BY_NAME:
        raise LogptError(f"unknown query {name!r}", f"choose one of {', '.join(NAMES)}")
    return BY_NAME[name]


def check_query(name: str) -> str:
    """`name`, checked."""
    return get_query(name).name
