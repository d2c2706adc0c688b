"""Session files (``.mfstudio``): one human-readable JSON document, gzip-compressed when large.

Layout (version 1)::

    {"format": "mfstudio-session", "version": 1, "app": "MF Studio 0.1.0",
     "ratings": {"shape": [n, m], "users": [...], "items": [...], "scale": [lo, hi],
                 "R": [[null, 4.5, ...], ...]            (small data: the grid, null = not rated)
                 or "entries": [[row, col, value], ...],   (larger data)
                 "item_genres": [["Action", ...], ...]},   (optional: one list per item)
     "held_out": [[row, col], ...], "solver": "sgd", "params": {...},
     "holdout_fraction": 0.0, "patience": null, "zeros_are_missing": true,
     "result": null or {"solver", "params", "steps_done", "elapsed_s", "reason", "message",
                        "factors": {"K", "P", "Q", "user_bias", "item_bias", "global_mean"},
                        "history": {"columns": [...], "rows": [[...], ...]}}}

In number arrays ``null`` is NaN and the strings ``"Infinity"``/``"-Infinity"`` are
the infinities, so the file stays standard JSON. Parsing is safe: no eval, no pickle,
a limit on nesting depth and on the length of a number, and a size limit after gzip.
Version 0 is the layout of the bundled example files (``R``, ``users``, ``items``,
``scale``, ``zeros_are_missing``); it is migrated on reading.
"""

from __future__ import annotations

import gzip
import json
import math
import os
import re
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

import mfstudio
from mfstudio.core.errors import MFStudioError
from mfstudio.core.ratings import MAX_CELLS, Ratings
from mfstudio.core.session import RunResult, Session
from mfstudio.core.solvers import Factors, get_solver
from mfstudio.core.training import HISTORY_COLUMNS, History
from mfstudio.io.atomic import atomic_write
from mfstudio.io.errors import FileFormatError
from mfstudio.io.files import read_bytes

FORMAT_NAME = "mfstudio-session"
FORMAT_VERSION = 1
GZIP_ABOVE = 1_000_000  # bytes of JSON above which the file is gzip-compressed
GRID_MAX_CELLS = 10_000  # ratings are written as a grid up to this many cells, else as entries
MAX_DEPTH = 32  # deepest nesting a session file may have (the format needs 5)
MAX_NUMBER_CHARS = 64  # longest number token accepted
MAX_JSON_BYTES = 2 * 1024**3  # largest session after decompression


# -- writing --------------------------------------------------------------------------------
def _num(x: Any) -> str:
    """One number as JSON: full precision, NaN as null, infinities as strings."""
    if isinstance(x, (bool, np.bool_)):
        return "true" if x else "false"
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    f = float(x)
    if math.isnan(f):
        return "null"
    if math.isinf(f):
        return '"Infinity"' if f > 0 else '"-Infinity"'
    return repr(f)


class _Raw(str):
    """JSON text already rendered (used for the long list of rating entries)."""


def _entries_json(o: Any, indent: int) -> _Raw:
    """``[[row, col, value], ...]`` one entry per line, rendered at C speed (values are finite)."""
    if len(o) == 0:
        return _Raw("[]")
    inner = " " * (indent + 2)
    lines = map("{}[{}, {}, {!r}]".format, [inner] * len(o), o.rows.tolist(), o.cols.tolist(), o.vals.tolist())
    return _Raw("[\n" + ",\n".join(lines) + "\n" + " " * indent + "]")


def _text(s: str) -> str:
    """``s`` as UTF-8 can hold it: a lone surrogate (labels cannot have one, a run's message or a
    parameter name might) becomes U+FFFD instead of failing the save."""
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        return s.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return s


def _dump(obj: Any, indent: int = 0) -> str:
    """JSON text: objects one key per line, each row of a 2-D array on its own line."""
    pad, inner = " " * indent, " " * (indent + 2)
    if isinstance(obj, _Raw):
        return obj
    if isinstance(obj, np.ndarray):
        obj = obj.tolist()
    if isinstance(obj, dict):
        if not obj:
            return "{}"
        parts = [f"{inner}{json.dumps(_text(str(k)), ensure_ascii=False)}: {_dump(v, indent + 2)}" for k, v in obj.items()]
        return "{\n" + ",\n".join(parts) + "\n" + pad + "}"
    if isinstance(obj, (list, tuple)):
        if obj and all(isinstance(r, (list, tuple)) for r in obj):
            return "[\n" + ",\n".join(inner + _dump(r, indent + 2) for r in obj) + "\n" + pad + "]"
        return "[" + ", ".join(_dump(v, indent + 2) for v in obj) + "]"
    if obj is None:
        return "null"
    if isinstance(obj, str):
        return json.dumps(_text(obj), ensure_ascii=False)
    return _num(obj)


