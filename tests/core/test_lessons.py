"""The shipped lessons: each one listed reads whole, is what tools/make_lessons.py makes now, and what its
pages say about training is true, checked here by training with the lesson's own settings and actions."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

import mfstudio.io as mio
from mfstudio.core.examples import resource_dir
from mfstudio.core.ladder import rung_errors
from mfstudio.core.lesson import Lesson
from mfstudio.core.lessons import LESSONS, lesson_path
from mfstudio.core.session import Session
from mfstudio.core.solvers import SOLVERS
from mfstudio.core.training import Training

ROOT = Path(__file__).resolve().parents[2]
CLICKS = "ratings-vs-clicks"  # the lesson that trains implicit-als
EACH = list(LESSONS)  # every lesson


def shipped(name: str) -> Lesson:
    res = mio.load(lesson_path(name))
    assert res.lesson is not None and res.notices == []
    return res.lesson


def train(session: Session, solver: str | None = None, **params: object) -> Training:
    """A finished run of the lesson's session, as a page's action asks for it (a solver switch starts from
    that solver's defaults)."""
    same = solver is None or solver == session.solver
    t = Training(session.ratings, session.solver if same else solver, {**(session.params if same else {}), **params},
                 holdout=session.split_source(), patience=session.patience)
    t.run_to_end()
    return t


def action_of(lesson: Lesson, page: int) -> dict:
    a = lesson.pages[page - 1].action
    assert a is not None and a.do == "train"
    return {**({"solver": a.solver} if a.solver else {}), **a.params}


def test_the_list_names_every_shipped_lesson_file():
    assert {p.name for p in (resource_dir() / "lessons").iterdir()} == {lesson_path(n).name for n in LESSONS}
    with pytest.raises(KeyError, match="There is no lesson called 'x'; choose one of notebook"):
        lesson_path("x")


@pytest.mark.parametrize("name", EACH)
def test_each_shipped_lesson_reads_and_its_session_is_valid(name):
    x = shipped(name)
    assert x.title == LESSONS[name] and 3 <= len(x.pages) <= 5
    assert all(len(p.text) < 700 for p in x.pages)  # a few sentences, not a chapter
    t = Training(x.session.ratings, x.session.solver, x.session.params, holdout=x.session.split_source())
    if x.start_step is not None:
        assert x.start_step <= t.budget
    assert x.session.result is None  # trained on opening (start_step) or by the reader, never shipped


def test_the_shipped_files_are_what_the_script_makes_now():
    spec = importlib.util.spec_from_file_location("make_lessons", ROOT / "tools" / "make_lessons.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    names = [n for n in LESSONS if n != CLICKS or "implicit-als" in SOLVERS]  # lesson 6 needs implicit-als
    made = script.build(names)
    assert list(made) == names

    def doc(data: bytes) -> dict:  # the app's version aside: a release alone does not change a lesson
        d = json.loads(data)
        d.pop("app"), d["session"].pop("app")
        return d

    for name, data in made.items():
        assert doc(lesson_path(name).read_bytes()) == doc(data), f"run tools/make_lessons.py: {name} is out of date"


def test_lesson_1_the_notebook_comes_closer_to_R_at_every_printout():
    x = shipped("notebook")
    s = x.session
    assert s.ratings.shape == (4, 4) and s.solver == "sgd"
    assert s.resolved_params() == {"K": 2, "steps": 10_000, "alpha": 0.0002, "beta": 0.02, "tol": 0.001, "seed": 0}
    assert {p.view for p in x.pages} >= {"Printout", "R-hat"} and "Printout" in {p.view for p in x.pages if p.action}
    h = train(s).history.arrays()
    printed = h[np.isin(h[:, 0], np.arange(1, 10_001, 1000)), 2]  # training RMSE after step 0, 1000, ... 9000
    assert len(printed) == 10 and np.all(np.diff(printed) < 0)


def test_lesson_2_too_big_a_learning_rate_diverges_and_the_suggested_one_trains():
    x = shipped("learning-rate")
    s = x.session
    assert s.params["alpha"] == 0.1 and s.params["alpha"] == 500 * 0.0002  # "five hundred times larger"
    big = train(s)
    assert big.reason.value == "diverged" and big.step + 1 <= 5  # "within a few steps"
    fix = action_of(x, 3)
    assert fix == {"alpha": 0.01} and big.suggestion == fix and "α = 0.01" in big.message  # the message says it
    fixed = train(s, **fix)
    assert fixed.reason.value == "budget" and fixed.current().train_rmse < 0.05  # "close to R"
    small = train(s, **action_of(x, 4))
    assert 0.35 < small.current().train_rmse < 0.65  # "still about half a star away"
    assert "0.01" in x.pages[2].text and "0.0002" in x.pages[3].text


def test_lesson_3_validation_error_rises_while_training_error_falls_and_fewer_factors_do_better():
    x = shipped("more-factors")
    s = x.session
    assert s.ratings.shape == (12, 15) and s.holdout == 0.25 and len(s.held_out_cells) == round(0.25 * s.ratings.nnz)
    assert (s.params["K"], s.params["beta"], x.start_step) == (4, 0.0, s.params["steps"])
    h = train(s).history.arrays()
    val, tr = h[:, 4], h[:, 2]
    best = int(np.argmin(val))
    assert best < len(val) - 1 and 50 <= h[best, 0] <= 300  # lowest "after about a hundred steps" ...
    assert val[-1] > val[best] + 0.1 and np.all(np.diff(tr[best:]) <= 0)  # ... then rises while training falls
    assert tr[-1] < 0.05  # "almost to zero"
    k2 = train(s, **action_of(x, 3)).history.arrays()[-1]
    k1 = train(s, **action_of(x, 4)).history.arrays()[-1]
    brake = train(s, **action_of(x, 5)).history.arrays()[-1]
    assert action_of(x, 3) == {"K": 2} and k2[4] < val[-1] - 0.3  # fewer factors: lower validation error
    assert k1[4] > k2[4] + 0.3 and k1[2] > 0.5  # too few: both stay high
    assert action_of(x, 5) == {"K": 4, "beta": 0.1} and brake[4] < val[-1] - 0.3  # beta, the brake


def test_lesson_4_each_rung_of_the_ladder_lowers_the_error_and_without_biases_one_factor_is_worse():
    x = shipped("biases")
    s = x.session
    assert s.solver == "biased-sgd" and x.start_view == "Ladder" and "Ladder" in {p.view for p in x.pages}
    t = train(s)
    rungs = [e.train_rmse for e in rung_errors(t.factors, t.split.train)]
    assert [e.label for e in rung_errors(t.factors, t.split.train)][:3] == ["mean only", "+ user biases",
                                                                            "+ item biases"]
    assert 0.85 < rungs[0] < 1.0 and np.all(np.diff(rungs) < 0)  # "almost a star", then lower at each rung
    plain = train(s, **action_of(x, 4))
    assert plain.solver_name == "sgd"
    assert rung_errors(plain.factors, plain.split.train)[0].train_rmse > rungs[0]


def test_lesson_5_trains_movie_night_on_opening_and_points_at_add_me():
    x = shipped("newcomer")
    s = x.session
    assert s.ratings.shape == (12, 15) and x.start_view == "Add me" and x.start_step == s.resolved_params()["steps"]
    assert sum(p.view == "Add me" for p in x.pages) >= 2 and "cold start" in " ".join(p.text for p in x.pages)
    assert {"solver", "K", "alpha", "beta", "steps"} <= x.hide
    assert train(s).reason.value == "budget"


def test_lesson_6_implicit_als_finds_far_more_held_out_plays_than_als_on_the_same_plays_read_as_ratings():
    from mfstudio.core.ranking import ranking_metrics

    x = shipped(CLICKS)
    s = x.session
    assert s.ratings.implicit and s.ratings.shape == (50, 40) and s.solver == "implicit-als"
    assert len(s.held_out_cells) == round(0.2 * s.ratings.nnz)  # "a fifth of the plays were hidden"
    assert action_of(x, 2) == {} and action_of(x, 5) == {"solver": "als"} and x.pages[3].view == "Recommendations"
    clicks, stars = train(s), train(s, solver="als")
    # every held-out interaction is relevant: below the smallest count, 1
    got = {t.solver_name: ranking_metrics(t.factors, t.split.train, t.split.val, 10, 0.5) for t in (clicks, stars)}
    assert 0.7 <= got["implicit-als"]["recall@10"] <= 0.8  # "about three quarters of them"
    assert got["als"]["recall@10"] < 0.5  # "far fewer of the hidden plays, less than half"
    assert got["implicit-als"]["precision@10"] > 1.5 * got["als"]["precision@10"]
