"""`python -m logpt_tui` runs the `logpt` CLI."""

from logpt_tui.cli import main

main()
