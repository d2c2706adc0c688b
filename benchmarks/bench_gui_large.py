"""The window on ML-10M-shaped data: opening, training and staying responsive, and its memory.

A 71,567 x 10,681 synthetic rating file (10,000,054 ratings, ``_data.movielens_like`` with seed 0,
written once as user,item,rating triples outside the repository) is opened in the window and
trained for a few seconds per solver, while a 10 ms QTimer measures how late each of its ticks
fires: its lateness is the event loop's stall. Phases timed: the open, the Train click and the run,
and the 1.5 s after the run ends (the final redraw, recommendations, R-hat). The peak resident
memory of the process is read at the end (resource.getrusage). Targets: stalls under 100 ms while
training, peak memory under 3 GB; opening may take seconds, with a status message saying so.

A run's phase begins at its first progress report (before it, "start": the click, the data handed to the
solver), and Stop is pressed ``--seconds`` after that report, so a slow start does not eat the run. Each
phase also reports the 95th percentile of the lateness and the most main-thread CPU between two ticks
("cpu max": the stall's own work, steadier than wall time on a shared machine). ``--profile N`` samples the
main thread's Python stack every millisecond (bench_gui_latency's sampler) and prints, for the N ticks of
each phase that cost the window most CPU, the functions seen between that tick and the one before.

Usage: python benchmarks/bench_gui_large.py [--file /tmp/ml10m-like.csv] [--seconds 6]
                                            [--solvers biased-sgd,als] [--users 71567 --items 10681
                                            --ratings 10000054] [--profile 3]
"""

from __future__ import annotations

import argparse
import math
import os
import resource
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

TICK_MS = 10
ML10M = (71_567, 10_681, 10_000_054)


def write_file(path: Path, n_users: int, n_items: int, n_ratings: int) -> None:
    """The synthetic ratings as ``user,item,rating`` lines (1-based ids), unless ``path`` holds them already."""
    if path.exists():
        return
    from benchmarks._data import movielens_like

    t0 = time.perf_counter()
    rows, cols, vals = movielens_like(n_users, n_items, n_ratings, seed=0)
    table = np.stack([rows + 1, cols + 1, vals.astype(np.int64)], axis=1)
    tmp = path.with_suffix(".part")
    with open(tmp, "w", encoding="ascii") as fh:
        fh.write("user,item,rating\n")
        for start in range(0, len(table), 1_000_000):
            chunk = table[start : start + 1_000_000]
            fh.write("\n".join(f"{u},{i},{r}" for u, i, r in chunk.tolist()))
            fh.write("\n")
    os.replace(tmp, path)
    print(f"wrote {path} ({path.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - t0:.0f} s")


class Ticker:
    """A 10 ms timer whose lateness (ms) is recorded, by phase."""

    def __init__(self) -> None:
        from PySide6.QtCore import QElapsedTimer, Qt, QTimer

        self.clock = QElapsedTimer()
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self._tick)
        self.late: list[tuple[str, float, float]] = []  # (phase, at s, ms late)
        self.ticks: list[tuple[str, float, float, float]] = []  # (phase, at s, cpu ms since the last, perf_counter)
        self._tick_cpu = time.thread_time()
        self.cpu: dict[str, float] = {}  # phase -> the main thread's CPU seconds in it (steadier than wall time)
        self._phase, self._cpu_at = "idle", time.thread_time()
        self._last = 0

    @property
    def phase(self) -> str:
        return self._phase

    @phase.setter
    def phase(self, phase: str) -> None:
        now = time.thread_time()
        self.cpu[self._phase] = self.cpu.get(self._phase, 0.0) + now - self._cpu_at
        self._phase, self._cpu_at = phase, now

    def start(self) -> None:
        self.clock.start()
        self._last = 0
        self.timer.start()

    def _tick(self) -> None:
        now = self.clock.elapsed()
        self.late.append((self.phase, now / 1000, max(0.0, now - self._last - TICK_MS)))
        self._last = now
        cpu = time.thread_time()
        self.ticks.append((self.phase, now / 1000, (cpu - self._tick_cpu) * 1000, time.perf_counter()))
        self._tick_cpu = cpu

    def worst(self, phase: str) -> tuple[float, float, int]:
        """(max ms late, when, ticks) of ``phase``."""
        got = [(ms, at) for p, at, ms in self.late if p == phase]
        if not got:
            return 0.0, 0.0, 0
        ms, at = max(got)
        return ms, at, len(got)

    def spread(self, phase: str) -> tuple[float, float]:
        """(95th percentile of the lateness in ms, most main-thread CPU ms between two ticks) of ``phase``."""
        late = [ms for p, _at, ms in self.late if p == phase]
        cpu = [ms for p, _at, ms, _t in self.ticks if p == phase]
        return (float(np.percentile(late, 95)) if late else 0.0), (max(cpu) if cpu else 0.0)

    def costliest(self, phase: str, n: int) -> list[tuple[float, float, float, float]]:
        """The ``n`` ticks of ``phase`` with the most CPU since the tick before: (cpu ms, at s, t0, t1)."""
        out = []
        for i in range(1, len(self.ticks)):
            p, at, cpu, t1 = self.ticks[i]
            if p == phase:
                out.append((cpu, at, self.ticks[i - 1][3], t1))
        return sorted(out, reverse=True)[:n]