def _plain(v: Any) -> Any:
    """numpy scalars to Python ones, for parameters."""
    if isinstance(v, np.generic):
        return v.item()
    return v


def session_to_dict(session: Session) -> dict[str, Any]:
    """The JSON document of a session, as Python objects (arrays as lists)."""
    r = session.ratings
    o = r.observed
    rat: dict[str, Any] = {"shape": list(r.shape), "users": list(r.users), "items": list(r.items), "scale": list(r.scale)}
    if r.n_users * r.n_items <= GRID_MAX_CELLS and r.n_items > 0:
        grid: list[list[Any]] = [[None] * r.n_items for _ in range(r.n_users)]
        for i, j, v in zip(o.rows.tolist(), o.cols.tolist(), o.vals.tolist()):
            grid[i][j] = v
        rat["R"] = grid
    else:
        rat["entries"] = _entries_json(o, 4)
    if r.item_genres is not None:
        rat["item_genres"] = [list(g) for g in r.item_genres]
    doc: dict[str, Any] = {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "app": f"MF Studio {mfstudio.__version__}",
        "ratings": rat,
        "held_out": np.asarray(session.held_out, dtype=np.int64).reshape(-1, 2).tolist(),
        "solver": session.solver,
        "params": {str(k): _plain(v) for k, v in session.params.items()},
        "holdout_fraction": float(session.holdout_fraction),
        "patience": None if session.patience is None else int(session.patience),
        "zeros_are_missing": bool(session.zeros_are_missing),
        "result": None,
    }
    res = session.result
    if res is not None:
        f = res.factors
        doc["result"] = {
            "solver": res.solver,
            "params": {str(k): _plain(v) for k, v in res.params.items()},
            "steps_done": int(res.steps_done),
            "elapsed_s": float(res.elapsed_s),
            "reason": str(getattr(res.reason, "value", res.reason) or ""),
            "message": res.message,
            "factors": {
                "K": f.K,
                "P": f.P,
                "Q": f.Q,
                "user_bias": f.user_bias,
                "item_bias": f.item_bias,
                "global_mean": float(f.global_mean),
            },
            "history": {"columns": list(HISTORY_COLUMNS), "rows": res.history.arrays()},
        }
    return doc


def session_to_bytes(session: Session) -> bytes:
    """The bytes of a session file: JSON text, gzip-compressed when large."""
    text = _dump(session_to_dict(session)) + "\n"
    data = text.encode("utf-8")
    if len(data) > GZIP_ABOVE:
        # mtime=0 keeps the bytes the same for the same session
        data = gzip.compress(data, compresslevel=6, mtime=0)
    return data


def save_session(path: str | os.PathLike[str], session: Session) -> None:
    """Write ``session`` to ``path`` atomically."""
    atomic_write(path, session_to_bytes(session))


# -- safe parsing -----------------------------------------------------------------------------
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_LONG_NUMBER = re.compile(rf"[-+0-9.eE]{{{MAX_NUMBER_CHARS + 1},}}")


def nesting_depth(text: str) -> int:
    """How deeply ``[`` and ``{`` nest in JSON text (strings ignored), without recursion."""
    bare = _STRING.sub('""', text).encode("utf-8", "replace")
    b = np.frombuffer(bare, dtype=np.uint8)
    opens = (b == ord("[")) | (b == ord("{"))
    closes = (b == ord("]")) | (b == ord("}"))
    idx = np.flatnonzero(opens | closes)
    if idx.size == 0:
        return 0
    depth = np.cumsum(np.where(opens[idx], 1, -1))
    return int(depth.max())


