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
the infinities (only where a value may be missing or infinite: the history), so the file
stays standard JSON. Version 0 is the layout of the bundled example files (``R``, ``users``,
``items``, ``scale``, ``zeros_are_missing``); it is migrated on reading.

Reading trusts nothing: no eval, no pickle; gzip unpacked in pieces up to 20 times its
packed size; nesting depth, number length and the count of nulls bounded before parsing;
a key twice in one object, data after the gzip member, true/false or text where numbers
belong all refused. The rule for what is wrong: outside the saved results it refuses the
file with one sentence; inside them it drops the results with a notice and opens the
ratings and settings. Either way what the reader returns is whole and valid.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import re
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

import mfstudio
from mfstudio.core.errors import MFStudioError
from mfstudio.core.ratings import MAX_CELLS, Ratings
from mfstudio.core.session import RunResult, Session
from mfstudio.core.solvers import Factors, get_solver
from mfstudio.core.solvers.base import K as K_SPEC
from mfstudio.core.training import HISTORY_COLUMNS, History, StopReason
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
MAX_UNPACK_RATIO = 20  # a gzip session may unpack to this many times its size (MF Studio's pack 6-10x; bombs 1000x)
UNPACK_FLOOR = 32 * 1024**2  # ... and always to this much (small sessions pack better)
MAX_GRID_CELLS = 1_000_000  # ratings as an 'R' grid only up to this many cells (MF Studio writes one up to GRID_MAX_CELLS)
MAX_HISTORY_ROWS = 1_000_000  # a history keeps about 10,000 rows
MAX_NULLS = MAX_GRID_CELLS + len(HISTORY_COLUMNS) * MAX_HISTORY_ROWS  # nulls (NaN) only fill a grid or history cells
MAX_STEP = 2**53  # steps are counted exactly in a float up to here
MAX_MESSAGE_CHARS = 100_000


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


class _RawPieces(tuple):
    """JSON text already rendered, in pieces (the long list of rating entries) that are never joined."""


ENTRIES_CHUNK = 10_000  # rating entries rendered per C-level call


def _entries_json(o: Any, indent: int) -> _RawPieces:
    """``[[row, col, value], ...]`` one entry per line, rendered at C speed (values are finite).

    In pieces of ``ENTRIES_CHUNK`` entries: one C call over millions of entries, or one
    string of them all, would hold the GIL for seconds, and the window writes its
    recovery file on another thread while the user works.
    """
    if len(o) == 0:
        return _RawPieces(("[]",))
    inner = " " * (indent + 2)
    fmt = "{}[{}, {}, {!r}]".format
    pieces = ["[\n"]
    for start in range(0, len(o), ENTRIES_CHUNK):
        stop = start + ENTRIES_CHUNK
        rows, cols, vals = o.rows[start:stop].tolist(), o.cols[start:stop].tolist(), o.vals[start:stop].tolist()
        pieces.append((",\n" if start else "") + ",\n".join(map(fmt, [inner] * len(rows), rows, cols, vals)))
    pieces.append("\n" + " " * indent + "]")
    return _RawPieces(pieces)


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
    return "".join(_pieces(obj, indent))


def _pieces(obj: Any, indent: int = 0) -> Iterator[str]:
    """The JSON text of ``obj`` (see :func:`_dump`) as pieces, none of them the size of the whole."""
    pad, inner = " " * indent, " " * (indent + 2)
    if isinstance(obj, _RawPieces):
        yield from obj
    elif isinstance(obj, dict) and obj:
        yield "{\n"
        for n, (k, v) in enumerate(obj.items()):
            yield (",\n" if n else "") + f"{inner}{json.dumps(_text(str(k)))}: "
            yield from _pieces(v, indent + 2)
        yield "\n" + pad + "}"
    else:
        yield _dump_value(obj, indent)


