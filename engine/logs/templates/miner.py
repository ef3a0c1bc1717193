"""Template mining: drain3's Drain behind a small typed API with a digit-shape cache.

`TemplateMiner.add(message)` returns a stable template id (the "log key").
In front of Drain sits a cache keyed by the message's digit shape; because
the masks never look at digit values (see `masks`), a hit returns exactly the
key Drain gave the first message of that shape, without masking or tree
search. Drain always gets an explicit config (never a `drain3.ini` from the
working directory), the cluster count is capped, and state is plain JSON,
never jsonpickle.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, fields
from typing import Any

from drain3.drain import LogCluster

from engine.errors import InputError
from engine.logs.templates.drain import WordAwareDrain
from engine.logs.templates.masks import Masker, digit_shape

STATE_VERSION = 1


@dataclass(frozen=True)
class MinerConfig:
    depth: int = 4  # Drain tree depth: token count, then depth-2 leading tokens
    sim_th: float = 0.5  # share of equal tokens needed to join a template
    max_children: int = 100  # children per tree node before a wildcard child takes the rest
    max_clusters: int = 20_000  # templates kept; the least recently used go first
    cache_size: int = 200_000  # digit shapes remembered
    typed_masks: bool = True  # <IP>, <NUM>, … rather than <*>
    first_line_only: bool = True  # multi-line records are mined by their first line
    max_message_chars: int = 4096  # longer messages are mined by their start: bounded state per template
    rules: int = 2  # 1: the first masks, whole-token wildcards (states saved before rules 2 keep them)

    def __post_init__(self) -> None:
        for f in fields(self):  # a state file is untrusted: types and ranges before drain3 sees them
            value, want = getattr(self, f.name), {"int": int, "float": (int, float), "bool": bool}[f.type]
            if isinstance(value, bool) is not (f.type == "bool") or not isinstance(value, want):
                raise ValueError(f"miner config {f.name} must be {f.type}, not {type(value).__name__}")
        if not (3 <= self.depth <= 64 and 0.0 <= self.sim_th <= 1.0 and self.max_children >= 2):
            raise ValueError("miner config out of range (depth 3..64, sim_th 0..1, max_children ≥ 2)")
        if min(self.max_clusters, self.cache_size, self.max_message_chars) < 1:
            raise ValueError("miner config sizes must be positive")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MinerConfig:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass(frozen=True)
class Template:
    key: int  # stable id ("log key")
    text: str  # tokens with placeholders
    count: int  # messages seen with this key


class TemplateMiner:
    def __init__(self, config: MinerConfig | None = None) -> None:
        self.config = config or MinerConfig()
        self._masker = Masker(typed=self.config.typed_masks, rules=self.config.rules)
        self._drain = WordAwareDrain(
            depth=self.config.depth,
            sim_th=self.config.sim_th,
            max_children=self.config.max_children,
            max_clusters=self.config.max_clusters,
            param_str="<*>",
            parametrize_numeric_tokens=True,
            globs=self.config.rules >= 2,
        )
        self._cache: dict[bytes, int] = {}
        self._matched: dict[bytes, int] = {}  # shapes `match` found (a frozen miner is matched many times)
        self.counts: Counter[int] = Counter()
        self.dirty = False  # templates changed since the last save

    def _prepare(self, message: str) -> str:
        if self.config.first_line_only:
            message = message.partition("\n")[0]
        return message[: self.config.max_message_chars]

    def add(self, message: str, shape: bytes | None = None) -> int:
        """Learn from a message and return its template key (`shape`: its `digit_shape`, when the caller has it)."""
        prepared = self._prepare(message)
        shape = digit_shape(prepared) if shape is None or len(prepared) < len(message) else shape
        message = prepared
        key = self._cache.get(shape)
        if key is None:
            drain = self._drain
            at_cap = len(drain.id_to_cluster) >= self.config.max_clusters
            cluster, change = drain.add_log_message(self._masker.mask(message))
            key = cluster.cluster_id
            if change == "cluster_created" and at_cap:
                self._cache.clear()  # Drain evicted a template: cached keys may point at it
                self._matched.clear()
            if len(self._cache) >= self.config.cache_size:
                self._cache.clear()
            self._cache[shape] = key
            if change != "none":
                self.dirty = True
        self.counts[key] += 1
        return key

    def match(self, message: str) -> int | None:
        """The key of a known template that fits the message, learning nothing; None if none fits."""
        message = self._prepare(message)
        shape = digit_shape(message)
        key = self._cache.get(shape)
        key = self._matched.get(shape) if key is None else key
        if key is not None:
            return key
        cluster = self._drain.match(self._masker.mask(message), full_search_strategy="fallback")
        if cluster is None:
            return None
        if len(self._matched) >= self.config.cache_size:
            self._matched.clear()
        self._matched[shape] = cluster.cluster_id  # its own cache: `add` may still refine what it learns
        return cluster.cluster_id

    def masked(self, message: str) -> str:
        """The message as the miner sees it before clustering (variables masked): the same on every machine."""
        return self._masker.mask(self._prepare(message))

    def template(self, key: int) -> str | None:
        cluster = self._drain.id_to_cluster.get(key)
        return None if cluster is None else cluster.get_template()

    def templates(self) -> list[Template]:
        """Known templates, most frequent first."""
        found = [
            Template(c.cluster_id, c.get_template(), self.counts.get(c.cluster_id, 0)) for c in self._drain.clusters
        ]
        return sorted(found, key=lambda t: (-t.count, t.key))

    def __len__(self) -> int:
        return len(self._drain.id_to_cluster)

    # ---- state as plain JSON ----

    def to_state(self) -> dict[str, Any]:
        clusters = sorted(self._drain.clusters, key=lambda c: c.cluster_id)
        return {
            "version": STATE_VERSION,
            "config": asdict(self.config),
            "next_id": self._drain.clusters_counter,
            "clusters": [
                [c.cluster_id, list(c.log_template_tokens), self.counts.get(c.cluster_id, 0)] for c in clusters
            ],
        }

    def copy(self) -> TemplateMiner:
        """An independent miner in the same state."""
        return TemplateMiner.from_state(self.to_state())

    @classmethod
    def from_state(cls, state: Any) -> TemplateMiner:
        """Rebuild from `to_state()` output; anything malformed raises InputError."""
        hint = "delete the template state file; it is rebuilt from the log"
        try:
            if state["version"] != STATE_VERSION:
                raise InputError(f"template state version {state['version']} is not supported", hint)
            miner = cls(MinerConfig.from_dict({"rules": 1} | dict(state["config"])))
            drain = miner._drain
            seen: set[int] = set()
            for cluster_id, tokens, count in state["clusters"]:
                if not isinstance(cluster_id, int) or not all(isinstance(t, str) for t in tokens):
                    raise InputError("template state has a malformed template", hint)
                if cluster_id < 1 or cluster_id in seen or int(count) < 0:
                    raise InputError(f"template state has a bad id or count ({cluster_id}, {count})", hint)
                seen.add(cluster_id)
                cluster = LogCluster(tokens, cluster_id)
                cluster.size = int(count)
                drain.id_to_cluster[cluster_id] = cluster
                drain.add_seq_to_prefix_tree(drain.root_node, cluster)
                miner.counts[cluster_id] = int(count)
            drain.clusters_counter = int(state["next_id"])
            if seen and drain.clusters_counter < max(seen):  # the next new template would reuse a key
                raise InputError(f"template state's next_id {drain.clusters_counter} is below its ids", hint)
        except (KeyError, TypeError, ValueError) as e:
            raise InputError(f"template state is malformed: {e}", hint) from e
        return miner
