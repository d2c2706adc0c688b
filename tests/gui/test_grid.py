"""The rating grid: model roles and editing, and the view's spreadsheet behaviour."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PySide6.QtCore import QItemSelection, QItemSelectionModel, QPoint, Qt
from PySide6.QtGui import QColor, QKeySequence
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QInputDialog, QLineEdit

from mfstudio.core import Ratings
from mfstudio.gui.grid import HELD_OUT_COLOR, OUT_OF_SCALE_COLOR, RatingGridView, RatingsTableModel

R0 = [[5, 3, 0, 1], [4, 0, 0, 1], [1, 1, 0, 5], [1, 0, 0, 4], [0, 1, 5, 4]]


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


# -- model --------------------------------------------------------------------------------
def test_model_passes_the_model_tester(model: RatingsTableModel, qtmodeltester) -> None:
    model.set_held_out([(0, 0)], True)
    model.setData(model.index(1, 1), "9")  # out of scale
    qtmodeltester.check(model, force_py=True)


def test_display_is_compact_and_empty_for_not_rated(model: RatingsTableModel) -> None:
    model.set_cells({(0, 0): 4.5, (0, 1): 3.0, (0, 3): 0.0})
    assert model.data(model.index(0, 0)) == "4.5"
    assert model.data(model.index(0, 1)) == "3"
    assert model.data(model.index(0, 2)) == ""
    assert model.data(model.index(0, 3)) == "0"  # zero is a real rating in the grid
    assert model.data(model.index(0, 1), Qt.ItemDataRole.EditRole) == "3"
    assert model.data(model.index(0, 2), Qt.ItemDataRole.BackgroundRole) is None


def test_background_tint_grows_with_the_value(model: RatingsTableModel) -> None:
    lo = model.data(model.index(2, 0), Qt.ItemDataRole.BackgroundRole)  # 1
    hi = model.data(model.index(0, 0), Qt.ItemDataRole.BackgroundRole)  # 5
    assert isinstance(lo, QColor) and isinstance(hi, QColor)
    assert lo.lightness() > hi.lightness()


def test_headers_show_labels(qapp) -> None:
    m = RatingsTableModel(Ratings.from_dense([[1, 2]], users=["ann"], items=["x", "y"]))
    assert m.headerData(0, Qt.Orientation.Vertical) == "ann"
    assert m.headerData(1, Qt.Orientation.Horizontal) == "y"
    assert "rename" in m.headerData(1, Qt.Orientation.Horizontal, Qt.ItemDataRole.ToolTipRole)


@pytest.mark.parametrize(("typed", "value"), [("4", 4.0), ("4,5", 4.5), ("  2.5 ", 2.5), (3, 3.0), (0.5, 0.5)])
def test_typing_a_number_sets_the_rating(model: RatingsTableModel, qtbot, typed, value: float) -> None:
    with qtbot.waitSignals([model.ratingsChanged, model.dataChanged], timeout=1000):
        assert model.setData(model.index(1, 2), typed)
    assert model.value(1, 2) == value
    assert model.undo_stack.count() == 1


@pytest.mark.parametrize("typed", ["", "   ", None])
def test_empty_text_clears_the_cell(model: RatingsTableModel, typed) -> None:
    assert model.setData(model.index(0, 0), typed)
    assert math.isnan(model.value(0, 0))
    assert model.undo_stack.undoText() == "Clear User 1 / Item 1"
    model.undo_stack.undo()
    assert model.value(0, 0) == 5


def test_text_that_is_not_a_number_is_refused_with_a_sentence(model: RatingsTableModel, qtbot) -> None:
    with qtbot.waitSignal(model.statusMessage, timeout=1000) as blocker:
        assert model.setData(model.index(0, 0), "abc") is False
    assert blocker.args == ["'abc' is not a number; type a rating such as 4 or 3.5, or clear the cell."]
    assert model.value(0, 0) == 5
    assert model.undo_stack.count() == 0


def test_out_of_scale_value_is_kept_and_shown_as_such(model: RatingsTableModel) -> None:
    assert model.scale == (1.0, 5.0)
    assert model.setData(model.index(0, 2), "7")
    ix = model.index(0, 2)
    assert model.value(0, 2) == 7
    assert model.data(ix, Qt.ItemDataRole.ForegroundRole).color() == OUT_OF_SCALE_COLOR
    assert "outside the rating scale 1 to 5" in model.data(ix, Qt.ItemDataRole.ToolTipRole)
    assert model.data(model.index(0, 0), Qt.ItemDataRole.ForegroundRole) is None
    model.set_scale((0.0, 10.0))
    assert model.data(ix, Qt.ItemDataRole.ForegroundRole) is None
    assert "outside" not in model.data(ix, Qt.ItemDataRole.ToolTipRole)
    assert model.to_ratings().out_of_scale() == 0


def test_invalid_scale_is_refused(model: RatingsTableModel, qtbot) -> None:
    with qtbot.waitSignal(model.statusMessage, timeout=1000):
        assert model.set_scale((5.0, 1.0)) is False
    assert model.scale == (1.0, 5.0)


def test_held_out_cells_are_marked_and_round_trip(model: RatingsTableModel, qtbot) -> None:
    with qtbot.waitSignal(model.heldOutChanged, timeout=1000):
        assert model.set_held_out([(0, 0), (2, 3), (0, 2)], True)  # (0, 2) is not rated: ignored
    assert model.held_out_cells().tolist() == [[0, 0], [2, 3]]
    ix = model.index(0, 0)
    assert model.data(ix, Qt.ItemDataRole.BackgroundRole).color() == HELD_OUT_COLOR
    assert "held out for validation" in model.data(ix, Qt.ItemDataRole.ToolTipRole)
    assert model.data(ix, Qt.ItemDataRole.FontRole).italic()
    assert model.data(model.index(0, 1), Qt.ItemDataRole.FontRole) is None
    model.set_held_out([(0, 0)], False)
    assert model.held_out_cells().tolist() == [[2, 3]]


def test_set_ratings_with_held_out_cells(qapp, qtbot) -> None:
    m = RatingsTableModel()
    assert m.shape == (0, 0)
    with qtbot.waitSignal(m.ratingsChanged, timeout=1000):
        m.set_ratings(Ratings.from_dense(R0), np.array([[0, 0], [0, 2], [9, 9]]))
    assert m.held_out_cells().tolist() == [[0, 0]]  # unrated and outside cells dropped
    assert m.undo_stack.count() == 0


def test_to_ratings_keeps_labels_scale_and_zeros(qapp) -> None:
    r = Ratings.from_dense(R0, users=list("abcde"), scale=(0.0, 5.0))
    m = RatingsTableModel(r)
    assert m.to_ratings() == r
    m.set_zeros_are_missing(False)
    m.setData(m.index(0, 2), "0")
    out = m.to_ratings()
    assert out.nnz == r.nnz + 1
    assert out.to_dense()[0, 2] == 0


def test_zero_means_not_rated_when_typed_or_pasted_by_default(qapp) -> None:
    m = RatingsTableModel(Ratings.from_dense(R0))
    assert m.zeros_are_missing
    messages: list[str] = []
    m.statusMessage.connect(messages.append)
    before = m.to_ratings().nnz
    m.setData(m.index(0, 0), "0")  # R0[0][0] is 5: a typed 0 clears it
    assert np.isnan(m.value(0, 0)) and m.to_ratings().nnz == before - 1
    assert "0 means not rated" in messages[-1]
    # the notebook's Example 1 pasted: its zeros are gaps, as when the same matrix is opened from a file
    block = [["0", "4.5", "2.0", "0"], ["4", "0", "3.5", "0"], ["0", "5", "0", "2"], ["0", "3.5", "4.0", "1.0"]]
    m2 = RatingsTableModel(Ratings([], [], [], (4, 4)))
    assert m2.paste_block(0, 0, block)
    assert m2.to_ratings().nnz == 9 and m2.to_ratings().out_of_scale() == 0


def test_switching_zero_rule_on_clears_zero_ratings_in_one_undo_step(qapp) -> None:
    m = RatingsTableModel(Ratings.from_dense([[0, 4], [3, 0]], zeros_are_missing=False, scale=(0, 5)))
    m.set_zeros_are_missing(False, undoable=False)
    assert m.to_ratings().nnz == 4
    seen: list[bool] = []
    m.zeroRuleChanged.connect(seen.append)
    assert m.set_zeros_are_missing(True)
    assert m.zeros_are_missing and m.to_ratings().nnz == 2 and seen == [True]
    m.undo_stack.undo()
    assert not m.zeros_are_missing and m.to_ratings().nnz == 4 and seen == [True, False]
    m.undo_stack.redo()
    assert m.zeros_are_missing and m.to_ratings().nnz == 2


def test_read_only_blocks_every_edit(model: RatingsTableModel, qtbot) -> None:
    with qtbot.waitSignal(model.readOnlyChanged, timeout=1000):
        model.set_read_only(True)
    ix = model.index(0, 0)
    assert not model.flags(ix) & Qt.ItemFlag.ItemIsEditable
    with qtbot.waitSignal(model.statusMessage, timeout=1000):
        assert model.setData(ix, "2") is False
    assert model.clear_cells([(0, 0)]) is False
    assert model.insert_users(0) is False
    assert model.paste_block(0, 0, [["1"]]) is False
    assert model.rename_item(0, "z") is False
    assert model.value(0, 0) == 5 and model.undo_stack.count() == 0
    model.set_read_only(False)
    assert model.flags(ix) & Qt.ItemFlag.ItemIsEditable
    assert model.setData(ix, "2")


def test_new_labels_do_not_collide(model: RatingsTableModel) -> None:
    model.rename_user(0, "User 6")
    model.insert_users(5, 2)
    assert model.users[5:] == ("User 7", "User 8")
    assert len(set(model.users)) == len(model.users)


def test_rename_refuses_an_empty_name(model: RatingsTableModel, qtbot) -> None:
    with qtbot.waitSignal(model.statusMessage, timeout=1000):
        assert model.rename_user(0, "  ") is False
    assert model.setHeaderData(1, Qt.Orientation.Horizontal, "Film B")
    assert model.items[1] == "Film B"


def test_a_movielens_sized_grid_is_quick(qapp) -> None:
    rng = np.random.default_rng(1)
    n, k = 943, 1682
    nnz = 100_000
    cells = rng.choice(n * k, size=nnz, replace=False)
    r = Ratings(cells // k, cells % k, rng.integers(1, 6, nnz).astype(float), (n, k))
    m = RatingsTableModel()
    m.set_ratings(r)
    roles = [Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.BackgroundRole, Qt.ItemDataRole.ForegroundRole,
             Qt.ItemDataRole.TextAlignmentRole, Qt.ItemDataRole.FontRole]
    shown = 0
    for row in range(400, 450):
        for col in range(800, 830):
            ix = m.index(row, col)
            for role in roles:
                m.data(ix, role)
            shown += 1
    assert shown == 1500
    assert m.to_ratings() == r


# -- view --------------------------------------------------------------------------------
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
    assert model.values()[1:3, 1:3].tolist() == [[1, 2], [3, 4]]
    assert model.shape == (5, 4)
    assert model.undo_stack.count() == 1


def test_paste_with_empty_cells_clears_them(view: RatingGridView, model: RatingsTableModel) -> None:
    view.setCurrentIndex(model.index(0, 0))
    view.paste_text("\t2\r\n")
    assert math.isnan(model.value(0, 0)) and model.value(0, 1) == 2


def test_paste_grows_the_grid_exactly_as_far_as_the_block_reaches(view: RatingGridView, model: RatingsTableModel) -> None:
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


def test_paste_is_refused_whole_naming_the_first_bad_cell(view: RatingGridView, model: RatingsTableModel, qtbot) -> None:
    view.setCurrentIndex(model.index(0, 0))
    before = model.values()
    with qtbot.waitSignal(view.statusMessage, timeout=1000) as blocker:
        assert view.paste_text("1\t2\t3\n4\t5\tx\n7\ty\t9") is False
    assert blocker.args == ["Row 2, column 3 of the pasted block ('x') is not a number; nothing was pasted."]
    assert np.array_equal(model.values(), before, equal_nan=True)
    assert model.undo_stack.count() == 0


def test_single_value_fills_a_selection(view: RatingGridView, model: RatingsTableModel) -> None:
    select(view, 0, 0, 1, 2)
    view.paste_text("2\r\n")
    assert np.all(model.values()[0:2, 0:3] == 2)
    assert model.undo_stack.count() == 1


def test_copy_and_paste_through_the_clipboard(view: RatingGridView, model: RatingsTableModel) -> None:
    model.set_cells({(0, 1): 3.5})
    select(view, 0, 0, 1, 2)
    view.action_copy.trigger()
    assert QApplication.clipboard().text() == "5\t3.5\t\n4\t\t"
    view.setCurrentIndex(model.index(3, 2))
    view.selectionModel().clearSelection()
    view.action_paste.trigger()
    assert model.values()[3:5, 2:5].tolist()[0][:2] == [5, 3.5]
    assert model.shape == (5, 5)


def test_cut_copies_then_clears_in_one_step(view: RatingGridView, model: RatingsTableModel) -> None:
    select(view, 0, 0, 0, 1)
    view.action_cut.trigger()
    assert QApplication.clipboard().text() == "5\t3"
    assert np.all(np.isnan(model.values()[0, :2]))
    assert model.undo_stack.undoText() == "Cut 2 cells"
    model.undo_stack.undo()
    assert model.values()[0, :2].tolist() == [5, 3]


@pytest.mark.parametrize("key", [Qt.Key.Key_Delete, Qt.Key.Key_Backspace])
def test_delete_clears_the_selection_in_one_undo_step(view: RatingGridView, model: RatingsTableModel, qtbot, key) -> None:
    select(view, 0, 0, 2, 3)
    qtbot.keyClick(view, key)
    assert np.all(np.isnan(model.values()[0:3]))
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


def test_undo_and_redo_keys_work_while_the_grid_has_focus(view: RatingGridView, model: RatingsTableModel, qtbot) -> None:
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
    assert np.all(np.isnan(model.values()[2]))
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
