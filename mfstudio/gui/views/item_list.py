"""The list of items to rate in Add me: a list model over arrays, most-rated first, filtered by a search.

A list widget made one item object per item (10,681 of them took 0.2 s at each result of ML-10M-shaped
data); the model keeps the labels, the counts and the order as arrays and writes a row's text only when
the view paints that row.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtWidgets import QAbstractItemView, QListView, QWidget

ITEM_ROLE = Qt.ItemDataRole.UserRole  # a row's item index


class ItemsModel(QAbstractListModel):
    """The items to rate as a list model, most-rated first (ties in item order), the search and the rated ones
    left out: made from arrays when data arrives (no widget per item: 10,681 items took 0.2 s as list widget
    items), each row's text written only when the view asks for it."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.labels: Sequence[str] = ()
        self.counts = np.zeros(0, np.int64)
        self.word = "ratings"
        self._order = np.zeros(0, np.int64)  # every item, most-rated first
        self._folded: list[str] | None = None  # the labels case-folded, made at the first search
        self._rows = self._order  # the items shown, in the list's order

    def set_items(self, labels: Sequence[str], counts: np.ndarray, word: str) -> None:
        """Show ``labels`` with their ``counts`` of training ratings (``word``: "ratings" or "interactions")."""
        self.beginResetModel()
        self.labels, self.counts, self.word = labels, np.asarray(counts, dtype=np.int64), word
        self._order = np.argsort(-self.counts, kind="stable")
        self._folded = None
        self._rows = self._order
        self.endResetModel()

    def clear(self) -> None:
        self.set_items((), np.zeros(0, np.int64), self.word)

    def set_filter(self, words: str, rated: set[int]) -> None:
        """Show the items whose label holds ``words`` (case-folded; "" for all), the ``rated`` ones left out."""
        rows = self._order
        if words:
            if self._folded is None:
                self._folded = [label.casefold() for label in self.labels]
            folded = self._folded
            rows = np.array([i for i in rows.tolist() if words in folded[i]], dtype=np.int64)
        if rated:
            rows = rows[~np.isin(rows, np.fromiter(rated, np.int64, len(rated)))]
        if len(rows) == len(self._rows) and np.array_equal(rows, self._rows):
            return
        self.beginResetModel()
        self._rows = rows
        self.endResetModel()

    def item_at(self, row: int) -> int:
        """The item index of the list's row ``row``."""
        return int(self._rows[row])

    def row_of(self, item: int) -> int:
        """The row showing ``item``, or -1 when it is not shown."""
        at = np.flatnonzero(self._rows == item)
        return int(at[0]) if len(at) else -1

    def items(self) -> list[int]:
        """The item indices shown, in the list's order."""
        return self._rows.tolist()

    def text(self, row: int) -> str:
        i = self.item_at(row)
        n = int(self.counts[i])
        return f"{self.labels[i]}  ({n:,} {self.word if n != 1 else self.word[:-1]})"

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self.text(index.row())
        if role == ITEM_ROLE:
            return self.item_at(index.row())
        return None


class ItemList(QListView):
    """The list of items to rate (objectName ``addMeItems``): a view of :class:`ItemsModel`."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.items_model = ItemsModel(self)
        self.setModel(self.items_model)
        self.setUniformItemSizes(True)  # one row's height for all: no text measured per row
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)

    def count(self) -> int:
        """The rows shown."""
        return self.items_model.rowCount()

    def text(self, row: int) -> str:
        """Row ``row``'s text: the item's label and its number of ratings."""
        return self.items_model.text(row)

    def current_item(self) -> int | None:
        """The chosen item's index, or None."""
        cur = self.currentIndex()
        return self.items_model.item_at(cur.row()) if cur.isValid() else None

    def set_current_item(self, item: int) -> bool:
        """Choose ``item`` (False when the list does not show it)."""
        row = self.items_model.row_of(item)
        if row < 0:
            return False
        self.setCurrentIndex(self.items_model.index(row))
        return True
