"""Similar items and users: the selected item's (or user's) nearest by cosine and by dot product, side by side.

The panel follows the shared selection (an item, or the item of a cell, shows that item's neighbours; a user
alone shows that user's) and the experiment (a run's progress refreshes it at most four times a second and
only while it is visible, a result at once; a new document empties it; stale results are said to be stale).
Under the two lists, one sentence on why they differ; beside them a scatter of each vector's length against
its number of training ratings, which shows why the dot product leans to the popular ones. The maths is in
:mod:`mfstudio.core.similar` (O(K x items) a list); the scatter is a matplotlib ``Figure`` on the project's
:class:`~mfstudio.gui.views.blit.Canvas`, never pyplot.
"""

from __future__ import annotations

import functools
import io
import time
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QCursor, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QSplitter,
    QTableView,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from mfstudio.core import Factors, Ratings
from mfstudio.core.numbers import exact_text, table_text
from mfstudio.core.similar import ITEM, USER, Comparison, Lengths, Similar, compare, lengths, training_counts
from mfstudio.gui.actions import make_action
from mfstudio.gui.experiment import Experiment, Progress, RunEnd, RunStart, Shown, Updated

# PySide6 must be imported before matplotlib's Qt backend picks a binding.
from mfstudio.gui.views.blit import Canvas, row_layout
from mfstudio.gui.views.slices import Step, axis_parts, draw_live
from mfstudio.gui.views.widgets import caption, save_figure_dialog
from mfstudio.gui.viewstate import Selected, Selection
from mfstudio.io.atomic import atomic_write

REFRESH_MS = 250  # during a run: at most four refreshes a second
PACE = 3  # ... and at most one every PACE times what the last one cost the window (a third of its time, at most)
DEFAULT_TOP, MAX_TOP = 10, 100
EMPTY_TEXT = "Select an item or a user to see the ones most like it."
NO_RESULT_TEXT = "Train a model, then select an item or a user to see the ones most like it."
TRAINING_TEXT = "Training: the lists follow as soon as the first results arrive."
STALE_TEXT = "The ratings changed after this model was trained: its neighbours are the old data's. Train again."
CAPTION = ("Only the taste vectors count, not the biases. Hover a point of the scatter for its name; Ctrl+C on a "
           "list copies both.")
COLUMNS = ("#", "Name", "Score", "Ratings")
OTHER, COSINE_COLOUR, DOT_COLOUR, QUERY_COLOUR = "#b5b5b5", "#2166ac", "#d6604d", "#222222"


class SimilarModel(QAbstractTableModel):
    """One list as a table: rank, name, score (3 decimals shown, the exact value in the tooltip and EditRole)
    and the number of training ratings."""

    def __init__(self, measure: str, parent: Any = None) -> None:
        super().__init__(parent)
        self.measure = measure  # the score column's name: "Cosine" or "Dot product"
        self.similar: Similar | None = None
        self._names: list[str] = []
        self._counts: list[int] = []

    def set_list(self, similar: Similar | None, ratings: Ratings | None = None, lens: Lengths | None = None) -> None:
        self.beginResetModel()
        self.similar = similar
        if similar is None or ratings is None or lens is None:
            self._names, self._counts = [], []
        else:
            self._names = [name for name, _score in similar.rows(ratings)]
            self._counts = [int(lens.ratings[k]) for k in similar.others]
        self.endResetModel()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._names)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def score(self, row: int) -> float:
        assert self.similar is not None
        return float(self.similar.scores[row])

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or self.similar is None:
            return None
        r, c = index.row(), index.column()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            if c == 0:
                return r + 1
            if c == 1:
                return self._names[r]
            if c == 2:
                return table_text(self.score(r), 3) if role == Qt.ItemDataRole.DisplayRole else self.score(r)
            return self._counts[r]
        if role == Qt.ItemDataRole.TextAlignmentRole and c != 1:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self.tooltip(r, c)
        if role == Qt.ItemDataRole.ForegroundRole and not self.similar.known[r]:
            return QGuiApplication.palette().placeholderText()
        return None

    def tooltip(self, r: int, c: int) -> str:
        s = self.similar
        assert s is not None
        name = self._names[r]
        if not s.known[r]:
            return f"{name} has no taste vector (no training ratings): its score is 0 and it comes last."
        if c == 2:
            return f"{self.measure} of {name} with the selected {s.kind}: {exact_text(self.score(r))}"
        if c == 3:
            n = self._counts[r]
            return f"{name} has {n:,} training rating{'' if n == 1 else 's'}."
        return f"{name}: number {r + 1} by {self.measure.lower()}"

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(COLUMNS):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]  # the list's title above says which score
        if role == Qt.ItemDataRole.ToolTipRole:
            return ("Rank", "Name", f"{self.measure} of the two taste vectors (hover a cell for the exact value)",
                    "Number of training ratings")[section]
        return None

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def text(self) -> str:
        """The list as tab-separated text with exact scores, for the clipboard."""
        lines = ["\t".join(self.measure if c == 2 else name for c, name in enumerate(COLUMNS))]
        for r, name in enumerate(self._names):
            lines.append(f"{r + 1}\t{name}\t{exact_text(self.score(r))}\t{self._counts[r]}")
        return "\n".join(lines)


