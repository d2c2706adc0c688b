"""The loss curve: persistent lines, faded earlier runs, log toggle, bounded redraws, saving."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtWidgets import QFileDialog, QMessageBox

from mfstudio.gui.plot import FADED_ALPHA, LossPlot, run_label


def history(n: int, val: bool = False) -> np.ndarray:
    h = np.zeros((n, 7))
    h[:, 0] = np.arange(1, n + 1)
    h[:, 1] = 100.0 / h[:, 0]
    h[:, 2] = 3.0 / np.sqrt(h[:, 0])
    h[:, 4] = 3.5 / np.sqrt(h[:, 0]) if val else np.nan
    return h


@pytest.fixture
def plot(qtbot):
    p = LossPlot()
    qtbot.addWidget(p)
    p.resize(700, 320)
    p.show()
    yield p
    p.stop_timers()


def test_axes_are_labelled(plot):
    c = plot.canvas
    assert c.objectName() == "lossCanvas"
    assert c.ax_obj.get_xlabel() == "Step" and c.ax_rmse.get_xlabel() == "Step"
    assert c.ax_obj.get_ylabel() == "Objective e"
    assert c.ax_rmse.get_ylabel() == "RMSE"


def test_lines_follow_the_history(plot):
    plot.begin_run("sgd K=2")
    plot.set_history(history(50))
    assert plot.point_count() == 50
    run = plot._runs[-1]
    assert np.array_equal(run.train.get_xdata(), np.arange(1, 51))
    assert len(run.val.get_xdata()) == 0  # no hold-out, no validation line
    plot.set_history(history(80, val=True))
    assert plot.point_count() == 80 and len(run.val.get_ydata()) == 80


def test_earlier_runs_fade_and_keep_their_labels_until_cleared(plot):
    plot.begin_run("sgd K=2 α=0.0002")
    plot.set_history(history(10))
    first = plot._runs[0]
    plot.begin_run("als K=3")
    assert plot.run_count == 2
    assert first.objective.get_alpha() == FADED_ALPHA
    assert plot._runs[1].objective.get_alpha() is None  # the current run is drawn solid
    legend = [t.get_text() for t in plot.canvas.ax_obj.get_legend().get_texts()]
    assert legend == ["sgd K=2 α=0.0002", "als K=3"]
    plot.clear_runs()
    assert plot.run_labels() == ["als K=3"]
    assert first.objective not in plot.canvas.ax_obj.lines


def test_log_scale_toggle(plot):
    assert plot.canvas.ax_obj.get_yscale() == "log"
    plot.log_scale.setChecked(False)
    assert plot.canvas.ax_obj.get_yscale() == "linear" and plot.canvas.ax_rmse.get_yscale() == "linear"
    plot.log_scale.setChecked(True)
    assert plot.canvas.ax_rmse.get_yscale() == "log"


def test_redraws_are_bounded_and_the_timer_stops_when_idle(plot, qtbot, monkeypatch):
    plot.begin_run("x")
    draws = []
    monkeypatch.setattr(plot.canvas, "draw_idle", lambda: draws.append(1))
    for n in range(1, 200):  # many updates in a burst...
        plot.set_history(history(n))
    assert draws == []  # ...are not drawn one by one
    qtbot.waitUntil(lambda: len(draws) >= 1, timeout=2000)
    qtbot.waitUntil(lambda: not plot._timer.isActive(), timeout=2000)
    assert len(draws) == 1
    plot.set_history(history(300))
    plot.flush()
    assert len(draws) == 2 and not plot._timer.isActive()


@pytest.mark.parametrize("ext,magic", [(".png", b"\x89PNG"), (".svg", b"<?xml"), (".pdf", b"%PDF")])
def test_save_figure_formats(plot, tmp_path, ext, magic):
    plot.begin_run("sgd")
    plot.set_history(history(20))
    path = plot.save_figure(tmp_path / f"loss{ext}")
    assert path.read_bytes().startswith(magic)


def test_save_figure_refuses_other_formats(plot, tmp_path):
    with pytest.raises(ValueError, match="png, .svg or .pdf"):
        plot.save_figure(tmp_path / "loss.jpg")


def test_a_failed_figure_save_keeps_the_old_file_and_a_read_only_one_is_refused(plot, tmp_path, monkeypatch):
    import os

    from mfstudio.io import atomic

    plot.begin_run("sgd")
    plot.set_history(history(20))
    old = tmp_path / "loss.png"
    old.write_bytes(b"the old figure")
    def full(fd):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(atomic.os, "fsync", full)
    with pytest.raises(ValueError, match="No space left on device"):
        plot.save_figure(old)
    monkeypatch.undo()
    assert old.read_bytes() == b"the old figure" and os.listdir(tmp_path) == ["loss.png"]
    os.chmod(old, 0o444)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(old), "PNG image (*.png)"))
    shown = []
    monkeypatch.setattr(QMessageBox, "warning", lambda parent, title, text, *a, **k: shown.append(text))
    plot.save_figure_dialog()
    assert shown == [f"{old} is read-only, so it was not replaced and nothing was written; "
                     "make it writable or choose another name."]
    assert old.read_bytes() == b"the old figure"


def test_save_dialog_adds_the_extension_of_the_chosen_filter(plot, tmp_path, monkeypatch):
    target = tmp_path / "curve"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), "SVG image (*.svg)"))
    messages = []
    plot.statusMessage.connect(messages.append)
    plot.save_figure_dialog()
    assert (tmp_path / "curve.svg").read_bytes().startswith(b"<?xml")
    assert messages and "curve.svg" in messages[-1]


def test_run_label_names_solver_and_key_parameters():
    assert run_label("sgd", {"K": 2, "steps": 10000, "alpha": 0.0002, "beta": 0.02, "seed": 0}) == "sgd K=2 α=0.0002 β=0.02"
    assert run_label("als", {"K": 3, "beta": 0.1}) == "als K=3 β=0.1"


def test_live_mode_blits_and_ends_autoscaled(plot, qtbot):
    plot.begin_run("sgd")
    plot.start_live(1_000_000_000)
    assert plot.live
    for n in range(1, 60):
        plot.set_history(history(n))
        qtbot.wait(5)
    qtbot.waitUntil(lambda: not plot._timer.isActive(), timeout=2000)
    assert plot.full_draws >= 1
    plot.set_history(history(100_000)[::10])
    plot.end_live()
    assert not plot.live and not plot._timer.isActive()
    lo, hi = plot.canvas.ax_obj.get_xlim()
    assert lo <= 1 and 99_000 <= hi <= 120_000  # autoscaled to the data, not the live limits
    assert plot.canvas.ax_obj.yaxis.get_minor_locator().__class__.__name__ == "LogLocator"


def test_live_limits_grow_rarely(plot, qtbot):
    plot.begin_run("sgd")
    plot.start_live(1_000_000_000)
    qtbot.waitUntil(lambda: plot.full_draws == 1, timeout=2000)
    for n in range(2, 400, 3):
        plot.set_history(history(n))
        plot._on_tick()
    # x grows threefold-and-more when outgrown (about 4 times here) and y by decades (objective
    # 50 -> 0.25: 3 times), plus the first frame: a handful of full draws, the rest are blits
    assert plot.full_draws <= 10 and plot.blits >= 100
    plot.end_live()
