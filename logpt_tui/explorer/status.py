"""The status bar's line fitted to its width: parts carry a priority and may have a short form.

A terminal 100 columns wide cannot hold a file name, the line count, the time span on screen, the chunk,
the detector's state and the model all at once. Rather than cutting the end (where the model's state is),
`fit` first shortens, then drops, the least important parts: level 3 (the format), then 2 (the time span,
wrap), then 1 (flags, model, chunk, filters, search); level 0 (name, lines, progress, following) stays.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

SEPARATOR = " · "


@dataclass(frozen=True)  # a status bar's field (widgets/status_bar.py): compared by value, never changed in place
class Part:
    text: str
    level: int = 1  # 0: always shown; higher: given up sooner
    short: str = ""  # a shorter form tried before the part is dropped


def fit(parts: list[Part], width: int) -> str:
    """The parts joined, shortened and thinned until they fit `width` columns (then cut with `…`); `parts` stay
    as they are (the bar keeps them)."""
    shown = [p for p in parts if p.text]

    def line() -> str:
        return SEPARATOR.join(p.text for p in shown)

    for level in (3, 2, 1):
        if len(line()) <= width:
            break
        shown = [replace(p, text=p.short) if p.level == level and p.short else p for p in shown]
        for part in reversed([p for p in shown if p.level == level]):
            if len(line()) <= width:
                break
            shown.remove(part)
    text = line()
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"
