"""The studio window end to end (offscreen): first impression, editing, training, results, files."""

from __future__ import annotations

import time

import numpy as np
import pytest
from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QAbstractSpinBox, QFileDialog, QMessageBox, QWidget

from mfstudio.core import SOLVERS, load_example
from mfstudio.gui import MainWindow
from tests.gui.conftest import synthetic_ratings

NAMES = ["ratingGrid", "solverChooser", "param_K", "param_steps", "param_alpha", "param_beta", "param_seed",
         "holdoutFraction", "trainButton", "continueButton", "pauseButton", "stopButton", "stepButton", "resetButton",
         "lossCanvas", "pTable", "qTable", "rHatTable", "recommendationsTable"]


def find(w: MainWindow, name: str) -> QWidget:
    found = w.findChild(QWidget, name)
    assert found is not None, f"no widget called {name}"
    return found


def train(qtbot, w: MainWindow, timeout: int = 20_000) -> str:
    with qtbot.waitSignal(w.trainingFinished, timeout=timeout) as blocker:
        qtbot.mouseClick(find(w, "trainButton"), Qt.MouseButton.LeftButton)
    return blocker.args[0]


@pytest.fixture
def warnings(monkeypatch):
    """Record QMessageBox.warning calls instead of showing them."""
    seen: list[tuple[str, str]] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda parent, title, text, *a, **k: seen.append((title, text)))
    return seen


# -- first impression --------------------------------------------------------------------------
def test_builds_without_creating_an_application(qapp, monkeypatch):
    """The caller owns the QApplication (a second one aborts): building the window must not make one."""
    from PySide6.QtWidgets import QApplication

    import mfstudio.gui.window as window_module

    class NoNewApplication:
        instance = staticmethod(QApplication.instance)

        def __init__(self, *args, **kwargs) -> None:
            raise AssertionError("MainWindow created a QApplication")

    monkeypatch.setattr(window_module, "QApplication", NoNewApplication)
    w = MainWindow()
    assert w.objectName() == "mainWindow"
    w.close()


def test_names_for_tests_and_assistive_tools(window):
    for name in NAMES:
        w = find(window, name)
        assert w.accessibleName().strip(), f"{name} has no accessible name"


def test_opens_with_example_1_and_the_notebook_defaults(window):
    m = window.grid_model
    assert m.to_ratings() == load_example("example-1")
    assert window.controls.solver() == "sgd"
    assert window.controls.params() == {"K": 2, "steps": 10_000, "alpha": 0.0002, "beta": 0.02, "tol": 0.001, "seed": 0}
    assert find(window, "param_steps").maximum() >= 1_000_000_000


def test_everything_for_a_first_experiment_is_visible_at_1280x800(window):
    window.resize(1280, 800)
    frame = window.rect()
    names = ["ratingGrid", "solverChooser", "param_K", "param_steps", "param_alpha", "param_beta", "param_seed",
             "holdoutFraction", "trainButton", "continueButton", "pauseButton", "stopButton", "stepButton",
             "resetButton", "lossCanvas", "rHatTable"]
    for name in names:
        w = find(window, name)
        assert w.isVisible(), name
        top_left = w.mapTo(window, w.rect().topLeft())
        rect = QRect(top_left, w.size())
        assert frame.contains(rect), f"{name} at {rect} is outside the window {frame}"
        assert w.width() >= 40 and w.height() >= 18, f"{name} is squeezed to {w.size()}"
    tabs = [window.tabs.tabText(i) for i in range(window.tabs.count())]
    assert tabs[:5] == ["R-hat", "P", "Q", "Biases", "Recommendations"] and "Why this number?" in tabs
    assert find(window, "lossCanvas").height() >= 250
    # all 4 x 4 ratings fit in the grid without scrolling
    g = window.grid
    assert g.verticalScrollBar().maximum() == 0 and g.horizontalScrollBar().maximum() == 0


def test_parameter_tooltips_are_plain_words(window):
    tip = find(window, "param_alpha").toolTip()
    assert tip.startswith("Learning rate (α): how big each correction step is. Too big and training blows up.")
    assert "Default: 0.0002" in tip
    assert "Allowed" in find(window, "param_steps").toolTip()


