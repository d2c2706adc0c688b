"""Time reading a 1,000,000-line MovieLens ratings.csv, the same lines as a plain triples
file, and a session round trip; prints the figures. Run: python benchmarks/bench_import.py [LINES]"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import mfstudio.io as mio
from mfstudio.core.ratings import Ratings


def make_triples(path: Path, n: int, seed: int = 0) -> None:
    """``userId,movieId,rating,timestamp`` lines with a header, like MovieLens ratings.csv."""
    rng = np.random.default_rng(seed)
    users = rng.integers(1, 10_000, n)
    items = rng.integers(1, 20_000, n)
    ratings = rng.integers(1, 11, n) / 2
    ts = rng.integers(800_000_000, 1_700_000_000, n)
    lines = [f"{u},{i},{r},{t}" for u, i, r, t in zip(users.tolist(), items.tolist(), ratings.tolist(), ts.tolist())]
    path.write_text("userId,movieId,rating,timestamp\n" + "\n".join(lines) + "\n")


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "ratings.csv"
        make_triples(p, n)
        mb = p.stat().st_size / 1e6
        res, t = timed(lambda: mio.load(p))
        r = res.session.ratings
        print(f"MovieLens ratings.csv import: {n:,} lines ({mb:.1f} MB) in {t:.2f} s = {n / t / 1e6:.2f} M lines/s "
              f"-> {r.n_users:,} users x {r.n_items:,} items, {r.nnz:,} ratings; notices: {res.notices}")
        plain = p.with_name("mine.csv")  # the same lines under another name: the general triples reader
        p.rename(plain)
        res_plain, t_plain = timed(lambda: mio.load(plain))
        assert res_plain.session.ratings == r.with_scale(res_plain.session.ratings.scale), "the two readers disagree"
        print(f"triples import of the same file: {t_plain:.2f} s = {n / t_plain / 1e6:.2f} M lines/s")
        p = plain
        # the core's own constructor from the same labels, for comparison
        rows = [ln.split(",") for ln in p.read_text().splitlines()[1:]]
        u, i, v = zip(*[(a, b, float(c)) for a, b, c, _ in rows])
        _, t_core = timed(lambda: Ratings.from_triples(list(u), list(i), np.array(v)))
        print(
            f"  core Ratings.from_triples on already-split columns: {t_core:.2f} s "
            f"(io total / core = {t / t_core:.2f})"
        )
        sp = Path(d) / "s.mfstudio"
        _, t_save = timed(lambda: mio.save_session(sp, res.session))
        _, t_load = timed(lambda: mio.load(sp))
        print(f"session save {t_save:.2f} s, load {t_load:.2f} s ({sp.stat().st_size / 1e6:.1f} MB gzip)")


if __name__ == "__main__":
    main()
