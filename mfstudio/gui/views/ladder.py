"""The model ladder: switches for which parts of the model predict, and the RMSE of each rung.

The switches set the shared :class:`ShownParts` (R-hat and the latent map follow it) and follow it
when another widget changes it; they never change the trained model. The chart shows, for the model
on display, the training and validation RMSE of each rung of :func:`mfstudio.core.ladder.rungs`
(mean only, + user biases, + item biases, + one factor at a time), with the rung shown now marked;
clicking a rung shows it.

Widgets (object names): ``ladderMean``, ``ladderUserBias``, ``ladderItemBias`` (check boxes, hidden
for a model without biases), ``ladderFactors`` (a spin box: how many factors predict), ``ladderAll``
(a button: every part), ``ladderNow`` (a sentence: what predicts now and its errors), ``ladderCanvas``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from typing import Any

import numpy as np

# PySide6 is imported before matplotlib's Qt backend (mfstudio.gui.app), which then picks that binding.
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator
from PySide6.QtCore import QSignalBlocker, QTimer, Slot
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QSpinBox, QVBoxLayout, QWidget

from mfstudio.core import Factors, Ratings
from mfstudio.core.ladder import (
    Parts,
    RungError,
    has_biases,
    iter_rung_errors,
    ladder_split,
    rung_errors,
    rung_of,
    rungs,
)
from mfstudio.core.numbers import exact_text, measure_text
from mfstudio.core.ratings import Observed
from mfstudio.gui.experiment import Experiment, Progress, RunEnd, RunStart, Shown
from mfstudio.gui.views.blit import BlitCanvas
from mfstudio.gui.views.ticks import nice_above
from mfstudio.gui.views.widgets import caption
from mfstudio.gui.viewstate import ShownParts

REDRAW_MS = 80  # the least time between two redraws; more when the errors take long to compute
SLICE_MS = 6  # during a run the rungs are worked out in slices of this many milliseconds, whole rungs each
HIDDEN_MS = 1000  # between two updates while a run goes and the panel is hidden (another tab): shown, it catches up
TRAIN_COLOUR, VAL_COLOUR = "#1f77b4", "#d62728"
MARGINS_PX = (62, 10, 20, 40)  # left, right, top, bottom: room for the y tick labels and the rung names
CAPTION = ("Each rung adds one part of the model (the mean, the user biases, the item biases, then one factor at a "
           "time) and the chart shows its error; R-hat and the latent map predict with the parts switched on, and "
           "the trained model never changes.")


def short_label(label: str, biased: bool) -> str:
    """A rung's name on the chart's axis: μ, +b_u, +b_i, +1, +2 … with biases; 1, 2 … (factors used) without."""
    names = {"mean only": "μ", "+ user biases": "+bᵤ", "+ item biases": "+bᵢ"}
    if label in names:
        return names[label]
    k = label.rsplit(" ", 1)[-1].split("–")[-1]
    return f"+{k}" if biased else k


def parts_text(parts: Parts, K: int, biased: bool) -> str:
    """What predicts, in the notebook's letters: "μ + b_u + b_i + factors 1–2 of 5", "factor 1 of 3"."""
    k = K if parts.factors is None else max(0, min(int(parts.factors), K))
    if k == 0:
        factors = "no factors"
    elif k == K:
        factors = f"all factors (K = {K})"
    else:
        factors = ("factor 1" if k == 1 else f"factors 1–{k}") + f" of {K}"
    if not biased:
        return factors
    terms = [t for t, on in (("μ", parts.mean), ("b_u", parts.user_bias), ("b_i", parts.item_bias)) if on]
    return " + ".join(terms + ([factors] if k else [])) or "nothing (every part is off)"


def y_limits(values: np.ndarray) -> tuple[float, float]:
    """Round limits a little wider than ``values`` (0 to 1 without any): steps of 1, 2 or 5 × 10^k, about
    four of them, never below 0."""
    if not values.size:
        return (0.0, 1.0)
    lo, hi = float(values.min()), float(values.max())
    step = nice_above(max(hi - lo, hi * 0.05, 1e-6) / 4)
    return (max(0.0, math.floor(lo / step - 0.1) * step), math.ceil(hi / step + 0.1) * step)


