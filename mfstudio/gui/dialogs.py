"""Small dialogs of the window: the size of a new grid, and the list of keyboard shortcuts."""

from __future__ import annotations

import html
from collections.abc import Sequence

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QMessageBox,
    QSpinBox,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from mfstudio.core import memory
from mfstudio.core.errors import DataError

DEFAULT_NEW_SIZE = (4, 4)
MAX_SIDE = 10_000_000  # users (or items) the boxes go up to; the real limit is memory (memory.check_grid)


class NewGridDialog(QDialog):
    """Asks how many users and items a new, empty grid gets."""

    def __init__(self, parent: QWidget | None = None, size: tuple[int, int] = DEFAULT_NEW_SIZE) -> None:
        super().__init__(parent)
        self.setObjectName("newGridDialog")
        self.setWindowTitle("New rating grid")
        self.users = QSpinBox()
        self.users.setObjectName("newUsers")
        self.users.setAccessibleName("Number of users")
        self.items = QSpinBox()
        self.items.setObjectName("newItems")
        self.items.setAccessibleName("Number of items")
        for box, value in ((self.users, size[0]), (self.items, size[1])):
            box.setRange(1, MAX_SIDE)
            box.setValue(int(value))
            box.setGroupSeparatorShown(True)
        form = QFormLayout()
        form.addRow("&Users (rows):", self.users)
        form.addRow("&Items (columns):", self.items)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(QLabel("An empty grid; type ratings into it or paste them from a spreadsheet."))
        lay.addLayout(form)
        lay.addWidget(self.note)
        lay.addWidget(self.buttons)
        self.users.valueChanged.connect(self._check)
        self.items.valueChanged.connect(self._check)
        self._check()

    def size_chosen(self) -> tuple[int, int]:
        """(users, items) as set in the dialog."""
        return int(self.users.value()), int(self.items.value())

    def _check(self) -> None:
        n, m = self.size_chosen()
        try:  # a grid is limited by memory, never by users x items: an empty one is its labels
            memory.check_grid(n, m, 0)
            ok, note = True, ""
        except DataError as exc:
            ok, note = False, f"{exc} Choose fewer."
        self.note.setText(note)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(ok)


def ask_new_grid_size(parent: QWidget | None, size: tuple[int, int] = DEFAULT_NEW_SIZE) -> tuple[int, int] | None:
    """Show :class:`NewGridDialog`; the chosen (users, items), or None when cancelled."""
    dialog = NewGridDialog(parent, size)
    try:
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return None
        return dialog.size_chosen()
    finally:
        dialog.deleteLater()


def shortcuts_html(rows: Sequence[tuple[str, str, str]]) -> str:
    """An HTML table of (menu, action, keys) rows for the shortcuts dialog."""
    out = ["<table cellspacing='0' cellpadding='3'>"]
    last_menu = None
    for menu, action, keys in rows:
        if menu != last_menu:
            out.append(f"<tr><td colspan='2'><b>{html.escape(menu)}</b></td></tr>")
            last_menu = menu
        out.append(f"<tr><td>{html.escape(action)}</td><td><tt>{html.escape(keys)}</tt></td></tr>")
    out.append("</table>")
    return "".join(out)


class TextDialog(QDialog):
    """A page of rich text that scrolls (help that is longer than a small screen is tall), with Close."""

    def __init__(self, parent: QWidget | None, title: str, html: str, name: str = "textDialog") -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.setWindowTitle(title)
        self.text = QTextBrowser()
        self.text.setObjectName(name.removesuffix("Dialog") + "Text")
        self.text.setAccessibleName(title)
        self.text.setHtml(html)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(self.text)
        lay.addWidget(buttons)
        self.resize(480, 520)


class ShortcutsDialog(TextDialog):
    """The keyboard shortcuts as a scrollable table (the list is longer than a small screen is tall)."""

    def __init__(self, parent: QWidget | None, rows: Sequence[tuple[str, str, str]]) -> None:
        super().__init__(parent, "Keyboard shortcuts", shortcuts_html(rows), "shortcutsDialog")


def _show(dialog: QDialog) -> None:
    try:
        dialog.exec()
    finally:
        dialog.deleteLater()


def show_shortcuts(parent: QWidget | None, rows: Sequence[tuple[str, str, str]]) -> None:
    """Show :class:`ShortcutsDialog` until it is closed."""
    _show(ShortcutsDialog(parent, rows))


def show_text(parent: QWidget | None, title: str, html: str) -> None:
    """Show ``html`` in a :class:`TextDialog` until it is closed (Help ▸ What am I looking at?)."""
    _show(TextDialog(parent, title, html, "helpDialog"))


def ask_restore(parent: QWidget | None) -> bool:
    """Ask whether to restore the work a crash left (the box ``recoveryOffer``); False only for Discard.

    Dismissing the box restores: closing it must not throw the work away.
    """
    box = QMessageBox(parent)
    box.setObjectName("recoveryOffer")
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle("Restore unsaved work?")
    box.setText("MF Studio did not close properly last time. Restore the work that was not saved?")
    box.setInformativeText("Discard deletes it for good.")
    restore = box.addButton("&Restore", QMessageBox.ButtonRole.AcceptRole)
    discard = box.addButton("&Discard", QMessageBox.ButtonRole.DestructiveRole)
    box.setDefaultButton(restore)
    box.setEscapeButton(restore)
    box.exec()
    clicked = box.clickedButton()
    box.deleteLater()
    return clicked is not discard
