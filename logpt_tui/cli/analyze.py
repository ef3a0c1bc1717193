"""`logpt analyze`: stream a summary, root cause or action items for each chunk of a log."""

from __future__ import annotations

import enum
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from engine.analysis.chunker import ANALYST_CHUNK_LINES, MODEL_CHUNK_LINES, REPLY_TOKENS, Chunk, line_chunks
from engine.analysis.queries import NAMES
from engine.errors import InputError, LogptError
from engine.logs.textio import read_lines, read_stream_lines
from logpt_tui.cli.console import err, interactive, out, safe, write_raw
from logpt_tui.cli.options import (
    CompileOpt,
    Constrain,
    ConstrainOpt,
    Device,
    DeviceOpt,
    JsonOpt,
    ModelOpt,
    Quantize,
    QuantizeOpt,
    SeedOpt,
    TemperatureOpt,
    TopKOpt,
    TopPOpt,
    load_model,
    say_if_compile_is_idle,
)
from logpt_tui.cli.whole import whole_from_file, whole_from_lines

if TYPE_CHECKING:  # torch, the knowledge base: imported where they run (see each function), not at `logpt --help`
    from engine.analysis.reply import Reply, Writer
    from engine.analysis.run import AnalysisRequest
    from engine.lm.bundle import LoadedBundle


class Engine(str, enum.Enum):
    auto = "auto"
    model = "model"
    analyst = "analyst"


Query = enum.Enum("Query", {name: name for name in NAMES}, type=str)  # --query choices


EngineOpt = Annotated[
    Engine,
    typer.Option(help="model: the language model; analyst: the fast model-free analyst (no GPU, no weights); "
                      "auto: the default model, or the analyst when it cannot load."),
]  # fmt: skip
WholeOpt = Annotated[
    bool, typer.Option("--whole", help="One incident timeline for the whole file (or --lines span), by the analyst.")
]
LinesOpt = Annotated[
    str | None,
    typer.Option("--lines", help="Analyse only lines A-B (1-based, as `wc -l` and editors count); the analyst "
                                 "answers for the whole span at once."),
]  # fmt: skip


def read_input(file: Path | None) -> tuple[list[str], str]:
    """(lines, source name) from a file, or from stdin for '-' or a pipe, read a block at a time."""
    if file is not None and str(file) != "-":
        return read_lines(file), str(file)
    if sys.stdin.isatty():
        raise InputError("no log given", "pass --file PATH or pipe a log into logpt analyze")
    return read_stream_lines(sys.stdin.buffer, source="stdin"), "stdin"