# -- controls ----------------------------------------------------------------------------------
def test_choosing_a_solver_keeps_the_shared_values_and_describes_it(window):
    c = window.controls
    find(window, "param_alpha").setValue(0.01)
    find(window, "param_K").setValue(3)
    find(window, "param_seed").setValue(7)
    find(window, "holdoutFraction").setValue(20)
    box = find(window, "solverChooser")
    for name in list(SOLVERS)[1:]:
        cls = SOLVERS[name]
        box.setCurrentIndex(box.findData(name))
        assert c.solver() == name
        params = c.params()
        assert params == {**cls.defaults(), "K": 3, "seed": 7}  # K and the seed are kept, the rest its defaults
        assert c.holdout() == 0.2
        assert c.description.text() == cls.description
        assert set(c.param_widgets) == {s.name for s in cls.params} - {"seed"}
        for spec in cls.params:
            assert find(window, f"param_{spec.name}").accessibleName() == spec.label
    box.setCurrentIndex(box.findData("sgd"))  # coming back: the α set for sgd returns
    assert c.params() == {**SOLVERS["sgd"].defaults(), "alpha": 0.01, "K": 3, "seed": 7}
    last = list(SOLVERS)[-1]  # coming from it: what it had that sgd has not is said (implicit-als: two boxes)
    gone = {"nmf": "", "implicit-als": "; sgd has no confidence weight or CG steps"}[last]
    # implicit-als's β (5) is not sgd's (0.02): it is set back too
    changed = "steps, α and β" if last == "implicit-als" else "steps and α"
    values = "10,000, 0.01, 0.02" if last == "implicit-als" else "10,000, 0.01"
    assert window.statusBar().currentMessage() == (
        f"Switched to sgd: K and the seed kept; {changed} set to the values last used with sgd ({values}){gone}.")


def test_switching_solver_says_what_changed(window):
    box = find(window, "solverChooser")
    box.setCurrentIndex(box.findData("biased-sgd"))
    assert window.statusBar().currentMessage() == (
        "Switched to biased-sgd: K and the seed kept; steps, α and tolerance set to biased-sgd's defaults "
        "(200, 0.005, 0).")
    find(window, "param_beta").setValue(0.1)
    box.setCurrentIndex(box.findData("als"))
    assert window.statusBar().currentMessage() == (
        "Switched to als: K and the seed kept; steps, β, CG steps and tolerance set to als's defaults "
        "(50, 0.02, 3, 0.001); als has no α.")
    box.setCurrentIndex(box.findData("biased-sgd"))
    assert window.controls.params()["beta"] == 0.1
    assert "last used with biased-sgd" in window.statusBar().currentMessage()


def test_each_solvers_values_are_remembered_across_starts(qtbot):
    w = MainWindow()
    qtbot.addWidget(w)
    box = w.controls.solver_box
    box.setCurrentIndex(box.findData("als"))
    w.controls.param_widgets["beta"].setValue(0.3)
    box.setCurrentIndex(box.findData("sgd"))
    w.controls.param_widgets["alpha"].setValue(0.001)
    w.store_settings()
    w.close()
    w2 = MainWindow()
    qtbot.addWidget(w2)
    assert w2.controls.solver() == "sgd" and w2.controls.params()["alpha"] == 0.001
    box = w2.controls.solver_box
    box.setCurrentIndex(box.findData("als"))
    assert w2.controls.params()["beta"] == 0.3


