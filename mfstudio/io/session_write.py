"""Writing session files: a Session as the JSON document of the format (the layout: session_file),
gzip-compressed when large, rendered in pieces so that no step holds the GIL for long."""

from __future__ import annotations

import json
import math
import os
import time
import zlib
from collections.abc import Iterator
from typing import Any

import numpy as np

import mfstudio
from mfstudio.core.history import HISTORY_COLUMNS, columns_for
from mfstudio.core.runs import RunRecord
from mfstudio.core.session import Session
from mfstudio.io.atomic import atomic_write
from mfstudio.io.session_packed import RawPieces, packed, should_pack

FORMAT_NAME = "mfstudio-session"
FORMAT_VERSION = 1  # the version written; the reader migrates older ones
GZIP_ABOVE = 1_000_000  # bytes of JSON above which the file is gzip-compressed
GZIP_LEVEL = 6
PACKED_GZIP_LEVEL = 1  # packed columns are mostly base64: level 6 packs them a quarter smaller in 5x the time
GRID_MAX_CELLS = 10_000  # ratings are written as a grid up to this many cells, else as entries


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


ENTRIES_CHUNK = 2_500  # rating entries rendered per C-level call (about 2 ms: the GIL is back soon)
ROWS_CHUNK = 256  # rows of a 2-D array (P, Q, a history) rendered per piece


def _entries_json(o: Any, indent: int) -> RawPieces:
    """``[[row, col, value], ...]`` one entry per line, rendered at C speed (values are finite).

    In pieces of ``ENTRIES_CHUNK`` entries: one C call over millions of entries, or one
    string of them all, would hold the GIL for seconds, and the window writes its
    recovery file on another thread while the user works.
    """
    if len(o) == 0:
        return RawPieces(lambda: iter(("[]",)))
    inner = " " * (indent + 2)
    fmt = "{}[{}, {}, {!r}]".format

    def pieces() -> Iterator[str]:
        yield "[\n"
        for start in range(0, len(o), ENTRIES_CHUNK):
            stop = start + ENTRIES_CHUNK
            rows, cols, vals = o.rows[start:stop].tolist(), o.cols[start:stop].tolist(), o.vals[start:stop].tolist()
            yield (",\n" if start else "") + ",\n".join(map(fmt, [inner] * len(rows), rows, cols, vals))
        yield "\n" + " " * indent + "]"

    return RawPieces(pieces)


def _text(s: str) -> str:
    """``s`` as UTF-8 can hold it: a lone surrogate (labels cannot have one, a run's message or a
    parameter name might) becomes U+FFFD instead of failing the save."""
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        return s.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return s


def _dump(obj: Any, indent: int = 0) -> str:
    """JSON text: objects one key per line, each row of a 2-D array (and each object of a list) on its own line."""
    return "".join(_pieces(obj, indent))


def _pieces(obj: Any, indent: int = 0) -> Iterator[str]:
    """The JSON text of ``obj`` (see :func:`_dump`) as pieces, none of them the size of the whole."""
    pad, inner = " " * indent, " " * (indent + 2)
    if isinstance(obj, RawPieces):
        yield from obj
    elif isinstance(obj, np.ndarray) and obj.ndim >= 2 and len(obj):
        yield from _rows(obj, indent)
    elif isinstance(obj, dict) and obj:
        yield "{\n"
        for n, (k, v) in enumerate(obj.items()):
            yield (",\n" if n else "") + f"{inner}{json.dumps(_text(str(k)))}: "
            yield from _pieces(v, indent + 2)
        yield "\n" + pad + "}"
    else:
        yield _dump_value(obj, indent)


def _rows(a: np.ndarray, indent: int) -> Iterator[str]:
    """A 2-D array's JSON text, a row a line, in pieces of ROWS_CHUNK rows: one tolist() of a big matrix, or
    one string of it, would hold the GIL for long."""
    inner = " " * (indent + 2)
    yield "[\n"
    for start in range(0, len(a), ROWS_CHUNK):
        yield (",\n" if start else "") + ",\n".join(inner + _dump_value(r, indent + 2)
                                                      for r in a[start:start + ROWS_CHUNK])
    yield "\n" + " " * indent + "]"


