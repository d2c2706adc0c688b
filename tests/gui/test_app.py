"""Starting and stopping the program: run() in a subprocess (a second QApplication would abort)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from mfstudio.gui import app as gui_app

ROOT = Path(__file__).resolve().parents[2]


def run_python(code: str, *, env_extra: dict | None = None, drop: tuple[str, ...] = (), timeout: int = 120,
               args: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(env_extra or {})
    cmd = [sys.executable, *(["-c", textwrap.dedent(code)] if code else []), *args]
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


PRELUDE = """
import sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox
qapp = QApplication([])
from mfstudio.gui import app as gui_app
from mfstudio.gui.window import MainWindow

def main_window():
    return next(w for w in qapp.topLevelWidgets() if isinstance(w, MainWindow))
"""


def test_closing_during_training_stops_the_run_and_exits_cleanly():
    code = PRELUDE + """
import numpy as np
from mfstudio.core import Ratings
QMessageBox.question = staticmethod(lambda *a, **k: (print("asked"), QMessageBox.StandardButton.Yes)[1])
rng = np.random.default_rng(0)
mask = rng.random((300, 400)) < 0.2
rows, cols = np.nonzero(mask)
big = Ratings(rows, cols, rng.integers(1, 6, len(rows)).astype(float), (300, 400))

def go():
    w = main_window()
    w.load_ratings(big, title="big")
    w.controls.param_widgets["steps"].setValue(1_000_000_000)
    w.train()
    print("running", w.running)
    QTimer.singleShot(600, w.close)

QTimer.singleShot(100, go)
code = gui_app.run(None)
print("exit", code)
sys.exit(code)
"""
    proc = run_python(code, env_extra={"QT_QPA_PLATFORM": "offscreen"})
    assert proc.returncode == 0, proc.stderr
    assert "running True" in proc.stdout and "asked" in proc.stdout and "exit 0" in proc.stdout
    assert "QThread: Destroyed" not in proc.stderr


def test_run_opens_a_file(tmp_path):
    f = tmp_path / "few.csv"
    f.write_text("user,item,rating\nann,film a,4\nbob,film b,2\n", encoding="utf-8")
    code = PRELUDE + f"""
def check():
    w = main_window()
    print("title", w.windowTitle())
    print("users", ",".join(w.grid_model.users))
    w.close()
QTimer.singleShot(200, check)
sys.exit(gui_app.run({str(f)!r}))
"""
    proc = run_python(code, env_extra={"QT_QPA_PLATFORM": "offscreen"})
    assert proc.returncode == 0, proc.stderr
    assert "title few.csv[*] — MF Studio" in proc.stdout and "users ann,bob" in proc.stdout


def test_run_with_a_bad_file_explains_and_falls_back_to_example_1(tmp_path):
    f = tmp_path / "bad.csv"
    f.write_text("user,item,rating\nann,film a,lots\n", encoding="utf-8")
    code = PRELUDE + f"""
QMessageBox.warning = staticmethod(lambda parent, title, text, *a, **k: print("dialog", title, "|", text))
def check():
    w = main_window()
    print("users", ",".join(w.grid_model.users))
    w.close()
QTimer.singleShot(200, check)
sys.exit(gui_app.run({str(f)!r}))
"""
    proc = run_python(code, env_extra={"QT_QPA_PLATFORM": "offscreen"})
    assert proc.returncode == 0, proc.stderr
    assert "dialog Could not open the file |" in proc.stdout
    assert "users User 1,User 2,User 3,User 4" in proc.stdout


def test_mfstudio_with_a_missing_file_shows_a_dialog_over_example_1(tmp_path):
    missing = tmp_path / "nope.csv"
    code = PRELUDE + f"""
QMessageBox.warning = staticmethod(lambda parent, title, text, *a, **k: print("dialog", parent.windowTitle(), "|", title, "|", text))
def check():
    w = main_window()
    print("shown", w.isVisible(), "users", ",".join(w.grid_model.users))
    w.close()
QTimer.singleShot(300, check)
from mfstudio import cli
sys.exit(cli.main([{str(missing)!r}]))
"""
    proc = run_python(code, env_extra={"QT_QPA_PLATFORM": "offscreen"})
    assert proc.returncode == 0, proc.stderr
    sentence = f"There is no file at {missing}; check the name and the folder."
    assert f"dialog Example 1[*] — MF Studio | Could not open the file | {sentence}" in proc.stdout
    assert "shown True users User 1,User 2,User 3,User 4" in proc.stdout
    assert sentence in proc.stderr


def test_no_display_gives_one_sentence_not_a_qt_abort():
    if not sys.platform.startswith("linux"):
        pytest.skip("a missing display is an X11/Wayland matter")
    proc = run_python("", args=("-m", "mfstudio"), drop=("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"))
    assert proc.returncode != 0
    err = proc.stderr.strip()
    assert "display" in err.lower() and "mfstudio train" in err
    assert len(err.splitlines()) == 1
    assert "qt.qpa" not in err and "Aborted" not in err


def test_no_display_reason(monkeypatch):
    monkeypatch.setattr(sys, "platform", "linux")
    for var in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(var, raising=False)
    assert gui_app.no_display_reason() == gui_app.NO_DISPLAY
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    assert gui_app.no_display_reason() is None
    monkeypatch.setenv("QT_QPA_PLATFORM", "xcb")
    assert gui_app.no_display_reason() == gui_app.NO_DISPLAY
    monkeypatch.setenv("DISPLAY", ":0")
    assert gui_app.no_display_reason() is None


def test_warm_up_compiles_every_solver_quickly():
    t = gui_app.start_warm_up()
    t.join(120)
    assert not t.is_alive() and t.daemon
