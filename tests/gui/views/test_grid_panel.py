"""The ratings side: the line under the grid, the "0 means not rated" switch, the scale boxes (a minimum not
below the maximum is refused and the boxes put back) and the lock while a run goes."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from mfstudio.core import Ratings, Session, load_example
from mfstudio.gui.views.grid_panel import GridPanel
from tests.gui.conftest import synthetic_ratings
from tests.gui.test_document import Desk, make_desk


@pytest.fixture
def desk(qtbot):
    d = make_desk(qtbot)
    yield d
    d.close()


@pytest.fixture
def panel(qtbot, desk) -> GridPanel:
    p = GridPanel(desk.grid_model, desk.document)
    qtbot.addWidget(p)
    desk.document.load_ratings(load_example("example-1"), title="Example 1")  # as a window's first document
    return p


def type_into(qtbot, box, text: str) -> None:
    box.setFocus()
    box.lineEdit().selectAll()
    qtbot.keyClicks(box.lineEdit(), text)
    qtbot.keyClick(box, Qt.Key.Key_Return)


def grid_messages(panel: GridPanel) -> list[str]:
    seen: list[str] = []
    panel.grid.statusMessage.connect(seen.append)
    return seen


# -- the info line ----------------------------------------------------------------------------------
def test_the_info_line_says_what_the_grid_holds(panel):
    assert panel.info.text() == "4 users × 4 items · 9 ratings (56% filled)"


def test_the_info_line_follows_edits(desk, panel):
    desk.grid_model.clear_cells([(0, 1)])
    assert panel.info.text() == "4 users × 4 items · 8 ratings (50% filled)"
    desk.grid_model.undo_stack.undo()
    assert panel.info.text().startswith("4 users × 4 items · 9 ratings")


def test_the_info_line_counts_held_out_cells_and_warns_of_users_left_without_training(desk, panel):
    desk.grid_model.set_held_out([(2, 1), (2, 3)], True)  # both of User 3's ratings
    assert panel.info.text() == ("4 users × 4 items · 9 ratings (56% filled) · 2 held out · 1 user has every "
                                 "rating held out (predicted from the mean and the known biases)")


def test_the_info_line_counts_ratings_outside_the_scale(desk, panel):
    desk.edit(0, 0, "7")
    assert panel.info.text().endswith(" · 1 outside the scale (red)")


# -- "0 means not rated" -------------------------------------------------------------------------------
def test_the_zero_rule_switch_changes_the_grids_rule_as_one_undo_step(qtbot, desk, panel):
    m = desk.grid_model
    assert panel.zero_rule.isChecked() is m.zeros_are_missing is True
    count = m.undo_stack.count()
    panel.zero_rule.click()
    assert not m.zeros_are_missing and m.undo_stack.count() == count + 1
    m.undo_stack.undo()
    assert m.zeros_are_missing and panel.zero_rule.isChecked()  # the switch follows the grid


def test_the_zero_rule_switch_shows_an_opened_sessions_rule(desk, panel):
    desk.document.load_session(Session(ratings=Ratings.from_dense([[0, 3], [4, 1]], zeros_are_missing=False),
                                       zeros_are_missing=False))
    assert not panel.zero_rule.isChecked() and not desk.grid_model.zeros_are_missing


def test_the_zero_rule_switch_goes_back_when_the_grid_is_locked(desk, panel):
    desk.grid_model.set_read_only(True)
    panel.zero_rule.click()
    assert panel.zero_rule.isChecked() and desk.grid_model.zeros_are_missing


# -- the scale boxes -------------------------------------------------------------------------------------
def test_the_scale_boxes_show_the_grids_scale_and_change_it_as_one_undo_step(qtbot, desk, panel):
    m = desk.grid_model
    assert (panel.scale_min.value(), panel.scale_max.value()) == (1, 5)
    count = m.undo_stack.count()
    type_into(qtbot, panel.scale_min, "0")
    assert m.scale == (0, 5) and m.undo_stack.count() == count + 1
    m.undo_stack.undo()
    assert m.scale == (1, 5) and panel.scale_min.value() == 1


@pytest.mark.parametrize("box,typed,message", [
    ("scale_min", "5", "The lowest rating (5) must be below the highest (5); the scale was not changed."),
    ("scale_max", "0.5", "The lowest rating (1) must be below the highest (0.5); the scale was not changed."),
])
def test_a_minimum_not_below_the_maximum_is_refused_and_the_boxes_put_back(qtbot, desk, panel, box, typed,
                                                                           message):
    m = desk.grid_model
    said = grid_messages(panel)
    count = m.undo_stack.count()
    type_into(qtbot, getattr(panel, box), typed)
    assert said == [message]
    assert m.scale == (1, 5) and m.undo_stack.count() == count
    assert (panel.scale_min.value(), panel.scale_max.value()) == (1, 5)


def test_finishing_an_edit_without_a_change_makes_no_undo_step(qtbot, desk, panel):
    count = desk.grid_model.undo_stack.count()
    type_into(qtbot, panel.scale_max, "5")
    assert desk.grid_model.undo_stack.count() == count


def test_the_boxes_follow_a_scale_set_elsewhere(desk, panel):
    desk.document.load_ratings(Ratings.from_dense([[1, 10], [4, 7]], scale=(1, 10)), title="tens")
    assert (panel.scale_min.value(), panel.scale_max.value()) == (1, 10)


# -- running and opening -----------------------------------------------------------------------------------
def test_while_running_the_rule_and_the_scale_are_locked(panel):
    widgets = (panel.zero_rule, panel.scale_min, panel.scale_max)
    panel.set_running(True)
    assert not any(w.isEnabled() for w in widgets)
    panel.set_running(False)
    assert all(w.isEnabled() for w in widgets)


def test_a_newly_opened_document_shows_the_grids_top_left_corner(qtbot, desk: Desk, panel):
    panel.resize(500, 400)
    panel.show()
    qtbot.waitExposed(panel)
    desk.document.load_ratings(synthetic_ratings(60, 80), title="big")
    h, v = panel.grid.horizontalScrollBar(), panel.grid.verticalScrollBar()
    h.setValue(h.maximum())
    v.setValue(v.maximum())
    assert h.value() > 0 and v.value() > 0
    desk.document.load_ratings(synthetic_ratings(60, 80, seed=2), title="another")
    assert (h.value(), v.value()) == (0, 0)


def test_the_counts_switch_sets_the_kind_undoably_and_follows_new_data(panel, desk) -> None:
    assert not panel.kind.isChecked() and panel.kind.objectName() == "implicitData"
    panel.kind.setChecked(True)
    assert desk.grid_model.implicit and desk.document.grid_ratings().implicit
    assert "interactions" in panel.info.text()
    desk.grid_model.undo_stack.undo()
    assert not panel.kind.isChecked() and not desk.grid_model.implicit
    desk.document.load_ratings(Ratings([0, 0], [0, 1], [3.0, 1.0], (1, 2), implicit=True), title="plays")
    assert panel.kind.isChecked()
    panel.set_running(True)
    assert not panel.kind.isEnabled()
