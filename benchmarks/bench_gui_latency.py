"""How responsive the window stays while training on MovieLens-100k-sized data.

A 943 x 1682 synthetic rating set (100,000 ratings) is trained in the window for a
few seconds per solver while a 10 ms QTimer measures how late each of its ticks
fires; lateness is the event loop's stall. Target: never more than about 50 ms.

The latent map beside the loss curve is always shown; ``--tabs`` also times each result tab
in front (R-hat, Why this number?, Ladder, Layers), with one cell selected so the explanation,
the map's arrow and rings and the layers' block all have something to draw.

``--profile N`` also samples the main thread's Python stack every millisecond (a thread reading
``sys._current_frames()``) and prints, for the N ticks of each run that cost the window most CPU, the
functions seen in the samples taken between that tick and the one before (inclusive counts, the
innermost project frame first): which callback and which function the stall was, and which canvas drew
("[canvas LadderCanvas]"). The "gc max" column is the longest garbage collection of the main thread in the run:
a collection holds the interpreter, so a stall with far fewer samples than milliseconds is most likely one;
The window is measured as ``mfstudio`` runs it (mfstudio.gui.interpreter: a 0.5 ms GIL switch interval, the
loaded window's objects frozen out of the collections); ``--as-before`` leaves the interpreter as Python starts it.

Usage: python benchmarks/bench_gui_latency.py [--seconds 4] [--solvers sgd,als,biased-sgd,nmf]
                                              [--tabs "R-hat,Why this number?,Ladder,Layers"] [--profile 3]
                                              [--as-before]
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import threading
import time
from collections import Counter
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

TICK_MS = 10
SAMPLE_S = 0.001  # the profiler's sampling period


class StackSampler:
    """A thread sampling the main thread's Python stack every :data:`SAMPLE_S`: (time, frames innermost first),
    each frame as "file:function" (the file's path from the package or library folder on)."""

    def __init__(self, others: bool = False) -> None:
        self.with_others = others  # also the other threads' stacks (--threads)
        self.samples: list[tuple[float, tuple[str, ...]]] = []
        self.others: list[tuple[float, str, tuple[str, ...]]] = []  # (time, thread name, stack) of other threads
        self._main = threading.main_thread().ident
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="stall-sampler", daemon=True)
        self._names: dict[object, str] = {}

    def __enter__(self) -> StackSampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _name(self, code: object) -> str:
        name = self._names.get(code)
        if name is None:
            path = code.co_filename.replace(os.sep, "/")
            for root in ("/mfstudio/", "/site-packages/", "/benchmarks/"):
                if root in path:
                    path = path.split(root, 1)[1]
                    break
            name = self._names[code] = f"{path}:{code.co_name}"
        return name

    def _run(self) -> None:
        me = threading.get_ident()
        while not self._stop.wait(SAMPLE_S):
            frames = sys._current_frames()
            now = time.perf_counter()
            names = {t.ident: t.name for t in threading.enumerate()}
            for ident, other in frames.items():
                if self.with_others and ident not in (self._main, me):
                    self.others.append((now, names.get(ident, str(ident)), self._stack(other)[:6]))
            self.samples.append((now, self._stack(frames.get(self._main))))

    def _stack(self, frame: object) -> tuple[str, ...]:
        """A frame's stack as names, innermost first (with the canvas a drawing frame draws)."""
        stack = []
        while frame is not None:
            name = self._name(frame.f_code)
            stack.append(name)
            if name in CANVAS_FRAMES:  # which canvas draws: a sliced frame's stack does not say
                owner = _canvas_of(frame)
                if owner:
                    stack.append(f"[canvas {owner}]")
            frame = frame.f_back
        return tuple(stack)

    def between(self, t0: float, t1: float) -> list[tuple[str, ...]]:
        """The stacks sampled from ``t0`` to ``t1`` (perf_counter seconds)."""
        return [stack for t, stack in self.samples if t0 < t <= t1]

    def others_between(self, t0: float, t1: float) -> list[tuple[str, ...]]:
        """The other threads' stacks sampled from ``t0`` to ``t1``, each led by "[thread NAME]"."""
        return [(f"[thread {name}]", *stack) for t, name, stack in self.others if t0 < t <= t1]


