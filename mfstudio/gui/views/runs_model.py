"""The runs table's model: one row per run of the session's :class:`~mfstudio.gui.runs.RunList`.

Columns: Show (a check box and the run's colour), Run (its name, editable), Solver, Steps, Seconds,
Stopped (why), the final training and validation RMSE and MAE, the best validation step, any ranking
metric a run carries (precision@10 ...), then its settings: Hold-out, Patience, Parameters. Numbers have
fixed decimals so a column reads evenly; :data:`SORT` gives each cell's value for sorting (numbers
as numbers, a missing one as None).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Slot
from PySide6.QtGui import QBrush, QColor, QFont, QPixmap

from mfstudio.core import StopReason
from mfstudio.core.numbers import exact_text, param_text, table_text
from mfstudio.core.ranking import DEFINITIONS
from mfstudio.core.runs import ERROR_METRICS, RunRecord, metric_keys
from mfstudio.core.solvers import SOLVERS
from mfstudio.core.status_text import error_words
from mfstudio.gui.runs import RunList
from mfstudio.gui.views.run_labels import LABELLED

Index = QModelIndex | QPersistentModelIndex
DISPLAY, EDIT, CHECK = Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole, Qt.ItemDataRole.CheckStateRole
SORT = Qt.ItemDataRole.UserRole + 1  # the value a column sorts by
LIVE_REFRESH_S = 0.25  # a going run's row is repainted at most this often
MISSING = "—"
LIVE_FG = QColor("#6a6a6a")
REASONS = {"budget": "step budget", "tolerance": "tolerance", "early-stop": "early stop", "cancelled": "stopped",
           "diverged": "diverged", "step": "paused"}  # why a run stopped, in a word or two (tooltip: in full)
SHORT = dict(LABELLED)


def _reason_text(r: RunRecord) -> str:
    """Why the run stopped, short: ``early stop at 140, best 90`` names the steps of an early stop."""
    if r.early_stopped and r.best_step is not None:
        return f"early stop at {r.steps_done:,}, best {r.best_step:,}"
    return REASONS.get(r.reason, r.reason)


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    tip: str
    value: Callable[[RunRecord], Any]  # for sorting: a number, a text, or None (missing)
    text: Callable[[RunRecord], str]
    metric: bool = False  # a final error or a ranking metric (its tooltip gives the exact value)


def _number(v: float | None, decimals: int) -> str:
    return MISSING if v is None or (isinstance(v, float) and math.isnan(v)) else table_text(v, decimals)


def _seconds(r: RunRecord) -> str:
    """Seconds with 3 decimals; a run quicker than that is "<0.001", not a misleading 0.000."""
    return "<0.001" if 0 < r.seconds < 0.0005 else table_text(r.seconds, 3)


def params_text(r: RunRecord) -> str:
    """``K=2 α=0.0002 β=0.02 steps=5,000 tol=0.001 seed=0``: the solver's parameters in the labels' order."""
    keys = [k for k, _ in LABELLED if k in r.params] + sorted(k for k in r.params if k not in SHORT)
    return " ".join(f"{SHORT.get(k, k)}={param_text(r.params[k])}" for k in keys)


def metric_title(key: str) -> str:
    """``precision@10`` -> ``Precision@10``, ``ndcg@10`` -> ``NDCG@10``, ``mpr`` -> ``MPR``."""
    head, _, tail = key.partition("@")
    head = head.upper() if head.lower() in ("ndcg", "map", "mrr", "auc", "hr", "mpr") else \
        head.replace("_", " ").capitalize()
    return head + ("@" + tail if tail else "")


def _metric(key: str, title: str, tip: str, decimals: int) -> Column:
    def value(r: RunRecord) -> float | None:
        v = r.metrics.get(key)
        return None if v is None or math.isnan(v) else float(v)

    return Column(key, title, tip, value, lambda r: _number(value(r), decimals), metric=True)


# A model of counts (implicit-als) reports the error of its preferences p = [r > 0] under the RMSE and MAE keys, and
# its best step is judged by precision@k: the words for those columns, on the header when every run is one, and on
# each such run's cells always.
PREFERENCE_ERRORS = {
    "train_rmse": (error_words(True)[0], "The error of the preferences p = [r > 0] on the training interactions at "
                   "the end (an RMSE over every cell)."),
    "val_rmse": (error_words(True)[1], "The error of the preferences p = [r > 0] on the held-out interactions at "
                 "the end (— without a hold-out)."),
    "train_mae": ("training preference MAE", "The mean absolute error of the preferences p = [r > 0] on the "
                  "training interactions at the end."),
    "val_mae": ("validation preference MAE", "The mean absolute error of the preferences p = [r > 0] on the "
                "held-out interactions at the end."),
    "best_step": ("best step", "The step of the highest validation precision@k, by which models of counts are "
                  "judged (early stopping keeps its factors)."),
}


def _first_up(words: str) -> str:
    """``words`` with a capital first letter (and the rest as written: MAE stays MAE)."""
    return words[:1].upper() + words[1:]


def preference_errors(r: RunRecord) -> bool:
    """Whether the run's RMSE columns hold a preference error (a model of counts of events, implicit-als)."""
    return r.solver in SOLVERS and bool(SOLVERS[r.solver].implicit)


