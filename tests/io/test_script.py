"""The reproducing script: run on its own (numpy only), it gives MF Studio's factors to 1e-9."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mfstudio.core.errors import ParameterError
from mfstudio.core.examples import load_example
from mfstudio.core.ratings import Ratings
from mfstudio.core.solvers import _sgd_blocks
from mfstudio.core.training import Training
from mfstudio.io.errors import FileFormatError
from mfstudio.io.script import OUTPUT_NAME, reproduce_script, script_for, write_script

TOL = 1e-9
STEPS = {"sgd": 300, "biased-sgd": 30, "als": 20, "nmf": 100, "implicit-als": 20}


def run_script(text: str, folder: Path) -> dict[str, np.ndarray]:
    """Run the script in ``folder`` as ``python reproduce.py`` and read what it wrote.

    A module ``mfstudio`` that refuses to load sits next to it, so a script that reached for MF Studio
    would fail here whatever is installed.
    """
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "reproduce.py").write_text(text, encoding="utf-8")
    (folder / "mfstudio.py").write_text('raise ImportError("the script must not use MF Studio")\n')
    done = subprocess.run([sys.executable, "reproduce.py"], cwd=folder, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert f"Wrote {OUTPUT_NAME}" in done.stdout
    with np.load(folder / OUTPUT_NAME) as z:
        return {k: z[k] for k in z.files}


def worst_difference(training: Training, got: dict[str, np.ndarray]) -> float:
    """The largest absolute difference between the script's arrays and the training's factors."""
    f = training.factors
    want = {"P": f.P, "Q": f.Q}
    if f.user_bias is not None:
        want.update(user_bias=f.user_bias, item_bias=f.item_bias, global_mean=np.array(f.global_mean))
    assert sorted(got) == sorted(want)
    return max(float(np.max(np.abs(got[k] - np.asarray(v)))) for k, v in want.items())


def trained(ratings: Ratings, solver: str, params: dict, **kw) -> Training:
    t = Training(ratings, solver, params, **kw)
    t.run_to_end()
    return t


@pytest.mark.parametrize("solver", list(STEPS))
@pytest.mark.parametrize("example, holdout", [("example-1", None), ("movie-night", 0.25)])
def test_the_script_gives_mf_studios_factors(tmp_path, solver, example, holdout):
    params = {"steps": STEPS[solver], "seed": 3} | ({"K": 3} if example == "movie-night" else {})
    t = trained(load_example(example), solver, params, holdout=holdout)
    assert t.step == STEPS[solver]
    assert worst_difference(t, run_script(script_for(t), tmp_path)) <= TOL


@pytest.mark.parametrize("cg_steps", [1, 3, None])
def test_the_script_replays_implicit_als_with_its_confidence(tmp_path, cg_steps):
    t = trained(load_example("movie-night"), "implicit-als",
                {"steps": 12, "K": 4, "seed": 2, "cg_steps": cg_steps, "confidence": 3.0, "beta": 0.5}, holdout=0.25)
    text = script_for(t)
    assert "confidence = 3.0  # c = 1 + confidence |r|" in text and "def implicit_als(" in text
    assert worst_difference(t, run_script(text, tmp_path)) <= TOL


@pytest.mark.parametrize("cg_steps", [1, 3, None])
def test_the_script_replays_als_in_the_runs_way(tmp_path, cg_steps):
    """K = 4: 1 or 3 conjugate-gradient steps from the current factors (fewer than K), or exactly."""
    t = trained(load_example("movie-night"), "als", {"steps": 15, "K": 4, "seed": 2, "cg_steps": cg_steps},
                holdout=0.25)
    text = script_for(t)
    assert f"cg_steps = {cg_steps!r}  # " in text
    assert worst_difference(t, run_script(text, tmp_path)) <= TOL
    if cg_steps == 1:  # the script's rule is the run's: exactly would be another result
        exact = trained(load_example("movie-night"), "als", {"steps": 15, "K": 4, "seed": 2, "cg_steps": None},
                        holdout=0.25)
        assert worst_difference(exact, run_script(text, tmp_path / "again")) > 1e-6


def test_biased_sgd_over_several_blocks(tmp_path, monkeypatch):
    """A grid of several blocks per side: the groups, the blocks' order and each block's order count."""
    monkeypatch.setattr(_sgd_blocks, "BLOCK_BYTES", 256)
    monkeypatch.setattr(_sgd_blocks, "MIN_BLOCK", 64)
    rng = np.random.default_rng(5)
    rows, cols = np.nonzero(rng.random((160, 80)) < 0.9)
    r = Ratings(rows, cols, rng.integers(1, 6, len(rows)).astype(float), (160, 80))
    t = trained(r, "biased-sgd", {"steps": 2, "seed": 11}, holdout=0.2)
    assert t.solver.grid.side > 4
    assert f"side = {t.solver.grid.side}  # " in script_for(t)
    assert worst_difference(t, run_script(script_for(t), tmp_path)) <= TOL


def test_early_stopping_replays_to_the_best_step(tmp_path):
    t = trained(load_example("movie-night"), "biased-sgd", {"steps": 500, "alpha": 0.05}, holdout=0.25, patience=5)
    assert t.reason.value == "early-stop" and t.step < 500
    text = script_for(t)
    assert f"steps = {t.step}  # the steps the run made (its budget was 500)" in text
    assert worst_difference(t, run_script(text, tmp_path)) <= TOL


@pytest.mark.parametrize("solver", ["als", "nmf"])
def test_without_regularization(tmp_path, solver):
    """beta = 0 leaves ALS's systems nearly singular (1e-12 on the diagonal): still the same numbers."""
    t = trained(load_example("example-1"), solver, {"steps": 20, "beta": 0.0})
    assert worst_difference(t, run_script(script_for(t), tmp_path)) <= TOL


