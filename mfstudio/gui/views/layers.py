"""Factor layers: R-hat drawn as the sum of K simple pictures, and what is left over.

For each factor k the rank-1 layer P[:,k]·Q[k,:] is a heatmap over users × items (a diverging
scale, zero white, one scale for every layer); then the baseline μ + b_u + b_i of a biased model
(and the fallback of users or items without training ratings), R-hat as the sum, and the residual
R − R-hat on the rated cells with the held-out cells outlined. Only a block of at most
:data:`MAX_SIDE` users and items is drawn: the first ones in the grid's order, with the selected
user or item put first when it lies further down. The maths is in :mod:`mfstudio.core.ladder`.

Images are persistent and updated with ``set_data`` (coloured here and drawn straight onto the
canvas's pixels, :class:`.blit.PixelImage`); the panels are placed by hand (no layout engine) and redrawn at most every
:data:`REDRAW_MS` milliseconds, on the GUI thread. Only the images and the held-out outlines are
drawn again over a saved background (:mod:`.blit`); when a colour scale moves (in steps, see
:func:`nice_limit`, so rarely) only its colour bar is drawn again, and a full draw (every title
costs ~2 ms) happens only when the panels or the canvas size change. There are no axes at all:
titles, frames, outlines and colour bars are figure-level artists placed in figure fractions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from matplotlib import colormaps
from matplotlib.cm import ScalarMappable
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.colors import LinearSegmentedColormap, Normalize
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from PySide6.QtCore import QTimer, Slot
from PySide6.QtWidgets import QSizePolicy, QVBoxLayout, QWidget

from mfstudio.core import Factors, Ratings
from mfstudio.core.ladder import baseline, has_biases, layer, predicted
from mfstudio.core.numbers import exact_text, measure_text
from mfstudio.core.ratings import Observed
from mfstudio.gui.experiment import Experiment, Progress, RunEnd, RunStart, Shown
from mfstudio.gui.views.blit import BlitCanvas, PixelImage
from mfstudio.gui.views.widgets import caption
from mfstudio.gui.viewstate import Selected, Selection

MAX_SIDE = 60  # users and items drawn at most: never users x items of a big data set
MAX_LAYERS = 20  # factors drawn one by one (up to K = 21 each its own); the others share one panel, summed
REDRAW_MS = 80
HIDDEN_MS = 1000  # between two updates while a run goes and the panel is hidden (another tab): shown, it catches up
# RdBu_r with pure white at zero (its own middle is a light grey), an odd number of colours so 0 has one;
# grey: not rated
_RDBU = colormaps["RdBu_r"](np.linspace(0, 1, 11))
_RDBU[5] = (1.0, 1.0, 1.0, 1.0)
DIVERGING = LinearSegmentedColormap.from_list("mfstudio_diverging", _RDBU, N=255).with_extremes(bad="0.80")
SEQUENTIAL = colormaps["viridis"].with_extremes(bad="0.80")  # ratings; grey: no number (a diverged model)
TITLE_PT = 8
GAP_PX, TITLE_PX, BAR_PX, BAR_GAP_PX, BAR_TEXT_PX, EDGE_PX = 10, 15, 12, 14, 54, 6  # room for "≤ −0.08"
BAR_TITLE_PX = 22  # room above a colour bar for its title (clear of the top label)


@dataclass
class _Panel:
    kind: str  # "layer", "rest", "baseline", "r_hat", "residual"
    title: str
    short: str  # the title when the panels are too narrow for it
    k: int = -1  # the factor of a layer (0-based)
    text: Any = None  # the title
    image: Any = None  # a PixelImage
    box: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)  # x0, y0, width, height in figure fractions
    data: Any = None  # the values shown (for the tooltip and the tests)


class LayersCanvas(BlitCanvas):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(Figure(figsize=(7.0, 4.0), dpi=100))
        self.setParent(parent)
        self.setObjectName("factorLayersCanvas")
        self.setAccessibleName("Factor layers, R-hat and the residual as heatmaps")
        self.setMinimumSize(320, 200)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)


class LayersPanel(QWidget):
    """"Factor layers": the small multiples of one model's block of users × items; follows the experiment and
    the shared selection."""

    def __init__(self, experiment: Experiment, selection: Selection, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("factorLayers")
        self.experiment = experiment
        self.selection = selection
        self.panels: list[_Panel] = []
        self.users = np.zeros(0, np.int64)  # the block's users (rows) and items (columns)
        self.items = np.zeros(0, np.int64)
        self._factors: Factors | None = None
        self._ratings: Ratings | None = None
        self._held_out_cells = np.zeros((0, 2), np.int64)
        self._held_out_given: Any = None  # the array given, to know it again
        self._entries: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None  # rated cells in the block
        self._held_mask = np.zeros(0, bool)  # per entry in the block: held out
        self._structure: tuple | None = None
        self._pending = False
        # the colour scales: one for every layer, the rating scale, the residual's
        self.scales = {"layer": ScalarMappable(Normalize(-1, 1), DIVERGING),
                       "rating": ScalarMappable(Normalize(1, 5), SEQUENTIAL),
                       "residual": ScalarMappable(Normalize(-1, 1), DIVERGING)}
        self._pool: list[tuple[Any, PixelImage]] = []  # (title, image) per panel, kept for the next model
        self.draws = 0  # how often the images were updated (tests)
        self.caption = caption("")
        self.caption.setObjectName("factorLayersCaption")
        self.canvas = LayersCanvas(self)
        self.canvas.mpl_connect("resize_event", self._on_resize)
        self.canvas.mpl_connect("motion_notify_event", self._on_hover)
        fig = self.canvas.figure
        self.hint = fig.text(0.5, 0.5, "Train a model to see R-hat as the sum of simple pictures,\none per latent "
                             "factor", ha="center", va="center", color="0.5", fontsize=10)
        self.frames = fig.add_artist(LineCollection([], colors="0.55", linewidths=0.6, transform=fig.transFigure))
        self.held_marks = fig.add_artist(PolyCollection([], facecolors="none", edgecolors="black", linewidths=0.8,
                                                        transform=fig.transFigure, zorder=3))
        self.bars = {key: ColourBar(fig, self.scales[key], title, clipped=key != "rating")
                     for key, title in (("layer", "Layers"), ("rating", "Ratings"), ("residual", "Residual"))}
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.setSpacing(2)
        lay.addWidget(self.caption)
        lay.addWidget(self.canvas, 1)
        self._timer = QTimer(self)
        self._timer.setObjectName("mfstudioLayersRedraw")
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._on_timer)
        experiment.started.connect(self._on_started)
        experiment.progress.connect(self._on_progress)
        experiment.finished.connect(self._on_finished)
        experiment.loaded.connect(self._on_shown)
        experiment.reset.connect(self._on_shown)
        experiment.cleared.connect(self._on_cleared)
        selection.changed.connect(self._on_selection)
        self._rebuild()
        if experiment.shown is not None:
            self._on_shown(experiment.shown)

    # -- experiment ------------------------------------------------------------------------------
    @Slot(object)
    def _on_started(self, run: RunStart) -> None:
        self._set_data(run.ratings, run.held_out_cells)
        if run.start_factors is not None:
            self._set_factors(run.start_factors, now=False)

    @Slot(object)
    def _on_progress(self, report: Progress) -> None:
        self._set_factors(report.snapshot.factors, now=False)

    @Slot(object)
    def _on_finished(self, end: RunEnd) -> None:
        """The run's last factors, from the next event-loop pass on (the end of a run does much else in this one), a
        full draw they need (new panels) in slices; hidden, once shown."""
        if end.shown is not None:
            self._set_data(end.shown.ratings, end.shown.held_out_cells)
            self._factors = end.shown.result.factors
            self._pending = True
            if self.isVisible():
                self._timer.start(0)
            else:
                self._timer.stop()

    @Slot(object)
    def _on_shown(self, shown: Shown) -> None:
        self._set_data(shown.ratings, shown.held_out_cells)
        self._set_factors(shown.result.factors, now=True)

    @Slot()
    def _on_cleared(self) -> None:
        self._timer.stop()
        self._pending = False
        self._factors = self._ratings = self._held_out_given = None
        self._held_out_cells = np.zeros((0, 2), np.int64)
        self._choose_block()
        self._rebuild()

    @Slot(object)
    def _on_selection(self, _selected: Selected) -> None:
        if self._ratings is None:
            return
        old = (self.users.tobytes(), self.items.tobytes())
        self._choose_block()
        if (self.users.tobytes(), self.items.tobytes()) != old:
            self._pending = True
            self.flush()

    def _set_data(self, ratings: Ratings, held_out_cells: np.ndarray) -> None:
        if ratings is self._ratings and held_out_cells is self._held_out_given:
            return
        self._ratings, self._held_out_given = ratings, held_out_cells
        self._held_out_cells = np.asarray(held_out_cells, np.int64).reshape(-1, 2)
        self.scales["rating"].set_clim(*ratings.scale)
        self._choose_block()

    def _choose_block(self) -> None:
        """The first MAX_SIDE users and items, the selected ones first when they lie beyond."""
        r = self._ratings
        self._structure = None  # the block changed: the panels are made again for it
        if r is None:
            self.users = self.items = np.zeros(0, np.int64)
            self._entries = None
            return
        sel = self.selection.current
        self.users = _first(r.n_users, sel.user)
        self.items = _first(r.n_items, sel.item)
        self._entries = user_block_entries(r.observed, r.n_items, self.users, self.items)
        held = np.zeros(len(self._entries[0]), bool)
        if len(self._held_out_cells):
            o, idx, cells = r.observed, self._entries[0], self._held_out_cells
            shown = np.zeros(r.n_users, bool)
            shown[self.users] = True
            cells = cells[shown[cells[:, 0]]]  # the block's users' held-out cells only: a small isin
            key = o.rows[idx] * r.n_items + o.cols[idx]
            held = np.isin(key, cells[:, 0] * r.n_items + cells[:, 1])
        self._held_mask = held

    def _set_factors(self, f: Factors, now: bool) -> None:
        self._factors = f
        self._pending = True
        if now:
            self.flush()
        elif not self._timer.isActive():
            self._timer.start(REDRAW_MS if self.isVisible() else HIDDEN_MS)

    def showEvent(self, event: Any) -> None:
        """Shown (its tab brought to the front): the factors that waited, a full draw they need in slices."""
        super().showEvent(event)
        if self._pending:
            self.flush(sliced=True)

    def stop_timers(self) -> None:
        """Stop the redraw timer (window closing)."""
        self._timer.stop()
        self._pending = False

    # -- panels -----------------------------------------------------------------------------------
    def _wanted(self) -> tuple:
        f = self._factors
        if f is None or self._ratings is None:
            return ()
        return (f.K, has_biases(f), any(self._cold_counts(f)), len(self.users), len(self.items))

    def _cold_counts(self, f: Factors) -> tuple[int, int]:
        """How many of the block's users and items had no training rating."""
        cu = int(np.isin(self.users, f.cold_users).sum()) if f.cold_users is not None else 0
        ci = int(np.isin(self.items, f.cold_items).sum()) if f.cold_items is not None else 0
        return cu, ci

    def _rebuild(self, sliced: bool = False) -> None:
        """Lay out the panels for the current model and block (K, biases, block size); ``sliced``: the full draw
        that follows in slices (see :meth:`.BlitCanvas.refresh`).

        The titles and images are figure-level artists kept from one model to the next (an axes costs
        ~15 ms to make and some to draw, and a panel needs none): only their number and text change.
        """
        want = self._wanted()
        self._structure = want
        for text, image in self._pool:
            text.set_visible(False)
            image.set_visible(False)
        self.panels = []
        self.held_marks.set_verts([])
        self.frames.set_segments([])
        if not want:
            self.hint.set_visible(True)
            for bar in self.bars.values():
                bar.set_visible(False)
            self.canvas.set_moving([])
            self._update_caption()
            self.canvas.refresh(full=True, sliced=sliced)
            return
        self.hint.set_visible(False)
        K, biased, cold, n_u, n_i = want
        shown = K if K <= MAX_LAYERS + 1 else MAX_LAYERS
        # the titles read as the sum: Factor 1 + factor 2 + … = R-hat
        self.panels = [_Panel("layer", f"Factor {k + 1}" if k == 0 else f"+ factor {k + 1}", f"+{k + 1}", k)
                       for k in range(shown)]
        self.panels[0].short = "1"
        if shown < K:
            self.panels.append(_Panel("rest", f"+ factors {shown + 1}–{K}", f"+{shown + 1}–{K}"))
        if biased or cold:
            self.panels.append(_Panel("baseline", "+ μ + b_u + b_i", "+ biases") if biased else
                               _Panel("baseline", "+ fallback (no ratings)", "+ fallback"))
        self.panels.append(_Panel("r_hat", "= R-hat", "= R-hat"))
        self.panels.append(_Panel("residual", "R − R-hat (rated)", "R − R-hat"))
        fig = self.canvas.figure
        while len(self._pool) < len(self.panels):
            self._pool.append((fig.text(0, 0, "", fontsize=TITLE_PT, ha="center", va="bottom"), PixelImage(fig)))
        blank = np.zeros((n_u, n_i, 4), np.uint8)
        for p, (text, image) in zip(self.panels, self._pool):
            p.text, p.image = text, image
            text.set_visible(True)
            image.set_visible(True)
            image.set_data(blank)
            p.data = np.zeros((n_u, n_i))
        self._make_bars()
        self._place()
        self._update_caption()
        self.canvas.set_moving([p.image for p in self.panels] + [self.held_marks])
        self.canvas.refresh(full=True, sliced=sliced)

    def _make_bars(self) -> None:
        for bar in self.bars.values():
            bar.set_visible(True)
            bar.relabel()

    def _place(self) -> None:
        """Put the panels in a grid that fills the canvas, the colour bars in a column on the right.

        Sizes are worked out in (logical) pixels and set in figure fractions, so they hold at any pixel ratio.
        """
        if not self.panels:
            return
        W, H = max(self.canvas.width(), 200), max(self.canvas.height(), 120)
        n = len(self.panels)
        n_u, n_i = len(self.users), len(self.items)
        aspect = min(max(n_i / max(n_u, 1), 0.5), 2.0)  # width / height of a panel
        avail_w = W - EDGE_PX - BAR_GAP_PX - BAR_PX - BAR_TEXT_PX
        avail_h = H - EDGE_PX
        best = (0.0, 1)
        for cols in range(1, n + 1):
            rows = math.ceil(n / cols)
            cw = (avail_w - GAP_PX * (cols - 1)) / cols
            ch = (avail_h - (GAP_PX + TITLE_PX) * rows) / rows
            h = min(ch, cw / aspect)
            if h > best[0]:
                best = (h, cols)
        ph, cols = max(best[0], 8.0), best[1]
        pw = ph * aspect
        rows = math.ceil(n / cols)
        segs = []
        for idx, p in enumerate(self.panels):
            r, c = divmod(idx, cols)
            x = EDGE_PX + c * (pw + GAP_PX)
            y = H - (EDGE_PX / 2 + r * (ph + GAP_PX + TITLE_PX) + TITLE_PX + ph)  # the bottom, from the bottom
            p.box = (x / W, y / H, pw / W, ph / H)
            p.image.set_box(*p.box)
            p.text.set_position(((x + pw / 2) / W, (y + ph + 2) / H))
            # about 0.6 em a character: the full title where it fits the panel's width, else the short one
            fits = len(p.title) * 0.6 * TITLE_PT * 96 / 72 <= pw + GAP_PX - 2
            p.text.set_text(p.title if fits else p.short)
            x0, x1, y0, y1 = (x - 1) / W, (x + pw + 0.5) / W, (y - 1) / H, (y + ph + 0.5) / H  # just outside
            segs.append([(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)])
        self.frames.set_segments(segs)
        self._update_held_marks()
        bar_x = min(EDGE_PX + cols * pw + (cols - 1) * GAP_PX + BAR_GAP_PX, W - BAR_PX - BAR_TEXT_PX)
        grid_h = min(rows * (ph + GAP_PX + TITLE_PX) - GAP_PX, avail_h)
        bar_h = max((grid_h - 3 * BAR_TITLE_PX - 2 * GAP_PX) / 3, 20)
        for i, bar in enumerate(self.bars.values()):
            y_top = EDGE_PX / 2 + BAR_TITLE_PX + i * (bar_h + BAR_TITLE_PX + GAP_PX)
            bar.place(bar_x, H - y_top - bar_h, BAR_PX, bar_h, W, H)

    def cell_centre(self, panel: int, row: int, col: int) -> tuple[float, float]:
        """Where the centre of cell (row, col) of the panel ``panel`` is drawn, in display pixels from the
        bottom left."""
        x0, y0, w, h = self.panels[panel].box
        fx = x0 + (col + 0.5) / len(self.items) * w
        fy = y0 + h - (row + 0.5) / len(self.users) * h
        x, y = self.canvas.figure.transFigure.transform((fx, fy))
        return float(x), float(y)

    def cell_at(self, x: float, y: float) -> tuple[int, int, int] | None:
        """The (panel, row, column) under the display pixel (x, y), or None."""
        fx, fy = self.canvas.figure.transFigure.inverted().transform((x, y))
        for i, p in enumerate(self.panels):
            x0, y0, w, h = p.box
            if x0 <= fx < x0 + w and y0 < fy <= y0 + h:
                row = min(int((y0 + h - fy) / h * len(self.users)), len(self.users) - 1)
                col = min(int((fx - x0) / w * len(self.items)), len(self.items) - 1)
                return i, row, col
        return None

    def _on_resize(self, _event: Any) -> None:
        self._place()  # the canvas draws itself in full after a resize

    # -- data ---------------------------------------------------------------------------------------
    @Slot()
    def _on_timer(self) -> None:
        """A run's next frame: a full draw it needs in slices (see :meth:`flush`)."""
        self.flush(sliced=True)

    def flush(self, sliced: bool = False) -> None:
        """Show the pending factors now: compute the block's layers, R-hat and residual and draw them (``sliced``:
        a full draw, when the panels changed, in slices from the next event-loop pass on; the images are blitted at
        once)."""
        self._timer.stop()
        if not self._pending:
            return
        self._pending = False
        if self._wanted() != self._structure:
            self._rebuild(sliced)
        f = self._factors
        if f is None or not self.panels:
            return
        u, i = self.users, self.items
        R_hat = predicted(f, u, i)
        n_layers = sum(p.kind == "layer" for p in self.panels)
        for p in self.panels:
            if p.kind == "layer":
                p.data = layer(f, p.k, u, i)
            elif p.kind == "rest":
                p.data = sum((layer(f, k, u, i) for k in range(n_layers, f.K)), np.zeros((len(u), len(i))))
            elif p.kind == "baseline":
                p.data = baseline(f, u, i)
            elif p.kind == "r_hat":
                p.data = R_hat
            else:
                p.data = self._residual(R_hat)
        moved = [key for key in ("layer", "residual") if self._set_limit(key)]
        for p in self.panels:
            p.image.set_data(self._colour(p))
        self._update_held_marks()
        self._update_caption()
        self.draws += 1
        if moved:  # a colour scale moved: its bar is drawn again into the background, nothing else
            self.canvas.refresh(redraw=[a for key in moved for a in self.bars[key].artists], sliced=sliced)
        else:
            self.canvas.refresh(sliced=sliced)

    def _colour(self, p: _Panel) -> np.ndarray:
        key = "rating" if p.kind in ("baseline", "r_hat") else "residual" if p.kind == "residual" else "layer"
        sm = self.scales[key]
        lo, hi = sm.norm.vmin, sm.norm.vmax
        with np.errstate(invalid="ignore"):
            t = np.clip((p.data - lo) / (hi - lo), 0.0, 1.0)  # NaN (not rated) stays NaN: the grey of "bad"
        return sm.cmap(t, bytes=True)

    def _set_limit(self, key: str) -> bool:
        """Colour limits ±L for the panels of scale ``key`` (zero white in the middle), L in steps; True when
        they moved."""
        kinds = ("layer", "rest") if key == "layer" else ("residual",)
        m = _largest([p.data for p in self.panels if p.kind in kinds])
        sm = self.scales[key]
        L = float(sm.norm.vmax)
        if self.experiment.running:  # while factors grow: a quarter of room to grow into, and never narrower
            if m > L:
                L = nice_limit(1.25 * m)
        elif not (L / 2 < m <= L):  # kept while the values fill half of it or more
            L = nice_limit(m)
        if L == sm.norm.vmax:
            return False
        sm.set_clim(-L, L)
        self.bars[key].relabel()
        return True

    def _residual(self, R_hat: np.ndarray) -> np.ndarray:
        """R − R-hat at the rated cells of the block (NaN elsewhere), from the block's R-hat."""
        E = np.full(R_hat.shape, np.nan)
        if self._entries is not None and self._ratings is not None:
            sel, br, bc = self._entries
            with np.errstate(over="ignore", invalid="ignore"):
                E[br, bc] = self._ratings.observed.vals[sel] - R_hat[br, bc]
        return E

    def _update_held_marks(self) -> None:
        """An outline just inside each held-out cell of the residual panel (figure fractions)."""
        if self._entries is None or not self.panels:
            self.held_marks.set_verts([])
            return
        _sel, br, bc = self._entries
        r, c = br[self._held_mask], bc[self._held_mask]
        x0, y0, w, h = self.panels[-1].box
        cw, ch = w / max(len(self.items), 1), h / max(len(self.users), 1)
        cx, cy = x0 + (c + 0.5) * cw, y0 + h - (r + 0.5) * ch
        dx, dy = 0.42 * cw, 0.42 * ch
        verts = np.stack([np.stack([cx - dx, cy - dy], 1), np.stack([cx + dx, cy - dy], 1),
                          np.stack([cx + dx, cy + dy], 1), np.stack([cx - dx, cy + dy], 1)], axis=1)
        self.held_marks.set_verts(list(verts))

    def _update_caption(self) -> None:
        f, r = self._factors, self._ratings
        if f is None or r is None:
            self.caption.setText("Each latent factor adds a simple picture to R-hat: train a model to see them.")
            return
        text = ("R-hat is the sum of simple pictures, one per factor k: P[:,k]·Q[k,:] (red raises a prediction, "
                "blue lowers it; one colour scale for all)")
        text += " plus μ + b_u + b_i" if has_biases(f) else ""
        text += "; the last one is what is left, R − R-hat, on the rated cells"
        text += " (held-out cells outlined, grey: not rated)." if len(self._held_out_cells) else " (grey: not rated)."
        n_u, n_i = len(self.users), len(self.items)
        if n_u < r.n_users or n_i < r.n_items:
            text += (f" Shown: {_which(self.users, r.n_users, 'user')} (down) and "
                     f"{_which(self.items, r.n_items, 'item')} (across) of {r.n_users:,} × {r.n_items:,}.")
        else:
            text += " Users down, items across."
        cold = self._cold_counts(f)
        if any(cold):
            who = " and ".join(f"{n} {w}{'s' if n != 1 else ''}" for n, w in zip(cold, ("user", "item")) if n)
            text += f" {who} without training ratings predict the fallback: their layers are empty."
        if text != self.caption.text():
            self.caption.setText(text)

    # -- hover ----------------------------------------------------------------------------------------
    def _on_hover(self, event: Any) -> None:
        r = self._ratings
        hit = None if r is None or event.x is None else self.cell_at(event.x, event.y)
        if hit is None or r is None:
            self.canvas.setToolTip("")
            return
        p = self.panels[hit[0]]
        row, col = hit[1], hit[2]
        u, i = int(self.users[row]), int(self.items[col])
        v = float(p.data[row, col])
        where = f"{r.users[u]} · {r.items[i]}"
        if math.isnan(v):
            self.canvas.setToolTip(f"{where}: not rated")
            return
        self.canvas.setToolTip(f"{where}, {p.title.lstrip('+= ')}: {measure_text(v, 3)} (exactly {exact_text(v)})")


