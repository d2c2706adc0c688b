"""A sweep of 8 points with --jobs 1 and with --jobs 2, in the same run: the speed-up of worker processes.

8 points of biased-sgd on a MovieLens-100K-like set (943 x 1,682, 100k ratings, K = 20, 20% held out),
β on a log grid, each point sized to take about 1-3 s. Each sweep is timed end to end, as
`mfstudio sweep` runs it: the fork server is started (sweep_pool.warm_up) before the data is made, as
the command starts it before it reads its file, and each sweep's time includes starting its pool
(workers forked from the fork server), every point and closing the pool. The very first sweep may
still wait for the fork server to finish loading; its time is printed apart. Target: jobs 2 at least
1.6x faster than jobs 1 on 2 cores. Correctness: both give the same errors and best steps for every
point (exit status 1 otherwise). "cores used" is the CPU time of the workers (and of this process) over
the wall time: on a machine shared with other work it says how much of the 2 cores the sweep got, which
bounds the speed-up.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time

import _common  # noqa: F401
from _common import fmt_time, table, verdict
from _data import ML100K, movielens_like

from mfstudio.core.ratings import Ratings
from mfstudio.core.sweep import Sweep, SweepSpec, default_jobs
from mfstudio.core.sweep_grid import make_axis
from mfstudio.core.sweep_pool import helper_pids, warm_up

TARGET = 1.6
STEPS = 150  # about 1.5-2 s of one core per point here (biased-sgd at 100k, K = 20: some 11 ms a step)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=2, help="sweeps per --jobs value (the fastest counts)")
    ap.add_argument("--steps", type=int, default=STEPS, help="steps per point")
    args = ap.parse_args()
    warm_up("biased-sgd")  # as `mfstudio sweep` does first: loads in the background while the data is made
    t_setup = time.perf_counter()
    n_users, n_items, nnz = ML100K
    rows, cols, vals = movielens_like(n_users, n_items, nnz)
    ratings = Ratings(rows, cols, vals, (n_users, n_items), scale=(1, 5))
    axis = make_axis("biased-sgd", "beta", "0.001:1:8log")
    spec = SweepSpec(ratings, "biased-sgd", {"K": 20, "steps": args.steps, "tol": 0}, (axis,), holdout=0.2)
    t_setup = time.perf_counter() - t_setup
    print(f"{n_users} x {n_items}, {nnz:,} ratings, biased-sgd K = 20, {args.steps} steps per point, "
          f"8 points (beta = 0.001 ... 1), 20% held out; {default_jobs()} cores here; "
          f"fastest of {args.repeats} sweeps per --jobs")
    print("load average before: " + ", ".join(f"{x:.2f}" for x in os.getloadavg()))
    wall: dict[int, list[float]] = {1: [], 2: []}
    cores: dict[int, list[float]] = {1: [], 2: []}
    point_s: dict[int, list[float]] = {1: [], 2: []}
    parent: dict[int, list[float]] = {1: [], 2: []}  # this process's own CPU seconds per sweep
    results = {}
    first: tuple[int, float] | None = None
    for _ in range(args.repeats):
        for jobs in (1, 2):  # alternated, so a busy spell of the shared machine hits both
            cpu0, own0 = _cpu(), _own_cpu()
            t0 = time.perf_counter()
            got = Sweep(spec, jobs).run()
            wall[jobs].append(time.perf_counter() - t0)
            parent[jobs].append(_own_cpu() - own0)
            cores[jobs].append((_cpu() - cpu0) / wall[jobs][-1])
            point_s[jobs] += [r.seconds for r in got]
            results[jobs] = got
            first = first or (jobs, wall[jobs][-1])
    same = all((a.values, a.metrics, a.best_step, a.steps) == (b.values, b.metrics, b.best_step, b.steps)
               for a, b in zip(results[1], results[2])) and len(results[1]) == len(results[2]) == 8
    t1, t2 = min(wall[1]), min(wall[2])
    ratio = t1 / t2
    table(["--jobs", "sweep (fastest)", "all sweeps", "cores used", "one point (median)", "parent CPU (median)"],
          [[j, fmt_time(min(wall[j])), ", ".join(fmt_time(w) for w in wall[j]),
            ", ".join(f"{c:.2f}" for c in cores[j]), fmt_time(statistics.median(point_s[j])),
            fmt_time(statistics.median(parent[j]))] for j in (1, 2)])
    print(f"the parent's setup (making the data) took {fmt_time(t_setup)}; the first sweep ({first[0]} jobs) "
          f"took {fmt_time(first[1])}")
    print("load average after: " + ", ".join(f"{x:.2f}" for x in os.getloadavg()))
    print(f"\nspeed-up jobs 2 / jobs 1: {ratio:.2f}x (target >= {TARGET}x): {verdict(ratio >= TARGET)}")
    print(f"jobs 1 and jobs 2 agree on every point bit for bit: {'yes' if same else 'NO'}")
    return 0 if same else 1


def _own_cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    return own.ru_utime + own.ru_stime


def _cpu() -> float:
    """CPU seconds of this process and of the workers that have ended: they are the fork server's children, and
    the fork server reaps them, so their time is its children's time (/proc/PID/stat's cutime and cstime)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    total = own.ru_utime + own.ru_stime
    for pid in helper_pids()[:1]:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")  # cutime, cstime
        except (OSError, ValueError, IndexError):
            pass
    return total


if __name__ == "__main__":
    sys.exit(main())