CANVAS_FRAMES = {"gui/views/slices.py:_run", "gui/views/blit.py:draw", "matplotlib/backends/backend_qt.py:_draw_idle"}


def _canvas_of(frame: object) -> str:
    """The canvas a drawing frame draws (its class name; a Slices names its canvas), or ""."""
    try:
        obj = frame.f_locals.get("self")  # type: ignore[attr-defined]
    except Exception:  # a frame ending under the sampler
        return ""
    return getattr(obj, "owner", None) or (type(obj).__name__ if obj is not None else "")


def stall_lines(cpu_ms: float, at_s: float, stacks: list[tuple[str, ...]], top: int = 8, late_ms: float = -1.0,
                others: list[tuple[str, ...]] = ()) -> list[str]:
    """One stall's functions: inclusive sample counts, the benchmark's and the event loop's own frames left out;
    with ``others``, what the other threads were seen doing meanwhile."""
    wall = f"{late_ms:.0f} ms late, " if late_ms >= 0 else ""
    lines = [f"    stall: {wall}{cpu_ms:.0f} ms cpu at {at_s:.2f} s, {len(stacks)} samples"]
    counts: Counter[str] = Counter()
    depth: dict[str, int] = {}
    for stack in stacks:
        for i, name in enumerate(dict.fromkeys(stack)):  # a recursive function counts once per sample
            counts[name] += 1
            depth[name] = max(depth.get(name, 0), len(stack) - i)
    shown = [n for n in counts if not n.startswith(("bench_gui_latency.py", "threading.py"))]
    best = sorted(shown, key=lambda n: (-counts[n], -depth[n]))[:top]
    for name in best:
        lines.append(f"      {counts[name]:>4}  {name}")
    # the project's views and the canvases drawing, when the top lines left them out: whose stall it was
    views = [n for n in shown if n not in best and (n.startswith("gui/views/") or n.startswith("[canvas"))]
    for name in sorted(views, key=lambda n: (-counts[n], -depth[n]))[:top // 2]:
        lines.append(f"      {counts[name]:>4}  {name}")
    if others:
        lines.append(f"      other threads, {len(others)} samples:")
        seen: Counter[tuple[str, ...]] = Counter(stack[:4] for stack in others)
        for stack, n in seen.most_common(4):
            lines.append(f"      {n:>4}  {' < '.join(stack)}")
    return lines


class GcPauses:
    """The main thread's garbage-collection pauses while in use (``gc.callbacks``): the longest, in ms. A collection
    holds the interpreter, so the sampling profiler sees little of it: a stall with far fewer samples than
    milliseconds is most likely one."""

    def __init__(self) -> None:
        self.longest = 0.0
        self._t0 = 0.0
        self._main = threading.main_thread().ident

    def __enter__(self) -> GcPauses:
        gc.callbacks.append(self._on_gc)
        return self

    def __exit__(self, *_exc: object) -> None:
        gc.callbacks.remove(self._on_gc)

    def _on_gc(self, phase: str, _info: dict) -> None:
        if threading.get_ident() != self._main:
            return
        if phase == "start":
            self._t0 = time.perf_counter()
        else:
            self.longest = max(self.longest, (time.perf_counter() - self._t0) * 1000)


def scratch_settings() -> Path:
    """A new folder for the window's settings and recovery file (the user's are not touched); returns it."""
    import tempfile

    scratch = Path(tempfile.mkdtemp(prefix="bench-gui-"))
    os.environ["MFSTUDIO_SETTINGS"] = str(scratch / "settings.ini")
    os.environ["MFSTUDIO_RECOVERY_DIR"] = str(scratch / "recovery")
    return scratch


def as_the_app_runs() -> str:
    """The interpreter set up as `mfstudio` sets it up once its window is shown (mfstudio.gui.interpreter);
    a line saying so."""
    from mfstudio.gui import interpreter

    interpreter.share_the_interpreter()
    frozen = interpreter.freeze_long_lived()
    return (f"as the app runs: switch interval {sys.getswitchinterval() * 1000:g} ms, {frozen:,} objects frozen out "
            "of the collections")


def movielens_like(seed: int = 0):
    """943 users x 1682 items, 100,000 ratings 1-5 from a noisy rank-5 model."""
    from mfstudio.core import Ratings

    rng = np.random.default_rng(seed)
    n, m, nnz = 943, 1682, 100_000
    flat = rng.choice(n * m, size=nnz, replace=False)
    rows, cols = flat // m, flat % m
    P, Q = rng.normal(0, 0.6, (n, 5)), rng.normal(0, 0.6, (5, m))
    vals = np.clip(np.round(3.5 + np.einsum("ik,ki->i", P[rows], Q[:, cols]) + rng.normal(0, 0.5, nnz)), 1, 5)
    return Ratings(rows, cols, vals, (n, m), scale=(1, 5))


def measure(window, app, solver: str, seconds: float, params: dict, profile: int = 0, threads: bool = False) -> dict:
    """Train ``solver`` for ``seconds`` while timing a 10 ms timer; lateness stats in ms. ``profile``: print the
    functions of that many of the costliest ticks (see :class:`StackSampler`)."""
    from PySide6.QtCore import QElapsedTimer, QEventLoop, Qt, QTimer

    c = window.controls
    c.solver_box.setCurrentIndex(c.solver_box.findData(solver))
    for name, value in params.items():
        if name in c.param_widgets:
            c.param_widgets[name].setValue(value)
    late: list[float] = []
    clock = QElapsedTimer()
    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.setInterval(TICK_MS)
    last = [0]

    at: list[int] = []

    cpu: list[float] = []  # the main thread's CPU time between ticks: the stall's own work, without the
    cpu_last = [time.thread_time()]  # time other processes on a shared machine took from it
    stamps: list[float] = []  # perf_counter at each tick, for the profiler

    def tick() -> None:
        stamps.append(time.perf_counter())
        now = clock.elapsed()
        late.append(max(0, now - last[0] - TICK_MS))
        at.append(now)
        last[0] = now
        c_now = time.thread_time()
        cpu.append((c_now - cpu_last[0]) * 1000)
        cpu_last[0] = c_now

    timer.timeout.connect(tick)
    loop = QEventLoop()
    window.trainingFinished.connect(loop.quit)
    clock.start()
    timer.start()
    QTimer.singleShot(50, window.train)  # the click is measured too
    QTimer.singleShot(int(seconds * 1000), window.stop)
    sampler = StackSampler(threads) if profile else None
    if sampler is not None:
        sampler.__enter__()
    pauses = GcPauses().__enter__()
    t0 = time.perf_counter()
    loop.exec()
    wall = time.perf_counter() - t0
    n_run = len(late)
    # Keep measuring while the window wraps up (final redraw with layout, recommendations table).
    QTimer.singleShot(500, loop.quit)
    loop.exec()
    timer.stop()
    pauses.__exit__()
    stalls: list[str] = []
    if sampler is not None:
        sampler.__exit__()
        for i in sorted(range(1, len(cpu)), key=lambda i: -cpu[i])[:profile]:
            stalls += stall_lines(cpu[i], at[i] / 1000, sampler.between(stamps[i - 1], stamps[i]))
        stalls.append("    the latest ticks (wall clock)" + (", with what the other threads did:" if sampler.with_others
                                                              else ":"))
        for i in sorted(range(1, len(late)), key=lambda i: -late[i])[:profile]:
            stalls += stall_lines(cpu[i], at[i] / 1000, sampler.between(stamps[i - 1], stamps[i]), late_ms=late[i],
                                  others=sampler.others_between(stamps[i - 1], stamps[i]))
    window.trainingFinished.disconnect(loop.quit)
    after = np.array(late[n_run:] or [0.0])
    cpu_after = np.array(cpu[n_run:] or [0.0])
    late = late[:n_run]
    a = np.array(late[1:] or [0.0])
    busy = np.array(cpu[1:n_run] or [0.0])
    worst = int(np.argmax(a)) + 1 if len(late) > 1 else 0
    worst_at = at[worst] if at else 0
    step = window.result.steps_done if window.result else 0
    return {"solver": solver, "ticks": len(a), "max": float(a.max()), "p95": float(np.percentile(a, 95)),
            "mean": float(a.mean()), "steps": step, "wall": wall, "worst_at": worst_at, "after": float(after.max()),
            "cpu_max": float(busy.max()), "cpu_p95": float(np.percentile(busy, 95)),
            "cpu_after": float(cpu_after.max()), "stalls": stalls, "gc_max": pauses.longest}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=4.0, help="training time per solver (default 4)")
    ap.add_argument("--solvers", default="sgd,als,biased-sgd,nmf", help="comma-separated solver names")
    ap.add_argument("--tabs", default="R-hat", help="comma-separated result tabs to time in front (default R-hat)")
    ap.add_argument("--profile", type=int, default=0, metavar="N",
                    help="print the functions of each run's N costliest ticks (a sampling profiler; default off)")
    ap.add_argument("--threads", action="store_true",
                    help="with --profile: also sample the other threads (what held the interpreter or the cores in a "
                         "late tick; once crashed CPython 3.11 in a run, so not by default)")
    ap.add_argument("--as-before", action="store_true",
                    help="leave the interpreter as Python starts it: no shorter GIL switch interval, nothing frozen "
                         "out of the garbage collections (the app sets both up, mfstudio.gui.interpreter)")
    args = ap.parse_args(argv)

    from PySide6.QtWidgets import QApplication

    scratch = scratch_settings()
    app = QApplication.instance() or QApplication(["bench"])
    from mfstudio.core.solvers.warmup import compile_all
    from mfstudio.gui import MainWindow

    compile_all()  # compile first: this measures the window, not numba
    window = MainWindow()
    window.ask_before_closing = False
    window.resize(1280, 800)
    window.show()
    t0 = time.perf_counter()
    window.load_ratings(movielens_like(), title="943 x 1682 synthetic")
    load_ms = (time.perf_counter() - t0) * 1000
    window.selection.select(10, 20)  # a cell: the map's arrow and rings, the explanation, the layers' block
    from PySide6.QtCore import QEventLoop, QTimer

    settle = QEventLoop()  # the first paint of the loaded data is the load's, not a run's: done before the first click
    QTimer.singleShot(1500, settle.quit)
    settle.exec()
    if not args.as_before:
        print(as_the_app_runs())
    print(f"943 x 1682, 100,000 ratings; loading into the window took {load_ms:.0f} ms")
    print("lateness of a 10 ms timer from the Train click to the end of the run; 'after' = the 0.5 s after it;")
    print("cpu = the window's own work between two ticks (main-thread CPU time: a stall's cost on a quiet machine);")
    print("'cpu aft' = its most between two ticks in the 0.5 s after the run; 'gc max' = the longest collection")
    print(f"{'tab':<17} {'solver':<11} {'ticks':>6} {'max ms':>7} {'p95 ms':>7} {'mean ms':>8} {'after':>6} "
          f"{'cpu max':>8} {'cpu p95':>8} {'cpu aft':>8} {'gc max':>7} {'steps':>9}")
    worst = 0.0
    params = {"steps": 1_000_000_000, "K": 20}
    titles = [window.tabs.tabText(i) for i in range(window.tabs.count())]
    for tab in args.tabs.split(","):
        window.tabs.setCurrentIndex(titles.index(tab))  # this tab in front: it repaints on every report
        for solver in args.solvers.split(","):
            extra = {"alpha": 0.002} if solver == "sgd" else {}
            r = measure(window, app, solver, args.seconds, {**params, **extra}, args.profile, args.threads)
            worst = max(worst, r["max"])
            print(
                f"{tab:<17} {r['solver']:<11} {r['ticks']:>6} {r['max']:>7.1f} {r['p95']:>7.1f} {r['mean']:>8.2f} "
                f"{r['after']:>6.1f} {r['cpu_max']:>8.1f} {r['cpu_p95']:>8.1f} {r['cpu_after']:>8.1f} "
                f"{r['gc_max']:>7.1f} "
                f"{r['steps']:>9,}   "
                f"(worst at {r['worst_at'] / 1000:.2f} s)"
            )
            for line in r["stalls"]:
                print(line)
    print(f"worst stall {worst:.1f} ms (target: at most ~50 ms) -> {'OK' if worst <= 50 else 'TOO SLOW'}")
    window.close()
    left = sorted(p.name for p in (scratch / "recovery").glob("*.mfstudio"))
    if left:
        print(f"a clean close left a recovery file behind: {', '.join(left)}")
    return 0 if worst <= 50 and not left else 1


if __name__ == "__main__":
    sys.exit(main())