def _dump_value(obj: Any, indent: int) -> str:
    pad, inner = " " * indent, " " * (indent + 2)
    if isinstance(obj, np.ndarray):
        if obj.ndim >= 2 and len(obj):
            return "".join(_rows(obj, indent))
        obj = obj.tolist()
    if isinstance(obj, dict):
        return _dump(obj, indent) if obj else "{}"
    if isinstance(obj, (list, tuple)):
        if obj and (all(isinstance(r, (list, tuple)) for r in obj) or all(isinstance(r, dict) and r for r in obj)):
            return "[\n" + ",\n".join(inner + _dump_value(r, indent + 2) for r in obj) + "\n" + pad + "]"
        if all(type(v) is float for v in obj):  # a row of floats (P, Q, a history): each as _num writes it
            text = ", ".join(map(repr, obj))
            if not all(map(math.isfinite, obj)):  # only these reprs hold letters n, a, i, f (finite ones: e)
                text = text.replace("nan", "null").replace("-inf", '"-Infinity"').replace("inf", '"Infinity"')
            return "[" + text + "]"
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
    rat: dict[str, Any] = {"shape": list(r.shape), "users": list(r.users), "items": list(r.items),
                           "scale": list(r.scale)}
    if r.n_users * r.n_items <= GRID_MAX_CELLS and r.n_items > 0:
        grid: list[list[Any]] = [[None] * r.n_items for _ in range(r.n_users)]
        for i, j, v in zip(o.rows.tolist(), o.cols.tolist(), o.vals.tolist()):
            grid[i][j] = v
        rat["R"] = grid
    elif should_pack(len(o), r.shape):
        rat["entries"] = packed(o.rows, o.cols, o.vals)
    else:
        rat["entries"] = _entries_json(o, 4)
    if r.item_genres is not None:
        rat["item_genres"] = [list(g) for g in r.item_genres]
    if r.implicit:  # written only when true: a file without it holds ratings, as every file before it did
        rat["implicit"] = True
    doc: dict[str, Any] = {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "app": f"MF Studio {mfstudio.__version__}",
        "ratings": rat,
        # the keys "held_out" (the cells) and "holdout_fraction" (the share) keep the names of the
        # files already saved; Session calls them held_out_cells and holdout
        "held_out": _cells(session.held_out_cells, r.shape),
        "solver": session.solver,
        "params": {str(k): _plain(v) for k, v in session.params.items()},
        "holdout_fraction": float(session.holdout),
        "patience": None if session.patience is None else int(session.patience),
        "zeros_are_missing": bool(session.zeros_are_missing),
        "top_n": int(session.top_n),
        "relevance": None if session.relevance is None else float(session.relevance),
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
            "relevant_from": None if res.relevant_from is None else float(res.relevant_from),
            "best_step": None if res.best_step is None else int(res.best_step),
            "factors": {
                "K": f.K,
                "P": f.P,
                "Q": f.Q,
                "user_bias": f.user_bias,
                "item_bias": f.item_bias,
                "global_mean": float(f.global_mean),
            },
            "history": {"columns": list(res.history.columns), "rows": res.history.arrays()},
        }
    if session.runs:  # left out when there are none: the files before the runs table read the same
        doc["runs"] = [_run(r) for r in session.runs]
    return doc


def _cells(cells: np.ndarray, shape: tuple[int, int]) -> Any:
    """Held-out cells: a list of [row, col], packed when long."""
    a = np.asarray(cells, dtype=np.int64).reshape(-1, 2)
    return packed(a[:, 0], a[:, 1]) if should_pack(len(a), shape) else a.tolist()


def _run(r: RunRecord) -> dict[str, Any]:
    """One run of the runs table as the session file keeps it (no factors: those are the result's)."""
    return {
        "name": r.name,
        "visible": bool(r.visible),
        "solver": r.solver,
        "params": {str(k): _plain(v) for k, v in r.params.items()},
        "holdout": float(r.holdout),
        "patience": None if r.patience is None else int(r.patience),
        "top_n": int(r.top_n),
        "steps_done": int(r.steps_done),
        "elapsed_s": float(r.seconds),
        "reason": r.reason,
        "metrics": {str(k): float(v) for k, v in r.metrics.items()},
        "best_step": None if r.best_step is None else int(r.best_step),
        "history": _run_history(r),
    }


def session_to_bytes(session: Session, rest: float = 0.0) -> bytes:
    """The bytes of a session file: JSON text, gzip-compressed when large (faster for packed data).
    ``rest``: see :func:`document_to_bytes`."""
    r = session.ratings
    return document_to_bytes(session_to_dict(session), PACKED_GZIP_LEVEL if should_pack(r.nnz, r.shape) else GZIP_LEVEL,
                             rest)


def _resting(pieces: Iterator[str], rest: float) -> Iterator[str]:
    """``pieces``, sleeping after each ``rest`` times as long as it took to render (the GIL held): a thread
    writing in the background then leaves the interpreter to the window most of the time."""
    while True:
        t0 = time.perf_counter()
        piece = next(pieces, None)
        if piece is None:
            return
        time.sleep((time.perf_counter() - t0) * rest)
        yield piece


def document_to_bytes(doc: dict[str, Any], level: int = GZIP_LEVEL, rest: float = 0.0) -> bytes:
    """A document (a session's, or a lesson's holding one) as the bytes of its file: JSON text laid out
    as session files are, gzip-compressed when large. ``rest`` > 0 (the autosave's thread) sleeps after
    each piece ``rest`` times as long as the piece took, so that the window's thread gets the GIL."""
    # piece by piece, never the whole text as one string: no step holds the GIL for long; past GZIP_ABOVE
    # each piece is compressed as it comes, so a large session is never in memory as text
    head: list[bytes] = []
    size = 0
    pieces = _resting(_pieces(doc), rest) if rest > 0 else _pieces(doc)
    ended = False
    for piece in pieces:
        head.append(piece.encode("utf-8"))
        size += len(head[-1])
        if size > GZIP_ABOVE:
            break
    else:
        head.append(b"\n")
        ended = True
        if size + 1 <= GZIP_ABOVE:
            return b"".join(head)
    z = zlib.compressobj(level, zlib.DEFLATED, 31)  # gzip with mtime 0: the same bytes for the same session
    out = [z.compress(d) for d in head]
    out.extend(z.compress(piece.encode("utf-8")) for piece in pieces)
    if not ended:
        out.append(z.compress(b"\n"))
    out.append(z.flush())
    return b"".join(out)


def save_session(path: str | os.PathLike[str], session: Session) -> None:
    """Write ``session`` to ``path`` atomically."""
    atomic_write(path, session_to_bytes(session))


def _run_history(r: RunRecord) -> dict[str, Any]:
    """A run's history by column name: the curves' columns, and the ranking metrics' when it has them."""
    h = np.asarray(r.history, dtype=np.float64)
    columns = columns_for(list(r.metrics))
    if h.ndim != 2 or h.shape[1] != len(columns):
        columns, h = HISTORY_COLUMNS, h.reshape(-1, h.shape[-1] if h.ndim == 2 else len(HISTORY_COLUMNS))
        h = h[:, :len(HISTORY_COLUMNS)]
    return {"columns": list(columns), "rows": h}