@pytest.mark.parametrize("name,typed,message", [
    ("param_K", "0", "Latent features (K) must be a whole number from 1 to 1,000; it stays 2."),
    ("param_K", "5000", "Latent features (K) must be a whole number from 1 to 1,000; it stays 2."),
    ("param_alpha", "20", "Learning rate (α) must be above 0 and at most 10; it stays 0.0002."),
    ("param_alpha", "0", "Learning rate (α) must be above 0 and at most 10; it stays 0.0002."),
    ("param_steps", "0", "Steps must be a whole number from 1 to 1,000,000,000; it stays 10,000."),
    ("param_seed", "-3", "Random seed must be a whole number from 0 to 2,147,483,647; it stays 0."),
    ("holdoutFraction", "100", "Hold-out share must be from 0 to 99 %; it stays 0 %."),
    ("patience", "-1", "Patience must be a whole number from 1 to 1,000,000,000, or off; it stays Off."),
])
def test_a_typed_value_out_of_range_gets_a_sentence_with_the_range(window, qtbot, name, typed, message):
    box: QAbstractSpinBox = find(window, name)
    if name == "patience":  # on offer with a hold-out only
        find(window, "holdoutFraction").setValue(20)
    before = box.value()
    box.setFocus()
    box.lineEdit().selectAll()
    qtbot.keyClicks(box, typed)
    assert box.lineEdit().text().startswith(typed)  # the keys were not silently dropped
    qtbot.keyClick(box, Qt.Key.Key_Enter)
    assert box.value() == before
    assert window.statusBar().currentMessage() == message


def test_float_parameters_refuse_text_and_step_1_2_5(window, qtbot):
    alpha: QAbstractSpinBox = find(window, "param_alpha")
    alpha.lineEdit().selectAll()
    qtbot.keyClicks(alpha, "abc")
    qtbot.keyClick(alpha, Qt.Key.Key_Enter)
    assert alpha.value() == 0.0002
    alpha.stepUp()
    assert alpha.value() == 0.0005 and alpha.text() == "0.0005"
    alpha.lineEdit().selectAll()
    qtbot.keyClicks(alpha, "1e-05")
    qtbot.keyClick(alpha, Qt.Key.Key_Enter)
    assert alpha.value() == pytest.approx(1e-5)


# -- training ------------------------------------------------------------------------------------
@pytest.mark.parametrize("solver", list(SOLVERS))
def test_train_each_solver_fits_the_observed_ratings(window, qtbot, solver):
    box = find(window, "solverChooser")
    box.setCurrentIndex(box.findData(solver))
    if solver == "sgd":
        find(window, "param_alpha").setValue(0.002)  # the notebook's α needs ~50k steps; keep the test quick
    if solver == "biased-sgd":
        find(window, "param_steps").setValue(2000)  # its defaults suit big data sets, not 9 ratings
    if solver == "implicit-als":
        find(window, "param_beta").setValue(0.02)  # its β = 5 suits logs of counts, not 9 cells of 16
    assert train(qtbot, window) in ("budget", "tolerance")
    r = window.r_hat_model
    R = load_example("example-1").to_dense()
    rows, cols = np.nonzero(~np.isnan(R))
    pred = np.array([r.data(r.index(i, j), Qt.ItemDataRole.EditRole) for i, j in zip(rows, cols)])
    want = (R[rows, cols] > 0) * 1.0 if SOLVERS[solver].implicit else R[rows, cols]  # implicit-als: preferences
    assert np.sqrt(np.mean((pred - want) ** 2)) < 0.35
    assert window.plot.point_count() > 1
    assert window.recs_model.rowCount() > 0
    assert find(window, "trainButton").isEnabled() and not find(window, "stopButton").isEnabled()
    assert "Step" in window.run_status.text() and window.progress.value() > 0


def test_edit_a_cell_then_train(window, qtbot):
    m = window.grid_model
    assert m.setData(m.index(0, 0), "3")
    assert window.results_stale is False  # no results yet, nothing to mark
    train(qtbot, window)
    assert window.r_hat_model.observed(0, 0) == 3.0
    assert "actual rating 3" in window.r_hat_model.data(window.r_hat_model.index(0, 0), Qt.ItemDataRole.ToolTipRole)


def test_results_go_stale_when_the_data_changes(window, qtbot):
    train(qtbot, window)
    assert not window.results_stale and window.stale_banner.isHidden()
    m = window.grid_model
    m.setData(m.index(1, 1), "2")
    assert window.results_stale and not window.stale_banner.isHidden()
    assert window.current_session().result is None
    train(qtbot, window)
    assert not window.results_stale


def test_not_a_number_is_refused_with_a_message(window):
    m = window.grid_model
    assert m.setData(m.index(0, 1), "lots") is False
    assert m.value(0, 1) == 4.5
    assert "not a number" in window.statusBar().currentMessage()


