"""The latent map: users and items as points in taste space, live while a model trains.

With K = 2 the points are the rows of P and the columns of Q themselves; with K > 2 an
uncentred PCA that keeps the dot product visible (the maths is in :mod:`mfstudio.core.projection`).
The map subscribes to the experiment (progress: the snapshot's factors, redrawn at the loss
curve's pace; finished, loaded, reset: the shown result; cleared: nothing), to the shared
:class:`Selection` (a user's taste arrow, the items they rated ringed and the lines of equal
predicted rating across the arrow; an item's raters ringed) and to the ladder's
:class:`ShownParts` (it draws ``masked(factors, parts)``). It reads no other view.

A picture keeps the orientation it had while a model trained (each frame's PCA signs follow the
last frame's); a model opened from a file or a new random start is drawn by the fixed rule.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QEvent, QObject, QStringListModel, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QCursor
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QCompleter,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QStyle,
    QToolButton,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from mfstudio.core import Factors, Ratings
from mfstudio.core.ladder import Parts, masked
from mfstudio.core.numbers import table_text
from mfstudio.core.patterns import Planted, aligned_truth
from mfstudio.core.projection import Projection, project
from mfstudio.gui import help_texts
from mfstudio.gui.experiment import Experiment, Progress, RunEnd, RunStart, Shown, Updated
from mfstudio.gui.newcomer import Newcomer, Person
from mfstudio.gui.views.latent_canvas import MapCanvas, Overlay
from mfstudio.gui.views.latent_data import MapData
from mfstudio.gui.views.widgets import caption, save_figure_dialog
from mfstudio.gui.viewstate import Selected, Selection, ShownParts

TRAIL_POINTS = 6  # the places a point's trail keeps (One update moves it a little each time)
TRAIL_UPDATES = 3  # the updates whose user and item keep a trail
REDRAW_MS = 80  # the loss curve's pace: at most ~12 frames a second, whatever the progress rate
CAPTION = ("Users (rows of P) and items (columns of Q) in taste space: the further along a user's arrow, the "
           "higher the predicted rating.")
IMPLICIT_CAPTION = CAPTION.replace("predicted rating", "predicted preference")  # counts of events
EMPTY_HINT = "Press Train to see the users\nand items in taste space"
DIVERGED_HINT = "The model diverged:\nthere is nothing to place on the map"
NO_FEATURES_HINT = "Every latent feature is switched off:\nall points sit at the origin"
NAME_CHARS = 28
MAX_POINTS = 5_000  # points drawn at most: bigger data shows a fixed random sample (and the selection's points)


def _short(name: str) -> str:
    return name if len(name) <= NAME_CHARS else name[:NAME_CHARS - 1] + "…"


class LatentMap(QWidget):
    """The latent map panel: a search box, a genre filter, Save figure…, the canvas and its sentence."""

    statusMessage = Signal(str)

    def __init__(self, experiment: Experiment, selection: Selection, parts: ShownParts,
                 parent: QWidget | None = None, newcomer: Newcomer | None = None) -> None:
        super().__init__(parent)
        self.selection, self.parts = selection, parts
        self.newcomer = newcomer  # the person being added (Add me), drawn as a star; None: never drawn
        self._data: MapData | None = None
        self._factors: Factors | None = None
        self._version = 0  # counts changes of the factors or the parts: the projection is made again
        self._proj: Projection | None = None
        self._proj_version = -1
        self._basis: np.ndarray | None = None  # the last frame's PCA directions, while the same model is shown
        self._sample_note = ""  # big data: how many of the points the last frame drew
        self._live = False
        self._trails: dict[tuple[str, int], list[np.ndarray]] = {}  # (kind, index) -> its past K-vectors
        self._stale = False
        self._dirty = False
        self._genre: str | None = None
        self.hover_text = ""
        self._build()
        experiment.started.connect(self._on_started)
        experiment.progress.connect(self._on_progress)
        experiment.finished.connect(self._on_finished)
        experiment.loaded.connect(self._on_shown)
        experiment.reset.connect(self._on_shown)
        experiment.cleared.connect(self.clear)
        experiment.updated.connect(self._on_updated)
        experiment.stale.connect(self._on_stale)
        selection.changed.connect(self._on_selection)
        parts.changed.connect(self._on_parts)
        if newcomer is not None:
            newcomer.changed.connect(self._on_newcomer)

    def _build(self) -> None:
        self.canvas = MapCanvas(self)
        self.canvas.mpl_connect("motion_notify_event", self._on_motion)
        self.canvas.mpl_connect("button_press_event", self._on_press)
        self.canvas.mpl_connect("figure_leave_event", self._on_leave)
        self.search = QLineEdit()
        self.search.setObjectName("latentMapSearch")
        self.search.setAccessibleName("Find a user or item on the latent map")
        self.search.setPlaceholderText("Find a user or item…")
        self.search.setClearButtonEnabled(True)
        self.search.setToolTip("Type a name and press Enter: the user or item is selected and ringed on the map.")
        self._names = QStringListModel(self)
        self._names_of: Ratings | None = None  # the ratings whose names the search offers (filled when focused)
        self.search.installEventFilter(self)
        completer = QCompleter(self._names, self)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.activated.connect(self.find)
        self.search.setCompleter(completer)
        self.search.returnPressed.connect(self._on_search)
        self.genre = QComboBox()
        self.genre.setObjectName("latentMapGenre")
        self.genre.setAccessibleName("Show the items of one genre on the latent map")
        self.genre.setToolTip("Show only the items of one genre (an item with several genres shows under each).")
        self.genre.currentIndexChanged.connect(self._on_genre_index)
        self.genre.setVisible(False)
        self._truth: Planted | None = None  # the planted truth of a pattern's data (File ▸ New from pattern…)
        self.truth_box = QCheckBox("Truth")
        self.truth_box.setObjectName("latentMapTruth")
        self.truth_box.setToolTip("Show the planted tastes the pattern's ratings were made from (hollow marks), "
                                  "turned to fit the estimate (factors are only defined up to a rotation), each "
                                  "joined to its estimate by a thin line.")
        self.truth_box.setVisible(False)
        self.truth_box.toggled.connect(lambda _on: self._draw_now())
        self.save_button = QToolButton()
        self.save_button.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_DialogSaveButton))
        self.save_button.setText("Save figure…")
        self.save_button.setObjectName("latentMapSaveButton")
        self.save_button.setAccessibleName("Save the latent map as an image")
        self.save_button.setToolTip("Save figure…: the latent map as PNG, SVG or PDF.")
        self.save_button.clicked.connect(self.save_figure_dialog)
        title = QLabel("<b>Latent map</b>")
        title.setToolTip(help_texts.tooltip("latent map"))
        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        bar.setSpacing(6)
        bar.addWidget(title)
        bar.addWidget(self.search, 1)
        bar.addWidget(self.genre)
        bar.addWidget(self.truth_box)
        bar.addWidget(self.save_button)
        self.caption = caption(CAPTION, lines=5)  # with two notes in a narrow pane
        self.caption.setObjectName("latentMapCaption")
        self.caption.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        lay.addLayout(bar)
        lay.addWidget(self.canvas, 1)
        lay.addWidget(self.caption)
        self._timer = QTimer(self)
        self._timer.setObjectName("mfstudioLatentMapRedraw")
        self._timer.setInterval(REDRAW_MS)
        self._timer.timeout.connect(self._on_tick)

    # -- what is shown --------------------------------------------------------------------
    @property
    def ratings(self) -> Ratings | None:
        return None if self._data is None else self._data.ratings

    @property
    def projection(self) -> Projection | None:
        """The coordinates of the last frame drawn (None when nothing is drawn)."""
        return self._proj

    def show_model(self, ratings: Ratings, factors: Factors | None, held_out_cells: np.ndarray | None = None) -> None:
        """Draw ``factors`` (a model of ``ratings``) on the next frame."""
        self._set_ratings(ratings, held_out_cells)
        self._factors = factors
        self._version += 1
        self._draw_now()

    @Slot()
    def clear(self) -> None:
        """Nothing to show (a new document)."""
        self._trails.clear()
        self._data, self._factors, self._basis, self._live, self._stale = None, None, None, False, False
        self.canvas.set_data(None, None)
        self._names.setStringList([])
        self._names_of = None
        self._fill_genres()
        self._version += 1
        self._draw_soon()  # a new document: the window does much else in this pass (a full draw took 0.12 s)

    def _set_ratings(self, ratings: Ratings, held_out_cells: np.ndarray | None) -> None:
        d = self._data
        cells = np.zeros((0, 2), np.int64) if held_out_cells is None else np.asarray(held_out_cells)
        same = d is not None and (d.ratings is ratings or d.ratings == ratings)
        if same and np.array_equal(d.held_out_cells, cells):
            return
        self._data = d = MapData(ratings, cells, MAX_POINTS)
        if same:  # another hold-out of the same ratings: the points, names and legend stay (no new layout)
            return
        self.canvas.set_data(ratings, d.style)
        if self.search.hasFocus():
            self._fill_names()
        self._fill_genres()

    def _fill_names(self) -> None:
        """The names the search box offers: the users' and the items', made when the box is first focused for
        these ratings (82,000 names of ML-10M took 25 ms to hand over at each new data set)."""
        r = None if self._data is None else self._data.ratings
        if r is not self._names_of:
            self._names.setStringList(list(dict.fromkeys(r.users + r.items)) if r is not None else [])
            self._names_of = r

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.search and event.type() == QEvent.Type.FocusIn:
            self._fill_names()
        return super().eventFilter(watched, event)

    def _fill_genres(self) -> None:
        style = None if self._data is None else self._data.style
        keep = self._genre
        self.genre.blockSignals(True)
        self.genre.clear()
        self.genre.addItem("All genres", None)
        for g, n in (style.genres if style is not None else ()):
            self.genre.addItem(f"{g} ({n})", g)
        k = self.genre.findData(keep) if keep is not None else 0
        self.genre.setCurrentIndex(max(k, 0))
        self._genre = self.genre.currentData()
        self.genre.blockSignals(False)
        self.genre.setVisible(style is not None and style.by_genre)

    def set_genre(self, genre: str | None) -> None:
        """Show only the items of ``genre`` (None: every item)."""
        k = self.genre.findData(genre) if genre is not None else 0
        if k < 0:
            raise ValueError(f"There is no genre called {genre!r} in these ratings.")
        self.genre.setCurrentIndex(k)

    @Slot(int)
    def _on_genre_index(self, index: int) -> None:
        self._genre = self.genre.itemData(index) if index >= 0 else None
        self._draw_now()

    # -- the experiment -------------------------------------------------------------------
    @Slot(object)
    def _on_updated(self, updated: Updated) -> None:
        """One rating's update: its user and its item leave a short trail of where they were."""
        u = updated.update
        if not u.is_rating:
            return
        for kind, index, before, after in (("user", u.user, u.p_before, u.p_after),
                                           ("item", u.item, u.q_before, u.q_after)):
            path = self._trails.pop((kind, index), [before])
            self._trails[kind, index] = (path + [after])[-TRAIL_POINTS:]
        while len(self._trails) > 2 * TRAIL_UPDATES:  # the points of the last few updates keep theirs
            self._trails.pop(next(iter(self._trails)))
        self._draw_now()

    def _trail_segments(self, shown: Factors, proj: Projection) -> list[np.ndarray]:
        """Each trail as the points' past places in the map's coordinates (the parts switched off left out)."""
        k_on = self.parts.parts.factors
        out = []
        for path in self._trails.values():
            X = np.array(path, dtype=float)
            if k_on is not None:
                X[:, k_on:] = 0.0
            out.append(proj.place(X))
        return out

    @Slot(object)
    def _on_started(self, run: RunStart) -> None:
        self._trails.clear()
        self._live = True
        if run.new_line:
            self._basis = None  # a new model: its first frame is drawn by the fixed rule
        self._set_ratings(run.ratings, run.held_out_cells)
        f = run.start_factors if run.start_factors is not None else self._factors
        fits = f is not None and f.P.shape[0] == run.ratings.n_users and f.Q.shape[1] == run.ratings.n_items
        self._factors = f if fits else None
        self._version += 1
        if self._factors is None:  # a new model: its first report is due at once, and that frame is the one drawn
            self._mark_dirty()
        else:
            self._draw_soon()

    @Slot(object)
    def _on_progress(self, report: Progress) -> None:
        self._factors = report.snapshot.factors
        self._version += 1
        self._mark_dirty()

    @Slot(object)
    def _on_finished(self, end: RunEnd) -> None:
        self._live = False  # the limits fit the points again
        if end.shown is not None:
            self._set_ratings(end.shown.ratings, end.shown.held_out_cells)
            self._factors = end.shown.result.factors
            self._version += 1
        self._draw_soon()

    @Slot(object)
    def _on_shown(self, shown: Shown) -> None:
        self._live, self._basis = False, None
        self.show_model(shown.ratings, shown.result.factors, shown.held_out_cells)

    @Slot(bool)
    def _on_stale(self, stale: bool) -> None:
        self._stale = bool(stale)
        self._update_caption()

    @Slot(object)
    def _on_selection(self, _selected: Selected) -> None:
        self._draw_now()

    @Slot(object)
    def _on_newcomer(self, _person: Person | None) -> None:
        self._draw_now()

    @Slot(object)
    def _on_parts(self, _parts: Parts) -> None:
        self._version += 1
        self._draw_now()

    # -- drawing --------------------------------------------------------------------------
    def _mark_dirty(self) -> None:
        self._dirty = True
        if not self._timer.isActive():
            self._timer.start()

    def _draw_now(self) -> None:
        """A change made by the user or the end of a run: drawn at once (when shown), no timer left ticking."""
        self._dirty = True
        self._timer.stop()
        if self.isVisible():
            self._render()
            self.canvas.frame()

    def _draw_soon(self) -> None:
        """The start or end of a run: drawn in slices from the next event-loop pass on (the run's start and end do
        much else in this one), no timer left ticking."""
        self._dirty = True
        self._timer.stop()
        if self.isVisible():
            self._render()
            self.canvas.frame(sliced=True, now=False)

    @Slot()
    def _on_tick(self) -> None:
        if not self._dirty or not self.isVisible():
            self._timer.stop()  # idle (or hidden): nothing ticks until something changes (or it is shown)
            return
        if self.canvas.slices.busy():
            return  # the frame being drawn first; this one on a later tick
        started = time.perf_counter()
        self._render()
        self.canvas.frame(sliced=True)
        # a frame that costs more than a few ms (big data, a full redraw) spaces the next ones out, so that
        # drawing never takes more than about a third of the event loop's time
        cost_ms = (time.perf_counter() - started) * 1000
        self._timer.setInterval(int(max(REDRAW_MS, 3 * cost_ms)))

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        if self._dirty:  # what changed while hidden, drawn once the widget has its size
            QTimer.singleShot(0, self._draw_pending)

    @Slot()
    def _draw_pending(self) -> None:
        if self._dirty and self.isVisible():
            self._draw_now()

    def redraw_now(self) -> None:
        """Draw what is pending at once, as the timer would (tests, measuring a frame)."""
        self._render()
        self.canvas.frame()

    def stop_timers(self) -> None:
        """Stop the redraw timer and a frame being drawn (window closing)."""
        self._timer.stop()
        self.canvas.stop_slices()
        self._dirty = False

    def _shown_factors(self) -> Factors | None:
        f = self._factors
        return None if f is None else masked(f, self.parts.parts)

    def _render(self) -> None:
        self._dirty = False
        c, d, f = self.canvas, self._data, self._factors
        fits = d is not None and f is not None and f.P.shape[0] == d.ratings.n_users and \
            f.Q.shape[1] == d.ratings.n_items
        if not fits or not f.all_finite():
            self._proj = None
            c.clear_points()
            c.set_hint(DIVERGED_HINT if fits else EMPTY_HINT)
            self._update_caption()
            return
        shown = self._shown_factors()
        assert shown is not None and d is not None
        if self._proj is None or self._proj_version != self._version:
            self._proj = self._project(shown, d)
            self._proj_version = self._version
            self._basis = self._proj.basis
        proj = self._proj
        visible = np.flatnonzero(d.genre_mask(self._genre))
        overlay = self._overlay(shown, visible)
        users = None
        if d.sample is not None:  # the sample, and the selection's points placed when first needed
            users, visible = self._sampled(shown, d, proj, overlay, visible)
            self._sample_note = f"{len(users) + len(visible):,} of the {d.total:,} points drawn (a fixed sample)."
        else:
            self._sample_note = ""
        no_features = not (np.any(shown.P) or np.any(shown.Q))
        c.set_hint(NO_FEATURES_HINT if no_features else "")
        c.set_newcomer(*self._newcomer_place(proj, shown.K))
        c.show_frame(proj, visible, overlay, self._live, self._trail_segments(shown, proj), users)
        truth = self._truth
        if truth is not None and self.truth_box.isChecked() and truth.P_true.shape[0] == shown.P.shape[0] and \
                truth.Q_true.shape[1] == shown.Q.shape[1]:
            tP, tQ = aligned_truth(truth, shown.P, shown.Q)
            c.set_truth(proj.place(tP), proj.place(tQ.T))
        else:
            c.set_truth(None, None)
        self._update_caption()

    def _project(self, shown: Factors, d: MapData) -> Projection:
        """The map's coordinates: of every point, or, for big data, of the sample only (its PCA, the others NaN
        until :meth:`_sampled` places the ones the selection needs), so a frame costs what 5,000 points cost."""
        if d.sample is None:
            return project(shown, previous=self._basis)
        su, si = d.sample
        part = project(Factors(shown.P[su], shown.Q[:, si]), previous=self._basis)
        users_xy = np.full((d.ratings.n_users, 2), np.nan)
        items_xy = np.full((d.ratings.n_items, 2), np.nan)
        users_xy[su], items_xy[si] = part.users_xy, part.items_xy
        return dataclasses.replace(part, users_xy=users_xy, items_xy=items_xy)

    @staticmethod
    def _sampled(shown: Factors, d: MapData, proj: Projection, o: Overlay,
                 visible: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(users, items) drawn: the sample (items also by the genre filter), the selected user or item and the
        ringed ones, which are placed now if they were not yet."""
        assert d.sample is not None
        rings = np.concatenate([o.rings, o.held_rings]).astype(np.int64)
        extra_u = [np.array([o.user] if o.user is not None else [], np.int64)]
        extra_i = [np.array([o.item] if o.item is not None else [], np.int64)]
        (extra_u if o.rings_are_users else extra_i).append(rings)
        eu, ei = np.concatenate(extra_u), np.concatenate(extra_i)
        new_u = eu[np.isnan(proj.users_xy[eu, 0])]
        new_i = ei[np.isnan(proj.items_xy[ei, 0])]
        if len(new_u):
            proj.users_xy[new_u] = proj.place(shown.P[new_u])
        if len(new_i):
            proj.items_xy[new_i] = proj.place(shown.Q[:, new_i].T)
        # sorted and distinct by masks (np.union1d sorts by np.unique, which numpy 2 makes slow for integers)
        drawn_u = np.zeros(d.ratings.n_users, bool)
        drawn_u[d.sample[0]] = True
        drawn_u[eu] = True
        drawn_i = np.zeros(d.ratings.n_items, bool)
        drawn_i[d.sample[1]] = True
        drawn_i[ei] = True
        return np.flatnonzero(drawn_u), visible[drawn_i[visible]]

    def set_truth(self, planted: Planted | None) -> None:
        """The planted truth of the data shown (a pattern's), or none: the Planted truth box offers it."""
        self._truth = planted
        self.truth_box.setVisible(planted is not None)
        self._draw_now()

    def _newcomer_place(self, proj: Projection, K: int) -> tuple[np.ndarray | None, str]:
        """Where the person being added sits on this map (their p, with the factors the ladder switched off at 0),
        and their name; (None, "") for nobody, or a vector that does not fit the model's K."""
        person = None if self.newcomer is None else self.newcomer.person
        if person is None or person.p.shape != (K,):
            return None, ""
        p = np.array(person.p, dtype=np.float64)
        k = self.parts.parts.factors
        if k is not None:
            p[max(0, min(int(k), K)):] = 0.0
        return proj.place(p)[0], person.name

    def _overlay(self, shown: Factors, visible: np.ndarray) -> Overlay:
        d = self._data
        assert d is not None
        r = d.ratings
        sel = self.selection.current
        user = sel.user if sel.user is not None and 0 <= sel.user < r.n_users else None
        item = sel.item if sel.item is not None and 0 <= sel.item < r.n_items else None
        if item is not None and not d.genre_mask(self._genre)[item]:
            item = None  # hidden by the genre filter
        o = Overlay(user=user, item=item)
        if user is not None:
            rated, held = d.items_of(user)
            keep = d.genre_mask(self._genre)
            o.rings, o.held_rings = rated[keep[rated]], held[keep[held]]
            if shown.user_bias is not None:
                o.offset = float(shown.global_mean + shown.user_bias[user])
            o.title = f"{_short(r.users[user])}'s taste arrow; " + \
                ("their items ringed" if r.implicit else "rated items ringed")
        elif item is not None:
            o.rings, o.held_rings = d.users_of(item)
            o.rings_are_users = True
            n = int(d.item_counts[item])
            who = "user" if r.implicit else "rater"  # counts of events: the users who interacted with it
            o.title = f"{_short(r.items[item])}: its {n:,} {who}{'s' if n != 1 else ''} ringed"
        return o

    def _update_caption(self) -> None:
        """The sentence under the map, and at most two short notes (the most telling first): the caption keeps
        one height for up to five lines (see ``caption``), so a new note does not resize the canvas (a full draw)."""
        notes = []
        proj, f = self._proj, self._factors
        if self._stale:
            notes.append("The ratings changed since: train again to update the map.")
        k = self.parts.parts.factors
        if proj is not None and k is not None:
            notes.append(f"Only feature{'s k1–' if k > 1 else ' '}k{k} switched on (the model ladder)." if k else
                         "Every latent feature switched off (the model ladder).")
        if proj is not None and self.selection.current.user is not None:
            biased = f is not None and f.user_bias is not None
            implicit = self._data is not None and self._data.ratings.implicit
            notes.append(f"Dashed lines: equal predicted {'preference' if implicit else 'rating'}" +
                         (" (μ + b_u + the dot product)." if biased else "."))
        if self._data is not None and len(self._data.held_out_cells) and self.selection.current != Selected():
            notes.append("Dashed rings: held out.")
        if proj is not None and proj.note:
            notes.append(proj.note)
        if proj is not None and self._sample_note:  # big data: the title would not hold it
            notes.insert(0, self._sample_note)
        parts = [IMPLICIT_CAPTION if self._data is not None and self._data.ratings.implicit else CAPTION, *notes[:2]]
        text = " ".join(parts)
        if self.caption.text() != text:
            self.caption.setText(text)

    # -- pointing -------------------------------------------------------------------------
    def describe(self, kind: str, index: int) -> str:
        """The hover text of a user or an item: its name, its number of ratings and its coordinates."""
        d, proj = self._data, self._proj
        if d is None or proj is None:
            return ""
        r = d.ratings
        if kind == "user":
            n, name, xy = int(d.user_counts[index]), r.users[index], proj.users_xy[index]
            head = f"{name} (user): {n:,} rating{'s' if n != 1 else ''}"
            cold = self._factors is not None and self._factors.cold_users is not None and \
                bool(np.any(self._factors.cold_users == index))
        else:
            n, name, xy = int(d.item_counts[index]), r.items[index], proj.items_xy[index]
            genres = r.item_genres[index] if r.item_genres is not None else ()
            what = "item" + (f"; {', '.join(genres)}" if genres else "")
            head = f"{name} ({what}): {n:,} rating{'s' if n != 1 else ''}"
            cold = self._factors is not None and self._factors.cold_items is not None and \
                bool(np.any(self._factors.cold_items == index))
        x_name = proj.x_label.split(" (")[0]
        coords = f"{x_name} = {table_text(float(xy[0]))}"
        if proj.y_label:
            coords += f", {proj.y_label.split(' (')[0]} = {table_text(float(xy[1]))}"
        lines = [head, coords]
        if cold:
            lines.append("No rating in training: the point is still the random start.")
        return "\n".join(lines)

    def _on_motion(self, event: Any) -> None:
        hit = None if event.inaxes is not self.canvas.ax else self.canvas.point_at(event.x, event.y)
        text = "" if hit is None else self.describe(*hit)
        if text == self.hover_text:
            return
        self.hover_text = text
        if text:
            QToolTip.showText(QCursor.pos(), text, self.canvas)
        else:
            QToolTip.hideText()

    def _on_leave(self, _event: Any) -> None:
        if self.hover_text:
            self.hover_text = ""
            QToolTip.hideText()

    def _on_press(self, event: Any) -> None:
        if event.inaxes is not self.canvas.ax or event.button != 1:
            return
        hit = self.canvas.point_at(event.x, event.y)
        if hit is None:
            self.selection.clear()
        elif hit[0] == "user":
            self.selection.select(user=hit[1])
        else:
            self.selection.select(item=hit[1])

    @Slot()
    def _on_search(self) -> None:
        self.find(self.search.text())

    @Slot(str)
    def find(self, text: str) -> bool:
        """Select the user or item called ``text`` (exactly, else the first whose name holds it; users first)."""
        t = text.strip()
        d = self._data
        if not t or d is None:
            return False
        r, key = d.ratings, t.casefold()
        found = None
        for test in (lambda s: s.casefold() == key, lambda s: key in s.casefold()):
            for kind, labels in (("user", r.users), ("item", r.items)):
                k = next((i for i, s in enumerate(labels) if test(s)), None)
                if k is not None:
                    found = (kind, k)
                    break
            if found is not None:
                break
        if found is None:
            self.statusMessage.emit(f"No user or item is called “{t}”; check the spelling.")
            return False
        kind, k = found
        if kind == "user":
            self.selection.select(user=k)
            self.statusMessage.emit(f"Found the user {r.users[k]}.")
        else:
            if not d.genre_mask(self._genre)[k]:
                self.set_genre(None)  # otherwise the item found would stay hidden
            self.selection.select(item=k)
            self.statusMessage.emit(f"Found the item {r.items[k]}.")
        return True

    # -- saving ---------------------------------------------------------------------------
    def save_figure(self, path: str | Path) -> Path:
        """Write the map to ``path``; the format follows the extension (.png, .svg, .pdf)."""
        path = Path(path)
        if path.suffix.lower() not in (".png", ".svg", ".pdf"):
            raise ValueError(
                f"Cannot save a figure as {path.suffix or 'a file without extension'}; use .png, .svg or .pdf.")
        import io

        from mfstudio.io.atomic import atomic_write

        self._render()
        buf = io.BytesIO()  # rendered whole first, then written atomically: a failed save keeps the old file
        with self.canvas.for_export():
            self.canvas.figure.savefig(buf, dpi=150, format=path.suffix.lower()[1:])
        self._draw_now()  # the screen's background is drawn again
        atomic_write(path, buf.getvalue())
        return path

    @Slot()
    def save_figure_dialog(self) -> None:
        """Ask where to save the map, then save it."""
        p = save_figure_dialog(self, "Save the latent map", "latent-map.png", "The latent map", self.save_figure)
        if p is not None:
            self.statusMessage.emit(f"Saved the latent map to {p}.")
