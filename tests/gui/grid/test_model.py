"""The grid's table model: roles, editing, checks and messages, over its GridState."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from mfstudio.core import Ratings
from mfstudio.core.errors import DataError
from mfstudio.gui.grid import HELD_OUT_COLOR, OUT_OF_SCALE_COLOR, RatingsTableModel

R0 = [[5, 3, 0, 1], [4, 0, 0, 1], [1, 1, 0, 5], [1, 0, 0, 4], [0, 1, 5, 4]]


def whole(m: RatingsTableModel) -> np.ndarray:
    """The whole (small) grid's values, NaN = not rated."""
    n, k = m.shape
    return m.block_values(0, 0, n - 1, k - 1)


@pytest.fixture
def model(qapp) -> RatingsTableModel:
    return RatingsTableModel(Ratings.from_dense(R0))


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


def test_the_public_queries_the_view_and_commands_use(model: RatingsTableModel, qtbot) -> None:
    model.set_held_out([(0, 0), (4, 3)], True)
    assert model.state.shape == model.shape == (5, 4)
    assert model.nnz == model.state.nnz == 13
    block = model.block_values(0, 1, 1, 3)
    assert block.shape == (2, 3) and block[0, 0] == 3 and math.isnan(block[1, 1])
    block[0, 0] = 9
    assert model.value(0, 1) == 3
    assert model.held_out_cells().tolist() == [[0, 0], [4, 3]]
    messages: list[str] = []
    model.statusMessage.connect(messages.append)
    with pytest.raises(DataError, match="too many to copy"):  # a dense block only as large as it may be
        model.block_values(0, 0, 10**5, 10**4)
    assert model.ensure_writable()
    model.set_read_only(True)
    with qtbot.waitSignal(model.statusMessage, timeout=1000) as blocker:
        assert model.ensure_writable() is False
    assert "cannot be changed while training runs" in blocker.args[0]
    assert model.rename(1, 0, "Film") is False
    model.set_read_only(False)
    assert model.rename(1, 0, "Film") and model.items[0] == "Film"
    assert model.undo_stack.undoText() == "Rename item 'Item 1' to 'Film'"


def test_the_view_reaches_the_model_through_public_names_only() -> None:
    import ast
    from pathlib import Path

    import mfstudio.gui.grid.view as view_module

    tree = ast.parse(Path(view_module.__file__).read_text(encoding="utf-8"))
    model_names = {"m", "old", "model"}
    private = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
            owner = node.value
            if (isinstance(owner, ast.Name) and owner.id in model_names) or (
                isinstance(owner, ast.Attribute) and owner.attr in ("grid_model", "_model")
            ):
                private.append(f"line {node.lineno}: .{node.attr}")
    assert private == []


def test_a_user_with_ratings_is_added_as_one_undo_step(model: RatingsTableModel, qtbot) -> None:
    users, n_items = model.shape
    before = whole(model).copy()
    with qtbot.waitSignal(model.ratingsChanged):
        assert model.add_user_with_ratings("  Ada ", [(0, 4.0), (2, 1.5)])
    assert model.shape == (users + 1, n_items) and model.users[-1] == "Ada"
    row = whole(model)[-1]
    assert row[0] == 4.0 and row[2] == 1.5 and np.isnan(np.delete(row, [0, 2])).all()
    assert model.undo_stack.count() == 1 and model.undo_stack.undoText() == "Add user 'Ada' with 2 ratings"
    model.undo_stack.undo()
    assert model.shape == (users, n_items) and np.array_equal(whole(model), before, equal_nan=True)
    model.undo_stack.redo()
    assert model.users[-1] == "Ada" and model.value(users, 2) == 1.5


@pytest.mark.parametrize("name, ratings, words", [
    ("", [(0, 3.0)], "cannot be empty"),
    (None, [(0, 3.0)], "already a user named"),
    ("Bo", [(0, 3.0), (0, 4.0)], "rated twice"),
    ("Bo", [(0, 9.0)], "off the rating scale"),
    ("Bo", [(99, 3.0)], "There is no item 100"),
])
def test_adding_a_user_is_refused_with_a_sentence(model: RatingsTableModel, qtbot, name, ratings, words) -> None:
    name = model.users[0] if name is None else name
    shape = model.shape
    with qtbot.waitSignal(model.statusMessage) as said:
        assert not model.add_user_with_ratings(name, ratings)
    assert words in said.args[0] and model.shape == shape and model.undo_stack.count() == 0


def test_the_kind_counts_or_ratings_is_one_undo_step_and_comes_with_new_data(qapp, qtbot) -> None:
    m = RatingsTableModel(Ratings([0, 1], [0, 1], [3.0, 1.0], (2, 2)))
    assert not m.implicit and not m.to_ratings().implicit
    seen: list[bool] = []
    m.kindChanged.connect(seen.append)
    assert m.set_implicit(True)
    assert m.implicit and m.to_ratings().implicit and seen == [True]
    assert m.to_ratings().observed.vals.tolist() == [3.0, 1.0]  # the values stay as they were
    assert not m.set_implicit(True)  # no change, no step
    m.undo_stack.undo()
    assert not m.implicit and seen == [True, False]
    m.undo_stack.redo()
    assert m.implicit
    m.set_ratings(Ratings([0], [0], [2.0], (1, 1)))  # ratings bring their own kind
    assert not m.implicit
    m.set_ratings(Ratings([0], [1], [7.0], (1, 2), implicit=True))
    assert m.implicit and m.to_ratings().implicit
    m.set_read_only(True)
    assert not m.set_implicit(False) and m.implicit  # locked while a run goes


def test_a_grid_built_beforehand_is_the_grid_set_ratings_makes(qapp) -> None:
    from mfstudio.gui.grid.state import BuiltGrid

    r, cells = Ratings.from_dense(R0, users=list("abcde")), np.array([[0, 0], [2, 4 - 1], [9, 9]])
    plain, built = RatingsTableModel(), RatingsTableModel()
    plain.set_ratings(r, cells)
    made = BuiltGrid.of(r, cells)
    built.set_ratings(r, cells, built=made)
    assert built.to_ratings() == plain.to_ratings() == r
    assert built.held_out_cells().tolist() == plain.held_out_cells().tolist() == [[0, 0], [2, 3]]
    np.testing.assert_array_equal(whole(built), whole(plain))
    assert built.undo_stack.count() == 0
    assert built.to_ratings() is made.ratings  # nothing made again on this thread
    assert built.state.entries is made.state.entries  # taken, not copied


def test_the_ratings_built_beforehand_are_dropped_at_the_first_edit_and_its_undo(qapp) -> None:
    from mfstudio.gui.grid.state import BuiltGrid

    r = Ratings.from_dense(R0)
    m = RatingsTableModel()
    made = BuiltGrid.of(r)
    m.set_ratings(r, built=made)
    m.setData(m.index(0, 1), "2")
    assert m.to_ratings() is not made.ratings
    assert m.to_ratings().to_dense()[0, 1] == 2
    m.undo_stack.undo()
    assert m.to_ratings() is not made.ratings and m.to_ratings() == r
