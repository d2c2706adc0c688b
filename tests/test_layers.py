"""The import boundaries, checked on every module's source: data flows core -> io -> cli/gui, never back.

- ``mfstudio.core`` imports no Qt, no matplotlib, nothing from io, gui or cli;
- ``mfstudio.io`` imports no Qt, no matplotlib, nothing from gui or cli;
- ``mfstudio.figures`` (matplotlib figures the command line and the window share) imports no Qt, nothing from gui
  or cli;
- ``mfstudio.engines`` (Spark's ALS) imports no Qt, no matplotlib, nothing from io, gui or cli;
- nothing outside ``mfstudio.gui`` imports ``mfstudio.gui`` (the command line starts the window lazily, in one place).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import mfstudio

PACKAGE = Path(mfstudio.__file__).parent
GUI_ONLY = ("PySide6", "shiboken6", "matplotlib")
RULES = {
    "core": GUI_ONLY + ("mfstudio.io", "mfstudio.gui", "mfstudio.cli"),
    "io": GUI_ONLY + ("mfstudio.gui", "mfstudio.cli"),
    "figures": ("PySide6", "shiboken6", "mfstudio.gui", "mfstudio.cli"),
    "engines": GUI_ONLY + ("mfstudio.io", "mfstudio.gui", "mfstudio.cli"),
}
# The one place outside gui that may reach it: ``mfstudio`` with no sub-command opens the window.
GUI_LAUNCHERS = {"cli/__init__.py", "__main__.py"}


def imports(path: Path, source: str | None = None) -> list[tuple[int, str]]:
    """Every module ``path`` (inside the package) imports, relative imports resolved, with its line."""
    text = path.read_text(encoding="utf-8") if source is None else source
    tree = ast.parse(text, str(path))
    parts = ("mfstudio", *path.relative_to(PACKAGE).with_suffix("").parts)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = list(parts[: len(parts) - node.level])
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            found.append((node.lineno, name))
            found += [(node.lineno, f"{name}.{alias.name}") for alias in node.names]
    return found


def _matches(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def modules(wing: str) -> list[Path]:
    return sorted((PACKAGE / wing).rglob("*.py"))


@pytest.mark.parametrize("wing", sorted(RULES))
def test_a_wing_imports_only_what_it_may(wing: str) -> None:
    bad = [f"{p.relative_to(PACKAGE)}:{line} imports {name}"
           for p in modules(wing) for line, name in imports(p)
           if any(_matches(name, banned) for banned in RULES[wing])]
    assert bad == []


def test_only_the_launchers_reach_into_the_gui() -> None:
    bad = []
    for p in sorted(PACKAGE.rglob("*.py")):
        rel = p.relative_to(PACKAGE)
        if rel.parts[0] == "gui" or str(rel) in GUI_LAUNCHERS:
            continue
        bad += [f"{rel}:{line} imports {name}" for line, name in imports(p) if _matches(name, "mfstudio.gui")]
    assert bad == []


def test_the_checker_sees_a_forbidden_import() -> None:
    """The rule can fail: an import of Qt, written any of the ways Python allows, is found."""
    source = "import os\nfrom PySide6 import QtCore\nfrom ..gui import window\nimport matplotlib.pyplot\n"
    names = [name for _, name in imports(PACKAGE / "core" / "probe.py", source)]
    assert any(_matches(n, "PySide6") for n in names)
    assert any(_matches(n, "mfstudio.gui") for n in names)
    assert any(_matches(n, "matplotlib") for n in names)


# -- sizes: a file past these is a sign that something wants its own module ------------------------------------
MAX_LINES = 700
WINDOW_MAX_LINES = 400


def test_no_module_is_over_700_lines_and_the_window_under_400() -> None:
    sizes = {str(p.relative_to(PACKAGE)): len(p.read_text(encoding="utf-8").splitlines())
             for p in sorted(PACKAGE.rglob("*.py"))}
    assert {name: n for name, n in sizes.items() if n > MAX_LINES} == {}
    assert sizes[str(Path("gui") / "window.py")] < WINDOW_MAX_LINES
