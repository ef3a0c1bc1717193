"""Hostile text never reaches the terminal as control sequences and is never parsed as markup.

Log lines, session ids, file and format names, bundle names and model output
can carry escape sequences (OSC titles and clipboard writes, cursor moves),
bidi overrides and Rich/Textual markup such as `[/x]`. Every printer of the
CLI and every explorer widget shows them as text.
"""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import pytest

from logpt_tui.explorer.app import LogptApp
from logpt_tui.terminal import visible
from tests.logpt_tui.cli.test_cli import run
from tests.logpt_tui.explorer.test_app import panel_text, settle, status

OSC_TITLE = "\x1b]2;pwned\x07"
OSC_CLIPBOARD = "\x1b]52;c;cm0gLXJmIH4=\x07"
CLEAR = "\x1b[H\x1b[J"
BIDI = "\u202e\u2066"
RAW = ("\x1b", "\x07", "\x9b", "\u202e", "\u2066")


def assert_clean(text: str) -> None:
    assert not any(c in text for c in RAW), repr(text[:400])


def test_visible_shows_every_control_and_format_character() -> None:
    hidden = [chr(c) for c in range(0x110000) if unicodedata.category(chr(c)) in ("Cc", "Cf") and chr(c) not in "\n\t"]
    assert all(visible(c) != c for c in hidden)
    assert visible(f"a{OSC_TITLE}b{BIDI}c\td\n") == "a^[]2;pwned^Gb<U+202E><U+2066>c\td\n"


@pytest.fixture
def hostile_log(tmp_path: Path) -> Path:
    lines = []
    for i in range(40):
        rid = f"{i}{OSC_TITLE if i % 3 == 0 else ''}{OSC_CLIPBOARD if i % 5 == 0 else ''}{BIDI if i % 7 == 0 else ''}"
        for step in ("start", "work [/x] [b]bold", f"done {CLEAR}"):
            lines.append(f"Nov 21 10:00:{i % 60:02d} web-01 app[1]: req={rid} {step}")
    path = tmp_path / "hostile.log"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_detect_prints_session_ids_and_lines_as_text(hostile_log: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        ["detect", str(hostile_log), "--self-train", "--epochs", "2", "--session", r"req=(\S+)"], capsys
    )
    assert code == 0, err
    assert_clean(out + err)
    code, out, err = run(
        ["detect", str(hostile_log), "--self-train", "--epochs", "2", "--session", r"req=(\S+)", "--json"], capsys
    )
    assert code == 0 and all(json.loads(line) for line in out.splitlines())  # JSON escapes them itself
    assert_clean(out)


def test_templates_prints_markup_and_escapes_as_text(hostile_log: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["templates", str(hostile_log)], capsys)
    assert code == 0, err
    assert_clean(out + err)
    assert "[/x]" in out and "^[" in out


