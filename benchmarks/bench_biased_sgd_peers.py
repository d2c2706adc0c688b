"""``biased-sgd`` against cornac's MF, libmf (Python bindings) and Surprise's SVD, in one run (K = 20).

Shapes (synthetic, fixed seed, 80/20 split): ML-100K (943 x 1,682, 100,000 ratings and ML-1M (6,040 x
3,706, 1,000,209) from _data.movielens_like; ML-10M (69,878 x 10,677, 10,000,054) and ML-25M (162,541 x
59,047, 25,000,095) from :func:`big_movielens_like` (the same planted model, items drawn by popularity
at once instead of a top-k per user, which would take minutes).

Each implementation runs in a child process of its own (so its peak memory is its own; the data are
read from a temporary .npy file), one after another, in ``--rounds`` interleaved rounds (mfstudio,
cornac, libmf, mfstudio, cornac, libmf, ...: a neighbour's load falls on all of them alike); the
table shows the median over the rounds of each child's epoch, and the load average (``uptime``) as
the shape's rounds began and ended:

- ``mfstudio``: ``BiasedSGDSolver.run(1)`` per epoch with the test ratings as the hold-out, as the
  app trains: each epoch also scores the validation ratings and reports the training errors (summed
  during the epoch); ``mfstudio-nohold``: the same without a hold-out (the epoch and its training
  errors only). numba's default threading layer and thread count (2 here).
- ``cornac``: cornac.models.mf.backend_cpu.fit_sgd, one epoch per call (its loop continues from the
  factors), float32, 2 threads (seed None: Hogwild, not reproducible; with a seed it runs 1 thread).
  Its loop sums the loss in the same pass.
- ``libmf``: libmf's FPSGD (the pip ``libmf`` bindings, AVX build), 2 threads, quiet (no evaluation),
  (fit of E iterations - fit of 1) / (E - 1), median of three; another rule (AdaGrad steps, no
  biases): its RMSE is shown for information only.
- ``surprise``: SVD, (fit of E epochs - fit of 1) / (E - 1): the SGD pass only.

The epoch is the median of the timed epochs (of a child); held-out RMSE is after EPOCHS epochs with lr = 0.005,
reg = 0.02, K = 20 (Surprise's defaults, the same model and rule for mfstudio, cornac and Surprise).
Peak memory is the child's peak resident set, and beyond the data it read (``+data``). "CPU per epoch"
is the child's CPU time (all its threads, ``time.process_time``) per epoch, median over the rounds: the
work an epoch takes, which a neighbour's load does not inflate as it does the wall time.

    python benchmarks/bench_biased_sgd_peers.py                     # ML-100K and ML-1M shapes
    python benchmarks/bench_biased_sgd_peers.py --sizes 100k,1m,10m,25m --skip surprise@10m --rounds 1
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

import _common  # noqa: F401
import numpy as np
from _common import ROOT, fmt_time, table
from _data import ML1M, ML100K, movielens_like, train_test

SHAPES = {"100k": ML100K, "1m": ML1M, "10m": (69_878, 10_677, 10_000_054), "25m": (162_541, 59_047, 25_000_095)}
IMPLS = ("mfstudio", "mfstudio-nohold", "cornac", "libmf", "surprise")
EPOCHS, LR, REG, K = 20, 0.005, 0.02, 20
HANG_S, HANG_S_PER_RATING = 120, 2e-6  # a child still running after this long is taken to be hung


def big_movielens_like(n_users: int, n_items: int, n_ratings: int, seed: int = 0,
                       rank: int = 10) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """About ``n_ratings`` distinct cells like _data.movielens_like (log-normal activity and popularity,
    the same planted model), the items of all users drawn at once by popularity, repeats dropped."""
    rng = np.random.default_rng(seed)
    w_user = rng.lognormal(0.0, 1.0, n_users)
    deg = 20 + rng.multinomial(n_ratings - 20 * n_users, w_user / w_user.sum())
    deg = np.minimum(deg, n_items // 2)
    log_pop = rng.normal(0.0, 1.3, n_items)
    pop = np.exp(log_pop)
    rows = np.repeat(np.arange(n_users, dtype=np.int64), deg)
    key = np.unique(rows * n_items + rng.choice(n_items, size=len(rows), p=pop / pop.sum()))
    while len(key) < n_ratings:  # repeats dropped: draw that many more (users by activity, items by popularity)
        more = n_ratings - len(key) + n_ratings // 100
        u = rng.choice(n_users, size=more, p=w_user / w_user.sum())
        key = np.unique(np.concatenate([key, u * n_items + rng.choice(n_items, size=more, p=pop / pop.sum())]))
    key = np.sort(rng.choice(key, n_ratings, replace=False))
    rows, cols = key // n_items, key % n_items
    P = rng.normal(0.0, np.sqrt(0.4 / rank), (n_users, rank))
    Q = rng.normal(0.0, 1.0, (n_items, rank))
    b_u = rng.normal(0.0, 0.35, n_users)
    c_i = 0.25 * (log_pop - log_pop.mean()) + rng.normal(0.0, 0.35, n_items)
    pred = 3.35 + b_u[rows] + c_i[cols] + np.einsum("nk,nk->n", P[rows], Q[cols])
    vals = np.clip(np.rint(pred + rng.normal(0.0, 0.8, len(rows))), 1, 5)
    return rows, cols, vals.astype(np.float64)


def make_data(size: str, folder: str) -> dict:
    n, m, nnz = SHAPES[size]
    data = movielens_like(n, m, nnz) if nnz <= 2_000_000 else big_movielens_like(n, m, nnz)
    (tr, te) = train_test(*data)
    for name, arr in zip(("tr_r", "tr_c", "tr_v", "te_r", "te_c", "te_v"), (*tr, *te)):
        np.save(os.path.join(folder, f"{size}_{name}.npy"), arr)
    return {"shape": (n, m), "train": len(tr[0]), "test": len(te[0])}


def _load(size: str, folder: str):
    arrs = [np.load(os.path.join(folder, f"{size}_{k}.npy")) for k in ("tr_r", "tr_c", "tr_v", "te_r", "te_c", "te_v")]
    return tuple(arrs[:3]), tuple(arrs[3:])


def _peak_mb() -> float:
    """This process's peak resident memory (VmHWM: ru_maxrss would carry the parent's over exec)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _rmse(te, pred: np.ndarray) -> float:
    return float(np.sqrt(np.mean((te[2] - pred) ** 2)))


