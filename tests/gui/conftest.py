"""GUI test fixtures: fail any test that leaves a training thread, an autosave thread or one of our timers running.

Our timers carry an objectName starting with ``mfstudio`` (Qt's own helpers, such
as a status bar's message timer, are unnamed and not ours to police). The autosave
timer may still be counting down (or a save being written) when a test ends, but closing the window must stop it.
Every test gets a private settings file and recovery folder.
"""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

import weakref

from PySide6.QtCore import QEvent, QThread, QTimer
from PySide6.QtWidgets import QApplication

from mfstudio.gui import recovery

AUTOSAVE_TIMER = "mfstudioAutosaveTimer"


def _our_active_timers() -> list[str]:
    app = QApplication.instance()
    if app is None:
        return []
    found = []
    for top in QApplication.topLevelWidgets():
        for t in top.findChildren(QTimer):
            if t.objectName().startswith("mfstudio") and t.isActive():
                found.append(f"{top.objectName() or type(top).__name__}/{t.objectName()}")
    return found


@pytest.fixture(autouse=True)
def private_settings_and_recovery(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Each test gets its own settings ini and recovery folder (never the user's real ones), also in subprocesses."""
    from mfstudio.gui.recovery import RECOVERY_DIR_ENV
    from mfstudio.gui.settings import SETTINGS_FILE_ENV

    base = tmp_path_factory.mktemp("appdata")
    monkeypatch.setenv(SETTINGS_FILE_ENV, str(base / "settings.ini"))
    monkeypatch.setenv(RECOVERY_DIR_ENV, str(base / "recovery"))
    return base


@pytest.fixture(autouse=True)
def no_blocking_dialogs(monkeypatch: pytest.MonkeyPatch):
    """A modal dialog a test did not arrange for fails the test instead of hanging the run.

    Offscreen, nobody can click a real dialog, so one the test did not expect would
    block CI until its time limit. Tests that expect a dialog monkeypatch it themselves
    (their monkeypatch comes after this one and wins).
    """
    from PySide6.QtWidgets import QDialog, QFileDialog, QInputDialog, QMessageBox

    def refuse(name: str):
        def raiser(*args, **kwargs):
            texts = [a for a in args if isinstance(a, str)]
            raise AssertionError(f"unexpected modal dialog {name}: {texts[:2]}")

        return raiser

    for cls, names in (
        (QMessageBox, ("question", "warning", "information", "critical", "about")),
        (QFileDialog, ("getOpenFileName", "getOpenFileNames", "getSaveFileName", "getExistingDirectory")),
        (QInputDialog, ("getText", "getInt", "getDouble", "getItem")),
    ):
        for n in names:
            monkeypatch.setattr(cls, n, staticmethod(refuse(f"{cls.__name__}.{n}")))
    monkeypatch.setattr(QDialog, "exec", refuse("QDialog.exec"))
    monkeypatch.setattr(QMessageBox, "exec", refuse("QMessageBox.exec"))


_STARTED: weakref.WeakSet[QThread] = weakref.WeakSet()


def live_threads() -> list[QThread]:
    """The QThreads started during the test that are still running."""
    out = []
    for t in list(_STARTED):
        try:
            if t.isRunning():
                out.append(t)
        except RuntimeError:  # the C++ object is already gone, so it is not running
            pass
    return out


@pytest.fixture(autouse=True)
def record_started_threads(monkeypatch: pytest.MonkeyPatch):
    """Every QThread a test starts is recorded (QThread.start patched, as napari's conftest does)."""
    real_start = QThread.start

    def start(self: QThread, *args, **kwargs):
        _STARTED.add(self)
        return real_start(self, *args, **kwargs)

    monkeypatch.setattr(QThread, "start", start)
    yield


@pytest.fixture(autouse=True)
def no_leftover_threads_or_timers(request: pytest.FixtureRequest, private_settings_and_recovery,
                                  record_started_threads):
    """After each test: no training thread running, none of our timers active; windows closed, no save left running."""
    yield
    if "qapp" not in request.fixturenames and QApplication.instance() is None:
        return
    threads = live_threads()
    # The autosave timer may rightly be counting down after an edit; closing the window must stop it.
    timers = [t for t in _our_active_timers() if not t.endswith(AUTOSAVE_TIMER)]
    # Clean up first so one failure does not cascade (or abort the process).
    for t in threads:
        control = getattr(t, "control", None)
        if control is not None:
            control.stop()
        t.wait(10_000)
    tops = QApplication.topLevelWidgets()
    for top in tops:
        if hasattr(top, "ask_before_closing"):
            top.ask_before_closing = False
        top.close()
    timers += [f"{t} (after closing)" for t in _our_active_timers() if t not in timers]
    for top in tops:
        top.deleteLater()
    QApplication.processEvents()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    savers = recovery.live_savers()  # closing waits for a save being written
    for t in savers:
        t.join(30)
    problems = []
    if threads:
        problems.append(f"{len(threads)} training thread(s) still running")
    if savers:
        problems.append(f"{len(savers)} autosave thread(s) still running after closing")
    if timers:
        problems.append("active timers: " + ", ".join(timers))
    if problems:
        pytest.fail("The test left " + "; ".join(problems) + ".")


@pytest.fixture
def example_ratings():
    from mfstudio.core import load_example

    return load_example("example-1")


def synthetic_ratings(n_users: int = 200, n_items: int = 300, density: float = 0.2, seed: int = 1):
    """A random low-rank rating set big enough that a run takes a while."""
    import numpy as np

    from mfstudio.core import Ratings

    rng = np.random.default_rng(seed)
    P = rng.random((n_users, 3))
    Q = rng.random((3, n_items))
    R = np.clip(1 + 4 * (P @ Q) / 3 + rng.normal(0, 0.3, (n_users, n_items)), 1, 5)
    mask = rng.random((n_users, n_items)) < density
    rows, cols = np.nonzero(mask)
    return Ratings(rows, cols, np.round(R[rows, cols] * 2) / 2, (n_users, n_items), scale=(1, 5))


@pytest.fixture
def big_ratings():
    return synthetic_ratings()


@pytest.fixture
def window(qtbot):
    """The main window, shown at 1280 x 800; closed (after the leak check) by the autouse fixture."""
    from mfstudio.gui import MainWindow

    w = MainWindow()
    w.ask_before_closing = False
    w.resize(1280, 800)
    w.show()
    qtbot.waitExposed(w)
    return w
