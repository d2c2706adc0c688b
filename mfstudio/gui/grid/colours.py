"""The grid's colours: a tint per rating (light sequential blues, text stays readable), held out, out of scale."""

from __future__ import annotations

from PySide6.QtGui import QColor

N_TINTS = 32
LOW, HIGH = QColor("#f7fbff"), QColor("#74a9cf")
HELD_OUT_COLOR = QColor("#f6c177")
OUT_OF_SCALE_COLOR = QColor("#c0001a")


def tints() -> list[QColor]:
    """N_TINTS + 1 colours from LOW (the scale's bottom) to HIGH (its top)."""
    out = []
    for k in range(N_TINTS + 1):
        t = k / N_TINTS
        out.append(QColor(round(LOW.red() + t * (HIGH.red() - LOW.red())),
                          round(LOW.green() + t * (HIGH.green() - LOW.green())),
                          round(LOW.blue() + t * (HIGH.blue() - LOW.blue()))))
    return out
