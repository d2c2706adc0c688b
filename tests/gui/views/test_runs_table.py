"""The runs table: every run with its numbers, sorted by value, showing and hiding curves, renamed (the
legend follows), deleted and brought back, exported as CSV, its parameters used again, and kept by a saved
session."""

from __future__ import annotations

import csv
import math

import pytest
from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtWidgets import QFileDialog, QLineEdit

from mfstudio.core import RunResult, Training, load_example
from mfstudio.core.runs import RunRecord
from mfstudio.gui.controls import ControlPanel
from mfstudio.gui.runs import RunList
from mfstudio.gui.views.plot import LossPlot
from mfstudio.gui.views.runs_table import NAME_MAX_PX, RunsTable

CHECK = Qt.ItemDataRole.CheckStateRole


def run(runs: RunList, solver: str, params: dict, holdout: float | None = None, patience: int | None = None):
    t = Training(load_example("movie-night"), solver, params, holdout=holdout, patience=patience)
    snap = t.run_to_end()
    record = runs.begin(solver, t.params, holdout=holdout or 0.0, patience=patience)
    runs.finish(RunRecord.from_result(RunResult.from_snapshot(solver, t.params, snap, t.history), snap,
                                      holdout=holdout or 0.0, patience=patience))
    return record


@pytest.fixture
def setup(qtbot, tmp_path):
    runs = RunList()
    plot = LossPlot(runs=runs)
    controls = ControlPanel()
    table = RunsTable(runs, controls, lambda: str(tmp_path))
    for w in (plot, controls, table):
        qtbot.addWidget(w)
    plot.resize(700, 320)
    table.resize(900, 300)
    table.show()
    records = [run(runs, "sgd", {"K": 2, "steps": 500, "alpha": 0.01}),
               run(runs, "als", {"K": 2, "steps": 5}),
               run(runs, "sgd", {"K": 4, "steps": 20_000, "alpha": 0.02, "beta": 0.0, "tol": 0.0}, 0.2, 20)]
    yield runs, plot, table, controls, records
    plot.stop_timers()


def column(table: RunsTable, key: str) -> int:
    return table.model.column(key)


def shown(table: RunsTable, key: str) -> list[str]:
    """The column's texts, top to bottom, as the (sorted) view shows them."""
    p = table.proxy
    return [p.index(row, column(table, key)).data() for row in range(p.rowCount())]


def select(table: RunsTable, *rows: int) -> None:
    sel = table.table.selectionModel()
    sel.clearSelection()
    for row in rows:
        sel.select(table.proxy.index(row, 0), QItemSelectionModel.SelectionFlag.Select |
                   QItemSelectionModel.SelectionFlag.Rows)


def test_every_run_is_a_row_with_fixed_decimals_and_why_it_stopped(setup):
    runs, _plot, table, _controls, records = setup
    assert table.table.objectName() == "runsTable" and table.model.rowCount() == 3
    heads = [table.model.headerData(c, Qt.Orientation.Horizontal) for c in range(table.model.columnCount())]
    assert heads == ["Show", "Run", "Solver", "Steps", "Seconds", "Stopped", "Train RMSE", "Val RMSE", "Train MAE",
                     "Val MAE", "Best step", "Precision@10", "Recall@10", "NDCG@10", "MAP@10", "Hold-out", "Patience",
                     "Parameters"]
    early = records[2]
    assert early.early_stopped
    assert shown(table, "reason") == ["step budget", "step budget",
                                      f"early stop at {early.steps_done:,}, best {early.best_step:,}"]
    assert shown(table, "steps") == ["500", "5", f"{early.steps_done:,}"]
    assert shown(table, "best_step") == ["—", "—", f"{early.best_step:,}"]
    assert early.steps_done == early.best_step + 20  # the steps run: `patience` past the best
    tip = table.proxy.index(2, column(table, "reason")).data(Qt.ItemDataRole.ToolTipRole)
    assert tip == (f"Early stop at step {early.steps_done:,}, best step {early.best_step:,}: validation RMSE had not "
                   f"improved for 20 steps; the factors of step {early.best_step:,} are kept.")
    rmse = shown(table, "train_rmse")
    assert all(len(t.split(".")[1]) == 4 for t in rmse) and rmse[0] == f"{records[0].metrics['train_rmse']:.4f}"
    assert shown(table, "val_rmse")[:2] == ["—", "—"] and shown(table, "holdout") == ["none", "none", "20%"]
    assert shown(table, "patience") == ["off", "off", "20"]
    assert shown(table, "params")[1] == "K=2 β=0.02 steps=5 tol=0.001 CG steps=3 seed=0"
    assert shown(table, "name") == runs.labels()


