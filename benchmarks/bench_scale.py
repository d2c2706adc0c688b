"""Scale: load and train ML-10M- and ML-25M-shaped triples files from the command line, sparse to the end.

Generates a synthetic MovieLens-shaped ratings file in /tmp (never committed; ``--keep`` keeps it for
the next run), then times, in fresh processes:

- load: ``mfstudio.io.load`` of the file (seconds; peak RSS and the memory beyond the final arrays);
- train: ``mfstudio train FILE --solver biased-sgd --k 20 --steps N --out DIR`` under ``/usr/bin/time -v``
  (wall seconds, peak RSS = "Maximum resident set size"), with the epoch time from its history.csv.

Targets (issue 15): load < 30 s and < 2 GB beyond the final arrays for 25 M lines; train peak < 4 GB on
the ML-25M shape. Run: ``python benchmarks/bench_scale.py [--shape 10m|25m|both] [--steps 3]``.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHAPES = {"10m": (71_567, 10_681, 10_000_054), "25m": (162_541, 59_047, 25_000_095)}
LAYOUTS = {"10m": "ml-10M100K/ratings.dat", "25m": "ml-25m/ratings.csv"}


def synthetic(n_users: int, n_items: int, n_ratings: int, seed: int = 0) -> tuple[np.ndarray, ...]:
    """(users, items, ratings, timestamps) of ``n_ratings`` distinct cells, MovieLens-like and fast.

    _data.movielens_like draws each user's items one user at a time (minutes at this size); here
    user activity is log-normal with at least 20 ratings, items are drawn for all users at once with
    log-normal popularity, duplicates are dropped and the shortfall drawn again. Half stars 0.5-5
    from a planted biases-plus-noise model, in random line order, as MovieLens files are by user."""
    rng = np.random.default_rng(seed)
    w = rng.lognormal(0.0, 1.0, n_users)
    deg = 20 + rng.multinomial(n_ratings - 20 * n_users, w / w.sum())
    deg = np.minimum(deg, n_items // 8)
    pop = rng.lognormal(0.0, 1.3, n_items)
    cdf = np.cumsum(pop / pop.sum())
    keys = np.zeros(0, np.int64)
    rows = np.repeat(np.arange(n_users, dtype=np.int64), deg)
    for round_ in range(8):  # redraw the duplicates; the last rounds uniformly (popular items are taken)
        u = rng.random(rows.size)
        cols = np.minimum(np.searchsorted(cdf, u), n_items - 1) if round_ < 4 else \
            rng.integers(0, n_items, rows.size)
        keys = np.sort(np.concatenate([keys, rows * n_items + cols]))
        keys = keys[np.append(True, keys[1:] != keys[:-1])]  # distinct (np.unique is slow in numpy 2)
        counts = np.bincount(keys // n_items, minlength=n_users)
        rows = np.repeat(np.arange(n_users, dtype=np.int64), np.maximum(deg - counts, 0))
        if rows.size == 0:
            break
    users, items = np.divmod(keys, n_items)
    b_u, c_i = rng.normal(0, 0.4, n_users), rng.normal(0, 0.5, n_items)
    vals = np.clip(np.rint(2 * (3.5 + b_u[users] + c_i[items] + rng.normal(0, 0.9, users.size))) / 2, 0.5, 5.0)
    ts = rng.integers(789_652_009, 1_574_327_703, users.size)
    return users + 1, items + 1, vals, ts


def write_triples(path: Path, shape: str, seed: int = 0) -> int:
    """Write the MovieLens layout of ``shape`` (ratings.dat with '::', or ratings.csv with a header)."""
    users, items, vals, ts = synthetic(*SHAPES[shape], seed=seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    sep = "::" if path.suffix == ".dat" else ","
    stars = np.where(vals == np.floor(vals), vals.astype(np.int64).astype(str), vals.astype(str)) if sep == "::" \
        else vals.astype(str)
    step = 1_000_000
    with open(path, "w", encoding="ascii", newline="\n") as fh:
        if sep == ",":
            fh.write("userId,movieId,rating,timestamp\n")
        for s in range(0, users.size, step):
            e = s + step
            fh.write("".join(f"{u}{sep}{i}{sep}{v}{sep}{t}\n" for u, i, v, t in
                             zip(users[s:e].tolist(), items[s:e].tolist(), stars[s:e].tolist(), ts[s:e].tolist())))
    return int(users.size)


# The peak is the process's own VmHWM: getrusage's ru_maxrss survives fork and exec on Linux, so a child of this
# (big) process would report this process's peak as its own.
PEAK = "int(next(l for l in open('/proc/self/status') if l.startswith('VmHWM')).split()[1]) * 1024"
LOAD_SNIPPET = f"""
import json, sys, time
t = time.perf_counter()
from mfstudio import io as mio
r = mio.load(sys.argv[1]).session.ratings
s = time.perf_counter() - t
final = sum(a.nbytes for a in (r.observed.rows, r.observed.cols, r.observed.vals))
peak = {PEAK}
print(json.dumps({{"seconds": s, "peak": peak, "final": final, "shape": r.shape, "nnz": r.nnz}}))
"""


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def measure_load(path: Path) -> dict:
    """Load ``path`` in a fresh process: seconds, peak RSS, the final arrays' bytes, shape."""
    base = subprocess.run([sys.executable, "-c", f"from mfstudio import io; print({PEAK})"],
                          capture_output=True, text=True, env=_env(), check=True)
    out = subprocess.run([sys.executable, "-c", LOAD_SNIPPET, str(path)], capture_output=True, text=True,
                         env=_env(), check=True)
    got = json.loads(out.stdout)
    got["import_rss"] = int(base.stdout)
    return got


