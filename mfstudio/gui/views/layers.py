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
:func:`nice_limit`, so rarely) only the colour bars are drawn again, and a full draw (every title
costs ~2 ms) happens only when the panels or the canvas size change.
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
from mfstudio.core.ladder import baseline, block_entries, has_biases, layer, predicted
from mfstudio.core.numbers import exact_text, measure_text
from mfstudio.gui.experiment import Experiment, Progress, RunEnd, RunStart, Shown
from mfstudio.gui.views.blit import BlitCanvas, PixelImage
from mfstudio.gui.views.widgets import caption
from mfstudio.gui.viewstate import Selected, Selection

MAX_SIDE = 60  # users and items drawn at most: never users x items of a big data set
MAX_LAYERS = 8  # factors drawn one by one; the others share one panel, summed
REDRAW_MS = 80
# RdBu_r with pure white at zero (its own middle is a light grey), an odd number of colours so 0 has one;
# grey: not rated
_RDBU = colormaps["RdBu_r"](np.linspace(0, 1, 11))
_RDBU[5] = (1.0, 1.0, 1.0, 1.0)
DIVERGING = LinearSegmentedColormap.from_list("mfstudio_diverging", _RDBU, N=255).with_extremes(bad="0.80")
SEQUENTIAL = colormaps["viridis"]
TITLE_PT = 8
GAP_PX, TITLE_PX, BAR_PX, BAR_GAP_PX, BAR_TEXT_PX, EDGE_PX = 10, 15, 12, 14, 40, 6
BAR_TITLE_PX, BAR_END = 24, 0.04  # room above a colour bar for its title and pointed end; the end's length


