"""`logpt generate`: continue a raw prompt; the low-level tool for debugging a bundle."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from engine.errors import LogptError
from logpt_tui.cli.console import err, safe, write_raw
from logpt_tui.cli.options import (
    CompileOpt,
    Device,
    DeviceOpt,
    JsonOpt,
    ModelOpt,
    QuantizeOpt,
    SeedOpt,
    TemperatureOpt,
    TopKOpt,
    TopPOpt,
    load_model,
    say_if_compile_is_idle,
)


def generate(
    *,
    prompt: Annotated[str, typer.Option("--prompt", "-p", help="Text to continue (encoded as plain text).")],
    model: ModelOpt = None,
    max_tokens: Annotated[int, typer.Option(min=1, help="New tokens at most.")] = 64,
    temperature: TemperatureOpt = 0.7,
    top_k: TopKOpt = None,
    top_p: TopPOpt = None,
    seed: SeedOpt = None,
    device: DeviceOpt = Device.auto,
    quantize: QuantizeOpt = None,
    as_json: JsonOpt = False,
    compile_step: CompileOpt = False,
) -> None:
    """Continue a raw prompt with a bundle and report prefill time and decode speed."""
    bundle = load_model(model, device, quantize)
    prompt_ids = bundle.tokenizer.encode(prompt)
    if not prompt_ids:
        raise LogptError("the prompt is empty", "pass some text with --prompt")
    from engine.analysis.prompts import reply_stop_ids  # noqa: PLC0415 - torch loads when the command runs, not at `logpt --help`
    from engine.lm.generate import GenerationStats  # noqa: PLC0415
    from engine.lm.generate import generate as generate_ids  # noqa: PLC0415
    from engine.lm.sampling import SamplingConfig  # noqa: PLC0415

    say_if_compile_is_idle(bundle, compile_step)
    stats = GenerationStats()
    stream = generate_ids(
        bundle.model,
        prompt_ids,
        max_new_tokens=max_tokens,
        sampling=SamplingConfig(temperature, top_k, top_p),
        stop_ids=reply_stop_ids(bundle),
        seed=seed,
        stats=stats,
        compiled=compile_step,
    )
    if as_json:
        ids = list(stream)
        record = {
            "model": bundle.name,
            "device": bundle.describe(),
            "prompt_ids": prompt_ids,
            "ids": ids,
            "text": bundle.tokenizer.decode(ids),
            "prefill_seconds": round(stats.prefill_seconds, 5),
            "decode_tokens_per_s": round(stats.decode_tokens_per_s, 2),
            "stop_reason": stats.stop_reason,
        }
        print(json.dumps(record))
        return
    decoder = bundle.tokenizer.decoder()
    for token_id in stream:
        write_raw(decoder.feed(token_id))
    write_raw(decoder.flush() + "\n")
    err.print(
        f"[dim]{safe(bundle.describe())} · prompt {stats.prompt_tokens} tokens, prefill {stats.prefill_seconds:.3f} s · "
        f"{stats.new_tokens} new tokens at {stats.decode_tokens_per_s:.1f} tok/s · {stats.stop_reason}[/dim]"
    )
