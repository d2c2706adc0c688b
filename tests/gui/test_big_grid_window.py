"""Data larger than the old 200 M-cell grid limit opens in the window, trains and shows; a big file is read on a
thread behind a busy dialog (gui/busy.py), and the window is limited by memory, not by users x items."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from PySide6.QtWidgets import QMessageBox

from mfstudio.gui import busy, document


def write_sparse(path, n: int, extra: int) -> int:
    """An n x n file of user,item,rating lines: each user and item rated once (a permutation), and ``extra``
    ratings more; the number of ratings."""
    rng = np.random.default_rng(4)
    flat = np.union1d(np.arange(n) * n + rng.permutation(n), rng.choice(n * n, size=extra, replace=False))
    rows, cols = flat // n, flat % n
    vals = rng.integers(1, 6, len(flat))
    lines = ["user,item,rating", *(f"{r + 1},{c + 1},{v}" for r, c, v in zip(rows, cols, vals))]
    path.write_text("\n".join(lines) + "\n")
    return len(flat)


@pytest.fixture
def warnings(monkeypatch):
    seen: list[tuple[str, str]] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda parent, title, text, *a, **k: seen.append((title, text)))
    return seen


@pytest.mark.parametrize("solver", ["biased-sgd", "als"])
def test_a_20000_by_20000_file_opens_trains_and_shows(qtbot, window, warnings, tmp_path, monkeypatch, solver):
    p = tmp_path / "wide.csv"
    nnz = write_sparse(p, 20_000, 2_000)  # 400 M cells: twice the old limit of the editable grid
    monkeypatch.setattr(document, "BIG_FILE_BYTES", 0)  # read on a thread behind the busy dialog, as a big file is
    seen: list[str] = []
    window.statusBar().messageChanged.connect(seen.append)
    assert window.open_path(p), warnings
    assert not warnings and any(t.startswith("Opening wide.csv") for t in seen)
    m = window.grid_model
    assert m.shape == (20_000, 20_000) and m.nnz == nnz
    assert not [t for t in threading.enumerate() if t.name == "mfstudio-busy"]  # the reading thread was joined
    c = window.controls
    c.solver_box.setCurrentIndex(c.solver_box.findData(solver))
    c.param_widgets["steps"].setValue(3)
    c.param_widgets["K"].setValue(2)
    with qtbot.waitSignal(window.trainingFinished, timeout=60_000):
        window.train()
    assert window.result is not None and window.result.steps_done == 3
    f = window.result.factors
    assert f.P.shape == (20_000, 2) and f.Q.shape == (2, 20_000)
    window.selection.select(0, 0)
    assert window.r_hat_model.rowCount() == 20_000
    window.latent_map.redraw_now()
    canvas = window.latent_map.canvas
    assert "'s taste arrow" in canvas.ax.get_title()  # the selected user, their items ringed
    assert "of the 40,000 points drawn (a fixed sample)" in window.latent_map.caption.text()  # and the selection's
    assert 0 in canvas.visible_users and len(canvas.visible_users) + len(canvas.visible_items) < 5_100
    assert m.set_values(np.array([19_999]), np.array([0]), np.array([4.0]))  # editable once the run ended
    assert m.value(19_999, 0) == 4.0 and m.nnz in (nnz, nnz + 1)


def test_run_busy_gives_the_result_or_the_error_and_leaves_no_thread(qtbot) -> None:
    assert busy.run_busy(None, "Working…", lambda: (time.sleep(0.2), 7)[1]) == 7

    def fails() -> None:
        raise ValueError("bad file")

    with pytest.raises(ValueError, match="bad file"):
        busy.run_busy(None, "Working…", fails)
    assert not [t for t in threading.enumerate() if t.name == "mfstudio-busy"]


def test_data_bytes_of_a_file_a_folder_and_nothing(tmp_path) -> None:
    (tmp_path / "a").write_bytes(b"x" * 10)
    (tmp_path / "b").write_bytes(b"x" * 5)
    assert busy.data_bytes(tmp_path / "a") == 10 and busy.data_bytes(tmp_path) == 15
    assert busy.data_bytes(tmp_path / "gone") == 0