@pytest.mark.parametrize("solver", list(STEPS))
def test_real_zeros_and_a_user_with_every_rating_held_out(tmp_path, solver):
    """A rating of 0 is trained on (not the notebook's R > 0); held-out cells are not, even a whole user's."""
    R = np.array([[0, 4.5, 2.0, np.nan], [4, 0, 3.5, np.nan], [np.nan, 5, 0, 2], [0, 3.5, 4.0, 1.0]])
    r = Ratings.from_dense(R, zeros_are_missing=False)
    o = r.observed
    cells = np.stack([o.rows[o.rows == 1], o.cols[o.rows == 1]], axis=1)  # all of user 2's ratings
    t = trained(r, solver, {"steps": 25, "seed": 1}, holdout=cells)
    text = script_for(t)
    assert "(0, 0, 0.0)" in text and "(1, 0, 4.0)" not in text
    assert worst_difference(t, run_script(text, tmp_path)) <= TOL


def test_a_run_that_stopped_at_the_tolerance(tmp_path):
    t = trained(load_example("example-1"), "sgd", {"steps": 50_000, "alpha": 0.01, "beta": 0.0, "tol": 0.01, "K": 3})
    assert t.reason.value == "tolerance"
    assert worst_difference(t, run_script(script_for(t), tmp_path)) <= TOL


@pytest.mark.parametrize("solver", list(STEPS))
def test_the_text_is_standalone_and_holds_the_start_in_full(solver):
    t = trained(load_example("movie-night"), solver, {"steps": 2, "K": 2}, holdout=0.25)
    text = script_for(t)
    tree = ast.parse(text)
    imported = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    imported += [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    assert imported == ["numpy"]
    assert "mfstudio" not in text.lower().replace("mf studio", "")
    start = t.start_factors
    for x in (start.P[0, 0], start.P[-1, -1], start.Q[0, 0], start.Q[-1, -1]):
        assert repr(float(x)) in text
    assert "'Chloé'" in text and "held out for validation" in text
    assert ast.get_docstring(tree).startswith(f"Reproduce an MF Studio run of {solver}")
    if solver == "sgd":
        assert "def matrix_factorization(R, P, Q, K" in text and "eij = R[i][j] - np.dot(P[i, :], Q[:, j])" in text
        assert "if trained[i][j]:" in text
    else:
        assert "plain-Python/numpy restatement" in ast.get_docstring(tree)


def test_reproduce_script_from_parts_equals_script_for():
    t = trained(load_example("example-1"), "nmf", {"steps": 3})
    assert reproduce_script(t.ratings, t.split.train, "nmf", t.params, t.start_factors, t.step) == script_for(t)


def test_bad_arguments_are_refused():
    t = trained(load_example("example-1"), "sgd", {"steps": 1})
    start, train = t.start_factors, t.split.train
    with pytest.raises(ParameterError):
        reproduce_script(t.ratings, train, "svd", {}, start, 1)
    with pytest.raises(ValueError, match="do not fit"):
        reproduce_script(load_example("movie-night"), train, "sgd", {}, start, 1)
    with pytest.raises(ValueError, match="biases"):
        reproduce_script(t.ratings, train, "biased-sgd", {}, start, 1)  # sgd's start has no biases
    with pytest.raises(ValueError, match="negative"):
        reproduce_script(t.ratings, train, "sgd", {}, start, -1)


def test_write_script(tmp_path):
    t = trained(load_example("example-1"), "als", {"steps": 2})
    path = write_script(tmp_path / "reproduce.py", t)
    assert path.read_text(encoding="utf-8") == script_for(t)
    assert [p.name for p in tmp_path.iterdir()] == ["reproduce.py"]  # no temp file left
    with pytest.raises(FileFormatError):
        write_script(tmp_path / "missing" / "reproduce.py", t)
