"""Why this number? The selected cell's prediction as a waterfall and a table, with one plain sentence.

The panel follows the shared selection (a cell is explained; a user or an item alone asks for a cell)
and the experiment (a run's progress refreshes the explanation at most ten times a second, a result
at once; a new document empties it; stale results are said to be stale). The maths is in
:mod:`mfstudio.core.explain`; explaining a cell costs O(K), the waterfall one redraw of a persistent
figure (matplotlib through ``FigureCanvasQTAgg(Figure())``, never pyplot).
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QBrush, QColor, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from mfstudio.core import Factors, Ratings
from mfstudio.core.explain import HELD_OUT_TEXT, MEAN, Explanation, Term, explain, rotation_note
from mfstudio.core.explain_implicit import ImplicitExplanation, explain_implicit
from mfstudio.core.ladder import masked
from mfstudio.core.numbers import exact_text, short_text
from mfstudio.core.ratings import Observed
from mfstudio.core.solvers import get_solver
from mfstudio.gui.actions import make_action
from mfstudio.gui.experiment import Experiment, Progress, RunEnd, RunStart, Shown

# PySide6 must be imported before matplotlib's Qt backend picks a binding.
from mfstudio.gui.views.waterfall import DOWN, EMPTY_TEXT, UP, Waterfall
from mfstudio.gui.viewstate import Selected, Selection, ShownParts

REFRESH_MS = 100  # during a run: at most ten explanations (and redraws) a second
WORDS_EVERY_S = 1.0  # during a run, the table and the sentence follow at most once a second
NO_RESULT_TEXT = "Train a model, then select a cell of R-hat or of the grid to see why the model predicts it."
TRAINING_TEXT = "Training: the explanation follows as soon as the first results arrive."
STALE_TEXT = "The ratings changed after this model was trained: it explains the old data. Train again to update it."
LADDER_NOTE = ("The Ladder has switched parts of the model off: here, as in R-hat, they count 0 (the trained model is "
               "unchanged). ")
COLUMNS = ("Part", "P[u,k]", "Q[k,i]", "Value")
COLUMN_TIPS = ("What the row is", "How much the user likes the taste (a row of P)",
               "How much of the taste the item has (a column of Q)",
               "How much the part adds to the prediction (hover for the exact value)")


def tint(value: float, biggest: float) -> QColor:
    """The diverging scale: white at zero, blue for a push up, red for a push down, paler when smaller."""
    if biggest <= 0 or value == 0 or not np.isfinite(value):
        return QColor("white")
    end = QColor(UP if value > 0 else DOWN)
    a = min(abs(value) / biggest, 1.0) * 0.45
    return QColor(round(255 + (end.red() - 255) * a), round(255 + (end.green() - 255) * a),
                  round(255 + (end.blue() - 255) * a))


class ExplanationModel(QAbstractTableModel):
    """The breakdown as a table: one row per term, then the prediction, what is shown, the actual rating
    and the error; the display in 2-3 significant digits, the exact value in the tooltip and EditRole."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.explanation: Explanation | None = None
        self.preferences = False  # a model of counts (implicit-als): its actual value is a count (set by the panel)
        self._rows: list[tuple[str, str, str, str]] = []
        self._biggest = 0.0

    def set_explanation(self, e: Explanation | None, live: bool = False) -> None:
        """Show ``e``: a reset; while ``live`` (a run's report) the same rows with new numbers are one dataChanged,
        without the columns sized to their contents again (the run's end resets it)."""
        rows = [] if e is None else e.rows(short=True, preferences=self.preferences)
        same = live and e is not None and self.explanation is not None and len(rows) == len(self._rows) and \
            [r[0] for r in rows] == [r[0] for r in self._rows]
        if not same:
            self.beginResetModel()
        self.explanation = e
        self._rows = rows
        self._biggest = max((abs(t.value) for t in (e.terms if e else []) if t.name != MEAN), default=0.0)
        if not same:
            self.endResetModel()
        elif rows:
            self.dataChanged.emit(self.index(0, 0), self.index(len(rows) - 1, len(COLUMNS) - 1))

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def term(self, row: int) -> Term | None:
        e = self.explanation
        return e.terms[row] if e is not None and row < len(e.terms) else None

    def exact(self, row: int, col: int) -> float | None:
        """The exact number behind a cell (None for a word or an empty cell)."""
        e = self.explanation
        if e is None:
            return None
        t = self.term(row)
        if t is not None:
            return {1: t.p, 2: t.q, 3: t.value}.get(col)
        if col != 3:
            return None
        extra = [e.prediction, e.shown, e.actual, e.error][row - len(e.terms)]
        return None if extra is None else float(extra)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or self.explanation is None:
            return None
        r, c = index.row(), index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._rows[r][c]
        if role == Qt.ItemDataRole.EditRole:
            v = self.exact(r, c)
            return self._rows[r][c] if v is None else v
        if role == Qt.ItemDataRole.TextAlignmentRole and c > 0:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        t = self.term(r)
        if role == Qt.ItemDataRole.BackgroundRole and c == 3 and t is not None and t.name != MEAN:
            return QBrush(tint(t.value, self._biggest))
        if role == Qt.ItemDataRole.FontRole and t is None and r == len(self.explanation.terms):
            f = QGuiApplication.font()
            f.setBold(True)
            return f
        if role == Qt.ItemDataRole.ToolTipRole:
            return self.tooltip(r, c)
        return None

    def tooltip(self, r: int, c: int) -> str:
        e = self.explanation
        assert e is not None
        v = self.exact(r, c)
        t = self.term(r)
        exact = "" if v is None else f" (exactly {exact_text(v)})"
        if t is None:
            lo, hi = e.scale
            held = f" ({HELD_OUT_TEXT})" if e.held_out else ""
            actual = f"the count of interactions{held}{exact}" if self.preferences else \
                f"the actual rating{held}{exact}"
            none = "no interaction: the user has not chosen this item" if self.preferences else \
                "not rated: there is no rating here"
            what = [f"the prediction: the terms above added up (R-hat's value, unclipped){exact}",
                    f"what R-hat shows: the prediction clipped to the scale {lo:g} to {hi:g}{exact}",
                    actual if e.actual is not None else none,
                    f"the error: the actual rating minus the prediction{exact}"]
            return what[r - len(e.terms)]
        if t.name == MEAN:
            what = ("the fallback: the mean training rating, since there is nothing else to go on" if e.fallback else
                    "the mean training rating μ, where every prediction starts")
        elif t.p is None:
            who = e.user_label if t.name == "user bias" else e.item_label
            what = f"how much higher (+) or lower (−) than the mean {who} is rated or rates, whatever the taste"
        else:
            what = (f"taste {t.k}: how much {e.user_label} likes it (P) times how much of it {e.item_label} has (Q)")
        return f"{t.label(e.fallback)}: {what}{exact}"

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(COLUMNS):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        if role == Qt.ItemDataRole.ToolTipRole:
            return COLUMN_TIPS[section]
        return None

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def text(self) -> str:
        """The table as tab-separated text, exact numbers, for the clipboard."""
        lines = ["\t".join(COLUMNS)]
        for r, row in enumerate(self._rows):
            cells = [row[0]] + [("" if (v := self.exact(r, c)) is None else exact_text(v)) or row[c]
                                for c in (1, 2, 3)]
            lines.append("\t".join(cells))
        return "\n".join(lines)


