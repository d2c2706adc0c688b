"""Defaults that suit the data: the notebook's values for matrices of its size, measured ones for larger data.

The notebook's α = 0.0002 and β = 0.02 were chosen for a 5 × 4 matrix. On MovieLens-sized data they are
a poor start: measured on ML-100K-shaped data (943 × 1,682, 100,000 ratings, a fifth held out, 30 steps,
``mfstudio sweep``), held-out RMSE

==========  ====================  ========================  ==============================
solver      the notebook's value  held-out RMSE              at the larger-data value
==========  ====================  ========================  ==============================
als         β = 0.02              1.195 (K = 20)            0.929 with β = 0.2
nmf         β = 0.02              1.019 (K = 20)            0.984 with β = 0.2
sgd         α = 0.0002            1.106 (K = 2)             0.974 with α = 0.002
==========  ====================  ========================  ==============================

(biased-sgd's defaults, α = 0.005 and β = 0.02, are Surprise's and already suit large data.) So data with
at least :data:`LARGER` ratings starts from the values on the right. The choice is always said — the
window's status line, the command line's notes — and a value the user set is never replaced.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mfstudio.core.numbers import param_text
from mfstudio.core.solvers import get_solver

LARGER = 1_000  # ratings from which the larger-data values apply (the shipped examples have fewer)
LARGER_DATA: dict[str, dict[str, float]] = {
    "als": {"beta": 0.2},
    "nmf": {"beta": 0.2},
    "sgd": {"alpha": 0.002},
}


def suits_larger(n_ratings: int) -> bool:
    """True for data that starts from the larger-data values."""
    return n_ratings >= LARGER


def data_defaults(solver: str, n_ratings: int) -> dict[str, Any]:
    """The solver's defaults for data of ``n_ratings`` ratings (all of its parameters)."""
    out = {s.name: s.default for s in get_solver(solver).params}
    if suits_larger(n_ratings):
        out.update(LARGER_DATA.get(solver, {}))
    return out


def retune(solver: str, params: Mapping[str, Any], n_ratings: int) -> dict[str, Any]:
    """The parameters among ``params`` still at the other data size's default, with this size's value (a
    value set by hand stays): what opening data of ``n_ratings`` ratings changes."""
    own = {s.name: s.default for s in get_solver(solver).params}
    larger = suits_larger(n_ratings)
    out: dict[str, Any] = {}
    for name, value in LARGER_DATA.get(solver, {}).items():
        before, after = (own[name], value) if larger else (value, own[name])
        if name in params and params[name] == before:
            out[name] = after
    return out


def sentence(solver: str, changed: Mapping[str, Any], n_ratings: int) -> str:
    """What the change says: "For 100,000 ratings als starts from β = 0.2 (the notebook's 0.02 suits its
    5 × 4 matrix and overfits larger data)." — or back to the notebook's values for small data."""
    specs = {s.name: s for s in get_solver(solver).params}

    def name(key: str) -> str:
        label = specs[key].label
        return label[label.rindex("(") + 1: -1] if label.endswith(")") else key

    now = " and ".join(f"{name(k)} = {param_text(v)}" for k, v in changed.items())
    if suits_larger(n_ratings):
        was = " and ".join(param_text(specs[k].default) for k in changed)
        return (f"For {n_ratings:,} ratings {solver} starts from {now} (the notebook's {was} suits its 5 × 4 matrix "
                "and does worse on larger data); any value can still be set.")
    return f"For {n_ratings:,} ratings {solver} starts from the notebook's {now} again."


DEFAULT_SOLVER = "sgd"  # the solver for ratings, when nothing names one (no flag, no session's own)
IMPLICIT_SOLVER = "implicit-als"  # the solver for counts of events (implicit feedback)


def solver_for(solver: str, implicit: bool) -> str:
    """The solver to start from for data of this kind: ``solver``, unless the data is counts of events and
    ``solver`` models ratings, then ``implicit-als`` (when it is installed)."""
    from mfstudio.core.solvers import SOLVERS

    if implicit and IMPLICIT_SOLVER in SOLVERS and not SOLVERS[solver].implicit:
        return IMPLICIT_SOLVER
    return solver


def reads_as_interactions(solver: str | None, implicit: bool) -> bool:
    """The one rule for the data's kind when it is read: counts of events (interactions) when ``implicit`` (the
    --implicit switch, the Counts switch) is on, or when ``solver`` models them (implicit-als reads every value
    as a count and every empty cell as "not chosen"); ratings otherwise. An unknown ``solver`` models nothing."""
    from mfstudio.core.solvers import SOLVERS

    return bool(implicit or (solver in SOLVERS and SOLVERS[solver].implicit))


def interactions_note(solver: str, name: str) -> str:
    """What is said when ``solver`` (and no switch) makes ``name`` read as interactions, not ratings."""
    return (f"{solver} models counts of events, so {name} is read as interactions (each value a count, each empty "
            "cell no interaction), as --implicit reads it; the held-out interactions are judged by ranking.")
