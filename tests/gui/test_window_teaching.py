"""Watching it learn in the window: slow motion, One update with its arithmetic, the notebook's printout."""

from __future__ import annotations

import math
import time

import numpy as np
from PySide6.QtWidgets import QComboBox, QPlainTextEdit, QSpinBox

from mfstudio.core import Training, load_example
from mfstudio.gui.views.update_panel import update_text


def _tab(window, title: str) -> None:
    titles = [window.tabs.tabText(i) for i in range(window.tabs.count())]
    window.tabs.setCurrentIndex(titles.index(title))


def test_nine_one_updates_on_example_1_are_one_step_shown_in_the_notebooks_notation(qtbot, window):
    action = window.findChild(type(window.action_train), "actionStepRating")
    assert action is not None and action.isEnabled()
    _tab(window, "This update")
    for n in range(9):
        action.trigger()
        u = window.update_panel.update_.update
        assert u.index == n and window.selection.current.cell == (u.user, u.item)  # its cell, highlighted
    text = window.findChild(QPlainTextEdit, "updateText").toPlainText()
    assert "e_ij = R_ij − P_i·Q_j" in text and "Step 1 is complete." in text and "→" in text
    assert f"{u.p_before[0]:.6g} → {u.p_after[0]:.6g}".replace("-", "−") in text
    ref = Training(load_example(), "sgd", {**window.controls.params(), "steps": 1})
    list(ref.run())
    assert np.array_equal(window.result.factors.P, ref.factors.P) and window.result.steps_done == 1
    assert window.plot.point_count() == 1  # the completed step's point on the loss curve
    window.step()  # Step goes on from there
    qtbot.waitUntil(lambda: not window.running and window.result.steps_done == 2, timeout=10_000)


def test_one_update_of_als_is_a_half_step_of_the_selected_user(qtbot, window):
    c = window.controls
    c.solver_box.setCurrentIndex(c.solver_box.findData("als"))
    window.selection.select(1, 2)
    window.step_rating()
    u = window.update_panel.update_.update
    assert u.side == "users" and u.row == 1
    text = window.update_panel.text.toPlainText()
    assert "ridge solve" in text and "User 2" in text and "Half 1 of 2" in text
    assert "solved exactly (Cholesky)" in text  # K = 2: CG's 3 steps would reach the same solution


def test_the_latent_map_leaves_a_trail_of_the_updated_points(qtbot, window):
    for _ in range(3):
        window.step_rating()
    segments = window.latent_map.canvas.trails.get_segments()
    assert segments and all(len(s) >= 2 for s in segments)


def test_the_speed_control_slows_a_run_down_and_stop_still_stops_at_once(qtbot, window):
    box = window.findChild(QComboBox, "speedControl")
    assert box.currentIndex() == 0 and math.isinf(window.controls.speed())  # as fast as possible by default
    box.setCurrentIndex(box.count() - 1)  # one step a second
    assert window.experiment.speed == 1.0
    window.train()
    qtbot.wait(1500)
    assert window.running and 1 <= window.experiment.snapshot.step <= 3
    t0 = time.perf_counter()
    window.stop()
    at_stop = window.experiment.snapshot.step
    qtbot.waitUntil(lambda: not window.running, timeout=5000)
    # at once: not a step after the one it was waiting to take (a report may still have been on its way), and
    # within seconds, where the run had an hour of steps left (the cores are shared: the suite runs on all)
    assert window.experiment.snapshot.step <= at_stop + 1 and time.perf_counter() - t0 < 5.0