class LengthScatter(Canvas):
    """Each item's (or user's) vector length against its number of training ratings; the selected one and its
    neighbours by either measure marked."""

    def __init__(self, parent: QWidget | None = None) -> None:
        self.figure = Figure(figsize=(3.6, 3.0), dpi=100)  # laid out by row_layout: a solve cost a full draw
        super().__init__(self.figure)
        self.setParent(parent)
        self.setObjectName("similarScatter")
        self.setAccessibleName("Vector length against number of ratings")
        self.setMinimumSize(220, 200)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.ax = self.figure.add_subplot(1, 1, 1)
        self.points: Any = None  # every one's (ratings, length), in index order
        self._marks: list[Any] = []  # the top by cosine, the top by dot product, the one itself (with a comparison)
        self._shape: tuple | None = None  # what the artists were made for: (kind, the one's name or None)
        self.lengths: Lengths | None = None
        self.names: tuple[str, ...] = ()
        self._unbuilt: tuple[Lengths, tuple[str, ...], Comparison | None] | None = None  # asked for while hidden
        self.frame_s = 0.0  # the time the last whole frame's slices took (the window's time, for pacing a run)
        self._cost = 0.0  # the frame being drawn's, so far
        self.mpl_connect("motion_notify_event", self._hover)
        self.draw_message(EMPTY_TEXT)

    def draw_message(self, text: str) -> None:
        """No points: ``text`` in the middle of the empty figure."""
        self.points, self.lengths, self.names, self._unbuilt = None, None, (), None
        self._marks, self._shape = [], None
        self.stop_slices()
        ax = self.ax
        ax.clear()
        ax.set_axis_off()
        ax.set_position([0.0, 0.0, 1.0, 1.0])
        ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", color="0.45", fontsize=9,
                wrap=True)
        self.draw_idle()

    def draw_lengths(self, lens: Lengths, names: tuple[str, ...], c: Comparison | None) -> None:
        """The scatter of ``lens``; with ``c`` its one and both lists marked. While the scatter is hidden (behind
        another tab) it is made when shown: making its artists costs tens of milliseconds at a run's start and end."""
        self.lengths, self.names = lens, tuple(names)
        self._unbuilt = (lens, self.names, c)
        if self.isVisible():
            self._build(split=True)

    def showEvent(self, event: Any) -> None:
        self._build()
        super().showEvent(event)

    def _build(self, split: bool = False) -> None:
        """The scatter of what was asked for last: the artists made once per kind and selected one, then moved
        (a run's refreshes), laid out from the fonts' sizes and drawn a slice per event-loop pass. ``split``: when
        the artists are made anew (tens of milliseconds), the rest follows in the next event-loop pass."""
        if self._unbuilt is None:
            return
        (lens, names, c), self._unbuilt = self._unbuilt, None
        ax = self.ax
        shape = (lens.kind, None if c is None else names[c.cosine.index])
        if self.points is None or shape != self._shape:
            self._make(lens.kind, shape[1])
            self._shape = shape
            if split:  # the frame the next pass draws makes any full draw asked for meanwhile (a resize's)
                self._draw_pending = False
                self._unbuilt = (lens, names, c)
                QTimer.singleShot(0, self._build)
                return
        xy = np.column_stack([lens.ratings, lens.length]).astype(np.float64)
        self.points.set_offsets(xy)
        if c is not None:
            for mark, which in zip(self._marks, (c.cosine.others, c.dot.others, [c.cosine.index])):
                mark.set_offsets(xy[np.asarray(which, dtype=np.int64)])
        r = lens.correlation
        who = "items" if lens.kind == ITEM else "users"
        ax.set_title(f"{who.capitalize()}: correlation {'not defined' if r is None else f'{r:.2f}'}", fontsize=9)
        # the limits autoscaling gave (5% margins) from the points as they are now: moved points do not update them
        hi = xy.max(axis=0) if len(xy) else np.zeros(2)
        ax.set_xlim(-0.5, float(hi[0]) + 0.05 * (float(hi[0]) + 0.5) + 0.5)
        ax.set_ylim(0.0, float(hi[1]) * 1.05 if hi[1] > 0 else 1.0)
        self._layout()
        self._frame()

    def _layout(self) -> None:
        """Room for the labels from the fonts' sizes (a few ms; a constrained layout's solve cost a full draw)."""
        ax = self.ax
        labels = ax.yaxis.get_major_formatter().format_ticks(ax.yaxis.get_majorticklocs())
        row_layout(self.figure, [ax], max((len(t) for t in labels), default=3))

    def _make(self, kind: str, name: str | None) -> None:
        """The artists of a scatter of ``kind``; with ``name`` (the one compared) its marks and the legend."""
        ax = self.ax
        ax.clear()
        ax.set_axis_on()
        who = "items" if kind == ITEM else "users"
        empty = np.zeros((0, 2))
        self.points = ax.scatter(empty[:, 0], empty[:, 1], s=14, color=OTHER, edgecolor="none", zorder=1,
                                 label=f"other {who}")
        self._marks = []
        if name is not None:
            self._marks = [
                ax.scatter(empty[:, 0], empty[:, 1], s=46, facecolor="none", edgecolor=COSINE_COLOUR, lw=1.3,
                           zorder=2, label="top by cosine"),
                ax.scatter(empty[:, 0], empty[:, 1], s=16, color=DOT_COLOUR, edgecolor="none", zorder=3,
                           label="top by dot product"),
                ax.scatter(empty[:, 0], empty[:, 1], s=80, marker="*", color=QUERY_COLOUR, zorder=4, label=name)]
            ax.legend(fontsize=7, loc="best", frameon=True, framealpha=0.85, handletextpad=0.3, borderpad=0.3,
                      labelspacing=0.25)
        ax.set_xlabel("ratings", fontsize=8)
        ax.set_ylabel("length of the taste vector", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.spines[["top", "right"]].set_visible(False)

    def _frame(self) -> None:
        """Draw the figure: in slices while shown (a full draw of the scatter took 120-250 ms), else when shown."""
        if not self.isVisible():
            self.draw_idle()
            return
        self._draw_pending = False  # a full draw asked for before (a resize, a message) is this frame's to make
        self._cost = 0.0
        self.draw_in_slices([*map(self._timed, self._steps()), self._done], self.update, now=False)

    def _timed(self, step: Step) -> Step:
        def run() -> None:
            t0 = time.perf_counter()
            step()
            self._cost += time.perf_counter() - t0
        return run

    def _done(self) -> None:
        self.frame_s = self._cost

    def _steps(self) -> list[Step]:
        """A full draw of the figure as steps, in the order :meth:`Figure.draw` draws (as :func:`figure_steps`):
        the cleared buffer and the figure's patch, the axes' patch, then its children by z-order, each axis a
        step per tick label (an axis and its labels took 25 ms as one step)."""
        r, ax = self.get_renderer(), self.ax
        steps: list[Step] = [r.clear, functools.partial(self.figure.patch.draw, r)]
        _ = ax.viewLim  # settles pending autoscaling, as a draw does first
        steps.append(functools.partial(ax.patch.draw, r))
        for artist in sorted((a for a in ax.get_children() if a is not ax.patch and not a.get_animated()),
                             key=lambda a: a.get_zorder()):
            if artist is ax.xaxis or artist is ax.yaxis:
                steps += [functools.partial(part.draw, r) for part in axis_parts(artist)]
            else:
                steps.append(functools.partial(draw_live, artist, r))
        return steps

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        if self.points is not None and self._unbuilt is None:  # the margins are in pixels: laid out again for the
            # new size (a build to come lays it out itself)
            self._layout()
            if self.isVisible() and getattr(self, "_draw_pending", False):
                self._frame()  # the full draw the resize asked for (at the next paint, at once: 120-250 ms), in slices

    def offsets(self) -> np.ndarray:
        """The points drawn, as rows (ratings, length); none without a scatter."""
        self._build()
        return np.zeros((0, 2)) if self.points is None else np.asarray(self.points.get_offsets(), dtype=np.float64)

    def save(self, path: Path) -> Path:
        """Write the figure to ``path`` (PNG, SVG or PDF by its extension)."""
        self._build()
        self.slices.finish()
        buf = io.BytesIO()
        self.figure.savefig(buf, dpi=150, format=path.suffix.lower()[1:])
        atomic_write(path, buf.getvalue())  # rendered whole first: a failed save keeps the old file
        return path

    def _hover(self, event: Any) -> None:
        if self.points is None or event.inaxes is not self.ax or self.lengths is None:
            return
        hit, info = self.points.contains(event)
        if not hit:
            QToolTip.hideText()
            return
        lens = self.lengths
        k = int(info["ind"][0])
        QToolTip.showText(QCursor.pos(), f"{self.names[k]}: {int(lens.ratings[k]):,} ratings, length "
                                         f"{exact_text(float(lens.length[k]))}", self)


class SimilarPanel(QWidget):
    """The selected item's (or user's) nearest by cosine and by dot product, why they differ, and the scatter
    of vector length against number of ratings."""

    statusMessage = Signal(str)

    def __init__(self, experiment: Experiment, selection: Selection, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("similarPanel")
        self.experiment = experiment
        self.selection = selection
        self._ratings: Ratings | None = None
        self._factors: Factors | None = None
        self._cells: np.ndarray | None = None
        self._counts: dict[str, np.ndarray] = {}  # kind -> the training ratings' counts of _ratings, _cells
        self._stale = False
        self._running = False
        self._pending = False
        self.comparison: Comparison | None = None

        self.heading = QLabel()
        self.heading.setObjectName("similarHeading")
        self.heading.setTextFormat(Qt.TextFormat.PlainText)
        self.heading.setWordWrap(True)
        f = self.heading.font()
        f.setBold(True)
        self.heading.setFont(f)
        self.top = QSpinBox(self)
        self.top.setObjectName("similarTop")
        self.top.setRange(1, MAX_TOP)
        self.top.setValue(DEFAULT_TOP)
        self.top.setToolTip("How many of the nearest to list")
        self.top.valueChanged.connect(self.refresh)
        top_label = QLabel("Top")
        top_label.setBuddy(self.top)
        self.save_button = QPushButton("Save scatter…", self)
        self.save_button.setObjectName("similarSaveScatter")
        self.save_button.setToolTip("Save the scatter of vector length against ratings as PNG, SVG or PDF")
        self.save_button.clicked.connect(self.save_scatter_dialog)
        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        bar.addWidget(self.heading, 1)
        bar.addWidget(top_label)
        bar.addWidget(self.top)
        bar.addWidget(self.save_button)

        self.stale_banner = QLabel(STALE_TEXT)
        self.stale_banner.setObjectName("similarStale")
        self.stale_banner.setWordWrap(True)
        self.stale_banner.setStyleSheet(
            "background: #fff4ce; color: #5c4400; border: 1px solid #e8d48a; padding: 3px 6px;")
        self.stale_banner.hide()

        self.cosine_model = SimilarModel("Cosine", self)
        self.dot_model = SimilarModel("Dot product", self)
        self.action_copy = make_action(self, "Copy both lists", self.copy, QKeySequence.StandardKey.Copy,
                                       context=Qt.ShortcutContext.WidgetShortcut, name="copySimilar")
        self.cosine_table = self._table(self.cosine_model, "similarCosine", "Nearest by cosine")
        self.dot_table = self._table(self.dot_model, "similarDot", "Nearest by dot product")
        lists = QWidget(self)
        grid = QHBoxLayout(lists)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(6)
        for title, tip, table in (
                ("By direction (cosine)", "The angle between the taste vectors only, from −1 to 1",
                 self.cosine_table),
                ("By dot product (direction × length)", "The angle times both vectors' lengths: long vectors "
                 "score higher", self.dot_table)):
            col = QVBoxLayout()
            col.setSpacing(2)
            name = QLabel(title)
            name.setToolTip(tip)
            col.addWidget(name)
            col.addWidget(table, 1)
            grid.addLayout(col, 1)
        self.canvas = LengthScatter(self)

        self.split = QSplitter(Qt.Orientation.Horizontal, self)
        self.split.setObjectName("similarSplit")
        self.split.setChildrenCollapsible(False)
        self.split.addWidget(lists)
        self.split.addWidget(self.canvas)
        self.split.setStretchFactor(0, 2)
        self.split.setStretchFactor(1, 1)
        self.split.setSizes([600, 300])  # the lists 2 : the scatter 1 (scaled to the width the panel gets)

        self.sentence = QLabel()
        self.sentence.setObjectName("similarSentence")
        self.sentence.setWordWrap(True)
        self.sentence.setTextFormat(Qt.TextFormat.PlainText)
        self.sentence.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.note = caption(CAPTION)

        self._timer = QTimer(self)
        self._timer.setObjectName("mfstudioSimilarRefresh")
        self._timer.setSingleShot(True)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self._on_timer)

        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.setSpacing(3)
        lay.addLayout(bar)
        lay.addWidget(self.stale_banner)
        lay.addWidget(self.split, 1)
        lay.addWidget(self.sentence)
        lay.addWidget(self.note)

        experiment.started.connect(self._on_started)
        experiment.progress.connect(self._on_progress)
        experiment.finished.connect(self._on_finished)
        experiment.loaded.connect(self._on_shown)
        experiment.reset.connect(self._on_shown)
        experiment.updated.connect(self._on_updated)
        experiment.cleared.connect(self._on_cleared)
        experiment.stale.connect(self._on_stale)
        selection.changed.connect(self._on_selection)
        if experiment.shown is not None:
            self._take(experiment.shown)
        self._stale = experiment.results_stale
        self.refresh()

    def _table(self, model: SimilarModel, name: str, accessible: str) -> QTableView:
        t = QTableView(self)
        t.setObjectName(name)
        t.setAccessibleName(accessible)
        t.setModel(model)
        t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        t.setWordWrap(False)
        t.verticalHeader().hide()
        t.verticalHeader().setDefaultSectionSize(20)
        h = t.horizontalHeader()
        h.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)  # MAX_TOP rows at most: cheap
        h.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        t.setMinimumWidth(200)
        t.addAction(self.action_copy)
        t.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        return t

    # ------------------------------------------------------------------ from the experiment and the selection
    def _take(self, shown: Shown) -> None:
        self._set_data(shown.ratings, shown.held_out_cells)
        self._factors = shown.result.factors

    def _set_data(self, ratings: Ratings, cells: np.ndarray) -> None:
        if ratings is not self._ratings or cells is not self._cells:
            self._counts = {}
        self._ratings, self._cells = ratings, cells

    def _training_counts(self, kind: str) -> np.ndarray:
        """Each item's (or user's) number of training ratings, counted once per data and hold-out (a pass over
        the ratings: 20 ms at 10 M, too much for every refresh of a run)."""
        r = self._ratings
        assert r is not None
        if kind not in self._counts:
            cells = self._cells if self._cells is not None else np.zeros((0, 2), np.int64)
            self._counts[kind] = training_counts(r, cells, kind)
        return self._counts[kind]

    @Slot(object)
    def _on_started(self, run: RunStart) -> None:
        same_shape = self._ratings is not None and self._ratings.shape == run.ratings.shape
        self._set_data(run.ratings, run.held_out_cells)
        self._running = True
        self._timer.setInterval(REFRESH_MS)  # the pace follows this run's frames
        if run.start_factors is not None:
            self._factors = run.start_factors
        elif not same_shape:
            self._factors = None  # a new model of other data: nothing to show until its first report
        self.refresh()

    @Slot(object)
    def _on_progress(self, report: Progress) -> None:
        self._factors = report.snapshot.factors
        if self.isVisible():
            self._later()
        else:  # behind another tab: refreshed when shown, not at every report
            self._pending = True

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        if self._pending:
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

    @Slot(object)
    def _on_updated(self, update: Updated) -> None:
        self._take(update.shown)
        self.refresh()

    @Slot()
    def _on_cleared(self) -> None:
        self._ratings = self._factors = self._cells = None
        self._counts = {}
        self._stale = self._running = self._pending = False
        self.refresh()

    @Slot(bool)
    def _on_stale(self, stale: bool) -> None:
        self._stale = stale
        self.refresh()

    @Slot(object)
    def _on_selection(self, _selected: Selected) -> None:
        self.refresh()

    @Slot()
    def _on_timer(self) -> None:
        """A run's refresh, unless the scatter is still drawing the last one: then a little later (frames that
        cost more than the pace never pile up)."""
        if self._running and self.canvas.slices.busy():
            self._later()
            return
        t0 = time.perf_counter()
        self.refresh()
        cost = time.perf_counter() - t0 + self.canvas.frame_s  # the lists, the scatter's making and its slices
        self._timer.setInterval(int(max(REFRESH_MS, PACE * 1000 * cost)))

    def _later(self) -> None:
        if not self._timer.isActive():
            self._timer.start()

    def stop_timers(self) -> None:
        """Stop the refresh timer (a pending refresh is dropped)."""
        self._timer.stop()

    # ------------------------------------------------------------------ showing
    def chosen(self) -> tuple[str, int] | None:
        """What the selection asks for: ("item", index) for an item or a cell, ("user", index) for a user."""
        sel = self.selection.current
        if sel.item is not None:
            return ITEM, sel.item
        if sel.user is not None:
            return USER, sel.user
        return None

    @Slot()
    def refresh(self) -> None:
        """The lists, sentence and scatter for the selection with the model on display now."""
        self._timer.stop()
        r, f = self._ratings, self._factors
        self.stale_banner.setVisible(self._stale and f is not None)
        c: Comparison | None = None
        lens: Lengths | None = None
        if r is None or f is None:
            msg = TRAINING_TEXT if self._running else NO_RESULT_TEXT
        elif f.P.shape[0] != r.n_users or f.Q.shape[1] != r.n_items:
            msg = "These results belong to other data; train again to compare."
        elif not (np.all(np.isfinite(f.P)) and np.all(np.isfinite(f.Q))):
            msg = "The model's numbers are not finite: nothing to compare."
        elif (want := self.chosen()) is None:
            msg = EMPTY_TEXT
            lens = lengths(f, None, ITEM, counts=self._training_counts(ITEM))  # the items' scatter shows the
            # popularity effect already
        else:
            kind, index = want
            count = r.n_items if kind == ITEM else r.n_users
            if index >= count:
                msg = f"This {kind} lies outside the results shown; train again to compare it."
            else:
                c = compare(f, None, kind, index, self.top.value(), counts=self._training_counts(kind))
                lens = c.lengths
                msg = ""
        self.comparison = c
        for model, table, similar in ((self.cosine_model, self.cosine_table, c and c.cosine),
                                      (self.dot_model, self.dot_table, c and c.dot)):
            model.set_list(similar, r, lens)
            table.setEnabled(c is not None)
        if c is None:
            self.heading.setText(msg)
            self.heading.setToolTip("")
            self.sentence.setText("")
            self.sentence.hide()
        else:
            assert r is not None
            name = (r.items if c.cosine.kind == ITEM else r.users)[c.cosine.index]
            old = " (old results)" if self._stale else ""
            self.heading.setText(f"{'Items' if c.cosine.kind == ITEM else 'Users'} like {name}{old}")
            self.heading.setToolTip(f"The {self.top.value()} {c.cosine.kind}s whose taste vectors are nearest to "
                                    f"{name}'s, by two measures")
            self.sentence.setText(c.sentence)
            self.sentence.show()
        if lens is None:
            self.canvas.draw_message(msg)
        else:
            assert r is not None
            self.canvas.draw_lengths(lens, r.items if lens.kind == ITEM else r.users, c)

    @Slot()
    def copy(self) -> None:
        """Both lists and the sentence on the clipboard as text."""
        c, r = self.comparison, self._ratings
        if c is None or r is None:
            self.statusMessage.emit("Select an item or a user first, then copy its lists.")
            return
        QGuiApplication.clipboard().setText(f"{self.heading.text()}\n\n{self.cosine_model.text()}\n\n"
                                            f"{self.dot_model.text()}\n\n{c.sentence}\n")
        name = (r.items if c.cosine.kind == ITEM else r.users)[c.cosine.index]
        self.statusMessage.emit(f"Copied the {c.cosine.kind}s like {name}.")

    def save_scatter(self, path: Path) -> Path:
        """Save the scatter to ``path``."""
        return self.canvas.save(path)

    @Slot()
    def save_scatter_dialog(self) -> None:
        """Ask where to save the scatter, then save it."""
        p = save_figure_dialog(self, "Save the scatter", "similar-lengths.png", "The scatter", self.save_scatter)
        if p is not None:
            self.statusMessage.emit(f"Saved the scatter to {p}.")