def test_live_updates_pause_resume_stop(window, qtbot, big_ratings):
    window.load_ratings(big_ratings, title="big")
    find(window, "param_steps").setValue(1_000_000_000)
    find(window, "param_alpha").setValue(0.001)
    qtbot.mouseClick(find(window, "trainButton"), Qt.MouseButton.LeftButton)
    assert window.running and find(window, "stopButton").isEnabled() and not find(window, "trainButton").isEnabled()
    qtbot.waitUntil(lambda: window.plot.point_count() > 0 and window.r_hat_model.rowCount() == 200, timeout=5000)
    # editing is blocked while training
    m = window.grid_model
    assert m.setData(m.index(0, 0), "5") is False
    assert not window.grid.action_add_user.isEnabled()
    qtbot.mouseClick(find(window, "pauseButton"), Qt.MouseButton.LeftButton)
    assert find(window, "pauseButton").text() == "Resume"
    qtbot.wait(200)
    step = window.experiment.snapshot.step
    qtbot.wait(200)
    assert window.experiment.snapshot.step == step
    qtbot.mouseClick(find(window, "pauseButton"), Qt.MouseButton.LeftButton)
    assert find(window, "pauseButton").text() == "Pause"
    qtbot.waitUntil(lambda: window.experiment.snapshot.step > step, timeout=3000)
    cpu = time.thread_time()
    with qtbot.waitSignal(window.trainingFinished, timeout=3000) as blocker:  # the stop: within 3 s, however busy
        qtbot.mouseClick(find(window, "stopButton"), Qt.MouseButton.LeftButton)
    # the window's own work for it (the views showing the end), not the time other processes took from it
    assert time.thread_time() - cpu < 1.0
    assert blocker.args[0] == "cancelled"
    assert m.setData(m.index(0, 0), "5")  # editable again


def press(qtbot, w: MainWindow, name: str, timeout: int = 20_000) -> str:
    with qtbot.waitSignal(w.trainingFinished, timeout=timeout) as blocker:
        qtbot.mouseClick(find(w, name), Qt.MouseButton.LeftButton)
    return blocker.args[0]


def test_step_then_continue_then_train(window, qtbot):
    for expected in (1, 2, 3):
        assert press(qtbot, window, "stepButton") == "step"
        assert window.result.steps_done == expected
    assert window.plot.run_count == 1 and window.plot.point_count() == 3
    find(window, "param_steps").setValue(50)
    assert press(qtbot, window, "continueButton") == "budget"  # 50 more steps from the stepped model, same line
    assert window.result.steps_done == 53 and window.plot.run_count == 1
    assert press(qtbot, window, "continueButton") == "budget"
    assert window.result.steps_done == 103 and window.plot.run_count == 1
    press(qtbot, window, "stepButton")  # Step still makes one more, past the budget
    assert window.result.steps_done == 104
    assert press(qtbot, window, "trainButton") == "budget"  # always a fresh run from the seed, a new line
    assert window.plot.run_count == 2 and window.result.steps_done == 50