def _dump_value(obj: Any, indent: int) -> str:
    pad, inner = " " * indent, " " * (indent + 2)
    if isinstance(obj, np.ndarray):
        if obj.ndim >= 2 and len(obj):  # row by row: one tolist() of a big matrix would hold the GIL for long
            return "[\n" + ",\n".join(inner + _dump_value(r, indent + 2) for r in obj) + "\n" + pad + "]"
        obj = obj.tolist()
    if isinstance(obj, dict):
        return _dump(obj, indent) if obj else "{}"
    if isinstance(obj, (list, tuple)):
        if obj and all(isinstance(r, (list, tuple)) for r in obj):
            return "[\n" + ",\n".join(inner + _dump_value(r, indent + 2) for r in obj) + "\n" + pad + "]"
        return "[" + ", ".join(_dump_value(v, indent + 2) for v in obj) + "]"
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
    # piece by piece, never the whole text as one string: no step holds the GIL for long
    data = [piece.encode("utf-8") for piece in _pieces(session_to_dict(session))]
    data.append(b"\n")
    if sum(map(len, data)) <= GZIP_ABOVE:
        return b"".join(data)
    z = zlib.compressobj(6, zlib.DEFLATED, 31)  # gzip with mtime 0: the same bytes for the same session
    out = [z.compress(d) for d in data]
    out.append(z.flush())
    return b"".join(out)


def save_session(path: str | os.PathLike[str], session: Session) -> None:
    """Write ``session`` to ``path`` atomically."""
    atomic_write(path, session_to_bytes(session))


# -- safe parsing -----------------------------------------------------------------------------
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_LONG_NUMBER = re.compile(rf"[-+0-9.eE]{{{MAX_NUMBER_CHARS + 1},}}")
_LONG_NUMBER_BYTES = re.compile(rb"[-+0-9.eE]{%d,}" % (MAX_NUMBER_CHARS + 1))
_BRACKET_STEP = np.zeros(256, dtype=np.int8)
_BRACKET_STEP[[ord("["), ord("{")]] = 1
_BRACKET_STEP[[ord("]"), ord("}")]] = -1
_SCAN_CHUNK = 1 << 24
_NOT_BLANK = re.compile(rb"[^ \t\r\n]")


def nesting_depth(text: str) -> int:
    """How deeply ``[`` and ``{`` nest in JSON text (strings ignored), without recursion."""
    bare = _STRING.sub('""', text).encode("utf-8", "replace")
    return _bracket_depth(bare)


def _bracket_depth(data: bytes | bytearray | memoryview) -> int:
    """How deeply brackets nest, strings not told apart, in chunks (bounded temporaries). Brackets
    inside strings can make this more or less than the document's depth; the caller checks
    precisely only when this is above the limit, and json itself refuses far deeper nesting."""
    mv = memoryview(data)
    depth = top = 0
    for start in range(0, len(mv), _SCAN_CHUNK):
        step = _BRACKET_STEP[np.frombuffer(mv[start:start + _SCAN_CHUNK], dtype=np.uint8)]
        moves = step[np.flatnonzero(step)].astype(np.int64)
        if moves.size:
            running = np.cumsum(moves) + depth
            top, depth = max(top, int(running.max())), int(running[-1])
    return top


def _no_duplicate_keys(name: str) -> Callable[[list[tuple[str, Any]]], dict[str, Any]]:
    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        d = dict(pairs)
        if len(d) != len(pairs):
            seen: set[str] = set()
            for k, _ in pairs:
                if k in seen:
                    raise FileFormatError(f"{name} holds {k!r} twice in one object, so which value is meant is unclear; "
                                          "open an older copy or save the session again.")
                seen.add(k)
        return d
    return hook


