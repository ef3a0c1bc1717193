"""The names of the bundled detection models, without importing them (or torch): the explorer's flag
engine and the CLI's options name them before any model loads."""

DEFAULT_LINE_MODEL = "logpt-lines"  # engine.detect.unusual: unusual-text evidence
DEFAULT_SEQUENCE_MODEL = "logpt-sequence"  # engine.detect.textseq: sequence evidence where history is short
