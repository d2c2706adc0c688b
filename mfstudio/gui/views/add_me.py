"""Add me: a person rates a few items and sees their own recommendations, from the trained model folded in.

The person types their name, finds items in a list (most-rated first: those are the ones people
know) and gives each a rating on the data's scale. Their predictions stay hidden while they rate
(people anchor on shown predictions, Cosley et al. 2003) until they press "Show my
recommendations"; from then on their top-N is made again at every rating. The person's row is the
fold-in (:mod:`mfstudio.core.foldin`): the exact minimiser of the trained solver's objective for one
new row with every item parameter fixed; their point goes to the shared :class:`Newcomer`, which
the latent map draws.

"Keep me" asks (``keepRequested(name, [(item, rating), ...])``) for the person to become a real row
of the grid; the window hands that to ``RatingsTableModel.add_user_with_ratings``. When the next
training ends with a user of that name, the panel says how close the folded-in vector was to the
retrained one. The panel follows the experiment: a new result folds the same ratings in again, a new
document empties it, no result (or a stale one) disables it with a sentence.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from mfstudio.core import Factors, Ratings
from mfstudio.core.errors import MFStudioError
from mfstudio.core.foldin import OBJECTIVES, FoldIn, Ranking, fold_in
from mfstudio.core.numbers import short_text, table_text
from mfstudio.core.ratings import Observed
from mfstudio.core.status_text import data_word
from mfstudio.gui.experiment import Experiment, RunEnd, Shown
from mfstudio.gui.newcomer import Newcomer
from mfstudio.gui.views.item_list import ItemList
from mfstudio.gui.views.widgets import caption

NO_RESULT_TEXT = "Train a model first: your recommendations are folded into a trained model."
STALE_TEXT = "The ratings changed after this model was trained; train again to add yourself to it."
TRAINING_TEXT = "Training: you can add yourself when the run has ended."
DIVERGED_TEXT = "The model's numbers are not finite (training diverged); train again to add yourself."
HIDDEN_TEXT = ("Your predictions stay hidden while you rate, so that they cannot sway your ratings; press "
               "Show my recommendations when you are ready.")
INTRO_TEXT = "Type your name, find items you know and rate them."
COUNTS_INTRO_TEXT = "Type your name, find items you have played or clicked and give your counts."  # implicit data
KEPT_TEXT = "{name} is now a row of the grid; train again to see how close the fold-in was to the retrained row."
COLUMNS = ("Item", "Predicted", "Score", "Ratings")
COLUMN_TIPS = ("The recommended item", "The prediction clipped to the rating scale (what is shown)",
               "The model's unclipped prediction, which the order follows",
               "How many training ratings the item has")


@dataclass(frozen=True)
class _Model:
    """What a fold-in needs from the shown result."""

    ratings: Ratings
    factors: Factors
    train: Observed
    solver: str
    params: dict


@dataclass(frozen=True)
class _Kept:
    """A person kept as a row: their name, folded-in vector, bias and predictions, for the comparison."""

    name: str
    p: np.ndarray
    bias: float | None
    scores: np.ndarray


def comparison_text(kept_p: np.ndarray, kept_scores: np.ndarray, p: np.ndarray, scores: np.ndarray) -> str:
    """The sentence comparing a folded-in row (vector, predictions) with the retrained one."""
    words = "Your folded-in tastes and the retrained ones:"
    if kept_p.shape != p.shape:
        return f"{words} the retrained model has {p.shape[0]} factors where the fold-in had {kept_p.shape[0]}."
    dist = float(np.linalg.norm(kept_p - p))
    text = f"{words} distance {short_text(dist)} (your vector's length {short_text(float(np.linalg.norm(p)))})"
    if kept_scores.shape == scores.shape and scores.size:
        text += f"; predictions differ by {short_text(float(np.mean(np.abs(kept_scores - scores))))} on average"
    return text + ". (A retrained model may also turn its factors, which moves the vectors more than the predictions.)"


class AddMePanel(QWidget):
    """The Add me panel (objectName ``addMePanel``); ``keepRequested(name, [(item, rating), ...])`` on Keep me."""

    keepRequested = Signal(str, object)

    def __init__(self, experiment: Experiment, newcomer: Newcomer, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # what adds the person's row to the grid (name, pairs) -> accepted; None: keepRequested is emitted
        self.keeper: Callable[[str, list[tuple[int, float]]], bool] | None = None
        self.setObjectName("addMePanel")
        self.experiment, self.newcomer = experiment, newcomer
        self._model: _Model | None = None
        self._given: list[tuple[str, float]] = []  # (item label, rating), in the order given
        self._fold: FoldIn | None = None
        self._ranking: Ranking | None = None
        self._fold_due = False  # the fold-in is to be made again (when it is next needed: shown or asked for)
        self._fill_due = False  # the item list is to be made for the shown result (when shown or asked about)
        self._kept: _Kept | None = None
        self._running = False
        self._train_of: tuple[Ratings, np.ndarray, Observed] | None = None  # (ratings, held-out cells, training)
        self._counts_of: tuple[Observed, np.ndarray] | None = None  # (training ratings, each item's count in them)
        self._whole_of: tuple[Ratings, bool] | None = None  # (ratings, every one a whole number)
        self._build()
        experiment.started.connect(self._on_started)
        experiment.finished.connect(self._on_finished)
        experiment.loaded.connect(self._on_shown)
        experiment.reset.connect(self._on_shown)
        experiment.cleared.connect(self.clear_all)
        experiment.stale.connect(self._on_stale)
        experiment.recommendationSettingsChanged.connect(self._on_settings)
        self._follow()

    # -- building ------------------------------------------------------------------------
    def _build(self) -> None:
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        self.sentence = QLabel(NO_RESULT_TEXT)
        self.sentence.setObjectName("addMeSentence")
        self.sentence.setWordWrap(True)
        lay.addWidget(self.sentence)
        form = QFormLayout()
        form.setContentsMargins(0, 0, 0, 0)
        self.name = QLineEdit()
        self.name.setObjectName("addMeName")
        self.name.setPlaceholderText("Your name")
        self.name.textChanged.connect(self._on_name)
        form.addRow("&Name:", self.name)
        self.search = QLineEdit()
        self.search.setObjectName("addMeSearch")
        self.search.setPlaceholderText("Search the items…")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self._filter)
        self.search.returnPressed.connect(self._to_first_match)
        form.addRow("&Find:", self.search)
        lay.addLayout(form)
        self.items = ItemList()
        self.items.setObjectName("addMeItems")
        self.items.setAccessibleName("Items to rate, most-rated first")
        self.items.setToolTip("Items with their number of ratings, most-rated first; Enter rates the chosen one.")
        self.items.activated.connect(lambda _index: self.rate_current())
        self.items.selectionModel().currentChanged.connect(lambda *_: self._update_buttons())
        self.items.items_model.modelReset.connect(self._update_buttons)
        lay.addWidget(self.items, 3)
        row = QHBoxLayout()
        self.rating = QDoubleSpinBox()
        self.rating.setObjectName("addMeRating")
        self.rating.setAccessibleName("Your rating")
        self.rating.setKeyboardTracking(False)
        self.rating_label = QLabel("Your &rating:")
        self.rating_label.setBuddy(self.rating)
        self.rate_button = QPushButton("Rate")
        self.rate_button.setObjectName("addMeRate")
        self.rate_button.setToolTip("Give the chosen item this rating (Enter in the list does too).")
        self.rate_button.clicked.connect(self.rate_current)
        row.addWidget(self.rating_label)
        row.addWidget(self.rating)
        row.addWidget(self.rate_button)
        row.addStretch(1)
        lay.addLayout(row)
        self.message = caption("")
        self.message.setObjectName("addMeMessage")
        lay.addWidget(self.message)
        self.given_label = QLabel("Your ratings:")
        lay.addWidget(self.given_label)
        self.given = QListWidget()
        self.given.setObjectName("addMeGiven")
        self.given.setAccessibleName("Your ratings")
        self.given.setToolTip("Select a rating and press Delete (or Remove) to take it back.")
        self.given.currentItemChanged.connect(lambda *_: self._update_buttons())
        self.given.setMaximumHeight(110)
        lay.addWidget(self.given, 1)
        QShortcut(QKeySequence.StandardKey.Delete, self.given, self.remove_current,
                  context=Qt.ShortcutContext.WidgetShortcut)
        row = QHBoxLayout()
        self.remove_button = QPushButton("Remove")
        self.remove_button.setObjectName("addMeRemove")
        self.remove_button.clicked.connect(self.remove_current)
        self.reveal = QPushButton("Show my recommendations")
        self.reveal.setObjectName("addMeReveal")
        self.reveal.setCheckable(True)
        self.reveal.setToolTip("Show the predictions for you (hidden until now so that they cannot sway your "
                               "ratings); they follow every rating from then on.")
        self.reveal.toggled.connect(lambda _on: self._show())
        row.addWidget(self.remove_button)
        row.addStretch(1)
        row.addWidget(self.reveal)
        lay.addLayout(row)
        self.note = QLabel(HIDDEN_TEXT)
        self.note.setObjectName("addMeNote")
        self.note.setWordWrap(True)
        self.note.setMinimumHeight(3 * self.note.fontMetrics().lineSpacing() + 4)  # never clipped by the lists
        self.note.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        lay.addWidget(self.note)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("addMeRecommendations")
        self.table.setAccessibleName("Your recommendations")
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        for c, tip in enumerate(COLUMN_TIPS):
            self.table.horizontalHeaderItem(c).setToolTip(tip)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        head = self.table.horizontalHeader()
        head.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for c in range(1, len(COLUMNS)):
            head.setSectionResizeMode(c, QHeaderView.ResizeMode.ResizeToContents)
        self.table.verticalHeader().setDefaultSectionSize(self.table.fontMetrics().height() + 6)
        self.table.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        lay.addWidget(self.table, 3)
        self.compare = caption("")
        self.compare.setObjectName("addMeCompare")
        self.compare.setVisible(False)
        lay.addWidget(self.compare)
        row = QHBoxLayout()
        self.keep = QPushButton("Keep me")
        self.keep.setObjectName("addMeKeep")
        self.keep.setToolTip("Add yourself as a real row of the grid, with your ratings (one undo step); the model "
                             "is then out of date until you train again.")
        self.keep.clicked.connect(self.keep_me)
        self.clear_button = QPushButton("Clear")
        self.clear_button.setObjectName("addMeClear")
        self.clear_button.setToolTip("Take back every rating and start again.")
        self.clear_button.clicked.connect(self.clear_ratings)
        row.addStretch(1)
        row.addWidget(self.clear_button)
        row.addWidget(self.keep)
        lay.addLayout(row)

    # -- state -----------------------------------------------------------------------------
    @property
    def fold(self) -> FoldIn | None:
        """The person's fold-in against the shown result (None without a usable result)."""
        self._make_fold()
        return self._fold

    @property
    def ranking(self) -> Ranking | None:
        """The person's top-N as computed (shown only once revealed)."""
        self._make_fold()
        return self._ranking

    @property
    def revealed(self) -> bool:
        return self.reveal.isChecked()

    def given_pairs(self) -> list[tuple[int, float]]:
        """The ratings given, as (item index, rating) pairs of the shown ratings (items no longer there are left
        out)."""
        if self._model is None:
            return []
        index = {label: i for i, label in enumerate(self._model.ratings.items)}
        return [(index[label], v) for label, v in self._given if label in index]

    def _usable(self) -> tuple[_Model | None, str]:
        """The shown result as a fold-in needs it, or None and the sentence saying why not."""
        ex = self.experiment
        s: Shown | None = ex.shown
        if self._running:
            return None, TRAINING_TEXT
        if s is None:
            return None, NO_RESULT_TEXT
        if ex.results_stale:
            return None, STALE_TEXT
        if s.result.solver not in OBJECTIVES:
            return None, f"Adding yourself does not work with the {s.result.solver} solver; train another one."
        f = s.result.factors
        if not f.all_finite():
            return None, DIVERGED_TEXT
        return _Model(s.ratings, f, self._training(s), s.result.solver, dict(s.result.params)), ""

    def _training(self, s: Shown) -> Observed:
        """The shown result's training ratings, split once per data and hold-out (10 M ratings: a split is 0.1 s)."""
        cells = s.held_out_cells
        if not len(cells):
            return s.ratings.observed
        got = self._train_of
        if got is None or got[0] is not s.ratings or got[1] is not cells:
            got = self._train_of = (s.ratings, cells, s.ratings.split_cells(cells).train)
        return got[2]

    def _whole(self, ratings: Ratings) -> bool:
        """Whether every rating is a whole number, looked at once per ratings (10 M of them: 40 ms)."""
        if self._whole_of is None or self._whole_of[0] is not ratings:
            vals = np.asarray(ratings.observed.vals, dtype=np.float64)
            self._whole_of = (ratings, bool(np.all(vals == np.round(vals))))
        return self._whole_of[1]

    def _counts(self, m: _Model) -> np.ndarray:
        """Each item's number of training ratings, counted once per training ratings."""
        got = self._counts_of
        if got is None or got[0] is not m.train:
            counts = np.bincount(np.asarray(m.train.cols, dtype=np.int64), minlength=m.ratings.n_items)
            got = self._counts_of = (m.train, counts[: m.ratings.n_items])
        return got[1]

    # -- following the experiment --------------------------------------------------------------
    @Slot(object)
    def _on_started(self, _run: object) -> None:
        self._running = True
        self._follow()

    @Slot(object)
    def _on_finished(self, end: RunEnd) -> None:
        self._running = False
        self._follow()
        if end.shown is not None and self._kept is not None:
            self._compare_kept(end.shown)

    @Slot(object)
    def _on_shown(self, _shown: Shown) -> None:
        self._follow()

    @Slot(bool)
    def _on_stale(self, _stale: bool) -> None:
        self._follow()

    @Slot(int, int)
    def _on_settings(self, _top_n: int, _min_ratings: int) -> None:
        self._refold()

    @Slot()
    def clear_all(self) -> None:
        """A new document: no ratings, no name, nothing kept."""
        self._given = []
        self._kept = None
        self._train_of = self._counts_of = self._whole_of = None
        self.name.clear()
        self.search.clear()
        self.compare.setVisible(False)
        self.reveal.setChecked(False)
        self._follow()

    def _follow(self) -> None:
        """Take the shown result as it is now: the item list, the scale, the fold-in."""
        model, why = self._usable()
        old = self._model
        self._model = model
        self.sentence.setText(why or (COUNTS_INTRO_TEXT if model is not None and model.ratings.implicit
                                      else INTRO_TEXT))
        for w in (self.name, self.search, self.items, self.rating, self.given, self.reveal, self.table):
            w.setEnabled(model is not None)
        if model is not None and (old is None or old.ratings is not model.ratings or old.train is not model.train):
            self._fill_due = True
        elif model is None:
            self._fill_due = False
            self.items.items_model.clear()
        if self.isVisible():
            self._ensure_items()
        self._refold()

    def _ensure_items(self) -> None:
        """The item list and the rating box for the shown result, made when the panel is shown (or asked about):
        behind another tab a result of 10 M ratings would count them at every run's end for nothing."""
        if self._fill_due and self._model is not None:
            self._fill_items(self._model)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._ensure_items()

    def _fill_items(self, m: _Model) -> None:
        """The items, most-rated first (ties in item order), with their number of training ratings."""
        self._fill_due = False
        self.items.items_model.set_items(m.ratings.items, self._counts(m), data_word(m.ratings.implicit))
        own = "count" if m.ratings.implicit else "rating"  # counts of events: the person gives their own count
        self.rating_label.setText(f"Your &{own}:")
        self.rating.setAccessibleName(f"Your {own}")
        self.given_label.setText(f"Your {own}s:")
        lo, hi = m.ratings.scale
        whole = self._whole(m.ratings) and float(lo).is_integer() and float(hi).is_integer()
        self.rating.setDecimals(0 if whole else 1)
        self.rating.setSingleStep(1.0 if whole else 0.5)
        self.rating.setRange(float(lo), float(hi))
        self.rating.setValue(float(np.round((lo + hi) / 2)) if whole else (lo + hi) / 2)
        self._filter()

    # -- the items ----------------------------------------------------------------------------
    @Slot()
    def _filter(self, *_: object) -> None:
        """Show the items whose title holds the search text (any case), rated ones left out; the chosen item
        stays chosen while it is shown, else the first one shown is."""
        words = self.search.text().strip().casefold()
        cur = self.items.current_item()
        self.items.items_model.set_filter(words, {i for i, _v in self.given_pairs()})
        if not (cur is not None and self.items.set_current_item(cur)) and self.items.count():
            self.items.setCurrentIndex(self.items.items_model.index(0))
        self._update_buttons()

    def _to_first_match(self) -> None:
        self.items.setFocus()

    def visible_items(self) -> list[int]:
        """The item indices the list shows now, in its order."""
        self._ensure_items()
        return self.items.items_model.items()

    def choose(self, item: int) -> bool:
        """Make ``item`` the chosen one of the list (False when the list does not show it)."""
        self._ensure_items()
        return self.items.set_current_item(int(item))

    # -- rating ------------------------------------------------------------------------------
    @Slot()
    def rate_current(self) -> bool:
        """Rate the chosen item with the spin box's value."""
        self._ensure_items()
        item = self.items.current_item()
        if item is None:
            self.message.setText("Choose an item in the list first.")
            return False
        ok = self.rate(item, self.rating.value())
        if ok:
            self.items.setFocus()
        return ok

    def rate(self, item: int, value: float) -> bool:
        """Give ``item`` the rating ``value``; a rating the fold-in refuses (off the scale, the same item twice) is
        said in a sentence and not kept."""
        m = self._model
        if m is None:
            return False
        try:
            fold_in(m.ratings, m.factors, m.train, m.solver, m.params, [*self.given_pairs(), (item, value)])
        except MFStudioError as exc:
            self.message.setText(str(exc))
            return False
        self._given.append((m.ratings.items[int(item)], float(value)))
        self.message.setText("")
        self._filter()
        self._refold()
        return True

    @Slot()
    def remove_current(self) -> None:
        """Take back the rating selected in the list of ratings."""
        r = self.given.currentRow()
        if 0 <= r < len(self._given):
            del self._given[r]
            self._filter()
            self._refold()

    @Slot()
    def clear_ratings(self) -> None:
        """Take back every rating; the predictions are hidden again."""
        self._given = []
        self.message.setText("")
        self.reveal.setChecked(False)
        self._filter()
        self._refold()

    # -- the fold-in and what is shown -----------------------------------------------------------
    def _refold(self) -> None:
        """The fold-in is out of date: made again now if it is shown, else when next asked for (each result of
        10 M ratings would fold in a hidden person for nothing)."""
        self._fold = self._ranking = None
        self._fold_due = True
        self._show()

    def _make_fold(self) -> None:
        if not self._fold_due:
            return
        self._fold_due = False
        m = self._model
        if m is not None:
            try:
                self._fold = fold_in(m.ratings, m.factors, m.train, m.solver, m.params, self.given_pairs())
                self._ranking = self._fold.recommendations(self.experiment.top_n,
                                                           min_ratings=self.experiment.min_ratings)
            except MFStudioError as exc:
                self.message.setText(str(exc))

    def _fill_given(self) -> None:
        self.given.clear()
        for label, v in self._given:
            self.given.addItem(f"{label}: {v:g}")
        if not self._given:
            self.given.addItem("(none yet)")
            self.given.item(0).setFlags(Qt.ItemFlag.NoItemFlags)

    def _show(self) -> None:
        """The list of ratings, the note and (once revealed) the top-N and the person's point."""
        self._fill_given()
        if self.revealed:
            self._make_fold()
        f, ranking, m = self._fold, self._ranking, self._model
        show = self.revealed and f is not None and ranking is not None and m is not None
        self.table.setRowCount(0)
        self.table.setVisible(show)
        if not show:
            self.note.setText(HIDDEN_TEXT if m is not None else "")
            self.newcomer.clear()
            self._update_buttons()
            return
        assert f is not None and ranking is not None and m is not None
        self.note.setText(self._note_text(f, m))
        rows = ranking.rows(m.ratings)
        self.table.setRowCount(len(rows))
        for r, (_rank, label, predicted, score, count) in enumerate(rows):
            cells = (label, table_text(predicted, 2), table_text(score, 3), f"{count:,}")
            for c, text in enumerate(cells):
                it = QTableWidgetItem(text)
                if c:
                    it.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(r, c, it)
        self.newcomer.set_person(self.person_name(), f.p, f.user_bias)
        self._update_buttons()

    def _note_text(self, f: FoldIn, m: _Model) -> str:
        n = 0 if self._ranking is None else len(self._ranking)
        if not self._given:
            plus = " plus each item's bias" if f.user_bias is not None else ""
            return (f"With no rating yet, you get the average: every prediction is the mean rating "
                    f"{short_text(float(m.factors.fallback_mean))}{plus}, so these are the items liked most overall. "
                    "Rate a few items to make the list yours.")
        if f.note:
            return f.note
        if not n:
            return "No item is left to recommend (you rated them all, or too few have enough ratings)."
        rated = len(f.rated)
        return (f"Your top {n} among the items you have not rated, from your {rated} "
                f"rating{'s' if rated != 1 else ''}; the list follows every rating.")

    def person_name(self) -> str:
        """The name typed, or "You"."""
        return self.name.text().strip() or "You"

    def _update_buttons(self) -> None:
        ok = self._model is not None
        self.rate_button.setEnabled(ok and self.items.current_item() is not None)
        self.remove_button.setEnabled(ok and bool(self._given) and self.given.currentRow() >= 0)
        self.clear_button.setEnabled(ok and bool(self._given))
        self.keep.setEnabled(ok and bool(self._given) and bool(self.name.text().strip()))

    @Slot(str)
    def _on_name(self, _text: str) -> None:
        self._update_buttons()
        if self.newcomer.person is not None and self._fold is not None:
            self.newcomer.set_person(self.person_name(), self._fold.p, self._fold.user_bias)

    # -- keeping ---------------------------------------------------------------------------------
    @Slot()
    def keep_me(self) -> bool:
        """Ask for the person to become a row of the grid (``keepRequested``); a taken name is said so."""
        m, f = self._model, self.fold
        name = self.name.text().strip()
        if m is None or f is None or not self._given:
            return False
        if not name:
            self.message.setText("Type your name first: it names your row of the grid.")
            return False
        taken = next((u for u in m.ratings.users if u.casefold() == name.casefold()), None)
        if taken is not None:
            self.message.setText(f"There is already a user named {taken}; choose another name.")
            return False
        pairs = self.given_pairs()
        if self.keeper is not None and not self.keeper(name, pairs):
            self.message.setText("Your row could not be added to the grid (the status bar says why); your name "
                                 "and ratings are kept here.")
            return False
        self._kept = _Kept(name, f.p.copy(), f.user_bias, f.scores.copy())
        self.compare.setText(KEPT_TEXT.format(name=name))
        self.compare.setVisible(True)
        self._given = []
        self.name.clear()
        self.reveal.setChecked(False)
        self.message.setText("")
        if self.keeper is None:
            self.keepRequested.emit(name, pairs)
        self._filter()
        self._refold()
        return True

    def _compare_kept(self, shown: Shown) -> None:
        k = self._kept
        assert k is not None
        if k.name not in shown.ratings.users or not shown.result.factors.all_finite():
            return
        u = shown.ratings.users.index(k.name)
        f = shown.result.factors
        self.compare.setText(comparison_text(k.p, k.scores, np.asarray(f.P[u], dtype=np.float64),
                                             f.predict_rows(u, u + 1)[0]))
        self.compare.setVisible(True)
        self._kept = None
