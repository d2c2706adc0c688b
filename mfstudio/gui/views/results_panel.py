"""The result tabs: R-hat, P, Q, the biases and the recommendations, with the sentence that says what each shows.

The panel subscribes to the experiment controller and shows what it reports; it reads
no other view. Exports and status messages go out as signals for the window to route.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QModelIndex, QTimer, Signal, Slot
from PySide6.QtWidgets import QHBoxLayout, QHeaderView, QLabel, QSpinBox, QTabWidget, QVBoxLayout, QWidget

from mfstudio.core import Factors, Ratings, Recommendations
from mfstudio.core.ladder import Parts, masked, parts_words
from mfstudio.core.numbers import measure_text
from mfstudio.core.params import TOP_N
from mfstudio.core.recommend import AUTO
from mfstudio.core.status_text import data_word
from mfstudio.gui import help_texts
from mfstudio.gui.experiment import Experiment, Progress, RunEnd, RunStart, Shown
from mfstudio.gui.views.results import (
    BiasModel,
    PModel,
    QModel,
    RecommendationsModel,
    ResultTableView,
    RHatModel,
)
from mfstudio.gui.views.widgets import caption, tab
from mfstudio.gui.viewstate import Selected, Selection, ShownParts

TABLES_EVERY_S = 0.25  # during a run the tables follow at most four times a second: faster is unreadable, and
# repainting a screenful of cells at every report cost the event loop more than the numbers are worth
STALE_TEXT = "The ratings changed after these results were computed; train again to update them."


class ResultsPanel(QWidget):
    """"Results": a stale banner over tabs of tables, fed by the experiment's signals."""

    statusMessage = Signal(str)
    exportRequested = Signal(str)  # the table's name: "P", "Q", "R_hat", "user_bias", "item_bias", "recommendations"
    recommendationSettingsChanged = Signal(int, int)  # top N, minimum ratings

    def __init__(self, experiment: Experiment, selection: Selection | None = None, parts: ShownParts | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.experiment, self.selection, self.parts = experiment, selection, parts
        self._run: RunStart | None = None
        self._factors: Factors | None = None  # the whole model last shown (R-hat shows the parts switched on)
        self._set_up = True  # the R-hat table is set up for the running model (its ratings and held-out cells)
        self._shown_at = -1e9  # when the tables last followed a report (perf_counter seconds)
        self._pending: Factors | None = None  # a report's factors not shown yet (shown when their time comes)
        self._later = QTimer(self)
        self._later.setSingleShot(True)
        self._later.timeout.connect(self._show_pending)
        self._build()
        experiment.started.connect(self._on_started)
        experiment.progress.connect(self._on_progress)
        experiment.finished.connect(self._on_finished)
        experiment.loaded.connect(self.show_result)
        experiment.reset.connect(self.show_result)
        experiment.cleared.connect(self.clear)
        experiment.stale.connect(self.set_stale)
        experiment.recommendationsChanged.connect(self._on_recommendations)
        experiment.recommendationSettingsChanged.connect(self._show_recommendation_settings)
        if parts is not None:
            parts.changed.connect(self._on_parts)
        if selection is not None:
            selection.changed.connect(self._on_selection)
            for view, pick in ((self.r_hat_table, "cell"), (self.p_table, "user"), (self.q_table, "item"),
                               (self.user_bias_table, "user"), (self.item_bias_table, "item")):
                view.selectionModel().currentChanged.connect(
                    lambda current, _previous, pick=pick: self._pick(current, pick))

    def _build(self) -> None:
        self.p_model, self.q_model, self.r_hat_model = PModel(decimals=3), QModel(decimals=3), RHatModel()
        self.recs_model = RecommendationsModel()
        self.user_bias_model, self.item_bias_model = BiasModel(decimals=3), BiasModel(decimals=3)
        self.p_table = ResultTableView("pTable", "Matrix P: user features")
        self.q_table = ResultTableView("qTable", "Matrix Q: item features")
        self.r_hat_table = ResultTableView("rHatTable", "Predicted ratings R-hat")
        self.recs_table = ResultTableView("recommendationsTable", "Recommendations")
        self.user_bias_table = ResultTableView("userBiasTable", "User biases b_u")
        self.item_bias_table = ResultTableView("itemBiasTable", "Item biases b_i")
        for view, model, name in ((self.p_table, self.p_model, "P"), (self.q_table, self.q_model, "Q"),
                                  (self.r_hat_table, self.r_hat_model, "R_hat"),
                                  (self.recs_table, self.recs_model, "recommendations"),
                                  (self.user_bias_table, self.user_bias_model, "user_bias"),
                                  (self.item_bias_table, self.item_bias_model, "item_bias")):
            view.setModel(model)
            view.statusMessage.connect(self.statusMessage)
            view.export_handler = lambda n=name: self.exportRequested.emit(n)
        rh_ = self.recs_table.horizontalHeader()
        for col, width in enumerate((64, 44, 160, 104, 60)):  # user, rank, item (titles), predicted, ratings
            rh_.resizeSection(col, width)
        rh_.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)  # titles take the room there is
        self.recs_table.verticalHeader().hide()  # the rank numbers the rows
        for view in (self.user_bias_table, self.item_bias_table):
            view.verticalHeader().hide()
            view.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)  # labels elide
            view.horizontalHeader().resizeSection(1, 96)

        self.top_n = QSpinBox()
        self.top_n.setObjectName("topN")
        self.top_n.setAccessibleName("Number of recommendations per user")
        self.top_n.setRange(max(1, int(TOP_N.minimum)), int(TOP_N.maximum))  # the tab lists at least one
        self.top_n.setValue(int(TOP_N.default))
        self.top_n.setPrefix("Top ")
        self.top_n.setSuffix(" per user")
        self.top_n.setToolTip(TOP_N.help)
        self.min_ratings = QSpinBox()
        self.min_ratings.setObjectName("minRatings")
        self.min_ratings.setAccessibleName("Fewest training ratings an item needs to be recommended")
        self.min_ratings.setRange(AUTO, 100_000)
        self.min_ratings.setValue(AUTO)
        self.min_ratings.setSpecialValueText("Min ratings: auto")
        self.min_ratings.setPrefix("Min ratings: ")
        self.min_ratings.setToolTip(
            "Recommend only items with at least this many training ratings: a film two people loved scores high "
            "on almost no evidence. Auto: 10, or half the median item's count when that is smaller.")
        for box in (self.top_n, self.min_ratings):
            box.valueChanged.connect(self._on_recommendation_settings)
        self.recs_caption = caption("")
        self.recs_caption.setObjectName("recommendationsCaption")
        recs_head = QWidget()
        rh = QHBoxLayout(recs_head)
        rh.setContentsMargins(0, 0, 0, 0)
        rh.addWidget(self.recs_caption, 1)
        rh.addWidget(self.min_ratings)
        rh.addWidget(self.top_n)
        self.r_hat_caption = caption("")
        self.r_hat_caption.setObjectName("rHatCaption")
        self.bias_caption = caption("")
        self.bias_caption.setObjectName("biasCaption")
        bias_tab = QWidget()
        bl = QVBoxLayout(bias_tab)
        bl.setContentsMargins(2, 2, 2, 2)
        bl.setSpacing(2)
        bl.addWidget(self.bias_caption)
        tables = QHBoxLayout()
        tables.addWidget(self.user_bias_table, 1)
        tables.addWidget(self.item_bias_table, 1)
        bl.addLayout(tables, 1)

        self.tabs = QTabWidget()
        self.tabs.setObjectName("resultTabs")
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(tab(self.r_hat_table, self.r_hat_caption), "R-hat")
        self.tabs.addTab(tab(self.p_table, caption("P: one row per user, one column per latent feature (k1 … kK).")),
                         "P")
        self.tabs.addTab(tab(self.q_table, caption("Q: one row per latent feature (k1 … kK), one column per item.")),
                         "Q")
        self.tabs.addTab(bias_tab, "Biases")
        self.tabs.addTab(tab(self.recs_table, recs_head), "Recommendations")
        for i, tip in enumerate((help_texts.tooltip("R-hat"), help_texts.tooltip("P"), help_texts.tooltip("Q"),
                                 help_texts.tooltip("Biases"), "Top-N unrated items per user")):
            self.tabs.setTabToolTip(i, tip)

        self.stale_banner = QLabel(STALE_TEXT)
        self.stale_banner.setObjectName("staleBanner")
        self.stale_banner.setWordWrap(True)
        self.stale_banner.setStyleSheet(
            "background: #fff4ce; color: #5c4400; border: 1px solid #e8d48a; padding: 3px 6px;")
        self.stale_banner.hide()

        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        lay.addWidget(QLabel("<b>Results</b>"))
        lay.addWidget(self.stale_banner)
        lay.addWidget(self.tabs, 1)
        self._show_captions(None)
        self._show_recs_caption(None)

    def add_tab(self, view: QWidget, title: str, tip: str = "") -> None:
        """Another view of the result, as a tab beside R-hat, P, Q, Biases and Recommendations."""
        index = self.tabs.addTab(view, title)
        if tip:
            self.tabs.setTabToolTip(index, tip)

    def tab_chain(self) -> list[QWidget]:
        """The panel's widgets in Tab order."""
        return [self.tabs.tabBar(), self.r_hat_table, self.p_table, self.q_table, self.user_bias_table,
                self.item_bias_table, self.min_ratings, self.top_n, self.recs_table]

    # ------------------------------------------------------------------ from the experiment
    @Slot(object)
    def _on_started(self, run: RunStart) -> None:
        self._run = run
        self._set_up = run.start_factors is not None
        if run.start_factors is not None:  # where this model stands, and which cells are held out, at once
            self._factors = run.start_factors
            self.r_hat_model.set_result(run.ratings, self._shown_parts(run.start_factors), run.held_out_cells,
                                        run.solver)
            self.p_model.set_factors(run.ratings, run.start_factors)
            self.q_model.set_factors(run.ratings, run.start_factors)
        self.recs_model.set_stale(True)  # recommendations are listed when the run ends

    @Slot(object)
    def _on_progress(self, report: Progress) -> None:
        run = self._run
        if run is None:
            return
        f = report.snapshot.factors
        if not self._set_up:  # a new model: the R-hat table is set up for it by its first report
            self.r_hat_model.set_result(run.ratings, self._shown_parts(f), run.held_out_cells, run.solver)
            self._set_up = True
        wait = self._shown_at + TABLES_EVERY_S - time.perf_counter()
        if wait > 0:  # shown when its time comes, unless a newer report is by then
            self._pending = f
            if not self._later.isActive():
                self._later.start(int(wait * 1000) + 1)
            return
        self._pending = None
        self._shown_at = time.perf_counter()
        self._show_factors(run.ratings, f)

    @Slot()
    def _show_pending(self) -> None:
        if self._pending is not None and self._run is not None:
            f, self._pending = self._pending, None
            self._shown_at = time.perf_counter()
            self._show_factors(self._run.ratings, f)

    def stop_timers(self) -> None:
        """Stop the pending refresh (window closing)."""
        self._later.stop()
        self._pending = None

    @Slot(object)
    def _on_finished(self, end: RunEnd) -> None:
        self._run = None
        self.stop_timers()  # the end shows the final state
        self._shown_at = -1e9
        if end.shown is not None:
            self.show_result(end.shown)
        else:  # a run that made nothing: the lists shown are as fresh as they were
            self.recs_model.set_stale(self.experiment.results_stale)

    @Slot(object)
    def show_result(self, shown: Shown) -> None:
        ratings, f = shown.ratings, shown.result.factors
        self._factors = f
        self.r_hat_model.set_result(ratings, self._shown_parts(f), shown.held_out_cells, shown.result.solver)
        self.p_model.set_factors(ratings, f)
        self.q_model.set_factors(ratings, f)
        self._show_biases(ratings, f)
        recs = shown.recommendations
        if recs is None and f.all_finite():
            recs = self.experiment.recommendations()
        self._show_recommendations(ratings, recs)

    @Slot()
    def clear(self) -> None:
        self._run = None
        self._factors = None
        for m in (self.p_model, self.q_model, self.r_hat_model, self.user_bias_model, self.item_bias_model):
            m.clear()
        self.recs_model.clear()
        self._show_captions(None)
        self._show_recs_caption(None)

    @Slot(bool)
    def set_stale(self, stale: bool) -> None:
        self.stale_banner.setVisible(stale)
        for m in (self.p_model, self.q_model, self.r_hat_model, self.recs_model, self.user_bias_model,
                  self.item_bias_model):
            m.set_stale(stale)

    @Slot(object)
    def _on_recommendations(self, recs: Recommendations | None) -> None:
        s = self.experiment.shown
        if s is not None:
            self._show_recommendations(s.ratings, recs)

    # ------------------------------------------------------------------ showing
    def _show_recommendations(self, ratings: Ratings, recs: Recommendations | None) -> None:
        self.recs_model.set_recommendations(ratings, recs)
        self.recs_model.set_stale(self.experiment.results_stale)  # lists made again from stale results stay grey
        self._show_recs_caption(recs)

    def _show_factors(self, ratings: Ratings, factors: Factors) -> None:
        self._factors = factors
        self.p_model.set_factors(ratings, factors)
        self.q_model.set_factors(ratings, factors)
        self.r_hat_model.set_factors(ratings, self._shown_parts(factors))
        self._show_biases(ratings, factors)

    def _show_biases(self, ratings: Ratings, factors: Factors | None) -> None:
        if factors is None or factors.user_bias is None or factors.item_bias is None:
            self.user_bias_model.clear()
            self.item_bias_model.clear()
        else:
            self.user_bias_model.set_biases(ratings.users, factors.user_bias, "User bias b_u", "User")
            self.item_bias_model.set_biases(ratings.items, factors.item_bias, "Item bias b_i", "Item")
        self._show_captions(factors, ratings)

    def _show_captions(self, factors: Factors | None, ratings: Ratings | None = None) -> None:
        """Say in the R-hat and Biases tabs how the shown numbers are made (the formula of this model)."""
        shown = self.r_hat_model.display_range if ratings is not None else None  # the model's range, as R-hat's
        scale = "" if shown is None else f" to the scale {shown[0]:g} to {shown[1]:g}"
        legend = ("Plain: rated cells (how well the model fits them). Blue italics: predictions for unrated cells. "
                  "Orange: held-out cells. Hover a cell for the exact value and the actual rating.")
        if factors is not None and factors.user_bias is not None:
            mu = measure_text(factors.global_mean, 3)
            self.r_hat_caption.setText(f"R-hat = μ + b_u + b_i + P·Q (global mean μ = {mu}; the biases are in the "
                                       f"Biases tab), clipped{scale} for display. {legend}")
            self.bias_caption.setText(
                f"Global mean μ = {mu}: the average training rating. A user's bias b_u: how much higher (+) or lower "
                "(−) than μ they rate; an item's bias b_i: how much it is liked regardless of taste. "
                "R-hat = μ + b_u + b_i + P·Q.")
        else:
            self.r_hat_caption.setText(f"R-hat = P·Q, clipped{scale} for display. {legend}")
            self.bias_caption.setText("This model has no biases: R-hat = P·Q. Choose biased-sgd to learn a global "
                                      "mean and a bias per user and per item.")
        if factors is not None and (factors.cold_users is not None or factors.cold_items is not None):
            n = (0 if factors.cold_users is None else len(factors.cold_users)) + \
                (0 if factors.cold_items is None else len(factors.cold_items))
            fallback = "the mean rating plus the known bias" if factors.user_bias is not None else \
                "the mean training rating"
            self.r_hat_caption.setText(self.r_hat_caption.text() + f" {n} user(s)/item(s) without training ratings "
                                       f"show the fallback ({fallback}), marked in their tooltips.")
        parts = None if self.parts is None else self.parts.parts
        if factors is not None and parts is not None and not parts.everything:
            self.r_hat_caption.setText("Model ladder: only " + parts_words(parts, factors) + " predict here "
                                       "(the trained model is unchanged). " + self.r_hat_caption.text())

    def _show_recs_caption(self, recs: Recommendations | None) -> None:
        implicit = self.recs_model.implicit
        text = ("Each user's items without an interaction in training with the highest preference score, in "
                "order." if implicit else "Each user's items not rated in training with the highest predicted "
                "rating, in the order of the model's score.")
        if recs is not None:
            auto = " (auto)" if int(self.min_ratings.value()) == AUTO else ""
            word = data_word(implicit)
            if recs.min_ratings > 1:
                text += f" Items with fewer than {recs.min_ratings:,} training {word} are left out{auto}."
            else:
                text += f" Every item with a training {word[:-1]} is a candidate{auto}."
        self.recs_caption.setText(text)

    @Slot(int, int)
    def _show_recommendation_settings(self, top_n: int, min_ratings: int) -> None:
        """Settings that came from elsewhere (an opened session) shown in the boxes, without echoing them back."""
        for box, value in ((self.top_n, top_n), (self.min_ratings, min_ratings)):
            box.blockSignals(True)
            box.setValue(value)
            box.blockSignals(False)

    def _shown_parts(self, f: Factors) -> Factors:
        """The model as R-hat shows it: the parts the ladder has switched on (all of them unless told)."""
        return f if self.parts is None else masked(f, self.parts.parts)

    @Slot(object)
    def _on_parts(self, parts: Parts) -> None:
        ratings = self._run.ratings if self._run is not None else (
            self.experiment.shown.ratings if self.experiment.shown is not None else None)
        if self._factors is not None and ratings is not None:
            self.r_hat_model.set_factors(ratings, self._shown_parts(self._factors))
        self._show_captions(self._factors, ratings)

    def _pick(self, current: QModelIndex, pick: str) -> None:
        """A table's current cell moved: that user, item or cell becomes the selection."""
        if self.selection is None or not current.isValid():
            return
        if pick == "cell":
            self.selection.select(current.row(), current.column())
        elif pick == "user":
            self.selection.select(user=current.row())
        else:
            self.selection.select(item=current.column() if current.model() is self.q_model else current.row())

    @Slot(object)
    def _on_selection(self, selected: Selected) -> None:
        """A cell selected elsewhere (the grid, the map) becomes R-hat's current cell."""
        cell = selected.cell
        if cell is None or cell[0] >= self.r_hat_model.rowCount() or cell[1] >= self.r_hat_model.columnCount():
            return
        index = self.r_hat_model.index(*cell)
        if self.r_hat_table.currentIndex() != index:
            self.r_hat_table.setCurrentIndex(index)

    @Slot()
    def _on_recommendation_settings(self) -> None:
        self.recommendationSettingsChanged.emit(int(self.top_n.value()), int(self.min_ratings.value()))
