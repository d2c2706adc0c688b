"""Render the latent map offscreen in the cases worth looking at; save PNGs for a reviewer's eyes.

Usage: python tools/latent_map_pictures.py [OUTPUT_DIR]   (default /tmp; files i11-map-*.png)

Example 1 after training (K = 2, a user selected; also in a narrow pane), the same with only factor 1 on, Movie
night with its genres (K = 3, a user selected, then one genre with an item selected), a synthetic
943 x 1,682 model with K = 20 (ML-100K's size and genres), and the map inside the main window.
Settings and the recovery folder are private temporary ones, so the user's are untouched.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ML100K_GENRES = ("Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary", "Drama",
                 "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller", "War",
                 "Western")


def ml100k_like(seed: int = 3):
    """943 x 1,682 with 100,000 ratings from a planted low-rank taste, and ML-100K-like genres."""
    import numpy as np

    from mfstudio.core import Ratings

    rng = np.random.default_rng(seed)
    n, m, nnz = 943, 1682, 100_000
    pop = rng.zipf(1.6, m).astype(float)
    cells = rng.choice(n * m, nnz, replace=False, p=None)
    rows, cols = np.divmod(np.sort(cells), m)
    U, V = rng.normal(size=(n, 3)), rng.normal(size=(3, m))
    vals = np.clip(np.round(3.5 + 0.6 * np.einsum("ij,ji->i", U[rows], V[:, cols])), 1, 5)
    weights = np.array([8, 4, 1, 2, 12, 3, 1, 16, 1, 1, 3, 1, 2, 5, 3, 5, 2, 1], float)
    genres = [tuple(sorted(set(rng.choice(ML100K_GENRES, rng.integers(1, 4), p=weights / weights.sum()))))
              for _ in range(m)]
    del pop
    return Ratings(rows, cols, vals, (n, m), items=[f"Film {j + 1}" for j in range(m)], scale=(1, 5),
                   item_genres=genres)


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else Path("/tmp")
    with tempfile.TemporaryDirectory(prefix="mfstudio-pictures-") as tmp:
        os.environ["MFSTUDIO_SETTINGS"] = str(Path(tmp) / "settings.ini")
        os.environ["MFSTUDIO_RECOVERY_DIR"] = str(Path(tmp) / "recovery")
        return _shoot(out)


def _shoot(out: Path) -> int:
    import numpy as np
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication, QSplitter

    app = QApplication.instance() or QApplication(["mfstudio-pictures"])
    from mfstudio.core import load_example
    from mfstudio.core.ladder import Parts
    from mfstudio.gui.experiment import Experiment, RunRequest
    from mfstudio.gui.views.latent_map import LatentMap
    from mfstudio.gui.viewstate import Selection, ShownParts

    def train(ex: Experiment, ratings, solver: str = "sgd", cells=None, **params) -> None:
        loop = QEventLoop()
        ex.finished.connect(loop.quit)
        req = RunRequest.make(ratings, np.zeros((0, 2), np.int64) if cells is None else cells, solver, params)
        QTimer.singleShot(0, lambda: ex.train(req))
        loop.exec()
        ex.finished.disconnect(loop.quit)

    def grab(widget, name: str) -> None:
        widget.redraw_now()
        for _ in range(3):  # the caption's new text laid out, and the canvas drawn at its size
            app.processEvents()
        widget.redraw_now()
        path = out / f"i11-map-{name}.png"
        widget.grab().save(str(path))
        widget.save_figure(out / f"i11-map-{name}-export.png")
        print(f"wrote {path} and its export")

    ex, sel, parts = Experiment(), Selection(), ShownParts()
    m = LatentMap(ex, sel, parts)
    m.resize(460, 460)
    m.show()
    train(ex, load_example("example-1"), steps=5000, K=2)
    sel.select(user=1)
    grab(m, "example1")
    m.resize(330, 360)  # a narrow pane
    grab(m, "example1-narrow")
    m.resize(460, 460)
    parts.set_parts(Parts(factors=1))
    grab(m, "example1-factor1")
    parts.set_parts(Parts())

    movie = load_example("movie-night")
    train(ex, movie, "als", steps=50, K=3, beta=0.1, cells=np.array([[0, 2], [3, 3], [5, 1]]))
    sel.select(user=0)
    grab(m, "movie-night")
    m.set_genre("Sci-fi")
    sel.select(item=movie.items.index("Starfall"))
    grab(m, "movie-night-scifi")
    m.set_genre(None)

    big = ml100k_like()
    train(ex, big, "als", steps=8, K=20, beta=0.1)
    sel.select(user=5)
    grab(m, "ml100k")
    m.stop_timers()
    m.close()
    ex.shutdown()

    from mfstudio.gui import MainWindow

    w = MainWindow()
    w.ask_before_closing = False
    w.resize(1280, 800)
    beside = QSplitter()
    lm = LatentMap(w.experiment, getattr(w, "selection", Selection(w)), getattr(w, "parts", ShownParts(w)))
    w.right_split.insertWidget(0, beside)
    beside.addWidget(w.plot)
    beside.addWidget(lm)
    beside.setSizes([420, 380])
    w.show()
    loop = QEventLoop()
    w.trainingFinished.connect(loop.quit)
    QTimer.singleShot(0, w.train)
    loop.exec()
    lm.selection.select(user=1)
    for _ in range(5):
        app.processEvents()
    lm.redraw_now()
    w.plot.flush()
    path = out / "i11-map-window.png"
    w.grab().save(str(path))
    print(f"wrote {path}")
    lm.stop_timers()
    w.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