class ExplainPanel(QWidget):
    """Why this number? The selected cell's prediction taken apart: waterfall, table, sentence, note."""

    statusMessage = Signal(str)

    def __init__(self, experiment: Experiment, selection: Selection, parts: ShownParts | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("explainPanel")
        self.experiment = experiment
        self.selection = selection
        self.parts = parts  # the model ladder's switches: the number explained is the one R-hat shows
        self._ratings: Ratings | None = None
        self._factors: Factors | None = None
        self._cells: np.ndarray | None = None
        self._stale = False
        self._running = False
        self._words_at = 0.0  # when the table and the sentence were last written (monotonic seconds)
        self.explanation: Explanation | None = None
        self._bars_owed: Explanation | None = None  # bars to draw when the panel is shown
        self.because_explanation: ImplicitExplanation | None = None  # an implicit model's item-based form
        self._model: tuple[str, dict[str, Any]] = ("", {})  # the solver and parameters of the factors shown
        self._train: tuple[Any, Observed] | None = None  # (id(ratings), id(cells)), their training interactions

        self.heading = QLabel()
        self.heading.setObjectName("explainHeading")
        self.heading.setTextFormat(Qt.TextFormat.PlainText)
        f = self.heading.font()
        f.setBold(True)
        self.heading.setFont(f)
        self.stale_banner = QLabel(STALE_TEXT)
        self.stale_banner.setObjectName("explainStale")
        self.stale_banner.setWordWrap(True)
        self.stale_banner.setStyleSheet(
            "background: #fff4ce; color: #5c4400; border: 1px solid #e8d48a; padding: 3px 6px;")
        self.stale_banner.hide()
        self.canvas = Waterfall(self)
        self.model = ExplanationModel(self)
        self.table = QTableView(self)
        self.table.setObjectName("explainTable")
        self.table.setAccessibleName("Terms of the prediction")
        self.table.setModel(self.model)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(20)
        h = self.table.horizontalHeader()
        h.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for c in (1, 2, 3):
            h.setSectionResizeMode(c, QHeaderView.ResizeMode.ResizeToContents)  # K + 7 rows at most: cheap
        self.table.setMinimumWidth(220)
        self.action_copy = make_action(self.table, "Copy explanation", self.copy, QKeySequence.StandardKey.Copy,
                                       context=Qt.ShortcutContext.WidgetShortcut, name="copyExplanation")
        self.table.addAction(self.action_copy)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        self.sentence = QLabel()
        self.sentence.setObjectName("explainSentence")
        self.sentence.setWordWrap(True)
        self.sentence.setTextFormat(Qt.TextFormat.PlainText)
        self.sentence.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.because = QLabel()  # implicit models: which of the user's own items drove the score (Hu et al. §5)
        self.because.setObjectName("explainBecause")
        self.because.setWordWrap(True)
        self.because.setTextFormat(Qt.TextFormat.PlainText)
        self.because.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.because.setToolTip("The score is a sum over the user's own items: how alike, for them, times confidence.")
        self.because.hide()
        self.note = QLabel()
        self.note.setObjectName("explainNote")
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: palette(placeholder-text); font-size: 11px;")
        self.note.setToolTip("P·Q = (P·M)(Mᵀ·Q) for any rotation or reflection M of the K tastes, and training does "
                             "not prefer one: read the tastes together, not one by one.")

        self._timer = QTimer(self)
        self._timer.setObjectName("mfstudioExplainRefresh")
        self._timer.setSingleShot(True)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self.refresh)

        self.split = QSplitter(Qt.Orientation.Horizontal, self)
        self.split.setObjectName("explainSplit")
        self.split.setChildrenCollapsible(False)
        self.split.addWidget(self.canvas)
        self.split.addWidget(self.table)
        self.split.setStretchFactor(0, 3)
        self.split.setStretchFactor(1, 2)
        self.split.setSizes([540, 360])  # the figure 3 : the table 2 (scaled to the width the panel gets)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.setSpacing(3)
        lay.addWidget(self.heading)
        lay.addWidget(self.stale_banner)
        lay.addWidget(self.split, 1)
        lay.addWidget(self.sentence)
        lay.addWidget(self.because)
        lay.addWidget(self.note)

        experiment.started.connect(self._on_started)
        experiment.progress.connect(self._on_progress)
        experiment.finished.connect(self._on_finished)
        experiment.loaded.connect(self._on_shown)
        experiment.reset.connect(self._on_shown)
        experiment.cleared.connect(self._on_cleared)
        experiment.stale.connect(self._on_stale)
        selection.changed.connect(self._on_selection)
        if parts is not None:
            parts.changed.connect(self._on_selection)
        if experiment.shown is not None:
            self._take(experiment.shown)
        self._stale = experiment.results_stale
        self.stale_banner.setVisible(self._stale and self._factors is not None)
        self.refresh()

    # ------------------------------------------------------------------ from the experiment and the selection
    def _take(self, shown: Shown) -> None:
        self._ratings, self._factors, self._cells = shown.ratings, shown.result.factors, shown.held_out_cells
        self._model = (shown.result.solver, dict(shown.result.params))

    @Slot(object)
    def _on_started(self, run: RunStart) -> None:
        same_shape = self._ratings is not None and self._ratings.shape == run.ratings.shape
        self._ratings, self._cells = run.ratings, run.held_out_cells
        self._model = (run.solver, dict(run.params))
        self._running = True
        if run.start_factors is not None:
            self._factors = run.start_factors
        elif not same_shape:
            self._factors = None  # a new model of other data: nothing to explain until its first report
        if self.isVisible() and same_shape:  # the next event-loop pass: the click that starts a run does much else
            self._timer.start(0)  # in this one (other data: its labels at once, never the old model's numbers)
        else:
            self.refresh()

    @Slot(object)
    def _on_progress(self, report: Progress) -> None:
        self._factors = report.snapshot.factors
        if self.isVisible():
            self._later()
        else:  # behind another tab: drawn when shown, not at every report
            self._pending = True

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        if getattr(self, "_pending", False):
            self._pending = False
            self._later()
        elif self._bars_owed is not None:
            self._draw_bars(self._bars_owed)

    @Slot(object)
    def _on_finished(self, end: RunEnd) -> None:
        self._running = False
        if end.shown is not None:
            self._take(end.shown)
        self.refresh()

    @Slot(object)
    def _on_shown(self, shown: Shown) -> None:
        self._take(shown)
        self.refresh()

    @Slot()
    def _on_cleared(self) -> None:
        self._ratings = self._factors = self._cells = None
        self._stale = False
        self.stale_banner.hide()
        self.refresh()

    @Slot(bool)
    def _on_stale(self, stale: bool) -> None:
        self._stale = stale
        self.stale_banner.setVisible(stale and self._factors is not None)
        self.refresh()  # the heading says "(old results)"

    @Slot(object)
    def _on_selection(self, _selected: Selected) -> None:
        self.refresh()

    def _later(self) -> None:
        if not self._timer.isActive():
            self._timer.start(REFRESH_MS)

    def stop_timers(self) -> None:
        """Stop the refresh timer (a pending refresh is dropped) and a frame being drawn."""
        self._timer.stop()
        self.canvas.stop_slices()

    # ------------------------------------------------------------------ showing
    @Slot()
    def refresh(self) -> None:
        """Explain the selected cell with the model on display now."""
        self._timer.stop()
        sel = self.selection.current
        r, f = self._ratings, self._factors
        e = None
        if r is None or f is None:
            msg = TRAINING_TEXT if self._running else NO_RESULT_TEXT
        elif sel.cell is None:
            if sel.user is not None and sel.user < r.n_users:
                msg = f"{r.users[sel.user]} is selected: pick one of their cells to see why the model predicts it."
            elif sel.item is not None and sel.item < r.n_items:
                msg = f"{r.items[sel.item]} is selected: pick one of its cells to see why the model predicts it."
            else:
                msg = EMPTY_TEXT
        elif not (sel.cell[0] < r.n_users and sel.cell[1] < r.n_items) or f.P.shape[0] != r.n_users:
            msg = "This cell lies outside the results shown; train again to explain it."
        else:
            shown = f if self.parts is None else masked(f, self.parts.parts)
            e = explain(r, shown, sel.cell[0], sel.cell[1], self._cells, self._model[0] or None)
            msg = ""
        self.explanation = e
        self.model.preferences = self.canvas.preferences = self._preferences()
        self._bars_owed = None
        now = time.monotonic()
        if e is not None and self._running and now - self._words_at < WORDS_EVERY_S and \
                not self.table.isHidden():
            # while a run goes the bars move at every refresh, the table and the sentence (whose relayout
            # costs more than the bars) a few times a second; the end of the run shows them exactly
            self._draw_bars(e)
            return
        self._words_at = now
        self.model.set_explanation(e, live=self._running)
        self.table.setHidden(e is None)  # with nothing to explain the figure says why, once
        self.sentence.setHidden(e is None)
        self.because.setHidden(True)
        if e is None:
            self.heading.setText("Why this number?")
            self.sentence.setText(msg)
            self.note.setText("")
            self.canvas.draw_message(msg)
            return
        where = f"{e.user_label} × {e.item_label}"
        old = " (old results)" if self._stale else ""
        held = f" ({HELD_OUT_TEXT})" if e.held_out else ""
        _set_text(self.heading, f"Why {short_text(e.shown)}? {where}{held}{old}")  # unchanged texts: no relayout
        self.heading.setToolTip(f"The model's prediction for {where}: {exact_text(e.prediction)}")
        _set_text(self.sentence, e.sentence)
        ladder = "" if self.parts is None or self.parts.parts.everything else LADDER_NOTE
        _set_text(self.note, ladder + rotation_note(e.biased))
        self._show_because(e)
        self._draw_bars(e)

    def _show_because(self, e: Explanation) -> None:
        """For a model of implicit feedback, the score as pushes from the user's own items (not while it trains)."""
        solver, params = self._model
        b = explain_implicit(self._ratings, self._factors, self._training_interactions(), e.user, e.item,
                             float(params.get("confidence", 1.0)), float(params.get("beta", 0.0))) \
            if solver and get_solver(solver).implicit and not self._running and self._ratings is not None else None
        self.because_explanation = b
        self.because.setHidden(b is None)
        if b is not None:
            top = ", ".join(f"{x.label} ({x.count:g}: {short_text(x.value, True)})" for x in b.because[:5]) + \
                (f" and {len(b.because) - 5:,} more" if len(b.because) > 5 else "")
            self.because.setText(f"{b.sentence}\nPushes (count: push): {top}." if b.because else b.sentence)

    def _preferences(self) -> bool:
        """Whether the model shown is one of counts (implicit-als): a preference, compared with a count."""
        solver = self._model[0]
        return bool(solver) and bool(get_solver(solver).implicit)

    def _training_interactions(self) -> Observed:
        """The shown ratings without the held-out cells (the model never saw those); kept for the same data."""
        r, cells = self._ratings, self._cells
        if self._train is None or self._train[0] != (id(r), id(cells)):
            self._train = ((id(r), id(cells)), r.split_cells(cells).train if cells is not None else r.observed)
        return self._train[1]

    def _draw_bars(self, e: Explanation) -> None:
        """The waterfall of ``e``; behind another tab, when the panel is shown (making its bars costs milliseconds)."""
        self._bars_owed = None if self.isVisible() else e
        if self._bars_owed is not None:
            return
        if math.isfinite(e.prediction):
            self.canvas.live = self._running
            self.canvas.draw_explanation(e)
        else:
            self.canvas.draw_message("The model's numbers are not finite: nothing to draw.")

    @Slot()
    def copy(self) -> None:
        """The breakdown, its sentence and the note on the clipboard as text."""
        e = self.explanation
        if e is None:
            self.statusMessage.emit("Select a cell first, then copy its explanation.")
            return
        QGuiApplication.clipboard().setText(f"{self.model.text()}\n\n{e.sentence}\n{rotation_note(e.biased)}\n")
        self.statusMessage.emit(f"Copied the explanation of {e.user_label} × {e.item_label}.")


def _set_text(label: QLabel, text: str) -> None:
    """``label`` says ``text``; written only when it says something else (a word-wrapped label lays out again)."""
    if label.text() != text:
        label.setText(text)