def wait(ms: int) -> None:
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9  # Linux: kB


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--file", default="/tmp/mfstudio-ml10m-like.csv", help="the ratings file (written if absent)")
    ap.add_argument("--seconds", type=float, default=6.0, help="training time per solver (default 6)")
    ap.add_argument("--solvers", default="biased-sgd,als", help="comma-separated solver names")
    ap.add_argument("--users", type=int, default=ML10M[0])
    ap.add_argument("--items", type=int, default=ML10M[1])
    ap.add_argument("--ratings", type=int, default=ML10M[2])
    ap.add_argument("--K", type=int, default=20)
    ap.add_argument("--profile", type=int, default=0, metavar="N",
                    help="print the functions of each phase's N costliest ticks (a sampling profiler; default off)")
    args = ap.parse_args(argv)
    path = Path(args.file)
    write_file(path, args.users, args.items, args.ratings)

    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from benchmarks.bench_gui_latency import as_the_app_runs, scratch_settings

    scratch_settings()
    app = QApplication.instance() or QApplication(["bench"])  # noqa: F841 (kept alive for the run)
    from mfstudio.core.solvers.warmup import compile_all
    from mfstudio.gui import MainWindow

    compile_all()  # compile first: this measures the window, not numba
    window = MainWindow()
    window.ask_before_closing = False
    window.resize(1280, 800)
    window.show()
    wait(300)
    print(as_the_app_runs())
    base_gb = peak_rss_gb()
    messages: list[tuple[float, str]] = []
    ticker = Ticker()
    window.statusBar().messageChanged.connect(lambda text: messages.append((ticker.clock.elapsed() / 1000, text)))
    sampler = None
    if args.profile:
        from benchmarks.bench_gui_latency import StackSampler

        sampler = StackSampler().__enter__()
    ticker.start()

    def profile(phase: str) -> None:
        if sampler is None:
            return
        from benchmarks.bench_gui_latency import stall_lines

        for cpu_ms, at_s, t0, t1 in ticker.costliest(phase, args.profile):
            for line in stall_lines(cpu_ms, at_s, sampler.between(t0, t1)):
                print(line)

    ticker.phase = "open"
    t0 = time.perf_counter()
    opened = window.document.open_path(path)
    open_s = time.perf_counter() - t0
    wait(1500)  # the first paint of the data belongs to the open
    if not opened:
        print("the file did not open")
        return 1
    n, m = window.grid_model.shape
    print(f"{n:,} x {m:,}, {window.grid_model.nnz:,} ratings; load {os.getloadavg()[0]:.2f} "
          f"(cat /proc/loadavg: {open('/proc/loadavg').read().strip()})")
    ms, at, ticks = ticker.worst("open")
    ticker.phase = "opened"
    p95, cpu_max = ticker.spread("open")
    print(f"open: {open_s:.1f} s on the main thread; worst timer lateness {ms:.0f} ms at {at:.1f} s (p95 {p95:.0f} "
          f"ms, cpu max {cpu_max:.0f} ms); peak RSS {peak_rss_gb():.2f} GB (before {base_gb:.2f} GB); main-thread "
          f"CPU {ticker.cpu['open']:.2f} s")
    profile("open")
    for at_s, text in messages:
        if text:
            print(f"   status at {at_s:6.2f} s: {text[:150]}")
    window.selection.select(10, 20)  # a cell: the map's arrow and rings, the explanation, the layers' block
    wait(500)
    c = window.controls
    worst = 0.0
    for solver in args.solvers.split(","):
        c.solver_box.setCurrentIndex(c.solver_box.findData(solver))
        for name, value in {"steps": 1_000_000_000, "K": args.K}.items():
            if name in c.param_widgets:
                c.param_widgets[name].setValue(value)
        loop = QEventLoop()
        window.trainingFinished.connect(loop.quit)
        ticker.phase = f"{solver} start"
        run = f"{solver} run"

        def on_progress(*_: object, run: str = run) -> None:
            if ticker.phase != run:  # the first report: the run is going, and Stop is due --seconds from now
                ticker.phase = run
                QTimer.singleShot(int(args.seconds * 1000), window.stop)

        window.experiment.progress.connect(on_progress)
        QTimer.singleShot(50, window.train)  # the click is measured too
        QTimer.singleShot(int((args.seconds + 120) * 1000), window.stop)  # no report at all: stop all the same
        t0 = time.perf_counter()
        loop.exec()
        wall = time.perf_counter() - t0
        ticker.phase = f"{solver} end"
        wait(1500)  # the final redraw, the recommendations, R-hat
        ticker.phase = "idle"
        window.trainingFinished.disconnect(loop.quit)
        window.experiment.progress.disconnect(on_progress)
        steps = window.result.steps_done if window.result else 0
        for phase in ("start", "run", "end"):
            ms, at, ticks = ticker.worst(f"{solver} {phase}")
            if phase != "end":
                worst = max(worst, ms)
            cpu = ticker.cpu.get(f"{solver} {phase}", math.nan)
            p95, cpu_max = ticker.spread(f"{solver} {phase}")
            print(f"{solver:<11} {phase:<5} ticks {ticks:>5}  worst {ms:7.0f} ms at {at:6.2f} s, p95 {p95:5.0f} ms, "
                  f"cpu max {cpu_max:5.0f} ms; main-thread CPU {cpu:.2f} s")
            profile(f"{solver} {phase}")
        print(f"{solver:<11} {steps:,} steps in {wall:.1f} s; peak RSS {peak_rss_gb():.2f} GB; "
              f"load {open('/proc/loadavg').read().strip()}")
    ticker.timer.stop()
    if sampler is not None:
        sampler.__exit__()
    rss = peak_rss_gb()
    ok = worst < 100 and rss < 3.0
    print(f"worst stall while training {worst:.0f} ms (target < 100 ms), peak RSS {rss:.2f} GB (target < 3 GB) -> "
          f"{'OK' if ok else 'NOT YET'}")
    window.close()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
