"""The window's autosave and quitting without a close: the GUI thread stays free while a big grid is saved,
every autosave failure reaches the status bar, and quitting keeps unsaved work in the recovery file."""

from __future__ import annotations

import faulthandler
import gc

import numpy as np
from PySide6.QtCore import QElapsedTimer, Qt, QTimer
from PySide6.QtWidgets import QMessageBox

from mfstudio import io
from mfstudio.core import Ratings
from mfstudio.gui import MainWindow
from mfstudio.gui.recovery import live_savers
from tests.gui.conftest import live_threads

from .conftest import synthetic_ratings


def big_grid(n: int = 3000, nnz: int = 1_800_000, seed: int = 0) -> Ratings:
    rng = np.random.default_rng(seed)
    flat = np.sort(rng.choice(n * n, nnz, replace=False))
    return Ratings(flat // n, flat % n, rng.integers(1, 6, nnz).astype(float), (n, n), scale=(1, 5))


class Stalls:
    """A 10 ms precise timer on the GUI thread; the longest gap between its ticks is the longest freeze."""

    def __init__(self) -> None:
        self.clock = QElapsedTimer()
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(10)
        self.timer.timeout.connect(self._tick)
        self.gaps: list[int] = []
        self._last = 0

    def _tick(self) -> None:
        now = self.clock.elapsed()
        self.gaps.append(now - self._last)
        self._last = now

    def start(self) -> None:
        self.clock.start()
        self._last = 0
        self.timer.start()

    def stop(self) -> int:
        self.timer.stop()
        return max(self.gaps, default=0)


def _timed_save(qtbot, window, stacks_path) -> tuple[float, int, int, str]:
    """One autosave while a 10 ms timer ticks: snapshot ms, longest gap ms, ticks, and the threads' stacks."""
    m = window.grid_model
    assert m.setData(m.index(0, 0), "3" if np.isnan(m.value(0, 0)) else "")  # an edit: now there is work to save
    window.autosaver.stop()
    qtbot.wait(500)  # the first paint of the big grid is not the autosave's
    gc.collect()  # the garbage earlier tests left (figures, models) is not the autosave's either
    stalls = Stalls()
    with open(stacks_path, "w") as f:
        faulthandler.dump_traceback_later(0.5, repeat=True, file=f)
        try:
            stalls.start()
            with qtbot.waitSignal(window.autosaver.saved, timeout=60_000):
                assert window.autosaver.save_in_background()
                snapshot_ms = window.autosaver.snapshot_seconds * 1000
            worst = stalls.stop()
        finally:
            faulthandler.cancel_dump_traceback_later()
    return snapshot_ms, worst, len(stalls.gaps), stacks_path.read_text()


def test_autosaving_a_3000_by_3000_grid_keeps_the_gui_thread_free(qtbot, window, tmp_path):
    """1.8 M ratings: the snapshot on the GUI thread takes well under 50 ms, and the window keeps
    answering while the saving thread writes (it used to freeze for 2.5-3.7 s per save)."""
    big = big_grid()
    window.load_ratings(big, title="big")
    # Measured 25 ms on 2 shared cores; the bound is loose for busy CI machines (one GIL-holding call over
    # the whole grid, as before, stalls 1.5-2 s on every save). A busy shared machine has stalled one save in
    # many for 1.5-2 s: a second save must then be free (a real regression stalls both); faulthandler's
    # stacks of the stalled save are printed for whoever looks into it.
    for attempt in range(2):
        snapshot_ms, worst, ticks, stacks = _timed_save(qtbot, window, tmp_path / f"stacks{attempt}.txt")
        print(f"autosave of 3,000 x 3,000 / 1.8 M ratings: snapshot {snapshot_ms:.1f} ms on the GUI thread, "
              f"longest GUI stall while saving {worst} ms over {ticks} ticks")
        assert snapshot_ms < 50
        if worst < 250:
            break
        print("stacks every 0.5 s during the stalled save:\n" + stacks)
    assert worst < 250
    saved = io.load(window.autosaver.path).session
    assert saved.ratings == window.grid_ratings()


def test_the_grid_ratings_stay_cached_after_an_edit(window):
    """The autosave snapshot relies on it: an edit converts the grid once (for the info line), not again."""
    m = window.grid_model
    assert m.setData(m.index(0, 0), "2")
    assert window.document._grid_cache_version == window.document.data_version
    first = window.grid_ratings()
    assert window.grid_ratings() is first and window.current_session().ratings is first


def _unencodable(*args):
    """What writing a session raised for a label like 'caf\udce9'. Ratings now refuse such labels
    (every reader does), so the failure is injected where the writer sits."""
    return "caf\udce9".encode("utf-8")


def _window_with_a_bad_label(qtbot, monkeypatch) -> MainWindow:
    import mfstudio.io as mio
    from mfstudio.io import session_write

    monkeypatch.setattr(mio, "session_to_bytes", _unencodable)
    monkeypatch.setattr(session_write, "session_to_bytes", _unencodable)
    w = MainWindow(Ratings.from_dense([[5, 3], [4, 1]], users=["cafe", "bob"]))
    w.ask_before_closing = False
    qtbot.addWidget(w)
    w.show()
    m = w.grid_model
    assert m.setData(m.index(0, 1), "2")
    return w


def test_an_autosave_that_cannot_encode_a_label_says_so_in_the_status_bar(qtbot, capfd, monkeypatch):
    w = _window_with_a_bad_label(qtbot, monkeypatch)
    with qtbot.waitSignal(w.autosaver.failed, timeout=5000):
        w.autosaver.save_in_background()
    text = w.statusBar().currentMessage()
    assert text.startswith("Could not write the recovery file") and "'\\udce9'" in text
    assert "rename that user or item" in text and not w.autosaver.path.exists()
    assert "Traceback" not in capfd.readouterr().err


def test_saving_a_label_that_cannot_be_encoded_is_explained_and_closing_keeps_the_window(qtbot, monkeypatch, tmp_path,
                                                                                          capfd):
    w = _window_with_a_bad_label(qtbot, monkeypatch)
    warned: list[tuple[str, str]] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda parent, title, text, *a, **k: warned.append((title, text)))
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Save)
    target = tmp_path / "s.mfstudio"
    assert w.document.save_to(target) is False
    assert warned[-1][0] == "Could not save the session" and "'\\udce9'" in warned[-1][1]
    assert not target.exists() and w.is_modified()
    w.ask_before_closing = True
    w.document.path = target  # Save goes straight to the file, fails, and the close is cancelled
    assert w.close() is False and w.isVisible() and w.is_modified()
    assert "Traceback" not in capfd.readouterr().err
    w.ask_before_closing = False


