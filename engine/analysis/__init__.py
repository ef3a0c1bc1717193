"""Analysing a chunk of log: the query kinds, prompt formats, chunking and the
chunk plan, the digest of facts, the knowledge base of failure signatures, the
deterministic analyst, grounding, the fact guard, and `run`, which turns a
chunk into a streamed reply from a model or the analyst.
"""