def analyze(
    *,
    file: Annotated[Path | None, typer.Option("--file", "-f", help="Log file; '-' or a pipe reads stdin.")] = None,
    query: Annotated[Query, typer.Option("--query", "-q", help="What to write.")] = Query.summary,
    model: ModelOpt = None,
    temperature: TemperatureOpt = 0.7,
    max_tokens: Annotated[int, typer.Option(min=1, help="Reply budget per chunk, in tokens.")] = REPLY_TOKENS,
    device: DeviceOpt = Device.auto,
    quantize: QuantizeOpt = None,
    top_k: TopKOpt = None,
    top_p: TopPOpt = None,
    seed: SeedOpt = None,
    chunk: Annotated[int | None, typer.Option(min=1, help="Analyse only chunk N (1-based).")] = None,
    lines_opt: LinesOpt = None,
    whole: WholeOpt = False,
    all_chunks: Annotated[bool, typer.Option("--all", help="Analyse every chunk without asking.")] = False,
    engine: EngineOpt = Engine.model,
    chunk_lines_opt: Annotated[
        int | None,
        typer.Option(
            "--chunk-lines",
            min=1,
            help="Lines per chunk: 100 for the analyst, 60 for a digest model "
            "(it reads an excerpt of the lines its digest cites when they do not fit).",
        ),
    ] = None,
    constrain: ConstrainOpt = Constrain.grammar,
    compile_step: CompileOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Summarise a log, find its root cause or list action items, chunk by chunk.

    Tokens stream as they are generated. On a terminal it asks before each next
    chunk; with --all, --json or a piped stdin it never asks. Numbers, addresses,
    ids and paths in a model's reply that occur neither in the chunk nor in its
    digest are reported as ungrounded.
    """
    if whole:
        run_whole(file, lines_opt, chunk_lines_opt or ANALYST_CHUNK_LINES, as_json=as_json)
        return
    lines, source = read_input(file)
    if not lines:
        raise InputError(f"{source} is empty", "nothing to analyse")
    request = make_request(query.value, max_tokens, (temperature, top_k, top_p), seed, constrain.value, compile_step)
    bundle = choose_engine(engine, model, device, quantize, compile_step=compile_step)
    chunks = chunks_of(lines, lines_opt, source, bundle, request, chunk_lines_opt)
    if chunk is not None and chunk > len(chunks):
        raise LogptError(f"chunk {chunk} does not exist", f"{source} has {len(chunks)} chunks")
    selected = [chunks[chunk - 1]] if chunk is not None else chunks
    ask = interactive() and not (all_chunks or as_json or chunk)
    if not as_json:
        where = bundle.describe() if bundle else "analyst (model-free)"
        err.print(f"[dim]{safe(source)}: {len(chunks)} chunk(s) · {safe(where)} · {query.value}[/dim]")
    for position, part in enumerate(selected):
        question = f"Continue to chunk {part.index + 1}/{len(chunks)}?"
        if ask and position > 0 and not typer.confirm(question, default=True):
            break
        run_chunk(bundle, part, request, len(chunks), as_json=as_json, fallback=engine is Engine.auto)


def make_request(query: str, max_tokens: int, sampling: tuple[float, int | None, float | None], seed: int | None,
                 constrain: str, compiled: bool = False) -> AnalysisRequest:  # fmt: skip
    from engine.analysis.run import AnalysisRequest  # noqa: PLC0415 - torch loads when the command runs, not at `logpt --help`
    from engine.lm.sampling import SamplingConfig  # noqa: PLC0415

    return AnalysisRequest(query, max_tokens, SamplingConfig(*sampling), seed, constrain, compiled)


def run_whole(file: Path | None, span_text: str | None, chunk_lines: int, *, as_json: bool) -> None:
    """`--whole`: a file on disk is read in blocks (never whole); stdin or a `--lines` span from memory."""
    if file is not None and str(file) != "-" and span_text is None:
        whole_from_file(file, chunk_lines, as_json=as_json)
        return
    lines, source = read_input(file)
    if not lines:
        raise InputError(f"{source} is empty", "nothing to analyse")
    first, last = parse_span(span_text, len(lines), source) if span_text else (1, len(lines))
    whole_from_lines(lines, first, last, chunk_lines, as_json=as_json)


def choose_engine(engine: Engine, model: str | None, device: Device, quantize: Quantize | None, *,
                  compile_step: bool = False) -> LoadedBundle | None:  # fmt: skip
    """The model to answer with, or None for the analyst (auto: when the default model cannot load)."""
    if engine is Engine.analyst:
        return None
    try:
        bundle = load_model(model, device, quantize)
        say_if_compile_is_idle(bundle, compile_step)
        return bundle
    except LogptError as e:
        if engine is Engine.model or model is not None:  # a model named is a model asked for: its errors stand
            raise
        err.print(f"[yellow]the default model cannot load ({safe(e.message)}); the analyst answers[/yellow]")
        return None


def chunks_of(lines: list[str], span_text: str | None, source: str, bundle: LoadedBundle | None,
              request: AnalysisRequest, chunk_lines: int | None) -> list[Chunk]:  # fmt: skip
    """The chunks to answer: of the whole log or of `--lines A-B` (numbered as in the file)."""
    first, last = parse_span(span_text, len(lines), source) if span_text else (1, len(lines))
    span = lines[first - 1 : last]
    if bundle is None:  # the analyst: a span asked for is answered whole
        return list(line_chunks(span, len(span) if span_text else chunk_lines or ANALYST_CHUNK_LINES, first_line=first))
    from engine.analysis.run import plan_line_chunks  # noqa: PLC0415 - torch loads when a command runs, not at `logpt --help`

    return plan_line_chunks(bundle, span, request, first_line=first, per_chunk=chunk_lines or MODEL_CHUNK_LINES)


def parse_span(text: str, total: int, source: str) -> tuple[int, int]:
    """`A-B` (or `A-` to the end, or one line `A`) as 1-based first and last line within 1..total."""
    head, dash, tail = text.partition("-")
    try:
        first = int(head)
        last = (int(tail) if tail else total) if dash else first
    except ValueError:
        raise InputError(f"--lines {text!r} is not a span of lines", "write A-B, e.g. --lines 120-480") from None
    if not 1 <= first <= last:
        raise InputError(f"--lines {text!r} is not a span of lines", "write A-B with 1 ≤ A ≤ B")
    if first > total:
        raise InputError(f"{source} has {total} lines", f"--lines must start at or before line {total}")
    return first, min(last, total)


def run_chunk(bundle: LoadedBundle | None, part: Chunk, request: AnalysisRequest, total: int, *, as_json: bool,
              fallback: bool = False) -> None:  # fmt: skip
    """One chunk's reply (engine.analysis.reply.answer) from the analyst (no bundle) or the model: streamed as
    text, or one JSON object; with `fallback` (`--engine auto`) the analyst's reply follows (text) or replaces
    (JSON) a garbled model reply."""
    from engine.analysis.reply import AnalystWriter, answer  # noqa: PLC0415 - loaded when a command runs

    writer: Writer = AnalystWriter()
    if bundle is not None:
        from engine.analysis.run import BundleWriter  # noqa: PLC0415 - torch loads when a model runs, not at `logpt --help`

        writer = BundleWriter(bundle, request)
    if as_json:
        print(json.dumps(reply_json(part, answer(part, request.query, writer, fallback=fallback))), flush=True)
        return
    out.print(rule(part, total))
    reply = answer(part, request.query, writer, fallback=fallback, on_text=write_raw)
    write_raw("\n")
    generated = reply.instead_of or (None if reply.by_analyst else reply)
    if generated is not None:
        report(generated)
    if reply.instead_of is not None:
        err.print("[yellow]the analyst's reply instead (--engine auto):[/yellow]")
        write_raw(reply.text + "\n")


def rule(part: Chunk, total: int) -> str:
    size = f"{part.n_tokens} tokens" if part.n_tokens else f"{part.n_lines} lines"
    return f"[bold]── chunk {part.index + 1}/{total} · lines {part.first_line}–{part.last_line} · {size} ──[/bold]"


def report(reply: Reply) -> None:
    """A generated reply's review and figures, on stderr under the streamed text."""
    grounding, readable, generation = reply.grounding, reply.readability, reply.generation
    if grounding.ungrounded:
        shown = ", ".join(dict.fromkeys(grounding.ungrounded))
        err.print(f"[yellow]ungrounded (not in the chunk or its digest): {safe(shown)}[/yellow]")
    if readable.garbled:  # grounded facts under garbled prose must not read as a good reply
        words = ", ".join(list(dict.fromkeys(readable.unknown))[:8])
        err.print(
            f"[red]garbled: {readable.share:.0%} of the words are not English nor the log's ({safe(words)})[/red]"
        )
    err.print(
        f"[dim]{generation.tokens} tokens · {generation.decode_tokens_per_s:.1f} tok/s · "
        f"prefill {generation.prefill_seconds:.2f} s · {generation.stop_reason} · "
        f"grounded {grounding.grounded}/{grounding.checked} · {readable.describe()}[/dim]"
    )


def reply_json(part: Chunk, reply: Reply) -> dict[str, object]:
    """One JSON object per chunk: the analyst's text; or the model's reply, its figures and review (with
    `--engine auto`, the analyst's text in place of a garbled one, the model's under `instead_of`)."""
    head = {"index": part.index + 1, "first_line": part.first_line, "last_line": part.last_line,
            "query": reply.query}  # fmt: skip
    generated = reply.instead_of or (None if reply.by_analyst else reply)
    if generated is None:
        return head | {"model": reply.author, "text": reply.text}
    g = generated.generation
    result = head | {
        "model": generated.author,
        "text": generated.text,
        "tokens": g.tokens,
        "prompt_tokens": g.prompt_tokens,
        "chunk_tokens": part.n_tokens,
        "seconds": round(g.seconds, 4),
        "tokens_per_s": round(g.tokens_per_s, 2),
        "stop_reason": g.stop_reason,
        "constrain": g.constrain,
        "grounding_precision": round(generated.grounding.precision, 4),
        "ungrounded": list(generated.ungrounded),
        "readability": generated.readability.to_json(),
    }
    if reply.instead_of is None:
        return result
    return result | {"model": reply.author, "text": reply.text,
                     "instead_of": {"model": generated.author, "text": generated.text}}  # fmt: skip