def measure_train(path: Path, steps: int, extra: list[str]) -> dict:
    """``mfstudio train`` under /usr/bin/time -v: wall seconds, peak RSS, the median epoch from history.csv."""
    out = Path(tempfile.mkdtemp(prefix="mfs-scale-")) / "out"
    cmd = ["/usr/bin/time", "-v", sys.executable, "-m", "mfstudio", "train", str(path), "--solver", "biased-sgd",
           "--k", "20", "--steps", str(steps), "--out", str(out), *extra]
    t = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True, env=_env())
    wall = time.perf_counter() - t
    if p.returncode != 0:
        raise SystemExit(f"mfstudio train failed:\n{p.stderr[-3000:]}")
    rss = next(int(ln.split(":")[1]) * 1024 for ln in p.stderr.splitlines() if "Maximum resident" in ln)
    with open(out / "history.csv", newline="") as fh:
        elapsed = [float(row["elapsed_s"]) for row in csv.DictReader(fh)]
    run = json.loads((out / "run.json").read_text())
    sizes = {f.name: f.stat().st_size for f in out.iterdir()}
    shutil.rmtree(out.parent, ignore_errors=True)
    epochs = np.diff([0.0, *elapsed])
    return {"wall": wall, "peak": rss, "epoch": float(np.median(epochs)), "load": run["timings"].get("load_s"),
            "files": sizes}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shape", choices=("10m", "25m", "both"), default="both")
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--keep", action="store_true", help="keep the generated files in /tmp for the next run")
    args = ap.parse_args()
    failed = False
    for shape in (("10m", "25m") if args.shape == "both" else (args.shape,)):
        n_users, n_items, _ = SHAPES[shape]
        path = Path(tempfile.gettempdir()) / "mfstudio-bench-scale" / LAYOUTS[shape]
        if not path.exists():
            t = time.perf_counter()
            n = write_triples(path, shape)
            print(f"[{shape}] wrote {n:,} ratings to {path} ({path.stat().st_size / 1e6:.0f} MB) "
                  f"in {time.perf_counter() - t:.0f} s")
        load = measure_load(path)
        beyond = load["peak"] - load["import_rss"] - load["final"]
        print(f"[{shape}] load: {load['seconds']:.1f} s, {load['shape'][0]:,} x {load['shape'][1]:,}, "
              f"{load['nnz']:,} ratings; peak RSS {load['peak'] / 1e9:.2f} GB, final arrays "
              f"{load['final'] / 1e9:.2f} GB, beyond them (and the import) {beyond / 1e9:.2f} GB")
        train = measure_train(path, args.steps, [])
        print(f"[{shape}] train biased-sgd K = 20, {args.steps} steps: wall {train['wall']:.1f} s (load "
              f"{train['load']:.1f} s), epoch {train['epoch']:.2f} s, peak RSS {train['peak'] / 1e9:.2f} GB; "
              f"files: {', '.join(f'{k} {v / 1e6:.1f} MB' for k, v in sorted(train['files'].items()))}")
        if shape == "25m":
            for what, ok in (("load < 30 s", load["seconds"] < 30), ("load < 2 GB beyond the arrays", beyond < 2e9),
                             ("train peak < 4 GB", train["peak"] < 4e9)):
                print(f"[{shape}] {what}: {'ok' if ok else 'MISSED'}")
        if not (n_users * n_items > 2_000_000 and "R_hat.csv" not in train["files"]):
            print(f"[{shape}] R_hat.csv was written for data too large to show whole: FAILED")
            failed = True
        if not args.keep:
            shutil.rmtree(path.parent.parent, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