def test_quit_keeping_work_stops_the_run_and_keeps_the_work_in_the_recovery_file(qtbot, window):
    """What SIGTERM and QApplication.exit() do: no question, no thread left, the work in the recovery file."""
    window.load_ratings(synthetic_ratings(), title="big")
    m = window.grid_model
    assert m.setData(m.index(0, 0), "2.5")
    window.controls.param_widgets["steps"].setValue(1_000_000_000)
    window.train()
    qtbot.waitUntil(lambda: window.plot is not None and window.running, timeout=5000)
    qtbot.wait(200)
    assert window.quit_keeping_work()
    assert live_threads() == [] and live_savers() == [] and not window.running
    f = window.autosaver.path
    session = io.load(f).session
    assert session.ratings.to_dense()[0, 0] == 2.5
    assert session.result is not None and session.result.reason == "cancelled"  # the stopped run is kept too
    window.close()  # a close afterwards must not remove it
    assert f.exists()
    assert window.quit_keeping_work()  # and doing it twice is harmless


def test_quit_keeping_work_with_nothing_unsaved_removes_the_recovery_file(window):
    m = window.grid_model
    assert m.setData(m.index(0, 0), "2")
    assert window.autosaver.save_now() and window.autosaver.path.exists()
    window.grid_model.undo_stack.undo()
    assert not window.is_modified()
    assert window.quit_keeping_work()
    assert not window.autosaver.path.exists()


def test_quitting_never_opens_a_dialog(window, capfd):
    """A run that ends in an error while quitting prints the message instead of waiting on a dialog."""
    window.document.quitting = True
    window.document.warn("Training stopped", "Something went wrong.")  # the conftest fails the test on a dialog
    assert "Training stopped: Something went wrong." in capfd.readouterr().err
