"""The loss curve: persistent lines, faded earlier runs, labels that compare, x and y axes, bounded redraws, saving."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PySide6.QtWidgets import QFileDialog, QMessageBox

from mfstudio.gui.views.plot import FADED_ALPHA, LossPlot

SGD = {"K": 2, "steps": 10000, "alpha": 0.0002, "beta": 0.02, "tol": 0.001, "seed": 0}
ALS = {"K": 2, "steps": 50, "beta": 0.02, "tol": 0.001, "seed": 0}


def tick(plot) -> None:
    """One redraw tick, with the frame it starts drawn to the end (the event loop would draw it in slices)."""
    plot._on_tick()
    plot.canvas.slices.finish()


def history(n: int, val: bool = False, seconds_per_step: float = 1e-4) -> np.ndarray:
    h = np.zeros((n, 7))
    h[:, 0] = np.arange(1, n + 1)
    h[:, 1] = 100.0 / h[:, 0]
    h[:, 2] = 3.0 / np.sqrt(h[:, 0])
    h[:, 4] = 3.5 / np.sqrt(h[:, 0]) if val else np.nan
    h[:, 6] = h[:, 0] * seconds_per_step
    return h


@pytest.fixture
def plot(qtbot):
    p = LossPlot()
    qtbot.addWidget(p)
    p.resize(700, 320)
    p.show()
    yield p
    p.stop_timers()


def test_axes_are_labelled(plot):
    c = plot.canvas
    assert c.objectName() == "lossCanvas"
    assert c.ax_obj.get_xlabel() == "Step" and c.ax_rmse.get_xlabel() == "Step"
    assert c.ax_obj.get_ylabel() == "Objective e"
    assert c.ax_rmse.get_ylabel() == "RMSE"


def test_lines_follow_the_history(plot):
    plot.begin_run("sgd", SGD)
    plot.set_history(history(50))
    assert plot.point_count() == 50
    run = plot._runs[-1]
    assert np.array_equal(run.train.get_xdata(), np.arange(1, 51))
    assert len(run.val.get_xdata()) == 0  # no hold-out, no validation line
    plot.set_history(history(80, val=True))
    assert plot.point_count() == 80 and len(run.val.get_ydata()) == 80


def legend_texts(plot) -> list[str]:
    return [t.get_text() for t in plot.canvas.figure.legends[0].get_texts()]


def test_earlier_runs_fade_and_keep_their_labels_until_cleared(plot):
    plot.begin_run("sgd", SGD)
    plot.set_history(history(10))
    first = plot._runs[0]
    assert legend_texts(plot) == ["sgd K=2 α=0.0002 β=0.02"]  # one run: named in full
    plot.begin_run("als", {**ALS, "K": 3})
    assert plot.run_count == 2
    assert first.objective.get_alpha() == FADED_ALPHA
    assert plot._runs[1].objective.get_alpha() is None  # the current run is drawn solid
    # what differs is named, what all share is said once
    assert legend_texts(plot) == ["sgd K=2 α=0.0002", "als K=3"]
    assert plot.canvas.figure.legends[0].get_title().get_text() == "All runs: β=0.02"
    plot.clear_runs()
    assert plot.run_labels() == ["als K=3 β=0.02"]
    assert first.objective not in plot.canvas.ax_obj.lines


def test_log_scale_toggle(plot):
    assert plot.log_scale.objectName() == "logScale" and plot.log_x.objectName() == "logX"
    assert plot.canvas.ax_obj.get_yscale() == "log"
    plot.log_scale.setChecked(False)
    assert plot.canvas.ax_obj.get_yscale() == "linear" and plot.canvas.ax_rmse.get_yscale() == "linear"
    plot.log_scale.setChecked(True)
    assert plot.canvas.ax_rmse.get_yscale() == "log"


def test_redraws_are_bounded_and_the_timer_stops_when_idle(plot, qtbot, monkeypatch):
    plot.begin_run("sgd", SGD)
    draws = []
    monkeypatch.setattr(plot.canvas, "draw_idle", lambda: draws.append(1))
    for n in range(1, 200):  # many updates in a burst...
        plot.set_history(history(n))
    assert draws == []  # ...are not drawn one by one
    qtbot.waitUntil(lambda: len(draws) >= 1, timeout=2000)
    qtbot.waitUntil(lambda: not plot._timer.isActive(), timeout=2000)
    assert len(draws) == 1
    plot.set_history(history(300))
    plot.flush()
    assert len(draws) == 2 and not plot._timer.isActive()


@pytest.mark.parametrize("ext,magic", [(".png", b"\x89PNG"), (".svg", b"<?xml"), (".pdf", b"%PDF")])
def test_save_figure_formats(plot, tmp_path, ext, magic):
    plot.begin_run("sgd", SGD)
    plot.set_history(history(20))
    path = plot.save_figure(tmp_path / f"loss{ext}")
    assert path.read_bytes().startswith(magic)


def test_save_figure_refuses_other_formats(plot, tmp_path):
    with pytest.raises(ValueError, match="png, .svg or .pdf"):
        plot.save_figure(tmp_path / "loss.jpg")


def test_a_failed_figure_save_keeps_the_old_file_and_a_read_only_one_is_refused(plot, tmp_path, monkeypatch):
    import os

    from mfstudio.io import atomic

    plot.begin_run("sgd", {"K": 2})
    plot.set_history(history(20))
    old = tmp_path / "loss.png"
    old.write_bytes(b"the old figure")
    def full(fd):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(atomic.os, "fsync", full)
    with pytest.raises(ValueError, match="No space left on device"):
        plot.save_figure(old)
    monkeypatch.undo()
    assert old.read_bytes() == b"the old figure" and os.listdir(tmp_path) == ["loss.png"]
    os.chmod(old, 0o444)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(old), "PNG image (*.png)"))
    shown = []
    monkeypatch.setattr(QMessageBox, "warning", lambda parent, title, text, *a, **k: shown.append(text))
    plot.save_figure_dialog()
    assert shown == [f"{old} is read-only, so it was not replaced and nothing was written; "
                     "make it writable or choose another name."]
    assert old.read_bytes() == b"the old figure"


def test_save_dialog_adds_the_extension_of_the_chosen_filter(plot, tmp_path, monkeypatch):
    target = tmp_path / "curve"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), "SVG image (*.svg)"))
    messages = []
    plot.statusMessage.connect(messages.append)
    plot.save_figure_dialog()
    assert (tmp_path / "curve.svg").read_bytes().startswith(b"<?xml")
    assert messages and "curve.svg" in messages[-1]


def test_live_mode_blits_and_ends_autoscaled(plot, qtbot):
    plot.begin_run("sgd", SGD)
    plot.start_live(1_000_000_000)
    plot.canvas.slices.finish()
    assert plot.live
    for n in range(1, 60):
        plot.set_history(history(n))
        qtbot.wait(5)
    qtbot.waitUntil(lambda: not plot._timer.isActive(), timeout=2000)
    assert plot.full_draws >= 1
    plot.set_history(history(100_000)[::10])
    plot.end_live()
    assert not plot.live and not plot._timer.isActive()
    lo, hi = plot.canvas.ax_obj.get_xlim()
    assert lo <= 1 and 99_000 <= hi <= 120_000  # autoscaled to the data, not the live limits
    assert plot.canvas.ax_obj.yaxis.get_minor_locator().__class__.__name__ == "LogLocator"


def test_the_end_of_a_run_draws_the_same_pixels_in_slices_as_a_full_draw(plot, qtbot):
    plot.begin_run("sgd", SGD)
    plot.start_live(1_000_000_000)
    assert plot.canvas.slices.busy()  # the first frame starts in the next event-loop pass
    plot.canvas.slices.finish()
    plot.set_history(history(3000, val=True))
    tick(plot)
    plot.end_live()
    c = plot.canvas
    assert c.slices.busy()  # the layout's solve and the draw: in later passes, not in the one ending the run
    qtbot.waitUntil(lambda: not c.slices.busy(), timeout=5000)
    sliced = np.array(c.buffer_rgba())
    c.draw()  # a full draw, its layout solved again
    np.testing.assert_array_equal(np.array(c.buffer_rgba()), sliced)


def test_runs_alike_get_the_same_live_layout_and_no_constrained_solve(plot, monkeypatch):
    from matplotlib.layout_engine import ConstrainedLayoutEngine

    solves = []
    monkeypatch.setattr(ConstrainedLayoutEngine, "execute", lambda self, fig: solves.append(fig))
    positions = []
    for run in range(3):
        plot.begin_run("sgd", {**SGD, "seed": run})
        plot.start_live(1_000_000_000)
        plot.canvas.slices.finish()
        positions.append([tuple(ax.get_position().bounds) for ax in (plot.canvas.ax_obj, plot.canvas.ax_rmse)])
        plot.set_history(history(50))
        tick(plot)
        plot.end_live()
        plot.canvas.slices.finish()
    assert positions[2] == positions[1]  # placed from the texts alone, not from where the axes were
    assert solves == []


def test_live_limits_grow_rarely(plot, qtbot):
    plot.begin_run("sgd", SGD)
    plot.start_live(1_000_000_000)
    plot.canvas.slices.finish()
    qtbot.waitUntil(lambda: plot.full_draws == 1, timeout=2000)
    for n in range(2, 400, 3):
        plot.set_history(history(n))
        tick(plot)
    # x grows threefold-and-more when outgrown (about 4 times here) and y by decades (objective
    # 50 -> 0.25: 3 times), plus the first frame: a handful of full draws, the rest are blits
    assert plot.full_draws <= 10 and plot.blits >= 100
    plot.end_live()


# -- comparing runs ------------------------------------------------------------------------------
def test_the_objective_panel_shows_only_runs_with_the_current_runs_objective(plot):
    plot.begin_run("sgd", SGD)
    plot.set_history(history(100))
    plot.begin_run("als", ALS)
    plot.set_history(history(5))
    c = plot.canvas
    assert c.ax_obj.get_title() == "Objective: the notebook's e"
    assert all(r.objective.get_visible() for r in plot._runs)  # the same e: they compare
    plot.begin_run("biased-sgd", {"K": 2, "steps": 200, "alpha": 0.005, "beta": 0.02, "tol": 0.0, "seed": 0})
    plot.set_history(history(50))
    assert c.ax_obj.get_title() == "Objective: e with biases"
    assert [r.objective.get_visible() for r in plot._runs] == [False, False, True]
    assert all(r.train.get_visible() for r in plot._runs)  # every run compares on the RMSE panel
    assert legend_texts(plot) == ["sgd α=0.0002 (RMSE only)", "als (RMSE only)", "biased-sgd α=0.005"]
    plot.discard_current()  # back to the notebook's e
    assert c.ax_obj.get_title() == "Objective: the notebook's e"
    assert all(r.objective.get_visible() for r in plot._runs)


def test_x_axis_steps_or_seconds_and_log(plot):
    assert [plot.x_axis.itemText(i) for i in range(plot.x_axis.count())] == ["Steps", "Seconds"]
    assert plot.x_axis.objectName() == "xAxis"
    plot.begin_run("sgd", SGD)
    plot.set_history(history(20_000, seconds_per_step=5e-6))
    plot.begin_run("als", ALS)
    plot.set_history(history(50, seconds_per_step=2e-3))
    als = plot._runs[1]
    plot.flush()
    c = plot.canvas
    assert c.ax_obj.get_xlim()[1] >= 20_000 and c.ax_rmse.get_xlabel() == "Step"
    plot.x_axis.setCurrentIndex(1)
    np.testing.assert_allclose(als.train.get_xdata(), np.arange(1, 51) * 2e-3)
    assert c.ax_obj.get_xlabel() == "Seconds of training"
    plot.flush()
    lo, hi = c.ax_obj.get_xlim()
    assert hi < 0.2  # both runs took about 0.1 s: neither is squeezed into the first pixels
    plot.log_x.setChecked(True)
    assert c.ax_obj.get_xscale() == "log" and c.ax_rmse.get_xscale() == "log"
    plot.x_axis.setCurrentIndex(0)
    plot.flush()
    lo, hi = c.ax_obj.get_xlim()
    assert lo <= 1 and hi >= 20_000 and c.ax_obj.get_xscale() == "log"
    assert np.array_equal(als.train.get_xdata(), np.arange(1, 51))


def drawn_tick_labels(axis) -> list:
    """The tick labels matplotlib actually draws on ``axis`` (major and minor, inside the view; after a draw)."""
    lo, hi = sorted(axis.get_view_interval())
    slack = 1e-9 * (hi - lo)
    return [tick.label1 for tick in [*axis.get_major_ticks(), *axis.get_minor_ticks()]
            if tick.label1.get_visible() and tick.label1.get_text() and lo - slack <= tick.get_loc() <= hi + slack]


def visible_labels(axis) -> list[str]:
    return [t.get_text() for t in drawn_tick_labels(axis)]


@pytest.mark.parametrize("lo,hi", [(0.31, 0.39), (0.15, 0.95), (0.6, 4.8), (0.02, 0.021), (1.2, 8000), (3e-5, 0.9),
                                   (7, 9), (123_000, 125_000)])
def test_a_log_axis_always_has_two_labelled_ticks(plot, lo, hi):
    h = np.zeros((2, 7))
    h[:, 0] = [1, 2]
    h[:, 1] = h[:, 2] = [hi, lo]
    h[:, 4] = np.nan
    h[:, 6] = [lo, hi]
    plot.begin_run("sgd", SGD)
    plot.set_history(h)
    plot.x_axis.setCurrentIndex(1)  # x from lo to hi as well
    plot.log_x.setChecked(True)
    plot.flush()
    plot.canvas.draw()
    for ax in (plot.canvas.ax_obj, plot.canvas.ax_rmse):
        labels = visible_labels(ax.yaxis)
        assert len(labels) >= 2, (lo, hi, ax.get_ylim(), labels)
        assert len(visible_labels(ax.xaxis)) >= 2, (lo, hi, ax.get_xlim())


def test_the_legend_sits_outside_the_axes_and_nothing_is_clipped(plot, qtbot):
    plot.resize(520, 320)
    for solver, params in (("sgd", SGD), ("als", ALS), ("sgd", {**SGD, "alpha": 0.0005}),
                           ("biased-sgd", {"K": 2, "steps": 200, "alpha": 0.005, "beta": 0.02, "tol": 0.0, "seed": 0})):
        plot.begin_run(solver, params)
        plot.set_history(history(200, val=True))
    plot.flush()
    c = plot.canvas
    c.draw()
    renderer = c.get_renderer()
    fig_box = c.figure.bbox
    legend = c.figure.legends[0].get_window_extent(renderer)
    for ax in (c.ax_obj, c.ax_rmse):
        assert not legend.overlaps(ax.get_window_extent(renderer)), "the legend covers the axes"
        texts = [ax.title, ax.xaxis.label, ax.yaxis.label, *drawn_tick_labels(ax.xaxis), *drawn_tick_labels(ax.yaxis)]
        for t in texts:
            if not t.get_text():
                continue
            box = t.get_window_extent(renderer)
            assert box.x0 >= fig_box.x0 - 0.5 and box.x1 <= fig_box.x1 + 0.5, f"{t.get_text()!r} clipped sideways"
            assert box.y0 >= fig_box.y0 - 0.5 and box.y1 <= fig_box.y1 + 0.5, f"{t.get_text()!r} clipped"
    assert legend.x0 >= fig_box.x0 and legend.x1 <= fig_box.x1 and legend.y0 >= fig_box.y0


def test_clear_runs_can_be_undone(plot):
    messages: list[str] = []
    plot.statusMessage.connect(messages.append)
    available: list[bool] = []
    plot.undoClearAvailable.connect(available.append)
    b = plot.clear_button
    assert not b.isEnabled()  # nothing to clear yet
    for alpha in (0.0005, 0.001, 0.0002):
        plot.begin_run("sgd", {**SGD, "alpha": alpha})
        plot.set_history(history(30))
    first, second = plot._runs[:2]
    assert b.isEnabled() and b.text() == "Clear runs"
    b.click()
    assert plot.run_count == 1 and first.train not in plot.canvas.ax_rmse.lines
    assert messages[-1].startswith("Cleared 2 earlier runs") and "Undo clear" in messages[-1]
    assert b.text() == "Undo clear" and available[-1] is True and plot.can_undo_clear
    b.click()  # the same button brings them back
    assert plot._runs[:2] == [first, second] and plot.run_count == 3
    assert first.train in plot.canvas.ax_rmse.lines and first.objective in plot.canvas.ax_obj.lines
    assert first.objective.get_alpha() == FADED_ALPHA
    assert plot.run_labels() == ["sgd α=0.0005", "sgd α=0.001", "sgd α=0.0002"]
    assert b.text() == "Clear runs" and available[-1] is False
    plot.clear_runs()
    plot.begin_run("als", ALS)  # a run after the clear: undo still brings the cleared ones back, before it
    plot.undo_clear()
    assert [r.solver for r in plot._runs] == ["sgd", "sgd", "sgd", "als"]
    plot.clear_runs()
    plot.clear_all()  # new data: nothing drawn, nothing to bring back
    assert plot.run_count == 0 and not plot.can_undo_clear and not b.isEnabled()
    assert plot.canvas.figure.legends == []


def test_live_mode_on_log_seconds_axes(plot, qtbot):
    plot.x_axis.setCurrentIndex(1)
    plot.log_x.setChecked(True)
    plot.begin_run("sgd", SGD)
    plot.start_live(1_000_000_000)
    plot.canvas.slices.finish()
    for n in range(2, 400, 7):
        plot.set_history(history(n, seconds_per_step=1e-5))
        tick(plot)
    lo, hi = plot.canvas.ax_obj.get_xlim()
    assert 0 < lo <= 1e-5 and hi >= 400 * 1e-5
    assert plot.blits > plot.full_draws
    plot.end_live()
    assert not plot._timer.isActive() and plot.canvas.ax_obj.get_xscale() == "log"


def test_live_layout_is_solved_again_only_when_tick_labels_widen_past_the_room_kept(plot):
    plot.resize(520, 320)
    plot.begin_run("sgd", SGD)
    plot.start_live(1_000_000_000)
    plot.canvas.slices.finish()
    c = plot.canvas
    for k in range(0, 61):  # the objective falls from 100 to 0.0001 over the run: its labels widen
        h = np.zeros((k + 2, 7))
        h[:, 0] = np.arange(1, k + 3)
        h[:, 1] = 100.0 * 10 ** (-np.arange(k + 2) / 10)
        h[:, 2] = 2.0
        h[:, 4] = np.nan
        plot.set_history(h)
        tick(plot)
        renderer = c.get_renderer()
        for t in drawn_tick_labels(c.ax_obj.yaxis) + [c.ax_obj.yaxis.label]:
            assert t.get_window_extent(renderer).x0 >= 0, f"{t.get_text()!r} is clipped at the left edge"
    # the first frame, then only for labels wider than the room kept; every other frame is blitted, with the axes
    # drawn again over the saved base when the limits moved
    assert 1 <= plot.layouts <= 3 and plot.full_draws == plot.layouts
    assert plot.blits >= 55 and plot._bg.scale_draws >= 3
    plot.end_live()


def test_changing_the_axes_during_a_live_run_sets_new_limits(plot):
    plot.begin_run("sgd", SGD)
    plot.start_live(1_000_000_000)
    plot.canvas.slices.finish()
    plot.set_history(history(3000, seconds_per_step=1e-5))
    tick(plot)
    assert plot.canvas.ax_obj.get_xlim()[1] >= 3000
    plot.x_axis.setCurrentIndex(1)  # seconds: 3000 steps took 0.03 s
    plot.set_history(history(3001, seconds_per_step=1e-5))
    tick(plot)
    lo, hi = plot.canvas.ax_obj.get_xlim()
    assert lo == 0 and 0.03 <= hi <= 0.1
    plot.log_scale.setChecked(False)
    plot.log_x.setChecked(True)
    tick(plot)
    lo, hi = plot.canvas.ax_obj.get_xlim()
    assert 0 < lo <= 1e-5 and 0.03 <= hi <= 0.1
    assert plot.canvas.ax_obj.get_ylim()[0] == 0  # linear again: from 0
    assert plot.canvas.ax_obj.yaxis.get_minor_locator().__class__.__name__ == "NullLocator"  # still live
    plot.end_live()
    assert plot.canvas.ax_obj.xaxis.get_minor_locator().__class__.__name__ == "LogLocator"


def test_log_axis_labels_differ_on_an_almost_flat_curve(plot):
    plot.begin_run("sgd", {"K": 2})
    h = history(30)
    h[:, 1] = np.linspace(82529.30, 82529.25, len(h))  # objective
    plot.set_history(h)
    plot.flush()
    ax = plot.canvas.ax_obj
    plot.canvas.draw()
    texts = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
    lo, hi = ax.get_ylim()
    shown = [t for t, v in zip([t.get_text() for t in ax.get_yticklabels()], ax.get_yticks()) if lo <= v <= hi and t]
    assert len(shown) >= 2 and len(set(shown)) == len(shown), texts


def test_a_crowded_legend_keeps_to_three_rows(plot):
    for k in range(9):
        plot.begin_run("sgd" if k % 2 else "als", {"K": k + 1, "alpha": 0.001 * (k + 1), "beta": 0.02})
        plot.set_history(history(10))
    plot.flush()
    plot.canvas.draw()
    leg = plot._legend
    n = len(leg.get_texts())
    assert n >= 2 and math.ceil(n / leg._ncols) <= 3


def texts_outside(plot) -> list[str]:
    """The loss curve's texts (titles, axis names, tick labels drawn) reaching past the figure, or a legend over the
    axes."""
    c = plot.canvas
    renderer = c.get_renderer()
    fig_box = c.figure.bbox
    out = []
    for ax in (c.ax_obj, c.ax_rmse):
        for t in [ax.title, ax.xaxis.label, ax.yaxis.label, *drawn_tick_labels(ax.xaxis), *drawn_tick_labels(ax.yaxis)]:
            if not t.get_text():
                continue
            b = t.get_window_extent(renderer)
            if b.x0 < fig_box.x0 - 0.5 or b.x1 > fig_box.x1 + 0.5 or b.y0 < fig_box.y0 - 0.5 or b.y1 > fig_box.y1 + 0.5:
                out.append(t.get_text())
        for leg in c.figure.legends:
            if leg.get_window_extent(renderer).overlaps(ax.get_window_extent(renderer)):
                out.append("legend")
    return out


@pytest.mark.parametrize("size", [(368, 332), (560, 380), (760, 330), (300, 260)])
@pytest.mark.parametrize("log_x", [True, False])
def test_the_layout_keeps_every_text_inside_the_figure_live_and_after_a_run(plot, qtbot, size, log_x):
    """368 x 332 is the loss curve of a 1000 x 700 window, 560 x 380 of a 1280 x 800 one, 300 x 260 in presenter
    mode's narrower pane."""
    plot.resize(*size)
    plot.log_x.setChecked(log_x)
    plot.begin_run("als", ALS)
    plot.set_history(history(40, val=True))
    plot.flush()
    plot.begin_run("sgd", SGD)
    plot.start_live(1_000_000_000)
    plot.canvas.slices.finish()
    for n in (10, 300, 5000, 120_000):
        plot.set_history(history(n, val=True)[:: max(n // 500, 1)])
        tick(plot)
        assert texts_outside(plot) == [], (n, "live")
    plot.end_live()
    plot.canvas.slices.finish()
    assert texts_outside(plot) == []
    c = plot.canvas
    c.draw()  # a draw places the axes again from the texts: where the sliced frame had them
    assert texts_outside(plot) == []
    for ax in (c.ax_obj, c.ax_rmse):
        assert ax.get_position().width > 0.15 and ax.get_position().height > 0.3


@pytest.mark.parametrize("width", [368, 300])
def test_log_x_tick_labels_do_not_run_into_each_other_in_a_narrow_pane(plot, qtbot, width):
    plot.resize(width, 332)
    plot.log_x.setChecked(True)
    plot.begin_run("sgd", SGD)
    plot.set_history(history(100_000, val=True)[::200])
    plot.flush()
    c = plot.canvas
    c.draw()
    renderer = c.get_renderer()
    for ax in (c.ax_obj, c.ax_rmse):
        assert ax.get_xlim()[1] >= 100_000
        boxes = sorted(((b.x0, b.x1), text) for b, text in
                       ((t.get_window_extent(renderer), t.get_text()) for t in drawn_tick_labels(ax.xaxis)))
        assert len(boxes) >= 2, boxes
        for ((_a0, a1), a), ((b0, _b1), b) in zip(boxes, boxes[1:]):
            assert a1 <= b0, (width, a, b)


def test_a_model_of_counts_names_its_objective_f_and_says_when_nothing_is_held_out(plot):
    ials = {"K": 2, "steps": 15, "beta": 5.0, "confidence": 1.0, "cg_steps": 3, "tol": 0.001, "seed": 0}
    c = plot.canvas
    plot.begin_run("implicit-als", ials)
    plot.set_history(history(5))
    assert c.ax_obj.get_ylabel() == "Objective F" and c.ax_obj.get_title() == "Objective: Hu et al.'s weighted F"
    assert c.ax_rmse.get_title() == "Held-out ranking" and c.rank_hint.get_visible()
    plot.begin_run("implicit-als", {**ials, "holdout": 0.2})  # something to rank: the hint goes
    assert not c.rank_hint.get_visible()
    plot.begin_run("als", ALS)  # back to ratings: e, RMSE, no hint
    assert c.ax_obj.get_ylabel() == "Objective e" and c.ax_rmse.get_ylabel() == "RMSE"
    assert not c.rank_hint.get_visible()
