"""Run labels: a run named by its solver and the parameters that differ between the runs shown."""

from __future__ import annotations

import numpy as np
import pytest

from mfstudio.gui.views.run_labels import run_label, run_labels

SGD = {"K": 2, "steps": 10000, "alpha": 0.0002, "beta": 0.02, "tol": 0.001, "seed": 0}
ALS = {"K": 2, "steps": 50, "beta": 0.02, "tol": 0.001, "seed": 0}


def test_run_label_names_solver_and_key_parameters():
    params = {"K": 2, "steps": 10000, "alpha": 0.0002, "beta": 0.02, "seed": 0}
    assert run_label("sgd", params) == "sgd K=2 α=0.0002 β=0.02"
    assert run_label("als", {"K": 3, "beta": 0.1}) == "als K=3 β=0.1"


def test_labels_name_what_differs_and_number_repeats():
    sgd2 = {**SGD, "alpha": 0.0005}
    assert run_labels([("sgd", SGD)]) == (["sgd K=2 α=0.0002 β=0.02"], "")
    assert run_labels([("sgd", SGD), ("sgd", sgd2)]) == (["sgd α=0.0002", "sgd α=0.0005"], "K=2 β=0.02")
    # a parameter one solver lacks is named where it exists
    assert run_labels([("sgd", SGD), ("als", ALS)]) == (["sgd α=0.0002", "als"], "K=2 β=0.02")
    # identical runs are numbered; the seed is named only when it differs
    labels, common = run_labels([("sgd", SGD), ("sgd", SGD), ("als", ALS), ("sgd", SGD)])
    assert labels == ["sgd α=0.0002", "sgd α=0.0002 #2", "als", "sgd α=0.0002 #3"] and common == "K=2 β=0.02"
    labels, _ = run_labels([("sgd", SGD), ("sgd", {**SGD, "seed": 1}), ("sgd", {**SGD, "K": 3, "seed": 1})])
    assert labels == ["sgd K=2 seed=0", "sgd K=2 seed=1", "sgd K=3 seed=1"]


def test_runs_that_differ_in_steps_tol_or_hold_out_are_named_not_numbered():
    base = {"K": 2, "alpha": 0.0002, "beta": 0.02, "steps": 500, "tol": 0.001, "holdout": 0.0}
    runs = [("sgd", base), ("sgd", {**base, "steps": 3000}), ("sgd", {**base, "steps": 3000, "holdout": 0.25}),
            ("sgd", {**base, "steps": 3000, "tol": 0.5}), ("sgd", {**base, "steps": 3000})]
    labels, _common = run_labels(runs)
    assert len(set(labels[:4])) == 4 and not any("#" in t for t in labels[:4])
    assert "hold-out 25%" in labels[2] and "tol=0.5" in labels[3] and labels[4].endswith("#2")


@pytest.mark.parametrize(("params", "label"), [
    ({"K": 10, "alpha": 0.000123456}, "sgd K=10 α=0.000123"),  # three significant digits, never the full float
    ({"K": np.int64(1000), "alpha": 1e-05}, "sgd K=1,000 α=1e-05"),  # whole numbers grouped, numpy's too
    ({"K": 2, "alpha": 0.0, "beta": -0.0}, "sgd K=2 α=0 β=0"),  # zero is 0, never -0
])
def test_a_label_writes_parameters_in_few_characters(params, label):
    assert run_label("sgd", params) == label


def test_whole_numbers_in_labels_are_grouped_in_thousands():
    labels, common = run_labels([("sgd", {**SGD, "steps": 1_000_000_000}), ("sgd", {**SGD, "steps": 7})])
    assert labels == ["sgd steps=1,000,000,000", "sgd steps=7"] and common == "K=2 α=0.0002 β=0.02"


def test_als_runs_that_solve_differently_say_how():
    cg, exact = {**ALS, "K": 10, "cg_steps": 3}, {**ALS, "K": 10, "cg_steps": None}
    labels, common = run_labels([("als", cg), ("als", exact), ("sgd", SGD)])
    assert labels == ["als K=10 CG steps=3", "als K=10 CG steps=exact", "sgd K=2 α=0.0002"] and common == "β=0.02"
    assert run_labels([("als", cg), ("als", cg)])[0] == ["als", "als #2"]  # the same way: not named
