"""The explain panel follows the selection and the experiment: a selected cell's terms add up to its R-hat
cell; a held-out cell says so; biased-sgd shows the mean and both biases; a new document empties it; a
run refreshes it at a bounded pace; stale results are said to be stale."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from mfstudio.core import RunResult, Training, load_example
from mfstudio.core.explain import HELD_OUT_TEXT, Explanation
from mfstudio.core.ladder import Parts, masked
from mfstudio.core.numbers import exact_text, table_text
from mfstudio.gui.experiment import Experiment, Progress, RunStart, Shown
from mfstudio.gui.views import explain_panel as ep
from mfstudio.gui.views.explain_panel import NO_RESULT_TEXT, STALE_TEXT, TRAINING_TEXT, ExplainPanel
from mfstudio.gui.views.results import RHatModel
from mfstudio.gui.viewstate import Selection, ShownParts
from tests.gui.conftest import synthetic_ratings
from tests.gui.test_experiment import request, run_to_end

NO_CELLS = np.zeros((0, 2), np.int64)
EDIT, DISPLAY, TIP = Qt.ItemDataRole.EditRole, Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole


@pytest.fixture
def setup(qtbot):
    ex = Experiment()
    sel = Selection()
    panel = ExplainPanel(ex, sel, ShownParts())  # the ladder's switches, all on unless a test turns some off
    qtbot.addWidget(panel)
    panel.resize(760, 440)
    panel.show()  # a panel behind another tab waits to be shown before it follows a run
    yield ex, sel, panel
    panel.stop_timers()
    ex.shutdown()


def column(panel: ExplainPanel, col: int, role=DISPLAY) -> list:
    m = panel.model
    return [m.data(m.index(r, col), role) for r in range(m.rowCount())]


def term_values(panel: ExplainPanel) -> list[float]:
    e = panel.explanation
    assert e is not None
    return column(panel, 3, EDIT)[:len(e.terms)]


def r_hat(end) -> RHatModel:
    m = RHatModel()
    m.set_result(end.shown.ratings, end.shown.result.factors, end.shown.held_out_cells)
    return m


def test_a_selected_cell_shows_terms_that_add_up_to_its_r_hat_cell(qtbot, setup):
    ex, sel, panel = setup
    end = run_to_end(qtbot, ex, ex.train, request(steps=300))
    sel.select(0, 2)  # User 1, Item 3 (rated 2.0)
    rh = r_hat(end)
    values = term_values(panel)
    assert len(values) == 2  # k1, k2: sgd has no biases
    assert abs(sum(values) - rh.value(0, 2)) <= 1e-12
    labels = column(panel, 0)
    assert labels == ["taste 1 (k1)", "taste 2 (k2)", "prediction (sum)", "shown", "actual rating",
                      "error"]
    shown_row = labels.index("shown")
    assert column(panel, 3)[shown_row] == table_text(rh.shown(0, 2), 2)  # what R-hat displays
    assert column(panel, 3, EDIT)[labels.index("actual rating")] == 2.0
    error_row = labels.index("error")
    assert "actual rating minus the prediction" in column(panel, 3, TIP)[error_row]
    assert column(panel, 3, EDIT)[error_row] == 2.0 - panel.explanation.prediction
    f = end.shown.result.factors
    assert column(panel, 1, EDIT)[:2] == [f.P[0, 0], f.P[0, 1]] and column(panel, 2, EDIT)[:2] == [f.Q[0, 2],
                                                                                                   f.Q[1, 2]]
    assert panel.heading.text() == f"Why {table_text(rh.shown(0, 2), 2)}? User 1 × Item 3"
    assert panel.sentence.text().startswith("The model predicts ") and "User 1 likes taste" in panel.sentence.text()
    assert "rotation and sign" in panel.note.text() and "the total is stable." in panel.note.text()
    # the waterfall: a bar per term, the prediction and the actual rating, each with its number
    assert len(panel.canvas.bars) == 4
    assert panel.canvas.labels[:2] == [column(panel, 3)[0], column(panel, 3)[1]]
    sel.select(3, 0)  # another cell: another explanation
    assert abs(sum(term_values(panel)) - rh.value(3, 0)) <= 1e-12
    assert column(panel, 0)[-1] == "actual rating" and column(panel, 3)[-1] == "not rated"


def test_a_held_out_cell_says_the_model_never_saw_it(qtbot, setup):
    ex, sel, panel = setup
    run_to_end(qtbot, ex, ex.train, request(steps=300, cells=np.array([[1, 2]])))
    sel.select(1, 2)
    assert panel.explanation.held_out
    assert HELD_OUT_TEXT in panel.heading.text() and HELD_OUT_TEXT == "held out — the model never saw it"
    assert "actual rating (held out)" in column(panel, 0)
    assert any(HELD_OUT_TEXT in tip for _, tip in panel.canvas.bars)
    sel.select(1, 0)  # rated and trained on
    assert HELD_OUT_TEXT not in panel.heading.text() and "actual rating" in column(panel, 0)


def test_biased_sgd_shows_the_mean_and_both_biases(qtbot, setup):
    ex, sel, panel = setup
    end = run_to_end(qtbot, ex, ex.train, request(solver="biased-sgd", steps=100))
    sel.select(2, 3)
    f = end.shown.result.factors
    assert column(panel, 0)[:5] == ["mean rating μ", "user bias b_u", "item bias b_i", "taste 1 (k1)", "taste 2 (k2)"]
    assert term_values(panel)[:3] == [f.global_mean, f.user_bias[2], f.item_bias[3]]
    assert abs(sum(term_values(panel)) - r_hat(end).value(2, 3)) <= 1e-12
    assert "from the mean rating" in panel.sentence.text()
    assert "the biases and the total are stable." in panel.note.text()
    assert len(panel.canvas.bars) == 5 + 2  # mean, two biases, two tastes; the prediction and the actual rating


def test_a_new_document_empties_the_panel(qtbot, setup):
    ex, sel, panel = setup
    run_to_end(qtbot, ex, ex.train, request(steps=50))
    sel.select(0, 0)
    assert panel.model.rowCount() > 0 and panel.canvas.bars
    ex.clear()
    assert panel.explanation is None and panel.model.rowCount() == 0
    assert panel.sentence.text() == NO_RESULT_TEXT and panel.note.text() == ""
    assert panel.canvas.bars == [] and panel.heading.text() == "Why this number?"


def test_a_user_or_an_item_alone_asks_for_a_cell(qtbot, setup):
    ex, sel, panel = setup
    run_to_end(qtbot, ex, ex.train, request(steps=50))
    sel.select(user=1)
    assert panel.explanation is None and panel.model.rowCount() == 0
    assert panel.sentence.text() == "User 2 is selected: pick one of their cells to see why the model predicts it."
    sel.select(item=3)
    assert panel.sentence.text().startswith("Item 4 is selected: pick one of its cells")
    sel.select(9, 9)  # not in these results
    assert panel.explanation is None and "outside the results" in panel.sentence.text()


def test_results_already_shown_and_a_cell_already_selected_are_explained_at_once(qtbot):
    ex, sel = Experiment(), Selection()
    r = load_example("example-1")
    t = Training(r, "nmf", {"steps": 50})
    t.run_to_end()
    ex.show_loaded(Shown(RunResult("nmf", dict(t.params), t.factors.copy(), t.history, t.step), r,
                         np.zeros((0, 2), np.int64)))
    sel.select(2, 1)
    panel = ExplainPanel(ex, sel)
    qtbot.addWidget(panel)
    assert panel.explanation is not None and panel.explanation.prediction == t.factors.predict_at([2], [1])[0]
    assert panel.objectName() == "explainPanel"


def test_progress_refreshes_the_explanation_at_most_every_refresh_interval(qtbot, setup, monkeypatch):
    ex, sel, panel = setup
    r = load_example("example-1")
    t = Training(r, "sgd", {"steps": 1000})
    ex.started.emit(RunStart("sgd", t.params, r, NO_CELLS, 0.0, 1000, 0, None, True))
    sel.select(0, 2)
    draws: list[Explanation] = []
    real = panel.canvas.draw_explanation
    monkeypatch.setattr(panel.canvas, "draw_explanation", lambda e: (draws.append(e), real(e)))
    snaps = []
    for _ in range(40):  # far more reports than the interval lets through
        t.solver.run(5, np.empty((5, 5)))
        snaps.append(t.current())
        ex.progress.emit(Progress(snaps[-1], np.zeros((0, 7))))
    assert draws == [] and panel._timer.isActive()  # nothing drawn yet: one refresh is pending
    qtbot.waitUntil(lambda: len(draws) == 1, timeout=2_000)
    assert draws[0].prediction == snaps[-1].factors.predict_at([0], [2])[0]  # the latest report, once
    assert not panel._timer.isActive()


def test_a_run_refreshes_the_explanation_and_its_end_is_exact(qtbot, setup):
    ex, sel, panel = setup
    sel.select(0, 0)
    seen: list[float] = []
    ex.progress.connect(lambda report: seen.append(report.snapshot.factors.predict_at([0], [0])[0]))
    ex.train(request(synthetic_ratings(150, 200), steps=1_000_000_000))
    qtbot.waitUntil(lambda: panel.explanation is not None and panel.explanation.prediction in seen, timeout=10_000)
    with qtbot.waitSignal(ex.finished, timeout=10_000):
        ex.stop()
    assert panel.explanation.prediction == ex.result.factors.predict_at([0], [0])[0]  # the final model at once
    assert not panel._timer.isActive()


def test_a_new_run_on_other_data_explains_nothing_until_its_first_report(qtbot, setup):
    ex, sel, panel = setup
    run_to_end(qtbot, ex, ex.train, request(steps=50))
    sel.select(0, 0)
    other = synthetic_ratings(30, 20)
    shown_before: list[object] = []
    ex.started.connect(lambda run: shown_before.append((panel.explanation, panel.sentence.text())))
    run_to_end(qtbot, ex, ex.train, request(other, steps=20))
    shown_before = [e for e, text in shown_before if text == TRAINING_TEXT]
    assert shown_before == [None]  # never the old model's numbers under the new data's labels
    assert panel.explanation is not None and panel.explanation.user_label == other.users[0]


def test_stale_results_are_said_to_be_stale(qtbot, setup):
    ex, sel, panel = setup
    panel.show()
    run_to_end(qtbot, ex, ex.train, request(steps=50))
    sel.select(0, 1)
    assert panel.stale_banner.isHidden()
    ex.data_changed()
    assert not panel.stale_banner.isHidden() and panel.stale_banner.text() == STALE_TEXT
    assert panel.heading.text().endswith("(old results)")
    run_to_end(qtbot, ex, ex.train, request(steps=50))
    assert panel.stale_banner.isHidden() and not panel.heading.text().endswith("(old results)")


def test_a_cold_user_is_explained_by_the_fallback(qtbot, setup):
    ex, sel, panel = setup
    run_to_end(qtbot, ex, ex.train, request(solver="biased-sgd", steps=50, cells=np.array([[0, 1], [0, 2]])))
    sel.select(0, 3)
    assert column(panel, 0)[:2] == ["mean rating (fallback)", "item bias b_i"]
    assert "User 1 has no training ratings" in panel.sentence.text()
    assert len(panel.canvas.bars) == 2 + 1  # the fallback's two terms and the prediction (not rated)


def test_numbers_are_short_with_the_exact_value_in_tooltips_and_signs_in_two_colours(qtbot, setup):
    ex, sel, panel = setup
    run_to_end(qtbot, ex, ex.train, request(solver="biased-sgd", steps=100))
    sel.select(2, 3)
    m, e = panel.model, panel.explanation
    for r, t in enumerate(e.terms):
        text = m.data(m.index(r, 3), DISPLAY)
        digits = text.lstrip("+-").replace(".", "").lstrip("0")
        assert 1 <= len(digits) <= 3, text
        assert exact_text(t.value) in m.data(m.index(r, 3), TIP)
    up = next(r for r, t in enumerate(e.terms) if t.value > 0 and t.name != "mean")
    down = next(r for r, t in enumerate(e.terms) if t.value < 0)
    c_up = m.data(m.index(up, 3), Qt.ItemDataRole.BackgroundRole).color()
    c_down = m.data(m.index(down, 3), Qt.ItemDataRole.BackgroundRole).color()
    assert c_up.blue() > c_up.red() and c_down.red() > c_down.blue()
    assert ep.tint(0.0, 1.0).name() == "#ffffff"
    assert m.data(m.index(0, 3), Qt.ItemDataRole.BackgroundRole) is None  # the mean is not a push


def test_many_factors_share_a_bar_but_the_table_lists_them_all(qtbot, setup):
    ex, sel, panel = setup
    panel.show()
    run_to_end(qtbot, ex, ex.train, request(steps=50, K=40))
    sel.select(1, 1)
    assert sum(1 for t in panel.explanation.terms if t.p is not None) == 40
    assert column(panel, 0)[39] == "taste 40 (k40)"
    assert len(panel.canvas.bars) < 20 and any("the other" in tip for _, tip in panel.canvas.bars)
    e = panel.explanation
    steps = panel.canvas.bars[:len(panel.canvas.bars) - 1 - e.clipped - (e.actual is not None)]
    assert sum(bar.get_height() for bar, _ in steps) == pytest.approx(e.prediction)  # the steps reach the total
    assert [tip.split(":")[0] for _, tip in panel.canvas.bars[len(steps):]][0] == "the model's prediction"


def test_copy_puts_the_exact_breakdown_on_the_clipboard(qtbot, setup):
    ex, sel, panel = setup
    messages: list[str] = []
    panel.statusMessage.connect(messages.append)
    panel.copy()
    assert messages == ["Select a cell first, then copy its explanation."]
    run_to_end(qtbot, ex, ex.train, request(steps=50))
    sel.select(0, 1)
    panel.action_copy.trigger()
    text = QGuiApplication.clipboard().text()
    assert text.startswith("Part\tP[u,k]\tQ[k,i]\tValue\ntaste 1 (k1)\t")
    assert exact_text(panel.explanation.prediction) in text and panel.explanation.sentence in text
    assert messages[-1] == "Copied the explanation of User 1 × Item 2."


def test_a_hidden_panel_follows_a_run_only_once_shown(qtbot, setup):
    ex, sel, panel = setup
    panel.hide()
    sel.select(0, 0)
    ex.train(request(synthetic_ratings(150, 200), steps=1_000_000_000))
    qtbot.waitUntil(lambda: ex.snapshot is not None and ex.snapshot.step > 0, timeout=10_000)
    qtbot.wait(300)
    assert not panel._timer.isActive()  # the reports came, nothing was drawn for them
    panel.show()
    qtbot.waitUntil(lambda: panel.explanation is not None, timeout=5_000)
    with qtbot.waitSignal(ex.finished, timeout=10_000):
        ex.stop()


def test_a_hidden_panel_explains_a_run_s_end_and_makes_its_bars_when_shown(qtbot, setup):
    ex, sel, panel = setup
    sel.select(0, 2)
    panel.hide()
    run_to_end(qtbot, ex, ex.train, request(steps=50))
    assert panel.explanation is not None and panel.sentence.text() == panel.explanation.sentence  # the words
    assert panel.canvas.explanation is None  # no bars yet: made when shown
    panel.show()
    qtbot.waitUntil(lambda: panel.canvas.explanation is not None, timeout=5_000)
    assert panel.canvas.explanation.prediction == panel.explanation.prediction
    assert len(panel.canvas.labels) == len(panel.canvas.bars) > 3  # each bar has its number


def test_a_run_s_report_changes_the_table_s_numbers_without_a_reset():
    from mfstudio.core.explain import explain
    from mfstudio.core.solvers import Factors

    r = synthetic_ratings(20, 30)
    rng = np.random.default_rng(1)
    f = Factors(rng.normal(0, 0.5, (20, 4)), rng.normal(0, 0.5, (4, 30)), None, None, 3.5)
    model = ep.ExplanationModel()
    resets, changed = [], []
    model.modelReset.connect(lambda: resets.append(1))
    model.dataChanged.connect(lambda a, b: changed.append((a.row(), a.column(), b.row(), b.column())))
    model.set_explanation(explain(r, f, 2, 3), live=True)  # the first: rows to lay out
    assert len(resets) == 1
    g = Factors(f.P * 1.5, f.Q, None, None, 3.5)
    e = explain(r, g, 2, 3)
    model.set_explanation(e, live=True)  # the same rows, new numbers
    assert len(resets) == 1 and changed == [(0, 0, model.rowCount() - 1, len(ep.COLUMNS) - 1)]
    assert column_of(model, 3) == [row[3] for row in e.rows(short=True)]
    model.set_explanation(e)  # the run's end: a reset, the columns sized to their contents again
    assert len(resets) == 2


def column_of(model: ep.ExplanationModel, col: int) -> list:
    return [model.data(model.index(r, col)) for r in range(model.rowCount())]


def test_a_new_run_on_the_same_data_is_explained_from_the_next_event_loop_pass(qtbot, setup):
    ex, sel, panel = setup
    run_to_end(qtbot, ex, ex.train, request(steps=50))
    sel.select(0, 0)
    at_start: list[tuple[object, bool]] = []
    ex.started.connect(lambda run: at_start.append((panel.explanation, panel._timer.isActive())))
    before = panel.explanation
    with qtbot.waitSignal(ex.started, timeout=10_000):
        ex.train(request(steps=1_000_000_000))
    assert at_start == [(before, True)]  # not in the pass of the click that started it: that one does much else
    qtbot.waitUntil(lambda: not panel._timer.isActive(), timeout=5_000)
    with qtbot.waitSignal(ex.progress, timeout=10_000):
        pass
    panel._later()
    assert panel._timer.interval() == ep.REFRESH_MS  # the run's refreshes keep their pace
    with qtbot.waitSignal(ex.finished, timeout=10_000):
        ex.stop()


def test_the_ladders_switches_explain_the_number_r_hat_shows(qtbot, setup):
    ex, sel, panel = setup
    parts = panel.parts
    end = run_to_end(qtbot, ex, ex.train, request(steps=300))
    sel.select(0, 2)
    full = panel.explanation.prediction
    f = end.shown.result.factors
    parts.set_parts(Parts(factors=1))  # taste 1 only
    m = RHatModel()
    m.set_result(end.shown.ratings, masked(f, parts.parts), end.shown.held_out_cells)
    e = panel.explanation
    assert abs(e.prediction - m.value(0, 2)) <= 1e-12 and abs(e.prediction - f.P[0, 0] * f.Q[0, 2]) <= 1e-12
    assert e.prediction != full and [t.value for t in e.terms][1] == 0.0  # taste 2 switched off counts 0
    assert "The Ladder has switched parts of the model off" in panel.note.text()
    assert panel.heading.text().startswith(f"Why {table_text(m.shown(0, 2), 2)}?")
    parts.set_parts(Parts())
    assert panel.explanation.prediction == full and "Ladder" not in panel.note.text()
    assert end.shown.result.factors.P[0, 1] == f.P[0, 1] != 0  # the trained model itself is unchanged
