"""Opening a session in the window, before anything changes: the session checked whole, with what showing it
needs computed beforehand (the held-out cells, the results and their recommendations), so that opening is all
or nothing (``mfstudio.gui.document``)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mfstudio.core import DataError, MFStudioError, Recommendations, RunResult, Session, get_solver, memory
from mfstudio.gui.experiment import Experiment
from mfstudio.gui.grid.state import BuiltGrid


@dataclass
class Prepared:
    """A session checked whole, with what showing it needs computed beforehand."""

    session: Session
    held_out_cells: np.ndarray  # the held-out cells to show
    draw: float | None  # else a hold-out share to draw from the seed (Session.split_source decided which)
    result: RunResult | None
    recs: Recommendations | None
    history: np.ndarray | None
    grid: BuiltGrid | None = None  # the grid made beforehand (big data: off the window's thread), else None


def window_top_n(session: Session) -> int:
    """The session's top-N as the window lists it: at least one (a session written with --top 0 lists none)."""
    return max(1, int(session.top_n))


def prepare(session: Session, experiment: Experiment, *, build_grid: bool = False) -> Prepared:
    """Check a session whole and compute what showing it needs, changing nothing (a DataError if it does
    not fit: the grid is limited by memory, memory.check_grid, never by users x items). ``build_grid``: make
    the grid's state too (:class:`BuiltGrid`). Plain numpy, reading the experiment's settings only: any
    thread may run it."""
    r = session.ratings
    try:
        get_solver(session.solver).resolve_params(dict(session.params))
        source = session.split_source()  # the one precedence rule: held-out cells, else the share
        held = source if isinstance(source, np.ndarray) else np.zeros((0, 2), np.int64)
        memory.check_grid(r.n_users, r.n_items, r.nnz)
        res, recs, history = session.result, None, None
        if res is not None and not (res.factors.P.shape[0] == r.n_users and res.factors.Q.shape[1] == r.n_items):
            res = None  # results of other data are not shown (the reader says so)
        if res is not None:
            get_solver(res.solver)
            res.factors.check(r.n_users, r.n_items)
            history = np.asarray(res.history.arrays(), dtype=np.float64)
            if history.ndim != 2 or history.shape[1] != len(res.history.columns) or \
                    not np.all(np.isfinite(history[:, 0])) or np.any(np.diff(history[:, 0]) <= 0):
                raise DataError("The results' training history is damaged (its steps must be whole numbers "
                                "that go up).")
            if res.factors.all_finite():
                recs = experiment.recommend(r, res.factors, held, top_n=window_top_n(session), solver=res.solver)
    except MFStudioError:
        raise
    except (TypeError, ValueError, AttributeError, IndexError, KeyError) as exc:
        raise DataError(f"The data does not hang together ({exc}); nothing was changed.") from exc
    grid = BuiltGrid.of(r, held, zeros_are_missing=session.zeros_are_missing) if build_grid else None
    return Prepared(session, held, source if isinstance(source, float) else None, res, recs, history, grid)
