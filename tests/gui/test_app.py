"""Starting and stopping the program: run() in a subprocess (a second QApplication would abort)."""

from __future__ import annotations

import os
import signal
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
QMessageBox.warning = staticmethod(
    lambda parent, title, text, *a, **k: print("dialog", parent.windowTitle(), "|", title, "|", text)
)
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
    from mfstudio.core import SOLVERS
    from mfstudio.core.solvers import warmup

    t = gui_app.start_warm_up()
    t.join(120)
    assert not t.is_alive() and t.daemon
    assert t.error is None and t.compiled
    assert warmup._ready == set(SOLVERS) and warmup.wait_for_child(0)


def test_a_warm_up_that_fails_says_so_and_frees_the_first_train(monkeypatch):
    from mfstudio.core.solvers import warmup

    def broken() -> None:
        raise RuntimeError("no compiler")

    monkeypatch.setattr(warmup, "compile_all", broken)
    t = gui_app.start_warm_up()
    t.join(120)
    assert not t.compiled and isinstance(t.error, RuntimeError)
    assert warmup.wait_for_child(0)  # a Train does not wait for a child that is gone


# -- quitting by a signal or QApplication.exit() -----------------------------------------------------------
# The real program (cli.main with a rating file) in a subprocess. The only addition is a timer that, once the
# window is up, optionally edits a cell (unsaved work), sets a huge step budget and presses Train, then
# prints "running": that is when the test sends its signal.
TRAINING_CHILD = """
import sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox
qapp = QApplication([])
from mfstudio import cli
from mfstudio.gui.window import MainWindow

EDIT, TRAIN, ANSWERS, EXIT_AFTER = {edit!r}, {train!r}, {answers!r}, {exit_after!r}
real_question = QMessageBox.question

def question(*args, **kwargs):
    print("asked", args[2], flush=True)
    if not ANSWERS:  # the real dialog, which nobody answers offscreen
        return real_question(*args, **kwargs)
    return getattr(QMessageBox.StandardButton, ANSWERS.pop(0))

QMessageBox.question = staticmethod(question)

def go():
    w = next(w for w in qapp.topLevelWidgets() if isinstance(w, MainWindow))
    if EDIT:
        m = w.grid_model
        m.setData(m.index(0, 0), "2.5")
    if TRAIN:
        w.controls.param_widgets["steps"].setValue(1_000_000_000)
        w.train()
    print("running", w.running, flush=True)
    if EXIT_AFTER:
        QTimer.singleShot(EXIT_AFTER, lambda: QApplication.exit(0))

QTimer.singleShot(300, go)
sys.exit(cli.main([sys.argv[1]]))
"""


@pytest.fixture
def rating_file(tmp_path):
    """300 users x 400 items, ~24,000 ratings: training on it runs for as long as the step budget says."""
    import numpy as np

    rng = np.random.default_rng(0)
    rows, cols = np.nonzero(rng.random((300, 400)) < 0.2)
    vals = rng.integers(1, 6, len(rows))
    f = tmp_path / "big.csv"
    f.write_text("user,item,rating\n" + "".join(f"u{r},i{c},{v}\n" for r, c, v in zip(rows, cols, vals)),
                 encoding="utf-8")
    return f


class Child:
    def __init__(self, rating_file, *, edit=True, train=True, answers=None, exit_after=0, interactive=None):
        env = {k: v for k, v in os.environ.items() if k != gui_app.INTERACTIVE_ENV}
        env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
        env["QT_QPA_PLATFORM"] = "offscreen"
        if interactive is not None:
            env[gui_app.INTERACTIVE_ENV] = "1" if interactive else "0"
        code = textwrap.dedent(TRAINING_CHILD).format(edit=edit, train=train, answers=answers, exit_after=exit_after)
        self.proc = subprocess.Popen([sys.executable, "-c", code, str(rating_file)], cwd=ROOT, env=env,
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
        self.lines: list[str] = []

    def wait_for(self, prefix: str, timeout: float = 60) -> str:
        import select
        import time

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.proc.stdout], [], [], 0.5)
            if ready:
                line = self.proc.stdout.readline()
                if not line:
                    break
                self.lines.append(line.rstrip("\n"))
                if line.startswith(prefix):
                    return line
        self.proc.kill()
        out, err = self.proc.communicate()
        raise AssertionError(f"no {prefix!r} line; stdout {self.lines} {out!r}; stderr {err}")

    def signal(self, signum, after: float = 0.8) -> None:
        import time

        time.sleep(after)  # the run is well under way (the window repaints its tables as it goes)
        assert self.proc.poll() is None, self.proc.communicate()
        self.proc.send_signal(signum)

    def finish(self, timeout: float = 60) -> tuple[int, str, str]:
        try:
            out, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, err = self.proc.communicate()
            raise AssertionError(
                f"still running after {timeout} s; stdout {self.lines} {out!r}; stderr {err}"
            ) from None
        return self.proc.returncode, "\n".join(self.lines) + out, err


def _clean(err: str) -> None:
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    assert "QThread: Destroyed" not in err, err


def _recovered(private_settings_and_recovery):
    from mfstudio import io
    from mfstudio.gui.recovery import RECOVERY_NAME

    f = private_settings_and_recovery / "recovery" / RECOVERY_NAME
    return io.load(f).session if f.exists() else None