def safe_json_loads(text: str, name: str = "The file") -> Any:
    """``json.loads`` with limits: nesting depth, number length; bare NaN/Infinity refused."""
    depth = nesting_depth(text)
    if depth > MAX_DEPTH:
        raise FileFormatError(f"{name} nests {depth:,} levels deep, more than a session file can ({MAX_DEPTH}); it is not a valid MF Studio session.")

    # a regex scan instead of parse_int/parse_float hooks: same limit, far faster on big files
    long_run = _LONG_NUMBER.search(_STRING.sub('""', text))
    if long_run:
        n = len(long_run.group(0))
        raise FileFormatError(f"{name} holds a number {n:,} characters long; numbers in a session file have at most {MAX_NUMBER_CHARS}, so the file is damaged.")

    def constant(s: str) -> Any:
        raise FileFormatError(f"{name} holds a bare {s}, which JSON does not allow; write null for NaN and \"Infinity\" for infinity.")

    try:
        return json.loads(text, parse_constant=constant)
    except FileFormatError:
        raise
    except json.JSONDecodeError as exc:
        stripped = text.strip()
        if not stripped.startswith(("{", "[")):
            raise FileFormatError(f"{name} is not JSON, so it cannot be an MF Studio session; open it as ratings instead.") from None
        cut = exc.pos >= len(stripped) - 32 or not stripped.endswith("}")  # a whole document ends with }
        what = "ends too early (it is truncated)" if cut else f"is not valid JSON at line {exc.lineno}, column {exc.colno}"
        raise FileFormatError(f"{name} {what}; open an older copy or save the session again.") from None
    except (RecursionError, ValueError) as exc:
        raise FileFormatError(f"{name} could not be read ({exc.__class__.__name__}); it is not a valid MF Studio session.") from None


def _decompress(data: bytes, name: str) -> bytes:
    try:
        d = zlib.decompressobj(wbits=31)
        out = d.decompress(data, MAX_JSON_BYTES + 1)
        if len(out) > MAX_JSON_BYTES:
            raise FileFormatError(f"{name} unpacks to more than {MAX_JSON_BYTES / 1024**3:.0f} GiB; MF Studio cannot open it.")
        if not d.eof:
            raise FileFormatError(f"{name} is truncated (the compressed data ends early); open an older copy or save the session again.")
        return out
    except zlib.error:
        raise FileFormatError(f"{name} is damaged (the compressed data is corrupt); open an older copy or save the session again.") from None


# -- reading ------------------------------------------------------------------------------------
class _Doc:
    """Checked access to the parsed document, each failure a sentence naming the field."""

    def __init__(self, name: str) -> None:
        self.name = name

    def fail(self, what: str) -> FileFormatError:
        return FileFormatError(f"{self.name} is damaged: {what}; open an older copy or save the session again.")

    def get(self, d: Any, key: str, kinds: tuple[type, ...], where: str, default: Any = ..., nullable: bool = False) -> Any:
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

    def floats(self, v: Any, ndim: int, where: str, finite: bool = False) -> np.ndarray:
        try:
            a = np.array(v, dtype=np.float64)
        except (TypeError, ValueError, OverflowError):
            raise self.fail(f"'{where}' must be an array of numbers") from None
        if a.size == 0:
            a = a.reshape((0,) * ndim) if a.ndim < ndim else a
        if a.ndim != ndim:
            raise self.fail(f"'{where}' must be a {ndim}-dimensional array")
        if finite and not np.all(np.isfinite(a)):
            raise self.fail(f"'{where}' holds a missing or infinite value where a number is needed")
        return a

    def ints(self, v: Any, ndim: int, where: str) -> np.ndarray:
        a = self.floats(v, ndim, where, finite=True)
        if not np.all(a == np.round(a)) or (a.size and np.abs(a).max() > 2**53):
            raise self.fail(f"'{where}' must hold whole numbers")
        return a.astype(np.int64)

    def labels(self, v: Any, n: int, where: str) -> list[str]:
        if not isinstance(v, list) or len(v) != n or not all(isinstance(x, str) for x in v):
            raise self.fail(f"'{where}' must be a list of {n} names")
        return v

    def genres(self, v: Any, n: int, where: str) -> list[list[str]]:
        if not isinstance(v, list) or len(v) != n or not all(
                isinstance(g, list) and all(isinstance(x, str) for x in g) for g in v):
            raise self.fail(f"'{where}' must be a list of {n} lists of genre names")
        return v


def _migrate_0(doc: dict[str, Any]) -> dict[str, Any]:
    """Version 0 (the example files' layout: R grid, zeros_are_missing, labels, scale) to 1."""
    grid = doc.get("R")
    if not isinstance(grid, list) or not all(isinstance(r, list) for r in grid):
        raise FileFormatError("The file has no rating grid 'R'; it is not an MF Studio session.")
    zeros_missing = doc.get("zeros_are_missing", True) is not False
    rows = [[None if (x is None or (zeros_missing and x == 0)) else x for x in r] for r in grid]
    n = len(rows)
    m = len(rows[0]) if rows else 0
    return {
        "format": FORMAT_NAME,
        "version": 1,
        "ratings": {
            "shape": [n, m],
            "users": doc.get("users", [f"User {i + 1}" for i in range(n)]),
            "items": doc.get("items", [f"Item {j + 1}" for j in range(m)]),
            "scale": doc.get("scale"),
            "R": rows,
        },
        "zeros_are_missing": zeros_missing,
    }


MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {0: _migrate_0}


def _ratings(doc: _Doc, rat: Any) -> Ratings:
    shape = doc.ints(doc.get(rat, "shape", (list,), "ratings"), 1, "ratings.shape")
    if shape.shape != (2,) or shape.min() < 0:
        raise doc.fail("'ratings.shape' must be two whole numbers")
    n, m = int(shape[0]), int(shape[1])
    if n * m > MAX_CELLS:
        raise FileFormatError(f"{doc.name} holds a {n:,} x {m:,} matrix, more than MF Studio handles ({MAX_CELLS:,} cells).")
    users = doc.labels(doc.get(rat, "users", (list,), "ratings"), n, "ratings.users")
    items = doc.labels(doc.get(rat, "items", (list,), "ratings"), m, "ratings.items")
    scale_v = doc.get(rat, "scale", (list,), "ratings", default=None, nullable=True)
    scale = None
    if scale_v is not None:
        s = doc.floats(scale_v, 1, "ratings.scale", finite=True)
        if s.shape != (2,) or s[0] >= s[1]:
            raise doc.fail("'ratings.scale' must be two numbers, minimum below maximum")
        scale = (float(s[0]), float(s[1]))
    if "R" in rat:
        R = doc.floats(doc.get(rat, "R", (list,), "ratings"), 2, "ratings.R")
        if R.shape != (n, m) and not (R.size == 0 and n * m == 0):
            raise doc.fail(f"'ratings.R' is {R.shape[0]} x {R.shape[1] if R.ndim > 1 else 0}, not {n} x {m}")
        if np.any(np.isinf(R)):
            raise doc.fail("'ratings.R' holds an infinite rating")
        rows, cols = np.nonzero(~np.isnan(R.reshape(n, m)))
        vals = R.reshape(n, m)[rows, cols]
    else:
        e = doc.floats(doc.get(rat, "entries", (list,), "ratings"), 2, "ratings.entries")
        if e.size == 0:
            e = e.reshape(0, 3)
        if e.shape[1] != 3 or not np.all(np.isfinite(e)):
            raise doc.fail("each of 'ratings.entries' must be [row, column, rating] with a finite rating")
        rows, cols, vals = e[:, 0], e[:, 1], e[:, 2]
        if not (np.all(rows == np.round(rows)) and np.all(cols == np.round(cols))):
            raise doc.fail("'ratings.entries' rows and columns must be whole numbers")
    genres_v = doc.get(rat, "item_genres", (list,), "ratings", default=None, nullable=True)  # absent before genres
    genres = None if genres_v is None else doc.genres(genres_v, m, "ratings.item_genres")
    try:
        return Ratings(rows.astype(np.int64), cols.astype(np.int64), vals, (n, m), users, items, scale, genres)
    except MFStudioError as exc:
        raise doc.fail(f"the ratings are invalid ({str(exc).rstrip('.')})") from None


class _ResultMismatchError(Exception):
    """Saved factors whose shapes do not match the saved ratings: the results are dropped."""


