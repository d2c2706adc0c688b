"""Result tables: P, Q, R-hat, the biases and the recommendations, as lazy models over numpy arrays.

Each refresh is one ``dataChanged`` over the whole range (a reset only when the
shape changes); the view repaints only the cells it shows. ``data()`` stays cheap: R-hat
is computed a row at a time for the rows actually painted, each cell's text is made once
per refresh, and the caches are dropped on refresh. The label lists are made once per
data (a refresh of 71,567 users does not copy them again).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal, Slot
from PySide6.QtGui import QBrush, QColor, QFont, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QMenu, QTableView, QWidget

from mfstudio.core import Factors, Ratings, Recommendations
from mfstudio.core.keys import distinct
from mfstudio.core.numbers import exact_text, table_text
from mfstudio.core.ratings import display_scale
from mfstudio.core.status_text import data_word
from mfstudio.gui.actions import make_action
from mfstudio.gui.clipboard import format_block

Index = QModelIndex | QPersistentModelIndex
DISPLAY = Qt.ItemDataRole.DisplayRole
EDIT = Qt.ItemDataRole.EditRole

PREDICTED_BG = QColor("#e8f0fb")
PREDICTED_FG = QColor("#1c4f96")
HELD_OUT_BG = QColor("#fdebd3")
STALE_FG = QColor("#8a8a8a")


class _ArrayModel(QAbstractTableModel):
    """Read-only table over a 2-D float array with row and column labels."""

    def __init__(self, decimals: int = 3, parent: Any = None) -> None:
        super().__init__(parent)
        self._a = np.zeros((0, 0))
        self._rows: list[str] = []
        self._cols: list[str] = []
        self.decimals = decimals
        self.stale = False
        self._label_lists: dict[int, tuple[tuple[str, ...], list[str]]] = {}  # id(labels) -> (labels, list)

    def _labels(self, labels: tuple[str, ...]) -> list[str]:
        """``labels`` as a list, the same list while they are the same tuple (read it, do not change it)."""
        got = self._label_lists.get(id(labels))
        if got is None or got[0] is not labels:
            if len(self._label_lists) > 4:
                self._label_lists.clear()
            got = self._label_lists[id(labels)] = (labels, list(labels))
        return got[1]

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else self._a.shape[0]

    def columnCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else self._a.shape[1]

    def value(self, row: int, col: int) -> float:
        return float(self._a[row, col])

    def data(self, index: Index, role: int = DISPLAY) -> Any:
        if not index.isValid():
            return None
        r, c = index.row(), index.column()
        if role == DISPLAY:
            return table_text(self.value(r, c), self.decimals)
        if role == EDIT:
            return self.value(r, c)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole and self.stale:
            return QBrush(STALE_FG)
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{self._rows[r]}, {self._cols[c]}: {exact_text(self.value(r, c))}"
        return None

    feature_axis: Qt.Orientation | None = None  # the header that lists latent features k1..kK, if any

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = DISPLAY) -> Any:
        if role not in (DISPLAY, Qt.ItemDataRole.ToolTipRole):
            return None
        labels = self._cols if orientation == Qt.Orientation.Horizontal else self._rows
        if not 0 <= section < len(labels):
            return None
        if role == Qt.ItemDataRole.ToolTipRole and orientation == self.feature_axis:
            return f"Latent feature {section + 1} of K = {len(labels)} (column {labels[section]} in the CSV export)"
        return labels[section]

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def _replace(self, a: np.ndarray, rows: list[str], cols: list[str]) -> None:
        """Swap in new values: one dataChanged when the shape is the same, else a reset."""
        if a.shape == self._a.shape and (rows is self._rows or rows == self._rows) and \
                (cols is self._cols or cols == self._cols):
            self._a = a
            if a.size:
                self.dataChanged.emit(self.index(0, 0), self.index(a.shape[0] - 1, a.shape[1] - 1))
            return
        self.beginResetModel()
        self._a, self._rows, self._cols = a, rows, cols
        self.endResetModel()

    def set_stale(self, stale: bool) -> None:
        """Grey the numbers out when they no longer match the data."""
        if stale != self.stale:
            self.stale = stale
            if self._a.size:
                self.dataChanged.emit(self.index(0, 0), self.index(self.rowCount() - 1, self.columnCount() - 1))

    def clear(self) -> None:
        self._replace(np.zeros((0, 0)), [], [])


def _features(k: int) -> list[str]:
    """k1..kK: the names the CSV exports use for the latent features."""
    return [f"k{i + 1}" for i in range(k)]


class PModel(_ArrayModel):
    """P: one row per user, one column per latent feature."""

    feature_axis = Qt.Orientation.Horizontal

    def set_factors(self, ratings: Ratings, factors: Factors) -> None:
        self._replace(np.array(factors.P, dtype=float), self._labels(ratings.users), _features(factors.K))


class QModel(_ArrayModel):
    """Q: one row per latent feature, one column per item."""

    feature_axis = Qt.Orientation.Vertical

    def set_factors(self, ratings: Ratings, factors: Factors) -> None:
        self._replace(np.array(factors.Q, dtype=float), _features(factors.K), self._labels(ratings.items))


class BiasModel(QAbstractTableModel):
    """Two columns: the user (or item) and its bias; the label is a column, so a long title elides
    instead of squeezing the numbers out of view."""

    def __init__(self, decimals: int = 3, parent: Any = None) -> None:
        super().__init__(parent)
        self.decimals = decimals
        self._labels: list[str] = []
        self._bias = np.zeros(0)
        self._headers = ("", "")
        self._of: tuple[str, ...] | None = None  # the labels shown, as given
        self.stale = False

    def set_biases(self, labels: tuple[str, ...], bias: np.ndarray, header: str, who: str = "") -> None:
        """Show ``bias`` (one per label) under ``header``; ``who`` names the label column ("User", "Item")."""
        headers = (who or header.split(" ")[0], header)
        if labels is self._of and headers == self._headers and len(bias) == len(self._labels) and self._labels:
            self._bias = np.asarray(bias, dtype=float).ravel()  # the same rows: new numbers only
            self.dataChanged.emit(self.index(0, 1), self.index(len(self._labels) - 1, 1))
            return
        self._of = labels
        self.beginResetModel()
        self._labels, self._bias = list(labels), np.asarray(bias, dtype=float).ravel()
        self._headers = (who or header.split(" ")[0], header)
        self.endResetModel()

    def clear(self) -> None:
        self.beginResetModel()
        self._labels, self._bias, self._of = [], np.zeros(0), None
        self.endResetModel()

    def set_stale(self, stale: bool) -> None:
        if stale != self.stale:
            self.stale = stale
            if self._labels:
                self.dataChanged.emit(self.index(0, 0), self.index(len(self._labels) - 1, 1))

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._labels)

    def columnCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else 2

    def value(self, row: int) -> float:
        return float(self._bias[row])

    def data(self, index: Index, role: int = DISPLAY) -> Any:
        if not index.isValid():
            return None
        r, c = index.row(), index.column()
        if role == DISPLAY:
            return self._labels[r] if c == 0 else table_text(self.value(r), self.decimals)
        if role == EDIT:
            return self._labels[r] if c == 0 else self.value(r)
        if role == Qt.ItemDataRole.TextAlignmentRole and c == 1:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole and self.stale:
            return QBrush(STALE_FG)
        if role == Qt.ItemDataRole.ToolTipRole:
            v = self.value(r)
            side = "higher" if v >= 0 else "lower"
            return (f"{self._labels[r]}: bias {exact_text(v)} "
                    f"({table_text(abs(v), 2)} {side} than the mean, before taste)")
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = DISPLAY) -> Any:
        if role != DISPLAY:
            return None
        if orientation == Qt.Orientation.Horizontal:
            return self._headers[section] if 0 <= section < 2 else None
        return str(section + 1)

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable


def held_keys(cells: np.ndarray, n_items: int) -> np.ndarray:
    """``row * n_items + col`` of the (k, 2) ``cells``, sorted and unique (cells in row-major order, as a split
    lists them, skip the sort)."""
    keys = cells[:, 0] * n_items + cells[:, 1]
    return distinct(keys)


class RHatModel(_ArrayModel):
    """R_hat = P·Q (plus biases) for every cell; rated cells plain, predictions tinted in italics.

    Nothing of users x items size is built: predictions, actual ratings and hold-out
    marks are computed a row at a time for the rows being painted.
    """

    def __init__(self, parent: Any = None) -> None:
        super().__init__(decimals=2, parent=parent)
        self._factors: Factors | None = None
        self._ratings: Ratings | None = None
        self._row_start = np.zeros(1, np.int64)  # observed entries of row r: [start[r], start[r+1])
        self._held_keys = np.zeros(0, np.int64)  # row * n_items + col of held-out cells, sorted
        self._held_of: tuple[np.ndarray, int] = (np.zeros((0, 2), np.int64), 1)  # the (cells, n_items) of the keys
        self._cache: dict[int, np.ndarray] = {}
        self._texts: dict[tuple[int, int], str] = {}  # each painted cell's text, made once per refresh
        self._scale: tuple[float, float] = (0.0, 0.0)  # display_scale of the ratings and solver shown
        self._obs_cache: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self._solver: str | None = None  # the model shown (its range clips the numbers)
        self._italic = QFont()
        self._italic.setItalic(True)

    def set_result(self, ratings: Ratings, factors: Factors, held_out_cells: np.ndarray | None = None,
                   solver: str | None = None) -> None:
        """Show the predictions of ``factors`` against ``ratings`` (held-out cells as a (k, 2) array), clipped to
        the range of ``solver``'s model (ratings.display_scale)."""
        self._solver = solver
        self._set_ratings(ratings)
        self._scale = display_scale(ratings, solver)
        cells = np.zeros((0, 2), np.int64) if held_out_cells is None else \
            np.asarray(held_out_cells, dtype=np.int64).reshape(-1, 2)
        m = max(ratings.n_items, 1)
        last_cells, last_m = self._held_of
        if m != last_m or not (cells is last_cells or np.array_equal(cells, last_cells)):
            self._held_keys = held_keys(cells, m)
            self._held_of = (cells if not cells.flags.writeable else cells.copy(), m)  # a caller's array may change
            self._obs_cache.clear()
        self.set_factors(ratings, factors)

    def _set_ratings(self, ratings: Ratings) -> None:
        if ratings is self._ratings:
            return
        self._ratings = ratings
        self._scale = display_scale(ratings, self._solver)
        rows = ratings.observed.rows
        self._row_start = np.searchsorted(rows, np.arange(ratings.n_users + 1, dtype=rows.dtype)).astype(np.int64)
        self._obs_cache.clear()

    def set_factors(self, ratings: Ratings, factors: Factors) -> None:
        self._set_ratings(ratings)
        self._factors = factors
        self._cache.clear()
        self._texts.clear()
        self._replace(_ShapeOnly(ratings.shape), self._labels(ratings.users),  # type: ignore[arg-type]
                      self._labels(ratings.items))

    def _row(self, r: int) -> np.ndarray:
        row = self._cache.get(r)
        if row is None:
            f = self._factors
            assert f is not None
            row = f.predict_rows(r, r + 1)[0]
            if len(self._cache) > 512:
                self._cache.clear()
            self._cache[r] = row
        return row

    def _obs_row(self, r: int) -> tuple[np.ndarray, np.ndarray]:
        """Row ``r`` of the ratings (NaN = not rated) and of the hold-out marks."""
        got = self._obs_cache.get(r)
        if got is None:
            ratings = self._ratings
            assert ratings is not None
            m = ratings.n_items
            o = ratings.observed
            a, b = self._row_start[r], self._row_start[r + 1]
            vals = np.full(m, np.nan)
            vals[o.cols[a:b]] = o.vals[a:b]
            held = np.zeros(m, dtype=bool)
            if self._held_keys.size:
                lo, hi = np.searchsorted(self._held_keys, [r * m, (r + 1) * m])
                held[self._held_keys[lo:hi] - r * m] = True
            if len(self._obs_cache) > 512:
                self._obs_cache.clear()
            got = self._obs_cache[r] = (vals, held)
        return got

    @property
    def display_range(self) -> tuple[float, float] | None:
        """The range the numbers are clipped to (ratings.display_scale of the model shown), None before a result."""
        return None if self._ratings is None else display_scale(self._ratings, self._solver)

    def value(self, row: int, col: int) -> float:
        """The model's unclipped prediction (copied and exported as it is)."""
        return float(self._row(row)[col])

    def shown(self, row: int, col: int) -> float:
        """The prediction as displayed: clipped to the rating scale, like the recommendations."""
        assert self._ratings is not None
        lo, hi = self._scale
        return min(max(self.value(row, col), lo), hi)

    def observed(self, row: int, col: int) -> float:
        """The actual rating of a cell (NaN when not rated)."""
        return float(self._obs_row(row)[0][col])

    def held_out(self, row: int, col: int) -> bool:
        return bool(self._obs_row(row)[1][col])

    def data(self, index: Index, role: int = DISPLAY) -> Any:
        if not index.isValid():
            return None
        r, c = index.row(), index.column()
        if role == DISPLAY:
            text = self._texts.get((r, c))
            if text is None:
                if len(self._texts) > 20_000:
                    self._texts.clear()
                text = self._texts[(r, c)] = table_text(self.shown(r, c), self.decimals)
            return text
        if role == EDIT or role == Qt.ItemDataRole.TextAlignmentRole:
            return super().data(index, role)
        vals, held = self._obs_row(r)
        rated = not math.isnan(vals[c])
        if role == Qt.ItemDataRole.FontRole:
            return None if rated else self._italic
        if role == Qt.ItemDataRole.BackgroundRole:
            if held[c]:
                return QBrush(HELD_OUT_BG)
            return None if rated else QBrush(PREDICTED_BG)
        if role == Qt.ItemDataRole.ForegroundRole:
            if self.stale:
                return QBrush(STALE_FG)
            return None if rated else QBrush(PREDICTED_FG)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self.tooltip(r, c, vals, held)
        return super().data(index, role)

    def tooltip(self, r: int, c: int, vals: np.ndarray, held: np.ndarray) -> str:
        """What a cell's number is: the exact prediction, the clip, the actual rating, the fallback."""
        pred, shown = self.value(r, c), self.shown(r, c)
        where = f"{self._rows[r]}, {self._cols[c]}"
        text = f"{where}: predicted {table_text(shown, 2)} (the model's value {exact_text(pred)}"
        if shown != pred:
            lo, hi = display_scale(self._ratings, self._solver) if self._ratings is not None else (0, 0)
            text += f", clipped to the scale {lo:g} to {hi:g}"
        text += ")"
        f = self._factors
        if f is not None and f.is_cold(r, c):
            who = self._rows[r] if f.cold_users is not None and r in f.cold_users else self._cols[c]
            base = "the mean rating plus the known bias" if f.user_bias is not None else "the mean training rating"
            text += f"; {who} has no training ratings, so this is the fallback: {base}"
        if math.isnan(vals[c]):
            return text + "; not rated"
        actual = float(vals[c])
        kind = "held out, so not trained on" if held[c] else "rated"
        return f"{text}; actual rating {exact_text(actual)} ({kind}; error {table_text(actual - pred, 3)})"


