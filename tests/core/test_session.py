"""A Session's hold-out: one rule says what a run holds out, and a cell outside the ratings is refused."""

from __future__ import annotations

import numpy as np
import pytest

from mfstudio.core import DataError, ParameterError, Ratings, Session, Training

R = Ratings.from_dense([[5, 3, 0, 1], [4, 0, 0, 1], [1, 1, 0, 5], [0, 1, 5, 4]])
CELLS = np.array([[0, 1], [3, 3]])


def test_a_share_given_for_the_run_comes_first_and_0_is_none():
    s = Session(ratings=R, held_out_cells=CELLS, holdout=0.5)
    assert s.split_source(0.25) == 0.25
    assert s.split_source(0) is None and s.split_source(0.0) is None
    with pytest.raises(ParameterError, match="Hold-out share must be from 0 up to but not including 1"):
        s.split_source(1.0)


def test_then_the_sessions_cells_then_its_share_then_nothing():
    got = Session(ratings=R, held_out_cells=CELLS, holdout=0.5).split_source()
    assert isinstance(got, np.ndarray) and got.dtype == np.int64 and got.tolist() == CELLS.tolist()
    assert Session(ratings=R, holdout=0.5).split_source() == 0.5
    assert Session(ratings=R).split_source() is None


def test_what_split_source_gives_is_what_training_takes():
    s = Session(ratings=R, held_out_cells=CELLS)
    t = Training(R, "sgd", {"steps": 2}, holdout=s.split_source())
    assert len(t.split.val) == 2 and t.split.held_out_flags.tolist() == s.held_out_flags().tolist()
    t = Training(R, "sgd", {"steps": 2}, holdout=Session(ratings=R, holdout=0.25).split_source())
    assert len(t.split.val) == 3  # a quarter of 11 ratings, rounded


@pytest.mark.parametrize("cell", [[4, 0], [0, 4], [-1, 0]])
def test_a_cell_outside_the_ratings_is_refused_not_read_as_another(cell):
    s = Session(ratings=R, held_out_cells=np.array([cell]))
    with pytest.raises(DataError, match="A held-out cell lies outside the 4 x 4 ratings"):
        s.split_source()
    with pytest.raises(DataError, match="outside"):
        R.split_cells([cell])  # (0, 4) would otherwise be the key of (1, 0)


def test_a_share_out_of_range_in_the_session_is_refused():
    with pytest.raises(ParameterError, match="got 1"):
        Session(ratings=R, holdout=1.0).split_source()
