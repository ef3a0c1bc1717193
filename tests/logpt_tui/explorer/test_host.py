"""The tab's mixins use only what they declare or what `TabHost` names, and a running tab has all of it."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

from logpt_tui.explorer import host
from logpt_tui.explorer.app import LogptApp
from logpt_tui.explorer.tab import LogTab

MIXINS = ["tab_chunks", "tab_flags", "tab_marks", "tab_record", "tab_search", "tab_templates", "tab_time"]
EXPLORER = Path(host.__file__).parent


def declared_in_host() -> set[str]:
    tree = ast.parse(inspect.getsource(host.TabHost))
    body = tree.body[0].body  # type: ignore[attr-defined]
    names = {n.name for n in body if isinstance(n, ast.FunctionDef)}
    return names | {n.target.id for n in body if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name)}


def own_members(cls: ast.ClassDef) -> set[str]:
    own = {n.name for n in cls.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    own |= {n.target.id for n in cls.body if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name)}
    own |= {t.id for n in cls.body if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name)}
    return own | {
        n.attr for n in ast.walk(cls)
        if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == "self"
        and isinstance(n.ctx, ast.Store)
    }  # fmt: skip


def borrowed(cls: ast.ClassDef) -> set[str]:
    """Members of `self` a mixin reads without declaring or assigning them."""
    own = own_members(cls)
    return {
        n.attr for n in ast.walk(cls)
        if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == "self" and n.attr not in own
    }  # fmt: skip


@pytest.mark.parametrize("module", MIXINS)
def test_a_mixin_uses_only_its_own_members_and_the_host_s(module: str) -> None:
    tree = ast.parse((EXPLORER / f"{module}.py").read_text(encoding="utf-8"))
    classes = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name.endswith("Mixin")]
    assert classes, f"{module} has no mixin"
    for cls in classes:
        assert not borrowed(cls) - declared_in_host(), f"{cls.name} uses members TabHost does not name"


def test_the_check_catches_an_undeclared_member() -> None:
    cls = ast.parse("class XMixin:\n    def f(self):\n        return self.view, self.secret_field\n").body[0]
    assert borrowed(cls) - declared_in_host() == {"secret_field"}  # type: ignore[arg-type]


async def test_a_running_tab_has_every_member_the_host_names(sample_log: Path) -> None:
    app = LogptApp([sample_log], backend=None, flags=None)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        tab = app.query_one(LogTab)
        missing = [name for name in sorted(declared_in_host()) if not hasattr(tab, name)]
        assert not missing
