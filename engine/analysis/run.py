"""A model's half of a reply: chunks that fit its context, the prompt, and the reply streamed as token ids.

`BundleWriter` is how a model bundle writes a chunk's reply for the seam that the CLI and the explorer share
(engine.analysis.reply.answer, which builds the digest and reviews the reply); `analyze_chunk` is the same
stream as token ids with timing, for evaluation and benchmarks. It leaves out the digest, the review of a
reply and the analyst (engine.analysis.reply, engine.analysis.analyst).
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace

from engine.analysis.analyst import OPENINGS, quotable, reply_grammar, supported_fields
from engine.analysis.chunker import MODEL_CHUNK_LINES, REPLY_TOKENS, Chunk, chunk_budget, chunk_lines, line_chunks
from engine.analysis.digest import Digest
from engine.analysis.excerpt import excerpt
from engine.analysis.factguard import FactGuard
from engine.analysis.prompts import bundle_prompt, reply_stop_ids
from engine.analysis.queries import CONSTRAINTS, NAMES, check_query
from engine.analysis.reply import Generation, chunk_digest
from engine.errors import LogptError
from engine.lm.bundle import LoadedBundle
from engine.lm.generate import GenerationStats, LogitsProcessor, generate
from engine.lm.grammar import GrammarConstraint
from engine.lm.sampling import SamplingConfig
from engine.logs.textio import split_lines

# How a digest bundle's reply is held to its facts: `grammar`, the analyst's sentences on this chunk's digest
# (engine.analysis.replyplan, decoded with engine.lm.grammar); `facts`, free text whose facts, quotes and fields
# must come from the chunk, digest or knowledge base (engine.analysis.factguard); `off`, free decoding.


@dataclass(frozen=True)
class AnalysisRequest:
    query: str = "summary"  # one of engine.analysis.queries.NAMES
    max_new_tokens: int = REPLY_TOKENS  # reply budget; also reserved when sizing chunks
    sampling: SamplingConfig = SamplingConfig()
    seed: int | None = None
    constrain: str = "grammar"  # digest bundles: one of CONSTRAINTS
    compiled: bool = False  # decode through torch.compile (CUDA only: engine.lm.compiled; a no-op elsewhere)

    def __post_init__(self) -> None:
        check_query(self.query)
        if self.constrain not in CONSTRAINTS:
            raise LogptError(f"unknown constraint {self.constrain!r}", f"choose one of {', '.join(CONSTRAINTS)}")
        if self.max_new_tokens < 1:
            raise LogptError("--max-tokens must be at least 1", "pass a positive number")


def chunk_budget_for(bundle: LoadedBundle, max_new_tokens: int, queries: Iterable[str] = NAMES) -> int:
    """Log tokens per chunk so that the prompt of any of `queries` plus a reply of max_new_tokens fits."""
    context = bundle.config.model.block_size
    overhead = max(bundle_prompt(bundle).overhead(bundle.tokenizer, q) for q in queries)
    try:
        return chunk_budget(context, max_new_tokens, overhead)
    except ValueError:
        raise LogptError(
            f"--max-tokens {max_new_tokens} leaves no room for the log in a {context}-token context",
            f"use --max-tokens below {context - overhead - 16}",
        ) from None


def plan_chunks(bundle: LoadedBundle, text: str, request: AnalysisRequest, *, first_line: int = 1,
                per_chunk: int = MODEL_CHUNK_LINES) -> list[Chunk]:  # fmt: skip
    """The log's line-aligned chunks: `per_chunk` lines each for a digest bundle (its prompt shows an excerpt
    when they do not fit, engine.analysis.excerpt), else each small enough for prompt + reply to fit the context."""
    return plan_line_chunks(bundle, split_lines(text), request, first_line=first_line, per_chunk=per_chunk)


def plan_line_chunks(bundle: LoadedBundle, lines: Sequence[str], request: AnalysisRequest, *, first_line: int = 1,
                     per_chunk: int = MODEL_CHUNK_LINES) -> list[Chunk]:  # fmt: skip
    """`plan_chunks` of a log already split into lines (numbered from `first_line`)."""
    if bundle_prompt(bundle).uses_digest:
        return list(line_chunks(lines, per_chunk, first_line=first_line))
    budget = chunk_budget_for(bundle, request.max_new_tokens, [request.query])
    return list(chunk_lines(lines, bundle.tokenizer.count, budget, first_line=first_line))


def chunk_at(bundle: LoadedBundle, lines: Sequence[str], first_line: int, max_new_tokens: int) -> Chunk:
    """The chunk that begins `lines` (the explorer's planned span): all of it for a digest bundle, else what fits
    the context with a reply of max_new_tokens to any query (the explorer's plan serves every query)."""
    if bundle_prompt(bundle).uses_digest:
        return next(line_chunks(lines, len(lines), first_line=first_line))
    return next(
        chunk_lines(lines, bundle.tokenizer.count, chunk_budget_for(bundle, max_new_tokens), first_line=first_line)
    )


def reply_guard(bundle: LoadedBundle, text: str, facts: str, digest: Digest, query: str, *, greedy: bool = True
                ) -> FactGuard:  # fmt: skip
    """The fact guard for a digest bundle's reply to `query` on a chunk (`text`) and its digest (`facts`, as
    rendered for the prompt): facts and quotes from the chunk, the digest and the knowledge base, field values
    the digest supports, and the opening of the analyst's replies to the query."""
    return FactGuard.for_tokenizer(
        bundle.tokenizer, [text, facts], reply_stop_ids(bundle), greedy=greedy, quotable=quotable(),
        fields=supported_fields(digest), start=OPENINGS[query],
    )  # fmt: skip


def reply_constraint(bundle: LoadedBundle, text: str, facts: str, digest: Digest, query: str, constrain: str, *,
                     greedy: bool = True) -> LogitsProcessor | None:  # fmt: skip
    """The processor that holds a digest bundle's reply to `query` on a chunk (`text`) and its digest (`facts`
    as rendered for the prompt) as `constrain` says."""
    if constrain == "grammar":
        return GrammarConstraint(bundle.tokenizer, reply_grammar(digest, query), reply_stop_ids(bundle))
    if constrain == "facts":
        return reply_guard(bundle, text, facts, digest, query, greedy=greedy)
    return None


def chunk_prompt(
    bundle: LoadedBundle, chunk: Chunk, request: AnalysisRequest, digest: Digest | None = None
) -> list[int]:
    """The prompt's token ids: the chunk (a digest bundle's: whole or its excerpt, with the digest) and the query."""
    if not bundle_prompt(bundle).uses_digest:
        return bundle_prompt(bundle).encode(bundle.tokenizer, chunk.text, request.query)
    digest = digest or chunk_digest(chunk)
    budget = chunk_budget_for(bundle, request.max_new_tokens, [request.query])
    log = excerpt(chunk.text.split("\n"), chunk.first_line, digest, bundle.tokenizer.count, budget)
    return bundle_prompt(bundle).encode(bundle.tokenizer, log, request.query, digest.render())


def analyze_chunk(
    bundle: LoadedBundle,
    chunk: Chunk,
    request: AnalysisRequest,
    stats: GenerationStats,
    digest: Digest | None = None,
) -> Iterator[int]:
    """Stream the reply to `request.query` for one chunk as token ids.

    Bundles with the logpt-digest prompt get the chunk's digest (computed here unless given) and decoding
    constrained as `request.constrain` says.
    """
    guard = None
    if bundle_prompt(bundle).uses_digest:
        digest = digest or chunk_digest(chunk)
        guard = reply_constraint(bundle, chunk.text, digest.render(), digest, request.query, request.constrain,
                                 greedy=request.sampling.greedy)  # fmt: skip
    return generate(
        bundle.model,
        chunk_prompt(bundle, chunk, request, digest),
        max_new_tokens=request.max_new_tokens,
        sampling=request.sampling,
        stop_ids=reply_stop_ids(bundle),
        seed=request.seed,
        stats=stats,
        processor=guard,
        compiled=request.compiled,
    )


@dataclass(frozen=True)
class BundleWriter:
    """A model bundle writing a chunk's reply for engine.analysis.reply.answer: the token stream, decoded.

    `request` holds the reply budget, sampling, seed and constraint; its query is replaced by the one asked.
    """

    bundle: LoadedBundle
    request: AnalysisRequest = AnalysisRequest()
    model_free = False

    @property
    def name(self) -> str:
        return self.bundle.name

    def write(
        self, chunk: Chunk, digest: Digest, query: str, cancelled: Callable[[], bool]
    ) -> Generator[str, None, Generation]:
        """Text pieces as the tokens come (never half a UTF-8 character); returns the generation's figures."""
        request = replace(self.request, query=query)
        stats = GenerationStats()
        decoder = self.bundle.tokenizer.decoder()
        for token_id in analyze_chunk(self.bundle, chunk, request, stats, digest):
            if cancelled():
                break
            piece = decoder.feed(token_id)
            if piece:
                yield piece
        if tail := decoder.flush():
            yield tail
        constrain = request.constrain if bundle_prompt(self.bundle).uses_digest else "off"
        return Generation(stats.new_tokens, stats.prompt_tokens, stats.prefill_seconds, stats.decode_seconds,
                          stats.decode_tokens_per_s, stats.stop_reason, constrain)  # fmt: skip
