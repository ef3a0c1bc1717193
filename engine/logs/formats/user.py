"""User-defined formats from TOML files: a name and a regex with named groups.

    [[format]]
    name = "myapp"
    regex = '^(?P<ts>\\S+ \\S+) (?P<level>\\w+) (?P<component>[\\w.]+): (?P<message>.*)$'
    description = "my application"        # optional
    levels = { W = "WARN", E = "ERROR" }   # optional: level words → TRACE…CRITICAL

Files are read from the user config dir (`formats/*.toml`) and from paths
given on the command line. User formats win detection ties over built-ins.
lnav's JSON format files are read too (`--formats-file F.json`, and those in
lnav's own formats folders): engine.logs.formats.lnav.
"""

from __future__ import annotations

import functools
from pathlib import Path

import platformdirs

from engine.errors import InputError
from engine.logs.formats.record import LEVELS
from engine.logs.formats.spec import LogFormat
from engine.logs.userregex import UserRegex
from engine.sidefiles import read_toml


def user_formats_dir() -> Path:
    return Path(platformdirs.user_config_dir("logpt", appauthor=False)) / "formats"


def lnav_formats_dirs() -> list[Path]:
    """Where lnav keeps its users' formats (`~/.config/lnav/formats/*/` and `~/.lnav/formats/*/`); lnav's own
    shipped copies (`formats/default/`) are left out: logpt has its built-ins, and they would shadow them."""
    home = Path.home()
    roots = [Path(platformdirs.user_config_dir("lnav", appauthor=False)) / "formats", home / ".lnav" / "formats"]
    return [d for root in dict.fromkeys(roots) if root.is_dir() for d in sorted(root.iterdir())
            if d.is_dir() and d.name != "default"]  # fmt: skip


def load_format_file(path: Path) -> list[LogFormat]:
    """A format file: logpt's TOML, or lnav's JSON (`*.json`, engine.logs.formats.lnav)."""
    if path.suffix == ".json":
        from engine.logs.formats.lnav import load_lnav_file  # noqa: PLC0415 - only for lnav's files

        return load_lnav_file(path)
    data = read_toml(path, "format file", "see the format file layout in the README")
    entries = data.get("format", [])
    if not isinstance(entries, list):
        raise InputError(
            f"{path}: `format` must be a list of [[format]] tables", "see the format file layout in the README"
        )
    formats = []
    for i, entry in enumerate(entries):
        where = f"{path} format #{i + 1}"
        if (
            not isinstance(entry, dict)
            or not isinstance(entry.get("name"), str)
            or not isinstance(entry.get("regex"), str)
        ):
            raise InputError(f"{where} needs a name and a regex", "see the format file layout in the README")
        levels = entry.get("levels", {})
        if not isinstance(levels, dict) or not all(isinstance(k, str) for k in levels):
            raise InputError(f'{where}: levels must be a table of words, e.g. {{ W = "WARN" }}', "fix the format file")
        description = entry.get("description", "")
        if not isinstance(description, str):
            raise InputError(f"{where}: description must be text", "fix the format file")
        bad = [v for v in levels.values() if v not in LEVELS]
        if bad:
            raise InputError(f"{where}: unknown levels {bad}", f"use one of {', '.join(LEVELS)}")
        try:
            pattern = UserRegex(entry["regex"], f"regex of format {entry['name']}")
        except InputError as e:
            raise InputError(f"{where}: {e.message}", "fix the regex") from None
        fmt = LogFormat(entry["name"], pattern, description, dict(levels))  # type: ignore[arg-type]
        if "message" not in fmt.pattern.groupindex:
            raise InputError(f"{where}: the regex has no (?P<message>…) group", "name the message part")
        formats.append(fmt)
    return formats


def load_user_formats(extra_files: list[Path] | None = None) -> list[LogFormat]:
    """Formats from `extra_files` and the user config dir. Every detection asks (the digest once a chunk), so
    a file is parsed again only when it changed (its path, size and mtime are the cache key)."""
    folder = user_formats_dir()
    files = sorted(folder.glob("*.toml")) if folder.is_dir() else []
    files += [path for d in lnav_formats_dirs() for path in sorted(d.glob("*.json"))]
    formats: list[LogFormat] = []
    for path in [*(extra_files or []), *files]:
        try:
            st = path.stat()
        except OSError:
            formats.extend(load_format_file(path))  # the one-line error for an unreadable file
            continue
        formats.extend(_load_cached(str(path), st.st_size, st.st_mtime_ns))
    return formats


@functools.lru_cache(maxsize=64)
def _load_cached(path: str, _size: int, _mtime_ns: int) -> tuple[LogFormat, ...]:
    return tuple(load_format_file(Path(path)))