# -- one implementation, in its own process -------------------------------------------------------
def run_mfstudio(shape, tr, te, epochs: int, hold: bool) -> dict:
    from mfstudio.core.ratings import Observed
    from mfstudio.core.solvers import get_solver

    cls = get_solver("biased-sgd")
    train, test = Observed(*tr), Observed(*te)
    s = cls(shape, train, test if hold else None, {"K": K, "alpha": LR, "beta": REG, "seed": 0})
    out = np.empty((1, 5))
    times, cpu = [], []
    for _ in range(epochs):
        t0, c0 = time.perf_counter(), time.process_time()
        s.run(1, out)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    f = s.factors
    return {"epoch": float(np.median(times[1:] if len(times) > 2 else times)), "epochs": epochs,
            "cpu": float(np.median(cpu[1:] if len(cpu) > 2 else cpu)),
            "rmse": _rmse(te, f.predict_at(te[0], te[1])) if epochs >= EPOCHS else None,
            "side": s.grid.side}


def run_cornac(shape, tr, te, epochs: int) -> dict:
    from cornac.models.mf import backend_cpu

    n, m = shape
    rng = np.random.default_rng(0)
    U = rng.normal(0, 0.1, (n, K)).astype(np.float32)
    V = rng.normal(0, 0.1, (m, K)).astype(np.float32)
    Bu, Bi = np.zeros(n, np.float32), np.zeros(m, np.float32)
    rid, cid, val = tr[0].astype(np.int64), tr[1].astype(np.int64), tr[2].astype(np.float32)
    mu = float(np.mean(tr[2]))
    times, cpu = [], []
    for _ in range(epochs):
        t0, c0 = time.perf_counter(), time.process_time()
        backend_cpu.fit_sgd(rid, cid, val, U, V, Bu, Bi, LR, REG, mu, 1, 2, True, False, False)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    pred = mu + Bu[te[0]] + Bi[te[1]] + np.einsum("nk,nk->n", U[te[0]], V[te[1]])
    return {"epoch": float(np.median(times[1:])), "epochs": epochs, "cpu": float(np.median(cpu[1:])),
            "rmse": _rmse(te, pred) if epochs >= EPOCHS else None}


