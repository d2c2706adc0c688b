"""The model ladder: its rungs follow the model shown, its chart is each rung's RMSE (the last one the run's), its
switches set the shared parts and follow them, and a big model's rungs are quick to show again."""

from __future__ import annotations

import time

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt

from mfstudio.core import History, Ratings, RunResult
from mfstudio.core.ladder import Parts
from mfstudio.core.metrics import rmse
from mfstudio.core.solvers import Factors
from mfstudio.gui.experiment import Experiment, Shown
from mfstudio.gui.views.ladder import LadderPanel, parts_text, short_label, y_limits
from mfstudio.gui.viewstate import ShownParts
from tests.gui.conftest import synthetic_ratings
from tests.gui.test_experiment import request, run_to_end

HELD_OUT = np.array([[0, 2], [3, 1]])  # two rated cells of Example 1, no user or item left without training


@pytest.fixture
def setup(qtbot):
    ex = Experiment()
    parts = ShownParts()
    panel = LadderPanel(ex, parts)
    qtbot.addWidget(panel)
    panel.resize(640, 380)
    panel.show()
    qtbot.waitExposed(panel)
    yield ex, parts, panel
    ex.shutdown()
    panel.stop_timers()


def to_end(qtbot, ex, panel, *args):
    """A run to its end, and the chart to the run's last factors (worked out in slices after it ends)."""
    end = run_to_end(qtbot, ex, *args)
    assert panel.busy()  # none of it in the event-loop pass that ended the run
    qtbot.waitUntil(lambda: not panel.busy(), timeout=10_000)
    return end


def biased_run(qtbot, ex, panel, **params):
    return to_end(qtbot, ex, panel, ex.train, request(solver="biased-sgd", steps=params.pop("steps", 400),
                                                      cells=HELD_OUT, alpha=0.01, **params))


def test_the_panel_is_named_and_says_what_it_shows(setup):
    _ex, _parts, panel = setup
    assert panel.objectName() == "modelLadder"
    names = {w.objectName() for w in (panel.mean_box, panel.user_box, panel.item_box, panel.factors_box,
                                      panel.all_button, panel.now, panel.canvas)}
    assert names == {"ladderMean", "ladderUserBias", "ladderItemBias", "ladderFactors", "ladderAll", "ladderNow",
                     "ladderCanvas"}
    assert not panel.factors_box.isEnabled() and panel.labels == [] and panel.errors == []
    assert panel.canvas.hint.get_visible()
    assert panel.canvas.ax.get_ylabel() == "RMSE"


def test_a_biased_run_offers_every_rung_and_its_last_point_is_the_runs_rmse(qtbot, setup):
    ex, parts, panel = setup
    end = biased_run(qtbot, ex, panel)
    assert panel.labels == ["mean only", "+ user biases", "+ item biases", "+ factor 1", "+ factor 2"]
    snap = end.snapshot
    train = panel.canvas.train.get_ydata()
    val = panel.canvas.val.get_ydata()
    assert len(train) == len(val) == 5
    assert train[-1] == pytest.approx(snap.train_rmse, abs=1e-12)
    assert val[-1] == pytest.approx(snap.val_rmse, abs=1e-12)
    split = end.shown.ratings.split_cells(HELD_OUT)
    assert train[0] == pytest.approx(rmse(split.train, _mean_only(end.shown.result.factors)), abs=1e-12)
    assert [w.isVisibleTo(panel) for w in (panel.mean_box, panel.user_box, panel.item_box)] == [True] * 3
    assert (panel.factors_box.minimum(), panel.factors_box.maximum(), panel.factors_box.value()) == (0, 2, 2)
    assert parts.parts == Parts() and panel.current_rung == 4
    assert panel.canvas.mark.get_visible() and panel.canvas.mark.get_x() == pytest.approx(3.6)
    assert [t.get_text() for t in panel.canvas.legend.get_texts()] == ["training", "validation (held out)"]
    assert panel.now.text().startswith("Predicting with μ + b_u + b_i + all factors (K = 2): training RMSE ")
    lo, hi = panel.canvas.ax.get_ylim()
    assert lo <= min(train.min(), val.min()) and max(train.max(), val.max()) <= hi
    labels = [t.get_text() for t in panel.canvas.ax.get_xticklabels()]
    assert labels == ["μ", "+bᵤ", "+bᵢ", "+1", "+2"]


def _mean_only(f: Factors) -> Factors:
    g = f.copy()
    g.P[:] = 0.0
    g.user_bias[:] = 0.0
    g.item_bias[:] = 0.0
    return g


