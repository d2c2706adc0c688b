"""The grid's view: spreadsheet keys, clipboard, actions and menus over the table model."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PySide6.QtCore import QItemSelection, QItemSelectionModel, QPoint, Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QInputDialog, QLineEdit

from mfstudio.core import Ratings
from mfstudio.gui.grid import RatingGridView, RatingsTableModel

R0 = [[5, 3, 0, 1], [4, 0, 0, 1], [1, 1, 0, 5], [1, 0, 0, 4], [0, 1, 5, 4]]


def whole(m: RatingsTableModel) -> np.ndarray:
    """The whole (small) grid's values, NaN = not rated."""
    n, k = m.shape
    return m.block_values(0, 0, n - 1, k - 1)


@pytest.fixture
def model(qapp) -> RatingsTableModel:
    return RatingsTableModel(Ratings.from_dense(R0))


@pytest.fixture
def view(qtbot, model: RatingsTableModel) -> RatingGridView:
    v = RatingGridView(model)
    qtbot.addWidget(v)
    v.resize(600, 400)
    v.show()
    qtbot.waitExposed(v)
    v.activateWindow()
    v.setFocus()
    qtbot.waitUntil(v.hasFocus, timeout=2000)
    return v


def select(view: RatingGridView, top: int, left: int, bottom: int, right: int) -> None:
    m = view.model()
    view.setCurrentIndex(m.index(top, left))
    view.selectionModel().select(
        QItemSelection(m.index(top, left), m.index(bottom, right)), QItemSelectionModel.SelectionFlag.ClearAndSelect
    )


def test_view_names_and_actions(view: RatingGridView) -> None:
    assert view.objectName() == "ratingGrid"
    assert view.accessibleName()
    menu = view.build_context_menu()
    texts = [a.text() for a in menu.actions() if not a.isSeparator()]
    for want in ["&Add user", "Add &item", "Remo&ve selected users", "Remove selected ite&ms",
                 "&Hold out selected cells", "Use selected cells for trai&ning", "&Copy", "Cu&t", "&Paste", "C&lear"]:
        assert want in texts
    assert view.action_paste.shortcut() == QKeySequence(QKeySequence.StandardKey.Paste)
    assert view.action_undo.shortcutContext() == Qt.ShortcutContext.WidgetWithChildrenShortcut


def test_model_messages_reach_the_view(view: RatingGridView, model: RatingsTableModel, qtbot) -> None:
    with qtbot.waitSignal(view.statusMessage, timeout=1000) as blocker:
        model.setData(model.index(0, 0), "x")
    assert "is not a number" in blocker.args[0]


@pytest.mark.parametrize(
    "text",
    ["1\t2\n3\t4", "1\t2\r\n3\t4\r\n", '"1"\t2\r\n3\t"4"\r\n', "1,0\t2\n3\t4,0\n"],
)
def test_paste_block_at_the_current_cell(view: RatingGridView, model: RatingsTableModel, text: str) -> None:
    view.setCurrentIndex(model.index(1, 1))
    assert view.paste_text(text)
    assert whole(model)[1:3, 1:3].tolist() == [[1, 2], [3, 4]]
    assert model.shape == (5, 4)
    assert model.undo_stack.count() == 1


def test_paste_with_empty_cells_clears_them(view: RatingGridView, model: RatingsTableModel) -> None:
    view.setCurrentIndex(model.index(0, 0))
    view.paste_text("\t2\r\n")
    assert math.isnan(model.value(0, 0)) and model.value(0, 1) == 2


def test_paste_grows_the_grid_exactly_as_far_as_the_block_reaches(
    view: RatingGridView, model: RatingsTableModel,
) -> None:
    view.setCurrentIndex(model.index(4, 3))
    assert view.paste_text("1\t2\t3\r\n4\t5\t6\r\n7\t8\t9\r\n")
    assert model.shape == (7, 6)
    assert model.users[-2:] == ("User 6", "User 7")
    assert model.items[-2:] == ("Item 5", "Item 6")
    assert model.value(6, 5) == 9
    assert math.isnan(model.value(5, 0))
    assert model.undo_stack.count() == 1
    model.undo_stack.undo()
    assert model.shape == (5, 4)
    assert model.value(4, 3) == 4


def test_paste_is_refused_whole_naming_the_first_bad_cell(
    view: RatingGridView, model: RatingsTableModel, qtbot,
) -> None:
    view.setCurrentIndex(model.index(0, 0))
    before = whole(model)
    with qtbot.waitSignal(view.statusMessage, timeout=1000) as blocker:
        assert view.paste_text("1\t2\t3\n4\t5\tx\n7\ty\t9") is False
    assert blocker.args == ["Row 2, column 3 of the pasted block ('x') is not a number; nothing was pasted."]
    assert np.array_equal(whole(model), before, equal_nan=True)
    assert model.undo_stack.count() == 0


