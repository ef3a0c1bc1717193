"""Prompt formats: how a log chunk and a query become a token sequence.

Control tokens enter by id, log text is encoded as plain text, so a log that
contains `<|log_end|>` cannot break out of its section. `logpt-v1` is LoGPT's
format; `logpt-digest` is LoGPT's format with the chunk's digest (engine.analysis.digest)
between the log and the query, for the bundled models: a small model copies
facts instead of counting. The digest is held to `DIGEST_TOKENS` (its last
lines are dropped when over), which chunk sizing reserves. `plain` is a text
prompt for base language models that know no control tokens (an imported
GPT-2). A bundle names its format; this module is where the names have meaning: it
checks the name before any weights load (`load_generator`) and says which token ends
a reply (`reply_stop_ids`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from engine.analysis.queries import check_query, get_query
from engine.errors import BundleError
from engine.lm.bundle import LoadedBundle, load_bundle, read_config
from engine.lm.tokenizer import Tokenizer

if TYPE_CHECKING:
    from engine.lm.devices import Placement

DIGEST_TOKENS = 320  # room kept for the digest in logpt-digest prompts
PROMPT_FORMATS = ("logpt-v1", "logpt-digest", "plain")  # the formats this version can build
RESPONSE_END = "<|response_end|>"  # the LoGPT control token that ends a reply


@dataclass(frozen=True)
class Special:
    """A control token, written by name."""

    name: str


Piece = str | Special


def logpt_v1(log: str, query: str, facts: str | None = None) -> list[Piece]:
    """`<|log_start|>\\n{log}\\n<|log_end|>\\n[{facts}\\n]<|query_start|>\\n{query}\\n<|query_end|>\\n<|response_start|>\\n`."""
    return [
        Special("<|log_start|>"), f"\n{log}\n",
        Special("<|log_end|>"), "\n" if facts is None else f"\n{facts}\n",
        Special("<|query_start|>"), f"\n{check_query(query)}\n",
        Special("<|query_end|>"), "\n",
        Special("<|response_start|>"), "\n",
    ]  # fmt: skip


@dataclass(frozen=True)
class PromptFormat:
    name: str
    stop_token: str | None  # the control token that ends a reply

    @property
    def uses_digest(self) -> bool:
        return self.name == "logpt-digest"

    def pieces(self, log: str, query: str, facts: str | None = None) -> list[Piece]:
        if self.name == "logpt-v1":
            return logpt_v1(log, query)
        if self.name == "logpt-digest":
            return logpt_v1(log, query, facts or "")
        return [f"The following is a system log.\n\n{log}\n\n{get_query(query).plain_request}\n"]

    def encode(self, tokenizer: Tokenizer, log: str, query: str, facts: str | None = None) -> list[int]:
        """The prompt's token ids; `facts` (a rendered digest) is used by logpt-digest only."""
        if self.uses_digest and facts:
            facts = fit_facts(tokenizer, facts)
        ids: list[int] = []
        for piece in self.pieces(log, query, facts):
            ids.extend([tokenizer.special(piece.name)] if isinstance(piece, Special) else tokenizer.encode(piece))
        return ids

    def overhead(self, tokenizer: Tokenizer, query: str) -> int:
        """Tokens the format adds around an empty log, the digest's reserved room included."""
        return len(self.encode(tokenizer, "", query)) + (DIGEST_TOKENS if self.uses_digest else 0)


def fit_facts(tokenizer: Tokenizer, facts: str, limit: int = DIGEST_TOKENS) -> str:
    """`facts` without the last lines that do not fit `limit` tokens."""
    lines = facts.split("\n")
    while len(lines) > 1 and tokenizer.count("\n".join(lines)) > limit:
        lines.pop()
    return "\n".join(lines)


def prompt_format(name: str) -> PromptFormat:
    if name in ("logpt-v1", "logpt-digest"):
        return PromptFormat(name, RESPONSE_END)
    if name == "plain":
        return PromptFormat(name, None)  # ends at the end-of-text token
    raise BundleError(f"unknown prompt format {name!r}", f"this version knows {', '.join(PROMPT_FORMATS)}")


def bundle_prompt(bundle: LoadedBundle) -> PromptFormat:
    """The prompt format a loaded bundle was trained with."""
    return prompt_format(bundle.config.prompt_format)


def reply_stop_ids(bundle: LoadedBundle) -> list[int]:
    """The token ids that end a reply: the prompt format's end, the bundle's own stop tokens, end of text."""
    end = bundle_prompt(bundle).stop_token
    return bundle.stop_ids(also=(end,) if end else ())


def load_generator(folder: Path, where: Placement, *, quantize: str | None = None) -> LoadedBundle:
    """A bundle loaded for analysis or generation; a prompt format this version cannot build is refused
    before any weights are read (the error names the config)."""
    config = read_config(folder)
    name = config.prompt_format
    if name not in PROMPT_FORMATS:
        raise BundleError(
            f"{folder / 'config.json'}: unknown prompt format {name!r}",
            f"this version knows {', '.join(PROMPT_FORMATS)}",
        )
    return load_bundle(folder, where, quantize=quantize, config=config)
