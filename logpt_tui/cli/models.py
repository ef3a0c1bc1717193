"""`logpt models` and `logpt import`: list bundles and convert foreign checkpoints."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from logpt_tui.cli.console import err, friendly, out, safe
from logpt_tui.cli.options import ForceOpt

import_app = typer.Typer(
    help="Convert foreign checkpoints into logpt bundles (no code from them runs).", no_args_is_help=True
)


def models() -> None:
    """List the model bundles logpt can find."""
    from engine.lm.registry import list_bundles, search_dirs  # noqa: PLC0415 - torch loads when the command runs, not at `logpt --help`

    bundles = list_bundles()
    if not bundles:
        out.print("No model bundles found. Looked in:")
        for folder in search_dirs():
            out.print(f"  {safe(folder)}")
        out.print("Import one with `logpt import hf DIR NAME` or `logpt import logpt CHECKPOINT NAME`.")
        return
    table = Table("name", "kind", "params", "context", "prompt", "path")
    for info in bundles:
        if info.model is None:
            table.add_row(safe(info.name), "[red]broken[/red]", "", "", safe(info.problem), safe(info.path))
            continue
        table.add_row(
            safe(info.name),
            safe(info.kind),
            f"{info.model.n_params() / 1e6:.2f}M",
            str(info.model.block_size),
            safe(info.config.prompt_format) if info.config else "",
            safe(info.path),
        )
    out.print(table)


def _target(out_name: str, force: bool) -> Path:
    """Where an import goes; checked before converting (the write itself checks again)."""
    from engine.lm.bundle import check_writable  # noqa: PLC0415 - torch loads when the command runs, not at `logpt --help`
    from engine.lm.registry import output_folder  # noqa: PLC0415

    target = output_folder(out_name)
    check_writable(target, force=force)
    return target


@import_app.command("hf")
@friendly
def import_hf_command(
    folder: Annotated[
        Path, typer.Argument(help="Hugging Face GPT-2 folder (config.json, weights, vocab.json, merges.txt).")
    ],
    out_name: Annotated[str, typer.Argument(metavar="OUT", help="Bundle name (user models dir) or folder path.")],
    *,
    force: ForceOpt = False,
) -> None:
    """Import a Hugging Face GPT-2 model folder."""
    target = _target(out_name, force)
    with err.status("converting…"):
        from engine.lm.importers.hf import import_hf  # noqa: PLC0415 - torch loads when the command runs, not at `logpt --help`

        config = import_hf(folder, target, force=force)
    out.print(
        f"wrote {safe(target)} ({config.model.n_params() / 1e6:.1f}M parameters, prompt format {safe(config.prompt_format)})"
    )


@import_app.command("logpt")
@friendly
def import_logpt_command(
    checkpoint: Annotated[Path, typer.Argument(help="LoGPT best_model.pth.")],
    out_name: Annotated[str, typer.Argument(metavar="OUT", help="Bundle name (user models dir) or folder path.")],
    *,
    tokenizer: Annotated[
        Path, typer.Option(help="GPT-2 tokenizer: a folder with vocab.json + merges.txt, or a tiktoken ranks file.")
    ],
    force: ForceOpt = False,
) -> None:
    """Import an original LoGPT checkpoint through a restricted unpickler."""
    target = _target(out_name, force)
    with err.status("converting…"):
        from engine.lm.importers.logpt_checkpoint import import_logpt  # noqa: PLC0415 - torch loads when the command runs, not at `logpt --help`

        config = import_logpt(checkpoint, target, tokenizer, force=force)
    out.print(f"wrote {safe(target)} ({config.model.n_params() / 1e6:.1f}M parameters, prompt format logpt-v1)")
