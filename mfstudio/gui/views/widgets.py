"""Small pieces the views share: a caption sentence, a tab page with a header."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget


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
