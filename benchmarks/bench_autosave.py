"""How long an autosave of a big grid freezes the window.

A 3,000 x 3,000 grid with 1,800,000 ratings is loaded in the window and one cell edited.
Reference: the save done on the GUI thread, as the autosave timer used to (the window is
frozen for all of it). Ours: the snapshot on the GUI thread, then the saving thread,
while a 10 ms timer measures the longest gap between its ticks. Target: under 50 ms.

Usage: python benchmarks/bench_autosave.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np


def big_grid(n: int = 3000, nnz: int = 1_800_000, seed: int = 0):
    from mfstudio.core import Ratings

    rng = np.random.default_rng(seed)
    flat = np.sort(rng.choice(n * n, nnz, replace=False))
    return Ratings(flat // n, flat % n, rng.integers(1, 6, nnz).astype(float), (n, n), scale=(1, 5))


def background_save(app, w) -> tuple[float, float, float]:
    """One autosave on the saving thread: (snapshot s, longest gap between 10 ms ticks s, whole save s)."""
    from PySide6.QtCore import QElapsedTimer, Qt, QTimer

    gaps: list[int] = []
    clock = QElapsedTimer()
    last = [0]
    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.setInterval(10)

    def tick() -> None:
        now = clock.elapsed()
        gaps.append(now - last[0])
        last[0] = now

    timer.timeout.connect(tick)
    done: list[str] = []
    w.autosaver.saved.connect(done.append)
    clock.start()
    timer.start()
    t0 = time.perf_counter()
    w.autosaver.save_in_background()
    snap = w.autosaver.snapshot_seconds
    while not done:
        app.processEvents()
        time.sleep(0.001)
    total = time.perf_counter() - t0
    timer.stop()
    w.autosaver.saved.disconnect(done.append)
    return snap, max(gaps, default=0) / 1000, total


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    folder = tempfile.mkdtemp(prefix="mfstudio-bench-")
    os.environ.setdefault("MFSTUDIO_RECOVERY_DIR", os.path.join(folder, "recovery"))
    os.environ.setdefault("MFSTUDIO_SETTINGS", os.path.join(folder, "settings.ini"))

    from PySide6.QtWidgets import QApplication

    app = QApplication([])
    from mfstudio import io
    from mfstudio.gui.window import MainWindow

    w = MainWindow()
    w.ask_before_closing = False
    w.show()
    w.load_ratings(big_grid(), title="big")
    m = w.grid_model
    m.setData(m.index(0, 0), "3" if np.isnan(m.value(0, 0)) else "")
    w.autosaver.stop()
    end = time.monotonic() + 1.0
    while time.monotonic() < end:  # the first paint of the grid is not the autosave's
        app.processEvents()
        time.sleep(0.01)

    sync, snaps, stalls, totals = [], [], [], []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        io.save_session(w.autosaver.path, w.current_session())  # the old way: all of it on the GUI thread
        sync.append(time.perf_counter() - t0)

        snap, stall, total = background_save(app, w)
        snaps.append(snap)
        stalls.append(stall)
        totals.append(total)

    w.close()
    worst = max(max(snaps), max(stalls))
    print("autosave of a 3,000 x 3,000 grid with 1,800,000 ratings (best / worst of", args.repeats, "runs)")
    print(f"  reference, the save on the GUI thread: window frozen {min(sync):.2f} s / {max(sync):.2f} s")
    print(f"  ours, snapshot on the GUI thread:       {1000 * min(snaps):.1f} ms / {1000 * max(snaps):.1f} ms")
    print(f"  ours, longest GUI stall while saving:  {1000 * min(stalls):.0f} ms / {1000 * max(stalls):.0f} ms")
    print(f"  ours, the save itself (saving thread): {min(totals):.2f} s / {max(totals):.2f} s")
    print(f"  freeze ratio (reference / ours):       {min(sync) / max(worst, 1e-3):.0f}x")
    print("  target < 50 ms:", "ok" if worst < 0.05 else "MISSED")
    return 0


if __name__ == "__main__":
    sys.exit(main())
