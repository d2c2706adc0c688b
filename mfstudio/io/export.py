"""Result files: P.csv, Q.csv, R_hat.csv, history.csv, recommendations.csv, run.json and
results.npz, plus user_bias.csv and item_bias.csv for a model with biases, so that R_hat.csv
can be rebuilt from the CSVs alone (run.json holds the global mean and the formula), and
held_out.csv with a hold-out, so that the ranking metrics (history.csv's and run.json's
precision@k, recall@k, ndcg@k, map@k, and mpr with implicit data; see mfstudio.core.ranking) can be
recomputed.

CSV numbers have 6 significant digits (what a spreadsheet shows, a third of the size);
``full_precision=True`` writes the shortest text that reads back bit for bit, which
results.npz always holds. Every file is written atomically, and a whole export is one
complete set or says it is not (see export_results and the manifest, mfstudio-export.json).

Nothing users x items is written unless the data is small enough to show whole
(memory.shows_whole) or the export is asked to be ``dense`` (``mfstudio train --dense``):
for larger data R_hat.csv is not written (run.json says how to rebuild any R_hat value from
P, Q and the biases) and results.npz holds R as its entries (R_rows, R_cols, R_vals, R_shape)
and no R_hat."""

from __future__ import annotations

import hashlib
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
from mfstudio.core.history import History
from mfstudio.core.memory import check_dense_export, shows_whole
from mfstudio.core.params import TOP_N
from mfstudio.core.ranking import DEFINITIONS, ranking_k, ranking_metrics, relevance_threshold, relevant
from mfstudio.core.ratings import PREFERENCE_SCALE, Observed, Ratings, display_scale
from mfstudio.core.recommend import AUTO, Recommendations, recommend
from mfstudio.core.runs import ERROR_METRICS, RunRecord, metric_keys, result_best_step
from mfstudio.core.session import Session
from mfstudio.core.solvers import Factors
from mfstudio.io import atomic, csvsafe
from mfstudio.io.atomic import atomic_write, write_files
from mfstudio.io.errors import FileFormatError, describe_os_error
from mfstudio.io.files import open_input
from mfstudio.io.npz import npz_bytes
from mfstudio.io.session_write import session_to_bytes
from mfstudio.io.tables import COUNTS_CORNER

RESULT_FILES = ("P.csv", "Q.csv", "R_hat.csv", "history.csv", "recommendations.csv", "run.json", "results.npz")
BIAS_FILES = ("user_bias.csv", "item_bias.csv")  # written too when the model has biases
DEFAULT_TOP_N = int(TOP_N.default)
RANKED_BY = "score (unclipped R_hat); predicted is the score clipped to the scale"
PREFERENCE_RANKED_BY = ("score (unclipped R_hat, a preference); predicted is the score clipped to 0 to 1, the range of "
                        "preferences (core.ratings.display_scale), not to the count scale")
HELD_OUT_FILE = "held_out.csv"  # written too when ratings are held out
HELD_OUT_COLUMNS = ("user", "item", "rating")
HELD_OUT_COUNT_COLUMNS = ("user", "item", "count")  # held_out.csv of counts of events (implicit data)
SESSION_FILE = "session.mfstudio"  # written too when asked (the command line does)
MANIFEST = "mfstudio-export.json"  # written last: each file's size and SHA-256
MAX_MANIFEST_BYTES = 1 << 20
HISTORY_CSV_COLUMNS = ("step", "objective", "train_rmse", "val_rmse", "elapsed_s")
RECOMMENDATION_COLUMNS = ("user", "rank", "item", "predicted", "score", "item_ratings")
SIGNIFICANT_DIGITS = 6
LINES_CHUNK = 100_000  # lines of a long CSV made and joined at a time


def _short(x: float) -> str:
    """A float with 6 significant digits; NaN as an empty cell."""
    return "" if math.isnan(x) else f"{x:.{SIGNIFICANT_DIGITS}g}"


def _full(x: float) -> str:
    """A float at full precision (reads back bit for bit); NaN as an empty cell."""
    return "" if math.isnan(x) else repr(x)


def _cell_fn(full_precision: bool):
    return _full if full_precision else _short


