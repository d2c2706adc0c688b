"""The control panel's run parameters: the hold-out box and the patience box are built from their
declarations (mfstudio.core.params), read and set as the Session holds them, and kept on a solver switch."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from mfstudio.core.params import HOLDOUT, PATIENCE
from mfstudio.gui.controls import ControlPanel


@pytest.fixture
def panel(qtbot) -> ControlPanel:
    p = ControlPanel()
    qtbot.addWidget(p)
    return p


def test_the_hold_out_box_takes_its_range_from_the_declaration(panel):
    box = panel.holdout_box
    assert box.objectName() == "holdoutFraction" and box.accessibleName() == HOLDOUT.label
    assert (box.minimum(), box.maximum()) == (0, 99)  # whole per cent below 100: the share is below 1
    assert "Allowed: from 0 % up to 99 %" in box.toolTip()
    panel.set_holdout(0.25)
    assert panel.holdout() == 0.25 and box.text() == "25 %"


def test_the_patience_box_is_off_by_default_and_round_trips(panel):
    box = panel.patience_box
    assert box.objectName() == "patience" and box.accessibleName() == PATIENCE.label
    assert "Patience: with a hold-out" in box.toolTip() and "Default: Off" in box.toolTip()
    assert panel.patience() is None and box.text() == "Off"
    for p in (3, 1, None, 1_000_000_000):
        panel.set_patience(p)
        assert panel.patience() == p
    panel.set_patience(5_000_000_000)  # longer than any run: the longest the box holds
    assert panel.patience() == 1_000_000_000
    panel.set_patience(3)
    assert box.text() == "3"


def test_typing_off_or_a_number_into_the_patience_box(panel, qtbot):
    panel.set_holdout(0.2)  # the box is on offer with a hold-out only
    box = panel.patience_box
    for typed, want in (("12", 12), ("Off", None)):
        box.lineEdit().selectAll()
        qtbot.keyClicks(box.lineEdit(), typed)
        qtbot.keyClick(box, Qt.Key.Key_Enter)
        assert panel.patience() == want, typed


def test_patience_and_hold_out_are_kept_when_the_solver_changes_and_locked_while_running(panel):
    panel.set_patience(7)
    panel.set_holdout(0.2)
    changed = []
    panel.paramsChanged.connect(lambda: changed.append(1))
    panel.solver_box.setCurrentIndex(panel.solver_box.findData("als"))
    assert (panel.solver(), panel.patience(), panel.holdout()) == ("als", 7, 0.2)
    panel.set_running(True)
    assert not panel.patience_box.isEnabled() and not panel.holdout_box.isEnabled()
    panel.set_running(False)
    assert panel.patience_box.isEnabled()
    panel.patience_box.setValue(9)
    assert changed  # a change of patience is a change of the settings, like the hold-out's


def test_the_panel_has_no_signal_nobody_listens_to(panel):
    assert not hasattr(panel, "solverChanged")
    assert not hasattr(panel, "holdout_fraction") and not hasattr(panel, "set_holdout_fraction")


def test_a_patience_out_of_range_is_refused_with_the_range(panel, qtbot):
    said = []
    panel.statusMessage.connect(said.append)
    panel.set_holdout(0.2)
    box = panel.patience_box
    box.lineEdit().selectAll()
    qtbot.keyClicks(box.lineEdit(), "-1")
    qtbot.keyClick(box, Qt.Key.Key_Enter)
    assert panel.patience() is None
    assert said[-1] == "Patience must be a whole number from 1 to 1,000,000,000, or off; it stays Off."


def test_the_patience_box_is_on_offer_only_with_a_hold_out_and_says_why_not(panel):
    box = panel.patience_box
    assert not box.isEnabled() and "set a hold-out share above 0 %" in box.toolTip()  # off by default, no hold-out
    panel.set_patience(3)  # a session's patience is kept while there is nothing to watch
    panel.set_holdout(0.25)
    assert box.isEnabled() and "set a hold-out share" not in box.toolTip() and panel.patience() == 3
    panel.set_holdout(0)
    assert not box.isEnabled() and panel.patience() == 3
    panel.set_cells_held_out(True)  # cells held out by hand in the grid count too
    assert box.isEnabled()
    panel.set_running(True)
    assert not box.isEnabled()
    panel.set_running(False)
    assert box.isEnabled()
    panel.set_cells_held_out(False)
    assert not box.isEnabled()


def test_the_relevance_box_is_auto_by_default_takes_numbers_and_the_word(panel, qtbot):
    from mfstudio.core.params import RELEVANCE

    box = panel.relevance_box
    assert box.objectName() == "relevanceThreshold" and box.accessibleName() == RELEVANCE.label == "Relevant from"
    assert panel.relevance() is None and box.text() == "Auto"
    tip = box.toolTip()
    assert "Default: Auto" in tip and "precision@k = hits / k" in tip and "min(k, relevant)" in tip
    assert "skipped" in tip and "held-out items included" in tip
    for value in (3.5, -2.0, 1_000_000.0, None):
        panel.set_relevance(value)
        assert panel.relevance() == value
    box.stepBy(1)  # up from Auto: 4, the automatic value on 1 to 5
    assert panel.relevance() == 4.0
    panel.set_cells_held_out(True)  # typing needs the box enabled
    box.stepBy(2)
    assert panel.relevance() == 5.0
    box.lineEdit().selectAll()
    qtbot.keyClicks(box.lineEdit(), "auto")
    box.interpretText()
    assert panel.relevance() is None
    box.lineEdit().selectAll()
    qtbot.keyClicks(box.lineEdit(), "3")
    box.interpretText()
    assert panel.relevance() == 3.0
    panel.set_relevance(RELEVANCE.minimum)
    box.stepBy(-1)  # below the range: Auto again
    assert panel.relevance() is None


def test_the_relevance_box_needs_ratings_held_out_and_no_run(panel):
    box = panel.relevance_box
    assert not box.isEnabled()  # nothing held out yet
    panel.set_cells_held_out(True)
    assert box.isEnabled()
    panel.set_running(True)
    assert not box.isEnabled()
    panel.set_running(False)
    assert box.isEnabled()
    panel.set_cells_held_out(False)
    assert not box.isEnabled()
    assert box in panel.tab_chain()


def test_als_cg_steps_box_shows_exact_below_one_and_is_remembered(panel, qtbot, tmp_path):
    from PySide6.QtCore import QSettings

    from mfstudio.gui.settings import Settings

    panel.solver_box.setCurrentIndex(panel.solver_box.findData("als"))
    box = panel.param_widgets["cg_steps"]
    assert box.objectName() == "param_cg_steps" and box.text() == "3" and panel.params()["cg_steps"] == 3
    assert "Allowed: from 1 up to 1,000, or exact. Default: 3." in box.toolTip()
    box.lineEdit().selectAll()
    qtbot.keyClicks(box.lineEdit(), "exact")
    qtbot.keyClick(box, Qt.Key.Key_Enter)
    assert box.text() == "Exact" and panel.params()["cg_steps"] is None
    settings = Settings(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    panel.store_to(settings)
    panel.solver_box.setCurrentIndex(panel.solver_box.findData("sgd"))
    panel.solver_box.setCurrentIndex(panel.solver_box.findData("als"))  # its own values come back
    assert panel.params()["cg_steps"] is None
    other = ControlPanel()
    qtbot.addWidget(other)
    other.restore_from(settings)
    other.set_solver("als", settings.solver_params("als"))
    assert other.params()["cg_steps"] is None and other.param_widgets["cg_steps"].text() == "Exact"
    panel.set_params({"cg_steps": 5})
    assert panel.param_widgets["cg_steps"].text() == "5" and panel.params()["cg_steps"] == 5
