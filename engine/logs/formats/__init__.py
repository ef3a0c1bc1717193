"""Log formats: detect a file's format from a sample and split lines into records.

Records carry timestamp, level, component, pid and message. Formats are
regexes with named groups (built-in, or user TOML files) plus JSON lines;
`load_formats` is the one list every caller chooses from (user formats first),
`detect_format` picks from it and `choose_format` honours `--format NAME`.
"""

from engine.logs.formats.detect import GENERIC, Detection, choose_format, detect_format, parse_lines
from engine.logs.formats.load import all_formats, load_formats
from engine.logs.formats.record import LEVELS, Record, level_of
from engine.logs.formats.spec import LogFormat

__all__ = [
    "GENERIC",
    "LEVELS",
    "Detection",
    "LogFormat",
    "Record",
    "all_formats",
    "choose_format",
    "detect_format",
    "level_of",
    "load_formats",
    "parse_lines",
]