def _result(doc: _Doc, res: Any, ratings: Ratings) -> RunResult:
    solver = doc.get(res, "solver", (str,), "result")
    params = doc.get(res, "params", (dict,), "result")
    f = doc.get(res, "factors", (dict,), "result")
    K = int(doc.get(f, "K", (int,), "result.factors"))
    n, m = ratings.shape
    P = doc.floats(doc.get(f, "P", (list,), "result.factors"), 2, "result.factors.P")
    Q = doc.floats(doc.get(f, "Q", (list,), "result.factors"), 2, "result.factors.Q")
    if P.size == 0:
        P = P.reshape(n, K)
    if Q.size == 0:
        Q = Q.reshape(K, m)
    if P.shape != (n, K) or Q.shape != (K, m):
        raise _ResultMismatchError(f"its saved results do not fit its ratings (P must be {n} x {K} and Q {K} x {m})")
    biases = []
    for key, size in (("user_bias", n), ("item_bias", m)):
        b = doc.get(f, key, (list,), "result.factors", default=None, nullable=True)
        if b is not None:
            b = doc.floats(b, 1, f"result.factors.{key}")
            if b.shape != (size,):
                raise doc.fail(f"'result.factors.{key}' must have {size} entries")
        biases.append(b)
    gm = doc.get(f, "global_mean", (int, float, str), "result.factors", default=0.0)
    gm_arr = doc.floats([gm], 1, "result.factors.global_mean")
    h = doc.get(res, "history", (dict,), "result")
    cols = doc.get(h, "columns", (list,), "result.history")
    rows_v = doc.get(h, "rows", (list,), "result.history")
    raw = doc.floats(rows_v, 2, "result.history.rows") if rows_v else np.zeros((0, len(cols)))
    if raw.shape[1] != len(cols) or not all(isinstance(c, str) for c in cols):
        raise doc.fail("'result.history' rows must have one value per column")
    hist = np.full((raw.shape[0], len(HISTORY_COLUMNS)), np.nan)
    for k, c in enumerate(HISTORY_COLUMNS):
        if c in cols:
            hist[:, k] = raw[:, cols.index(c)]
    return RunResult(
        solver=solver,
        params=params,
        factors=Factors(P, Q, biases[0], biases[1], float(gm_arr[0])),
        history=History.from_array(hist),
        steps_done=int(doc.get(res, "steps_done", (int,), "result")),
        elapsed_s=float(doc.get(res, "elapsed_s", (int, float), "result", default=0.0)),
        reason=doc.get(res, "reason", (str,), "result", default=""),
        message=doc.get(res, "message", (str,), "result", default=""),
    )


def session_from_document(obj: Any, name: str = "The session file") -> tuple[Session, list[str]]:
    """A Session from a parsed JSON document (migrated if older, refused if newer)."""
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
            notices.append(f"{name} was written by an older MF Studio; it was converted, and saving writes the new format.")
    notices = notices[:1]
    ratings = _ratings(doc, doc.get(obj, "ratings", (dict,), "session"))
    held = obj.get("held_out", [])
    held_arr = doc.ints(held, 2, "held_out") if held else np.zeros((0, 2), np.int64)
    if held_arr.shape[1] != 2 or (held_arr.size and (
            held_arr.min() < 0 or held_arr[:, 0].max() >= ratings.n_users or held_arr[:, 1].max() >= ratings.n_items)):
        raise doc.fail("'held_out' must list [row, column] cells inside the matrix")
    solver = doc.get(obj, "solver", (str,), "session", default="sgd")
    params = doc.get(obj, "params", (dict,), "session", default={})
    try:
        typed = get_solver(solver).resolve_params(params)
        params = {k: typed[k] for k in params}  # the saved keys, with the types the solver takes
    except MFStudioError as exc:
        raise FileFormatError(f"{name} has invalid solver settings: {str(exc)[:1].lower()}{str(exc)[1:]}") from None
    hf = doc.get(obj, "holdout_fraction", (int, float), "session", default=0.0)
    if not (0.0 <= float(hf) < 1.0):
        raise doc.fail("'holdout_fraction' must be at least 0 and below 1")
    patience = doc.get(obj, "patience", (int,), "session", default=None, nullable=True)
    if patience is not None and patience < 1:
        raise doc.fail("'patience' must be at least 1")
    zeros_missing = doc.get(obj, "zeros_are_missing", (bool,), "session", default=True)
    res = doc.get(obj, "result", (dict,), "session", default=None, nullable=True)
    result = None
    if res is not None:
        try:
            result = _result(doc, res, ratings)
        except _ResultMismatchError as exc:
            notices.append(f"{name}: {exc}; the ratings and settings were opened without them.")
    session = Session(ratings=ratings, held_out=held_arr.astype(np.int64), solver=solver, params=params,
                      holdout_fraction=float(hf), patience=patience, result=result, zeros_are_missing=zeros_missing)
    return session, notices


def session_from_bytes(data: bytes, name: str = "The session file") -> tuple[Session, list[str]]:
    """A Session from the bytes of a session file (gzip or plain JSON)."""
    if data[:2] == b"\x1f\x8b":
        data = _decompress(data, name)
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if not data.strip():
        raise FileFormatError(f"{name} is empty; choose a session saved by MF Studio.")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise FileFormatError(f"{name} is not a text session file (it is not UTF-8); choose a session saved by MF Studio.") from None
    return session_from_document(safe_json_loads(text, name), name)


def load_session(path: str | os.PathLike[str]) -> tuple[Session, list[str]]:
    """Read a ``.mfstudio`` session file; notices say if it was migrated."""
    p = Path(path)
    return session_from_bytes(read_bytes(p), f"The session file {p.name}")