class LadderCanvas(BlitCanvas):
    """The RMSE-per-rung chart: training (solid) and validation (dashed) against the rung, the rung shown marked.

    The lines and the mark are blitted (:mod:`.blit`); a full draw happens when the rungs, the legend,
    the canvas size or the y limits change, and during a run the y limits only ever widen.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(Figure(figsize=(5.0, 2.2), dpi=100))
        self.setParent(parent)
        self.setObjectName("ladderCanvas")
        self.setAccessibleName("Error of each rung of the model ladder")
        self.setMinimumSize(260, 150)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        ax = self.ax = self.figure.add_subplot(1, 1, 1)
        ax.set_ylabel("RMSE", fontsize=9)
        ax.yaxis.set_major_locator(MaxNLocator(nbins=4))  # few labels: each costs ~2 ms a full draw
        ax.tick_params(labelsize=8)
        ax.grid(True, axis="y", alpha=0.3)
        self.mark = ax.axvspan(-0.4, 0.4, color="#ffd54f", alpha=0.45, lw=0, zorder=0)
        self.train, = ax.plot([], [], color=TRAIN_COLOUR, lw=1.6, marker="o", ms=4, zorder=3)
        self.val, = ax.plot([], [], color=VAL_COLOUR, lw=1.4, ls="--", marker="s", ms=3.5, zorder=3)
        self.hint = ax.text(0.5, 0.5, "Train a model to see\nwhat each part adds", transform=ax.transAxes,
                            ha="center", va="center", color="0.5", fontsize=9)
        self.legend: Any = None
        self.set_moving([self.mark, self.train, self.val])
        self.fit_margins()

    def fit_margins(self) -> None:
        """Margins of a fixed size in pixels (no layout engine: a draw stays cheap)."""
        w, h = max(self.width(), 100), max(self.height(), 80)
        left, right, top, bottom = MARGINS_PX
        self.figure.subplots_adjust(left=left / w, right=1 - right / w, top=1 - top / h, bottom=bottom / h)

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        self.fit_margins()


class LadderPanel(QWidget):
    """"Model ladder": the switches over the RMSE-per-rung chart; follows the experiment and the shared parts."""

    def __init__(self, experiment: Experiment, parts: ShownParts, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("modelLadder")
        self.experiment = experiment
        self.parts = parts
        self.errors: list[RungError] = []  # the chart's values, bottom rung first
        self.labels: list[str] = []  # the rungs' names, bottom first
        self._structure: tuple[int, bool] | None = None  # (K, biased) of the model the rungs are for
        self._factors: Factors | None = None
        self._pending = False
        self._split: tuple[Observed, Observed] | None = None
        self._sampled = ""  # or the words saying the errors are worked out on a sample of the ratings
        self._split_of: tuple[Any, Any] = (None, None)  # the ratings and held-out cells the split was made from
        self._interval = REDRAW_MS
        self._full = True  # the next redraw draws everything (the rungs, legend or limits changed)
        self.computes = 0  # how often the errors were computed (tests)
        self._build()
        self._timer = QTimer(self)
        self._timer.setObjectName("mfstudioLadderRedraw")
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._on_tick)
        self._work: tuple[Factors, Iterator[RungError], list[RungError]] | None = None  # rungs being worked out
        self._work_s = 0.0
        self._work_timer = QTimer(self)
        self._work_timer.setObjectName("mfstudioLadderWork")
        self._work_timer.setSingleShot(True)
        self._work_timer.setInterval(0)
        self._work_timer.timeout.connect(self._on_work)
        parts.changed.connect(self._on_parts_changed)
        experiment.started.connect(self._on_started)
        experiment.progress.connect(self._on_progress)
        experiment.finished.connect(self._on_finished)
        experiment.loaded.connect(self._on_shown)
        experiment.reset.connect(self._on_shown)
        experiment.cleared.connect(self._on_cleared)
        self._set_structure(None)
        if experiment.shown is not None:
            self._on_shown(experiment.shown)

    # -- widgets ------------------------------------------------------------------------------
    def _build(self) -> None:
        self.mean_box = self._check("Mean (μ)", "ladderMean", "The global mean of the training ratings.")
        self.user_box = self._check("User biases (b_u)", "ladderUserBias",
                                    "How much each user rates above or below the mean.")
        self.item_box = self._check("Item biases (b_i)", "ladderItemBias",
                                    "How much each item is rated above or below the mean, whoever rates it.")
        self.factors_box = QSpinBox()
        self.factors_box.setObjectName("ladderFactors")
        self.factors_box.setAccessibleName("Number of latent factors that predict")
        self.factors_box.setToolTip("How many of the K latent factors predict (factors 1 to this number): "
                                    "one click up shows what one more factor buys.")
        self.factors_box.valueChanged.connect(self._on_control)
        self.factors_label = QLabel("Factors:")
        self.factors_label.setBuddy(self.factors_box)
        self.all_button = QPushButton("All parts")
        self.all_button.setObjectName("ladderAll")
        self.all_button.setToolTip("Show the whole model: every part predicts.")
        self.all_button.clicked.connect(self._on_all)
        self.now = QLabel()
        self.now.setObjectName("ladderNow")
        self.now.setWordWrap(True)
        self.canvas = LadderCanvas(self)
        self.canvas.mpl_connect("button_press_event", self._on_click)
        self.canvas.mpl_connect("motion_notify_event", self._on_hover)
        self.canvas.mpl_connect("resize_event", self._on_resize)

        biases = QHBoxLayout()  # two rows, so the panel fits a narrow pane
        biases.setContentsMargins(0, 0, 0, 0)
        biases.setSpacing(8)
        for w in (self.mean_box, self.user_box, self.item_box):
            biases.addWidget(w)
        biases.addStretch(1)
        factors = QHBoxLayout()
        factors.setContentsMargins(0, 0, 0, 0)
        factors.setSpacing(8)
        factors.addWidget(self.factors_label)
        factors.addWidget(self.factors_box)
        factors.addStretch(1)
        factors.addWidget(self.all_button)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.setSpacing(3)
        lay.addWidget(caption(CAPTION))
        lay.addLayout(biases)
        lay.addLayout(factors)
        lay.addWidget(self.now)
        lay.addWidget(self.canvas, 1)

    def _check(self, text: str, name: str, tip: str) -> QCheckBox:
        box = QCheckBox(text)
        box.setObjectName(name)
        box.setToolTip(tip)
        box.setChecked(True)
        box.toggled.connect(self._on_control)
        return box

    @property
    def K(self) -> int:
        return 0 if self._structure is None else self._structure[0]

    @property
    def biased(self) -> bool:
        return self._structure is not None and self._structure[1]

    @property
    def current_rung(self) -> int | None:
        """The index of the rung shown now (None without a model, or when the parts are no rung)."""
        return None if self._factors is None else rung_of(self._factors, self.parts.parts)

    # -- the model's structure -------------------------------------------------------------------
    def _set_structure(self, f: Factors | None) -> None:
        """Rungs and controls for the model ``f`` (K, with or without biases); the parts are kept where they
        still apply."""
        structure = None if f is None else (f.K, has_biases(f))
        if structure == self._structure and f is not None:
            return
        self._structure = structure
        self.labels = [] if f is None else [label for label, _ in rungs(f)]
        self.errors = []
        for box in (self.mean_box, self.user_box, self.item_box):
            box.setVisible(f is None or has_biases(f))
            box.setEnabled(f is not None)
        self.factors_box.setEnabled(f is not None)
        self.all_button.setEnabled(f is not None)
        with QSignalBlocker(self.factors_box):
            K = self.K
            self.factors_box.setRange(0 if self.biased or f is None else 1, max(K, 0))
            self.factors_box.setSuffix(f" of {K}" if K else "")
        self._set_ticks()
        self._full = True
        if f is not None:
            self._keep_applicable_parts(f)
        self._show_parts()

    def _keep_applicable_parts(self, f: Factors) -> None:
        p = self.parts.parts
        k = p.factors
        if k is not None and (k >= f.K or (k < 1 and not has_biases(f))):
            k = None  # all K: the chosen count is this model's whole, or none of its rungs
        if k != p.factors:
            self.parts.set_parts(Parts(p.mean, p.user_bias, p.item_bias, k))

    def _set_ticks(self) -> None:
        ax = self.canvas.ax
        n = len(self.labels)
        names = [short_label(label, self.biased) for label in self.labels]
        left, right = MARGINS_PX[0], MARGINS_PX[1]
        per_rung = max(self.canvas.width() - left - right, 1) / max(n, 1)  # pixels
        fixed = 0
        keep = []
        if self.biased:  # the bias rungs' names, as many as fit (+bᵤ first to go)
            fixed = 3
            keep = [0, 1, 2] if per_rung >= 26 else [0, 2] if per_rung >= 13 else [0]
        every = max(1, math.ceil(28 / per_rung))  # the factors' names: one in `every`, about 28 pixels apart
        keep += [i for i in range(fixed, n) if (i - fixed + 1) % every == 0 or i == n - 1]
        if len(keep) > 1 and keep[-1] - keep[-2] < every and keep[-2] >= fixed:
            del keep[-2]  # the last rung's name always, never crowded by the one before
        ax.set_xticks(keep, [names[i] for i in keep])
        ax.set_xlim(-0.6, max(n, 1) - 0.4)
        ax.set_xlabel("Rung: each adds one part to the one before" if self.biased else "Factors used", fontsize=8)

    # -- experiment --------------------------------------------------------------------------------
    @Slot(object)
    def _on_started(self, run: RunStart) -> None:
        self._use_split(run.ratings, run.held_out_cells)
        if run.start_factors is not None:
            self._set_factors(run.start_factors, now=False)

    @Slot(object)
    def _on_progress(self, report: Progress) -> None:
        self._set_factors(report.snapshot.factors, now=False)

    @Slot(object)
    def _on_finished(self, end: RunEnd) -> None:
        """The run's last factors: their rungs worked out in slices, as during the run, from the next event-loop pass
        on (the end of a run does much else in this one); hidden, once shown."""
        if end.shown is None:
            return
        self._use_split(end.shown.ratings, end.shown.held_out_cells)
        if not self.isVisible():  # no timer left ticking for a hidden chart: worked out once shown (showEvent)
            self.stop_timers()
            self._factors = end.shown.result.factors
            self._set_structure(self._factors)
            self._pending = True
            return
        self._set_factors(end.shown.result.factors, now=False)
        if self._work is None:
            self._timer.start(0)

    @Slot(object)
    def _on_shown(self, shown: Shown) -> None:
        self._use_split(shown.ratings, shown.held_out_cells)
        self._set_factors(shown.result.factors, now=True)

    @Slot()
    def _on_cleared(self) -> None:
        self.stop_timers()
        self._factors = None
        self._split = None
        self._split_of = (None, None)
        self.parts.set_parts(Parts())
        self._set_structure(None)
        self._update_chart()

    def _use_split(self, ratings: Ratings, held_out_cells: np.ndarray) -> None:
        if self._split_of[0] is ratings and self._split_of[1] is held_out_cells:
            return
        train, val, self._sampled = ladder_split(ratings, held_out_cells)
        self._split = (train, val)
        self._split_of = (ratings, held_out_cells)

    def _set_factors(self, f: Factors, now: bool) -> None:
        self._factors = f
        self._set_structure(f)
        self._pending = True
        if now:
            self.flush()
        elif not self._timer.isActive() and self._work is None:
            self._timer.start(self._interval if self.isVisible() else HIDDEN_MS)

    @Slot()
    def _on_tick(self) -> None:
        """Time for the next update during a run: start working through the rungs of the latest factors."""
        f, split = self._factors, self._split
        if not self._pending or f is None or split is None or self._work is not None:
            return
        self._pending = False
        self._work = (f, iter_rung_errors(f, *split), [])
        self._work_s = 0.0
        self._work_timer.start()

    @Slot()
    def _on_work(self) -> None:
        """A slice of the work (SLICE_MS at most, whole rungs), then back to the event loop until the next."""
        if self._work is None:
            return
        f, work, done = self._work
        t0 = time.perf_counter()
        finished = False
        while time.perf_counter() - t0 < SLICE_MS / 1000:
            e = next(work, None)
            if e is None:
                finished = True
                break
            done.append(e)
        self._work_s += time.perf_counter() - t0
        if not finished:
            self._work_timer.start()
            return
        self._work = None
        if (f.K, has_biases(f)) == self._structure:  # the rungs are still the ones shown
            self.errors = done
            self.computes += 1
            self._update_chart(sliced=True)
        # the next update waits at least four times the work this one took, so a big model leaves the GUI free
        self._interval = max(REDRAW_MS, int(4000 * self._work_s))
        if self._pending:
            self._timer.start(self._interval if self.isVisible() else HIDDEN_MS)

    def busy(self) -> bool:
        """True while errors wait to be worked out or the chart is being drawn (tests, benchmarks)."""
        return self._pending or self._work is not None or self.canvas.slices.busy()

    def flush(self) -> None:
        """Compute the pending errors and redraw now, in one go (the end of a run, a result opened, a test)."""
        self._timer.stop()
        self._work_timer.stop()
        self._work = None
        if not self._pending:
            return
        self._pending = False
        f, split = self._factors, self._split
        if f is not None and split is not None:
            self.errors = rung_errors(f, *split)
            self.computes += 1
        self._update_chart()

    def showEvent(self, event: Any) -> None:
        """Shown (its tab brought to the front): the errors that waited are worked out in slices, as during a run,
        from the next event-loop pass on (at once they cost tens of milliseconds on big data)."""
        super().showEvent(event)
        if self._pending and self._work is None:
            self._timer.start(0)

    def stop_timers(self) -> None:
        """Stop the redraw timers and a frame being drawn (window closing)."""
        self.canvas.stop_slices()
        self._timer.stop()
        self._work_timer.stop()
        self._work = None
        self._pending = False

    # -- parts ---------------------------------------------------------------------------------------
    @Slot()
    def _on_control(self) -> None:
        if self._structure is None:
            return
        p = self.parts.parts
        k: int | None = int(self.factors_box.value())
        if k is not None and k >= self.K:
            k = None
        if self.biased:
            new = Parts(self.mean_box.isChecked(), self.user_box.isChecked(), self.item_box.isChecked(), k)
        else:  # the hidden bias switches keep their state for the next model with biases
            new = Parts(p.mean, p.user_bias, p.item_bias, k)
        self.parts.set_parts(new)

    @Slot()
    def _on_all(self) -> None:
        self.parts.set_parts(Parts())

    def show_rung(self, index: int) -> None:
        """Show the rung ``index`` (0 = the bottom one)."""
        if self._factors is None:
            return
        ladder = rungs(self._factors)
        if 0 <= index < len(ladder):
            p = self.parts.parts
            new = ladder[index][1]
            if not self.biased:
                new = Parts(p.mean, p.user_bias, p.item_bias, new.factors)
            self.parts.set_parts(new)

    @Slot(object)
    def _on_parts_changed(self, _parts: Parts) -> None:
        self._show_parts()

    def _show_parts(self) -> None:
        p = self.parts.parts
        for box, on in ((self.mean_box, p.mean), (self.user_box, p.user_bias), (self.item_box, p.item_bias)):
            with QSignalBlocker(box):
                box.setChecked(on)
        with QSignalBlocker(self.factors_box):
            self.factors_box.setValue(self.K if p.factors is None else min(int(p.factors), self.K))
        self._update_mark()
        self._update_now()
        self._redraw()

    def _redraw(self, sliced: bool = False) -> None:
        """Blit the lines and the mark, or draw everything when the axes changed (``sliced``, and always while a
        run goes: in slices, see :meth:`.BlitCanvas.refresh`; a full draw of the chart costs tens of milliseconds)."""
        full, self._full = self._full, False
        self.canvas.refresh(full=full, sliced=sliced or self.experiment.running)

    def _update_mark(self) -> None:
        i = self.current_rung
        self.canvas.mark.set_visible(i is not None and bool(self.errors))
        if i is not None:
            self.canvas.mark.set_x(i - 0.4)
            self.canvas.mark.set_width(0.8)

    def _update_now(self) -> None:
        if self._structure is None:
            self.now.setText("No model yet: train one, or open results.")
            self.now.setToolTip("")
            return
        p = self.parts.parts
        text = f"Predicting with {parts_text(p, self.K, self.biased)}"
        i = self.current_rung
        tip = ""
        if i is None:
            text += " (not a rung of the ladder, so not on the chart)."
        elif i < len(self.errors):
            e = self.errors[i]
            text += f": training RMSE {measure_text(e.train_rmse, 3)}"
            tip = f"Training RMSE {exact_text(e.train_rmse)}"
            if math.isfinite(e.val_rmse):
                text += f", validation RMSE {measure_text(e.val_rmse, 3)}"
                tip += f"\nValidation RMSE {exact_text(e.val_rmse)}"
            text += f" ({self._sampled})." if self._sampled else "."
        else:
            text += "."
        self.now.setText(text)
        self.now.setToolTip(tip)

    # -- chart -----------------------------------------------------------------------------------------
    def _update_chart(self, sliced: bool = False) -> None:
        c = self.canvas
        errs = self.errors
        x = np.arange(len(errs))
        train = np.array([e.train_rmse for e in errs], dtype=float)
        val = np.array([e.val_rmse for e in errs], dtype=float)
        has_val = bool(np.isfinite(val).any())
        c.train.set_data(x, train)
        c.val.set_data(x if has_val else [], val if has_val else [])
        if c.hint.get_visible() == bool(errs):
            c.hint.set_visible(not errs)
            self._full = True
        self._update_legend(has_val)
        ys = np.concatenate([train, val])
        ys = ys[np.isfinite(ys)]
        lo, hi = c.ax.get_ylim()
        if self.experiment.running:
            # while it runs the errors fall: limits from 0 that only ever widen, so the chart is blitted
            if ys.size and not (lo <= ys.min() and ys.max() <= hi):
                c.ax.set_ylim(0.0, nice_above(float(ys.max()) * 1.2))
                self._full = True
        else:
            want = y_limits(ys)
            if want != (lo, hi):
                c.ax.set_ylim(*want)
                self._full = True
        self._update_mark()
        self._update_now()
        self._redraw(sliced)

    def _update_legend(self, has_val: bool) -> None:
        c = self.canvas
        want = ("training", "validation (held out)") if has_val else ("training",) if self.errors else ()
        have = () if c.legend is None else tuple(t.get_text() for t in c.legend.get_texts())
        if want == have:
            return
        self._full = True
        if c.legend is not None:
            c.legend.remove()
            c.legend = None
        if want:
            handles = [Line2D([], [], color=TRAIN_COLOUR, lw=1.6, marker="o", ms=4),
                       Line2D([], [], color=VAL_COLOUR, lw=1.4, ls="--", marker="s", ms=3.5)][:len(want)]
            # above the axes, right: never over a point
            c.legend = c.ax.legend(handles, list(want), fontsize=7.5, loc="lower right", bbox_to_anchor=(1, 0.98),
                                   ncols=2, frameon=False, borderaxespad=0, handlelength=2.2)

    def _on_resize(self, _event: Any) -> None:
        self._set_ticks()  # as many rung names as the width holds (the canvas draws in full after a resize)

    def _rung_at(self, event: Any) -> int | None:
        if event.inaxes is not self.canvas.ax or event.xdata is None or not self.errors:
            return None
        i = int(round(event.xdata))
        return i if 0 <= i < len(self.errors) else None

    def _on_click(self, event: Any) -> None:
        i = self._rung_at(event)
        if i is not None:
            self.show_rung(i)

    def _on_hover(self, event: Any) -> None:
        i = self._rung_at(event)
        if i is None:
            self.canvas.setToolTip("Click a rung to show it.")
            return
        e = self.errors[i]
        tip = f"{e.label}: training RMSE {exact_text(e.train_rmse)}"
        if math.isfinite(e.val_rmse):
            tip += f", validation RMSE {exact_text(e.val_rmse)}"
        self.canvas.setToolTip(tip + ". Click to show this rung.")

