"""The sweep chart: validation and training RMSE against the swept parameter (a line), or validation RMSE over
two parameters (a heatmap with a colour bar and the numbers in the cells); the best point is marked.

:func:`draw_sweep` draws into any matplotlib Figure (the window's canvas redraws it as points finish);
:func:`sweep_png` renders one through Agg for ``mfstudio sweep``'s sweep.png.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from mfstudio.core.sweep import PointResult, best_point
from mfstudio.core.sweep_grid import Axis, value_text

VAL_COLOUR, TRAIN_COLOUR, BEST_COLOUR, FAILED_COLOUR = "#1f77b4", "#ff7f0e", "#d62728", "#7f7f7f"
CELL_TEXT_MAX = 12  # a heatmap side with more cells than this shows no numbers in them (they would not fit)


def _axis_text(a: Axis) -> str:
    """``K`` or ``beta: Regularization (β)``: the name as given, and the declaration's words when they differ."""
    if not a.title or a.title == a.label:
        return a.label
    return a.title if a.label in a.title else f"{a.label}: {a.title}"


def _num(v: float) -> str:
    return "" if not math.isfinite(v) else f"{v:.3g}" if abs(v) < 1000 else f"{v:,.0f}"


def draw_sweep(fig: Figure, axes: Sequence[Axis], results: Sequence[PointResult], *, title: str = "") -> None:
    """Draw the chart of ``results`` (the points finished so far) into ``fig``, clearing it first."""
    fig.clear()
    fig.set_layout_engine("constrained")  # laid out again at every draw, so a resized window stays tidy
    if len(axes) == 1:
        _draw_line(fig, axes[0], results)
    else:
        _draw_heatmap(fig, axes[0], axes[1], results)
    if title:
        fig.suptitle(title, fontsize=10)


def _draw_line(fig: Figure, a: Axis, results: Sequence[PointResult]) -> None:
    ax = fig.add_subplot(1, 1, 1)
    ax.set_xlabel(_axis_text(a))
    ax.set_ylabel("RMSE")
    if a.log:
        ax.set_xscale("log")
    ax.grid(True, alpha=0.3)
    ok = sorted((r for r in results if r.ok), key=lambda r: r.values[0])
    xs = np.array([float(r.values[0]) for r in ok])
    folds = any(r.folds for r in ok)
    for metric, colour, style, label in (("val_rmse", VAL_COLOUR, "-o", "validation RMSE"),
                                         ("train_rmse", TRAIN_COLOUR, "--s", "training RMSE")):
        ys = np.array([r.metrics[metric] for r in ok])
        ax.plot(xs, ys, style, color=colour, label=label + (" (mean of folds)" if folds else ""), markersize=5)
        if folds and len(ok):
            sd = np.array([r.spread.get(metric, 0.0) for r in ok])
            ax.fill_between(xs, ys - sd, ys + sd, color=colour, alpha=0.15, linewidth=0,
                            label="± spread across folds" if metric == "val_rmse" else None)
    failed = [r for r in results if not r.ok]
    if failed:
        fx = [float(r.values[0]) for r in failed]
        ax.plot(fx, [0] * len(fx), "x", color=FAILED_COLOUR, markersize=9, mew=2, clip_on=False,
                transform=ax.get_xaxis_transform(), label="diverged or failed")
    best = best_point(results)
    if best is not None:
        bx, by = float(best.values[0]), best.val_rmse
        ax.plot([bx], [by], "*", color=BEST_COLOUR, markersize=16, zorder=5,
                label=f"best: {a.label} = {value_text(best.values[0])} (validation RMSE {_num(by)})")
    values = [float(v) for v in a.values]
    if values:
        lo, hi = min(values), max(values)
        if a.log and lo > 0:
            pad = (hi / lo) ** 0.05 if hi > lo else 1.5
            ax.set_xlim(lo / pad, hi * pad)
        else:
            pad = (hi - lo) * 0.05 or max(abs(lo) * 0.1, 0.5)
            ax.set_xlim(lo - pad, hi + pad)
        if len(values) <= 12:
            labels = [value_text(v) for v in a.values]
            crowded = sum(len(t) for t in labels) > 48  # long labels side by side would run into each other
            ax.set_xticks(values)
            ax.set_xticklabels(labels, fontsize=8, rotation=30 if crowded else 0, ha="right" if crowded else "center")
            ax.minorticks_off()
    if not ok:
        ax.text(0.5, 0.5, "no point has finished yet", transform=ax.transAxes, ha="center", va="center",
                color=FAILED_COLOUR)
    if ok or failed:
        ax.legend(fontsize=8, loc="best")


