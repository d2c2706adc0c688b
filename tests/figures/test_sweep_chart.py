"""The sweep chart: a line per error for one parameter (log x for log-spaced values), a heatmap for two, the best
point marked, failed points shown, an empty chart before any point."""

from __future__ import annotations

import math

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from mfstudio.core.sweep import METRICS, PointResult
from mfstudio.core.sweep_grid import make_axis
from mfstudio.figures.sweep_chart import BEST_COLOUR, draw_sweep, sweep_png


def result(index: int, values: tuple, val: float, reason: str = "budget") -> PointResult:
    return PointResult(index, values, {**dict.fromkeys(METRICS, 0.5), "val_rmse": val}, {}, 1, 1, 0.1, reason)


def test_one_parameter_draws_both_errors_and_a_star_on_the_best():
    axis = make_axis("sgd", "beta", "0.01:1:3log")
    fig = Figure()
    draw_sweep(fig, [axis], [result(0, (0.01,), 0.9), result(2, (1.0,), 0.7), result(1, (0.1,), 0.8)])
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and ax.get_xlabel() == "beta: Regularization (β)" and ax.get_ylabel() == "RMSE"
    lines = {line.get_label(): line for line in ax.get_lines()}
    val = lines["validation RMSE"]
    assert list(val.get_xdata()) == [0.01, 0.1, 1.0] and list(val.get_ydata()) == [0.9, 0.8, 0.7]
    assert "training RMSE" in lines
    best = next(line for label, line in lines.items() if label.startswith("best:"))
    assert best.get_marker() == "*" and (best.get_xdata()[0], best.get_ydata()[0]) == (1.0, 0.7)
    assert best.get_color() == BEST_COLOUR and "beta = 1" in best.get_label()


def test_a_linear_axis_and_a_failed_point_marked_apart():
    axis = make_axis("sgd", "K", "1,2,3")
    fig = Figure()
    draw_sweep(fig, [axis], [result(0, (1,), 0.9), result(1, (2,), math.nan, "diverged")])
    ax = fig.axes[0]
    assert ax.get_xscale() == "linear"
    labels = [line.get_label() for line in ax.get_lines()]
    assert "diverged or failed" in labels


def test_two_parameters_draw_a_heatmap_with_numbers_a_colour_bar_and_the_best_boxed():
    axes = [make_axis("sgd", "K", "1,2"), make_axis("sgd", "beta", "0.1,1,10")]
    fig = Figure()
    draw_sweep(fig, axes, [result(0, (1, 0.1), 0.9), result(4, (2, 1.0), 0.6), result(5, (2, 10.0), 0.8)])
    ax, bar = fig.axes
    img = ax.get_images()[0].get_array()
    assert img.shape == (2, 3) and img[1, 1] == 0.6 and np.ma.is_masked(img[0, 1])
    assert "validation RMSE" in bar.get_ylabel()
    texts = [t.get_text() for t in ax.texts]
    assert any(t.startswith("0.6") for t in texts) and len(texts) == 3
    boxes = [p for p in ax.patches if isinstance(p, Rectangle)]
    assert len(boxes) == 1 and boxes[0].get_xy() == (0.5, 0.5)
    assert "K = 2, beta = 1" in ax.get_title()


def test_before_any_point_the_chart_says_so_and_renders():
    axis = make_axis("sgd", "K", "1,2")
    fig = Figure()
    draw_sweep(fig, [axis], [])
    assert any("no point has finished" in t.get_text() for t in fig.axes[0].texts)
    png = sweep_png([axis], [], title="x")
    assert png[:4] == b"\x89PNG"
