"""Importers that turn foreign checkpoints into logpt bundles without executing code."""