def run_libmf(shape, tr, te, epochs: int) -> dict:
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()):
        from libmf import mf
    X = np.column_stack([tr[0], tr[1], tr[2]]).astype(np.float32)

    def fit(iters: int):
        model = mf.MF(k=K, nr_threads=2, nr_iters=iters, quiet=True, lambda_p1=0.0, lambda_q1=0.0,
                      lambda_p2=0.05, lambda_q2=0.05, eta=0.1)
        t0, c0 = time.perf_counter(), time.process_time()
        model.fit(X)
        return model, time.perf_counter() - t0, time.process_time() - c0

    e = max(2, epochs)
    per, cpu = [], []
    for _ in range(3):
        _, t1, c1 = fit(1)
        model, tn, cn = fit(e)
        per.append((tn - t1) / (e - 1))
        cpu.append((cn - c1) / (e - 1))
    pred = model.predict(np.column_stack([te[0], te[1]]).astype(np.float32)).astype(np.float64)
    return {"epoch": float(np.median(per)), "epochs": e, "cpu": float(np.median(cpu)),
            "rmse": _rmse(te, pred) if e >= EPOCHS else None}


def run_surprise(shape, tr, te, epochs: int) -> dict:
    from collections import defaultdict

    from surprise import SVD, Trainset

    ur, ir = defaultdict(list), defaultdict(list)
    for u, i, r in zip(tr[0].tolist(), tr[1].tolist(), tr[2].tolist()):
        ur[u].append((i, r))
        ir[i].append((u, r))
    ts = Trainset(ur, ir, shape[0], shape[1], len(tr[0]), (1, 5), {str(u): u for u in range(shape[0])},
                  {str(i): i for i in range(shape[1])})

    def fit(n: int):
        algo = SVD(n_factors=K, n_epochs=n, lr_all=LR, reg_all=REG, random_state=0)
        t0, c0 = time.perf_counter(), time.process_time()
        algo.fit(ts)
        return algo, time.perf_counter() - t0, time.process_time() - c0

    e = max(2, epochs)
    _, t1, c1 = fit(1)
    algo, tn, cn = fit(e)
    pred = ts.global_mean + algo.bu[te[0]] + algo.bi[te[1]] + np.einsum("nk,nk->n", algo.pu[te[0]], algo.qi[te[1]])
    return {"epoch": (tn - t1) / (e - 1), "epochs": e, "cpu": (cn - c1) / (e - 1),
            "rmse": _rmse(te, pred) if e >= EPOCHS else None}


def child(impl: str, size: str, folder: str, epochs: int) -> None:
    tr, te = _load(size, folder)
    base = _peak_mb()
    shape = SHAPES[size][:2]
    if impl.startswith("mfstudio"):
        res = run_mfstudio(shape, tr, te, epochs, hold=impl == "mfstudio")
    else:
        res = {"cornac": run_cornac, "libmf": run_libmf, "surprise": run_surprise}[impl](shape, tr, te, epochs)
    res.update(peak_mb=_peak_mb(), data_mb=base)
    print("RESULT " + json.dumps(res))


# -- the parent: data, children, table ------------------------------------------------------------
def _load_average() -> str:
    return f"{os.getloadavg()[0]:.2f}"


