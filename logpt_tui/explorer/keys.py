"""The explorer's keys, declared once: bindings, footer, help screen and command palette come from here.

Each `KeyAction` binds one key to one action of the tab, the app or the file view (the cursor keys) and
says how it is shown: its footer label (when shown), its row on the help
screen, and its command palette entry (when it has one). A help row may be
shared by consecutive actions (`g` / `G`): the later ones leave `help`
empty. Tests check that every action named here exists and that help,
footer and palette agree.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.binding import Binding


@dataclass(frozen=True)
class KeyAction:
    key: str  # Textual key name
    action: str  # the action run on the tab (scope "tab") or the app (scope "app")
    label: str  # the footer and binding description
    help: str = ""  # the help screen's row; "" continues the previous action's row
    footer: bool = False  # shown in the footer
    palette: str = ""  # command palette title; "" keeps it out of the palette
    palette_help: str = ""
    scope: str = "tab"  # tab, app, or view: the file view's own (the cursor), before its scroll keys
    bind: bool = True  # False: Textual binds it already (shown in help only)


KEYS: tuple[KeyAction, ...] = (
    KeyAction("down", "cursor(1)", "Down", "move the cursor (the highlighted line that keys act on); a click too",
              scope="view"),
    KeyAction("up", "cursor(-1)", "Up", scope="view"),
    KeyAction("j", "cursor(1)", "Down", scope="view"),
    KeyAction("k", "cursor(-1)", "Up", scope="view"),
    KeyAction("pagedown", "page(1)", "Page down", "a page down / up, with the cursor", scope="view"),
    KeyAction("pageup", "page(-1)", "Page up", scope="view"),
    KeyAction("f", "toggle_follow", "Follow", "follow the end of the file on / off", footer=True,
              palette="Follow on / off", palette_help="Follow the end of the file, or stop"),
    KeyAction("W", "toggle_wrap", "Wrap", "wrap long lines on / off",
              palette="Wrap long lines on / off", palette_help="Fold long lines instead of scrolling sideways"),
    KeyAction("g", "top", "Top", "top / bottom: the cursor to the first / last line", footer=True),
    KeyAction("G", "bottom", "Bottom", footer=True),
    KeyAction("slash", "search", "Search", "search by regular expression", footer=True,
              palette="Search", palette_help="Search by regular expression"),
    KeyAction("n", "next", "Next", "next match; next chunk when not searching"),
    KeyAction("C", "toggle_case", "Case", "search ignores case / is case-sensitive",
              palette="Search case on / off", palette_help="Search ignoring case, or case-sensitive"),
    KeyAction("N", "search_previous", "Previous match", "previous match (Esc stops a running search, then ends it)"),
    KeyAction("colon", "goto", "Go to", "go to a line number or a time (10:02, 2026-11-20T10:02, -15m, +1h)",
              palette="Go to line or time",
              palette_help="Jump to a line number, or to the first line at or after a time"),
    KeyAction("T", "time_axis", "Time axis", "minimap by time / by lines",
              palette="Minimap time axis on / off",
              palette_help="Minimap rows stand for equal stretches of time instead of lines"),
    KeyAction("i", "include", "Include", "include / exclude lines by regex",
              palette="Include lines matching…", palette_help="Show only lines matching a regex"),
    KeyAction("x", "exclude", "Exclude",
              palette="Exclude lines matching…", palette_help="Hide lines matching a regex"),
    KeyAction("L", "level", "Min level", "minimum level: WARN, ERROR, CRITICAL, all",
              palette="Minimum level", palette_help="Cycle the minimum level shown: WARN, ERROR, CRITICAL, all"),
    KeyAction("e", "flag(1)", "Next flag", "next / previous flagged line (red mark)", footer=True,
              palette="Next flagged line", palette_help="Jump to the next line the detector flagged"),
    KeyAction("E", "flag(-1)", "Prev flag",
              palette="Previous flagged line", palette_help="Jump to the previous flagged line"),
    KeyAction("F", "flagged_only", "Flagged only", "flagged lines only on / off",
              palette="Flagged lines only on / off", palette_help="Show only the lines the detector flagged"),
    KeyAction("y", "why", "Why", "why is this line flagged",
              palette="Why is this line flagged",
              palette_help="The template, rank and expected templates of the current line"),
    KeyAction("v", "record", "Record", "the current record whole: JSON / logfmt fields, a stack trace's lines",
              palette="Show the record", palette_help="The record under the cursor in the side panel, with its fields"),
    KeyAction("o", "source_lines", "Source", "a stream row's lines in its source file (a followed stream, its flags or incidents)",
              palette="Source lines of this stream row",
              palette_help="The row's line in the file it was shipped from, with the lines around it"),
    KeyAction("t", "templates", "Templates", "templates: pick one to see only its lines", footer=True,
              palette="Templates", palette_help="Counts per template; pick one to see only its lines"),
    KeyAction("right_square_bracket", "chunk(1)", "Next chunk", "next / previous chunk", footer=True,
              palette="Next chunk", palette_help="Move to the next chunk"),
    KeyAction("left_square_bracket", "chunk(-1)", "Prev chunk", footer=True,
              palette="Previous chunk", palette_help="Move to the previous chunk"),
    KeyAction("p", "chunk(-1)", "Prev chunk", "previous chunk"),
    KeyAction("s", "analyze('summary')", "Summary", "summary / root cause / action items of the chunk",
              footer=True, palette="Summary of this chunk",
              palette_help="Stream a summary of the current chunk into the side panel"),
    KeyAction("r", "analyze('root_cause')", "Root cause", footer=True, palette="Root cause of this chunk",
              palette_help="Stream a root-cause analysis of the current chunk"),
    KeyAction("a", "analyze('action_items')", "Actions", footer=True, palette="Action items for this chunk",
              palette_help="Stream action items for the current chunk"),
    KeyAction("O", "timeline", "Timeline", "incident timeline of the whole file (the analyst reads every line)",
              palette="Incident timeline of the whole file",
              palette_help="When it started, the likely cause, what followed, what stopped and what goes on"),
    KeyAction("A", "switch_engine", "Analyst/model", "replies from the analyst (model-free) or the model",
              palette="Switch analyst / model",
              palette_help="Replies from the model-free analyst instead of the model, or back"),
    KeyAction("m", "mark", "Mark", "mark / unmark the current line (marks are kept per file)",
              palette="Mark the current line", palette_help="Mark or unmark the highlighted line"),
    KeyAction("apostrophe", "next_mark(1)", "Next mark", "next / previous mark",
              palette="Next mark", palette_help="Jump to the next marked line"),
    KeyAction("grave_accent", "next_mark(-1)", "Previous mark",
              palette="Previous mark", palette_help="Jump to the previous marked line"),
    KeyAction("M", "analyze_marked", "Analyse marks", "root cause of the marked range, by the analyst",
              palette="Root cause of the marked range",
              palette_help="The analyst reads every line from the first mark to the last"),
    KeyAction("X", "export('shown')", "Export", "export the lines shown (filtered, flagged, a template, or all)",
              palette="Export the lines shown", palette_help="Write the lines shown to a file (.json: JSON lines)"),
    KeyAction("ctrl+x", "export('marked')", "Export marks", "export the marked range",
              palette="Export the marked range", palette_help="Write the lines from the first mark to the last"),
    KeyAction("escape", "cancel", "Cancel", "close the prompt, stop the reply or close the panel"),
    KeyAction("c", "copy_panel", "Copy", "copy / save the reply as Markdown",
              palette="Copy the reply", palette_help="Copy the reply in the side panel as Markdown"),
    KeyAction("w", "save_panel", "Save",
              palette="Save the reply", palette_help="Save the reply in the side panel as a Markdown file"),
    KeyAction("tab", "app.switch_file(1)", "Next file", "next / previous file, when several"),
    KeyAction("shift+tab", "app.switch_file(-1)", "Prev file"),
    KeyAction("ctrl+p", "command_palette", "Palette", "command palette (actions, themes)", scope="app", bind=False),
    KeyAction("question_mark", "help", "Keys", "this help", footer=True, scope="app"),
    KeyAction("q", "quit", "Quit", "quit", footer=True, scope="app"),
)  # fmt: skip

# How key names read on the help screen.
KEY_NAMES = {
    "slash": "/", "colon": ":", "question_mark": "?", "escape": "Esc", "tab": "Tab", "shift+tab": "Shift+Tab",
    "right_square_bracket": "]", "left_square_bracket": "[", "ctrl+p": "Ctrl+P", "apostrophe": "'",
    "grave_accent": "`", "ctrl+x": "Ctrl+X", "down": "↓", "up": "↑", "pagedown": "PgDn", "pageup": "PgUp",
}  # fmt: skip


def bindings(scope: str) -> list[Binding]:
    """The Textual bindings of the tab, the app or the file view."""
    return [Binding(k.key, k.action, k.label, show=k.footer) for k in KEYS if k.scope == scope and k.bind]


def palette_commands() -> list[KeyAction]:
    """The tab actions in the command palette, in table order."""
    return [k for k in KEYS if k.palette]


def help_rows() -> list[tuple[str, str]]:
    """(keys as they read, what they do): one row per help text, its continuations joined with ' / '."""
    rows: list[tuple[list[str], str]] = []
    for k in KEYS:
        name = KEY_NAMES.get(k.key, k.key)
        if k.help or not rows:
            rows.append(([name], k.help))
        else:
            rows[-1][0].append(name)
    return [(" / ".join(keys), text) for keys, text in rows]


def help_text(intro: str, outro: str) -> Text:
    """The help screen's text, built as styled spans (no markup is parsed, so brackets show as they are)."""
    rows = help_rows()
    width = max(len(keys) for keys, _ in rows) + 2
    text = Text(intro + "\n\n", style="bold")
    for keys, what in rows:
        text.append("  ")
        text.append(keys.ljust(width), style="bold")
        text.append(what + "\n")
    text.append("\n" + outro)
    return text
