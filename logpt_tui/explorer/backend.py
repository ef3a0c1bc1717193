"""What the explorer's analysis panel talks to: a backend that counts tokens and streams replies.

`ModelBackend` wraps a model bundle; torch and the model load in a worker
thread on first use (`ModelBackend.load`), so the explorer opens without
them. `AnalystBackend` is the model-free analyst (`engine.analysis.analyst`):
ready at once, its reply written from the chunk's digest and the knowledge
base. Tests substitute any object with the same members (`name`, `device`,
`budget`, `count_batch`, `stream`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from engine.analysis.chunker import REPLY_TOKENS
from engine.analysis.digest import Digest

LOADING = "loading model…"  # the model's state while the app loads it (a key for an analysis then waits)


class Backend(Protocol):
    name: str  # the model, as shown in the panel
    device: str  # where it runs
    budget: int  # log tokens per chunk

    def count_batch(self, lines: Sequence[str]) -> list[int]: ...

    def stream(
        self, text: str, first_line: int, query: str, digest: Digest, cancelled: Callable[[], bool]
    ) -> Iterator[str]:
        """Text pieces of the reply for a chunk's text; stops early once `cancelled()` is true."""
        ...


@dataclass
class Reply:
    """One finished (or cancelled) reply, kept per chunk and query."""

    query: str
    first_line: int  # 1-based
    last_line: int
    text: str
    tokens: int
    tokens_per_s: float
    ungrounded: tuple[str, ...]
    cancelled: bool = False
    by_analyst: bool = False  # written by the model-free analyst, not generated token by token
    unknown_share: float = 0.0  # share of words neither English nor the chunk's (engine/analysis/readability.py)
    garbled: bool = False
    instead_of: str = ""  # what this reply replaces (the analyst's, when the model's was garbled)


def lines_budget(lines: int) -> int:
    """A chunk plan's budget for chunks of `lines` lines when each line costs 1 (`one_per_line`): the plan charges
    a line its cost plus one joining newline."""
    return 2 * lines - 1


def one_per_line(lines: Sequence[str]) -> list[int]:
    return [1] * len(lines)


class ModelBackend:
    """A bundle from the registry; `load()` runs in a worker (it imports torch)."""

    def __init__(self, model: str | None = None, device: str = "auto", max_new_tokens: int = REPLY_TOKENS) -> None:
        self.model = model
        self.device_name = device
        self.max_new_tokens = max_new_tokens
        self.bundle = None
        self.name = model or "default"
        self.device = ""
        self.budget = 0
        self.by_lines = False  # chunks of lines (a digest bundle), not of tokens
        self.last_tokens = 0
        self.last_rate = 0.0

    def load(self) -> ModelBackend:
        from engine.analysis.chunker import MODEL_CHUNK_LINES  # noqa: PLC0415
        from engine.analysis.prompts import bundle_prompt  # noqa: PLC0415 - torch loads here, in the worker
        from engine.analysis.run import chunk_budget_for  # noqa: PLC0415
        from engine.lm.bundle import load_bundle  # noqa: PLC0415
        from engine.lm.devices import placement  # noqa: PLC0415
        from engine.lm.registry import find_bundle  # noqa: PLC0415

        bundle = load_bundle(find_bundle(self.model), placement(self.device_name))
        self.bundle = bundle
        self.name = bundle.name
        self.device = bundle.describe().removeprefix(bundle.name).strip()  # "(4.5M params) on cpu float32"
        self.by_lines = bundle_prompt(bundle).uses_digest
        self.budget = (
            lines_budget(MODEL_CHUNK_LINES) if self.by_lines else chunk_budget_for(bundle, self.max_new_tokens)
        )
        return self

    def count_batch(self, lines: Sequence[str]) -> list[int]:
        assert self.bundle is not None
        if self.by_lines:  # a digest bundle's chunk is MODEL_CHUNK_LINES lines, whatever their tokens
            return one_per_line(lines)
        return [len(ids) for ids in self.bundle.tokenizer.encode_batch(lines)]

    def stream(
        self, text: str, first_line: int, query: str, digest: Digest, cancelled: Callable[[], bool]
    ) -> Iterator[str]:
        from engine.analysis.run import AnalysisRequest, analyze_chunk, chunk_at  # noqa: PLC0415
        from engine.lm.generate import GenerationStats  # noqa: PLC0415
        from engine.lm.sampling import SamplingConfig  # noqa: PLC0415

        bundle = self.bundle
        assert bundle is not None
        chunk = chunk_at(bundle, text, first_line, self.max_new_tokens)
        request = AnalysisRequest(query, self.max_new_tokens, SamplingConfig(temperature=0.0))
        stats = GenerationStats()
        decoder = bundle.tokenizer.decoder()
        for token_id in analyze_chunk(bundle, chunk, request, stats, digest):
            if cancelled():
                break
            if token_id in bundle.stop_ids():
                continue
            piece = decoder.feed(token_id)
            self.last_tokens, self.last_rate = stats.new_tokens, stats.decode_tokens_per_s
            if piece:
                yield piece
        yield decoder.flush()


ANALYST_CHUNK_LINES = 200  # lines per chunk when the analyst answers: it reads lines, not tokens


class AnalystBackend:
    """The model-free analyst as a backend: chunks of `chunk_lines` lines, the whole reply at once."""

    name = "analyst"
    device = "model-free"
    model_free = True

    def __init__(self, chunk_lines: int = ANALYST_CHUNK_LINES) -> None:
        self.budget = lines_budget(chunk_lines)

    count_batch = staticmethod(one_per_line)

    def stream(
        self, text: str, first_line: int, query: str, digest: Digest, cancelled: Callable[[], bool]
    ) -> Iterator[str]:
        from engine.analysis.analyst import analyze  # noqa: PLC0415

        yield analyze(digest, query)
