"""Result files: P.csv, Q.csv, R_hat.csv, history.csv, recommendations.csv, run.json and
results.npz. Numbers are written at full precision (``repr``), so reading them back gives
the same arrays; every file is written atomically."""

from __future__ import annotations

import csv
import io
import json
import math
import os
import platform
from collections.abc import Iterable, Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

import mfstudio
from mfstudio.core.ratings import Ratings
from mfstudio.core.recommend import Recommendations, recommend
from mfstudio.core.session import Session
from mfstudio.core.solvers import Factors
from mfstudio.core.training import HISTORY_COLUMNS, History
from mfstudio.io.atomic import atomic_write, write_files
from mfstudio.io.errors import FileFormatError, describe_os_error
from mfstudio.io.npz import npz_bytes
from mfstudio.io.session_file import session_to_bytes

RESULT_FILES = ("P.csv", "Q.csv", "R_hat.csv", "history.csv", "recommendations.csv", "run.json", "results.npz")
HISTORY_CSV_COLUMNS = ("step", "objective", "train_rmse", "val_rmse", "elapsed_s")


def _cell(x: float) -> str:
    """A float at full precision; NaN as an empty cell."""
    return "" if math.isnan(x) else repr(x)


def _csv(rows: Iterable[Sequence[Any]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerows(rows)
    return buf.getvalue()


def _matrix_csv(corner: str, col_labels: Sequence[str], row_labels: Sequence[str], M: np.ndarray) -> str:
    """A labelled matrix as CSV; numbers joined directly, since csv.writer is slow on big grids."""
    head = _csv([[corner, *col_labels]])
    quoted = [_csv([[lab]]).rstrip("\n") for lab in row_labels]
    body = "".join(
        f"{lab},{','.join(map(_cell, row))}\n" for lab, row in zip(quoted, np.asarray(M, dtype=np.float64).tolist())
    )
    return head + body


def P_csv(ratings: Ratings, factors: Factors) -> str:
    """P: one row per user (label first), one column per latent feature k1..kK."""
    return _matrix_csv("user", [f"k{k + 1}" for k in range(factors.K)], ratings.users, factors.P)


def Q_csv(ratings: Ratings, factors: Factors) -> str:
    """Q: one row per latent feature k1..kK, one column per item (labels in the header)."""
    return _matrix_csv("k", ratings.items, [f"k{k + 1}" for k in range(factors.K)], factors.Q)


def R_hat_csv(ratings: Ratings, factors: Factors) -> str:
    """R_hat = P Q (plus biases): users x items with both labels."""
    return _matrix_csv("user", ratings.items, ratings.users, factors.predict())


def history_csv(history: History | np.ndarray) -> str:
    """``step,objective,train_rmse,val_rmse,elapsed_s``; val_rmse empty without a hold-out."""
    a = history.arrays() if isinstance(history, History) else np.asarray(history, dtype=np.float64)
    a = a.reshape(-1, len(HISTORY_COLUMNS))
    idx = [HISTORY_COLUMNS.index(c) for c in HISTORY_CSV_COLUMNS]
    lines = [",".join(HISTORY_CSV_COLUMNS) + "\n"]
    for row in a[:, idx].tolist():
        step = "" if math.isnan(row[0]) else str(int(row[0]))
        lines.append(step + "," + ",".join(map(_cell, row[1:])) + "\n")
    return "".join(lines)


def recommendations_csv(ratings: Ratings, recs: Recommendations) -> str:
    """``user,rank,item,predicted``, one line per recommendation."""
    return _csv([("user", "rank", "item", "predicted")] + [(u, r, i, repr(p)) for u, r, i, p in recs.rows(ratings)])


def _versions() -> dict[str, str]:
    out = {"mfstudio": mfstudio.__version__, "python": platform.python_version(), "numpy": np.__version__}
    try:
        out["numba"] = metadata.version("numba")
    except metadata.PackageNotFoundError:
        pass
    out["platform"] = platform.platform()
    return out


def _finite_or_none(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def run_json(session: Session, timings: Mapping[str, float] | None = None) -> str:
    """run.json: solver, parameters, seed, data shape, final metrics, versions, timings."""
    res = session.result
    if res is None:
        raise FileFormatError("There are no results to export yet; train the model first.")
    r = session.ratings
    hist = res.history.arrays()
    last = dict(zip(HISTORY_COLUMNS, hist[-1].tolist())) if hist.shape[0] else {}
    params = {k: (v.item() if isinstance(v, np.generic) else v) for k, v in res.params.items()}
    doc = {
        "solver": res.solver,
        "parameters": params,
        "seed": params.get("seed"),
        "data": {
            "users": r.n_users, "items": r.n_items, "ratings": r.nnz,
            "held_out": int(session.held_out_mask().sum()) if len(session.held_out) else 0,
            "scale": list(r.scale),
        },
        "final": {
            "step": int(res.steps_done),
            **{k: _finite_or_none(last[k]) for k in ("objective", "train_rmse", "train_mae", "val_rmse", "val_mae") if k in last},
            "reason": str(getattr(res.reason, "value", res.reason) or ""),
            "message": res.message,
        },
        "versions": _versions(),
        "timings": {
            "training_s": float(res.elapsed_s),
            "steps_per_s": (res.steps_done / res.elapsed_s) if res.elapsed_s > 0 else None,
            **{k: float(v) for k, v in (timings or {}).items()},
        },
    }
    return json.dumps(doc, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def results_npz(session: Session, recs: Recommendations) -> bytes:
    """All results in one .npz: R, P, Q, R_hat, biases, history, recommendations, labels."""
    res = session.result
    assert res is not None
    f, r = res.factors, session.ratings
    arrays: dict[str, np.ndarray] = {
        "R": r.to_dense(), "P": f.P, "Q": f.Q, "R_hat": f.predict(),
        "users": np.array(r.users, dtype=str), "items": np.array(r.items, dtype=str),
        "scale": np.array(r.scale), "history": res.history.arrays(),
        "history_columns": np.array(HISTORY_COLUMNS, dtype=str),
        "rec_user": recs.user, "rec_rank": recs.rank, "rec_item": recs.item, "rec_predicted": recs.predicted,
    }
    if f.user_bias is not None:
        arrays.update(user_bias=f.user_bias, item_bias=f.item_bias, global_mean=np.array(f.global_mean))
    return npz_bytes(arrays)


def result_files(session: Session, *, top_n: int = 5, timings: Mapping[str, float] | None = None) -> dict[str, bytes]:
    """The result files of a session as name -> bytes, built in memory before anything is written."""
    res = session.result
    if res is None:
        raise FileFormatError("There are no results to export yet; train the model first.")
    r, f = session.ratings, res.factors
    recs = recommend(r, f, top_n)
    texts = {
        "P.csv": P_csv(r, f), "Q.csv": Q_csv(r, f), "R_hat.csv": R_hat_csv(r, f),
        "history.csv": history_csv(res.history), "recommendations.csv": recommendations_csv(r, recs),
        "run.json": run_json(session, timings),
    }
    out = {k: v.encode("utf-8") for k, v in texts.items()}
    out["results.npz"] = results_npz(session, recs)
    return out


def _folder(folder: str | os.PathLike[str]) -> Path:
    d = Path(folder)
    if d.exists() and not d.is_dir():
        raise FileFormatError(f"{d} is a file, not a folder; choose a folder for the results.")
    try:
        d.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FileFormatError(describe_os_error(exc, d, "create")) from exc
    return d


def export_results(folder: str | os.PathLike[str], session: Session, *, top_n: int = 5,
                   timings: Mapping[str, float] | None = None, include_session: bool = False) -> list[Path]:
    """Write the result files (and ``session.mfstudio`` if asked) into ``folder``, all or nothing.

    Everything is built in memory first, then each file goes to a temp file and the
    temp files replace the targets only once all of them are on disk.
    """
    files = result_files(session, top_n=top_n, timings=timings)
    if include_session:
        files["session.mfstudio"] = session_to_bytes(session)
    d = _folder(folder)
    return write_files({d / name: data for name, data in files.items()})


# -- per-table exports (the window's "Export table as CSV") ------------------------------------
def export_P(path: str | os.PathLike[str], ratings: Ratings, factors: Factors) -> None:
    """Write P.csv (users x K) to ``path``."""
    atomic_write(path, P_csv(ratings, factors))


def export_Q(path: str | os.PathLike[str], ratings: Ratings, factors: Factors) -> None:
    """Write Q.csv (K x items) to ``path``."""
    atomic_write(path, Q_csv(ratings, factors))


def export_R_hat(path: str | os.PathLike[str], ratings: Ratings, factors: Factors) -> None:
    """Write R_hat.csv (users x items) to ``path``."""
    atomic_write(path, R_hat_csv(ratings, factors))


def export_history(path: str | os.PathLike[str], history: History | np.ndarray) -> None:
    """Write history.csv to ``path``."""
    atomic_write(path, history_csv(history))


def export_recommendations(path: str | os.PathLike[str], ratings: Ratings, recs: Recommendations) -> None:
    """Write recommendations.csv to ``path``."""
    atomic_write(path, recommendations_csv(ratings, recs))


def export_ratings(path: str | os.PathLike[str], ratings: Ratings) -> None:
    """Write the ratings as a labelled matrix CSV (blank = not rated), which ``load`` reads back."""
    atomic_write(path, _matrix_csv("user", ratings.items, ratings.users, ratings.to_dense()))
