"""The recent-files list (newest first, at most 8, no duplicates, missing files dropped) and its menu."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu

from mfstudio.gui.actions import make_action
from mfstudio.gui.settings import Settings

MAX_RECENT = 8


def _key(path: str) -> str:
    """Comparison key: absolute, normalised, case-folded where the OS ignores case."""
    return os.path.normcase(os.path.abspath(path))


def add_recent(files: Sequence[str], path: str | os.PathLike[str], max_count: int = MAX_RECENT) -> list[str]:
    """``files`` with ``path`` moved (or added) to the front, de-duplicated and cut to ``max_count``."""
    new = os.path.abspath(os.fspath(path))
    out = [new]
    seen = {_key(new)}
    for f in files:
        k = _key(f)
        if k not in seen:
            seen.add(k)
            out.append(f)
    return out[:max_count]


def existing_only(files: Sequence[str]) -> list[str]:
    """The files (and MovieLens folders) that still exist, order kept."""
    return [f for f in files if os.path.isfile(f) or os.path.isdir(f)]


def fill_menu(menu: QMenu, files: Sequence[str], clear_action: QAction | None = None) -> list[QAction]:
    """Replace ``menu``'s actions with one per file ("&1 name", full path as tip and data).

    With no files the menu shows one disabled "No recent files" entry; otherwise
    ``clear_action`` (if given) follows a separator.  Connect ``menu.triggered``
    once and read ``action.data()`` for the path.
    """
    menu.clear()
    actions = []
    if not files:
        empty = menu.addAction("No recent files")
        empty.setEnabled(False)
        return actions
    for n, f in enumerate(files, start=1):
        name = Path(f).name.replace("&", "&&")
        a = menu.addAction(f"&{n} {name}" if n < 10 else name)
        a.setData(f)
        a.setToolTip(f)
        a.setStatusTip(f)
        actions.append(a)
    if clear_action is not None:
        menu.addSeparator()
        menu.addAction(clear_action)
    return actions


class RecentFiles(QObject):
    """The recent-files list kept in Settings; ``attach_menu`` keeps a QMenu filled."""

    changed = Signal()
    openRequested = Signal(str)  # the user picked a file in the menu

    def __init__(self, settings: Settings, max_count: int = MAX_RECENT, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.max_count = max_count
        self.action_clear = make_action(self, "&Clear recent files", self.clear,
                                        tip="Forget the list of recently opened files.")

    def files(self) -> list[str]:
        """Recent files that still exist, newest first (missing ones are dropped from storage too)."""
        stored = self.settings.recent_files()
        kept = existing_only(stored)[: self.max_count]
        if kept != stored:
            self.settings.set_recent_files(kept)
        return kept

    def add(self, path: str | os.PathLike[str]) -> None:
        """Put ``path`` at the top of the list."""
        self.settings.set_recent_files(add_recent(self.files(), path, self.max_count))
        self.changed.emit()

    def remove(self, path: str | os.PathLike[str]) -> None:
        """Drop ``path`` (say, after it failed to open)."""
        k = _key(os.fspath(path))
        self.settings.set_recent_files([f for f in self.settings.recent_files() if _key(f) != k])
        self.changed.emit()

    @Slot()
    def clear(self) -> None:
        """Forget all recent files."""
        self.settings.set_recent_files([])
        self.changed.emit()

    def attach_menu(self, menu: QMenu) -> None:
        """Fill ``menu`` now and each time it opens; picking an entry emits ``openRequested``."""
        menu.aboutToShow.connect(self._refill_sender)
        menu.triggered.connect(self._on_triggered)
        fill_menu(menu, self.files(), self.action_clear)

    @Slot()
    def _refill_sender(self) -> None:
        menu = self.sender()
        if isinstance(menu, QMenu):
            fill_menu(menu, self.files(), self.action_clear)

    @Slot(QAction)
    def _on_triggered(self, action: QAction) -> None:
        path = action.data()
        if isinstance(path, str) and path:
            self.openRequested.emit(path)