def _columns(ranking: list[str]) -> list[Column]:
    """The table's columns, the ranking metrics given last."""
    show = Column("show", "Show", "Tick to draw the run's curves on the loss curve; the square is its colour there.",
                  lambda r: int(r.visible), lambda r: "")
    name = Column("name", "Run", "The run's name on the legend; double-click to rename it (empty: named by what "
                  "tells it apart).", lambda r: "", lambda r: "")  # filled in by the model (labels need every run)
    first = [
        show, name,
        Column("solver", "Solver", "The method that found P and Q.", lambda r: r.solver, lambda r: r.solver),
        Column("steps", "Steps", "The steps it made.", lambda r: r.steps_done, lambda r: f"{r.steps_done:,}"),
        Column("seconds", "Seconds", "Seconds of training.", lambda r: r.seconds, _seconds),
        Column("reason", "Stopped", "Why the run stopped.", lambda r: REASONS.get(r.reason, r.reason),
               lambda r: _reason_text(r) if r.finished else "running…"),
        _metric("train_rmse", "Train RMSE", "RMSE on the training ratings at the end.", 4),
        _metric("val_rmse", "Val RMSE", "RMSE on the held-out ratings at the end (— without a hold-out).", 4),
        _metric("train_mae", "Train MAE", "Mean absolute error on the training ratings at the end.", 4),
        _metric("val_mae", "Val MAE", "Mean absolute error on the held-out ratings at the end.", 4),
        Column("best_step", "Best step", "The step of the lowest validation RMSE (early stopping keeps its "
               "factors).", lambda r: r.best_step, lambda r: MISSING if r.best_step is None else f"{r.best_step:,}"),
    ]
    last = [  # the settings, the long text last
        Column("holdout", "Hold-out", "The share of the ratings held out for validation.", lambda r: r.holdout,
               lambda r: f"{r.holdout:.0%}" if r.holdout else "none"),
        Column("patience", "Patience", "Early stopping: the steps without a better validation RMSE it waited.",
               lambda r: r.patience, lambda r: "off" if r.patience is None else f"{r.patience:,}"),
        Column("params", "Parameters", "The solver's parameters the run had (steps: its budget).",
               params_text, params_text),
    ]
    return first + [_metric(k, metric_title(k), f"{metric_title(k)} of the recommendations on the held-out "
                            f"ratings.\n\n{DEFINITIONS}", 3) for k in ranking] + last