def _csv(rows: Iterable[Sequence[Any]]) -> str:
    """CSV text; label cells (csvsafe.label) are neutralised so no spreadsheet runs them as formulas."""
    return csvsafe.rows_csv(rows)


def _labels(labels: Sequence[str]) -> list[csvsafe.Text]:
    return [csvsafe.label(x) for x in labels]


def _fields(labels: Sequence[str]) -> list[str]:
    """Each label as its finished CSV field (neutralised and quoted as :func:`_csv` writes it), worked out
    once per label rather than once per line: the long files (recommendations, held-out ratings) name
    the same users and items again and again."""
    return [csvsafe.field(x) for x in _labels(labels)]


def _matrix_csv(corner: str, col_labels: Sequence[str], row_labels: Sequence[str], M: np.ndarray,
                full_precision: bool = True) -> str:
    """A labelled matrix as CSV; numbers joined directly, since csv.writer is slow on big grids."""
    return _csv([[corner, *_labels(col_labels)]]) + _matrix_rows(row_labels, M, full_precision)


def _matrix_rows(row_labels: Sequence[str], M: np.ndarray, full_precision: bool = True) -> str:
    """The lines of a labelled matrix CSV below its header: each row's label, then its numbers."""
    quoted = [csvsafe.field(lab) for lab in _labels(row_labels)]
    cell = _cell_fn(full_precision)
    return "".join(
        f"{lab},{','.join(map(cell, row))}\n" for lab, row in zip(quoted, np.asarray(M, dtype=np.float64).tolist())
    )


def P_csv(ratings: Ratings, factors: Factors, full_precision: bool = False) -> str:
    """P: one row per user (label first), one column per latent feature k1..kK."""
    return _matrix_csv("user", [f"k{k + 1}" for k in range(factors.K)], ratings.users, factors.P, full_precision)


def Q_csv(ratings: Ratings, factors: Factors, full_precision: bool = False) -> str:
    """Q: one row per latent feature k1..kK, one column per item (labels in the header)."""
    return _matrix_csv("k", ratings.items, [f"k{k + 1}" for k in range(factors.K)], factors.Q, full_precision)


R_HAT_BLOCK_CELLS = 1 << 20  # R_hat.csv is computed and written this many cells at a time