def _prescan(data: bytes | bytearray | memoryview, name: str) -> None:
    """What can be refused from the raw bytes, before they are decoded and parsed."""
    mv = memoryview(data)
    depth = _bracket_depth(mv)
    if depth > MAX_DEPTH:  # strings may hold brackets: count again without them
        depth = nesting_depth(str(mv, "utf-8", "replace"))
        if depth > MAX_DEPTH:
            raise FileFormatError(f"{name} nests {depth:,} levels deep, more than a session file can ({MAX_DEPTH}); "
                                  "it is not a valid MF Studio session.")
    if _LONG_NUMBER_BYTES.search(mv):  # perhaps inside a string (a label of 70 digits): look again without them
        long_run = _LONG_NUMBER.search(_STRING.sub('""', str(mv, "utf-8", "replace")))
        if long_run:
            n = len(long_run.group(0))
            raise FileFormatError(f"{name} holds a number {n:,} characters long; numbers in a session file have at "
                                  f"most {MAX_NUMBER_CHARS}, so the file is damaged.")
    # each null costs a list slot when parsed; a session needs them only in a small grid and in the history
    whole = mv.obj if isinstance(mv.obj, (bytes, bytearray)) else bytes(mv)  # no copy for bytes (a BOM aside: a bound)
    nulls = whole.count(b"null")
    if nulls > MAX_NULLS:
        raise FileFormatError(f"{name} holds {nulls:,} missing values (null), more than a session can ({MAX_NULLS:,}: "
                              "MF Studio writes large ratings as a list of entries, not as a grid); it is not a valid "
                              "MF Studio session.")


def safe_json_loads(text: str, name: str = "The file") -> Any:
    """``json.loads`` with limits: nesting depth, number length, nulls; bare NaN/Infinity and
    duplicate keys refused."""
    _prescan(text.encode("utf-8", "surrogatepass"), name)
    return _loads(text, name)


def _loads(text: str, name: str) -> Any:
    def constant(s: str) -> Any:
        raise FileFormatError(f"{name} holds a bare {s}, which JSON does not allow; write null for NaN and \"Infinity\" for infinity.")

    try:
        return json.loads(text, parse_constant=constant, object_pairs_hook=_no_duplicate_keys(name))
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


def unpack_limit(packed_bytes: int) -> int:
    """How much a gzip-compressed session of ``packed_bytes`` may unpack to."""
    return min(MAX_JSON_BYTES, max(UNPACK_FLOOR, MAX_UNPACK_RATIO * packed_bytes))


def _decompress(data: bytes, name: str) -> bytearray:
    """The unpacked document, streamed in bounded pieces and refused as soon as it passes
    :func:`unpack_limit` (a gzip bomb is refused after a moment and a few hundred MB at most),
    and refused when anything follows the one gzip member MF Studio writes."""
    limit = unpack_limit(len(data))
    d = zlib.decompressobj(wbits=31)
    out = bytearray()
    mv = memoryview(data)
    pos = 0
    try:
        while pos < len(mv) and not d.eof:
            piece: bytes | memoryview = mv[pos:pos + (1 << 16)]
            pos += len(piece)
            while piece:
                out += d.decompress(piece, 1 << 20)
                if len(out) > limit:
                    raise FileFormatError(
                        f"{name} unpacks to more than {limit / 1024**2:,.0f} MiB from {len(data) / 1024**2:,.1f} MiB, "
                        f"more than {MAX_UNPACK_RATIO} times its packed size (MF Studio's sessions pack about 6 to 10 "
                        "times); it is damaged or not a session, so MF Studio does not open it.")
                if d.eof:
                    break
                piece = d.unconsumed_tail
    except zlib.error:
        raise FileFormatError(f"{name} is damaged (the compressed data is corrupt); open an older copy or save the session again.") from None
    if not d.eof:
        raise FileFormatError(f"{name} is truncated (the compressed data ends early); open an older copy or save the session again.")
    if d.unused_data or pos < len(mv):
        raise FileFormatError(f"{name} holds data after its end (a second gzip member or other bytes), which MF Studio "
                              "never writes; open an older copy or save the session again.")
    return out


