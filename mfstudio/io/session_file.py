"""Session files (``.mfstudio``): one human-readable JSON document, gzip-compressed when large.

Layout (version 1)::

    {"format": "mfstudio-session", "version": 1, "app": "MF Studio 0.1.0",
     "ratings": {"shape": [n, m], "users": [...], "items": [...], "scale": [lo, hi],
                 "R": [[null, 4.5, ...], ...]            (small data: the grid, null = not rated)
                 or "entries": [[row, col, value], ...],   (larger data)
                 or "entries": {"packing": "base64-le", ...}, (over a million: session_packed)
                 "item_genres": [["Action", ...], ...],    (optional: one list per item)
                 "implicit": true},                         (optional: counts of events, not ratings)
     "held_out": [[row, col], ...] (or packed), "solver": "sgd", "params": {...},
     "holdout_fraction": 0.0, "patience": null, "zeros_are_missing": true, "top_n": 10,
     "relevance": null,                                    (null: auto; files before it: auto)
     "result": null or {"solver", "params", "steps_done", "elapsed_s", "reason", "message",
                        "relevant_from": 4.0 or null,       (the threshold of the ranking columns)
                        "best_step": 90 or null,            (after an early stop: the step whose factors these are)
                        "factors": {"K", "P", "Q", "user_bias", "item_bias", "global_mean"},
                        "history": {"columns": [...], "rows": [[...], ...]}},
     "runs": [{"name", "visible", "solver", "params", "holdout", "patience", "top_n", "steps_done",
               "elapsed_s", "reason", "metrics": {"train_rmse": ..., ...}, "best_step", "history"}, ...]}
                                                           (optional: the runs table, oldest first)

The history's columns are read by name: any of HISTORY_COLUMNS missing (an older file) is
NaN, and the ranking metrics' four (``precision@10`` ... for one k) are kept when all are there, with
``mpr`` (implicit data) when it is there too.

In number arrays ``null`` is NaN and the strings ``"Infinity"``/``"-Infinity"`` are
the infinities (only where a value may be missing or infinite: the history), so the file
stays standard JSON. Version 0 is the layout of the bundled example files (``R``, ``users``, ``items``,
``scale``, ``zeros_are_missing``, for Movie night ``item_genres`` and for the listening log ``implicit``); it is
migrated on reading. A file without ``implicit`` (every file before it) holds ratings.

Reading trusts nothing: no eval, no pickle; gzip unpacked in pieces up to 20 times its
packed size; nesting depth, number length and the count of nulls bounded before parsing;
a key twice in one object, data after the gzip member, true/false or text where numbers
belong all refused. The rule for what is wrong: outside the saved results it refuses the
file with one sentence; inside them it drops the results with a notice and opens the
ratings and settings; damaged runs are dropped the same way. Either way what the reader returns is
whole and valid.

This module reads the document; session_json reads the bytes as bounded JSON, session_write writes.
The keys ``held_out`` and ``holdout_fraction`` keep their names for the files already saved; in a
Session they are ``held_out_cells`` and ``holdout``.
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from mfstudio.core import defaults
from mfstudio.core.errors import MFStudioError
from mfstudio.core.history import History, columns_for
from mfstudio.core.params import HOLDOUT, PATIENCE, RELEVANCE, TOP_N
from mfstudio.core.params import K as K_SPEC
from mfstudio.core.ratings import Ratings
from mfstudio.core.runs import NAME_MAX_CHARS, RunRecord
from mfstudio.core.session import RunResult, Session
from mfstudio.core.solvers import Factors, get_solver
from mfstudio.core.training import StopReason
from mfstudio.io.errors import FileFormatError
from mfstudio.io.files import read_bytes
from mfstudio.io.session_json import MAX_GRID_CELLS, MAX_HISTORY_ROWS, document_from_bytes
from mfstudio.io.session_packed import unpack
from mfstudio.io.session_write import FORMAT_NAME, FORMAT_VERSION

MAX_STEP = 2**53  # steps are counted exactly in a float up to here
MAX_MESSAGE_CHARS = 100_000
MAX_RUNS = 10_000  # runs a session keeps
MAX_METRICS = 100  # metrics per run


class _ResultError(Exception):
    """Saved results that cannot be used; ``str`` completes "its saved results ..."."""


_NONE = type(None)


class _Doc:
    """Checked access to the parsed document, each failure a sentence naming the field.

    With ``results`` the failures are _ResultError: what is wrong in the saved results drops
    them (with a notice) instead of refusing the file.
    """

    def __init__(self, name: str, results: bool = False) -> None:
        self.name = name
        self.results = results

    def fail(self, what: str) -> Exception:
        if self.results:
            return _ResultError(f"are damaged ({what})")
        return FileFormatError(f"{self.name} is damaged: {what}; open an older copy or save the session again.")

    def get(self, d: Any, key: str, kinds: tuple[type, ...], where: str, default: Any = ...,
            nullable: bool = False) -> Any:
        if not isinstance(d, dict):
            raise self.fail(f"'{where}' is not an object")
        if key not in d:
            if default is ...:
                raise self.fail(f"'{where}.{key}' is missing")
            return default
        v = d[key]
        if v is None and nullable:
            return None
        if isinstance(v, bool) and bool not in kinds or not isinstance(v, kinds):
            raise self.fail(f"'{where}.{key}' has the wrong type")
        return v

    def number(self, d: Any, key: str, where: str, default: Any = ...) -> float:
        """A finite JSON number (not true/false, not a string)."""
        v = self.get(d, key, (int, float), where, default)
        try:
            x = float(v)
        except OverflowError:
            x = math.inf
        if not math.isfinite(x):
            raise self.fail(f"'{where}.{key}' must be a finite number")
        return x

    def floats(self, v: Any, ndim: int, where: str, finite: bool = False, nulls: bool = True,
               infinities: bool = True) -> np.ndarray:
        """An ndim-dimensional array of JSON numbers; null (NaN) and "Infinity"/"-Infinity" only
        where allowed; never true/false or other strings (numpy would read those as numbers)."""
        if type(v) is not list or (ndim == 2 and not set(map(type, v)) <= {list}):
            raise self.fail(f"'{where}' must be a {ndim}-dimensional array of numbers")
        kinds = set(map(type, itertools.chain.from_iterable(v) if ndim == 2 else v))
        allowed = {int, float} | ({_NONE} if nulls and not finite else set()) | (
            {str} if infinities and not finite else set())
        if not kinds <= allowed:
            bad = ("true or false" if bool in kinds else "text" if str in kinds
                   else "null" if _NONE in kinds else "a list or object")
            raise self.fail(f"'{where}' must hold numbers only, not {bad}")
        if str in kinds:
            strings = {x for x in (itertools.chain.from_iterable(v) if ndim == 2 else v) if type(x) is str}
            if not strings <= {"Infinity", "-Infinity"}:
                raise self.fail(f"'{where}' must hold numbers only, not text")
        try:
            a = np.array(v, dtype=np.float64)
        except (TypeError, ValueError, OverflowError):
            raise self.fail(f"'{where}' must be an array of numbers in rows of equal length") from None
        if a.size == 0 and a.ndim < ndim:
            a = a.reshape((0,) * ndim)
        if a.ndim != ndim:
            raise self.fail(f"'{where}' must be a {ndim}-dimensional array")
        if finite and not np.all(np.isfinite(a)):
            raise self.fail(f"'{where}' holds a missing or infinite value where a number is needed")
        return a

    def ints(self, v: Any, ndim: int, where: str) -> np.ndarray:
        """An ndim-dimensional array of JSON whole numbers written as such (2, not 2.0, "2" or true)."""
        if type(v) is not list or (ndim == 2 and not set(map(type, v)) <= {list}):
            raise self.fail(f"'{where}' must be a {ndim}-dimensional array of whole numbers")
        if not set(map(type, itertools.chain.from_iterable(v) if ndim == 2 else v)) <= {int}:
            raise self.fail(f"'{where}' must hold whole numbers only")
        try:
            a = np.array(v, dtype=np.int64)
        except (TypeError, ValueError, OverflowError):
            raise self.fail(f"'{where}' must hold whole numbers of a sensible size, in rows of equal length") from None
        if a.size == 0 and a.ndim < ndim:
            a = a.reshape((0,) * ndim)
        if a.ndim != ndim:
            raise self.fail(f"'{where}' must be a {ndim}-dimensional array")
        return a

    def text(self, v: str, where: str) -> str:
        try:
            v.encode("utf-8")
        except UnicodeEncodeError:
            raise self.fail(f"'{where}' holds a character that cannot be saved (a lone surrogate)") from None
        return v

    def labels(self, v: Any, n: int, where: str) -> list[str]:
        if not isinstance(v, list) or len(v) != n or not set(map(type, v)) <= {str}:
            raise self.fail(f"'{where}' must be a list of {n:,} names")
        return v

    def genres(self, v: Any, n: int, where: str) -> list[list[str]]:
        if not isinstance(v, list) or len(v) != n or not all(
                isinstance(g, list) and all(isinstance(x, str) for x in g) for g in v):
            raise self.fail(f"'{where}' must be a list of {n:,} lists of genre names")
        return v


def _migrate_0(doc: dict[str, Any]) -> dict[str, Any]:
    """Version 0 (the example files' layout: R grid, zeros_are_missing, labels, scale) to 1."""
    grid = doc.get("R")
    if not isinstance(grid, list) or not all(isinstance(r, list) for r in grid):
        raise FileFormatError("The file has no rating grid 'R'; it is not an MF Studio session.")
    zeros_missing = doc.get("zeros_are_missing", True)
    if not isinstance(zeros_missing, bool):
        raise FileFormatError("The file's 'zeros_are_missing' must be true or false; "
                              "it is not a valid MF Studio session.")
    n = len(grid)
    m = len(grid[0]) if grid else 0
    if n * m > MAX_GRID_CELLS:
        raise FileFormatError(f"The file's rating grid 'R' is {n:,} x {m:,}, more than a grid in a session may be "
                              f"({MAX_GRID_CELLS:,} cells); save the ratings as a CSV file and open that.")
    # 0 (and -0) is "not rated" when zeros are missing; false == 0 in Python, but false is no rating
    rows = [[None if (x is None or (zeros_missing and type(x) in (int, float) and x == 0)) else x for x in r]
            for r in grid]
    ratings = {
        "shape": [n, m],
        "users": doc.get("users", [f"User {i + 1}" for i in range(n)]),
        "items": doc.get("items", [f"Item {j + 1}" for j in range(m)]),
        "scale": doc.get("scale"),
        "R": rows,
    }
    if "item_genres" in doc:  # Movie night's
        ratings["item_genres"] = doc["item_genres"]
    if "implicit" in doc:  # the listening log's: counts of plays
        ratings["implicit"] = doc["implicit"]
    return {"format": FORMAT_NAME, "version": 1, "ratings": ratings, "zeros_are_missing": zeros_missing}


MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {0: _migrate_0}


def _ratings(doc: _Doc, rat: Any) -> Ratings:
    shape = doc.ints(doc.get(rat, "shape", (list,), "ratings"), 1, "ratings.shape")
    if shape.shape != (2,) or shape.min() < 0:
        raise doc.fail("'ratings.shape' must be two whole numbers")
    n, m = int(shape[0]), int(shape[1])  # no limit on n x m: the labels and entries listed bound the memory
    users = doc.labels(doc.get(rat, "users", (list,), "ratings"), n, "ratings.users")
    items = doc.labels(doc.get(rat, "items", (list,), "ratings"), m, "ratings.items")
    scale_v = doc.get(rat, "scale", (list,), "ratings", default=None, nullable=True)
    scale = None
    if scale_v is not None:
        s = doc.floats(scale_v, 1, "ratings.scale", finite=True)
        if s.shape != (2,) or s[0] >= s[1]:
            raise doc.fail("'ratings.scale' must be two numbers, minimum below maximum")
        scale = (float(s[0]), float(s[1]))
    if "R" in rat and "entries" in rat:
        raise doc.fail("'ratings' holds both a grid 'R' and 'entries', so which one is meant is unclear")
    if "R" in rat:
        if n * m > MAX_GRID_CELLS:
            raise doc.fail(f"'ratings.R' is a {n:,} x {m:,} grid; a grid holds at most {MAX_GRID_CELLS:,} cells "
                           "(larger ratings are saved as 'entries')")
        R = doc.floats(doc.get(rat, "R", (list,), "ratings"), 2, "ratings.R", infinities=False)
        if R.shape != (n, m) and not (R.size == 0 and n * m == 0):
            raise doc.fail(f"'ratings.R' is {R.shape[0]} x {R.shape[1] if R.ndim > 1 else 0}, not {n} x {m}")
        rows, cols = np.nonzero(~np.isnan(R.reshape(n, m)))
        vals = R.reshape(n, m)[rows, cols]
    else:
        entries = doc.get(rat, "entries", (list, dict), "ratings")
        listed = entries.get("count", 0) if isinstance(entries, dict) else len(entries)
        if type(listed) is int and listed > n * m:
            raise doc.fail(f"'ratings.entries' lists {listed:,} ratings, more than the {n:,} x {m:,} matrix has cells")
        if isinstance(entries, dict):  # packed (large data: session_packed)
            rows, cols, vals = unpack(entries, "ratings.entries", True, doc.fail)
            if not np.all(np.isfinite(vals)):
                raise doc.fail("'ratings.entries' holds a rating that is not a finite number")
        else:
            e = doc.floats(entries, 2, "ratings.entries", finite=True)
            if e.size == 0:
                e = e.reshape(0, 3)
            if e.shape[1] != 3:
                raise doc.fail("each of 'ratings.entries' must be [row, column, rating] with a finite rating")
            rows, cols, vals = e[:, 0], e[:, 1], e[:, 2]
            if not (np.all(rows == np.round(rows)) and np.all(cols == np.round(cols))):
                raise doc.fail("'ratings.entries' rows and columns must be whole numbers")
        if rows.size and (rows.min() < 0 or rows.max() >= n or cols.min() < 0 or cols.max() >= m):
            raise doc.fail(f"'ratings.entries' holds a row or column outside the {n:,} x {m:,} matrix")
    genres_v = doc.get(rat, "item_genres", (list,), "ratings", default=None, nullable=True)  # absent before genres
    genres = None if genres_v is None else doc.genres(genres_v, m, "ratings.item_genres")
    implicit = doc.get(rat, "implicit", (bool,), "ratings", default=False)  # absent: ratings (files before it)
    try:
        return Ratings(rows.astype(np.int64, copy=False), cols.astype(np.int64, copy=False), vals, (n, m), users,
                       items, scale, genres,
                       implicit=implicit)
    except MFStudioError as exc:
        raise doc.fail(f"the ratings are invalid ({str(exc).rstrip('.')})") from None


REASONS = frozenset(["", *(r.value for r in StopReason)])


def _json_numbers(params: dict[str, Any], solver: str) -> dict[str, Any]:
    """``params`` unchanged when every value is a JSON number of the parameter's kind, or null for one
    that can be switched off (``"cg_steps": null``: als solves exactly); a ParameterError otherwise:
    "2" (text), true, and 2.0 for a whole-number parameter are not read as numbers, by the one rule
    for numbers."""
    from mfstudio.core.errors import ParameterError

    can_be_off = {s.name for s in get_solver(solver).params if s.off}
    for key, value in params.items():
        if value is None and key in can_be_off:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            shown = repr(value) if len(repr(value)) <= 30 else repr(value)[:27] + "..."
            raise ParameterError(f"{key!r} is {shown}, not a number (write it without quotes).")
    return params


def _result(name: str, res: Any, ratings: Ratings) -> RunResult:
    """The saved results, every part checked so that the window can show them; _ResultError
    (they are then dropped with a notice) for anything that is not so."""
    doc = _Doc(name, results=True)
    solver = doc.text(doc.get(res, "solver", (str,), "result"), "result.solver")
    params = doc.get(res, "params", (dict,), "result")
    try:
        cls = get_solver(solver)
        cls.resolve_params(params)  # unknown names first, with the solver's own sentence
        typed = cls.resolve_params(_json_numbers(params, solver))
    except MFStudioError as exc:
        raise _ResultError(f"have invalid solver settings ({str(exc).rstrip('.')})") from None
    params = {k: typed[k] for k in params}
    f = doc.get(res, "factors", (dict,), "result")
    K = doc.get(f, "K", (int,), "result.factors")
    if not K_SPEC.minimum <= K <= K_SPEC.maximum:
        raise doc.fail(f"'result.factors.K' is {K:,}; K must be from {K_SPEC.minimum} up to {K_SPEC.maximum:,}")
    if "K" in params and params["K"] != K:
        raise doc.fail(f"'result.params' says K = {params['K']} but the factors have K = {K}")
    n, m = ratings.shape
    P = doc.floats(doc.get(f, "P", (list,), "result.factors"), 2, "result.factors.P", finite=True)
    Q = doc.floats(doc.get(f, "Q", (list,), "result.factors"), 2, "result.factors.Q", finite=True)
    if P.size == 0 and n * K == 0:
        P = P.reshape(n, K)
    if Q.size == 0 and K * m == 0:
        Q = Q.reshape(K, m)
    if P.shape != (n, K) or Q.shape != (K, m):
        raise _ResultError(f"do not fit its ratings (P must be {n} x {K} and Q {K} x {m})")
    biases: list[np.ndarray | None] = []
    for key, size in (("user_bias", n), ("item_bias", m)):
        b = doc.get(f, key, (list,), "result.factors", default=None, nullable=True)
        if b is not None:
            b = doc.floats(b, 1, f"result.factors.{key}", finite=True)
            if b.shape != (size,):
                raise doc.fail(f"'result.factors.{key}' must have {size:,} entries, one per {key[:4]}")
        biases.append(b)
    if (biases[0] is None) != (biases[1] is None):
        given, missing = ("user_bias", "item_bias") if biases[1] is None else ("item_bias", "user_bias")
        raise doc.fail(f"'result.factors.{given}' is given but '{missing}' is not; a model has both biases or neither")
    if cls.uses_biases and biases[0] is None:
        raise doc.fail(f"the {solver} solver learns biases, but 'result.factors.user_bias' and 'item_bias' are missing")
    if not cls.uses_biases and biases[0] is not None:
        raise doc.fail(f"the {solver} solver has no biases, but 'result.factors.user_bias' and 'item_bias' are given")
    gm = doc.number(f, "global_mean", "result.factors", default=0.0)
    history = _history(doc, doc.get(res, "history", (dict,), "result"))
    steps = doc.get(res, "steps_done", (int,), "result")
    if not 0 <= steps <= MAX_STEP:
        raise doc.fail(f"'result.steps_done' must be a whole number from 0 up to {MAX_STEP:,}")
    elapsed = doc.number(res, "elapsed_s", "result", default=0.0)
    if elapsed < 0:
        raise doc.fail("'result.elapsed_s' must be 0 or more")
    reason = doc.get(res, "reason", (str,), "result", default="")
    if reason not in REASONS:
        raise doc.fail(f"'result.reason' is {reason!r}, not a way a run ends ({', '.join(sorted(REASONS - {''}))})")
    message = doc.text(doc.get(res, "message", (str,), "result", default=""), "result.message")
    if len(message) > MAX_MESSAGE_CHARS:
        raise doc.fail(f"'result.message' is longer than {MAX_MESSAGE_CHARS:,} characters")
    relevant_from = None if res.get("relevant_from") is None else doc.number(res, "relevant_from", "result")
    best = _whole(doc, res, "best_step", "result", 0, int(steps), None)  # absent before: None
    return RunResult(solver=solver, params=params, factors=Factors(P, Q, biases[0], biases[1], gm), history=history,
                     steps_done=int(steps), elapsed_s=elapsed, reason=reason, message=message,
                     relevant_from=relevant_from, best_step=best)


def _history(doc: _Doc, h: Any, where: str = "result.history") -> History:
    cols = doc.get(h, "columns", (list,), where)
    if not set(map(type, cols)) <= {str}:
        raise doc.fail(f"'{where}.columns' must be a list of column names")
    if len(set(cols)) != len(cols):
        raise doc.fail(f"'{where}.columns' names a column twice")
    rows_v = doc.get(h, "rows", (list,), where)
    if len(rows_v) > MAX_HISTORY_ROWS:
        raise doc.fail(f"'{where}.rows' has {len(rows_v):,} rows, "
                       f"more than a history keeps ({MAX_HISTORY_ROWS:,})")
    raw = doc.floats(rows_v, 2, f"{where}.rows") if rows_v else np.zeros((0, len(cols)))
    if raw.shape[1] != len(cols):
        raise doc.fail(f"'{where}.rows' must have one value per column")
    if raw.shape[0] and "step" not in cols:
        raise doc.fail(f"'{where}.columns' has no 'step'")
    columns = columns_for(cols)  # an older file's fewer columns are NaN
    hist = np.full((raw.shape[0], len(columns)), np.nan)
    for k, c in enumerate(columns):
        if c in cols:
            hist[:, k] = raw[:, cols.index(c)]
    step = hist[:, 0]
    if step.size and not (np.all(np.isfinite(step)) and np.all(step == np.round(step)) and step.min() >= 0
                          and step.max() <= MAX_STEP and np.all(np.diff(step) > 0)):
        raise doc.fail(f"'{where}' steps must be whole numbers from 0, each above the one before")
    return History.from_array(hist, columns=columns)


def _runs(name: str, v: Any) -> list[RunRecord]:
    """The saved runs table, every run checked; _ResultError (they are dropped with a notice) if one is not so."""
    doc = _Doc(name, results=True)
    if type(v) is not list or not set(map(type, v)) <= {dict}:
        raise doc.fail("'runs' must be a list of runs")
    if len(v) > MAX_RUNS:
        raise doc.fail(f"'runs' lists {len(v):,} runs, more than a session keeps ({MAX_RUNS:,})")
    return [_run(doc, r, f"runs[{n}]") for n, r in enumerate(v)]


def _whole(doc: _Doc, d: Any, key: str, where: str, lo: int, hi: int, default: Any = ...) -> Any:
    """A whole number from ``lo`` up to ``hi`` (or null, when ``default`` is None)."""
    value = doc.get(d, key, (int,), where, default=default, nullable=default is None)
    if value is not None and not lo <= value <= hi:
        raise doc.fail(f"'{where}.{key}' must be a whole number from {lo:,} up to {hi:,}")
    return value


def _run(doc: _Doc, r: dict[str, Any], w: str) -> RunRecord:
    solver = doc.text(doc.get(r, "solver", (str,), w), f"{w}.solver")
    params = doc.get(r, "params", (dict,), w)
    try:
        cls = get_solver(solver)
        cls.resolve_params(params)  # unknown names first, with the solver's own sentence
        typed = cls.resolve_params(_json_numbers(params, solver))
    except MFStudioError as exc:
        raise _ResultError(f"are damaged ('{w}' has invalid solver settings: {str(exc).rstrip('.')})") from None
    name = doc.text(doc.get(r, "name", (str,), w, default=""), f"{w}.name")
    if len(name) > NAME_MAX_CHARS:
        raise doc.fail(f"'{w}.name' is longer than {NAME_MAX_CHARS} characters")
    holdout = doc.number(r, "holdout", w, default=0.0)
    if not HOLDOUT.contains(holdout):
        raise doc.fail(f"'{w}.holdout' must be at least 0 and below 1")
    top_n = _whole(doc, r, "top_n", w, int(TOP_N.minimum), int(TOP_N.maximum), int(TOP_N.default))
    elapsed = doc.number(r, "elapsed_s", w, default=0.0)
    if elapsed < 0:
        raise doc.fail(f"'{w}.elapsed_s' must be 0 or more")
    reason = doc.get(r, "reason", (str,), w, default="")
    if reason not in REASONS - {""}:
        raise doc.fail(f"'{w}.reason' is {reason!r}, not a way a run ends ({', '.join(sorted(REASONS - {''}))})")
    metrics_v = doc.get(r, "metrics", (dict,), w, default={})
    if len(metrics_v) > MAX_METRICS:
        raise doc.fail(f"'{w}.metrics' holds more than {MAX_METRICS} metrics")
    metrics = {doc.text(k, f"{w}.metrics"): math.nan if value is None else doc.number(metrics_v, k, f"{w}.metrics")
               for k, value in metrics_v.items()}
    history = _history(doc, doc.get(r, "history", (dict,), w), f"{w}.history").arrays()
    return RunRecord(solver, {k: typed[k] for k in params}, holdout,
                     _whole(doc, r, "patience", w, 1, int(PATIENCE.maximum), None), top_n,
                     _whole(doc, r, "steps_done", w, 0, MAX_STEP), elapsed, reason, metrics,
                     _whole(doc, r, "best_step", w, 0, MAX_STEP, None), history, name,
                     doc.get(r, "visible", (bool,), w, default=True))


def session_from_document(obj: Any, name: str = "The session file", *,
                          strict: bool = False) -> tuple[Session, list[str]]:
    """A Session from a parsed JSON document (migrated if older, refused if newer).

    Everything outside the saved results is checked and a problem refuses the file. The
    results are checked just as fully (shapes, K, both biases or neither, finite factors,
    history steps, how the run ended): a problem there drops them, with a notice, and opens
    the ratings and settings, which are the work a damaged file must not cost. What this
    returns is therefore always safe for the window to show. With ``strict`` (a session inside a
    lesson, which is read all or nothing) damaged results refuse the file too.
    """
    doc = _Doc(name)
    notices: list[str] = []
    if not isinstance(obj, dict):
        raise FileFormatError(f"{name} is JSON but not an MF Studio session; choose a .mfstudio file.")
    example_layout = "format" not in obj and "R" in obj  # the bundled examples' plain layout
    if example_layout:
        obj = {**obj, "version": 0, "format": FORMAT_NAME}
    if obj.get("format") != FORMAT_NAME:
        raise FileFormatError(f"{name} is JSON but not an MF Studio session; choose a .mfstudio file.")
    version = obj.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 0:
        raise doc.fail("its format version is missing")
    if version > FORMAT_VERSION:
        raise FileFormatError(
            f"{name} was made by a newer MF Studio (session format {version}, this one reads up to "
            f"{FORMAT_VERSION}); update MF Studio to open it."
        )
    while version < FORMAT_VERSION:
        obj = MIGRATIONS[version](obj)
        version += 1
        if not example_layout:
            notices.append(f"{name} was written by an older MF Studio; it was converted, "
                           "and saving writes the new format.")
    notices = notices[:1]
    ratings = _ratings(doc, doc.get(obj, "ratings", (dict,), "session"))
    # "held_out" and "holdout_fraction": the names of the files already saved (held_out_cells and holdout here)
    listed = obj.get("held_out", [])
    if isinstance(listed, dict):  # packed (large data: session_packed)
        h_rows, h_cols, _ = unpack(listed, "held_out", False, doc.fail)
        cells = np.stack([h_rows, h_cols], axis=1)
    else:
        cells = doc.ints(listed, 2, "held_out") if listed else np.zeros((0, 2), np.int64)
    if cells.shape[1] != 2 or (cells.size and (
            cells.min() < 0 or cells[:, 0].max() >= ratings.n_users or cells[:, 1].max() >= ratings.n_items)):
        raise doc.fail("'held_out' must list [row, column] cells inside the matrix")
    # a document that names no solver (the examples' layout) gets the data's: implicit-als for counts of events
    solver = doc.get(obj, "solver", (str,), "session",
                     default=defaults.solver_for(defaults.DEFAULT_SOLVER, ratings.implicit))
    params = doc.get(obj, "params", (dict,), "session", default={})
    try:
        get_solver(solver).resolve_params(params)  # unknown names first, with the solver's own sentence
        typed = get_solver(solver).resolve_params(_json_numbers(params, solver))
        params = {k: typed[k] for k in params}  # the saved keys, with the types the solver takes
    except MFStudioError as exc:
        raise FileFormatError(f"{name} has invalid solver settings: {str(exc)[:1].lower()}{str(exc)[1:]}") from None
    holdout = doc.number(obj, "holdout_fraction", "session", default=0.0)
    if not HOLDOUT.contains(holdout):
        raise doc.fail("'holdout_fraction' must be at least 0 and below 1")
    patience = doc.get(obj, "patience", (int,), "session", default=None, nullable=True)  # null: off
    if patience is not None and not 1 <= patience <= MAX_STEP:
        raise doc.fail(f"'patience' must be a whole number of steps from 1 up to {MAX_STEP:,}")
    if patience is not None:  # files from before PATIENCE's maximum: a longer patience never stops a run
        patience = min(patience, int(PATIENCE.maximum))
    zeros_missing = doc.get(obj, "zeros_are_missing", (bool,), "session", default=True)
    top_n = doc.get(obj, "top_n", (int,), "session", default=int(TOP_N.default))  # files before it: the default
    if not TOP_N.contains(top_n):
        raise doc.fail(f"'top_n' must be a whole number from {TOP_N.show(TOP_N.minimum)} up to "
                       f"{TOP_N.show(TOP_N.maximum)}")
    relevance = doc.get(obj, "relevance", (int, float), "session", default=None, nullable=True)  # null: auto
    if relevance is not None and not (math.isfinite(relevance) and RELEVANCE.contains(relevance)):
        raise doc.fail(f"'relevance' must be a number from {RELEVANCE.show(RELEVANCE.minimum)} up to "
                       f"{RELEVANCE.show(RELEVANCE.maximum)}, or null (auto)")
    res = doc.get(obj, "result", (dict,), "session", default=None, nullable=True)
    result = None
    if res is not None:
        try:
            result = _result(name, res, ratings)
        except _ResultError as exc:
            if strict:
                raise FileFormatError(f"{name}: its saved results {exc}; open an older copy or save it again."
                                      ) from None
            notices.append(f"{name}: its saved results {exc}; the ratings and settings were opened without them, "
                           "so train again to get results.")
    runs: list[RunRecord] = []
    if obj.get("runs") is not None:  # sessions from before the runs table have none
        try:
            runs = _runs(name, obj["runs"])
        except _ResultError as exc:
            if strict:
                raise FileFormatError(f"{name}: its saved runs {exc}; open an older copy or save it again.") from None
            notices.append(f"{name}: its saved runs {exc}; the session was opened without its runs table.")
    session = Session(ratings=ratings, held_out_cells=cells.astype(np.int64), solver=solver, params=params,
                      holdout=float(holdout), patience=patience, result=result, zeros_are_missing=zeros_missing,
                      top_n=int(top_n), relevance=None if relevance is None else float(relevance), runs=runs)
    return session, notices


def session_from_bytes(data: bytes | bytearray, name: str = "The session file") -> tuple[Session, list[str]]:
    """A Session from the bytes of a session file (gzip or plain JSON)."""
    return session_from_document(document_from_bytes(data, name), name)


def load_session(path: str | os.PathLike[str]) -> tuple[Session, list[str]]:
    """Read a ``.mfstudio`` session file; notices say if it was migrated."""
    p = Path(path)
    return session_from_bytes(read_bytes(p), f"The session file {p.name}")
