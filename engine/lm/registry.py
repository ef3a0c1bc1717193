"""Where bundles live and how a `--model` argument finds one.

Search order: a path to a bundle folder; then a name in the user's data
directory (`logpt import` and `logpt train` write there) and in the bundled
`weights/` folder; `$LOGPT_MODELS` (a path list) goes first when set.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import platformdirs

from engine.errors import BundleError
from engine.lm.bundle import CONFIG_FILE, BundleConfig, bundle_json, read_config
from engine.lm.config import GPTConfig

DEFAULT_GENERATOR = "logpt-analyst"  # the default generator bundle's folder name


def user_models_dir() -> Path:
    return Path(platformdirs.user_data_dir("logpt", appauthor=False)) / "models"


def bundled_dir() -> Path | None:
    try:
        return Path(str(resources.files("weights")))
    except ModuleNotFoundError:
        return None


def search_dirs() -> list[Path]:
    dirs = [Path(p) for p in os.environ.get("LOGPT_MODELS", "").split(os.pathsep) if p]
    dirs.append(user_models_dir())
    bundled = bundled_dir()
    if bundled is not None:
        dirs.append(bundled)
    return dirs


@dataclass(frozen=True)
class BundleInfo:
    name: str
    path: Path
    kind: str  # "generator", "detector", or "?" when unreadable
    model: GPTConfig | None
    config: BundleConfig | None  # generators only
    problem: str = ""  # why the bundle cannot be read, if it cannot


def describe_bundle(path: Path) -> BundleInfo:
    try:
        data = bundle_json(path / CONFIG_FILE)
        kind = data.get("kind", "generator") if isinstance(data, dict) else "?"
        if kind == "detector":
            return BundleInfo(path.name, path, kind, GPTConfig.from_dict(dict(data["model"])), None)
        config = read_config(path)
        return BundleInfo(path.name, path, config.kind, config.model, config)
    except BundleError as e:
        return BundleInfo(path.name, path, "?", None, None, e.message)
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as e:
        return BundleInfo(path.name, path, "?", None, None, f"unreadable config.json: {e}")


def list_bundles() -> list[BundleInfo]:
    """Every bundle folder in the search directories, readable or not."""
    found: list[BundleInfo] = []
    for folder in search_dirs():
        if folder.is_dir():
            found.extend(describe_bundle(p) for p in sorted(folder.iterdir()) if (p / CONFIG_FILE).is_file())
    return found


def find_bundle(name_or_path: str | None, *, kind: str = "generator") -> Path:
    """The folder of a bundle given by path or name; the default generator when None."""
    if name_or_path is None:
        default = [b for b in list_bundles() if b.name == DEFAULT_GENERATOR and b.config is not None]
        if not default:
            others = [b.name for b in list_bundles() if b.kind == kind]
            hint = (
                f"pass --model with one of: {', '.join(others)}"
                if others
                else "import one with `logpt import hf DIR NAME` or `logpt import logpt CHECKPOINT NAME --tokenizer GPT2_DIR`"
            )
            raise BundleError(f"no default {kind} model ({DEFAULT_GENERATOR}) is installed", hint)
        return default[0].path
    path = Path(name_or_path).expanduser()
    if path.is_dir():
        return path
    for folder in search_dirs():
        if (folder / name_or_path / CONFIG_FILE).is_file():
            return folder / name_or_path
    raise BundleError(f"no model bundle named {name_or_path!r}", "run `logpt models` to list bundles")


def output_folder(name_or_path: str) -> Path:
    """Where an importer writes: a bare name goes to the user models dir, a path is used as is."""
    if os.sep in name_or_path or name_or_path.startswith("."):
        return Path(name_or_path).expanduser()
    return user_models_dir() / name_or_path