# -- reading ------------------------------------------------------------------------------------
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
        allowed = {int, float} | ({_NONE} if nulls and not finite else set()) | ({str} if infinities and not finite else set())
        if not kinds <= allowed:
            bad = "true or false" if bool in kinds else "text" if str in kinds else "null" if _NONE in kinds else "a list or object"
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
        raise FileFormatError("The file's 'zeros_are_missing' must be true or false; it is not a valid MF Studio session.")
    n = len(grid)
    m = len(grid[0]) if grid else 0
    if n * m > MAX_GRID_CELLS:
        raise FileFormatError(f"The file's rating grid 'R' is {n:,} x {m:,}, more than a grid in a session may be "
                              f"({MAX_GRID_CELLS:,} cells); save the ratings as a CSV file and open that.")
    # 0 (and -0) is "not rated" when zeros are missing; false == 0 in Python, but false is no rating
    rows = [[None if (x is None or (zeros_missing and type(x) in (int, float) and x == 0)) else x for x in r] for r in grid]
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
        entries = doc.get(rat, "entries", (list,), "ratings")
        if len(entries) > n * m:
            raise doc.fail(f"'ratings.entries' lists {len(entries):,} ratings, more than the {n:,} x {m:,} matrix has cells")
        e = doc.floats(entries, 2, "ratings.entries", finite=True)
        if e.size == 0:
            e = e.reshape(0, 3)
        if e.shape[1] != 3:
            raise doc.fail("each of 'ratings.entries' must be [row, column, rating] with a finite rating")
        rows, cols, vals = e[:, 0], e[:, 1], e[:, 2]
        if not (np.all(rows == np.round(rows)) and np.all(cols == np.round(cols))):
            raise doc.fail("'ratings.entries' rows and columns must be whole numbers")
        if e.shape[0] and (rows.min() < 0 or rows.max() >= n or cols.min() < 0 or cols.max() >= m):
            raise doc.fail(f"'ratings.entries' holds a row or column outside the {n:,} x {m:,} matrix")
    genres_v = doc.get(rat, "item_genres", (list,), "ratings", default=None, nullable=True)  # absent before genres
    genres = None if genres_v is None else doc.genres(genres_v, m, "ratings.item_genres")
    try:
        return Ratings(rows.astype(np.int64), cols.astype(np.int64), vals + 0.0, (n, m), users, items, scale, genres)
    except MFStudioError as exc:
        raise doc.fail(f"the ratings are invalid ({str(exc).rstrip('.')})") from None


REASONS = frozenset(["", *(r.value for r in StopReason)])


def _json_numbers(params: dict[str, Any], where: str) -> dict[str, Any]:
    """``params`` unchanged when every value is a JSON number of the parameter's kind; a
    ParameterError otherwise: "2" (text), true, and 2.0 for a whole-number parameter are not read
    as numbers, by the one rule for numbers."""
    from mfstudio.core.errors import ParameterError

    for key, value in params.items():
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
        typed = cls.resolve_params(_json_numbers(params, "result.params"))
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
    return RunResult(solver=solver, params=params, factors=Factors(P, Q, biases[0], biases[1], gm), history=history,
                     steps_done=int(steps), elapsed_s=elapsed, reason=reason, message=message)


def _history(doc: _Doc, h: Any) -> History:
    cols = doc.get(h, "columns", (list,), "result.history")
    if not set(map(type, cols)) <= {str}:
        raise doc.fail("'result.history.columns' must be a list of column names")
    if len(set(cols)) != len(cols):
        raise doc.fail("'result.history.columns' names a column twice")
    rows_v = doc.get(h, "rows", (list,), "result.history")
    if len(rows_v) > MAX_HISTORY_ROWS:
        raise doc.fail(f"'result.history.rows' has {len(rows_v):,} rows, more than a history keeps ({MAX_HISTORY_ROWS:,})")
    raw = doc.floats(rows_v, 2, "result.history.rows") if rows_v else np.zeros((0, len(cols)))
    if raw.shape[1] != len(cols):
        raise doc.fail("'result.history.rows' must have one value per column")
    if raw.shape[0] and "step" not in cols:
        raise doc.fail("'result.history.columns' has no 'step'")
    hist = np.full((raw.shape[0], len(HISTORY_COLUMNS)), np.nan)
    for k, c in enumerate(HISTORY_COLUMNS):
        if c in cols:
            hist[:, k] = raw[:, cols.index(c)]
    step = hist[:, 0]
    if step.size and not (np.all(np.isfinite(step)) and np.all(step == np.round(step)) and step.min() >= 0
                          and step.max() <= MAX_STEP and np.all(np.diff(step) > 0)):
        raise doc.fail("'result.history' steps must be whole numbers from 0, each above the one before")
    return History.from_array(hist)