@dataclass
class _Panel:
    kind: str  # "layer", "rest", "baseline", "r_hat", "residual"
    title: str
    k: int = -1  # the factor of a layer (0-based)
    ax: Any = None
    image: Any = None
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
        self._held_out = np.zeros((0, 2), np.int64)
        self._held_out_given: Any = None  # the array given, to know it again
        self._entries: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None  # rated cells in the block
        self._held_mask = np.zeros(0, bool)  # per entry in the block: held out
        self._structure: tuple | None = None
        self._pending = False
        # the colour scales: one for every layer, the rating scale, the residual's
        self.scales = {"layer": ScalarMappable(Normalize(-1, 1), DIVERGING),
                       "rating": ScalarMappable(Normalize(1, 5), SEQUENTIAL),
                       "residual": ScalarMappable(Normalize(-1, 1), DIVERGING)}
        self.bars: dict[str, Any] = {}
        self.draws = 0  # how often the images were updated (tests)
        self.caption = caption("")
        self.caption.setObjectName("factorLayersCaption")
        self.canvas = LayersCanvas(self)
        self.canvas.mpl_connect("resize_event", self._on_resize)
        self.canvas.mpl_connect("motion_notify_event", self._on_hover)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.setSpacing(2)
        lay.addWidget(self.caption)
        lay.addWidget(self.canvas, 1)
        self._timer = QTimer(self)
        self._timer.setObjectName("mfstudioLayersRedraw")
        self._timer.setSingleShot(True)
        self._timer.setInterval(REDRAW_MS)
        self._timer.timeout.connect(self.flush)
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
        if end.shown is not None:
            self._on_shown(end.shown)

    @Slot(object)
    def _on_shown(self, shown: Shown) -> None:
        self._set_data(shown.ratings, shown.held_out_cells)
        self._set_factors(shown.result.factors, now=True)

    @Slot()
    def _on_cleared(self) -> None:
        self._timer.stop()
        self._pending = False
        self._factors = self._ratings = self._held_out_given = None
        self._held_out = np.zeros((0, 2), np.int64)
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
        self._held_out = np.asarray(held_out_cells, np.int64).reshape(-1, 2)
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
        self._entries = block_entries(r.observed, r.n_users, r.n_items, self.users, self.items)
        held = np.zeros(len(self._entries[0]), bool)
        if len(self._held_out):
            o, idx = r.observed, self._entries[0]
            key = o.rows[idx] * r.n_items + o.cols[idx]
            held = np.isin(key, self._held_out[:, 0] * r.n_items + self._held_out[:, 1])
        self._held_mask = held

    def _set_factors(self, f: Factors, now: bool) -> None:
        self._factors = f
        self._pending = True
        if now:
            self.flush()
        elif not self._timer.isActive():
            self._timer.start()

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

    def _rebuild(self) -> None:
        """Make the axes and images for the current model and block (K, biases, block size)."""
        fig = self.canvas.figure
        fig.clear()
        self.panels, self.bars = [], {}
        want = self._wanted()
        self._structure = want
        self.canvas.set_moving([])
        if not want:
            fig.text(0.5, 0.5, "Train a model to see R-hat as the sum of simple pictures,\none per latent factor",
                     ha="center", va="center", color="0.5", fontsize=10)
            self._update_caption()
            self.canvas.refresh(full=True)
            return
        K, biased, cold, n_u, n_i = want
        shown = K if K <= MAX_LAYERS + 1 else MAX_LAYERS
        # the titles read as the sum: Factor 1 + Factor 2 + … = R-hat
        self.panels = [_Panel("layer", f"Factor {k + 1}" if k == 0 else f"+ factor {k + 1}", k) for k in range(shown)]
        if shown < K:
            self.panels.append(_Panel("rest", f"+ factors {shown + 1}–{K}"))
        if biased or cold:
            self.panels.append(_Panel("baseline", "+ μ + b_u + b_i" if biased else "+ fallback (no ratings)"))
        self.panels.append(_Panel("r_hat", "= R-hat"))
        self.panels.append(_Panel("residual", "R − R-hat (rated)"))
        blank = np.zeros((n_u, n_i, 4), np.uint8)
        for p in self.panels:
            p.ax = ax = fig.add_axes((0, 0, 0.1, 0.1))
            ax.set_axis_off()  # no axis to lay out and draw: a frame of our own instead
            ax.set_title(p.title, fontsize=TITLE_PT, pad=2, y=1.0)  # a fixed place: no title layout per draw
            ax.set_xlim(-0.5, n_i - 0.5)  # cell (row r, column c) centred at (c, r), row 0 on top
            ax.set_ylim(n_u - 0.5, -0.5)
            p.image = PixelImage(ax)
            p.image.set_data(blank)
            p.data = np.zeros((n_u, n_i))
        self.held_marks = PolyCollection([], facecolors="none", edgecolors="black", linewidths=0.8)
        self.panels[-1].ax.add_collection(self.held_marks)
        self.frames = LineCollection([], colors="0.55", linewidths=0.6, transform=None)  # pixels, just outside
        fig.add_artist(self.frames)
        # behind each colour bar and its labels: painted over them when only that bar is drawn again
        self.bar_grounds = {key: fig.add_artist(Rectangle((0, 0), 1, 1, transform=None, color="white", zorder=-1))
                            for key in self.scales}
        for key, label in (("layer", "Layers"), ("rating", "Ratings"), ("residual", "Residual")):
            bar = fig.colorbar(self.scales[key], cax=fig.add_axes((0, 0, 0.1, 0.1)),
                               extend="neither" if key == "rating" else "both", extendfrac=BAR_END)
            bar.outline.set_linewidth(0.5)
            bar.ax.tick_params(labelsize=7, length=2, pad=1)
            bar.ax.set_title(label, fontsize=7, loc="left", pad=9, y=1.0)
            _label_bar(bar)
            self.bars[key] = bar
        self._place()
        self._update_caption()
        self.canvas.set_moving([p.image for p in self.panels] + [self.held_marks])
        self.canvas.refresh(full=True)

    def _place(self) -> None:
        """Put the panels in a grid that fills the canvas, the colour bars in a column on the right."""
        if not self.panels:
            return
        W, H = max(self.canvas.width(), 200), max(self.canvas.height(), 120)
        n = len(self.panels)
        aspect = min(max(len(self.items) / max(len(self.users), 1), 0.5), 2.0)  # width / height of a panel
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
            y_top = EDGE_PX / 2 + r * (ph + GAP_PX + TITLE_PX) + TITLE_PX
            p.ax.set_position((x / W, 1 - (y_top + ph) / H, pw / W, ph / H))
            x0, x1, y0, y1 = x - 1, x + pw + 0.5, H - y_top - ph - 1, H - y_top + 0.5  # pixels from the bottom
            segs.append([(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)])
        self.frames.set_segments(segs)
        bar_x = min(EDGE_PX + cols * pw + (cols - 1) * GAP_PX + BAR_GAP_PX, W - BAR_PX - BAR_TEXT_PX)
        grid_h = min(rows * (ph + GAP_PX + TITLE_PX) - GAP_PX, avail_h)
        bar_h = max((grid_h - 3 * BAR_TITLE_PX - 2 * GAP_PX) / 3, 20)
        for i, (key, bar) in enumerate(self.bars.items()):
            y_top = EDGE_PX / 2 + BAR_TITLE_PX + i * (bar_h + BAR_TITLE_PX + GAP_PX)
            bar.ax.set_position((bar_x / W, 1 - (y_top + bar_h) / H, BAR_PX / W, bar_h / H))
            # from below the bar's pointed end and lowest label to above its title, in pixels from the bottom
            below = BAR_END * bar_h + 6
            self.bar_grounds[key].set_bounds(bar_x - 4, H - y_top - bar_h - below, W - bar_x + 4,
                                             bar_h + below + BAR_TITLE_PX - 1)

    def _on_resize(self, _event: Any) -> None:
        self._place()  # the canvas draws itself in full after a resize

    # -- data ---------------------------------------------------------------------------------------
    def flush(self) -> None:
        """Show the pending factors now: compute the block's layers, R-hat and residual and draw them."""
        self._timer.stop()
        if not self._pending:
            return
        self._pending = False
        if self._wanted() != self._structure:
            self._rebuild()
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
            self.canvas.refresh(redraw=[a for key in moved for a in (self.bar_grounds[key], self.bars[key].ax)])
        else:
            self.canvas.refresh()

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
        if not (L / 2 < m <= L):  # kept while the values fill half of it or more
            L = nice_limit(m)
        if L == sm.norm.vmax:
            return False
        sm.set_clim(-L, L)
        _label_bar(self.bars[key])
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
        if self._entries is None:
            self.held_marks.set_verts([])
            return
        _sel, br, bc = self._entries
        r, c = br[self._held_mask], bc[self._held_mask]
        d = 0.42  # an outline just inside the cell
        verts = np.stack([np.stack([c - d, r - d], 1), np.stack([c + d, r - d], 1), np.stack([c + d, r + d], 1),
                          np.stack([c - d, r + d], 1)], axis=1)
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
        text += " (held-out cells outlined, grey: not rated)." if len(self._held_out) else " (grey: not rated)."
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
        p = next((p for p in self.panels if p.ax is event.inaxes), None)
        r = self._ratings
        if p is None or r is None or event.xdata is None or event.ydata is None:
            self.canvas.setToolTip("")
            return
        row, col = int(round(event.ydata)), int(round(event.xdata))
        if not (0 <= row < len(self.users) and 0 <= col < len(self.items)):
            return
        u, i = int(self.users[row]), int(self.items[col])
        v = float(p.data[row, col])
        where = f"{r.users[u]} · {r.items[i]}"
        title = p.title.lstrip("+= ")
        if math.isnan(v):
            self.canvas.setToolTip(f"{where}: not rated")
            return
        self.canvas.setToolTip(f"{where}, {title}: {measure_text(v, 3)} (exactly {exact_text(v)})")


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


def _label_bar(bar: Any) -> None:
    """Three ticks on a colour bar (each label costs ~2 ms a draw): its ends and its middle."""
    lo, hi = float(bar.mappable.norm.vmin), float(bar.mappable.norm.vmax)
    mid = (lo + hi) / 2
    bar.set_ticks([lo, mid, hi], labels=[_tick(lo), "0" if abs(mid) < 1e-12 else _tick(mid), _tick(hi)])