def test_single_value_fills_a_selection(view: RatingGridView, model: RatingsTableModel) -> None:
    select(view, 0, 0, 1, 2)
    view.paste_text("2\r\n")
    assert np.all(whole(model)[0:2, 0:3] == 2)
    assert model.undo_stack.count() == 1


def test_copy_and_paste_through_the_clipboard(view: RatingGridView, model: RatingsTableModel) -> None:
    model.set_cells({(0, 1): 3.5})
    select(view, 0, 0, 1, 2)
    view.action_copy.trigger()
    assert QApplication.clipboard().text() == "5\t3.5\t\n4\t\t"
    view.setCurrentIndex(model.index(3, 2))
    view.selectionModel().clearSelection()
    view.action_paste.trigger()
    assert whole(model)[3:5, 2:5].tolist()[0][:2] == [5, 3.5]
    assert model.shape == (5, 5)


def test_cut_copies_then_clears_in_one_step(view: RatingGridView, model: RatingsTableModel) -> None:
    select(view, 0, 0, 0, 1)
    view.action_cut.trigger()
    assert QApplication.clipboard().text() == "5\t3"
    assert np.all(np.isnan(whole(model)[0, :2]))
    assert model.undo_stack.undoText() == "Cut 2 cells"
    model.undo_stack.undo()
    assert whole(model)[0, :2].tolist() == [5, 3]


@pytest.mark.parametrize("key", [Qt.Key.Key_Delete, Qt.Key.Key_Backspace])
def test_delete_clears_the_selection_in_one_undo_step(
    view: RatingGridView, model: RatingsTableModel, qtbot, key,
) -> None:
    select(view, 0, 0, 2, 3)
    qtbot.keyClick(view, key)
    assert np.all(np.isnan(whole(model)[0:3]))
    assert model.undo_stack.count() == 1
    model.undo_stack.undo()
    assert model.value(0, 0) == 5 and model.value(2, 3) == 5


def test_enter_moves_down(view: RatingGridView, model: RatingsTableModel, qtbot) -> None:
    view.setCurrentIndex(model.index(1, 2))
    qtbot.keyClick(view, Qt.Key.Key_Return)
    assert view.currentIndex().row() == 2 and view.currentIndex().column() == 2
    qtbot.keyClick(view, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    assert view.currentIndex().row() == 1


def test_typing_then_enter_commits_and_moves_down(view: RatingGridView, model: RatingsTableModel, qtbot) -> None:
    view.setCurrentIndex(model.index(1, 1))
    view.edit(model.index(1, 1))
    editor = view.findChild(QLineEdit)
    assert editor is not None
    editor.setText("4,5")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: view.currentIndex().row() == 2, timeout=2000)
    assert model.value(1, 1) == 4.5
    assert view.state() != view.State.EditingState


def test_undo_and_redo_keys_work_while_the_grid_has_focus(
    view: RatingGridView, model: RatingsTableModel, qtbot,
) -> None:
    model.setData(model.index(0, 0), "2")
    assert view.action_undo.isEnabled()
    QTest.keySequence(view, QKeySequence(QKeySequence.StandardKey.Undo))
    assert model.value(0, 0) == 5
    QTest.keySequence(view, QKeySequence(QKeySequence.StandardKey.Redo))
    assert model.value(0, 0) == 2
    assert view.action_undo.text() == "&Undo Edit User 1 / Item 1"


def test_undo_is_locked_while_read_only(view: RatingGridView, model: RatingsTableModel, qtbot) -> None:
    model.setData(model.index(0, 0), "2")
    model.set_read_only(True)
    assert not view.action_undo.isEnabled()
    assert not view.action_paste.isEnabled()
    assert view.action_copy.isEnabled()
    with qtbot.waitSignal(view.statusMessage, timeout=1000):
        view.undo()
    assert model.value(0, 0) == 2


