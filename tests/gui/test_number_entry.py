"""A rating typed into a cell and the same text pasted read by one rule (mfstudio.core.numbers)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit

from mfstudio.core import Ratings
from mfstudio.core.numbers import UNAMBIGUOUS_COMMA, NumberError, read_number
from mfstudio.gui.grid import RatingGridView, RatingsTableModel

R0 = [[5, 3, 0, 1], [4, 0, 0, 1], [1, 1, 0, 5]]


@pytest.fixture
def view(qtbot) -> RatingGridView:
    v = RatingGridView(RatingsTableModel(Ratings.from_dense(R0)))
    qtbot.addWidget(v)
    v.resize(600, 400)
    v.show()
    qtbot.waitExposed(v)
    v.activateWindow()
    v.setFocus()
    qtbot.waitUntil(v.hasFocus, timeout=2000)
    return v


def typed(view: RatingGridView, qtbot, row: int, col: int, text: str) -> tuple[float, list[str]]:
    """Type ``text`` into a cell's editor and press Enter; the cell's value and the messages shown."""
    model = view.grid_model
    messages: list[str] = []
    view.statusMessage.connect(messages.append)  # the view says what its model says
    view.setCurrentIndex(model.index(row, col))
    view.edit(model.index(row, col))
    editor = view.findChild(QLineEdit)
    assert editor is not None
    editor.setText(text)
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: view.state() != view.State.EditingState, timeout=2000)
    view.statusMessage.disconnect(messages.append)
    return model.value(row, col), messages


def pasted(view: RatingGridView, row: int, col: int, text: str) -> tuple[float, list[str]]:
    """Paste ``text`` as one cell; the cell's value and the messages shown."""
    model = view.grid_model
    messages: list[str] = []
    view.statusMessage.connect(messages.append)
    view.setCurrentIndex(model.index(row, col))
    view.paste_text(text + "\r\n")
    view.statusMessage.disconnect(messages.append)
    return model.value(row, col), messages


def test_1_000_is_refused_the_same_typed_and_pasted(view: RatingGridView, qtbot) -> None:
    """'1,000' could be one thousand or 1.0: neither typing nor pasting guesses, and the cell keeps its rating."""
    value, messages = typed(view, qtbot, 0, 0, "1,000")
    assert value == 5 and messages == ["'1,000' is not a number; type a rating such as 4 or 3.5, or clear the cell."]
    value, messages = pasted(view, 0, 1, "1,000")
    assert value == 3
    assert messages == ["Row 1, column 1 of the pasted block ('1,000') is not a number; nothing was pasted."]
    assert view.grid_model.undo_stack.count() == 0


@pytest.mark.parametrize("text", ["1,000", "12,345", "4,5", "0,125", "1,0000", " 2.5 ", "1e0", "-0", "1_0", "nan", "٣"])
def test_typing_and_pasting_read_a_number_alike(view: RatingGridView, qtbot, text: str) -> None:
    try:
        want = read_number(text, UNAMBIGUOUS_COMMA)
    except NumberError:
        want = None
    before = view.grid_model.to_ratings().to_dense().copy()
    t, _ = typed(view, qtbot, 0, 0, text)
    p, _ = pasted(view, 1, 0, text)
    if want is None:  # refused both ways: both cells keep their ratings
        assert (t, p) == (before[0, 0], before[1, 0])
    elif want == 0:  # read as 0 both ways, which clears the cell while "0 means not rated" is on
        assert np.isnan(t) and np.isnan(p)
    else:
        assert t == p == want
    after = view.grid_model.to_ratings().to_dense()
    assert np.array_equal(after[2:], before[2:], equal_nan=True)  # no other cell changed


def test_a_parameter_box_reads_numbers_by_the_grids_rule(qapp):
    """One rule for "1,000" everywhere: the learning-rate box takes a decimal comma and refuses the ambiguous."""
    from mfstudio.core.params import ALPHA
    from mfstudio.gui.controls import make_param_widget

    box = make_param_widget(ALPHA)
    said: list[str] = []
    box.refused.connect(said.append)
    assert box.valueFromText("0,005") == 0.005
    assert box.validate("0,005", 5)[0].name == "Acceptable"
    assert box.validate("1,000", 5)[0].name == "Intermediate"  # not accepted as a thousand
    assert box.valueFromText("1,000") == box.value()
    box.fixup("1,000")
    assert said and "ambiguous" in said[-1] and "it stays" in said[-1]