def R_hat_csv(ratings: Ratings, factors: Factors, full_precision: bool = False) -> str:
    """R_hat (the model's unclipped prediction, see run.json's formula): users x items with both labels,
    computed a block of users at a time (never the whole users x items array besides the text)."""
    n = ratings.n_users
    step = max(1, R_HAT_BLOCK_CELLS // max(ratings.n_items, 1))
    parts = [_csv([["user", *_labels(ratings.items)]])]
    for start in range(0, n, step):
        stop = min(n, start + step)
        parts.append(_matrix_rows(ratings.users[start:stop], factors.predict_rows(start, stop), full_precision))
    return "".join(parts)


def r_hat_csv_bytes(n_users: int, n_items: int, full_precision: bool = False) -> int:
    """About how many bytes R_hat.csv takes on disk."""
    text = 20 if full_precision else 10  # a number and its comma
    return text * int(n_users) * int(n_items)


def dense_disk_bytes(n_users: int, n_items: int, full_precision: bool = False) -> int:
    """About how many bytes of disk a dense export takes: R_hat.csv's text and results.npz's R and R_hat."""
    return r_hat_csv_bytes(n_users, n_items, full_precision) + (8 + 1) * int(n_users) * int(n_items)


def bias_csv(labels: Sequence[str], bias: np.ndarray, who: str, full_precision: bool = False) -> str:
    """``user,bias`` (or ``item,bias``): one line per user (item)."""
    cell = _cell_fn(full_precision)
    return _csv([(who, "bias")] + [(lab, cell(float(b))) for lab, b in zip(_labels(labels), np.asarray(bias).tolist())])


def formula(factors: Factors) -> str:
    """How R_hat is built from the exported files, in words a spreadsheet user can follow."""
    if factors.user_bias is None:
        text = "R_hat[u,i] = sum over k of P[u,k] * Q[k,i]"
    else:
        text = "R_hat[u,i] = global_mean + user_bias[u] + item_bias[i] + sum over k of P[u,k] * Q[k,i]"
    if factors.cold_users is not None or factors.cold_items is not None:
        extra = " + the other side's bias" if factors.user_bias is not None else ""
        text += ("; except for the users and items listed under fallback (no training ratings), "
                 f"predicted as fallback.mean{extra}")
    return text


def history_csv(history: History | np.ndarray, full_precision: bool = False) -> str:
    """``step,objective,train_rmse,val_rmse,elapsed_s``, then with a hold-out the ranking metrics
    (``precision@10,recall@10,ndcg@10,map@10``, k as set; empty at the steps not evaluated);
    val_rmse empty without a hold-out. Rows (an array) have HISTORY_COLUMNS only."""
    cell = _cell_fn(full_precision)
    h = history if isinstance(history, History) else History.from_array(history)
    a = h.arrays()
    names = HISTORY_CSV_COLUMNS + h.ranking_names
    idx = [h.columns.index(c) for c in names]
    lines = [",".join(names) + "\n"]
    for row in a[:, idx].tolist():
        step = "" if math.isnan(row[0]) else str(int(row[0]))
        lines.append(step + "," + ",".join(map(cell, row[1:])) + "\n")
    return "".join(lines)


PARAM_ORDER = ("K", "alpha", "beta", "steps", "tol", "seed")  # the runs table's parameter columns, first in this order


def runs_csv(records: Sequence[RunRecord], names: Sequence[str], full_precision: bool = False) -> str:
    """The runs table: ``name,solver,<each parameter>,holdout,patience,top_n,steps_done,seconds,stop_reason,
    train_rmse,val_rmse,train_mae,val_mae,best_val_step,<each ranking metric>``, one row per run, named by
    ``names``; an empty cell where a run has no such value (no parameter, patience off, no hold-out)."""
    cell = _cell_fn(full_precision)
    given = list(dict.fromkeys(k for r in records for k in r.params))
    params = [k for k in PARAM_ORDER if k in given] + sorted(k for k in given if k not in PARAM_ORDER)
    metrics = metric_keys(list(records))
    ranking = metrics[len(ERROR_METRICS):]

    def number(v: Any) -> str:
        if v is None or isinstance(v, bool):
            return ""
        return f"{int(v)}" if isinstance(v, (int, np.integer)) else cell(float(v))

    rows: list[list[Any]] = [["name", "solver", *params, "holdout", "patience", "top_n", "steps_done", "seconds",
                              "stop_reason", *ERROR_METRICS, "best_val_step", *ranking]]
    for r, name in zip(records, names):
        rows.append([csvsafe.label(name), csvsafe.label(r.solver), *(number(r.params.get(k)) for k in params),
                     number(r.holdout), number(r.patience), number(r.top_n), number(r.steps_done),
                     number(r.seconds), csvsafe.label(r.reason),
                     *(number(r.metrics.get(k, math.nan)) for k in ERROR_METRICS), number(r.best_step),
                     *(number(r.metrics.get(k, math.nan)) for k in ranking)])
    return _csv(rows)


def held_out_csv(session: Session, full_precision: bool = False) -> str:
    """``user,item,rating``: the held-out ratings, one line each (labels as in the other CSVs); ``user,item,count``,
    the held-out interactions, for counts of events."""
    return entries_csv(session.ratings, session.held_out_entries(), full_precision)


def entries_csv(r: Ratings, entries: Observed, full_precision: bool = False) -> str:
    """``user,item,rating`` (``user,item,count`` for counts of events): the given entries of ``r``, one line each,
    labels as in the other CSVs; ``load`` reads it back."""
    cell = _cell_fn(full_precision)
    users, items = _fields(r.users), _fields(r.items)
    values, which = np.unique(entries.vals, return_inverse=True)  # ratings take few values: each written once
    texts = [cell(v) for v in values.tolist()]
    parts = [_csv([HELD_OUT_COUNT_COLUMNS if r.implicit else HELD_OUT_COLUMNS])]
    for a in range(0, len(entries), LINES_CHUNK):  # joined a chunk at a time: no list of millions of lines
        b = a + LINES_CHUNK
        parts.append("".join([f"{users[u]},{items[i]},{texts[v]}\n" for u, i, v in zip(
            entries.rows[a:b].tolist(), entries.cols[a:b].tolist(), which[a:b].tolist())]))
    return "".join(parts)


def final_ranking(session: Session, top_n: int) -> tuple[dict[str, float], dict[str, Any] | None]:
    """The result's ranking metrics at its last step and how they were made (k, the threshold), for
    run.json: the history's, else (results from before them) computed now with k = ``top_n``;
    ({}, None) without a hold-out (or with ``top_n`` 0 and none in the history). Implicit data has no
    threshold (``relevant_from`` null: every held-out interaction is relevant)."""
    res = session.result
    assert res is not None
    held = session.held_out_entries()
    if len(held) == 0:
        return {}, None
    implicit = session.ratings.implicit
    values = res.ranking
    threshold = res.relevant_from
    if threshold is None or not values:
        threshold = relevance_threshold(session.relevance, session.ratings.scale)
    if values:
        k = ranking_k(values)
    elif top_n >= 1:
        k = int(top_n)
        values = ranking_metrics(res.factors, session.train_entries(), held, k, threshold, implicit)
    else:
        return {}, None
    users = len(set(held.rows[relevant(held.vals, threshold, implicit)].tolist()))
    about = {"k": k, "relevant_from": None if implicit else float(threshold), "users_evaluated": users,
             "held_out_file": HELD_OUT_FILE, "definitions": DEFINITIONS}
    return values, about


def recommendations_csv(ratings: Ratings, recs: Recommendations, full_precision: bool = False) -> str:
    """``user,rank,item,predicted,score,item_ratings``, one line per recommendation.

    ``predicted`` is clipped to the rating scale (as the window shows it); ``score`` is
    the model's unclipped R_hat, which the ranking follows; ``item_ratings`` is how many
    training ratings the item has.
    """
    cell = _cell_fn(full_precision)
    users, items = _fields(ratings.users), _fields(ratings.items)
    parts = [_csv([RECOMMENDATION_COLUMNS])]
    for a in range(0, len(recs.user), LINES_CHUNK):  # joined a chunk at a time: no list of millions of lines
        b = a + LINES_CHUNK
        parts.append("".join([
            f"{users[u]},{k},{items[i]},{cell(p)},{cell(s)},{c}\n"
            for u, k, i, p, s, c in zip(recs.user[a:b].tolist(), recs.rank[a:b].tolist(), recs.item[a:b].tolist(),
                                        recs.predicted[a:b].tolist(), recs.score[a:b].tolist(),
                                        recs.item_ratings[a:b].tolist())]))
    return "".join(parts)


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


def run_json(session: Session, timings: Mapping[str, float] | None = None, recs: Recommendations | None = None,
             top_n: int = DEFAULT_TOP_N, dense: bool | None = None, engine: Mapping[str, Any] | None = None) -> str:
    """run.json: solver, parameters, seed, data shape, final metrics, the model's formula (and global
    mean), the fallback users and items, how recommendations were chosen, versions, timings; ``engine``
    (a run trained elsewhere, e.g. on Spark: its name, master, version, mapped parameters) as "engine"."""
    res = session.result
    if res is None:
        raise FileFormatError("There are no results to export yet; train the model first.")
    r = session.ratings
    last = res.kept_row()  # the factors' own errors: after an early stop, the best step's
    ranking, about = final_ranking(session, top_n)
    params = {k: (v.item() if isinstance(v, np.generic) else v) for k, v in res.params.items()}
    f = res.factors
    doc: dict[str, Any] = {
        "solver": res.solver,
        "parameters": params,
        "seed": params.get("seed"),
        "data": {
            "users": r.n_users, "items": r.n_items, "ratings": r.nnz,
            "held_out": int(session.held_out_flags().sum()) if len(session.held_out_cells) else 0,
            "scale": list(r.scale),
            "implicit": r.implicit,  # true: the values are counts of events (plays, clicks), not ratings
        },
        "final": {
            "step": int(res.steps_done),
            "best_step": result_best_step(res),
            **{k: _finite_or_none(last[k]) for k in ("objective", "train_rmse", "train_mae", "val_rmse", "val_mae")
               if k in last},
            **{k: _finite_or_none(v) for k, v in ranking.items()},
            "reason": str(getattr(res.reason, "value", res.reason) or ""),
            "message": res.message,
        },
        "model": {"formula": formula(res.factors),
                  "files": ["P.csv", "Q.csv"] + (list(BIAS_FILES) if res.factors.user_bias is not None else []),
                  "r_hat": "R_hat.csv" if writes_dense(r, dense) else
                  f"not written: {r.n_users:,} users x {r.n_items:,} items is too large to write whole; "
                  "rebuild R_hat from the formula and the files, or train with --dense"},
        "versions": _versions(),
        "timings": {
            "training_s": float(res.elapsed_s),
            "steps_per_s": (res.steps_done / res.elapsed_s) if res.elapsed_s > 0 else None,
            **{k: float(v) for k, v in (timings or {}).items()},
        },
    }
    if f.user_bias is not None:
        doc["global_mean"] = float(f.global_mean)
    if f.cold_users is not None or f.cold_items is not None:
        doc["fallback"] = {
            "mean": float(f.fallback_mean),
            "users": [r.users[i] for i in (f.cold_users if f.cold_users is not None else [])],
            "items": [r.items[i] for i in (f.cold_items if f.cold_items is not None else [])],
        }
    if about is not None:
        doc["ranking"] = about
    if engine is not None:
        doc["engine"] = dict(engine)
    if recs is not None:
        doc["recommendations"] = {"per_user": int(top_n), "min_item_ratings": int(recs.min_ratings),
                                  "ranked_by": PREFERENCE_RANKED_BY if display_scale(r, res.solver) == PREFERENCE_SCALE
                                  else RANKED_BY}
    return json.dumps(doc, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def results_npz(session: Session, recs: Recommendations, dense: bool | None = None) -> bytes:
    """All results in one .npz: R, P, Q, R_hat, biases, history, recommendations, labels. Unless
    ``dense`` (default: when the data shows whole, memory.shows_whole), R is saved as its entries
    R_rows, R_cols, R_vals and R_shape, and R_hat is left out (P, Q and the biases give it)."""
    res = session.result
    assert res is not None
    f, r = res.factors, session.ratings
    if shows_whole(r.n_users, r.n_items) if dense is None else dense:
        matrices = {"R": r.to_dense(), "R_hat": f.predict()}
    else:
        o = r.observed
        index = np.int32 if max(r.shape) < 2**31 else np.int64  # half the size; readers take any whole numbers
        matrices = {"R_rows": o.rows.astype(index), "R_cols": o.cols.astype(index), "R_vals": o.vals,
                    "R_shape": np.array(r.shape, np.int64)}
    arrays: dict[str, np.ndarray] = {
        **matrices, "P": f.P, "Q": f.Q,
        "users": np.array(r.users, dtype=str), "items": np.array(r.items, dtype=str),
        "scale": np.array(r.scale), "history": res.history.arrays(),
        "history_columns": np.array(res.history.columns, dtype=str),
        "rec_user": recs.user, "rec_rank": recs.rank, "rec_item": recs.item, "rec_predicted": recs.predicted,
        "rec_score": recs.score, "rec_item_ratings": recs.item_ratings,
    }
    if f.user_bias is not None:
        arrays.update(user_bias=f.user_bias, item_bias=f.item_bias, global_mean=np.array(f.global_mean))
    if r.implicit:  # counts of events: ratings_from_npz reads them back as implicit data
        arrays["implicit"] = np.array(True)
    return npz_bytes(arrays)


def session_recommendations(session: Session, top_n: int = DEFAULT_TOP_N, min_ratings: int = AUTO) -> Recommendations:
    """The recommendations of a session's results: items not rated in training, thin items left out."""
    res = session.result
    if res is None:
        raise FileFormatError("There are no results to export yet; train the model first.")
    return recommend(session.ratings, res.factors, top_n, train=session.train_entries(), min_ratings=min_ratings,
                     solver=res.solver)


def writes_dense(ratings: Ratings, dense: bool | None = None) -> bool:
    """Whether an export writes R_hat.csv and the matrices R and R_hat in results.npz: when asked
    (``dense``), else when the data is small enough to show whole."""
    return shows_whole(ratings.n_users, ratings.n_items) if dense is None else bool(dense)


def result_files(session: Session, *, top_n: int = DEFAULT_TOP_N, min_ratings: int = AUTO, full_precision: bool = False,
                 timings: Mapping[str, float] | None = None, dense: bool | None = None,
                 engine: Mapping[str, Any] | None = None) -> dict[str, bytes]:
    """The result files of a session as name -> bytes, built in memory before anything is written;
    R_hat.csv only when :func:`writes_dense`; ``engine`` goes into run.json (see :func:`run_json`)."""
    res = session.result
    if res is None:
        raise FileFormatError("There are no results to export yet; train the model first.")
    r, f = session.ratings, res.factors
    dense = writes_dense(r, dense)
    if dense:
        check_dense_export(r.n_users, r.n_items)  # R_hat.csv and results.npz hold users x items
    recs = session_recommendations(session, top_n, min_ratings)
    fp = full_precision
    texts = {
        "P.csv": P_csv(r, f, fp), "Q.csv": Q_csv(r, f, fp), **({"R_hat.csv": R_hat_csv(r, f, fp)} if dense else {}),
        "history.csv": history_csv(res.history, fp), "recommendations.csv": recommendations_csv(r, recs, fp),
        "run.json": run_json(session, timings, recs, top_n, dense, engine),
    }
    if f.user_bias is not None:
        texts["user_bias.csv"] = bias_csv(r.users, f.user_bias, "user", fp)
        texts["item_bias.csv"] = bias_csv(r.items, f.item_bias, "item", fp)
    if len(session.held_out_cells):
        texts[HELD_OUT_FILE] = held_out_csv(session, fp)
    out = {k: v.encode("utf-8") for k, v in texts.items()}
    out["results.npz"] = results_npz(session, recs, dense)
    return out


OWN_FILES = (*RESULT_FILES, *BIAS_FILES, HELD_OUT_FILE, SESSION_FILE, MANIFEST)


def manifest_bytes(files: Mapping[str, bytes]) -> bytes:
    """mfstudio-export.json: every file of one export with its size and SHA-256, written last,
    so a reader can tell a complete set from one a kill or a crash interrupted."""
    doc = {
        "format": "mfstudio-export", "version": 1, "written_by": f"MF Studio {mfstudio.__version__}",
        "files": [{"name": name, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
                  for name, data in files.items()],
    }
    return (json.dumps(doc, indent=2) + "\n").encode("utf-8")


def _read_manifest(folder: Path) -> dict[str, tuple[int, str]] | None:
    """name -> (bytes, sha256) from the folder's manifest; None if it has none or it is unreadable."""
    try:
        with open_input(folder / MANIFEST) as fh:  # a regular file only: a FIFO by that name must not block
            raw = fh.read(MAX_MANIFEST_BYTES + 1)
        if len(raw) > MAX_MANIFEST_BYTES:
            return None
        doc = json.loads(raw.decode("utf-8"))
        if doc.get("format") != "mfstudio-export":
            return None
        return {str(f["name"]): (int(f["bytes"]), str(f["sha256"])) for f in doc["files"]}
    except (OSError, FileFormatError, ValueError, TypeError, KeyError, AttributeError):
        return None


def _matches(path: Path, size: int, sha256: str) -> bool:
    try:
        if not path.is_file() or path.stat().st_size != size:
            return False
        digest = hashlib.sha256()
        with open_input(path) as fh:  # hashed in pieces: a result file can be large
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest() == sha256
    except (OSError, FileFormatError):
        return False


def verify_export(folder: str | os.PathLike[str]) -> list[str]:
    """The files of an export folder that are not as its manifest lists them ([] = one complete
    set); ``[MANIFEST]`` when there is no readable manifest (no export finished there)."""
    d = Path(folder)
    listed = _read_manifest(d)
    if listed is None:
        return [MANIFEST]
    return [name for name, (size, sha) in listed.items() if not _matches(d / name, size, sha)]


def _only_results(d: Path) -> bool:
    """True if ``d`` is missing or holds nothing but MF Studio's own export files (and the hidden
    temp files of one): then the whole folder can be swapped without touching anything else."""
    if not d.exists():
        return True
    for entry in os.scandir(d):
        name = atomic.litter_of(entry.name) or entry.name
        if name not in OWN_FILES or not entry.is_file(follow_symlinks=False):
            return False
    return True


def check_export_folder(folder: str | os.PathLike[str]) -> Path:
    """Refuse, with one sentence, a folder the results cannot go into as they should: a file,
    a read-only folder, or one where a result file is read-only or is a folder. Returns the
    folder to write (the end of a symlink, so the link stays a link)."""
    return check_output_folder(folder, OWN_FILES, "the results", "the results")


def check_output_folder(folder: str | os.PathLike[str], names: Iterable[str], files: str, writer: str) -> Path:
    """The one check of a folder some files ``names`` are to be written into (``files``: what they are, as in
    "choose a folder for the results"; ``writer``: what cannot be written where one of them is a folder)."""
    d = atomic.real_target(folder)
    if d.exists() and not d.is_dir():
        raise FileFormatError(f"{d} is a file, not a folder; choose a folder for {files}.")
    if not d.is_dir():
        return d
    if atomic.is_read_only(d):
        raise FileFormatError(f"The folder {d} is read-only, so nothing was written; "
                              "make it writable or choose another folder.")
    for name in names:
        p = d / name
        if p.is_dir():
            raise FileFormatError(f"{p} is a folder, so {writer} cannot be written there; "
                                  "rename it or choose another folder.")
        if p.exists() and atomic.is_read_only(p):
            raise FileFormatError(f"{p} is read-only, so nothing was written; "
                                  "make it writable or choose another folder.")
    return d


def _make_folders(d: Path) -> list[Path]:
    """Create ``d``'s missing parent folders; return them (outermost first) to remove on failure."""
    missing = [p for p in (d.parent, *d.parent.parents) if not p.exists()][::-1]
    made: list[Path] = []
    try:
        for p in missing:
            p.mkdir()
            made.append(p)
    except OSError as exc:
        _remove_folders(made)
        raise FileFormatError(describe_os_error(exc, p, "create")) from exc
    return made


def _remove_folders(made: list[Path]) -> None:
    for p in reversed(made):
        try:
            p.rmdir()  # only if still empty
        except OSError:
            pass


def _write_in_place(d: Path, files: dict[str, bytes], made: list[Path]) -> None:
    """Write the files into a folder that holds other things too: all or nothing on an error,
    the old manifest moved aside first and the new one written last, so after a kill the
    folder's manifest either vouches for the files or is missing or does not match."""
    if not d.exists():
        try:
            d.mkdir()
        except OSError as exc:
            raise FileFormatError(describe_os_error(exc, d, "create")) from exc
        made.append(d)
    atomic.clean_litter(d, OWN_FILES)
    manifest = d / MANIFEST
    old = _read_manifest(d)
    aside = None
    if manifest.exists():
        # a hidden name the next write cleans if a kill leaves it
        aside = manifest.with_name(f".{MANIFEST}.{os.urandom(4).hex()}.bak")
        try:
            os.replace(manifest, aside)
        except OSError as exc:
            raise FileFormatError(describe_os_error(exc, manifest, "write")) from exc
    try:
        write_files({d / name: data for name, data in files.items() if name != MANIFEST})
    except BaseException:
        if aside is not None:
            try:
                os.replace(aside, manifest)
            except OSError:
                pass
        raise
    # files the last export wrote that this one does not (user_bias.csv after biased-sgd),
    # removed only while they are exactly as that export left them
    for name, (size, sha) in (old or {}).items():
        if name in OWN_FILES and name not in files and not atomic.is_read_only(d / name) \
                and _matches(d / name, size, sha):
            (d / name).unlink(missing_ok=True)
    atomic_write(manifest, files[MANIFEST])
    if aside is not None:
        aside.unlink(missing_ok=True)


def export_results(folder: str | os.PathLike[str], session: Session, *, top_n: int = DEFAULT_TOP_N,
                   min_ratings: int = AUTO, full_precision: bool = False, timings: Mapping[str, float] | None = None,
                   include_session: bool = False, dense: bool | None = None,
                   engine: Mapping[str, Any] | None = None) -> list[Path]:
    """Write the result files (and ``session.mfstudio`` if asked) into ``folder``, with the
    manifest mfstudio-export.json last; all or nothing.

    Everything is built in memory first. A folder that is new or holds only an earlier
    export is built anew in a hidden sibling and switched in with one rename, so it always
    holds one run's complete results. A folder holding other files too gets the files one
    by one (all or nothing on an error), the manifest telling whether the set is complete.
    Folders this creates are removed again if writing fails.
    """
    files = result_files(session, top_n=top_n, min_ratings=min_ratings, full_precision=full_precision,
                         timings=timings, dense=dense, engine=engine)
    if include_session:
        files[SESSION_FILE] = session_to_bytes(session)
    files[MANIFEST] = manifest_bytes(files)
    d = Path(os.path.abspath(atomic.real_target(folder)))
    atomic.repair_folder_swap(d)  # a kill between the two renames of a switch left d missing
    check_export_folder(d)
    made = _make_folders(d)
    try:
        try:
            swapped = _only_results(d) and atomic.replace_folder(d, files)
        except OSError as exc:
            raise FileFormatError(describe_os_error(exc, d, "write")) from exc
        if not swapped:
            _write_in_place(d, files, made)
    except BaseException:
        _remove_folders(made)
        raise
    return [d / name for name in files]


# -- per-table exports (the window's "Export table as CSV") ------------------------------------
def export_P(path: str | os.PathLike[str], ratings: Ratings, factors: Factors, full_precision: bool = False) -> None:
    """Write P.csv (users x K) to ``path``."""
    atomic_write(path, P_csv(ratings, factors, full_precision))


def export_Q(path: str | os.PathLike[str], ratings: Ratings, factors: Factors, full_precision: bool = False) -> None:
    """Write Q.csv (K x items) to ``path``."""
    atomic_write(path, Q_csv(ratings, factors, full_precision))


def export_R_hat(path: str | os.PathLike[str], ratings: Ratings, factors: Factors,
                 full_precision: bool = False) -> None:
    """Write R_hat.csv (users x items) to ``path``."""
    check_dense_export(ratings.n_users, ratings.n_items)
    atomic_write(path, R_hat_csv(ratings, factors, full_precision))


def export_biases(path: str | os.PathLike[str], ratings: Ratings, factors: Factors, which: str,
                  full_precision: bool = False) -> None:
    """Write user_bias.csv (``which="user"``) or item_bias.csv (``"item"``) to ``path``."""
    if factors.user_bias is None or factors.item_bias is None:
        raise FileFormatError("This model has no biases (only biased-sgd has them); export P and Q instead.")
    labels, bias = (ratings.users, factors.user_bias) if which == "user" else (ratings.items, factors.item_bias)
    atomic_write(path, bias_csv(labels, bias, which, full_precision))


def export_history(path: str | os.PathLike[str], history: History | np.ndarray, full_precision: bool = False) -> None:
    """Write history.csv to ``path``."""
    atomic_write(path, history_csv(history, full_precision))


def export_recommendations(path: str | os.PathLike[str], ratings: Ratings, recs: Recommendations,
                           full_precision: bool = False) -> None:
    """Write recommendations.csv to ``path``."""
    atomic_write(path, recommendations_csv(ratings, recs, full_precision))


def export_runs(path: str | os.PathLike[str], records: Sequence[RunRecord], names: Sequence[str],
                full_precision: bool = False) -> None:
    """Write the runs table (:func:`runs_csv`) to ``path``."""
    atomic_write(path, runs_csv(records, names, full_precision))


def export_ratings(path: str | os.PathLike[str], ratings: Ratings) -> None:
    """Write the ratings as a labelled matrix CSV (blank = not rated), which ``load`` reads back; implicit data
    says so in its corner cell (tables.COUNTS_CORNER), so it reads back as implicit data. Data too large to
    show whole (memory.shows_whole) is written as its entries instead, ``user,item,rating`` (or ``count``)."""
    if not shows_whole(ratings.n_users, ratings.n_items):
        atomic_write(path, entries_csv(ratings, ratings.observed, full_precision=True))
        return
    corner = COUNTS_CORNER if ratings.implicit else "user"
    atomic_write(path, _matrix_csv(corner, ratings.items, ratings.users, ratings.to_dense()))
