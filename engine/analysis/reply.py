"""One chunk, one query, one reviewed reply: the seam that the CLI and the explorer share.

`answer` walks a chunk downhill: its digest (engine.analysis.digest) → the writer's text, streamed piece by
piece to `on_text` (a model: prompt and token stream in engine.analysis.run.BundleWriter; the analyst: its
reply at once) → grounding (engine.analysis.grounding) → readability (engine.analysis.readability) → the
analyst's reply in place of a garbled one, when asked → one `Reply`. The CLI's text and JSON outputs and
the explorer's panel render that `Reply` and nothing more.

It leaves out planning chunks (engine.analysis.chunker, chunkplan, run.plan_chunks), prompts and decoding
(engine.analysis.run), and what a front end does with the text. It imports no torch, so the explorer can
import it before any model loads.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass
from typing import Protocol

from engine.analysis.analyst import analyze
from engine.analysis.chunker import Chunk
from engine.analysis.digest import Digest, build_digest
from engine.analysis.grounding import Grounding, check_grounding
from engine.analysis.readability import Readability, readability


@dataclass(frozen=True)
class Generation:
    """How a reply was written: its tokens, their time, why it stopped and how it was held to its facts.

    All zero for the analyst, which writes a reply at once and counts no tokens.
    """

    tokens: int = 0  # new tokens
    prompt_tokens: int = 0
    prefill_seconds: float = 0.0
    decode_seconds: float = 0.0
    decode_tokens_per_s: float = 0.0  # tokens after the first over the time spent producing them
    stop_reason: str = ""  # "stop_token", "max_tokens", "context", or "" (cancelled early, or the analyst)
    constrain: str = "off"  # a digest bundle's constraint (engine.analysis.queries.CONSTRAINTS), else "off"

    @property
    def seconds(self) -> float:
        return self.prefill_seconds + self.decode_seconds

    @property
    def tokens_per_s(self) -> float:
        """New tokens over the whole time, prefill included."""
        return self.tokens / self.seconds if self.seconds else 0.0


NOT_WRITTEN = Generation()


@dataclass(frozen=True)
class Reply:
    """One reply to one query on a span of lines, with its review: the one result every front end renders."""

    query: str
    first_line: int  # 1-based, inclusive
    last_line: int
    text: str
    author: str  # the model's name, or "analyst"
    by_analyst: bool  # written by the model-free analyst, not generated token by token
    generation: Generation
    grounding: Grounding  # the reply's facts against the chunk and its digest
    readability: Readability  # the reply's words against English, the chunk and its digest
    cancelled: bool = False
    instead_of: Reply | None = None  # the model's garbled reply that this one (the analyst's) replaces

    @property
    def tokens(self) -> int:
        return self.generation.tokens

    @property
    def ungrounded(self) -> tuple[str, ...]:
        return self.grounding.ungrounded

    @property
    def garbled(self) -> bool:
        return self.readability.garbled

    @property
    def unknown_share(self) -> float:
        return self.readability.share


class Writer(Protocol):
    """Who writes a chunk's reply: a model (engine.analysis.run.BundleWriter) or the analyst (`AnalystWriter`)."""

    @property
    def name(self) -> str:
        """The reply's author, as shown and written in JSON."""
        ...

    @property
    def model_free(self) -> bool:
        """The analyst: the reply is written from the digest, not generated."""
        ...

    def write(
        self, chunk: Chunk, digest: Digest, query: str, cancelled: Callable[[], bool]
    ) -> Generator[str, None, Generation]:
        """The reply's text in pieces as they come; stops early once `cancelled()`; returns how it was written."""
        ...


class AnalystWriter:
    """The model-free analyst (engine.analysis.analyst): the whole reply at once, from the digest."""

    name = "analyst"
    model_free = True

    def write(
        self, chunk: Chunk, digest: Digest, query: str, cancelled: Callable[[], bool]
    ) -> Generator[str, None, Generation]:
        yield analyze(digest, query)
        return NOT_WRITTEN


def never() -> bool:
    return False


def ignore(_piece: str) -> None:
    return None


def chunk_digest(chunk: Chunk, flagged: Mapping[int, str] | None = None) -> Digest:
    """The facts of a chunk; `flagged` maps line numbers to a detector's reasons."""
    return build_digest(chunk.text.split("\n"), first_line=chunk.first_line, flagged=flagged)


def answer(
    chunk: Chunk,
    query: str,
    writer: Writer,
    *,
    flagged: Mapping[int, str] | None = None,
    fallback: bool = False,
    cancelled: Callable[[], bool] = never,
    on_text: Callable[[str], None] = ignore,
) -> Reply:
    """`writer`'s reply to `query` on `chunk`, streamed to `on_text` as it comes, then reviewed.

    With `fallback` (`--engine auto`), a garbled model reply that ran to its end is replaced by the analyst's,
    which keeps the model's in `instead_of`; the analyst's text is not streamed, the caller renders it.
    """
    digest = chunk_digest(chunk, flagged)
    pieces: list[str] = []
    stream = writer.write(chunk, digest, query, cancelled)
    while True:
        try:
            piece = next(stream)
        except StopIteration as done:
            generation: Generation = done.value
            break
        pieces.append(piece)
        on_text(piece)
    reply = review(chunk, digest, query, "".join(pieces), writer, generation, cancelled())
    if fallback and reply.garbled and not reply.cancelled and not writer.model_free:
        return analyst_instead(reply, digest)
    return reply


def review(chunk: Chunk, digest: Digest, query: str, text: str, writer: Writer, generation: Generation,
           cancelled: bool) -> Reply:  # fmt: skip
    """The reply with its grounding and readability, both against the chunk and its digest as the prompt shows it."""
    sources = [chunk.text, digest.render()]
    return Reply(query, chunk.first_line, chunk.last_line, text, writer.name, writer.model_free, generation,
                 check_grounding(text, sources), readability(text, sources), cancelled=cancelled)  # fmt: skip


def analyst_instead(garbled: Reply, digest: Digest) -> Reply:
    """The analyst's reply in place of a garbled model reply; the analyst's own text is grounded by construction."""
    text = analyze(digest, garbled.query)
    return Reply(garbled.query, garbled.first_line, garbled.last_line, text, AnalystWriter.name, True, NOT_WRITTEN,
                 Grounding(0, ()), Readability(0, ()), instead_of=garbled)  # fmt: skip


def analyst_reply(query: str, first_line: int, last_line: int, text: str, *, cancelled: bool = False) -> Reply:
    """A reply the analyst wrote over a span without a chunk (the whole file's timeline): nothing to review."""
    return Reply(query, first_line, last_line, text, AnalystWriter.name, True, NOT_WRITTEN, Grounding(0, ()),
                 Readability(0, ()), cancelled=cancelled)  # fmt: skip