def _first(n: int, selected: int | None) -> np.ndarray:
    """The first MAX_SIDE of n indices; ``selected`` first when it lies beyond them."""
    m = min(n, MAX_SIDE)
    if selected is None or selected < m or selected >= n:
        return np.arange(m, dtype=np.int64)
    return np.concatenate([[selected], np.arange(m - 1)]).astype(np.int64)


def _which(ix: np.ndarray, n: int, who: str) -> str:
    if len(ix) and ix[0] != 0:
        return f"{who} {ix[0] + 1} (selected), then {who}s 1–{len(ix) - 1}"
    return f"{who}s 1–{len(ix)}"


def _largest(arrays: list[np.ndarray]) -> float:
    """The 99th percentile of the finite |values| in ``arrays`` (0 when there is none): a few outlying cells
    saturate (the colour bar's pointed ends say so) rather than wash every other cell out."""
    values = [np.abs(a[np.isfinite(a)]) for a in arrays]
    values = np.concatenate(values) if values else np.zeros(0)
    return float(np.percentile(values, 99)) if values.size else 0.0


STEPS = (1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0)


def nice_limit(m: float) -> float:
    """The smallest of 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 × 10^k at or above ``m`` (1 for 0 or no number): a
    colour scale in steps, so the colours stay strong and the scale moves rarely."""
    if not (m > 0 and math.isfinite(m)):
        return 1.0
    e = math.floor(math.log10(m))
    for s in STEPS:
        if s * 10.0 ** e >= m * (1 - 1e-12):
            return float(f"{s * 10.0 ** e:.12g}")
    return float(f"{10.0 ** (e + 1):.12g}")