def session_from_document(obj: Any, name: str = "The session file") -> tuple[Session, list[str]]:
    """A Session from a parsed JSON document (migrated if older, refused if newer).

    Everything outside the saved results is checked and a problem refuses the file. The
    results are checked just as fully (shapes, K, both biases or neither, finite factors,
    history steps, how the run ended): a problem there drops them, with a notice, and opens
    the ratings and settings, which are the work a damaged file must not cost. What this
    returns is therefore always safe for the window to show.
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
        get_solver(solver).resolve_params(params)  # unknown names first, with the solver's own sentence
        typed = get_solver(solver).resolve_params(_json_numbers(params, "params"))
        params = {k: typed[k] for k in params}  # the saved keys, with the types the solver takes
    except MFStudioError as exc:
        raise FileFormatError(f"{name} has invalid solver settings: {str(exc)[:1].lower()}{str(exc)[1:]}") from None
    hf = doc.number(obj, "holdout_fraction", "session", default=0.0)
    if not (0.0 <= hf < 1.0):
        raise doc.fail("'holdout_fraction' must be at least 0 and below 1")
    patience = doc.get(obj, "patience", (int,), "session", default=None, nullable=True)
    if patience is not None and not 1 <= patience <= MAX_STEP:
        raise doc.fail(f"'patience' must be a whole number of steps from 1 up to {MAX_STEP:,}")
    zeros_missing = doc.get(obj, "zeros_are_missing", (bool,), "session", default=True)
    res = doc.get(obj, "result", (dict,), "session", default=None, nullable=True)
    result = None
    if res is not None:
        try:
            result = _result(name, res, ratings)
        except _ResultError as exc:
            notices.append(f"{name}: its saved results {exc}; the ratings and settings were opened without them, "
                           "so train again to get results.")
    session = Session(ratings=ratings, held_out=held_arr.astype(np.int64), solver=solver, params=params,
                      holdout_fraction=float(hf), patience=patience, result=result, zeros_are_missing=zeros_missing)
    return session, notices


def session_from_bytes(data: bytes | bytearray, name: str = "The session file") -> tuple[Session, list[str]]:
    """A Session from the bytes of a session file (gzip or plain JSON)."""
    if data[:2] == b"\x1f\x8b":
        data = _decompress(bytes(data) if isinstance(data, bytearray) else data, name)
    mv = memoryview(data)
    if mv[:3] == b"\xef\xbb\xbf":
        mv = mv[3:]
    if not _NOT_BLANK.search(mv):
        raise FileFormatError(f"{name} is empty; choose a session saved by MF Studio.")
    _prescan(mv, name)
    try:
        text = str(mv, "utf-8")
    except UnicodeDecodeError:
        raise FileFormatError(f"{name} is not a text session file (it is not UTF-8); choose a session saved by MF Studio.") from None
    del mv, data  # the unpacked bytes (when it was gzip) go before parsing
    return session_from_document(_loads(text, name), name)


def load_session(path: str | os.PathLike[str]) -> tuple[Session, list[str]]:
    """Read a ``.mfstudio`` session file; notices say if it was migrated."""
    p = Path(path)
    return session_from_bytes(read_bytes(p), f"The session file {p.name}")
