"""logpt's headless core, in four packages that depend on each other one way:

- `engine.lm`: a GPT-2-family language model and nothing about logs: config,
  model, KV cache, sampling, generation over token ids, tokenizer, devices,
  int8, bundles and their importers.
- `engine.logs`: log text without torch: reading and indexing files, formats
  and records, line filters, the shared id/address patterns, template mining,
  sessions.
- `engine.detect`: the next-key anomaly detector (vocabulary, top-K scoring,
  bundle, self-training) and the one detection pipeline every front end calls.
- `engine.analysis`: analysing a chunk: queries, prompts, chunking, the
  digest, the knowledge base, the deterministic analyst, grounding, the fact
  guard, and `run` (model or analyst → a streamed reply).

It imports no UI library (no Textual, Typer or Rich) and nothing from `train`
or `logpt_tui`; import-linter contracts in pyproject.toml and
tests/test_architecture.py check that.
"""

__version__ = "0.1.0"