def test_train_always_starts_from_the_seed(window, qtbot):
    find(window, "param_steps").setValue(1_000_000_000)
    find(window, "param_tol").setValue(0.0)
    qtbot.mouseClick(find(window, "trainButton"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.plot.point_count() > 0, timeout=5000)
    with qtbot.waitSignal(window.trainingFinished, timeout=5000):
        window.stop()
    assert window.result.steps_done > 0
    find(window, "param_steps").setValue(7)
    assert press(qtbot, window, "trainButton") == "budget"  # not a continuation of the stopped run
    first = window.result.factors.P.copy()
    assert window.result.steps_done == 7 and window.plot.run_count == 2
    assert press(qtbot, window, "trainButton") == "budget"
    np.testing.assert_array_equal(window.result.factors.P, first)  # the same start, the same result
    assert window.plot.run_labels() == ["sgd steps=1,000,000,000", "sgd steps=7", "sgd steps=7 #2"]


def test_continue_is_offered_only_when_there_is_a_model_to_go_on_from(window, qtbot):
    cont, action = find(window, "continueButton"), window.action_continue
    assert not cont.isEnabled() and not action.isEnabled()
    assert "press Train" in cont.toolTip()
    assert action.shortcuts()[0] == QKeySequence("Ctrl+Shift+Return")
    find(window, "param_steps").setValue(20)
    train(qtbot, window)
    assert cont.isEnabled() and action.isEnabled()
    find(window, "param_steps").setValue(30)  # how many more steps: still the same model
    assert cont.isEnabled()
    find(window, "param_alpha").setValue(0.001)
    assert not cont.isEnabled() and "changed" in cont.toolTip()
    find(window, "param_alpha").setValue(0.0002)  # back as it was: the model fits again
    assert cont.isEnabled()
    with qtbot.waitSignal(window.trainingFinished, timeout=5000):
        action.trigger()
    assert window.result.steps_done == 50
    m = window.grid_model
    m.setData(m.index(0, 0), "3")  # new data: the model does not belong to it
    assert not cont.isEnabled()
    window.continue_training()
    assert not window.running and window.statusBar().currentMessage().startswith("Nothing to continue")


def test_reset_draws_a_new_random_start(window, qtbot):
    assert not find(window, "continueButton").isEnabled()
    train(qtbot, window)
    before = window.result.factors.P.copy()
    qtbot.mouseClick(find(window, "resetButton"), Qt.MouseButton.LeftButton)
    assert window.controls.params()["seed"] == 1
    assert window.result.steps_done == 0
    assert not np.allclose(window.result.factors.P, before)
    assert window.run_status.text().startswith("Step 0 of 10,000")
    assert find(window, "continueButton").isEnabled()  # from the new start
    with qtbot.waitSignal(window.trainingFinished, timeout=5000):
        qtbot.mouseClick(find(window, "stepButton"), Qt.MouseButton.LeftButton)
    assert window.result.steps_done == 1


@pytest.mark.parametrize("answer", [QMessageBox.StandardButton.Yes, QMessageBox.StandardButton.No])
def test_divergence_ends_the_run_and_offers_a_learning_rate_that_trains(window, qtbot, monkeypatch, answer):
    asked = []
    monkeypatch.setattr(QMessageBox, "question",
                        lambda parent, title, text, *a, **k: asked.append((title, text)) or answer)
    find(window, "param_alpha").setValue(5.0)
    grid_before = window.grid_model.to_ratings().to_dense()
    assert train(qtbot, window) == "diverged"
    assert len(asked) == 1
    title, text = asked[0]
    assert title == "Training diverged" and "smaller learning rate: α = 0.05 ran" in text
    assert text.endswith("Set the learning rate α to 0.05?")
    assert np.array_equal(window.grid_model.to_ratings().to_dense(), grid_before, equal_nan=True)
    assert window.result is not None and window.result.factors.all_finite()
    assert find(window, "trainButton").isEnabled() and not find(window, "continueButton").isEnabled()
    if answer == QMessageBox.StandardButton.Yes:
        assert window.controls.params()["alpha"] == 0.05
        assert train(qtbot, window) in ("budget", "tolerance")  # the offered value really trains
    else:
        assert window.controls.params()["alpha"] == 5.0


def test_divergence_without_a_value_to_offer_warns(window, qtbot, warnings, monkeypatch):
    from mfstudio.core import training

    monkeypatch.setattr(training, "PROBE_SECONDS", 0.0)
    find(window, "param_alpha").setValue(5.0)
    assert train(qtbot, window) == "diverged"
    assert len(warnings) == 1 and warnings[0][0] == "Training diverged" and "no time to check" in warnings[0][1]


def test_an_error_in_the_worker_gets_a_dialog(window, qtbot, warnings, monkeypatch):
    from mfstudio.core import Training

    def broken(self, control=None, **kw):
        yield from ()
        raise ValueError("kaput")

    monkeypatch.setattr(Training, "run", broken)
    assert train(qtbot, window) == "error"
    assert warnings and "kaput" in warnings[0][1] and "kept" in warnings[0][1]
    assert find(window, "trainButton").isEnabled()


def test_cannot_train_without_ratings(window, qtbot, warnings):
    m = window.grid_model
    m.clear_cells(np.argwhere(~np.isnan(m.to_ratings().to_dense())))
    qtbot.mouseClick(find(window, "trainButton"), Qt.MouseButton.LeftButton)
    assert not window.running
    assert warnings and "no ratings" in warnings[0][1]


def test_hold_out_share_marks_cells_and_gives_a_validation_curve(window, qtbot):
    window.load_ratings(load_example("movie-night"), title="Movie night")
    find(window, "holdoutFraction").setValue(20)
    held = window.grid_model.held_out_cells()
    n = window.grid_model.to_ratings().nnz
    assert len(held) == round(0.2 * n)
    find(window, "param_steps").setValue(300)
    train(qtbot, window)
    h = window.result.history.arrays()
    assert np.isfinite(h[:, 4]).all()
    assert len(window.plot._runs[-1].val.get_xdata()) == len(h)
    i, j = held[0]
    assert "held out" in window.r_hat_model.data(window.r_hat_model.index(int(i), int(j)), Qt.ItemDataRole.ToolTipRole)
    find(window, "holdoutFraction").setValue(0)
    assert len(window.grid_model.held_out_cells()) == 0


# -- files -------------------------------------------------------------------------------------
def test_export_results_through_the_folder_dialog(window, qtbot, tmp_path, monkeypatch):
    train(qtbot, window)
    out = tmp_path / "results"
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(out))
    window.action_export.trigger()
    names = {p.name for p in out.iterdir()}
    assert {"P.csv", "Q.csv", "R_hat.csv", "history.csv", "recommendations.csv", "run.json"} <= names
    assert "Wrote" in window.statusBar().currentMessage()


