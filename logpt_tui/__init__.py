"""logpt's terminal front ends: the Typer CLI (`logpt_tui.cli`) and the Textual
explorer (`logpt_tui.explorer`).

This is the only package that knows about terminals. The explorer never
imports `train`; the CLI does only in its train and eval commands, lazily.
"""
