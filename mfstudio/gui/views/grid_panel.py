"""The ratings side: the grid, a line saying what it holds, the "0 means not rated" rule, whether the values are
counts of events (implicit feedback) and the rating scale."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QSize, Slot
from PySide6.QtWidgets import QCheckBox, QDoubleSpinBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from mfstudio.gui import help_texts
from mfstudio.gui.document import Document
from mfstudio.gui.grid import RatingGridView, RatingsTableModel
from mfstudio.gui.views.widgets import caption
from mfstudio.gui.viewstate import Selected, Selection


class GridPanel(QWidget):
    """The rating grid and what goes with it; reads the document, edits only through the grid's model."""

    def __init__(self, model: RatingsTableModel, document: Document, selection: Selection | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model, self.document, self.selection = model, document, selection
        self.grid = RatingGridView(model)
        if selection is not None:  # the grid's current cell is the selection, and a cell selected elsewhere shows
            self.grid.selectionModel().currentChanged.connect(self._on_current)
            selection.changed.connect(self._on_selection)
        self.info = caption("")
        self.zero_rule = QCheckBox("0 means not rated")
        self.zero_rule.setObjectName("zeroMeansNotRated")
        self.zero_rule.setAccessibleName("A zero in the grid means not rated")
        self.zero_rule.setToolTip(
            "On (the notebook's convention): a 0 typed, pasted or read from a matrix file leaves the cell unrated. "
            "Off: 0 is a rating like any other. Saved with the session; switching it on clears ratings of 0 "
            "(undo brings them back).")
        self.zero_rule.setChecked(model.zeros_are_missing)
        self.zero_rule.toggled.connect(self._on_zero_rule_toggled)
        model.zeroRuleChanged.connect(self._show_zero_rule)
        self.kind = QCheckBox("Counts")
        self.kind.setObjectName("implicitData")
        self.kind.setAccessibleName("These are counts/events, not ratings")
        self.kind.setToolTip(
            "These are counts/events, not ratings: each number says how often a user played, clicked or bought an "
            "item (implicit feedback). Every empty cell then counts too, as \"not chosen\"; implicit-als learns "
            "from that, and ranking metrics judge it. Saved with the session; undo switches it back.")
        self.kind.setChecked(model.implicit)
        self.kind.toggled.connect(self._on_kind_toggled)
        model.kindChanged.connect(self._show_kind)
        model.modelReset.connect(lambda: self._show_kind(model.implicit))  # new data brings its kind
        self.scale_min = self._scale_box("scaleMin", "Lowest rating on the scale")
        self.scale_max = self._scale_box("scaleMax", "Highest rating on the scale")
        model.scaleChanged.connect(self._show_scale)
        self._show_scale(*model.scale)

        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(4)
        title = QLabel("<b>Ratings R</b> (users × items)")
        title.setToolTip(help_texts.tooltip("grid"))
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(title, 1)
        top.addWidget(self.kind)
        lay.addLayout(top)
        lay.addWidget(self.grid, 1)
        lay.addWidget(self.info)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.zero_rule)
        row.addStretch(1)
        row.addWidget(caption("Scale"))
        row.addWidget(self.scale_min)
        row.addWidget(caption("to"))
        row.addWidget(self.scale_max)
        lay.addLayout(row)
        document.gridChanged.connect(self.update_info)
        document.opened.connect(self._scroll_home)

    def sizeHint(self) -> QSize:
        """As tall as it must be: the window's height goes to the controls below first, the rest to the grid."""
        return QSize(super().sizeHint().width(), self.minimumSizeHint().height())

    def _scale_box(self, name: str, accessible: str) -> QDoubleSpinBox:
        box = QDoubleSpinBox()
        box.setObjectName(name)
        box.setAccessibleName(accessible)
        box.setToolTip(f"{accessible}: ratings outside the scale show in red, and predictions are clipped to it.")
        box.setRange(-1e6, 1e6)
        box.setDecimals(2)
        box.setKeyboardTracking(False)  # one change when the value is complete, not one per digit
        box.setFixedWidth(62)  # room for "10.00"; the range's widest text would ask for 105 px
        box.editingFinished.connect(self._on_scale_edited)
        return box

    def set_running(self, running: bool) -> None:
        """While a run goes the rule and the scale stay as they are (the grid itself is read-only)."""
        for w in (self.zero_rule, self.kind, self.scale_min, self.scale_max):
            w.setEnabled(not running)

    @Slot()
    def update_info(self) -> None:
        """"4 users × 5 items · 9 ratings (45% filled) · 2 held out · …" under the grid."""
        n_users, n_items = self.model.shape
        ratings = self.document.grid_ratings()
        held = len(self.document.grid_held_out_cells())
        kind = "interactions (counts)" if ratings.implicit else "ratings"
        text = (f"{n_users:,} users × {n_items:,} items · {ratings.nnz:,} {kind}"
                f" ({ratings.nnz / max(n_users * n_items, 1):.0%} filled)")
        if held:
            text += f" · {held:,} held out"
            cold = self.document.holdout.warning()
            if cold:
                text += f" · {cold}"
        out = ratings.out_of_scale()
        if out:
            text += f" · {out:,} outside the scale (red)"
        self.info.setText(text)

    @Slot(QModelIndex, QModelIndex)
    def _on_current(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if self.selection is not None and current.isValid():
            self.selection.select(current.row(), current.column())

    @Slot(object)
    def _on_selection(self, selected: Selected) -> None:
        cell = selected.cell
        if cell is None or cell[0] >= self.model.rowCount() or cell[1] >= self.model.columnCount():
            return
        index = self.model.index(*cell)
        if self.grid.currentIndex() != index:
            self.grid.setCurrentIndex(index)

    @Slot()
    def _scroll_home(self) -> None:
        self.grid.horizontalScrollBar().setValue(0)
        self.grid.verticalScrollBar().setValue(0)

    @Slot(float, float)
    def _show_scale(self, lo: float, hi: float) -> None:
        for box, v in ((self.scale_min, lo), (self.scale_max, hi)):
            box.blockSignals(True)
            box.setValue(v)
            box.blockSignals(False)

    @Slot()
    def _on_scale_edited(self) -> None:
        """The scale boxes changed: one undoable change of the grid's scale (refused, and put back, if invalid)."""
        lo, hi = self.scale_min.value(), self.scale_max.value()
        if (lo, hi) == tuple(self.model.scale):
            return
        if lo >= hi:
            self.grid.statusMessage.emit(
                f"The lowest rating ({lo:g}) must be below the highest ({hi:g}); the scale was not changed.")
        else:
            self.model.set_scale((lo, hi))
        self._show_scale(*self.model.scale)

    @Slot(bool)
    def _on_zero_rule_toggled(self, on: bool) -> None:
        if on != self.model.zeros_are_missing:
            self.model.set_zeros_are_missing(on)

    @Slot(bool)
    def _on_kind_toggled(self, on: bool) -> None:
        if on != self.model.implicit:
            self.model.set_implicit(on)

    @Slot(bool)
    def _show_kind(self, on: bool) -> None:
        self.kind.blockSignals(True)
        self.kind.setChecked(on)
        self.kind.blockSignals(False)

    @Slot(bool)
    def _show_zero_rule(self, on: bool) -> None:
        self.zero_rule.blockSignals(True)
        self.zero_rule.setChecked(on)
        self.zero_rule.blockSignals(False)
