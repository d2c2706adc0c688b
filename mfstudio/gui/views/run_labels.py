"""Run labels for the loss curve's legend: a run named by its solver and the parameters that tell
it apart from the other runs shown (``sgd α=0.0002``), with what all runs share said once."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mfstudio.core.numbers import param_text

# what a run's label may name, in this order; "holdout" is the held-out share the window adds to the parameters
LABELLED = (("K", "K"), ("alpha", "α"), ("beta", "β"), ("steps", "steps"), ("tol", "tol"), ("cg_steps", "CG steps"),
            ("holdout", "hold-out"), ("seed", "seed"))
# parameters whose defaults differ by solver (sgd: 10,000 steps; als: 50), or that one solver has (als's CG steps)
PER_SOLVER = ("steps", "tol", "cg_steps")
LABEL_DIGITS = 3  # significant digits of a parameter in a label: α=0.000123, not α=0.000123456


def run_label(solver: str, params: Mapping[str, Any]) -> str:
    """A short label naming a run by its solver and key parameters, e.g. ``sgd K=2 α=0.0002 β=0.02``."""
    named = [f"{short}={param_text(params[key], LABEL_DIGITS)}" for key, short in LABELLED[:3] if key in params]
    return " ".join([solver, *named])


def run_labels(runs: list[tuple[str, Mapping[str, Any]]]) -> tuple[list[str], str]:
    """Labels that tell runs apart, and what all of them share.

    One run gets its full :func:`run_label`. Several name their solver and only the
    parameters (K, α, β, and the seed) that are not the same for every run; what is
    the same is returned as the second value (``"K=2 β=0.02"``). Identical labels
    are numbered: the second is ``… #2``, the third ``… #3``.
    """
    if len(runs) <= 1:
        return [run_label(s, p) for s, p in runs], ""
    varying, common = [], []
    for key, short in LABELLED:
        values = [p.get(key) for _s, p in runs]
        if key in PER_SOLVER:  # each solver has its own default: named only when one solver's runs differ
            differs = any(len({p.get(key) for s2, p in runs if s2 == s}) > 1 for s, _ in runs)
        else:
            differs = len(set(values)) > 1
        if differs:
            varying.append((key, short))
        elif values[0] is not None and key in ("K", "alpha", "beta") or (key == "holdout" and values[0]):
            common.append(_part(key, short, values[0]))
    labels = [" ".join([s] + [_part(key, short, p[key]) for key, short in varying if key in p]) for s, p in runs]
    seen: dict[str, int] = {}
    out = []
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
        out.append(label if seen[label] == 1 else f"{label} #{seen[label]}")
    return out, " ".join(common)


def _part(key: str, short: str, value: Any) -> str:
    """One parameter in a label: ``K=2``, ``α=0.0002``, ``hold-out 25%``."""
    if key == "holdout":
        return f"hold-out {float(value or 0):.0%}"
    if value is None:  # a parameter switched off: als's CG steps "exact"
        return f"{short}=exact"
    return f"{short}={param_text(value, LABEL_DIGITS)}"
