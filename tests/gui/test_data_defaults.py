"""The window starts larger data from the larger-data defaults, says so, and keeps values set by hand."""

from __future__ import annotations

import numpy as np

from mfstudio.core import Ratings


def _larger() -> Ratings:
    rng = np.random.default_rng(1)
    flat = rng.choice(60 * 80, size=1_500, replace=False)
    return Ratings(flat // 80, flat % 80, rng.integers(1, 6, flat.size).astype(float), (60, 80), scale=(1, 5))


def _status(window) -> str:
    return window.statusBar().currentMessage()


def test_opening_larger_data_moves_beta_to_the_larger_data_value_and_says_so(window):
    c = window.controls
    c.set_solver("als")
    assert c.params()["beta"] == 0.02
    window.load_ratings(_larger(), title="larger")
    assert c.params()["beta"] == 0.2
    assert "For 1,500 ratings als starts from β = 0.2" in _status(window)
    window.document.open_example("example-1")  # the notebook's matrix: its own values again
    assert c.params()["beta"] == 0.02


def test_a_value_set_by_hand_is_kept(window):
    c = window.controls
    c.set_solver("als", {"beta": 0.07})
    window.load_ratings(_larger(), title="larger")
    assert c.params()["beta"] == 0.07 and "starts from" not in _status(window)


def test_choosing_a_solver_on_larger_data_starts_it_from_the_larger_data_value(window):
    c = window.controls
    c.set_solver("biased-sgd")
    window.load_ratings(_larger(), title="larger")
    c.solver_box.setCurrentIndex(c.solver_box.findData("nmf"))  # as the user picks it
    assert c.params()["beta"] == 0.2
    assert "Switched to nmf" in _status(window) and "nmf starts from β = 0.2" in _status(window)