def test_a_long_name_gets_the_room_it_needs_up_to_a_maximum_and_the_full_name_in_its_tooltip(setup):
    runs, _plot, table, _controls, records = setup
    h, col = table.table.horizontalHeader(), column(table, "name")
    runs.rename(records[0], "biased SGD with K = 20 and a small β")  # wider than the old 170 px, under the maximum
    table._fit_columns()
    wide = h.sectionSize(col)
    assert 170 < wide <= NAME_MAX_PX
    text_width = table.table.fontMetrics().horizontalAdvance(runs.label(records[0]))
    assert wide >= text_width  # the whole name shows
    runs.rename(records[0], "a run named at great length " * 6)
    table._fit_columns()
    assert h.sectionSize(col) == NAME_MAX_PX
    tip = table.proxy.index(0, col).data(Qt.ItemDataRole.ToolTipRole)
    assert tip == runs.label(records[0]) == ("a run named at great length " * 6).strip()


def test_sorting_is_by_value_with_missing_values_last(setup):
    _runs, _plot, table, _controls, records = setup
    table.table.sortByColumn(column(table, "steps"), Qt.SortOrder.AscendingOrder)
    steps = [r.steps_done for r in records]
    assert shown(table, "steps") == [f"{s:,}" for s in sorted(steps)]  # 5 < 500 < 21 ..., not as text
    table.table.sortByColumn(column(table, "val_rmse"), Qt.SortOrder.AscendingOrder)
    assert shown(table, "val_rmse")[0] != "—" and shown(table, "val_rmse")[1:] == ["—", "—"]
    table.table.sortByColumn(column(table, "solver"), Qt.SortOrder.DescendingOrder)
    assert shown(table, "solver") == ["sgd", "sgd", "als"]


def test_the_check_box_hides_and_shows_a_runs_curves(setup):
    runs, plot, table, _controls, records = setup
    for record, name in zip(records, "abc"):  # short names: the legend names all three
        runs.rename(record, name)
    assert [t.get_text() for t in plot.canvas.figure.legends[0].get_texts()][:3] == ["a", "b", "c"]
    first = plot._runs[0]
    assert first.train.get_visible()
    index = table.proxy.index(0, column(table, "show"))
    assert index.data(CHECK) == Qt.CheckState.Checked
    assert table.proxy.setData(index, Qt.CheckState.Unchecked.value, CHECK)
    assert not records[0].visible and not first.train.get_visible() and not first.val.get_visible()
    legend = [t.get_text() for t in plot.canvas.figure.legends[0].get_texts()]
    assert legend[:2] == ["b", "c"] and "a" not in legend
    table.proxy.setData(index, Qt.CheckState.Checked.value, CHECK)
    assert records[0].visible and first.train.get_visible()


