"""drain3's Drain with word-aware similarity.

Plain Drain joins a message to a template when enough tokens agree, so
"VM Paused" and "VM Resumed", or "cupsd startup succeeded" and "cupsd
shutdown succeeded", become one template. Words made of letters are rarely
variables, so here a differing plain word is a hard mismatch — unless the
word before it announces a variable ("user webmaster", "host alpha"). Tokens
with digits, placeholders or path/host punctuation still merge as in Drain.
The rule reads letters and punctuation only, never digit values, which keeps
the miner's digit-shape cache exact.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from drain3.drain import Drain, LogCluster, Node

# A word of letters (maybe quoted or bracketed), or key=word; placeholders like <NUM> are not words.
PLAIN_WORD = re.compile(r"""^[(\["']*(?:[A-Za-z_]+=)?[A-Za-z][A-Za-z'-]*[)\]"',;:.!?]*$""")
VARIABLE_CUES = frozenset({"user", "users", "username", "account", "login", "host", "hostname", "name", "for"})


MAX_CANDIDATES = 512  # templates of one prefix-tree leaf compared with a message, the most recently used


class WordAwareDrain(Drain):
    """Drain with a word-aware similarity and a bounded scan per leaf.

    Lines of unique words (random ids, hostile input) pile thousands of templates into one leaf, and Drain
    compares every message with all of them: mining turns quadratic (10,000 such lines took minutes). A
    leaf over MAX_CANDIDATES templates is scanned from its most recently used end only, and a template
    that matches moves to that end; leaves below the bound behave exactly as in Drain. Drain also rebuilds a
    leaf's template list on every new template (to drop evicted ones), which is quadratic in the leaf's size
    too: here the list is rebuilt only when it has doubled since the last rebuild (fast_match skips evicted
    ids either way).
    """

    def __init__(self, *args: Any, globs: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._live: dict[int, int] = {}  # id(leaf) → its template count at the last rebuild
        self.globs = globs  # a variable keeps the punctuation and prefix its values share ("rhost=<*>", "<*>,")

    def add_seq_to_prefix_tree(self, root_node: Node, cluster: LogCluster) -> None:
        tokens = cluster.log_template_tokens
        node = root_node.key_to_child_node.setdefault(str(len(tokens)), Node())
        if not tokens:
            node.cluster_ids = [cluster.cluster_id]
            return
        depth = 1
        for token in tokens:  # the same path Drain takes: depth-2 leading tokens, numbers and overflow to <*>
            if depth >= self.max_node_depth or depth >= len(tokens):
                break
            node = self._child(node, token)
            depth += 1
        ids = node.cluster_ids
        if len(ids) >= 2 * self._live.get(id(node), 0) + 64:
            ids[:] = [i for i in ids if i in self.id_to_cluster]
            self._live[id(node)] = len(ids)
        ids.append(cluster.cluster_id)

    def _child(self, node: Node, token: str) -> Node:
        """The child for `token`, made when there is room, else the wildcard child (as in Drain)."""
        children, wild = node.key_to_child_node, self.param_str
        if token in children:
            return children[token]
        numeric = self.parametrize_numeric_tokens and self.has_numbers(token)
        room = len(children) < self.max_children if wild in children else len(children) + 1 < self.max_children
        if not numeric and room:
            children[token] = Node()
            return children[token]
        return children.setdefault(wild, Node())

    def fast_match(self, cluster_ids: Sequence, tokens: list, sim_th: float, include_params: bool):  # noqa: ANN201
        if len(cluster_ids) <= MAX_CANDIDATES:
            return super().fast_match(cluster_ids, tokens, sim_th, include_params)
        match = super().fast_match(cluster_ids[-MAX_CANDIDATES:], tokens, sim_th, include_params)
        if match is not None and isinstance(cluster_ids, list):
            cluster_ids.remove(match.cluster_id)  # a C-level move: cheap next to a Python scan
            cluster_ids.append(match.cluster_id)
        return match

    @staticmethod
    def has_numbers(s: str) -> bool:
        """Tokens with digits, and placeholders, take the wildcard branch of the prefix tree."""
        return (s.startswith("<") and s.endswith(">")) or any(c.isdigit() for c in s)

    def get_seq_distance(self, seq1: Sequence[str], seq2: Sequence[str], include_params: bool) -> tuple[float, int]:
        """(similarity, parameter count) of template seq1 and message seq2; 0 on a hard mismatch."""
        assert len(seq1) == len(seq2)
        if not seq1:
            return 1.0, 0
        param, globs = self.param_str, self.globs
        similar = params = 0
        previous = ""
        for template_token, token in zip(seq1, seq2, strict=True):
            if template_token == param:
                params += 1
            elif template_token == token:
                similar += 1
            elif globs and param in template_token:
                params += glob_fits(template_token, token)
            elif (
                PLAIN_WORD.match(template_token) or PLAIN_WORD.match(token)
            ) and previous.lower() not in VARIABLE_CUES:
                return 0.0, 0
            previous = token
        if include_params:
            similar += params
        return similar / len(seq1), params

    def create_template(self, seq1: Sequence[str], seq2: Sequence[str]) -> list[str]:
        """The template `seq2` widened to fit message `seq1`: differing tokens become variables."""
        if not self.globs:
            return super().create_template(seq1, seq2)
        param = self.param_str
        return [t if t in (m, param) else widen(t, m, param) for m, t in zip(seq1, seq2, strict=True)]


_OPEN_PLACEHOLDER = re.compile(r"<[A-Z0-9*]*$")  # a shared start cut inside a placeholder
_CLOSE_PLACEHOLDER = re.compile(r"^[A-Z0-9*]*>")
_EDGE_HEAD = re.compile(r"(?:<(?:\*|[A-Z0-9]+)>|[A-Za-z0-9])+$")  # what a shared start may not end with
_EDGE_TAIL = re.compile(r"^(?:<(?:\*|[A-Z0-9]+)>|[A-Za-z0-9])+")


def _ends(template_token: str, param: str) -> tuple[str, str]:
    head, _, tail = template_token.partition(param)
    return head, tail.rpartition(param)[2]


def glob_fits(template_token: str, token: str) -> bool:
    """Whether a message token fits a widened template token such as `rhost=<*>` (its literal ends)."""
    head, tail = _ends(template_token, "<*>")
    return len(token) >= len(head) + len(tail) and token.startswith(head) and token.endswith(tail)


def widen(template_token: str, token: str, param: str) -> str:
    """The start and end both tokens share, cut at punctuation, around one variable.

    `rhost=<IP>` and `rhost=<HOST>` → `rhost=<*>`; `<IP>,` and `LOCAL(<NUM>),` → `<*>,`. A shared
    start must end, and a shared end begin, with punctuation, so words are never split (`admin`,
    `alice` → `<*>`) and a variable never sits beside a placeholder (`<NUM>ms`, `<NUM>s` → `<*>`).
    """
    head, tail = _ends(template_token, param) if param in template_token else (template_token, template_token)
    n = 0
    while n < min(len(head), len(token)) and head[n] == token[n]:
        n += 1
    head = _EDGE_HEAD.sub("", _OPEN_PLACEHOLDER.sub("", head[:n]))
    n = 0
    limit = min(len(tail), len(token) - len(head))
    while n < limit and tail[len(tail) - 1 - n] == token[len(token) - 1 - n]:
        n += 1
    tail = _EDGE_TAIL.sub("", _CLOSE_PLACEHOLDER.sub("", tail[len(tail) - n :])) if n else ""
    return f"{head}{param}{tail}"