def test_double_click_on_a_header_renames(view: RatingGridView, model: RatingsTableModel, qtbot, monkeypatch) -> None:
    asked = []

    def fake_get_text(parent, title, label, echo, text):
        asked.append((title, text))
        return "Film B", True

    monkeypatch.setattr(QInputDialog, "getText", staticmethod(fake_get_text))
    header = view.horizontalHeader()
    x = header.sectionViewportPosition(1) + header.sectionSize(1) // 2
    qtbot.mouseDClick(header.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x, header.height() // 2))
    assert asked == [("Rename item", "Item 2")]
    assert model.items[1] == "Film B"
    monkeypatch.setattr(QInputDialog, "getText", staticmethod(lambda *a: ("Zoe", True)))
    view.rename_user_dialog(4)
    assert model.users[4] == "Zoe"
    monkeypatch.setattr(QInputDialog, "getText", staticmethod(lambda *a: ("ignored", False)))
    view.rename_user_dialog(4)
    assert model.users[4] == "Zoe"
    assert model.undo_stack.count() == 2


def test_add_and_remove_users_and_items_from_the_actions(view: RatingGridView, model: RatingsTableModel) -> None:
    view.setCurrentIndex(model.index(1, 1))
    view.action_add_user.trigger()
    assert model.shape == (6, 4)
    assert np.all(np.isnan(whole(model)[2]))
    assert view.currentIndex().row() == 2
    view.action_add_item.trigger()
    assert model.shape == (6, 5)
    select(view, 0, 0, 1, 0)
    view.action_remove_users.trigger()
    assert model.shape == (4, 5)
    assert model.users[0] == "User 6"  # the added user, now first
    select(view, 0, 1, 0, 2)
    view.action_remove_items.trigger()
    assert model.shape == (4, 3)
    for _ in range(4):
        model.undo_stack.undo()
    assert model.to_ratings() == Ratings.from_dense(R0)


def test_hold_out_actions(view: RatingGridView, model: RatingsTableModel) -> None:
    select(view, 0, 0, 1, 1)
    view.action_hold_out.trigger()
    assert model.held_out_cells().tolist() == [[0, 0], [0, 1], [1, 0]]
    select(view, 0, 0, 0, 0)
    view.action_use_for_training.trigger()
    assert model.held_out_cells().tolist() == [[0, 1], [1, 0]]


def test_view_stays_consistent_through_structure_changes(view: RatingGridView, model: RatingsTableModel) -> None:
    model.resize_grid(8, 9)
    assert view.horizontalHeader().count() == 9 and view.verticalHeader().count() == 8
    model.undo_stack.undo()
    assert view.horizontalHeader().count() == 4
    model.set_ratings(Ratings.from_dense([[1.0, 2.0]]), undoable=True)
    assert view.verticalHeader().count() == 1


def test_select_all_and_clear_on_a_big_grid_is_one_step(qtbot) -> None:
    n, k = 943, 1682
    rows = np.arange(0, n, 3)
    m = RatingsTableModel(Ratings(rows, rows % k, np.full(len(rows), 4.0), (n, k)))
    v = RatingGridView(m)
    qtbot.addWidget(v)
    v.selectAll()
    assert len(v.selected_cells()) == n * k
    v.clear_selection()
    assert m.to_ratings().nnz == 0
    assert m.undo_stack.count() == 1 and m.undo_stack.undoText() == f"Clear {len(rows)} cells"
    m.undo_stack.undo()
    assert m.to_ratings().nnz == len(rows)


def test_a_name_no_file_could_hold_is_refused_where_it_is_typed(qapp) -> None:
    m = RatingsTableModel(Ratings.from_dense(R0))
    messages: list[str] = []
    m.statusMessage.connect(messages.append)
    assert m.setHeaderData(0, Qt.Orientation.Vertical, "bad\ud800") is False
    assert m.users[0] != "bad\ud800"
    assert messages and "lone surrogate" in messages[-1] and "cannot be saved" in messages[-1]
    assert m.to_ratings().nnz  # the grid still converts: nothing unencodable got in


def test_a_selection_of_ten_billion_cells_clears_and_holds_out_but_copy_says_it_is_too_large(qtbot) -> None:
    n = 100_000
    rows = np.arange(0, n, n // 10)
    m = RatingsTableModel(Ratings(rows, rows[::-1], np.full(len(rows), 4.0), (n, n)))
    v = RatingGridView(m)
    qtbot.addWidget(v)
    messages: list[str] = []
    v.statusMessage.connect(messages.append)
    v.selectAll()
    assert v.selected_ranges() == [(0, 0, n - 1, n - 1)]
    v.hold_out_selection()
    assert len(m.held_out_cells()) == 10 and m.undo_stack.undoText() == "Hold out 10 cells"
    v.copy()
    assert "too many to copy" in messages[-1] and "Nothing was copied" in messages[-1]
    v.cut()
    assert "Nothing was cut" in messages[-1] and m.nnz == 10
    v.clear_selection()
    assert m.nnz == 0 and m.undo_stack.undoText() == "Clear 10 cells"
    m.undo_stack.undo()
    assert m.nnz == 10 and len(m.held_out_cells()) == 10
    assert m.insert_users(5, 2) and m.shape == (n + 2, n) and m.value(int(rows[1]) + 2, int(rows[-2])) == 4.0
    assert m.remove_items([0, 1, 2]) and m.shape == (n + 2, n - 3)
    m.undo_stack.undo()
    m.undo_stack.undo()
    assert m.to_ratings() == Ratings(rows, rows[::-1], np.full(len(rows), 4.0), (n, n), m.users, m.items)
