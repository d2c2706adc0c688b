"""Shared helpers for the io tests: write a file and read it back."""

from __future__ import annotations

from pathlib import Path

import pytest

import mfstudio.io as mio


@pytest.fixture
def write(tmp_path: Path):
    """write(name, content) -> path; str content is written as UTF-8 unless bytes are given."""

    def _write(name: str, content: str | bytes) -> Path:
        p = tmp_path / name
        p.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
        return p

    return _write


@pytest.fixture
def load_text(write):
    """load_text(content, name="r.csv", **kw) -> LoadResult."""

    def _load(content: str | bytes, name: str = "r.csv", **kw) -> mio.LoadResult:
        return mio.load(write(name, content), **kw)

    return _load


def make_session(solver: str = "sgd", steps: int = 30, hold_out: bool = True, ratings=None):
    """A Session with results from a short real training run (example 1 by default)."""
    import numpy as np

    from mfstudio.core.examples import load_example
    from mfstudio.core.session import RunResult, Session
    from mfstudio.core.training import Training

    ratings = ratings if ratings is not None else load_example("example-1")
    o = ratings.observed
    cells = np.array([[o.rows[0], o.cols[0]], [o.rows[-1], o.cols[-1]]]) if hold_out else np.zeros((0, 2), np.int64)
    s = Session(ratings=ratings, held_out_cells=cells, solver=solver, params={"K": 2, "steps": steps, "seed": 3},
                holdout=0.0, patience=None)
    t = Training(ratings, solver, s.params, holdout=s.held_out_flags())
    t.run_to_end()
    s.result = RunResult(solver, dict(t.params), t.factors.copy(), t.history, t.step, t.elapsed,
                         t.reason.value, t.message)
    return s


def make_early_session():
    """A Session whose result stopped early (movie night, patience 20): its history runs 20 steps past the best."""
    import numpy as np

    from mfstudio.core import RunResult, Session, Training, load_example

    r = load_example("movie-night")
    t = Training(r, "sgd", {"K": 4, "steps": 20_000, "alpha": 0.02, "beta": 0.0, "tol": 0.0}, holdout=0.2,
                 patience=20)
    snap = t.run_to_end()
    s = Session(ratings=r, held_out_cells=np.zeros((0, 2), np.int64), solver="sgd", params=dict(t.params),
                holdout=0.2, patience=20)
    s.result = RunResult.from_snapshot("sgd", t.params, snap, t.history)
    return s


@pytest.fixture
def session():
    return make_session()
