"""The session's shared run list: runs begin and finish, take names and colours, are deleted and renamed
undoably (Clear runs too), refuse to delete the going run, and are replaced by a session's runs."""

from __future__ import annotations

import numpy as np
import pytest

from mfstudio.core import RunResult, Training, load_example
from mfstudio.core.runs import RunRecord
from mfstudio.gui.runs import COLOURS, RunList


def outcome(steps: int = 20, **params) -> RunRecord:
    t = Training(load_example("example-1"), "sgd", {"steps": steps, **params})
    snap = t.run_to_end()
    return RunRecord.from_result(RunResult.from_snapshot("sgd", t.params, snap, t.history), snap)


@pytest.fixture
def runs(qtbot):
    return RunList()


def add(runs: RunList, **params) -> RunRecord:
    record = runs.begin("sgd", {"K": 2, **params})
    runs.finish(outcome(**params))
    return record


def test_a_run_begins_current_and_takes_its_outcome(runs):
    added, changed = [], []
    runs.added.connect(added.append)
    runs.changed.connect(changed.append)
    record = runs.begin("sgd", {"K": 2, "alpha": 0.001}, holdout=0.25, patience=4, top_n=3)
    assert added == [record] and runs.current is record and not record.finished
    runs.start_live(100)
    assert runs.live is record and runs.saved() == []  # the going run is not saved yet
    runs.set_history(np.array([[1, 2.0, 1.0, 0.9, np.nan, np.nan, 0.01]]))
    assert record.steps_done == 1
    runs.finish(outcome(alpha=0.001))
    runs.end_live()
    assert changed == [record] and record.finished and record.steps_done == 20 and runs.live is None
    saved = runs.saved()
    assert len(saved) == 1 and saved[0] is not record and saved[0].params == record.params


def test_labels_tell_runs_apart_a_name_wins_and_colours_go_in_turn(runs):
    a, b = add(runs, alpha=0.001), add(runs, alpha=0.002)
    assert runs.labels() == ["sgd α=0.001", "sgd α=0.002"] and runs.common_text() == "K=2 β=0.02"
    assert (runs.colour(a), runs.colour(b)) == COLOURS[:2]
    assert runs.rename(a, "  my   first ")
    assert runs.labels() == ["my first", "sgd α=0.002"] and a.name == "my first"
    runs.undo_stack.undo()
    assert a.name == "" and runs.label(a) == "sgd α=0.001"
    runs.undo_stack.redo()
    assert runs.label(a) == "my first"
    said = []
    runs.statusMessage.connect(said.append)
    assert not runs.rename(a, "x" * 201) and a.name == "my first"
    assert said == ["A run's name may be at most 200 characters; this one has 201, so the name stays 'my first'."]


def test_deleting_is_undone_in_place_and_the_going_run_is_refused(runs):
    a, b, c = add(runs, alpha=0.001), add(runs, alpha=0.002), add(runs, alpha=0.003)
    edited = []
    runs.edited.connect(lambda: edited.append(1))
    assert runs.remove([b]) == 1 and runs.records == [a, c] and edited
    assert runs.undo_stack.undoText() == "Delete 1 run"
    runs.undo_stack.undo()
    assert runs.records == [a, b, c]
    assert runs.remove([a, c]) == 2 and runs.records == [b] and runs.current is None
    runs.undo_stack.undo()
    assert runs.records == [a, b, c] and runs.current is c  # the current run is current again
    live = runs.begin("sgd", {"K": 2})
    runs.start_live(10)
    said = []
    runs.statusMessage.connect(said.append)
    assert runs.remove([a, live]) == 0 and runs.records == [a, b, c, live]
    assert said == ["The run in progress cannot be deleted; stop it first (the others can)."]


def test_clear_runs_keeps_the_current_and_is_undone_by_undo_clear(runs):
    a, b, c = add(runs, alpha=0.001), add(runs, alpha=0.002), add(runs, alpha=0.003)
    assert not runs.can_undo_clear
    assert runs.clear_earlier() == 2 and runs.records == [c] and runs.can_undo_clear
    d = add(runs, alpha=0.004)  # a run after the clear: undo puts the cleared ones back where they were
    assert runs.undo_clear() == 2 and runs.records == [a, b, c, d] and not runs.can_undo_clear
    runs.remove([d])
    assert not runs.can_undo_clear and runs.undo_clear() == 0  # the last change is a delete, not a clear


def test_clear_and_load_leave_nothing_to_undo(runs):
    a, _b = add(runs), add(runs, K=3)
    runs.remove([a])
    cleared = []
    runs.cleared.connect(lambda: cleared.append(1))
    runs.clear()
    assert cleared and len(runs) == 0 and runs.current is None and not runs.undo_stack.canUndo()
    loaded = [outcome(), outcome(alpha=0.001)]
    loaded[0].name = "kept"
    runs.load(loaded)  # no result shown with them: none is current
    assert [r.name for r in runs.records] == ["kept", ""] and runs.current is None
    assert runs.records[0] is not loaded[0]  # the list's own copies
    runs.begin("sgd", {"K": 2})  # as an opened result's run is begun before the session's runs replace it
    runs.load(loaded)
    assert runs.current is runs.records[-1] and not runs.undo_stack.canUndo()


def test_an_early_stopped_run_and_continue_after_it_in_the_window(qtbot, window):
    """The window's run keeps every step run and names its best step; Continue goes on from the kept factors at
    the best step, makes the steps after it again (the same) and stops at the same step: one row a step."""
    window.open_example("movie-night")
    window.controls.set_holdout(0.2)
    qtbot.waitUntil(lambda: len(window.document.grid_held_out_cells()) > 0)
    window.controls.set_params({"K": 4, "steps": 20_000, "alpha": 0.02, "beta": 0.0, "tol": 0.0})
    window.controls.set_patience(20)
    with qtbot.waitSignal(window.trainingFinished, timeout=30_000):
        window.train()
    first = window.result
    h = first.history.arrays()
    assert first.reason == "early-stop" and first.steps_done == first.best_step + 20 == int(h[-1, 0])
    assert window.statusBar().currentMessage() == (f"Finished: early stop at step {first.steps_done:,}, best step "
                                                   f"{first.best_step:,}.")
    with qtbot.waitSignal(window.trainingFinished, timeout=30_000):
        window.commands.continue_training()
    again = window.result
    h2 = again.history.arrays()
    assert np.array_equal(h2[:, 0], np.arange(1, again.steps_done + 1))  # no step twice, none missing
    assert (again.steps_done, again.best_step) == (first.steps_done, first.best_step)
    assert np.array_equal(h2[:, :5], h[:, :5])  # the steps after the best, made again, came out the same
    record = window.document.runs.saved()[-1]
    assert (record.steps_done, record.best_step, record.reason) == (again.steps_done, again.best_step, "early-stop")