def _tick(v: float) -> str:
    return f"{v:.3g}".replace("-", "−")


class ColourBar:
    """A colour scale drawn without an axes (an axes and its ticks cost more to draw than all the heatmaps): a
    gradient, an outline, a title and three labels, the ends and the middle. ``clipped``: values beyond the ends
    take the end's colour, and the labels say so (≥, ≤). Its first artist, a white ground, covers the others,
    so it can be drawn again alone when its scale moves."""

    def __init__(self, fig: Figure, scale: ScalarMappable, title: str, clipped: bool) -> None:
        self.scale, self.clipped = scale, clipped
        tf = fig.transFigure
        self.ground = fig.add_artist(Rectangle((0, 0), 0, 0, transform=tf, color="white", zorder=-1))
        self.gradient = PixelImage(fig)
        self.gradient.set_data(scale.cmap(np.linspace(1, 0, 256))[:, None, :], bytes_=False)
        self.outline = fig.add_artist(Rectangle((0, 0), 0, 0, transform=tf, fill=False, lw=0.5, ec="0.3"))
        self.ticks = fig.add_artist(LineCollection([], colors="0.3", linewidths=0.5, transform=tf))
        self.title = fig.text(0, 0, title, fontsize=7, ha="left", va="bottom")
        self.labels = [fig.text(0, 0, "", fontsize=7, ha="left", va="center") for _ in range(3)]
        self.artists = [self.ground, self.gradient, self.outline, self.ticks, self.title, *self.labels]
        self.set_visible(False)

    def set_visible(self, on: bool) -> None:
        for a in self.artists:
            a.set_visible(on)

    def place(self, x: float, y: float, w: float, h: float, W: float, H: float) -> None:
        """The bar at (x, y) from the bottom left, w x h, on a W x H canvas (pixels)."""
        self.gradient.set_box(x / W, y / H, w / W, h / H)
        self.outline.set_bounds(x / W, y / H, w / W, h / H)
        self.ground.set_bounds((x - 4) / W, (y - 8) / H, (W - x + 4) / W, (h + BAR_TITLE_PX + 7) / H)
        self.title.set_position((x / W, (y + h + 8) / H))
        self.ticks.set_segments([[((x + w) / W, (y + f * h) / H), ((x + w + 3) / W, (y + f * h) / H)]
                                 for f in (0.0, 0.5, 1.0)])
        for f, label in zip((0.0, 0.5, 1.0), self.labels):
            label.set_position(((x + w + 5) / W, (y + f * h) / H))

    def relabel(self) -> None:
        lo, hi = (float(v) for v in self.scale.get_clim())
        mid = (lo + hi) / 2
        texts = [_tick(lo), "0" if abs(mid) < 1e-12 * max(abs(hi), 1) else _tick(mid), _tick(hi)]
        if self.clipped:
            texts[0], texts[2] = "≤ " + texts[0], "≥ " + texts[2]
        for label, text in zip(self.labels, texts):
            label.set_text(text)


def user_block_entries(observed: Observed, n_items: int, users: np.ndarray,
                       items: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The observed entries inside the block of ``users`` x ``items`` (distinct): their indices into ``observed``
    (ascending) and their (row, column) in the block. Only the block's users' ratings are read (the entries are
    sorted by user), never all of them: a 60 x 60 block of 10 M ratings costs what its users rated."""
    u = np.asarray(users, dtype=np.int64)
    ipos = np.full(n_items, -1, np.int64)
    ipos[np.asarray(items, dtype=np.int64)] = np.arange(len(items))
    start = np.searchsorted(observed.rows, u)
    stop = np.searchsorted(observed.rows, u, side="right")
    parts = [np.arange(a, b) for a, b in zip(start.tolist(), stop.tolist())]
    idx = np.concatenate(parts) if parts else np.zeros(0, np.int64)
    bc = ipos[observed.cols[idx]]
    keep = bc >= 0
    upos = np.repeat(np.arange(len(u)), stop - start)
    order = np.argsort(idx[keep], kind="stable")
    return idx[keep][order], upos[keep][order], bc[keep][order]