@pytest.mark.parametrize("which,first", [("P", "User 1"), ("Q", None), ("R_hat", "User 1"),
                                         ("recommendations", None), ("history", None)])
def test_export_each_table_as_csv(window, qtbot, tmp_path, monkeypatch, which, first):
    train(qtbot, window)
    target = tmp_path / which  # no extension: .csv is added
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), "CSV files (*.csv)"))
    path = window.export_table(which)
    assert path == tmp_path / f"{which}.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) > 1
    if first:
        assert lines[1].startswith(first)
    if which == "Q":
        assert "Item 1" in lines[0]


def test_export_before_training_says_what_to_do(window, warnings, tmp_path, monkeypatch):
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(tmp_path))
    window.action_export.trigger()
    assert warnings == [("Nothing to export yet", "There are no results yet; press Train first.")]


def test_save_and_open_a_session(window, qtbot, tmp_path, monkeypatch):
    find(window, "param_K").setValue(3)
    train(qtbot, window)
    target = tmp_path / "mine"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    assert window.document.save_session_as()
    saved = tmp_path / "mine.mfstudio"
    assert saved.exists() and "mine.mfstudio" in window.windowTitle()
    window.open_example("example-2")
    assert window.result is None
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(saved), ""))
    window.action_open.trigger()
    assert window.grid_model.to_ratings() == load_example("example-1")
    assert window.controls.params()["K"] == 3
    assert window.result is not None and window.p_model.columnCount() == 3
    assert window.plot.point_count() > 0


def test_opening_a_bad_file_keeps_the_data(window, warnings, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("user,item,rating\nu1,i1,lots\n", encoding="utf-8")
    before = window.grid_model.to_ratings()
    assert window.open_path(bad) is False
    assert len(warnings) == 1 and warnings[0][0] == "Could not open the file"
    assert window.grid_model.to_ratings() == before


def test_open_a_csv_of_ratings(window, tmp_path):
    f = tmp_path / "r.csv"
    f.write_text("user,item,rating\nann,film a,4\nann,film b,2\nbob,film a,5\n", encoding="utf-8")
    assert window.open_path(f)
    assert window.grid_model.users == ("ann", "bob")
    assert window.grid_model.items == ("film a", "film b")
    assert "r.csv" in window.windowTitle()


def test_session_round_trip_in_memory(window, qtbot):
    find(window, "param_beta").setValue(0.05)
    train(qtbot, window)
    s = window.current_session()
    assert s.params["beta"] == 0.05 and s.result is not None
    window.open_example("movie-night")
    window.load_session(s)
    assert window.controls.params()["beta"] == 0.05
    assert window.grid_model.to_ratings() == s.ratings
    np.testing.assert_allclose(window.result.factors.P, s.result.factors.P)


# -- closing -------------------------------------------------------------------------------------
def test_close_while_training_asks_and_no_keeps_running(window, qtbot, monkeypatch):
    window.ask_before_closing = True
    window.load_ratings(synthetic_ratings(), title="big")
    find(window, "param_steps").setValue(1_000_000_000)
    answers = [QMessageBox.StandardButton.No, QMessageBox.StandardButton.Yes]
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: answers.pop(0))
    qtbot.mouseClick(find(window, "trainButton"), Qt.MouseButton.LeftButton)
    assert window.close() is False and window.running
    with qtbot.waitSignal(window.trainingFinished, timeout=3000):
        assert window.close() is True
    assert not window.running