def test_the_switches_set_the_shared_parts(qtbot, setup):
    ex, parts, panel = setup
    biased_run(qtbot, ex, panel)
    seen: list[Parts] = []
    parts.changed.connect(seen.append)
    panel.factors_box.setValue(1)
    assert parts.parts == Parts(factors=1)
    panel.user_box.setChecked(False)
    assert parts.parts == Parts(True, False, True, 1)
    assert panel.current_rung is None and not panel.canvas.mark.get_visible()
    assert "not a rung of the ladder" in panel.now.text()
    panel.factors_box.setValue(2)  # all K factors: "everything" again once the biases are back on
    panel.user_box.setChecked(True)
    assert parts.parts == Parts() and parts.parts.everything
    panel.show_rung(0)
    assert parts.parts == Parts(True, False, False, 0)
    assert not panel.user_box.isChecked() and not panel.item_box.isChecked() and panel.factors_box.value() == 0
    assert panel.canvas.mark.get_x() == pytest.approx(-0.4)
    panel.all_button.click()
    assert parts.parts == Parts()
    assert len(seen) == 6


def test_clicking_a_rung_on_the_chart_shows_it(qtbot, setup):
    ex, parts, panel = setup
    biased_run(qtbot, ex, panel)
    panel.canvas.draw()
    ax = panel.canvas.ax
    x, y = ax.transData.transform((2, float(np.mean(ax.get_ylim()))))
    ratio = panel.canvas.device_pixel_ratio
    point = QPoint(int(x / ratio), int(panel.canvas.height() - y / ratio))
    qtbot.mouseClick(panel.canvas, Qt.MouseButton.LeftButton, pos=point)
    assert parts.parts == Parts(True, True, True, 0)  # "+ item biases"
    assert panel.current_rung == 2


def test_the_switches_follow_parts_set_elsewhere(qtbot, setup):
    ex, parts, panel = setup
    biased_run(qtbot, ex, panel)
    parts.set_parts(Parts(True, True, False, 0))
    assert panel.user_box.isChecked() and not panel.item_box.isChecked() and panel.factors_box.value() == 0
    assert panel.current_rung == 1
    e = panel.errors[1]
    assert panel.now.text() == (f"Predicting with μ + b_u: training RMSE {e.train_rmse:.3g}, "
                                f"validation RMSE {e.val_rmse:.3g}.")
    assert "Training RMSE " + repr(e.train_rmse) in panel.now.toolTip()


def test_a_model_without_biases_offers_the_factor_rungs_only(qtbot, setup):
    ex, parts, panel = setup
    end = to_end(qtbot, ex, panel, ex.train, request(steps=300, K=3))
    assert panel.labels == ["factor 1", "factors 1–2", "factors 1–3"]
    assert [w.isVisibleTo(panel) for w in (panel.mean_box, panel.user_box, panel.item_box)] == [False] * 3
    assert (panel.factors_box.minimum(), panel.factors_box.maximum()) == (1, 3)
    assert panel.canvas.train.get_ydata()[-1] == pytest.approx(end.snapshot.train_rmse, abs=1e-12)
    assert len(panel.canvas.val.get_ydata()) == 0  # no hold-out, no validation line
    assert [t.get_text() for t in panel.canvas.legend.get_texts()] == ["training"]
    panel.factors_box.setValue(1)
    assert parts.parts == Parts(factors=1) and panel.now.text().startswith("Predicting with factor 1 of 3: ")
    assert [t.get_text() for t in panel.canvas.ax.get_xticklabels()] == ["1", "2", "3"]


def test_a_new_result_keeps_the_choice_where_it_applies_and_cleared_resets_it(qtbot, setup):
    ex, parts, panel = setup
    biased_run(qtbot, ex, panel, K=3)
    parts.set_parts(Parts(True, False, False, 2))
    biased_run(qtbot, ex, panel, K=4)  # two of four factors still means something
    assert parts.parts == Parts(True, False, False, 2) and panel.factors_box.value() == 2
    biased_run(qtbot, ex, panel, K=2)  # two of two is every factor
    assert parts.parts == Parts(True, False, False, None) and panel.factors_box.value() == 2
    parts.set_parts(Parts(True, True, True, 0))
    to_end(qtbot, ex, panel, ex.train, request(steps=50))  # no biases: "no factors" is none of its rungs
    assert parts.parts == Parts()
    ex.clear()
    assert parts.parts == Parts() and panel.labels == [] and panel.errors == []
    assert not panel.factors_box.isEnabled() and panel.canvas.hint.get_visible()
    assert len(panel.canvas.train.get_xdata()) == 0


def test_while_a_run_goes_the_chart_follows_it_at_a_bounded_pace(qtbot, setup):
    ex, _parts, panel = setup
    reports = []
    ex.progress.connect(reports.append)
    with qtbot.waitSignal(ex.progress, timeout=10_000):
        ex.train(request(synthetic_ratings(), steps=1_000_000_000, solver="biased-sgd", alpha=0.005))
    qtbot.waitUntil(lambda: panel.computes > 0, timeout=5_000)
    assert panel.labels[:3] == ["mean only", "+ user biases", "+ item biases"]
    qtbot.wait(600)
    assert panel.computes <= len(reports)  # never more often than the reports come
    with qtbot.waitSignal(ex.finished, timeout=10_000):
        ex.stop()
    qtbot.waitUntil(lambda: not panel.busy(), timeout=10_000)
    assert panel.canvas.train.get_ydata()[-1] == pytest.approx(ex.snapshot.train_rmse, abs=1e-12)
    assert not panel._timer.isActive()


