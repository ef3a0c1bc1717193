"""Options shared by several commands, and the model loader behind them."""

from __future__ import annotations

import enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from engine.analysis.queries import CONSTRAINTS
from logpt_tui.cli.console import err, safe

if TYPE_CHECKING:  # torch loads when a command loads a model, not when `logpt --help` starts
    from engine.lm.bundle import LoadedBundle


class Device(str, enum.Enum):
    auto = "auto"
    cuda = "cuda"
    mps = "mps"
    cpu = "cpu"


Constrain = enum.Enum("Constrain", {name: name for name in CONSTRAINTS}, type=str)  # --constrain choices


class Quantize(str, enum.Enum):
    int8 = "int8"


ModelOpt = Annotated[
    str | None,
    typer.Option("--model", "-m", help="Bundle name or folder (default: the bundled default model)."),
]
DeviceOpt = Annotated[Device, typer.Option(help="Where to run: cuda > mps > cpu when auto.")]
QuantizeOpt = Annotated[
    Quantize | None, typer.Option(help="int8 weights on the CPU: faster decode, small quality cost.")
]
TemperatureOpt = Annotated[float, typer.Option(min=0.0, help="Sampling temperature; 0 is greedy.")]
TopKOpt = Annotated[int | None, typer.Option(min=1, help="Sample from the k most likely tokens.")]


def _above_zero(value: float | None) -> float | None:
    if value is not None and value <= 0:
        raise typer.BadParameter("must be above 0 (and at most 1)")
    return value


TopPOpt = Annotated[
    float | None, typer.Option(min=0.0, max=1.0, callback=_above_zero, help="Nucleus sampling mass, in (0, 1].")
]
SeedOpt = Annotated[int | None, typer.Option(min=0, max=(1 << 63) - 1, help="Seed for repeatable sampling.")]
FormatOpt = Annotated[str | None, typer.Option("--format", help="Force a format by name instead of detecting it.")]
FormatsFileOpt = Annotated[
    list[Path] | None, typer.Option("--formats-file", help="Extra TOML file(s) of user formats.")
]
ForceOpt = Annotated[bool, typer.Option("--force", help="Replace an existing bundle of that name.")]
ConstrainOpt = Annotated[
    Constrain,
    typer.Option(help="How a digest model's reply is held to the chunk: grammar (default): only the analyst's sentences "
                      "on the chunk's facts, the model choosing which; facts: free text whose numbers, addresses, quotes "
                      "and fields come from the chunk, digest or knowledge base; off: free decoding."),
]  # fmt: skip
CompileOpt = Annotated[
    bool, typer.Option("--compile", help="Decode through torch.compile (CUDA only; the first reply compiles).")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable JSON lines on stdout.")]


def load_model(model: str | None, device: Device, quantize: Quantize | None) -> LoadedBundle:
    from engine.analysis.prompts import load_generator  # noqa: PLC0415 - torch, only when a model is loaded
    from engine.lm.devices import placement  # noqa: PLC0415
    from engine.lm.registry import find_bundle  # noqa: PLC0415

    where = placement(device.value)
    path: Path = find_bundle(model)
    with err.status(f"loading {safe(path.name)}…", spinner="dots"):
        return load_generator(path, where, quantize=quantize.value if quantize else None)


def say_if_compile_is_idle(bundle: LoadedBundle, compile_step: bool) -> None:
    """`--compile` on a device where it changes nothing: say so once, and decode without it."""
    from engine.lm.compiled import compile_applies  # noqa: PLC0415

    if compile_step and not compile_applies(bundle.placement.device):
        err.print(f"[dim]--compile works on CUDA only; decoding on {bundle.placement.device.type} without it[/dim]")
