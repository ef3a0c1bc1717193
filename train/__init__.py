"""Training and evaluation: language-model training loops and metrics.

Imports `engine` only; only the CLI imports `train`, lazily, inside commands.
"""