needs_posix_signals = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="POSIX signals")


@needs_posix_signals
def test_sigterm_during_training_saves_the_work_stops_the_run_and_exits_143(rating_file, private_settings_and_recovery):
    child = Child(rating_file, interactive=True)  # even with someone to ask, SIGTERM never waits on a dialog
    child.wait_for("running True")
    child.signal(signal.SIGTERM)
    code, out, err = child.finish()
    assert code == 143, err
    _clean(err)
    assert "asked" not in out
    session = _recovered(private_settings_and_recovery)
    assert session is not None and session.ratings.to_dense()[0, 0] == 2.5  # the next start offers it
    assert session.result is not None and session.result.reason == "cancelled"  # the stopped run's results too


@needs_posix_signals
def test_ctrl_c_with_nobody_to_answer_saves_the_work_and_exits_130(rating_file, private_settings_and_recovery):
    child = Child(rating_file)  # offscreen: nobody can answer a dialog
    child.wait_for("running True")
    child.signal(signal.SIGINT)
    code, out, err = child.finish()
    assert code == 130, err
    _clean(err)
    assert "asked" not in out
    session = _recovered(private_settings_and_recovery)
    assert session is not None and session.ratings.to_dense()[0, 0] == 2.5


@needs_posix_signals
def test_ctrl_c_with_nothing_unsaved_exits_130_and_leaves_no_recovery_file(rating_file, private_settings_and_recovery):
    child = Child(rating_file, edit=False, train=False)
    child.wait_for("running False")
    child.signal(signal.SIGINT, after=0.3)
    code, out, err = child.finish()
    assert code == 130, err
    _clean(err)
    assert _recovered(private_settings_and_recovery) is None


@needs_posix_signals
def test_ctrl_c_asks_like_quit_when_someone_can_answer(rating_file, private_settings_and_recovery):
    """Cancel keeps the program running (and training); the next Ctrl+C asks again, Discard ends it with 130."""
    child = Child(rating_file, interactive=True, answers=["Cancel", "Discard"])
    child.wait_for("running True")
    child.signal(signal.SIGINT)
    assert "has changes that are not saved" in child.wait_for("asked")
    child.signal(signal.SIGINT, after=0.5)  # still running: Cancel kept it
    child.wait_for("asked")
    code, out, err = child.finish()
    assert code == 130, err
    _clean(err)
    assert _recovered(private_settings_and_recovery) is None  # Discard: the user threw the work away


@needs_posix_signals
def test_a_second_ctrl_c_while_it_asks_quits_without_an_answer_and_keeps_the_work(rating_file,
                                                                                  private_settings_and_recovery):
    child = Child(rating_file, interactive=True, answers=[])  # the real dialog, which nobody answers
    child.wait_for("running True")
    child.signal(signal.SIGINT)
    child.wait_for("asked")
    child.signal(signal.SIGINT, after=0.5)
    code, out, err = child.finish()
    assert code == 130, err
    _clean(err)
    session = _recovered(private_settings_and_recovery)
    assert session is not None and session.ratings.to_dense()[0, 0] == 2.5


def test_qapplication_exit_during_training_joins_the_thread_and_keeps_the_work(rating_file,
                                                                               private_settings_and_recovery):
    """It used to abort with "QThread: Destroyed while thread is still running" (exit 134)."""
    child = Child(rating_file, exit_after=800)
    child.wait_for("running True")
    code, out, err = child.finish()
    assert code == 0, err
    _clean(err)
    session = _recovered(private_settings_and_recovery)
    assert session is not None and session.ratings.to_dense()[0, 0] == 2.5


def test_interactive_follows_the_environment_variable(monkeypatch, qapp):
    monkeypatch.setenv(gui_app.INTERACTIVE_ENV, "1")
    assert gui_app.interactive()
    monkeypatch.setenv(gui_app.INTERACTIVE_ENV, "0")
    assert not gui_app.interactive()
    monkeypatch.delenv(gui_app.INTERACTIVE_ENV)
    assert not gui_app.interactive()  # offscreen: nobody sees a dialog


@needs_posix_signals
def test_sigterm_while_the_restore_offer_waits_keeps_the_work_it_offers(private_settings_and_recovery):
    """A signal before the window is up (here: the offer after a crash, which nobody answers) is not lost,
    and never waits on that dialog: the offered work is restored and written back, exit 143."""
    from mfstudio import io
    from mfstudio.core import Ratings, Session
    from mfstudio.gui.recovery import RECOVERY_NAME

    f = private_settings_and_recovery / "recovery" / RECOVERY_NAME
    f.parent.mkdir(parents=True, exist_ok=True)
    io.save_session(f, Session(ratings=Ratings.from_dense([[1, 2], [3, 4]], users=["ann", "bob"])))
    code = """
import sys
from PySide6.QtWidgets import QMessageBox
real_exec = QMessageBox.exec
def shown(box):
    print("offer shown", flush=True)
    return real_exec(box)
QMessageBox.exec = shown
from mfstudio import cli
sys.exit(cli.main([]))
"""
    env = dict(
        os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")
    )
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout.readline().startswith("offer shown")
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    _clean(err)
    assert io.load(f).session.ratings.users == ("ann", "bob")
