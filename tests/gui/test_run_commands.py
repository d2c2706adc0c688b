"""The run's commands (gui/run_commands.py): one request per command, buttons in step with the run."""

from __future__ import annotations

from PySide6.QtCore import Qt

from mfstudio.gui.run_commands import RunCommands


def test_the_window_lends_the_commands_and_the_buttons_call_them(window, qtbot):
    c = window.commands
    assert isinstance(c, RunCommands)
    assert window.train == c.train and window.stop == c.stop and window.request == c.request
    calls = []
    window.experiment.train = lambda request: calls.append(request)  # what Train hands over
    qtbot.mouseClick(window.controls.train_button, Qt.MouseButton.LeftButton)
    assert len(calls) == 1
    request = calls[0]
    assert request.solver == window.controls.solver()
    assert dict(request.params) == {**dict(request.params), **window.controls.shown_params()}


def test_a_grid_without_ratings_is_one_warning_and_nothing_starts(window, qtbot, monkeypatch):
    warned = []
    monkeypatch.setattr(window.document, "warn", lambda title, text: warned.append((title, text)))
    window.new_grid(3, 3)  # no ratings to train on
    window.train()
    assert not window.running
    assert len(warned) == 1 and warned[0][0] == "Cannot start training" and warned[0][1].endswith(".")


def test_buttons_follow_the_run_and_finished_comes_after_them(window, qtbot):
    window.controls.set_params({"steps": 10**9})
    seen = []
    window.trainingFinished.connect(lambda reason: seen.append((reason, window.controls.train_button.isEnabled())))
    window.train()
    assert window.running
    assert not window.action_train.isEnabled() and window.action_stop.isEnabled()
    assert not window.controls.train_button.isEnabled()
    with qtbot.waitSignal(window.trainingFinished, timeout=10_000):
        window.stop()
    assert seen == [("cancelled", True)]  # the buttons were back when the signal came
    assert window.action_train.isEnabled() and not window.action_stop.isEnabled()
