"""The notebook's printout, as its print and display calls wrote it."""

from __future__ import annotations

import numpy as np

from mfstudio.core.notebook import is_printed, printout
from mfstudio.core.solvers import Factors


def test_the_block_is_the_notebooks_print_and_displays():
    P = np.array([[0.5, 1.25], [2.0, 0.0]])
    Q = np.array([[1.0, 0.0, 2.0], [0.5, 1.5, 0.25]])
    text = printout(0, Factors(P, Q))
    lines = text.split("\n")
    assert lines[0] == "-------- Result at step 0 : with eR, P, Q are :-----"
    assert text == "\n".join([lines[0], repr(P @ Q), repr(P), repr(Q)])
    assert "array([[" in text


def test_the_steps_printed_are_the_notebooks():
    assert [s for s in range(1, 3002) if is_printed(s, 1000)] == [1, 1001, 2001, 3001]
    assert [s for s in range(0, 6) if is_printed(s, 2)] == [1, 3, 5]


def test_a_biased_model_prints_its_whole_r_hat():
    f = Factors(np.ones((2, 1)), np.ones((1, 2)), np.array([0.5, 0.0]), np.array([0.0, 1.0]), 3.0)
    assert repr(f.predict()) in printout(1000, f)


def test_a_big_models_r_hat_is_printed_by_its_corners_without_building_it(monkeypatch):
    import mfstudio.core.notebook as nb

    monkeypatch.setattr(nb, "DENSE_CELLS", 10)
    rng = np.random.default_rng(0)
    f = Factors(rng.random((8, 2)), rng.random((2, 9)))
    text = printout(3, f)
    corner = (f.P @ f.Q)[np.r_[0:3, 5:8]][:, np.r_[0:3, 6:9]]
    assert "# eR is 8 x 9: its first and last 3 rows and columns" in text and repr(corner) in text
