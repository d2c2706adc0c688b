"""Counts of events in the window: the Counts switch and File ▸ Open counts or events… choose implicit-als, the
loss curve's right panel shows held-out precision@k, Why this number? adds the user's own items' pushes."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QFileDialog

from mfstudio.core import load_example
from mfstudio.core.explain_implicit import explain_implicit
from mfstudio.gui.data_kind import SWITCHED
from mfstudio.gui.views.explain_panel import ExplainPanel
from tests.gui.test_window import train


def messages(w) -> list[str]:
    seen: list[str] = []
    w.document.statusMessage.connect(lambda text, _ms: seen.append(text))
    return seen


def test_the_counts_switch_chooses_implicit_als_and_undo_switches_the_kind_back(qtbot, window):
    seen = messages(window)
    box = window.findChild(QCheckBox, "implicitData")
    assert box is not None and not box.isChecked() and window.controls.solver() == "sgd"
    box.setChecked(True)
    assert window.grid_model.implicit and window.document.grid_ratings().implicit
    assert window.controls.solver() == "implicit-als" and SWITCHED in seen
    window.grid_model.undo_stack.undo()
    assert not box.isChecked() and not window.grid_model.implicit
    assert window.controls.solver() == "implicit-als"  # back to ratings: the solver stays as the user has it


def test_open_counts_or_events_reads_events_summed_and_starts_implicit_als(qtbot, window, tmp_path, monkeypatch):
    f = tmp_path / "plays.csv"
    f.write_text("user,artist\nana,Low Tide\nana,Low Tide\nana,Brass Owl\nbo,Brass Owl\nbo,Quiet Fern\n")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(f), "")))
    action = next(a for a in window.findChildren(type(window.action_full_precision))
                  if a.objectName() == "actionOpenCounts")
    action.trigger()
    r = window.document.grid_ratings()
    assert r.implicit and r.nnz == 4 and window.grid_model.implicit
    ana, low = r.users.index("ana"), r.items.index("Low Tide")
    assert window.grid_model.value(ana, low) == 2.0  # a repeated event is summed into a count
    assert window.controls.solver() == "implicit-als"
    assert window.findChild(QCheckBox, "implicitData").isChecked()


@pytest.fixture
def trained(qtbot, window):
    window.document.open_example("listening")
    window.controls.set_holdout(0.2)
    window.document.holdout.apply(0.2)
    assert window.controls.solver() == "implicit-als" and window.grid_model.implicit
    assert train(qtbot, window, 60_000) == "budget"
    return window


def test_the_loss_curve_shows_held_out_precision_for_an_implicit_run(trained):
    plot = trained.plot
    assert plot.ranking_shown == "precision@10"
    ax = plot.canvas.ax_rmse
    assert ax.get_yscale() == "linear" and "precision@10" in ax.get_ylabel()
    record = trained.document.runs.current
    h = record.history
    shown = plot._lines[record].val.get_ydata()
    p = h[:, len(h[0]) - 5]  # precision@10, recall, ndcg, map, mpr: the first ranking column
    assert len(shown) == np.isfinite(p).sum() == len(h)  # implicit runs are ranked at every step
    assert np.allclose(shown, p)
    assert not len(plot._lines[record].train.get_xdata())


def test_why_this_number_adds_the_users_own_items_pushes(qtbot, trained):
    w = trained
    panel = w.findChild(ExplainPanel, "explainPanel")
    r = w.document.grid_ratings()
    user = r.users.index("Carmen") if "Carmen" in r.users else 0
    item = 3
    w.selection.select(user, item)
    e = panel.because_explanation
    assert e is not None and not panel.because.isHidden()
    f = w.experiment.result.factors
    assert math.isclose(e.score, float(f.P[user] @ f.Q[:, item]), rel_tol=1e-12)
    assert math.isclose(sum(b.value for b in e.because) + e.rest, e.score, rel_tol=1e-9, abs_tol=1e-12)
    train_set = r.split_cells(w.document.grid_held_out_cells()).train
    direct = explain_implicit(r, f, train_set, user, item, 1.0, float(w.experiment.result.params["beta"]))
    assert [b.item for b in e.because] == [b.item for b in direct.because]
    assert e.sentence in panel.because.text()


def test_a_session_of_counts_reopens_as_counts(qtbot, trained, tmp_path):
    w = trained
    path = tmp_path / "plays.mfstudio"
    assert w.document.save_to(path)
    w.document.open_example("example-1")
    assert not w.grid_model.implicit
    assert w.document.open_path(path)
    assert w.grid_model.implicit and w.controls.solver() == "implicit-als"
    assert load_example("listening").implicit


def test_the_window_speaks_of_interactions_and_preference_errors(trained):
    w = trained
    caption = w.results.recs_caption.text()
    assert "interaction" in caption and "rated" not in caption and "rating" not in caption
    assert w.results.recs_model.headerData(4, Qt.Orientation.Horizontal) == "Interactions"
    model = w.runs_table.model
    heads = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]
    assert "Training preference error" in heads and "Train RMSE" not in heads
    assert "clipped to the scale 0 to 1 for display" in w.results.r_hat_caption.text()  # preferences, not counts


def test_why_this_number_of_a_model_of_counts_speaks_of_preferences_and_counts(qtbot, trained):
    w = trained
    panel = w.findChild(ExplainPanel, "explainPanel")
    r = w.document.grid_ratings()
    dense = r.to_dense()
    user, item = map(int, np.argwhere(np.isnan(dense) | (dense == 0))[0])
    w.selection.select(user, item)
    texts = [panel.model.index(row, 0).data() for row in range(panel.model.rowCount())]
    values = [panel.model.index(row, 3).data() for row in range(panel.model.rowCount())]
    assert "actual count" in texts and "no interaction" in values and "not rated" not in values
    panel.canvas.draw_explanation(panel.explanation)  # the panel has told the canvas it explains a preference
    assert panel.canvas.ax.get_ylabel() == "Preference"
    assert "preference range" in panel.canvas.ax.get_title(loc="right")
