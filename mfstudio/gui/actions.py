"""Commands as QActions: the one factory that makes them, and the list of their shortcuts.

Every menu command and every grid command is made by :func:`make_action`, so keys,
tips and names follow one rule; :func:`shortcut_rows` reads the keys back from the
menus themselves for Help ▸ Keyboard shortcuts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QMenuBar

StandardKey = QKeySequence.StandardKey
# Where the platform has no keys for a standard command (Quit on Windows, a bare offscreen theme): the usual ones.
FALLBACK_KEYS = {StandardKey.New: "Ctrl+N", StandardKey.Open: "Ctrl+O", StandardKey.Save: "Ctrl+S",
                 StandardKey.SaveAs: "Ctrl+Shift+S", StandardKey.Quit: "Ctrl+Q"}

Keys = QKeySequence | StandardKey | str | Sequence[Any] | None


def key_sequences(keys: Keys) -> list[QKeySequence]:
    """``keys`` as a list of key sequences: a standard key (the platform's bindings), a string, or a list of either."""
    if keys is None:
        return []
    if isinstance(keys, StandardKey):
        bound = QKeySequence.keyBindings(keys)
        return list(bound) or [QKeySequence(FALLBACK_KEYS.get(keys, ""))]
    if isinstance(keys, (str, QKeySequence)):
        return [QKeySequence(keys)]
    out: list[QKeySequence] = []
    for k in keys:
        out.extend(key_sequences(k))
    return out


def make_action(parent: QObject, text: str, slot: Callable[..., Any] | None = None, keys: Keys = None, *,
                tip: str = "", name: str = "", checkable: bool = False,
                context: Qt.ShortcutContext | None = None, menu: QMenu | None = None) -> QAction:
    """A QAction with its keys, tip (status bar and tooltip) and object name; added to ``menu`` when given."""
    a = QAction(text, parent)
    shortcuts = key_sequences(keys)
    if shortcuts:
        a.setShortcuts(shortcuts)
        if context is not None:
            a.setShortcutContext(context)
    if tip:
        a.setStatusTip(tip)
        a.setToolTip(tip)
    if name:
        a.setObjectName(name)
    a.setCheckable(checkable)
    if slot is not None:
        a.triggered.connect(slot)
    if menu is not None:
        menu.addAction(a)
    return a


def _plain(text: str) -> str:
    """A menu text without its mnemonic marks ("&&" stays a literal "&")."""
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&")


def shortcut_rows(menu_bar: QMenuBar) -> list[tuple[str, str, str]]:
    """(menu, command, keys) for every menu command that has keys, in menu order."""
    rows: list[tuple[str, str, str]] = []

    def walk(menu: QMenu, path: str) -> None:
        for a in menu.actions():
            if a.menu() is not None:
                walk(a.menu(), f"{path} ▸ {_plain(a.menu().title())}")
            elif not a.isSeparator() and a.shortcuts():
                keys = ", ".join(k.toString(QKeySequence.SequenceFormat.NativeText) for k in a.shortcuts())
                rows.append((path, _plain(a.text()), keys))

    for top in menu_bar.actions():
        if top.menu() is not None:
            walk(top.menu(), _plain(top.menu().title()))
    return rows


# Keys that belong to no menu command, listed beside the menus' own in Help ▸ Keyboard shortcuts.
EXTRA_SHORTCUTS = [
    ("Rating grid", "Move down / up after typing", "Enter, Shift+Enter"),
    ("Rating grid", "Next / previous cell; leaves the grid at its last / first cell", "Tab, Shift+Tab"),
    ("Rating grid", "Leave the grid", "Ctrl+Tab, Ctrl+Shift+Tab"),
    ("Rating grid", "Rename a user or item", "double-click its header"),
    ("Everywhere", "Open a menu", "Alt + the underlined letter"),
]
