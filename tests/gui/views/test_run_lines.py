"""The best-step marker: a finished run with early stopping has its best validation step ringed and labelled
on the validation line, kept while later runs come; not while it runs, not without a patience, not hidden."""

from __future__ import annotations

import numpy as np
import pytest

from mfstudio.core import HISTORY_COLUMNS, RunResult, Training, load_example
from mfstudio.core.runs import RunRecord
from mfstudio.gui.runs import RunList
from mfstudio.gui.views.plot import LossPlot

VAL = HISTORY_COLUMNS.index("val_rmse")
EARLY = {"K": 4, "steps": 20_000, "alpha": 0.02, "beta": 0.0, "tol": 0.0}


@pytest.fixture
def plot(qtbot):
    p = LossPlot(runs=RunList())
    qtbot.addWidget(p)
    p.resize(700, 320)
    p.show()
    yield p
    p.stop_timers()


def train(plot: LossPlot, params: dict, holdout: float | None, patience: int | None) -> RunRecord:
    runs = plot.runs
    t = Training(load_example("movie-night"), "sgd", params, holdout=holdout, patience=patience)
    record = runs.begin("sgd", t.params, holdout=holdout or 0.0, patience=patience)
    runs.start_live(t.budget)
    snap = None
    for snap in t.run():  # noqa: B007 - the last one is the result
        runs.set_history(t.history.arrays())
        assert plot.best_step_marked(record) is None  # nothing is marked while the run goes
    runs.finish(RunRecord.from_result(RunResult.from_snapshot("sgd", t.params, snap, t.history), snap,
                                      holdout=holdout or 0.0, patience=patience))
    runs.end_live()
    return record


def test_an_early_stopped_run_has_its_best_step_marked_and_labelled(plot):
    record = train(plot, EARLY, 0.2, 20)
    assert record.early_stopped
    run = plot._runs[-1]
    h = record.history
    at = plot.best_step_marked(record)
    assert at is not None
    row = np.flatnonzero(h[:, 0] <= record.best_step)[-1]
    assert at == (float(h[row, 0]), float(h[row, VAL]))  # on the validation line, at the best step
    assert run.marker.axes is plot.canvas.ax_rmse and run.note.get_text() == f"best {record.best_step:,}"
    assert run.note.get_visible() and run.note.get_color() == run.colour
    plot.x_axis.setCurrentIndex(1)  # against seconds: the marker moves with the line
    assert plot.best_step_marked(record) == (float(h[row, HISTORY_COLUMNS.index("elapsed_s")]), float(h[row, VAL]))
    plot.x_axis.setCurrentIndex(0)
    later = train(plot, {"K": 2, "steps": 200}, None, None)  # a later run: the marker stays, faded
    assert plot.best_step_marked(record) is not None and plot.best_step_marked(later) is None
    plot.canvas.draw()  # drawn without errors, inside the axes (never over the y axis nor past the right edge)
    box, ax = run.note.get_window_extent(plot.canvas.get_renderer()), plot.canvas.ax_rmse.bbox
    assert ax.x0 <= box.x0 and box.x1 <= ax.x1
    assert int(h[-1, 0]) == record.steps_done > record.best_step  # the rise after the best step is drawn


@pytest.mark.parametrize("where", [0.02, 0.98])
def test_the_best_label_stays_inside_the_axes_near_either_edge(plot, where):
    record = train(plot, EARLY, 0.2, 20)
    ax = plot.canvas.ax_rmse
    x0, x1 = ax.get_xlim()
    run = plot._runs[-1]
    run.note.xy = (x0 + where * (x1 - x0), run.note.xy[1])  # the ring near the y axis, then near the right edge
    plot.canvas.draw()
    box = run.note.get_window_extent(plot.canvas.get_renderer())
    assert ax.bbox.x0 <= box.x0 and box.x1 <= ax.bbox.x1 and record.early_stopped


def test_no_marker_without_a_patience_or_when_the_run_is_hidden(plot):
    plain = train(plot, {"K": 2, "steps": 300, "alpha": 0.01}, 0.2, None)
    assert plain.best_step is not None and plot.best_step_marked(plain) is None  # a best step, but no early stop
    record = train(plot, EARLY, 0.2, 20)
    plot.runs.set_visible(record, False)
    assert plot.best_step_marked(record) is None and not plot._runs[-1].note.get_visible()
    plot.runs.set_visible(record, True)
    assert plot.best_step_marked(record) is not None


def test_a_run_with_one_history_row_is_drawn_as_dots(plot):
    """A run trained all at once (Spark's ALS: one history row) shows its final objective and errors as dots."""
    t = Training(load_example("movie-night"), "als", {"K": 2, "steps": 5}, holdout=0.2)
    snap = None
    for snap in t.run():  # noqa: B007 - the last one is the result
        pass
    one_row = t.history.arrays()[-1:]
    plot.clear_all()  # the empty chart drawn first (axes 1 to 10), as when a session is opened into a fresh window
    record = RunRecord.from_result(RunResult.from_snapshot("als", t.params, snap, one_row), snap, holdout=0.2)
    plot.runs.load([record])
    run = plot._runs[-1]
    assert [line.get_marker() for line in run.lines] == ["o", "o", "o"]
    assert [len(line.get_xdata()) for line in run.lines] == [1, 1, 1]
    plot.flush()
    plot.canvas.draw()
    assert all(line.get_visible() for line in run.lines)
    for line in run.lines:  # the axes moved to the dots (not left at the empty chart's 1 to 10)
        (x,), (y,) = line.get_xdata(), line.get_ydata()
        (x0, x1), (y0, y1) = line.axes.get_xlim(), line.axes.get_ylim()
        assert x0 < x < x1 and y0 < y < y1, (line.axes.get_xlim(), line.axes.get_ylim(), x, y)
    longer = train(plot, {"K": 2, "steps": 30}, 0.2, None)  # a usual run is lines without dots
    assert longer is plot._runs[-1].record and [ln.get_marker() for ln in plot._runs[-1].lines] == ["None"] * 3