def test_renaming_a_run_renames_it_on_the_legend_and_undo_takes_it_back(setup, qtbot):
    runs, plot, table, _controls, records = setup
    index = table.proxy.index(1, column(table, "name"))
    table.table.setCurrentIndex(index)
    table.table.edit(index)
    editor = table.table.viewport().findChild(QLineEdit)
    assert editor.text() == runs.label(records[1])  # the label to edit from
    qtbot.keyClick(editor, Qt.Key.Key_Backspace)  # edits the name (all selected), deletes no run
    assert len(runs) == 3 and editor.text() == ""
    qtbot.keyClicks(editor, "ALS baseline")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: table.table.state() != table.table.State.EditingState, timeout=2000)
    assert records[1].name == "ALS baseline" and shown(table, "name")[1] == "ALS baseline"
    assert plot.run_labels()[1] == "ALS baseline"
    runs.rename(records[0], "first")
    runs.rename(records[2], "early")
    assert [t.get_text() for t in plot.canvas.figure.legends[0].get_texts()][:3] == [
        "first", "ALS baseline", "early"]
    runs.undo_stack.undo()
    runs.undo_stack.undo()
    qtbot.keyClick(table.table, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert records[1].name == "" and plot.run_labels()[1] == runs.label(records[1]) != "ALS baseline"


def test_delete_removes_the_selected_runs_and_ctrl_z_brings_them_back(setup, qtbot):
    runs, plot, table, _controls, records = setup
    said = []
    table.statusMessage.connect(said.append)
    assert not table.delete_button.isEnabled() and table.delete_button.objectName() == "deleteRunsButton"
    select(table, 0, 2)
    assert table.delete_button.isEnabled()
    table.table.setFocus()
    qtbot.keyClick(table.table, Qt.Key.Key_Delete)
    assert runs.records == [records[1]] and table.model.rowCount() == 1 and plot.run_count == 1
    assert said[-1] == "Deleted 2 runs; Ctrl+Z (or Undo) brings them back."
    assert table.undo_button.isEnabled() and "delete 2 runs" in table.undo_button.toolTip()
    qtbot.keyClick(table.table, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert runs.records == records and table.model.rowCount() == 3 and plot.run_count == 3
    assert plot._runs[0].train in plot.canvas.ax_rmse.lines
    select(table, 1)
    table.delete_button.click()
    assert runs.records == [records[0], records[2]]
    table.undo_button.click()
    assert runs.records == records


def test_export_csv_writes_a_row_per_run_with_every_column(setup, tmp_path, monkeypatch):
    runs, _plot, table, _controls, records = setup
    assert table.export_button.objectName() == "exportRunsButton"
    runs.rename(records[0], "=SUM(A1)")
    target = tmp_path / "mine"
    asked = []
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        lambda parent, title, start, filt: (asked.append(start) or str(target), filt))
    table.export_button.click()
    assert asked == [str(tmp_path / "runs.csv")]
    rows = list(csv.DictReader((tmp_path / "mine.csv").open(encoding="utf-8")))
    assert [r["name"] for r in rows] == ["'=SUM(A1)", runs.label(records[1]), runs.label(records[2])]
    assert [r["stop_reason"] for r in rows] == ["budget", "budget", "early-stop"]
    assert rows[2]["best_val_step"] == str(records[2].best_step) and rows[2]["patience"] == "20"
    assert math.isclose(float(rows[2]["val_rmse"]), records[2].metrics["val_rmse"], rel_tol=1e-5)
    assert rows[0]["val_rmse"] == "" and rows[1]["alpha"] == "" and rows[0]["alpha"] == "0.01"


def test_use_these_parameters_sets_the_solver_parameters_and_patience_in_the_controls(setup):
    _runs, _plot, table, controls, records = setup
    b = table.use_button
    assert b.objectName() == "useRunParametersButton" and not b.isEnabled()  # one run must be selected
    select(table, 1)
    assert b.isEnabled()
    b.click()
    assert controls.solver() == "als" and controls.params()["steps"] == 5 and controls.patience() is None
    select(table, 2)
    b.click()
    p = controls.params()
    assert controls.solver() == "sgd" and (p["K"], p["alpha"], p["beta"], p["steps"]) == (4, 0.02, 0.0, 20_000)
    assert controls.patience() == 20
    select(table, 0, 1)
    assert not b.isEnabled()


def test_the_runs_table_survives_save_and_reload(window, qtbot, tmp_path):
    from mfstudio import io as mio

    def train(**params):
        window.controls.set_params(params)
        with qtbot.waitSignal(window.trainingFinished, timeout=20_000):
            window.train()

    window.document.open_example("movie-night")
    train(steps=300)
    window.controls.set_holdout(0.2)
    window.controls.set_patience(5)
    train(steps=20_000, K=4, alpha=0.02, beta=0.0, tol=0.0)
    table = window.runs_table
    runs = window.document.runs
    first, second = runs.records
    runs.rename(first, "plain sgd")
    table.proxy.setData(table.proxy.index(0, column(table, "show")), Qt.CheckState.Unchecked.value, CHECK)
    assert window.isWindowModified()  # a rename is a change Save keeps
    before = [[table.proxy.index(r, c).data() for c in range(table.proxy.columnCount())] for r in range(2)]
    path = tmp_path / "runs.mfstudio"
    mio.save_session(path, window.current_session())
    window.document.new_grid(3, 3)
    assert table.model.rowCount() == 0
    assert window.open_path(path)
    assert table.model.rowCount() == 2
    after = [[table.proxy.index(r, c).data() for c in range(table.proxy.columnCount())] for r in range(2)]
    assert after == before
    back = runs.records
    assert [r.name for r in back] == ["plain sgd", ""] and [r.visible for r in back] == [False, True]
    assert back[1].reason == "early-stop" and back[1].metrics == second.metrics and back[1].patience == 5
    assert not window.plot._runs[0].train.get_visible() and window.plot.run_labels()[0] == "plain sgd"
    assert window.plot.best_step_marked(back[1]) is not None


def test_implicit_runs_name_their_error_a_preference_error(qtbot, tmp_path):
    runs = RunList()
    controls = ControlPanel()
    table = RunsTable(runs, controls, lambda: str(tmp_path))
    for w in (controls, table):
        qtbot.addWidget(w)

    def heads() -> list[str]:
        return [table.model.headerData(column(table, k), Qt.Orientation.Horizontal) for k in ("train_rmse", "val_rmse")]

    t = Training(load_example("listening"), "implicit-als", {"K": 2, "steps": 2}, holdout=0.2)
    snap = t.run_to_end()
    runs.begin("implicit-als", t.params, holdout=0.2)
    runs.finish(RunRecord.from_result(RunResult.from_snapshot("implicit-als", t.params, snap, t.history), snap,
                                      holdout=0.2))
    assert heads() == ["Training preference error", "Validation preference error"]
    maes = [table.model.headerData(column(table, k), Qt.Orientation.Horizontal) for k in ("train_mae", "val_mae")]
    assert maes == ["Training preference MAE", "Validation preference MAE"]
    assert "precision@k" in table.model.headerData(column(table, "best_step"), Qt.Orientation.Horizontal,
                                                   Qt.ItemDataRole.ToolTipRole)
    tip = table.model.index(0, column(table, "val_mae")).data(Qt.ItemDataRole.ToolTipRole)
    assert tip.startswith("Validation preference MAE: ")
    tip = table.model.index(0, column(table, "train_rmse")).data(Qt.ItemDataRole.ToolTipRole)
    assert tip.startswith("Training preference error: ")
    run(runs, "als", {"K": 2, "steps": 5})  # a mixed table: the headers are the ratings', each row says its own
    assert heads() == ["Train RMSE", "Val RMSE"]
    assert table.model.headerData(column(table, "val_mae"), Qt.Orientation.Horizontal) == "Val MAE"
    assert "implicit-als" in table.model.headerData(column(table, "train_rmse"), Qt.Orientation.Horizontal,
                                                    Qt.ItemDataRole.ToolTipRole)
    tips = [table.model.index(row, column(table, "train_rmse")).data(Qt.ItemDataRole.ToolTipRole) for row in (0, 1)]
    assert tips[0].startswith("Training preference error: ") and tips[1].startswith("Train RMSE: ")
