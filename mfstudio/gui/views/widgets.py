"""Small pieces the views share: a caption sentence, a tab page with a header."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QLabel, QSplitter, QVBoxLayout, QWidget


def caption(text: str) -> QLabel:
    """A small grey sentence under or above a view, saying what it shows."""
    lab = QLabel(text)
    lab.setWordWrap(True)
    lab.setStyleSheet("color: palette(placeholder-text); font-size: 11px;")
    return lab


def tab(view: QWidget, header: QWidget | None = None) -> QWidget:
    w = QWidget()
    lay = QVBoxLayout(w)
    lay.setContentsMargins(2, 2, 2, 2)
    lay.setSpacing(2)
    if header is not None:
        lay.addWidget(header)
    lay.addWidget(view, 1)
    return w


class FoldingSplitter(QSplitter):
    """A side-by-side splitter whose later panes fold away on a small screen: it asks only for the room
    of its first pane, and the others shrink to nothing (the user drags them open again)."""

    def __init__(self, orientation: Qt.Orientation = Qt.Orientation.Horizontal, parent: QWidget | None = None) -> None:
        super().__init__(orientation, parent)
        self.setChildrenCollapsible(True)

    def addWidget(self, widget: QWidget) -> None:
        super().addWidget(widget)
        self.setCollapsible(0, False)

    def minimumSizeHint(self) -> QSize:
        first = self.widget(0)
        if first is None:
            return super().minimumSizeHint()
        hint = first.minimumSizeHint().expandedTo(first.minimumSize())
        return QSize(hint.width(), max(hint.height(), super().minimumSizeHint().height()))
