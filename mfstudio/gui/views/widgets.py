"""Small pieces the views share: a caption sentence, a tab page with a header, a folding splitter, and
File ▸ Save for a figure."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QFileDialog,
    QLabel,
    QMessageBox,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from mfstudio.core.errors import MFStudioError

FIGURE_FILTERS = "PNG image (*.png);;SVG image (*.svg);;PDF document (*.pdf)"
_EXT_FOR_FILTER = {"PNG": ".png", "SVG": ".svg", "PDF": ".pdf"}


CAPTION_STYLE = "color: palette(placeholder-text); font-size: 11px;"


def caption(text: str, lines: int = 0) -> QLabel:
    """A small grey sentence under or above a view, saying what it shows. ``lines``: the height it keeps from
    the start, so that a longer text (up to that many lines) does not resize the views beside it (for a
    figure, a new layout and a full draw)."""
    lab = QLabel(text)
    lab.setWordWrap(True)
    lab.setStyleSheet(CAPTION_STYLE)
    if lines:
        lab.setText(" ".join(["Xg"] * lines * 40))  # wrapped to ``lines`` lines at the width asked for
        lab.ensurePolished()
        lab.setMinimumHeight(lab.heightForWidth(lab.fontMetrics().horizontalAdvance(lab.text()) // lines + 1))
        lab.setText(text)
    return lab


def scrolled(view: QWidget) -> QScrollArea:
    """``view`` in a scroll area: a panel taller or wider than a small window's result area scrolls instead of
    making the window's smallest size bigger."""
    area = QScrollArea()
    area.setWidget(view)
    area.setWidgetResizable(True)
    area.setFrameShape(QScrollArea.Shape.NoFrame)
    return area


class TallScroll(QScrollArea):
    """A scroll area as tall as its content wants (QScrollArea's own hint stops at 24 lines of text); it scrolls
    only when the window is too short for the content (at the smallest width its bar then covers the right edge)."""

    def __init__(self, view: QWidget) -> None:
        super().__init__()
        self.setWidget(view)
        self.setWidgetResizable(True)
        self.setFrameShape(QScrollArea.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setSizePolicy(self.sizePolicy().horizontalPolicy(), QSizePolicy.Policy.Preferred)
        view.installEventFilter(self)  # the content's size changes (another solver's rows) reach this layout

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.LayoutRequest:  # after the content has laid itself out
            QTimer.singleShot(0, self, self.updateGeometry)
        return super().eventFilter(watched, event)

    def sizeHint(self) -> QSize:
        return self.widget().sizeHint().expandedTo(self.widget().minimumSizeHint())

    def minimumSizeHint(self) -> QSize:
        m = self.widget().minimumSizeHint()
        return QSize(m.width(), min(m.height(), 160))


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
    of its first pane, and the others shrink to nothing (the user drags them open again).

    With ``fold_below`` (pixels) the later panes also fold by themselves while the splitter is narrower than
    that (two crushed panes help no one: the first gets the room), and open again, shared evenly, once it is
    wider; a pane the user drags open at a narrow width stays as the user left it until the width crosses
    ``fold_below`` again. ``foldedByWidth(bool)`` says when it folds (True) or opens (False) them by itself.
    """

    foldedByWidth = Signal(bool)

    def __init__(self, orientation: Qt.Orientation = Qt.Orientation.Horizontal, parent: QWidget | None = None,
                 fold_below: int = 0) -> None:
        super().__init__(orientation, parent)
        self.setChildrenCollapsible(True)
        self.fold_below = fold_below
        self._narrow: bool | None = None  # which side of fold_below the width was on when last laid out

    @property
    def folded(self) -> bool:
        """True while every pane but the first is folded to nothing."""
        return self.count() > 1 and not any(self.sizes()[1:])

    def share_evenly(self) -> None:
        """Give every pane the same room, or fold the later ones when the splitter is too narrow for that."""
        n = self.count()
        if not n:
            return
        room = max(self.width(), 1)
        if self.fold_below and room < self.fold_below:
            self.setSizes([room] + [0] * (n - 1))
        else:
            self.setSizes([max(room // n, 1)] * n)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if not self.fold_below or self.count() < 2:
            return
        narrow = self.width() < self.fold_below
        if narrow != self._narrow:  # only when the width crosses fold_below: a layout the user made stands
            first = self._narrow is None  # a layout restored from the settings stands while there is room
            self._narrow = narrow
            if narrow or (self.folded and not first):
                self.share_evenly()
                self.foldedByWidth.emit(narrow)

    def addWidget(self, widget: QWidget) -> None:
        super().addWidget(widget)
        self.setCollapsible(0, False)

    def minimumSizeHint(self) -> QSize:
        first = self.widget(0)
        if first is None:
            return super().minimumSizeHint()
        hint = first.minimumSizeHint().expandedTo(first.minimumSize())
        return QSize(hint.width(), max(hint.height(), super().minimumSizeHint().height()))


def save_figure_dialog(parent: QWidget, title: str, default_name: str, what: str,
                       save: Callable[[Path], Path]) -> Path | None:
    """Ask where to save a figure (PNG, SVG or PDF, the chosen filter's when the name has no extension),
    save it with ``save``, and say in a dialog what went wrong; the path saved to, or None."""
    path, chosen = QFileDialog.getSaveFileName(parent, title, default_name, FIGURE_FILTERS)
    if not path:
        return None
    p = Path(path)
    if p.suffix.lower() not in (".png", ".svg", ".pdf"):
        p = p.with_suffix(_EXT_FOR_FILTER.get(chosen.split(" ")[0], ".png"))
    try:
        return save(p)
    except (OSError, ValueError) as exc:
        text = str(exc) if isinstance(exc, MFStudioError) else \
            f"{what} could not be saved to {p}: {exc}. Choose another folder or name."
        QMessageBox.warning(parent, "Could not save the figure", text)
        return None