def test_a_model_that_cannot_be_set_up_gets_a_sentence(window, qtbot, warnings):
    m = window.grid_model
    m.set_held_out(np.argwhere(~np.isnan(m.to_ratings().to_dense())), True)  # nothing left to train on
    assert train(qtbot, window) == "error"
    # the core says what to change
    assert warnings and warnings[0][0] == "Cannot start training" and "held out" in warnings[0][1]
    assert window.plot.run_count == 0  # the run that never started leaves no line
    assert find(window, "trainButton").isEnabled()


def test_saving_during_a_run_after_an_edit_never_pairs_old_results_with_new_data(window, qtbot, tmp_path):
    import mfstudio.io as mio

    window.controls.param_widgets["steps"].setValue(200)
    assert train(qtbot, window) == "budget"
    assert window.current_session().result is not None  # results of exactly these ratings
    window.grid_model.insert_users(4, 1)
    window.grid_model.setData(window.grid_model.index(4, 0), "3")
    window.controls.param_widgets["steps"].setValue(1_000_000_000)
    window.controls.param_widgets["tol"].setValue(0.0)
    with qtbot.waitSignal(window.trainingFinished, timeout=20_000):
        qtbot.mouseClick(find(window, "trainButton"), Qt.MouseButton.LeftButton)
        qtbot.wait(100)
        session = window.current_session()  # what Save and the autosave write, mid-run
        window.stop()
    assert session.ratings.shape == (5, 4)
    r = session.result
    assert r is None or r.factors.P.shape[0] == 5
    p = tmp_path / "mid-run.mfstudio"
    mio.save_session(p, session)
    assert mio.load(p).session.ratings == session.ratings  # the file opens again


def test_long_item_labels_are_shown_whole(window):
    from mfstudio.core import load_example as ex

    window.load_ratings(ex("movie-night"))
    view = find(window, "ratingGrid")
    fm = view.horizontalHeader().fontMetrics()
    j = list(window.grid_model.items).index("The Long Night")
    assert view.columnWidth(j) >= fm.horizontalAdvance("The Long Night")


def test_the_rating_scale_can_be_set_and_undone(window):
    lo, hi = find(window, "scaleMin"), find(window, "scaleMax")
    assert (lo.value(), hi.value()) == (1.0, 5.0)
    hi.setValue(10.0)
    hi.editingFinished.emit()
    assert window.grid_model.scale == (1.0, 10.0) and window.current_session().ratings.scale == (1.0, 10.0)
    window.grid.action_undo.trigger()
    assert window.grid_model.scale == (1.0, 5.0) and hi.value() == 5.0
    lo.setValue(7.0)
    lo.editingFinished.emit()  # above the highest: refused, and the box shows the scale again
    assert window.grid_model.scale == (1.0, 5.0) and lo.value() == 1.0
    assert "must be below" in window.statusBar().currentMessage()