class _ShapeOnly:
    """Stands in for an array where only the shape matters (R-hat is computed lazily)."""

    def __init__(self, shape: tuple[int, int]) -> None:
        self.shape = (int(shape[0]), int(shape[1]))
        self.size = self.shape[0] * self.shape[1]


class RecommendationsModel(QAbstractTableModel):
    """The top-N unrated items of every user with their predicted ratings."""

    COLUMNS = ("User", "Rank", "Item", "Predicted rating", "Ratings")
    # For counts of events (implicit data) the model scores a preference, and the last column counts interactions.
    IMPLICIT_COLUMNS = ("User", "Rank", "Item", "Score", data_word(True).capitalize())

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._recs: Recommendations | None = None
        self._users: tuple[str, ...] = ()
        self._items: tuple[str, ...] = ()
        self.stale = False
        self.implicit = False  # the data are counts of events: the columns and tips speak of interactions
        self._italic = QFont()
        self._italic.setItalic(True)

    def set_recommendations(self, ratings: Ratings, recs: Recommendations | None) -> None:
        self.beginResetModel()
        self._recs = recs
        self._users, self._items = ratings.users, ratings.items
        self.implicit = bool(ratings.implicit)
        self.endResetModel()
        self.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, len(self.COLUMNS) - 1)

    @property
    def recommendations(self) -> Recommendations | None:
        return self._recs

    def clear(self) -> None:
        self.beginResetModel()
        self._recs = None
        self.endResetModel()

    def set_stale(self, stale: bool) -> None:
        if stale != self.stale:
            self.stale = stale
            if self.rowCount():
                self.dataChanged.emit(self.index(0, 0), self.index(self.rowCount() - 1, len(self.COLUMNS) - 1))

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() or self._recs is None else len(self._recs)

    def columnCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.COLUMNS)

    def _cell(self, r: int, c: int) -> Any:
        recs = self._recs
        assert recs is not None
        if c == 0:
            return self._users[int(recs.user[r])]
        if c == 1:
            return int(recs.rank[r])
        if c == 2:
            return self._items[int(recs.item[r])]
        if c == 4:
            return int(recs.item_ratings[r])
        return float(recs.predicted[r])

    def data(self, index: Index, role: int = DISPLAY) -> Any:
        if not index.isValid() or self._recs is None:
            return None
        r, c = index.row(), index.column()
        if role == DISPLAY:
            v = self._cell(r, c)
            return table_text(v, 2) if c == 3 else (f"{v:,}" if c == 4 else str(v))
        if role == EDIT:
            return self._cell(r, c)
        if role == Qt.ItemDataRole.TextAlignmentRole and c in (1, 3, 4):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole and self.stale:
            return QBrush(STALE_FG)
        if role == Qt.ItemDataRole.FontRole and self._recs.fallback is not None and self._recs.fallback[r]:
            return self._italic  # a fallback, not the user's own taste
        if role == Qt.ItemDataRole.ToolTipRole:
            score = float(self._recs.score[r])
            n = self._cell(r, 4)
            if self.implicit:
                return (f"{self._cell(r, 0)} has no interaction with {self._cell(r, 2)}; the model scores their "
                        f"preference {table_text(self._cell(r, 3), 2)} (exactly {exact_text(score)}; choice "
                        f"{self._cell(r, 1)} for this user). {n:,} training "
                        f"{data_word(True) if n != 1 else 'interaction'} with this item.")
            return (f"{self._cell(r, 0)} has not rated {self._cell(r, 2)}; the model predicts "
                    f"{table_text(self._cell(r, 3), 2)} (the model's value {exact_text(score)}, "
                    "which the ranking follows; "
                    f"choice {self._cell(r, 1)} for this user). {n:,} training rating{'s' if n != 1 else ''} "
                    f"of this item." + (f" {self._cell(r, 0)} has no training ratings, so this is the fallback "
                                        "(the mean, plus the item's bias when the model has biases)."
                                        if self._recs.fallback is not None and self._recs.fallback[r] else ""))
        return None

    TIPS = ("The user", "1 = the best of this user's list", "The recommended item",
            "The model's prediction, clipped to the rating scale (hover for the exact value)",
            "How many training ratings the item has: few ratings mean little evidence")
    IMPLICIT_TIPS = TIPS[:3] + ("The model's preference score for the pair (hover for the exact value); the list "
                                "follows it", "How many training interactions the item has: few mean little "
                                "evidence")

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = DISPLAY) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.ToolTipRole:
            tips = self.IMPLICIT_TIPS if self.implicit else self.TIPS
            return tips[section] if 0 <= section < len(tips) else None
        if role != DISPLAY:
            return None
        if orientation == Qt.Orientation.Horizontal:
            columns = self.IMPLICIT_COLUMNS if self.implicit else self.COLUMNS
            return columns[section] if 0 <= section < len(columns) else None
        return str(section + 1)

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable


def selection_text(view: QTableView) -> str:
    """The selected cells as tab-separated text (the bounding block; unselected cells empty)."""
    model = view.model()
    indexes = view.selectionModel().selectedIndexes() if view.selectionModel() else []
    if not indexes or model is None:
        return ""
    rows = [i.row() for i in indexes]
    cols = [i.column() for i in indexes]
    r0, c0 = min(rows), min(cols)
    block = [["" for _ in range(max(cols) - c0 + 1)] for _ in range(max(rows) - r0 + 1)]
    for i in indexes:
        v = model.data(i, EDIT)
        block[i.row() - r0][i.column() - c0] = exact_text(v) if isinstance(v, float) else str(v)
    return format_block(block)


class ResultTableView(QTableView):
    """A read-only table with Copy (tab-separated) and Export as CSV… in its context menu."""

    statusMessage = Signal(str)

    def __init__(self, name: str, accessible: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.setAccessibleName(accessible)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setAlternatingRowColors(False)
        self.setWordWrap(False)
        self.setCornerButtonEnabled(True)
        h = self.horizontalHeader()
        h.setDefaultSectionSize(72)
        h.setMinimumSectionSize(40)
        h.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        h.setTextElideMode(Qt.TextElideMode.ElideRight)  # a long title ends in "…" (whole in the tooltip)
        v = self.verticalHeader()
        v.setDefaultSectionSize(22)
        v.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.export_handler: Callable[[], None] | None = None
        self.action_copy = make_action(self, "Copy", self.copy_selection, QKeySequence(QKeySequence.StandardKey.Copy),
                                       context=Qt.ShortcutContext.WidgetShortcut)
        self.addAction(self.action_copy)
        self.action_export = make_action(self, "Export as CSV…", self._export)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._menu)

    @Slot()
    def copy_selection(self) -> None:
        """Put the selection on the clipboard as tab-separated text."""
        text = selection_text(self)
        if not text:
            self.statusMessage.emit("Select some cells first, then copy.")
            return
        QGuiApplication.clipboard().setText(text)
        n = len(self.selectionModel().selectedIndexes())
        self.statusMessage.emit(f"Copied {n:,} cell{'s' if n != 1 else ''} as tab-separated text.")

    @Slot()
    def _export(self) -> None:
        if self.export_handler is not None:
            self.export_handler()

    @Slot("QPoint")
    def _menu(self, pos: Any) -> None:
        menu = QMenu(self)
        menu.addAction(self.action_copy)
        if self.export_handler is not None:
            menu.addAction(self.action_export)
        menu.exec(self.viewport().mapToGlobal(pos))
