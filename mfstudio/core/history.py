"""A training run's history: one row of metrics per step kept, thinned evenly as it grows.

Every history has the columns HISTORY_COLUMNS; a run with a hold-out (and a top-N) also has
the ranking metrics' columns after them, named for their k (``precision@10``, ``recall@10``,
``ndcg@10``, ``map@10``, and with implicit data ``mpr``; see :mod:`mfstudio.core.ranking`), NaN at the
steps not evaluated.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np

from mfstudio.core.ranking import metric_names, ranking_names

HISTORY_COLUMNS = ("step", "objective", "train_rmse", "train_mae", "val_rmse", "val_mae", "elapsed_s")


def history_columns(k: int | None = None, implicit: bool = False) -> tuple[str, ...]:
    """The columns of a history: HISTORY_COLUMNS, then with ``k`` the ranking metrics' names for ``k`` (and
    ``implicit`` data: with ``mpr``)."""
    return HISTORY_COLUMNS + (metric_names(k, implicit) if k else ())


def columns_for(names: Sequence[str]) -> tuple[str, ...]:
    """The columns of a history that keeps what ``names`` (a file's columns, a run's metrics) carries:
    HISTORY_COLUMNS, then the ranking metrics among them (the four for one k, and ``mpr`` with them)."""
    return HISTORY_COLUMNS + ranking_names(list(names))


class History:
    """Per-step metrics, thinned evenly so at most about ``cap`` points are kept.

    Steps that are multiples of the current stride are kept; when more than ``cap``
    are held, every other one is dropped and the stride doubles. The latest step is
    always available as the last row of :meth:`arrays`. ``columns`` are HISTORY_COLUMNS,
    possibly followed by ranking metrics' (see :func:`history_columns`).
    """

    def __init__(self, cap: int = 10_000, columns: Sequence[str] = HISTORY_COLUMNS) -> None:
        self.columns: tuple[str, ...] = tuple(columns)
        if self.columns[: len(HISTORY_COLUMNS)] != HISTORY_COLUMNS:
            raise ValueError(f"a history's columns start with {', '.join(HISTORY_COLUMNS)}")
        self.cap = max(int(cap), 2)
        self.stride = 1
        self._buf = np.zeros((self.cap, len(self.columns)))
        self._n = 0
        self._last: np.ndarray | None = None

    @property
    def ranking_names(self) -> tuple[str, ...]:
        """The ranking metrics' columns (none without a hold-out)."""
        return self.columns[len(HISTORY_COLUMNS):]

    @property
    def _data(self) -> np.ndarray:
        return self._buf[: self._n]

    def _set(self, rows: np.ndarray) -> None:
        self._buf[: len(rows)] = rows
        self._n = len(rows)

    def extend(self, rows: np.ndarray) -> None:
        """Add rows (columns as ``columns``, steps increasing)."""
        if rows.shape[0] == 0:
            return
        self._last = rows[-1].copy()
        keep = rows[rows[:, 0].astype(np.int64) % self.stride == 0]
        while self._n + keep.shape[0] > self.cap:
            self.stride *= 2
            d = self._data
            self._set(d[d[:, 0].astype(np.int64) % self.stride == 0])
            keep = keep[keep[:, 0].astype(np.int64) % self.stride == 0]
        self._buf[self._n : self._n + keep.shape[0]] = keep
        self._n += keep.shape[0]

    def set_values(self, step: int, values: Mapping[str, float]) -> None:
        """Write ``values`` (column name: value) into the row of ``step``, where there is one."""
        idx = [self.columns.index(name) for name in values]
        vals = list(values.values())
        if self._last is not None and self._last[0] == step:
            self._last[idx] = vals
        if self._n and self._data[-1, 0] >= step:
            hit = np.flatnonzero(self._data[:, 0] == step)
            if hit.size:
                self._buf[hit[0], idx] = vals

    def truncate(self, step: int) -> None:
        """Forget rows after ``step`` (used when factors are rolled back)."""
        self._set(self._data[self._data[:, 0] <= step].copy())
        if self._last is not None and self._last[0] > step:
            self._last = self._data[-1].copy() if self._data.shape[0] else None

    def end_at(self, row: np.ndarray) -> None:
        """Forget the rows after ``row``'s step and make ``row`` the last one (an early stop: the steps a chunk
        made past the stop do not count)."""
        self.truncate(int(row[0]))
        self._last = np.array(row, dtype=np.float64)

    def ensure(self, step: int, make: Callable[[], np.ndarray]) -> np.ndarray:
        """The row of ``step``; where thinning dropped it, ``make()``'s row is put back in its place first."""
        d = self._data
        i = int(np.searchsorted(d[:, 0], step))
        if i < len(d) and d[i, 0] == step:
            return d[i].copy()
        if self._last is not None and self._last[0] == step:
            return self._last.copy()
        row = np.array(make(), dtype=np.float64)
        rows = np.insert(d, i, row, axis=0)
        if len(rows) > self._buf.shape[0]:
            self._buf = np.zeros((len(rows), len(self.columns)))
        self._set(rows)
        return row

    def arrays(self) -> np.ndarray:
        """All kept rows plus the latest step, as an (n, len(columns)) array."""
        if self._last is None:
            return self._data.copy()
        if self._data.shape[0] and self._data[-1, 0] == self._last[0]:
            return self._data.copy()
        return np.concatenate([self._data, self._last[None, :]])

    def last(self) -> dict[str, float]:
        """The latest row by column name (empty before any step)."""
        a = self.arrays()
        return dict(zip(self.columns, a[-1].tolist())) if a.shape[0] else {}

    def row_at(self, step: int) -> dict[str, float]:
        """The row of ``step`` by column name (the last kept row before it, if the history was thinned there);
        empty when no row is at or before it."""
        a = self.arrays()
        a = a[a[:, 0] <= step]
        return dict(zip(self.columns, a[-1].tolist())) if a.shape[0] else {}

    def column(self, name: str) -> np.ndarray:
        return self.arrays()[:, self.columns.index(name)]

    @classmethod
    def from_array(cls, a: np.ndarray, cap: int = 10_000, columns: Sequence[str] = HISTORY_COLUMNS) -> History:
        """A history holding the rows ``a`` (columns as ``columns``), thinned as they show."""
        h = cls(cap, columns)
        a = np.asarray(a, dtype=np.float64).reshape(-1, len(h.columns))
        kept = a[:-1, 0].astype(np.int64)
        while kept.size and kept.min() >= h.stride * 2 and np.all(kept % (h.stride * 2) == 0):
            h.stride *= 2  # the thinning the saved rows show, so a continued run thins alike
        if a.shape[0] > h.cap:
            h.cap = a.shape[0]
            h._buf = np.zeros((h.cap, len(h.columns)))
        h._set(a)
        h._last = a[-1].copy() if a.shape[0] else None
        return h

    def __len__(self) -> int:
        return self.arrays().shape[0]
