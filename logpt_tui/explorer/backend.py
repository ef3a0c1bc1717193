"""What the explorer's analysis panel talks to: an engine that sizes chunks and writes replies.

A `Backend` is a writer of replies (engine.analysis.reply.Writer: `name`, `model_free`, `write`) that also
says where it runs (`device`), how its chunks are sized (`budget`, `count_batch`, `chunk`) and loads what it
needs in a worker (`load`). The panel hands its chunk to engine.analysis.reply.answer, which reviews the
reply; the backend owns only the writing: the lock that lets one reply generate at a time, whichever tab
asks, and the token figures of each reply (its `Generation`).

`ModelBackend` wraps a model bundle; torch and the model load in a worker thread on first use
(`ModelBackend.load`), so the explorer opens without them. `AnalystBackend` is the model-free analyst
(engine.analysis.analyst): ready at once, its reply written from the chunk's digest and the knowledge base.
Tests substitute fakes with the same members.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Generator, Sequence
from typing import TYPE_CHECKING, Protocol

from engine.analysis.chunker import ANALYST_CHUNK_LINES, REPLY_TOKENS, Chunk, line_chunks
from engine.analysis.digest import Digest
from engine.analysis.reply import NOT_WRITTEN, AnalystWriter, Generation, Writer
from logpt_tui.explorer.settings import LOCK_POLL_S

if TYPE_CHECKING:  # torch: loaded in the worker that loads the model, not when the explorer opens
    from engine.analysis.run import BundleWriter

LOADING = "loading model…"  # the model's state while the app loads it (a key for an analysis then waits)


class Backend(Writer, Protocol):
    """A writer of replies that the explorer can plan chunks for and load in a worker."""

    device: str  # where it runs, as shown in the status line
    budget: int  # log tokens per chunk, as the tab's chunk plan counts them

    def load(self) -> None:
        """Make it ready (in a worker thread: it may import torch and read weights); raises LogptError."""
        ...

    def count_batch(self, lines: Sequence[str]) -> list[int]:
        """Each line's cost against `budget`."""
        ...

    def chunk(self, lines: Sequence[str], first_line: int) -> Chunk:
        """The chunk it reads of a planned span (1-based `first_line`): the span, or as much of it as fits."""
        ...


def lines_budget(lines: int) -> int:
    """A chunk plan's budget for chunks of `lines` lines when each line costs 1 (`one_per_line`): the plan charges
    a line its cost plus one joining newline."""
    return 2 * lines - 1


def one_per_line(lines: Sequence[str]) -> list[int]:
    return [1] * len(lines)


def whole_chunk(lines: Sequence[str], first_line: int) -> Chunk:
    """The span as one chunk, every line of it."""
    return next(line_chunks(lines, len(lines), first_line=first_line))


class ModelBackend:
    """A bundle from the registry; `load()` runs in a worker (it imports torch). Replies are greedy."""

    model_free = False

    def __init__(self, model: str | None = None, device: str = "auto", max_new_tokens: int = REPLY_TOKENS, *,
                 compiled: bool = False) -> None:  # fmt: skip
        self.model = model
        self.compiled = compiled  # decode through torch.compile where it applies (CUDA)
        self.device_name = device
        self.max_new_tokens = max_new_tokens
        self.writer: BundleWriter | None = None  # once loaded
        self.name = model or "default"
        self.device = ""
        self.budget = 0
        self.by_lines = False  # chunks of lines (a digest bundle), not of tokens
        self.lock = threading.Lock()  # one model, one reply at a time, whichever tab asks

    def load(self) -> None:
        from engine.analysis.chunker import MODEL_CHUNK_LINES  # noqa: PLC0415
        from engine.analysis.prompts import bundle_prompt, load_generator  # noqa: PLC0415 - torch loads here, in the worker
        from engine.analysis.run import AnalysisRequest, BundleWriter, chunk_budget_for  # noqa: PLC0415
        from engine.lm.compiled import compile_applies  # noqa: PLC0415
        from engine.lm.devices import placement  # noqa: PLC0415
        from engine.lm.registry import find_bundle  # noqa: PLC0415
        from engine.lm.sampling import SamplingConfig  # noqa: PLC0415

        bundle = load_generator(find_bundle(self.model), placement(self.device_name))
        self.name = bundle.name
        self.device = bundle.describe().removeprefix(bundle.name).strip()  # "(4.5M params) on cpu float32"
        self.by_lines = bundle_prompt(bundle).uses_digest
        self.budget = (
            lines_budget(MODEL_CHUNK_LINES) if self.by_lines else chunk_budget_for(bundle, self.max_new_tokens)
        )
        request = AnalysisRequest(max_new_tokens=self.max_new_tokens, sampling=SamplingConfig(temperature=0.0),
                                  compiled=self.compiled)  # fmt: skip
        if self.compiled and not compile_applies(bundle.placement.device):
            self.device += " (--compile: CUDA only)"
        self.writer = BundleWriter(bundle, request)

    def loaded(self) -> BundleWriter:
        assert self.writer is not None, "the model is used before load()"
        return self.writer

    def count_batch(self, lines: Sequence[str]) -> list[int]:
        if self.by_lines:  # a digest bundle's chunk is MODEL_CHUNK_LINES lines, whatever their tokens
            return one_per_line(lines)
        return [len(ids) for ids in self.loaded().bundle.tokenizer.encode_batch(lines)]

    def chunk(self, lines: Sequence[str], first_line: int) -> Chunk:
        from engine.analysis.run import chunk_at  # noqa: PLC0415 - torch is loaded by now

        return chunk_at(self.loaded().bundle, lines, first_line, self.max_new_tokens)

    def write(
        self, chunk: Chunk, digest: Digest, query: str, cancelled: Callable[[], bool]
    ) -> Generator[str, None, Generation]:
        """The model's reply as it comes, once no other tab's reply is generating."""
        writer = self.loaded()
        while not self.lock.acquire(timeout=LOCK_POLL_S):
            if cancelled():
                return NOT_WRITTEN
        try:
            return (yield from writer.write(chunk, digest, query, cancelled))
        finally:
            self.lock.release()


class AnalystBackend(AnalystWriter):
    """The model-free analyst as a backend: chunks of `chunk_lines` lines, the whole reply at once."""

    device = "model-free"

    def __init__(self, chunk_lines: int = ANALYST_CHUNK_LINES) -> None:
        self.budget = lines_budget(chunk_lines)

    def load(self) -> None:
        """Nothing to load: the analyst is code and the knowledge base."""

    count_batch = staticmethod(one_per_line)
    chunk = staticmethod(whole_chunk)
