"""logpt's inference engine: the GPT-2 model, KV-cache generation, tokenizer,
model bundles and their importers, and the chunker.

It imports no UI library (no Textual, Typer or Rich) and nothing from `train`
or `logpt_tui`; a test and an import-linter contract check that.
"""

__version__ = "0.1.0"