def _run_child(impl: str, size: str, folder: str, epochs: int, n_train: int) -> dict | None:
    """One implementation's child process on one shape: its RESULT, or None (and why) when it failed."""
    if impl in ("surprise", "libmf") and n_train > 2_000_000:
        epochs = 3
    env = {**os.environ, "PYTHONPATH": ROOT}
    cmd = [sys.executable, __file__, "--epochs", str(epochs), "--child", impl, size, folder]
    limit = HANG_S + n_train * epochs * HANG_S_PER_RATING
    for attempt in (1, 2):  # libmf's 2-thread scheduler has been seen to deadlock (both workers in put_job)
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=limit)
            break
        except subprocess.TimeoutExpired:
            again = "; trying once more" if attempt == 1 else ""
            print(f"{impl}: no result after {limit:.0f} s (hung), killed{again}")
    else:
        return None
    line = [x for x in done.stdout.splitlines() if x.startswith("RESULT ")]
    if done.returncode or not line:
        print(f"{impl}: failed ({done.stderr.strip().splitlines()[-1:] or done.returncode})")
        return None
    return json.loads(line[0][7:])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="100k,1m", help="comma-separated of " + ", ".join(SHAPES))
    ap.add_argument("--impls", default=",".join(IMPLS))
    ap.add_argument("--skip", default="surprise@10m,surprise@25m",
                    help="impl@size pairs not to run (default: Surprise on the 10M and 25M shapes)")
    ap.add_argument("--epochs", type=int, default=EPOCHS, help="epochs timed (and the RMSE budget when 20)")
    ap.add_argument("--rounds", type=int, default=3, help="interleaved rounds of every implementation")
    ap.add_argument("--child", nargs=3, metavar=("IMPL", "SIZE", "FOLDER"), help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        child(*a.child, a.epochs)
        return 0
    skip = set(a.skip.split(",")) if a.skip else set()
    impls = a.impls.split(",")
    with tempfile.TemporaryDirectory() as folder:
        for size in a.sizes.split(","):
            info = make_data(size, folder)
            n, m = info["shape"]
            print(f"\n== {size} shape: {n:,} x {m:,}, train {info['train']:,} / test {info['test']:,}; "
                  f"K = {K}, lr = {LR}, reg = {REG}, RMSE after {EPOCHS} epochs")
            results: dict[str, dict] = {}
            epochs_of: dict[str, list[float]] = {}
            cpu_of: dict[str, list[float]] = {}
            load = [_load_average()]
            for _ in range(max(1, a.rounds)):
                for impl in impls:
                    if f"{impl}@{size}" in skip:
                        continue
                    r = _run_child(impl, size, folder, a.epochs, info["train"])
                    if r is not None:
                        results[impl] = r
                        epochs_of.setdefault(impl, []).append(r["epoch"])
                        cpu_of.setdefault(impl, []).append(r["cpu"])
            for impl, times in epochs_of.items():
                results[impl]["epoch"], results[impl]["best"] = float(np.median(times)), float(min(times))
                results[impl]["cpu"] = float(np.median(cpu_of[impl]))
            load.append(_load_average())
            print(f"load average (1 min) {load[0]} as the {a.rounds} round(s) began, {load[1]} as they ended")
            ref = results.get("cornac", {}).get("epoch")
            rows = []
            for impl, r in results.items():
                ratio = f"{ref / r['epoch']:.2f}x" if ref else ""
                rmse = f"{r['rmse']:.4f}" if r.get("rmse") is not None else "-"
                rows.append([impl + (f" (side {r['side']})" if "side" in r else ""), fmt_time(r["epoch"]),
                             fmt_time(r["best"]), ratio, fmt_time(r["cpu"]), rmse,
                             f"{r['peak_mb']:,.0f} MB", f"+{r['peak_mb'] - r['data_mb']:,.0f} MB"])
            table(["implementation", "epoch (median)", "fastest round", "cornac / it", "CPU per epoch", "held-out RMSE",
                   "peak RSS", "beyond data"], rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
