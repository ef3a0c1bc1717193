"""Log text: reading, indexing and following files, formats and records, line
filters, the shared id/address patterns, template mining and sessions.

Pure Python with drain3: no torch (an import-linter contract), so the explorer
can open a file before any model loads.
"""