@pytest.mark.parametrize(
    "argv",
    [
        ["templates", "/nonexistent/[/x]/a.log"],
        ["detect", "/nonexistent/[/x]\x1b]2;t\x07.log", "--self-train"],
        ["templates", "--format", "[/x]", "FILE"],
        ["detect", "FILE", "--detector", "[/x]bundle"],
        ["analyze", "--engine", "analyst", "-f", "FILE", "--chunk", "99"],
    ],
)
def test_errors_with_markup_or_escapes_are_one_clean_line(
    argv: list[str], hostile_log: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run([str(hostile_log) if a == "FILE" else a for a in argv], capsys)
    assert code == 2 and "Traceback" not in err and err.strip().count("\n") == 0, err
    assert err.startswith("error:")
    assert_clean(err)


def test_models_lists_a_bundle_with_a_hostile_name(models_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (models_dir / "tiny").rename(models_dir / "[b]tiny\x1b]2;t\x07")
    broken = models_dir / "[red]broken"
    broken.mkdir()
    (broken / "config.json").write_text('{"format": "[/x] not a bundle"}')
    code, out, err = run(["models"], capsys)
    assert code == 0, err
    assert "[b]tiny" in out and "[red]broken" in out  # shown, not parsed as markup
    assert_clean(out)


async def test_explorer_shows_hostile_names_templates_and_why(tmp_path: Path, hostile_log: Path) -> None:
    from engine.detect.pipeline import Flag
    from logpt_tui.explorer.messages import FlagsFound

    path = tmp_path / "[b]log[red]\u202e.log"
    path.write_bytes(hostile_log.read_bytes())
    app = LogptApp(path, poll_seconds=60, backend=None, flags=None)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot, app, lambda: "120 lines" in status(app))
        assert "[b]log[red]<U+202E>.log" in status(app)
        await pilot.press("t")  # the templates view: `[/x]` in a template used to raise MarkupError
        await settle(pilot, app, lambda: app.screen.__class__.__name__ == "TemplatesScreen")
        await pilot.pause(0.5)
        await pilot.press("escape")
        tab = app.tab
        template = f"done {CLEAR} {OSC_TITLE} [/x]"
        tab.post_message(FlagsFound([Flag(3, f"req={OSC_CLIPBOARD}", template, "unseen template", (template,))], 120))
        await settle(pilot, app, lambda: len(tab.state.flags.found) == 1)
        tab.show_why(2)
        await pilot.pause(0.2)
        shown = panel_text(app)
        assert "Why line 3 is flagged" in shown and "^[[H^[[J" in shown
        assert_clean(shown)
        assert_clean(app.export_screenshot())


def test_characters_of_terminal_dependent_width_are_shown_unambiguously() -> None:
    """Flags (2 to 4 cells by terminal), decomposed accents (1 or 2) and variation selectors (emoji or text width)
    would push the minimap right on some terminals: shown composed, as `[flag XX]`, or left out."""
    line = "user e\u0301mile from \U0001f1e9\U0001f1ea\U0001f1eb\U0001f1f7 \u263a\ufe0f ok \U0001f1fa"
    shown = visible(line)
    assert shown == "user \u00e9mile from [flag DE][flag FR] \u263a ok [flag U]"
    assert all(unicodedata.combining(c) == 0 for c in shown)


async def test_the_minimap_keeps_its_column_beside_flags_and_accents(tmp_path: Path) -> None:
    path = tmp_path / "emoji.log"
    rows = [f"Dec 07 10:00:{i:02d} host app: {'e' + chr(0x301)}mile \U0001f1e9\U0001f1ea\ufe0f line {i}" for i in range(40)]
    path.write_text("\n".join(rows) + "\n")
    app = LogptApp(path, poll_seconds=60, backend=None, flags=None)
    async with app.run_test(size=(100, 20)) as pilot:
        await settle(pilot, app, lambda: "40 lines" in status(app))
        view = app.tab.query_one("LogView")
        for y in range(view.size.height):
            strip = view.render_line(y)
            text = "".join(segment.text for segment in strip)
            assert not any(0x1F1E6 <= ord(c) <= 0x1F1FF or c == "\ufe0f" for c in text), text
            assert all(unicodedata.combining(c) == 0 for c in text) and ("\u00e9mile [flag DE]" in text or not text.strip())


async def test_tab_labels_show_file_names_as_text(tmp_path: Path, hostile_log: Path) -> None:
    first, second = tmp_path / "[b]one[red]", tmp_path / "two\u202e.log"
    for path in (first, second):
        path.write_bytes(hostile_log.read_bytes())
    app = LogptApp([first, second], poll_seconds=60, backend=None, flags=None)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot, app, lambda: "120 lines" in status(app))
        screen = app.export_screenshot()
        assert "[b]one[red]" in screen and "two&lt;U+202E&gt;.log" in screen
        assert_clean(screen)


@pytest.mark.parametrize("name", [f"nope{OSC_CLIPBOARD}", f"x{OSC_TITLE}", f"y{CLEAR}", f"evil{BIDI}.log"])
def test_explorer_start_up_errors_show_hostile_names_as_text(
    tmp_path: Path, name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from logpt_tui.explorer.app import main

    good = tmp_path / "a.log"
    good.write_text("2026-11-20T10:00:00Z INFO one\n")
    for argv in (["--no-model", "--merge", str(good), str(tmp_path / name)], ["--no-model", str(tmp_path / name / "f")]):
        with pytest.raises(SystemExit) as exit_info:
            main(argv)
        err = capsys.readouterr().err
        assert exit_info.value.code == 2 and err.startswith("error: ") and err.count("\n") == 1
        assert_clean(err)
