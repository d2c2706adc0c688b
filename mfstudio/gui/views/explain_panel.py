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
from matplotlib.figure import Figure
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QBrush, QColor, QCursor, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QSizePolicy,
    QSplitter,
    QTableView,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from mfstudio.core import Factors, Ratings
from mfstudio.core.explain import HELD_OUT_TEXT, MEAN, Explanation, Term, explain, rotation_note
from mfstudio.core.explain_implicit import ImplicitExplanation, explain_implicit
from mfstudio.core.numbers import exact_text, short_text
from mfstudio.core.ratings import Observed
from mfstudio.core.solvers import get_solver
from mfstudio.gui.actions import make_action
from mfstudio.gui.experiment import Experiment, Progress, RunEnd, RunStart, Shown

# PySide6 must be imported before matplotlib's Qt backend picks a binding.
from mfstudio.gui.views.blit import Canvas, ScaledBackground, axis_key, solve_layout_with_room
from mfstudio.gui.viewstate import Selected, Selection

REFRESH_MS = 100  # during a run: at most ten explanations (and redraws) a second
WORDS_EVERY_S = 0.5  # during a run, the table and the sentence follow at most twice a second
UP, DOWN = "#2166ac", "#b2182b"  # the two ends of the diverging scale (blue up, red down; white is zero)
START, TOTAL, EDGE = "#9a9a9a", "#4a4a4a", "#222222"
SLOT_PX = 54  # the width a bar needs for its number and its name; with too many factors for the width, the
# biggest get a bar and the rest share one
EMPTY_TEXT = "Select a cell of R-hat or of the grid to see why the model predicts it."
NO_RESULT_TEXT = "Train a model, then select a cell of R-hat or of the grid to see why the model predicts it."
TRAINING_TEXT = "Training: the explanation follows as soon as the first results arrive."
STALE_TEXT = "The ratings changed after this model was trained: it explains the old data. Train again to update it."
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
        self._rows: list[tuple[str, str, str, str]] = []
        self._biggest = 0.0

    def set_explanation(self, e: Explanation | None) -> None:
        self.beginResetModel()
        self.explanation = e
        self._rows = [] if e is None else e.rows(short=True)
        self._biggest = max((abs(t.value) for t in (e.terms if e else []) if t.name != MEAN), default=0.0)
        self.endResetModel()

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
            what = [f"the prediction: the terms above added up (R-hat's value, unclipped){exact}",
                    f"what R-hat shows: the prediction clipped to the scale {lo:g} to {hi:g}{exact}",
                    f"the actual rating{held}{exact}" if e.actual is not None else "not rated: there is no rating here",
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


class Waterfall(Canvas):
    """The waterfall: the mean (with biases), each bias and taste as a step up or down, then the prediction,
    what is shown when it is clipped, and the actual rating as an outline.

    The bars, their numbers and the steps between them are moved, not made again, while the bars stay the same
    kind (a run's reports, another cell of the same model): they are blitted over a saved background, with the
    axes drawn again when their limits or names changed, so a live run costs no full draw. While ``live`` the
    vertical limits only grow."""

    def __init__(self, parent: QWidget | None = None) -> None:
        self.figure = Figure(figsize=(4.6, 2.8), dpi=100, layout="constrained")
        super().__init__(self.figure)
        self.setParent(parent)
        self.setObjectName("explainCanvas")
        self.setAccessibleName("Waterfall of the prediction")
        self.setMinimumSize(220, 160)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.ax = self.figure.add_subplot(1, 1, 1)
        self.bars: list[tuple[Any, str]] = []  # each bar and its tooltip
        self.explanation: Explanation | None = None
        self.live = False  # a run goes: the limits only grow (set by the panel)
        self._slots = 0
        self.labels: list[str] = []  # the numbers written on the bars, for tests
        self._numbers: list[Any] = []  # the annotations that write them
        self._steps: list[Any] = []  # the short lines from one bar's end to the next one's start
        self._scale_lines: list[Any] = []  # the rating scale's ends and zero
        self._kind: tuple = ()  # what the bars are: the same kind is moved, another is built anew
        self._bg = ScaledBackground(self)
        self._solve = True  # the next full draw solves the layout
        self.full_draws = self.blits = 0  # counters, for tests and benchmarks
        self.mpl_connect("motion_notify_event", self._hover)
        self.mpl_connect("draw_event", self._on_draw_event)
        self.mpl_connect("resize_event", self._on_resize)
        self.draw_message(EMPTY_TEXT)

    def draw_message(self, text: str) -> None:
        """No bars: ``text`` in the middle of the empty figure."""
        self.explanation = None
        self._kind = ()
        ax = self.ax
        ax.clear()
        ax.set_axis_off()
        self.bars, self.labels, self._numbers, self._steps, self._scale_lines = [], [], [], [], []
        ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", color="0.45", fontsize=9,
                wrap=True)
        self._rebuilt()

    def draw_explanation(self, e: Explanation) -> None:
        """The bars of ``e``: each term a step from where the last one ended, then the totals from zero."""
        self._slots = self._slot_count()
        others = sum(1 for t in e.terms if t.p is None)
        finals_n = 1 + int(e.clipped) + int(e.actual is not None)
        terms = _bar_terms(e, max(3, self._slots - others - finals_n))
        kind = (len(terms), e.clipped, e.actual is not None, e.held_out, e.scale, self._slots, e.fallback)
        if kind != self._kind or self.explanation is None:
            self._build(e, terms)
            self._kind = kind
        self.explanation = e
        self._place(e, terms)
        self._frame()

    def _build(self, e: Explanation, terms: list[Term]) -> None:
        """Make the bars, numbers and steps for explanations like ``e`` (placed by :meth:`_place`)."""
        ax = self.ax
        ax.clear()
        ax.set_axis_on()
        self.bars, self.labels, self._numbers, self._steps = [], [], [], []
        n_finals = 1 + int(e.clipped) + int(e.actual is not None)
        for x in range(len(terms) + n_finals):
            bar = ax.bar(x, 0.0, width=0.7, edgecolor="none", animated=True)[0]
            self.bars.append((bar, ""))
            self._numbers.append(ax.annotate("", (x, 0.0), xytext=(0, 2), textcoords="offset points", ha="center",
                                             va="bottom", fontsize=7.5, animated=True))
        for x in range(1, len(terms) + 1):  # a step into each term after the first, and into the prediction
            self._steps.append(ax.plot([x - 0.65, x - 0.35], [0, 0], color="0.45", lw=0.8, zorder=0,
                                       animated=True)[0])
        finals = [("prediction", TOTAL, None, "none")]
        if e.clipped:
            finals.append(("shown", "#8a8a8a", "//", "none"))
        if e.actual is not None:
            finals.append(("actual\n(held out)" if e.held_out else "actual", "white", None, EDGE))
        for k, (_name, colour, hatch, edge) in enumerate(finals):
            bar = self.bars[len(terms) + k][0]
            bar.set_facecolor(colour)
            bar.set_edgecolor(edge)
            bar.set_hatch(hatch)
            bar.set_linewidth(1.0)
        self._final_names = [f[0] for f in finals]
        lo, hi = e.scale
        self._scale_lines = [ax.axhline(y, color="0.55", lw=0.7, ls=":", zorder=0, animated=True) for y in (lo, hi)]
        self._scale_lines.append(ax.axhline(0, color="0.3", lw=0.8, animated=True))
        ax.set_title(f"dotted: the rating scale, {lo:g} to {hi:g}", loc="right", fontsize=7, color="0.4")
        ax.set_xlim(-0.6, len(self.bars) - 0.4)
        ax.tick_params(axis="y", labelsize=8)
        ax.set_ylabel("Rating", fontsize=9)
        ax.spines[["top", "right"]].set_visible(False)
        ax.xaxis.set_animated(True)
        ax.yaxis.set_animated(True)
        self._ylim: tuple[float, float] | None = None
        self._rebuilt()

    def _place(self, e: Explanation, terms: list[Term]) -> None:
        """Move the bars, numbers and steps to ``e``'s values, name the bars, set the vertical limits."""
        ticks: list[str] = []
        levels = [0.0, e.scale[0], e.scale[1]]
        level = 0.0
        self.labels = []
        for x, t in enumerate(terms):
            start = level
            bar, _tip = self.bars[x]
            bar.set_y(start)
            bar.set_height(t.value)
            bar.set_facecolor(START if t.name == MEAN else UP if t.value >= 0 else DOWN)
            label = _other_label(e, terms) if t.name == "other" else t.label(e.fallback)
            self.bars[x] = (bar, f"{label}: {exact_text(t.value)}")
            level = start + t.value
            self._write(x, level, short_text(t.value, signed=t.name != MEAN), up=t.value >= 0)
            if x:
                self._steps[x - 1].set_ydata([start, start])
            ticks.append(_tick(t, e))
            levels += [start, level]
        if terms:
            self._steps[len(terms) - 1].set_ydata([level, level])
        values = [e.prediction]
        tips = [f"the model's prediction: {exact_text(e.prediction)}"]
        if e.clipped:
            values.append(e.shown)
            tips.append(f"shown, clipped to the scale: {exact_text(e.shown)}")
        if e.actual is not None:
            held = f" ({HELD_OUT_TEXT})" if e.held_out else ""
            values.append(e.actual)
            tips.append(f"the actual rating: {exact_text(e.actual)}{held}")
        for k, (v, tip) in enumerate(zip(values, tips)):
            x = len(terms) + k
            bar = self.bars[x][0]
            bar.set_y(0.0)
            bar.set_height(v)
            self.bars[x] = (bar, tip)
            self._write(x, v, short_text(v), up=v >= 0)
            levels.append(v)
        ticks += self._final_names
        ax = self.ax
        ax.set_xticks(range(len(ticks)), ticks, fontsize=8)
        finite = [v for v in levels if np.isfinite(v)]
        ymin, ymax = min(finite), max(finite)
        pad = 0.12 * (ymax - ymin or 1.0)
        lo, hi = ymin - (pad if ymin < 0 else 0), ymax + pad
        if self.live and self._ylim is not None:  # grow only while a run goes: the axes stay put
            lo, hi = min(lo, self._ylim[0]), max(hi, self._ylim[1])
        self._ylim = (lo, hi)
        ax.set_ylim(lo, hi)

    def _write(self, x: int, y: float, text: str, up: bool) -> None:
        ann = self._numbers[x]
        ann.xy = (x, y)
        ann.set_text(text)
        ann.xyann = (0, 2 if up else -2)
        ann.set_verticalalignment("bottom" if up else "top")
        self.labels.append(text)

    # -- drawing ------------------------------------------------------------------------
    def _moving(self) -> list[Any]:
        return [*self._steps, *(bar for bar, _tip in self.bars), *self._numbers]

    def _scales(self) -> list[Any]:
        return [*self._scale_lines, self.ax.xaxis, self.ax.yaxis] if self._kind else []

    def _scales_key(self) -> tuple:
        return (axis_key(self.ax), tuple(t.get_text() for t in self.ax.get_xticklabels()))

    def _rebuilt(self) -> None:
        """Something besides the bars changed: the next frame is a full draw that solves the layout again."""
        self._bg.clear()
        self._solve = True
        self.figure.set_layout_engine("constrained")
        self.draw_idle()

    def _frame(self) -> None:
        if self._bg.base is None or getattr(self, "_draw_pending", False) or not self.isVisible():
            self.draw_idle()
            return
        self._bg.restore(self._scales(), self._scales_key())
        for a in self._moving():
            self.figure.draw_artist(a)
        self.blit(self.figure.bbox)
        self.blits += 1

    def draw(self) -> None:
        if self._solve and self._kind:  # room for a wider rating label than now ("-0.5", "10")
            solve_layout_with_room(self.figure, [self.ax], 4)
        self._solve = False
        self.full_draws += 1
        super().draw()

    def _on_draw_event(self, _event: Any) -> None:
        self.figure.set_layout_engine("none")  # kept until something besides the bars changes
        self._bg.save()
        if not self._kind:
            return
        self._bg.restore(self._scales(), self._scales_key())
        for a in self._moving():
            self.figure.draw_artist(a)

    def _on_resize(self, _event: Any) -> None:
        self._bg.clear()
        self._solve = True
        self.figure.set_layout_engine("constrained")

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        if self.explanation is not None and self._slot_count() != self._slots:
            self.draw_explanation(self.explanation)  # room for more (or fewer) bars

    def _slot_count(self) -> int:
        return max(6, (self.width() - 60) // SLOT_PX)  # the y axis takes about 60 px

    def _hover(self, event: Any) -> None:
        if event.inaxes is not self.ax:
            return
        for bar, tip in self.bars:
            if bar.contains(event)[0]:
                QToolTip.showText(QCursor.pos(), tip, self)
                return
        QToolTip.hideText()


def _tick(t: Term, e: Explanation) -> str:
    if t.name == MEAN:
        return "mean\n(fallback)" if e.fallback else "mean\nμ"
    if t.name == "user bias":
        return "user\nbias"
    if t.name == "item bias":
        return "item\nbias"
    if t.name == "other":
        return "other\ntastes"
    return t.name


def _bar_terms(e: Explanation, taste_bars: int) -> list[Term]:
    """The terms that get a bar: all of them, or with more factors than ``taste_bars`` the biggest
    ``taste_bars - 1`` (in their order) and one bar for the rest together."""
    tastes = [t for t in e.terms if t.p is not None]
    if len(tastes) <= taste_bars:
        return list(e.terms)
    keep = {id(t) for t in sorted(tastes, key=lambda t: -abs(t.value))[:max(taste_bars - 1, 1)]}
    rest = [t for t in tastes if id(t) not in keep]
    other = Term("other", math.fsum(t.value for t in rest))
    return [t for t in e.terms if t.p is None or id(t) in keep] + [other]


def _other_label(e: Explanation, shown: list[Term]) -> str:
    n = sum(1 for t in e.terms if t.p is not None) - sum(1 for t in shown if t.p is not None)
    return f"the other {n} tastes together"


class ExplainPanel(QWidget):
    """Why this number? The selected cell's prediction taken apart: waterfall, table, sentence, note."""

    statusMessage = Signal(str)

    def __init__(self, experiment: Experiment, selection: Selection, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("explainPanel")
        self.experiment = experiment
        self.selection = selection
        self._ratings: Ratings | None = None
        self._factors: Factors | None = None
        self._cells: np.ndarray | None = None
        self._stale = False
        self._running = False
        self._words_at = 0.0  # when the table and the sentence were last written (monotonic seconds)
        self.explanation: Explanation | None = None
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
            self._timer.start()

    def stop_timers(self) -> None:
        """Stop the refresh timer (a pending refresh is dropped)."""
        self._timer.stop()

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
            e = explain(r, f, sel.cell[0], sel.cell[1], self._cells)
            msg = ""
        self.explanation = e
        now = time.monotonic()
        if e is not None and self._running and now - self._words_at < WORDS_EVERY_S and \
                not self.table.isHidden():
            # while a run goes the bars move at every refresh, the table and the sentence (whose relayout
            # costs more than the bars) a few times a second; the end of the run shows them exactly
            self._draw_bars(e)
            return
        self._words_at = now
        self.model.set_explanation(e)
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
        self.heading.setText(f"Why {short_text(e.shown)}? {where}{held}{old}")
        self.heading.setToolTip(f"The model's prediction for {where}: {exact_text(e.prediction)}")
        self.sentence.setText(e.sentence)
        self.note.setText(rotation_note(e.biased))
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

    def _training_interactions(self) -> Observed:
        """The shown ratings without the held-out cells (the model never saw those); kept for the same data."""
        r, cells = self._ratings, self._cells
        if self._train is None or self._train[0] != (id(r), id(cells)):
            self._train = ((id(r), id(cells)), r.split_cells(cells).train if cells is not None else r.observed)
        return self._train[1]

    def _draw_bars(self, e: Explanation) -> None:
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