def test_the_chart_compares_two_solvers_at_1000x700(window, qtbot):
    from tests.gui.views.test_plot import drawn_tick_labels

    window.resize(1000, 700)
    train(qtbot, window)  # sgd: 10,000 steps
    box = find(window, "solverChooser")
    box.setCurrentIndex(box.findData("als"))
    train(qtbot, window)  # als: 50 steps
    plot = window.plot
    assert plot.run_labels() == ["sgd α=0.0002", "als"]
    for name in ("xAxis", "logX", "logScale", "clearRunsButton", "saveFigureButton", "lossCanvas", "continueButton"):
        w = find(window, name)
        rect = QRect(w.mapTo(window, w.rect().topLeft()), w.size())
        assert w.isVisible() and window.rect().contains(rect), f"{name} at {rect} is not inside the window"
    find(window, "logX").setChecked(True)  # als's 50 steps get room beside sgd's 10,000
    plot.flush()
    c = plot.canvas
    c.draw()
    renderer = c.get_renderer()
    legend = c.figure.legends[0].get_window_extent(renderer)
    for ax in (c.ax_obj, c.ax_rmse):
        assert not legend.overlaps(ax.get_window_extent(renderer))
        for axis in (ax.xaxis, ax.yaxis):
            labels = drawn_tick_labels(axis)
            assert len(labels) >= 2, [t.get_text() for t in labels]
            for t in [*labels, axis.label]:
                b = t.get_window_extent(renderer)
                assert c.figure.bbox.x0 <= b.x0 and b.x1 <= c.figure.bbox.x1, f"{t.get_text()!r} clipped"
    lo, hi = c.ax_obj.get_xlim()
    assert lo <= 1 and hi >= 10_000


def test_opening_a_file_resets_the_chart_and_the_grids_scroll(window, qtbot, tmp_path):
    window.load_ratings(synthetic_ratings(60, 80, density=0.3), title="big")
    find(window, "param_steps").setValue(5)
    train(qtbot, window)
    train(qtbot, window)
    window.plot.clear_runs()
    g = window.grid
    g.verticalScrollBar().setValue(g.verticalScrollBar().maximum())
    g.horizontalScrollBar().setValue(g.horizontalScrollBar().maximum())
    assert g.verticalScrollBar().value() > 0 and g.horizontalScrollBar().value() > 0
    path = tmp_path / "other.csv"
    other = synthetic_ratings(70, 90, density=0.3, seed=2)
    rows = [f"u{i},i{j},{v}" for i, j, v in zip(other.observed.rows, other.observed.cols, other.observed.vals)]
    path.write_text("user,item,rating\n" + "\n".join(rows) + "\n", encoding="utf-8")
    assert window.open_path(path)
    assert window.plot.run_count == 0 and not window.plot.can_undo_clear
    assert not window.action_undo_clear_runs.isEnabled()
    assert g.verticalScrollBar().value() == 0 and g.horizontalScrollBar().value() == 0
    assert g.verticalScrollBar().maximum() > 0  # there is something to scroll: the reset is real


def test_clear_runs_is_undone_from_the_training_menu(window, qtbot):
    find(window, "param_steps").setValue(20)
    train(qtbot, window)
    train(qtbot, window)
    assert not window.action_undo_clear_runs.isEnabled()
    window.plot.clear_runs()
    assert window.plot.run_count == 1 and window.action_undo_clear_runs.isEnabled()
    assert "Undo clear" in window.statusBar().currentMessage()
    window.action_undo_clear_runs.trigger()
    assert window.plot.run_count == 2 and not window.action_undo_clear_runs.isEnabled()


def test_a_folded_latent_map_is_not_drawn_and_is_laid_out_again_when_the_window_widens(window, qtbot):
    import warnings

    canvas = find(window, "latentMap")
    window.resize(1000, 700)  # narrow: the map folds away beside the loss curve
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        train(qtbot, window)
        qtbot.wait(300)
        assert canvas.visibleRegion().isEmpty()
        canvas.draw()  # a folded map is not drawn: no layout solved for a sliver
    assert not [w for w in caught if "collapsed" in str(w.message)]
    window.resize(1600, 900)

    def laid_out() -> bool:
        x0, y0, w, h = canvas.ax.get_position().bounds
        return 0 <= x0 and x0 + w <= 1 and 0 <= y0 and y0 + h <= 1 and w > 0.5 and h > 0.5

    qtbot.waitUntil(lambda: not canvas.visibleRegion().isEmpty() and laid_out(), timeout=5000)
    assert canvas.width() > 300