def test_slow_motion_keeps_the_event_loop_free(qtbot, window):
    window.controls.set_speed(30.0)
    window.train()
    qtbot.wait(400)  # the first frames (a layout each) are not slow motion's
    cpu, wall, step = time.thread_time(), time.perf_counter(), window.experiment.snapshot.step
    qtbot.wait(1500)
    cpu, wall = time.thread_time() - cpu, time.perf_counter() - wall
    reports = window.experiment.snapshot.step - step
    window.stop()
    qtbot.waitUntil(lambda: not window.running, timeout=5000)
    # 30 reports a second, each moving every view: the window's own work (its main thread's CPU time) is 15-16 ms
    # a report alone on 2 shared cores, mostly the latent map's moving labels (matplotlib renders a text's glyphs
    # anew at each draw), and up to 21 ms under the test suite's other worker (caches and memory shared); a full
    # redraw per report would cost 60-100 ms. The loop keeps a quarter of its time or more free (0.42-0.45 busy
    # alone, 0.62 once under CI's other worker).
    assert reports >= 5, reports
    assert cpu / reports < 0.03 and cpu / wall < 0.75, (cpu, wall, reports)


def test_the_printout_tab_prints_what_the_notebook_printed(qtbot, window):
    log = window.findChild(type(window.notebook_log), "notebookLog")
    interval = window.findChild(QSpinBox, "notebookLogInterval")
    assert interval.value() == 1000
    interval.setValue(2500)
    window.train()
    qtbot.waitUntil(lambda: not window.running, timeout=20_000)
    text = log.text.toPlainText()
    heads = [line for line in text.splitlines() if line.startswith("--------")]
    assert heads == [f"-------- Result at step {s} : with eR, P, Q are :-----" for s in (0, 2500, 5000, 7500)]
    assert "array([[" in text and log.count == 4
    ref = Training(load_example(), "sgd", {**window.controls.params(), "steps": 7501})
    list(ref.run())
    assert repr(ref.factors.P) in text  # the factors after the notebook's step 7500, in numpy's format


def test_update_text_spells_out_a_biased_update():
    t = Training(load_example(), "biased-sgd", {"K": 2, "steps": 5})
    u, _ = t.step_update()
    text = update_text(u, t.ratings)
    assert "μ + b_i + c_j" in text and "with the old P[i][k]" in text and "b_i = b_i + α" in text


def test_export_python_script_reproduces_the_window_run(qtbot, window, tmp_path, monkeypatch):
    import subprocess
    import sys

    from PySide6.QtWidgets import QFileDialog

    c = window.controls
    c.solver_box.setCurrentIndex(c.solver_box.findData("biased-sgd"))
    c.param_widgets["steps"].setValue(20)
    window.train()
    qtbot.waitUntil(lambda: not window.running, timeout=20_000)
    target = tmp_path / "reproduce"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    action = window.findChild(type(window.action_train), "actionExportScript")
    action.trigger()
    script = tmp_path / "reproduce.py"
    assert script.is_file() and "import mfstudio" not in script.read_text()
    subprocess.run([sys.executable, str(script)], cwd=tmp_path, check=True, capture_output=True, timeout=120)
    got = np.load(tmp_path / "reproduced.npz")
    f = window.result.factors
    assert np.max(np.abs(got["P"] - f.P)) <= 1e-9 and np.max(np.abs(got["Q"] - f.Q)) <= 1e-9
    assert np.max(np.abs(got["user_bias"] - f.user_bias)) <= 1e-9


def test_export_python_script_says_why_not_mid_step(qtbot, window, monkeypatch):
    warned: list[str] = []
    monkeypatch.setattr(window.document, "warn", lambda title, text: warned.append(text))
    window.step_rating()
    assert window.exporter.export_script_dialog() is None
    assert "press Step to finish it" in warned[-1]


def test_the_printout_keeps_the_last_blocks_and_says_how_many_came(qtbot, window):
    from mfstudio.gui.views import notebook_log

    log = window.notebook_log
    n = notebook_log.KEPT + 40
    log.add([f"-------- Result at step {k} : with eR, P, Q are :-----\narray([{k}])" for k in range(n)], dropped=5)
    assert log.count == n + 5 and log.count_label.text() == f"the last {notebook_log.KEPT} of {n + 5:,} printouts"
    text = log.text.toPlainText()
    assert text == log.shown_text() and text.startswith("-------- Result at step 40 :")
    assert text.endswith(f"array([{n - 1}])")