def big_model(K: int = 20, seed: int = 0) -> tuple[Ratings, Factors, np.ndarray]:
    """An ML-100K-sized model: 943 x 1,682, 100,000 ratings, 10% of them held out."""
    rng = np.random.default_rng(seed)
    n, m = 943, 1682
    key = np.sort(rng.choice(n * m, 100_000, replace=False))
    r = Ratings(key // m, key % m, rng.integers(1, 6, len(key)).astype(float), (n, m), scale=(1, 5))
    f = Factors(rng.normal(0, 0.3, (n, K)), np.ascontiguousarray(rng.normal(0, 0.3, (m, K))).T,
                rng.normal(0, 0.3, n), rng.normal(0, 0.3, m), 3.5)
    cells = np.stack([key[::10] // m, key[::10] % m], axis=1)
    return r, f, cells


def test_a_big_models_rungs_are_shown_again_quickly(qtbot, setup):
    ex, _parts, panel = setup
    r, f, cells = big_model()
    ex.show_loaded(Shown(RunResult("biased-sgd", {"K": 20}, f, History(), 100), r, cells))
    assert len(panel.errors) == 23
    split = r.split_cells(cells)
    assert panel.errors[-1].train_rmse == pytest.approx(rmse(split.train, f), abs=1e-12)
    assert panel.errors[-1].val_rmse == pytest.approx(rmse(split.val, f), abs=1e-12)
    qtbot.wait(50)  # the full draw of the new rungs
    full = panel.canvas.full_draws
    times = []
    for j in range(5):
        g = f.copy()
        g.P *= 1 + 1e-4 * j
        t0 = time.perf_counter()
        panel._set_factors(g, now=True)  # the rung errors of 100,000 ratings and the chart blitted
        times.append(time.perf_counter() - t0)
    print(f"\nladder, 943 x 1,682, K = 20, 100,000 ratings: {1000 * np.median(times):.1f} ms a refresh (median)")
    assert panel.canvas.full_draws == full  # only the lines moved
    assert np.median(times) < 0.1


def test_texts_and_limits():
    assert short_label("+ factor 12", True) == "+12" and short_label("factors 1–12", False) == "12"
    assert short_label("mean only", True) == "μ"
    assert parts_text(Parts(True, False, True, 3), 5, True) == "μ + b_i + factors 1–3 of 5"
    assert parts_text(Parts(False, False, False, 0), 5, True) == "nothing (every part is off)"
    assert parts_text(Parts(factors=1), 1, False) == "all factors (K = 1)"
    assert y_limits(np.array([0.02, 1.38])) == (0.0, 1.5)
    lo, hi = y_limits(np.array([0.83, 0.91]))
    assert 0.8 <= lo < 0.83 and 0.91 < hi <= 0.95


def test_a_hidden_panel_waits_and_catches_up_when_shown(qtbot, setup):
    ex, _parts, panel = setup
    panel.hide()
    with qtbot.waitSignal(ex.progress, timeout=10_000):
        ex.train(request(synthetic_ratings(), steps=1_000_000_000, solver="biased-sgd", alpha=0.005))
    qtbot.wait(300)
    assert panel.computes == 0  # another tab is on top: no work for a chart nobody sees
    panel.show()
    assert panel.computes == 0 and panel.busy()  # worked out in slices from the next event-loop pass on
    qtbot.waitUntil(lambda: panel.computes == 1, timeout=5_000)
    assert len(panel.errors) == 5
    with qtbot.waitSignal(ex.finished, timeout=10_000):
        ex.stop()


def test_a_runs_new_rungs_are_drawn_in_slices_not_in_one_pass(qtbot, setup):
    ex, _parts, panel = setup
    full_in_pass = []
    qtbot.wait(200)  # the empty panel's first paint
    panel.canvas.mpl_connect("draw_event", lambda _e: full_in_pass.append(True))
    with qtbot.waitSignal(ex.progress, timeout=10_000):
        ex.train(request(synthetic_ratings(), steps=1_000_000_000, solver="biased-sgd", alpha=0.005))
    qtbot.waitUntil(lambda: panel.computes > 0 and panel.canvas.full_draws > 0, timeout=5_000)
    with qtbot.waitSignal(ex.finished, timeout=10_000):
        ex.stop()
    qtbot.waitUntil(lambda: not panel.busy(), timeout=10_000)
    assert full_in_pass == []  # every full draw of the run and its end was made in slices
    assert panel.canvas.train.get_ydata()[-1] == pytest.approx(ex.snapshot.train_rmse, abs=1e-12)
