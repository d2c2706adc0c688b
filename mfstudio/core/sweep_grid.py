"""A sweep's grid: one or two of a solver's parameters, each with the values to try.

Names are matched as the command line's flags are (``k``, ``K`` and ``--k`` are K; case, leading
dashes and ``-``/``_`` aside), while the name as given is kept for the CSV columns. Values are a
list (``1,2,5,10``), a linear grid ``from:to:n`` or a log grid ``from:to:nlog`` (``0.01:1:5log``);
each is checked by the parameter's declaration, so a value out of range gets its sentence.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from mfstudio.core.errors import ParameterError
from mfstudio.core.numbers import NumberError, read_whole
from mfstudio.core.params import ParamSpec
from mfstudio.core.solvers import SOLVERS, get_solver

MAX_AXES = 2  # a line for one parameter, a heatmap for two
MAX_VALUES = 1000  # values of one parameter
MAX_POINTS = 10_000  # points of a whole grid
GRID_DIGITS = 6  # a grid's values are rounded to this many significant digits (0.0316228, not 0.0316227766...)
VALUES_HELP = ("a list (1,2,5,10), a linear grid from:to:n (1:10:4 is 1, 4, 7, 10) or a log grid from:to:nlog "
               "(0.01:1:5log is 0.01, 0.0316228, 0.1, 0.316228, 1)")


@dataclass(frozen=True)
class Axis:
    """One swept parameter: its declared ``name`` ("K"), the ``label`` it was given as ("k", a CSV column),
    its checked ``values`` in the order given, whether they are log-spaced (the chart's x axis), and the
    declaration's ``title`` ("Latent features (K)", for the chart)."""

    name: str
    label: str
    values: tuple[Any, ...]
    log: bool = False
    title: str = ""


@dataclass(frozen=True)
class Point:
    """One combination of the axes' values; ``index`` counts points with the first axis outermost."""

    index: int
    values: tuple[Any, ...]  # one per axis

    def params(self, axes: Sequence[Axis]) -> dict[str, Any]:
        """This point's values by declared name (``{"K": 5, "beta": 0.1}``)."""
        return {a.name: v for a, v in zip(axes, self.values)}

    def describe(self, axes: Sequence[Axis]) -> str:
        """``K = 5, beta = 0.1``: the point as the labels it was given."""
        return ", ".join(f"{a.label} = {value_text(v)}" for a, v in zip(axes, self.values))


def value_text(v: Any) -> str:
    """A swept value as it is written in sentences and in sweep.csv: ``5``, ``0.1``, ``1e-05`` (reads back exactly)."""
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    text = repr(float(v))
    return text[:-2] if text.endswith(".0") else text


def _key(text: str) -> str:
    return text.strip().lstrip("-").lower().replace("-", "_")


def find_param(solver: str, name: str) -> ParamSpec:
    """The ``solver``'s parameter called ``name`` (as a flag is: ``k``, ``--beta``), or a ParameterError that
    names the ones it takes."""
    cls = get_solver(solver)
    key = _key(name)
    for spec in cls.params:
        if key in {_key(spec.name), _key(spec.flag or spec.name)}:
            return spec
    known = ", ".join(s.name for s in cls.params)
    if not key:
        raise ParameterError(f"A swept parameter needs a name, as in K=1,2,5; the {solver} solver takes {known}.")
    others = [n for n, c in SOLVERS.items() if any(key == _key(s.name) for s in c.params)]
    if others:
        spec = next(s for s in get_solver(others[0]).params if key == _key(s.name))
        raise ParameterError(f"The {solver} solver has no {spec.label.lower()} to sweep; choose the solver "
                             f"{' or '.join(others)}, or sweep one of {known}.")
    raise ParameterError(f"There is no parameter {name.strip()!r} to sweep; the {solver} solver takes {known}.")


def _grid(spec: ParamSpec, text: str) -> list[Any]:
    """``from:to:n`` or ``from:to:nlog`` as values (rounded to GRID_DIGITS; whole for a whole-number parameter)."""
    parts = [p.strip() for p in text.split(":")]
    if len(parts) != 3:
        raise ParameterError(f"{spec.name}={text} is no grid; write from:to:n or from:to:nlog, e.g. "
                             f"{spec.name}=0.01:1:5log.")
    log = parts[2].lower().endswith("log")
    count = parts[2][:-3].strip() if log else parts[2]
    try:
        n = read_whole(count)
    except (NumberError, ValueError):
        n = 0
    if not 2 <= n <= MAX_VALUES:
        raise ParameterError(f"The grid {spec.name}={text} needs a number of values from 2 to {MAX_VALUES:,} after "
                             f"the second colon, e.g. {spec.name}=0.01:1:5log.")
    lo, hi = (spec.validate(p) for p in parts[:2])
    if lo is None or hi is None or lo == hi:
        raise ParameterError(f"The grid {spec.name}={text} needs two different ends, e.g. {spec.name}=0.01:1:5log.")
    if log and (lo <= 0 or hi <= 0):
        raise ParameterError(f"A log grid needs both ends above 0; {spec.name}={text} has {value_text(min(lo, hi))}. "
                             f"Use a linear grid (from:to:n) or a list.")
    xs = np.geomspace(lo, hi, n) if log else np.linspace(lo, hi, n)
    if spec.kind is int:
        out = [int(round(x)) for x in xs]
    else:
        out = [float(f"{x:.{GRID_DIGITS}g}") for x in xs]
        out[0], out[-1] = float(lo), float(hi)
    return list(dict.fromkeys(out))  # a whole-number grid may round two values to one


def parse_values(spec: ParamSpec, text: str) -> list[Any]:
    """The values ``text`` gives for ``spec`` (see :data:`VALUES_HELP`), each checked by its declaration."""
    text = text.strip()
    if not text:
        raise ParameterError(f"{spec.name} has no values; give {VALUES_HELP}.")
    if ":" in text:
        return [spec.validate(v) for v in _grid(spec, text)]
    out = []
    for part in text.split(","):
        if not part.strip():
            raise ParameterError(f"{spec.name}={text} has an empty value; separate the values by single commas, "
                                 f"e.g. {spec.name}=1,2,5.")
        out.append(spec.validate(part.strip()))
    return out


def looks_log(values: Sequence[float]) -> bool:
    """True when positive values spread over at least a factor of 10 lie more evenly on a log scale than on a
    linear one (0.01, 0.1, 1 and 1, 2, 5, 10, 20 do; 1, 2, 3 and 10, 20, 30 do not)."""
    v = np.sort(np.asarray([x for x in values if x is not None], dtype=float))
    if len(v) < 2 or v[0] <= 0 or v[-1] / v[0] < 10:
        return False
    if len(v) == 2:
        return True

    def unevenness(x: np.ndarray) -> float:
        d = np.diff(x)
        return float(d.max() / d.min()) if d.min() > 0 else math.inf

    return unevenness(np.log(v)) < unevenness(v)


def make_axis(solver: str, name: str, values: str | Sequence[Any]) -> Axis:
    """An :class:`Axis` of ``solver``'s parameter ``name``: ``values`` as text (see :data:`VALUES_HELP`) or a
    sequence, each checked; a value given twice is refused."""
    spec = find_param(solver, name)
    vals = parse_values(spec, values) if isinstance(values, str) else [spec.validate(v) for v in values]
    if not vals:
        raise ParameterError(f"{spec.name} has no values; give {VALUES_HELP}.")
    if len(vals) > MAX_VALUES:
        raise ParameterError(f"{spec.name} has {len(vals):,} values; a sweep takes at most {MAX_VALUES:,} per "
                             "parameter.")
    seen: set[Any] = set()
    for v in vals:
        if v in seen:
            raise ParameterError(f"{spec.name} lists {value_text(v)} twice; give each value once.")
        seen.add(v)
    log = isinstance(values, str) and values.strip().lower().endswith("log") or looks_log(vals)
    return Axis(spec.name, name.strip().lstrip("-") or spec.name, tuple(vals), bool(log), spec.label)


def check_axes(axes: Sequence[Axis]) -> None:
    """Refuse no axis, more than :data:`MAX_AXES`, one parameter swept twice, or too many points."""
    if not axes:
        raise ParameterError("A sweep needs a parameter to vary, e.g. --param K=1,2,5,10.")
    if len(axes) > MAX_AXES:
        raise ParameterError(f"A sweep varies at most {MAX_AXES} parameters (a line or a heatmap); "
                             f"{', '.join(a.label for a in axes)} are {len(axes)}.")
    names = [a.name for a in axes]
    for n in names:
        if names.count(n) > 1:
            raise ParameterError(f"{n} is swept twice; give all of its values in one --param {n}=...")
    total = math.prod(len(a.values) for a in axes)
    if total > MAX_POINTS:
        raise ParameterError(f"The grid has {total:,} points; a sweep takes at most {MAX_POINTS:,}, so give fewer "
                             "values.")


def grid_points(axes: Sequence[Axis]) -> list[Point]:
    """Every combination of the axes' values, the first axis outermost."""
    return [Point(i, tuple(vs)) for i, vs in enumerate(itertools.product(*(a.values for a in axes)))]