class RunsTableModel(QAbstractTableModel):
    """The runs of ``runs`` as rows; editing a name renames the run, the check box shows or hides it."""

    def __init__(self, runs: RunList, parent: Any = None) -> None:
        super().__init__(parent)
        self.runs = runs
        self._records: list[RunRecord] = []
        self._labels: list[str] = []
        self._metrics: list[str] = []
        self.columns = _columns([])
        self._painted = 0.0
        self._reload()
        runs.added.connect(self._on_added)
        runs.changed.connect(self._on_changed)
        runs.historyChanged.connect(self._on_history)
        runs.listChanged.connect(self._reload)
        runs.cleared.connect(self._reload)

    # -- reading --------------------------------------------------------------------------
    def record(self, row: int) -> RunRecord:
        return self._records[row]

    def column(self, key: str) -> int:
        return [c.key for c in self.columns].index(key)

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._records)

    def columnCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = DISPLAY) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self.columns):
            return None
        c = self.columns[section]
        title, tip = c.title, c.tip
        if c.key in PREFERENCE_ERRORS and self._records and all(map(preference_errors, self._records)):
            title, tip = PREFERENCE_ERRORS[c.key]
            title = _first_up(title)
        elif c.key in PREFERENCE_ERRORS and any(map(preference_errors, self._records)):
            tip += (" For implicit-als runs: the error of the preferences p = [r > 0]." if c.key != "best_step" else
                    " For implicit-als runs: the highest validation precision@k.")
        return title if role == DISPLAY else tip if role == Qt.ItemDataRole.ToolTipRole else None

    def flags(self, index: Index) -> Qt.ItemFlag:
        f = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        key = self.columns[index.column()].key
        if key == "show":
            f |= Qt.ItemFlag.ItemIsUserCheckable
        elif key == "name":
            f |= Qt.ItemFlag.ItemIsEditable
        return f

    def data(self, index: Index, role: int = DISPLAY) -> Any:
        if not index.isValid():
            return None
        r, c = self._records[index.row()], self.columns[index.column()]
        if c.key == "name":
            label = self._labels[index.row()]
            if role in (DISPLAY, SORT, Qt.ItemDataRole.ToolTipRole):
                return label if role != SORT else label.lower()
            return r.name or label if role == EDIT else None
        if role == DISPLAY:
            return c.text(r)
        if role == SORT:
            value = c.value(r)
            return value.lower() if isinstance(value, str) else value
        if role == CHECK and c.key == "show":
            return Qt.CheckState.Checked if r.visible else Qt.CheckState.Unchecked
        if role == Qt.ItemDataRole.DecorationRole and c.key == "show":
            square = QPixmap(10, 10)
            square.fill(QColor(self.runs.colour(r)))
            return square
        if role == Qt.ItemDataRole.TextAlignmentRole and c.key not in ("solver", "params", "reason"):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(r, c)
        if role == Qt.ItemDataRole.ForegroundRole and not r.finished:
            return QBrush(LIVE_FG)
        if role == Qt.ItemDataRole.FontRole and c.key == "reason" and r.early_stopped:
            font = QFont()
            font.setBold(True)
            return font
        return None

    def _tooltip(self, r: RunRecord, c: Column) -> str:
        if c.key == "reason":
            if not r.finished:
                return "The run is going."
            if r.early_stopped and r.best_step is not None:
                judged = "precision@k" if preference_errors(r) else "RMSE"
                return (f"{StopReason.EARLY_STOP.describe(r.steps_done, r.best_step).capitalize()}: validation "
                        f"{judged} had not improved for {r.patience or 0:,} steps; the factors of step "
                        f"{r.best_step:,} are kept.")
            return StopReason(r.reason).describe().capitalize() + "."
        if c.metric:
            v = c.value(r)
            title = _first_up(PREFERENCE_ERRORS[c.key][0]) if c.key in PREFERENCE_ERRORS and preference_errors(r) \
                else c.title
            return f"{title}: {exact_text(v)}" if v is not None else f"{title}: none (no hold-out)"
        return c.tip

    def setData(self, index: Index, value: Any, role: int = EDIT) -> bool:
        if not index.isValid():
            return False
        r, key = self._records[index.row()], self.columns[index.column()].key
        if key == "show" and role == CHECK:
            self.runs.set_visible(r, Qt.CheckState(value) == Qt.CheckState.Checked)
            return True
        if key == "name" and role == EDIT:
            text = " ".join(str(value).split())
            if not r.name and text == self._labels[index.row()]:
                return False  # the label itself, unchanged: it stays a label (and follows the other runs)
            return self.runs.rename(r, text)
        return False

    # -- following the list -------------------------------------------------------------------
    @Slot()
    def _reload(self) -> None:
        self.beginResetModel()
        self._records = self.runs.records
        self._labels = self.runs.labels()
        self._metrics = metric_keys(self._records)
        self.columns = _columns(self._metrics[len(ERROR_METRICS):])
        self.endResetModel()

    @Slot(object)
    def _on_added(self, record: RunRecord) -> None:
        n = len(self._records)
        self.beginInsertRows(QModelIndex(), n, n)
        self._records.append(record)
        self._labels = self.runs.labels()
        self.endInsertRows()
        self._names_changed()
        self.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, len(self.columns) - 1)  # all of one kind or not

    @Slot(object)
    def _on_changed(self, record: RunRecord) -> None:
        if record not in self._records:
            return
        if metric_keys(self._records) != self._metrics:
            self._reload()  # a ranking metric appeared: new columns
            return
        row = self._records.index(record)
        self._labels = self.runs.labels()
        self.dataChanged.emit(self.index(row, 0), self.index(row, len(self.columns) - 1))
        self._names_changed()

    @Slot(object)
    def _on_history(self, record: RunRecord) -> None:
        now = time.monotonic()
        if record in self._records and now - self._painted >= LIVE_REFRESH_S:
            self._painted = now
            row = self._records.index(record)
            self.dataChanged.emit(self.index(row, self.column("steps")), self.index(row, self.column("seconds")))

    def _names_changed(self) -> None:
        col = self.column("name")
        if self._records:
            self.dataChanged.emit(self.index(0, col), self.index(len(self._records) - 1, col))