def _draw_heatmap(fig: Figure, ay: Axis, ax_: Axis, results: Sequence[PointResult]) -> None:
    ax = fig.add_subplot(1, 1, 1)
    ny, nx = len(ay.values), len(ax_.values)
    val = np.full((ny, nx), np.nan)
    train = np.full((ny, nx), np.nan)
    failed = np.zeros((ny, nx), dtype=bool)
    for r in results:
        i, j = r.index // nx, r.index % nx
        if r.ok:
            val[i, j], train[i, j] = r.val_rmse, r.metrics["train_rmse"]
        else:
            failed[i, j] = True
    shown = np.ma.masked_invalid(val)
    im = ax.imshow(shown, cmap="viridis_r", aspect="auto", origin="lower", interpolation="nearest")
    bar = fig.colorbar(im, ax=ax)
    bar.set_label("validation RMSE (lower is better)")
    ax.set_xticks(range(nx))
    ax.set_xticklabels([value_text(v) for v in ax_.values], fontsize=8, rotation=45 if nx > 6 else 0)
    ax.set_yticks(range(ny))
    ax.set_yticklabels([value_text(v) for v in ay.values], fontsize=8)
    ax.set_xlabel(_axis_text(ax_))
    ax.set_ylabel(_axis_text(ay))
    ax.set_facecolor("#eeeeee")  # points not finished yet
    finite = val[np.isfinite(val)]
    mid = float(np.mean([finite.min(), finite.max()])) if finite.size else 0.0
    size = 8 if max(nx, ny) <= 6 else 6.5
    w_pt, h_pt = (x * 72 for x in fig.get_size_inches())
    cell_w, cell_h = 0.7 * w_pt / nx, 0.7 * h_pt / ny  # about: the axes take some 70 % of the figure
    show_val = ny <= CELL_TEXT_MAX and nx <= CELL_TEXT_MAX and cell_w > 0.62 * size * 5 and cell_h > 1.4 * size
    show_train = show_val and cell_w > 0.62 * size * 13 and cell_h > 2.8 * size  # "train 0.00179" beneath
    if show_val:
        for i in range(ny):
            for j in range(nx):
                if failed[i, j]:
                    text = "×\ndiverged" if show_train else "×"
                    ax.text(j, i, text, ha="center", va="center", fontsize=size, color=FAILED_COLOUR)
                elif math.isfinite(val[i, j]):
                    colour = "white" if val[i, j] > mid else "black"  # viridis_r: dark for large values
                    text = _num(val[i, j]) + (f"\ntrain {_num(train[i, j])}" if show_train else "")
                    ax.text(j, i, text, ha="center", va="center", fontsize=size, color=colour)
    best = best_point(results)
    if best is not None:
        i, j = best.index // nx, best.index % nx
        ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, edgecolor=BEST_COLOUR, linewidth=3))
        ax.set_title(f"best (red box): {ay.label} = {value_text(best.values[0])}, {ax_.label} = "
                     f"{value_text(best.values[1])}\nvalidation RMSE {_num(best.val_rmse)}", fontsize=9)
    elif not finite.size:
        ax.set_title("no point has finished yet", fontsize=9, color=FAILED_COLOUR)


def sweep_png(axes: Sequence[Axis], results: Sequence[PointResult], *, title: str = "",
              size: tuple[float, float] = (7.0, 4.8), dpi: int = 120) -> bytes:
    """The chart as PNG bytes, drawn through Agg (no display needed)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = Figure(figsize=size, dpi=dpi)
    FigureCanvasAgg(fig)
    draw_sweep(fig, axes, results, title=title)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()
