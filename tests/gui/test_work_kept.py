"""Work that is never lost, at window level: undo through the Edit menu, unsaved-changes prompts,
New / Open / Import / Export, autosave and the restore offer, drag and drop, recent files,
remembered settings and the keyboard. Dialogs are monkeypatched; crash recovery runs in subprocesses."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QDialog, QFileDialog, QMessageBox

from mfstudio import io
from mfstudio.core import Ratings, Session, load_example
from mfstudio.gui import MainWindow, dialogs
from mfstudio.gui.recovery import RECOVERY_DIR_ENV, RECOVERY_NAME
from mfstudio.gui.settings import SETTINGS_FILE_ENV

ROOT = Path(__file__).resolve().parents[2]
B = QMessageBox.StandardButton


@pytest.fixture
def answers(monkeypatch):
    """Script QMessageBox.question: push answers; each call records (title, text)."""

    class Script:
        def __init__(self) -> None:
            self.queue: list[QMessageBox.StandardButton] = []
            self.asked: list[tuple[str, str]] = []

        def __call__(self, parent, title, text, *a, **k):
            self.asked.append((title, text))
            assert self.queue, f"unexpected question: {title}: {text}"
            return self.queue.pop(0)

    script = Script()
    monkeypatch.setattr(QMessageBox, "question", script)
    return script


@pytest.fixture
def warnings(monkeypatch):
    seen: list[tuple[str, str]] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda parent, title, text, *a, **k: seen.append((title, text)))
    return seen


def recovery_file() -> Path:
    return Path(os.environ[RECOVERY_DIR_ENV]) / RECOVERY_NAME


def edit(window: MainWindow, r: int = 0, c: int = 0, value: str = "1") -> None:
    m = window.grid_model
    assert m.setData(m.index(r, c), value)


def csv_file(tmp_path: Path, name: str = "few.csv") -> Path:
    f = tmp_path / name
    f.write_text("user,item,rating\nann,film a,4\nann,film b,2\nbob,film a,5\n", encoding="utf-8")
    return f


# -- undo and the Edit menu ---------------------------------------------------------------------
def test_edit_menu_holds_the_grids_undo_clipboard_and_structure_actions(window):
    edit_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Edit")
    acts = edit_menu.actions()
    g = window.grid
    for a in (g.action_undo, g.action_redo, g.action_cut, g.action_copy, g.action_paste, g.action_clear,
              g.action_add_user, g.action_add_item, g.action_remove_users, g.action_remove_items,
              g.action_hold_out, g.action_use_for_training, window.action_resize):
        assert a in acts
    edit(window, 0, 0, "1")
    assert g.action_undo.isEnabled() and g.action_undo.text() == "&Undo Edit User 1 / Item 1"
    g.action_undo.trigger()
    assert np.isnan(window.grid_model.value(0, 0))  # not rated in Example 1


def test_undo_and_redo_keys_work_while_the_grid_has_focus(window, qtbot):
    window.activateWindow()
    window.focus_grid()
    qtbot.waitUntil(lambda: window.grid.hasFocus(), timeout=2000)
    edit(window, 0, 0, "1")
    QTest.keySequence(window.grid, QKeySequence(QKeySequence.StandardKey.Undo))
    assert np.isnan(window.grid_model.value(0, 0))
    QTest.keySequence(window.grid, QKeySequence(QKeySequence.StandardKey.Redo))
    assert window.grid_model.value(0, 0) == 1.0


def test_paste_from_a_spreadsheet_through_the_edit_menu_grows_the_grid_in_one_step(window):
    m = window.grid_model
    window.grid.setCurrentIndex(m.index(3, 3))
    QApplication.clipboard().setText('1\t2\r\n"3"\t4\r\n')
    steps = m.undo_stack.count()
    window.grid.action_paste.trigger()
    assert m.shape == (5, 5)
    assert [m.value(3, 3), m.value(3, 4), m.value(4, 3), m.value(4, 4)] == [1, 2, 3, 4]
    assert m.undo_stack.count() == steps + 1
    window.grid.action_undo.trigger()
    assert m.shape == (4, 4) and m.value(3, 3) == 1.0  # Example 1's own rating back


def test_undoing_a_hold_out_share_puts_the_share_box_back(window):
    window.load_ratings(load_example("movie-night"), title="Movie night")
    box = window.controls.holdout_box
    box.setValue(20)
    assert len(window.grid_model.held_out_cells()) > 0
    window.grid.action_undo.trigger()
    assert box.value() == 0 and len(window.grid_model.held_out_cells()) == 0
    window.grid.action_redo.trigger()
    assert box.value() == 20 and len(window.grid_model.held_out_cells()) > 0


# -- modified mark ------------------------------------------------------------------------------
def test_title_marks_unsaved_changes_and_undo_back_to_the_saved_state_clears_it(window, tmp_path, monkeypatch):
    assert "[*]" in window.windowTitle() and not window.isWindowModified()
    edit(window)
    assert window.is_modified() and window.isWindowModified()
    window.grid.action_undo.trigger()
    assert not window.isWindowModified()
    edit(window, 1, 1, "2")
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(tmp_path / "s"), ""))
    assert window.save_session()
    assert not window.isWindowModified() and window.document_title == "s.mfstudio"
    window.grid.action_undo.trigger()  # before the save: differs from the file again
    assert window.isWindowModified()


# -- Save / Discard / Cancel ----------------------------------------------------------------------
def _open_menu_action(window: MainWindow, tmp_path: Path, monkeypatch) -> None:
    f = csv_file(tmp_path)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(f), ""))
    window.action_open.trigger()


def _new_action(window: MainWindow, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(dialogs, "ask_new_grid_size", lambda parent, size: (3, 2))
    window.action_new.trigger()


def _example_action(window: MainWindow, tmp_path: Path, monkeypatch) -> None:
    window.examples_menu.actions()[1].trigger()  # Example 2


def _quit_action(window: MainWindow, tmp_path: Path, monkeypatch) -> None:
    window.action_quit.trigger()


def _close(window: MainWindow, tmp_path: Path, monkeypatch) -> None:
    window.close()


ACTIONS = {"new": _new_action, "open": _open_menu_action, "example": _example_action, "quit": _quit_action,
           "close": _close}


@pytest.mark.parametrize("how", list(ACTIONS))
def test_cancel_keeps_everything_as_it_was(window, answers, tmp_path, monkeypatch, how):
    window.ask_before_closing = True
    edit(window, 0, 0, "1")
    before = (window.grid_model.to_ratings().to_dense(), window.windowTitle(), window.grid_model.undo_stack.count())
    answers.queue.append(B.Cancel)
    ACTIONS[how](window, tmp_path, monkeypatch)
    assert len(answers.asked) == 1 and answers.asked[0][0] == "Unsaved changes"
    assert "Example 1 has changes that are not saved" in answers.asked[0][1]
    assert window.isVisible()
    assert np.array_equal(window.grid_model.to_ratings().to_dense(), before[0], equal_nan=True)
    assert (window.windowTitle(), window.grid_model.undo_stack.count()) == before[1:]
    assert window.isWindowModified()


@pytest.mark.parametrize("how", list(ACTIONS))
def test_discard_goes_on_without_saving(window, answers, tmp_path, monkeypatch, how):
    window.ask_before_closing = True
    edit(window, 0, 0, "1")
    answers.queue.append(B.Discard)
    ACTIONS[how](window, tmp_path, monkeypatch)
    assert len(answers.asked) == 1
    if how in ("quit", "close"):
        assert not window.isVisible()
    else:
        assert window.grid_model.value(0, 0) != 1.0 or window.grid_model.shape != (4, 4)
        assert not window.isWindowModified()
    assert not list(tmp_path.glob("*.mfstudio"))


@pytest.mark.parametrize("how", list(ACTIONS))
def test_save_writes_the_session_then_goes_on(window, answers, tmp_path, monkeypatch, how):
    window.ask_before_closing = True
    edit(window, 0, 0, "1")
    target = tmp_path / "kept.mfstudio"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    answers.queue.append(B.Save)
    ACTIONS[how](window, tmp_path, monkeypatch)
    session = io.load(target).session
    assert session.ratings.to_dense()[0, 0] == 1.0
    assert not window.isWindowModified()


def test_cancelling_the_save_dialog_cancels_closing(window, answers, monkeypatch):
    window.ask_before_closing = True
    edit(window)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: ("", ""))
    answers.queue.append(B.Save)
    assert window.close() is False
    assert window.isVisible() and window.isWindowModified()


def test_discard_then_a_failed_open_keeps_the_work_and_its_recovery_file(window, answers, warnings, tmp_path):
    edit(window, 0, 0, "1")
    assert window.autosaver.save_now() and recovery_file().exists()
    bad = tmp_path / "bad.csv"
    bad.write_text("user,item,rating\nu1,i1,lots\n", encoding="utf-8")
    answers.queue.append(B.Discard)
    assert window.open_file(bad) is False
    assert warnings and window.grid_model.value(0, 0) == 1.0 and window.isWindowModified()
    assert recovery_file().exists()
    answers.queue.append(B.Discard)
    assert window.open_file(csv_file(tmp_path))
    assert not recovery_file().exists() and not window.isWindowModified()


def test_nothing_unsaved_asks_nothing(window, answers, tmp_path, monkeypatch):
    window.ask_before_closing = True
    for how in ("new", "open", "example"):
        ACTIONS[how](window, tmp_path, monkeypatch)
    assert answers.asked == []
    assert window.close()


def test_close_while_training_with_unsaved_changes_asks_once_and_stops_the_thread(window, answers, qtbot, big_ratings):
    window.ask_before_closing = True
    window.load_ratings(big_ratings, title="big")
    m = window.grid_model
    m.setData(m.index(0, 0), "3")
    window.controls.param_widgets["steps"].setValue(1_000_000_000)
    window.train()
    assert window.running
    answers.queue.append(B.Cancel)
    assert window.close() is False and window.running
    answers.queue.append(B.Discard)
    assert window.close() is True
    assert not window.running and len(answers.asked) == 2
    assert "training run will be stopped" in answers.asked[0][1]


# -- New, Import, Export ---------------------------------------------------------------------------
def test_new_grid_dialog_asks_for_a_size_and_refuses_one_memory_cannot_hold(qtbot, monkeypatch):
    from mfstudio.core import memory

    d = dialogs.NewGridDialog(None, (3, 7))
    qtbot.addWidget(d)
    assert d.size_chosen() == (3, 7)
    ok = d.buttons.button(d.buttons.StandardButton.Ok)
    d.users.setValue(100_000)
    d.items.setValue(100_000)  # 10^10 cells, but an empty grid is its 200,000 labels
    assert ok.isEnabled() and d.note.text() == "" and d.size_chosen() == (100_000, 100_000)
    monkeypatch.setattr(memory, "available_bytes", lambda: 10**9)
    d.users.setValue(10_000_000)
    assert not ok.isEnabled() and "needs about" in d.note.text() and "Choose fewer" in d.note.text()
    d.users.setValue(5)
    assert ok.isEnabled() and d.size_chosen() == (5, 100_000)


def test_ask_new_grid_size_returns_none_when_cancelled(qapp, monkeypatch):
    monkeypatch.setattr(dialogs.NewGridDialog, "exec", lambda self: QDialog.DialogCode.Rejected)
    assert dialogs.ask_new_grid_size(None) is None
    monkeypatch.setattr(dialogs.NewGridDialog, "exec", lambda self: QDialog.DialogCode.Accepted)
    assert dialogs.ask_new_grid_size(None, (2, 9)) == (2, 9)


def test_new_gives_an_empty_untitled_grid(window, monkeypatch):
    monkeypatch.setattr(dialogs, "ask_new_grid_size", lambda parent, size: (6, 3))
    assert window.document.new_dialog()
    m = window.grid_model
    assert m.shape == (6, 3) and np.isnan(m.to_ratings().to_dense()).all()
    assert window.document_title == "Untitled" and window.session_path is None
    assert not window.isWindowModified() and window.result is None


def test_resize_is_one_undo_step(window, monkeypatch):
    monkeypatch.setattr(dialogs, "ask_new_grid_size", lambda parent, size: (size[0] + 2, size[1] - 1))
    window.action_resize.trigger()
    assert window.grid_model.shape == (6, 3) and window.isWindowModified()
    window.grid.action_undo.trigger()
    assert window.grid_model.to_ratings() == load_example("example-1")


def test_import_replaces_the_grid_as_one_undo_step_and_keeps_the_document(window, tmp_path, monkeypatch):
    f = csv_file(tmp_path)
    window.controls.holdout_box.setValue(30)  # the share is drawn on the imported ratings in the same step
    m = window.grid_model
    before, steps = m.to_ratings(), m.undo_stack.count()
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(f), ""))
    window.action_import.trigger()
    assert m.users == ("ann", "bob") and m.items == ("film a", "film b")
    assert len(m.held_out_cells()) == 1
    assert m.undo_stack.count() == steps + 1 and m.undo_stack.undoText() == "Import few.csv"
    assert window.document_title == "Example 1" and window.isWindowModified()
    assert "Imported 3 ratings from few.csv" in window.statusBar().currentMessage()
    window.grid.action_undo.trigger()
    assert m.to_ratings() == before


def test_import_of_a_bad_file_changes_nothing(window, warnings, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("user,item,rating\nu1,i1,lots\n", encoding="utf-8")
    steps = window.grid_model.undo_stack.count()
    assert window.import_path(bad) is False
    assert warnings and warnings[0][0] == "Could not import the file"
    assert window.grid_model.undo_stack.count() == steps and not window.isWindowModified()


def test_export_submenu_lists_results_each_table_and_the_figure(window):
    texts = [a.text().replace("&", "") for a in window.export_menu.actions() if not a.isSeparator()]
    assert texts == ["Results into a folder…", "P as CSV…", "Q as CSV…", "R-hat as CSV…", "User biases as CSV…",
                     "Item biases as CSV…", "Recommendations as CSV…", "Training history as CSV…", "Ratings R as CSV…",
                     "Full precision in CSV files", "Python script…", "Loss curve figure…"]


def test_export_the_ratings_as_csv_reads_back(window, tmp_path, monkeypatch):
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(tmp_path / "R"), ""))
    next(a for a in window.export_menu.actions() if a.text() == "Ratin&gs R as CSV…").trigger()
    assert io.load(tmp_path / "R.csv").session.ratings == load_example("example-1")


# -- autosave and crash recovery ---------------------------------------------------------------------
def test_an_edit_is_autosaved_within_about_two_seconds_and_a_clean_exit_removes_it(window, qtbot):
    f = recovery_file()
    assert not f.exists()
    edit(window, 2, 1, "4")
    t0 = time.monotonic()
    qtbot.waitUntil(f.exists, timeout=4000)
    assert time.monotonic() - t0 < 3.0
    assert io.load(f).session.ratings.to_dense()[2, 1] == 4.0
    window.close()
    assert not f.exists()


def test_saving_removes_the_recovery_file(window, tmp_path, monkeypatch):
    edit(window)
    assert window.autosaver.save_now() and recovery_file().exists()
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(tmp_path / "s.mfstudio"), ""))
    assert window.save_session()
    assert not recovery_file().exists() and not window.autosaver.is_pending


def _leave_recovery_file(values: list[list[float]]) -> Session:
    session = Session(ratings=Ratings.from_dense(values, users=["ann", "bob"], items=["x", "y", "z"]),
                      solver="als", params={"K": 3})
    f = recovery_file()
    f.parent.mkdir(parents=True, exist_ok=True)
    io.save_session(f, session)
    return session


def _choose(monkeypatch, role: QMessageBox.ButtonRole, seen: list) -> None:
    def fake_exec(box: QMessageBox) -> int:
        seen.append({box.buttonRole(b): b.text() for b in box.buttons()})
        next(b for b in box.buttons() if box.buttonRole(b) == role).click()
        return 0

    monkeypatch.setattr(QMessageBox, "exec", fake_exec)


def test_restore_offer_restores_untitled_and_unsaved_keeping_the_file_until_saved(qtbot, monkeypatch, tmp_path):
    session = _leave_recovery_file([[5, 3, 0], [4, 0, 1]])
    seen: list = []
    _choose(monkeypatch, QMessageBox.ButtonRole.AcceptRole, seen)
    w = MainWindow()
    qtbot.addWidget(w)
    assert seen == [{QMessageBox.ButtonRole.AcceptRole: "&Restore", QMessageBox.ButtonRole.DestructiveRole: "&Discard"}]
    assert w.grid_model.to_ratings() == session.ratings
    assert w.controls.solver() == "als" and w.controls.params()["K"] == 3
    assert w.document_title == "Recovered session" and w.session_path is None
    assert w.isWindowModified() and recovery_file().exists()
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(tmp_path / "back"), ""))
    assert w.save_session()  # untitled: asks for a name
    assert (tmp_path / "back.mfstudio").exists() and not recovery_file().exists()


def test_restore_offer_discard_removes_the_file_and_keeps_example_1(qtbot, monkeypatch):
    _leave_recovery_file([[5, 3, 0], [4, 0, 1]])
    _choose(monkeypatch, QMessageBox.ButtonRole.DestructiveRole, [])
    w = MainWindow()
    qtbot.addWidget(w)
    assert not recovery_file().exists()
    assert w.grid_model.to_ratings() == load_example("example-1") and not w.isWindowModified()


def test_an_unreadable_recovery_file_is_explained_and_moved_aside(qtbot, monkeypatch, warnings):
    f = recovery_file()
    f.parent.mkdir(parents=True, exist_ok=True)
    f.write_text("{not json", encoding="utf-8")
    _choose(monkeypatch, QMessageBox.ButtonRole.AcceptRole, [])
    w = MainWindow()
    qtbot.addWidget(w)
    assert warnings and warnings[0][0] == "Could not restore the unsaved work"
    assert not f.exists() and (f.parent / "recovery-unreadable.mfstudio").exists()
    assert w.grid_model.to_ratings() == load_example("example-1")



def test_a_second_unreadable_recovery_file_keeps_the_first_one_set_aside(qtbot, monkeypatch, warnings):
    f = recovery_file()
    f.parent.mkdir(parents=True, exist_ok=True)
    _choose(monkeypatch, QMessageBox.ButtonRole.AcceptRole, [])
    for text in ("{first broken", "{second broken"):
        f.write_text(text, encoding="utf-8")
        w = MainWindow()
        qtbot.addWidget(w)
        w.ask_before_closing = False
        w.close()
    assert len(warnings) == 2 and not f.exists()
    assert (f.parent / "recovery-unreadable.mfstudio").read_text(encoding="utf-8") == "{first broken"
    assert (f.parent / "recovery-unreadable-2.mfstudio").read_text(encoding="utf-8") == "{second broken"


def test_export_into_a_folder_with_a_read_only_result_file_is_refused(window, qtbot, tmp_path, warnings):
    with qtbot.waitSignal(window.trainingFinished, timeout=20_000):
        window.action_train.trigger()
    out = tmp_path / "results"
    assert len(window.export_results(out)) == 9
    os.chmod(out / "P.csv", 0o444)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    assert window.export_results(out) == []
    assert warnings == [("Could not export the results",
                         f"{out / 'P.csv'} is read-only, so nothing was written; "
                         "make it writable or choose another folder.")]
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_save_as_onto_a_read_only_session_file_is_refused(window, tmp_path, monkeypatch, warnings):
    target = tmp_path / "kept.mfstudio"
    target.write_text("the user's own")
    os.chmod(target, 0o444)
    edit(window)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    assert window.document.save_session_as() is False
    assert warnings and warnings[0][0] == "Could not save the session" and "is read-only" in warnings[0][1]
    assert target.read_text() == "the user's own" and window.isWindowModified()
    assert sorted(os.listdir(tmp_path)) == ["kept.mfstudio"]

CRASHING_CHILD = """
import sys, time
from PySide6.QtWidgets import QApplication
app = QApplication([])
from mfstudio.gui import MainWindow
w = MainWindow()
w.show()
m = w.grid_model
m.setData(m.index(1, 2), "2.5")
m.insert_users(4, 1)
m.setData(m.index(4, 0), "1")
print("edited", flush=True)
while not w.autosaver.path.exists():
    app.processEvents()
    time.sleep(0.02)
print("autosaved", flush=True)
while True:  # wait for SIGKILL, as a crash would end it: no close, no clean-up
    app.processEvents()
    time.sleep(0.02)
"""

RESTORING_CHILD = """
import numpy as np
from PySide6.QtWidgets import QApplication, QMessageBox
app = QApplication([])
def restore(box):
    print("offer", box.text())
    next(b for b in box.buttons() if box.buttonRole(b) == QMessageBox.ButtonRole.AcceptRole).click()
    return 0
QMessageBox.exec = restore
from mfstudio.gui import MainWindow
w = MainWindow()
np.save(sys.argv[1], w.grid_model.to_ratings().to_dense())
print("title", w.document_title, w.isWindowModified(), w.session_path)
print("file kept", w.autosaver.path.exists())
"""


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_after_a_sigkill_the_next_window_restores_the_edited_grid(tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen",
               PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    assert env[RECOVERY_DIR_ENV] and env[SETTINGS_FILE_ENV]  # private folders, never the user's
    child = subprocess.Popen([sys.executable, "-c", CRASHING_CHILD], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "edited"
        assert child.stdout.readline().strip() == "autosaved"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(10)
        child.stdout.close()
        child.stderr.close()
    assert child.returncode == -signal.SIGKILL
    assert recovery_file().exists()

    out = tmp_path / "grid.npy"
    proc = subprocess.run([sys.executable, "-c", "import sys\n" + RESTORING_CHILD, str(out)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "offer MF Studio did not close properly" in proc.stdout
    assert "title Recovered session True None" in proc.stdout
    expected = load_example("example-1").to_dense()
    expected[1, 2] = 2.5
    expected = np.vstack([expected, [[1.0, np.nan, np.nan, np.nan]]])
    np.testing.assert_array_equal(np.load(out), expected)
    assert "file kept True" in proc.stdout  # kept until the user saves or discards the restored work


# -- drag and drop, recent files ------------------------------------------------------------------------
def _drop(window: MainWindow, paths: list[Path]) -> tuple[bool, bool]:
    md = QMimeData()
    md.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    enter = QDragEnterEvent(QPoint(50, 50), Qt.DropAction.CopyAction, md, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    window.dragEnterEvent(enter)
    drop = QDropEvent(QPointF(50, 50), Qt.DropAction.CopyAction, md, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    window.dropEvent(drop)
    return enter.isAccepted(), drop.isAccepted()


def test_dropping_a_file_opens_it_like_the_menu(window, answers, tmp_path):
    assert window.acceptDrops()
    f = csv_file(tmp_path)
    assert _drop(window, [f]) == (True, True)
    assert window.grid_model.users == ("ann", "bob") and window.document_title == "few.csv"
    edit(window, 0, 0, "1")
    answers.queue.append(B.Cancel)  # unsaved changes are asked about as with File ▸ Open
    session = tmp_path / "s.mfstudio"
    io.save_session(session, Session(ratings=load_example("example-2")))
    _drop(window, [session])
    assert window.document_title == "few.csv" and window.grid_model.value(0, 0) == 1.0
    answers.queue.append(B.Discard)
    _drop(window, [session])
    assert window.grid_model.to_ratings() == load_example("example-2") and window.session_path == session


def test_dropping_something_that_is_not_a_file_is_refused(window, tmp_path):
    assert _drop(window, [tmp_path / "missing.csv"]) == (False, False)
    assert window.document_title == "Example 1"


def test_recent_files_menu_opens_and_forgets_missing_files(window, tmp_path):
    a, b = csv_file(tmp_path, "a.csv"), csv_file(tmp_path, "b.csv")
    assert window.open_path(a) and window.open_path(b)
    window.recent_menu.aboutToShow.emit()
    entries = [x for x in window.recent_menu.actions() if x.data()]
    assert [Path(x.data()).name for x in entries] == ["b.csv", "a.csv"]
    entries[1].trigger()
    assert window.document_title == "a.csv"
    b.unlink()
    assert window.document.open_recent(str(b)) is False
    assert "no longer" in window.statusBar().currentMessage()
    assert [Path(p).name for p in window.recent.files()] == ["a.csv"]


# -- remembered settings -------------------------------------------------------------------------------
def test_geometry_splitters_folder_solver_and_parameters_are_remembered(qtbot, tmp_path, monkeypatch):
    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    w.resize(790, 590)  # fits the offscreen screen, so restoreGeometry need not shrink it
    w.main_split.setSizes([300, 440])
    box = w.controls.solver_box
    box.setCurrentIndex(box.findData("als"))
    w.controls.param_widgets["K"].setValue(4)
    w.controls.seed.setValue(9)
    w.open_path(csv_file(tmp_path))
    sizes = w.main_split.sizes()
    assert w.close()

    w2 = MainWindow()
    qtbot.addWidget(w2)
    w2.show()
    assert (w2.width(), w2.height()) == (790, 590)
    assert w2.main_split.sizes() == sizes
    assert w2.controls.solver() == "als" and w2.controls.params()["K"] == 4 and w2.controls.params()["seed"] == 9
    assert w2.settings.last_folder() == str(tmp_path)
    seen: dict = {}
    monkeypatch.setattr(QFileDialog, "getOpenFileName",
                        lambda parent, title, folder, *a: (seen.setdefault("dir", folder), "")[1:] * 2)
    w2.document.open_dialog()
    assert seen["dir"] == str(tmp_path)


def test_corrupt_settings_are_ignored(qtbot):
    import json

    from PySide6.QtCore import QSettings

    ini = Path(os.environ[SETTINGS_FILE_ENV])
    q = QSettings(str(ini), QSettings.Format.IniFormat)
    q.setValue("window/geometry", b"garbage\x00\x01")
    q.setValue("window/state", 12)
    q.setValue("splitters/main", "nonsense")
    q.setValue("training/solver", "als")
    q.setValue("training/params/als", json.dumps({"K": "many", "steps": -5, "alpha": 1e300, "beta": 0.5, "x": 1}))
    q.setValue("files/last_folder", "/no/such/folder")
    q.setValue("files/recent", "[not json")
    q.sync()
    del q
    with ini.open("ab") as fh:
        fh.write(b"\n\x00\xff\xfe binary junk\n[broken\n=\n")
    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    from mfstudio.core import get_solver

    defaults = get_solver("als").defaults()
    p = w.controls.params()
    assert w.controls.solver() == "als" and p["K"] == defaults["K"] and p["steps"] == defaults["steps"]
    assert p["beta"] == 0.5
    assert w.recent.files() == [] and w.settings.last_folder() == str(Path.home())
    assert w.grid_model.to_ratings() == load_example("example-1")


def test_an_unknown_solver_in_the_settings_falls_back_to_the_default(qtbot):
    ini = Path(os.environ[SETTINGS_FILE_ENV])
    ini.write_text("[training]\nsolver=quantum\n", encoding="utf-8")
    w = MainWindow()
    qtbot.addWidget(w)
    assert w.controls.solver() == "sgd"


# -- keyboard -------------------------------------------------------------------------------------------
def _menu_actions(menu, path=""):
    for a in menu.actions():
        if a.isSeparator():
            continue
        yield menu, a
        if a.menu() is not None:
            yield from _menu_actions(a.menu())


def test_every_menu_command_is_reachable_by_keyboard(window):
    for top in window.menuBar().actions():
        assert "&" in top.text()
        for _menu, a in _menu_actions(top.menu()):
            if not a.isEnabled() and not a.data() and a.text() == "No recent files":
                continue
            assert "&" in a.text().replace("&&", ""), f"{a.text()!r} has no underlined letter"
    # mnemonics are unique within each menu
    for top in window.menuBar().actions():
        menus = [top.menu()] + [a.menu() for _, a in _menu_actions(top.menu()) if a.menu() is not None]
        for menu in menus:
            letters = []
            for a in menu.actions():
                t = a.text().replace("&&", "")
                if "&" in t and not a.isSeparator():
                    letters.append(t[t.index("&") + 1].lower())
            assert len(letters) == len(set(letters)), f"{menu.title()}: {letters}"


def test_shortcuts_are_standard_unique_and_listed(window, monkeypatch):
    std = QKeySequence.StandardKey  # not K, the number of latent features
    assert window.action_new.shortcut() == QKeySequence(std.New)
    assert window.action_open.shortcut() == QKeySequence(std.Open)
    assert window.action_save.shortcut() == QKeySequence(std.Save)
    assert window.action_save_as.shortcut() == QKeySequence(std.SaveAs)
    assert window.action_quit.shortcut() == (QKeySequence(std.Quit) if not QKeySequence(std.Quit).isEmpty()
                                             else QKeySequence("Ctrl+Q"))
    for a in (window.action_new, window.action_open, window.action_save, window.action_save_as, window.action_quit):
        assert not a.shortcut().isEmpty(), a.text()
    assert window.grid.action_undo.shortcut() == QKeySequence(std.Undo)
    assert window.grid.action_redo.shortcut() == QKeySequence(std.Redo)
    assert window.action_train.shortcut() == QKeySequence("Ctrl+Return")
    rows = window.shortcut_rows()
    keys = [k for _, _, ks in rows for k in ks.split(", ")]
    assert len(keys) == len(set(keys)), sorted(k for k in keys if keys.count(k) > 1)
    assert ("Training", "Train", QKeySequence("Ctrl+Return").toString(QKeySequence.SequenceFormat.NativeText)
            + ", " + QKeySequence("Ctrl+Enter").toString(QKeySequence.SequenceFormat.NativeText)) in rows
    shown: list[str] = []
    monkeypatch.setattr(dialogs.ShortcutsDialog, "exec", lambda self: shown.append(self.text.toPlainText()) or 0)
    window.action_shortcuts.trigger()
    assert "Import ratings…" in shown[0] and "Shift+Enter" in shown[0] and "Ctrl+O" in shown[0]


def test_train_and_stop_from_the_keyboard(window, qtbot, big_ratings):
    window.load_ratings(big_ratings, title="big")
    window.controls.param_widgets["steps"].setValue(1_000_000_000)
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=2000)
    window.focus_grid()
    QTest.keySequence(window.grid, QKeySequence("Ctrl+Return"))
    assert window.running
    qtbot.waitUntil(lambda: window.plot.point_count() > 0, timeout=5000)
    with qtbot.waitSignal(window.trainingFinished, timeout=3000) as blocker:
        QTest.keyClick(window.grid, Qt.Key.Key_Escape)
    assert blocker.args[0] == "cancelled"


def test_tab_order_runs_grid_solver_parameters_seed_holdout_buttons_results(window):
    def order() -> list[str]:
        wanted = {w.objectName() or type(w).__name__ for w in window.tab_chain()}
        seen, w = [], window.grid
        for _ in range(400):
            name = w.objectName() or type(w).__name__
            if name in wanted and name not in seen:
                seen.append(name)
            w = w.nextInFocusChain()
            if w is window.grid:
                break
        return seen

    expected = ["ratingGrid", "solverChooser", "param_K", "param_steps", "param_alpha", "param_beta", "param_tol",
                "param_seed", "holdoutFraction", "relevanceThreshold", "patience", "trainButton", "continueButton",
                "stepButton", "stepRatingButton", "pauseButton", "stopButton", "resetButton", "speedControl",
                "qt_tabwidget_tabbar", "rHatTable", "pTable", "qTable",
                "userBiasTable", "itemBiasTable", "minRatings", "topN", "recommendationsTable"]
    assert order() == expected
    box = window.controls.solver_box
    box.setCurrentIndex(box.findData("als"))  # new parameter boxes join the chain in their place
    from mfstudio.core import get_solver

    als = [f"param_{s.name}" for s in get_solver("als").params if s.name != "seed"]
    assert order() == expected[:2] + als + expected[7:]


def test_tab_leaves_the_grid_after_its_last_cell_and_ctrl_tab_at_once(window, qtbot):
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=2000)
    g, m = window.grid, window.grid_model
    window.focus_grid()
    g.setCurrentIndex(m.index(3, 2))
    QTest.keyClick(g, Qt.Key.Key_Tab)
    assert g.hasFocus() and (g.currentIndex().row(), g.currentIndex().column()) == (3, 3)
    QTest.keyClick(g, Qt.Key.Key_Tab)
    assert window.controls.solver_box.hasFocus()
    window.focus_grid()
    QTest.keyClick(g, Qt.Key.Key_Tab, Qt.KeyboardModifier.ControlModifier)
    assert window.controls.solver_box.hasFocus()


def test_enter_moves_down_in_the_window_grid(window, qtbot):
    g, m = window.grid, window.grid_model
    window.focus_grid()
    g.setCurrentIndex(m.index(0, 1))
    QTest.keyClick(g, Qt.Key.Key_Return)
    assert (g.currentIndex().row(), g.currentIndex().column()) == (1, 1)


def test_a_crashed_second_copy_is_offered_and_adopted(qtbot, monkeypatch):
    session = _leave_recovery_file([[5, 3, 0], [4, 0, 1]])
    other = recovery_file().with_name("recovery-3.mfstudio")  # a slot no running window holds
    os.replace(recovery_file(), other)
    _choose(monkeypatch, QMessageBox.ButtonRole.AcceptRole, [])
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Discard)
    w = MainWindow()
    qtbot.addWidget(w)
    assert w.grid_model.to_ratings() == session.ratings
    assert not other.exists() and w.autosaver.path.exists()  # now this window's, kept until saved


def test_a_running_copys_file_is_not_offered(qtbot, monkeypatch):
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Discard)
    seen: list = []
    _choose(monkeypatch, QMessageBox.ButtonRole.AcceptRole, seen)
    first = MainWindow()
    qtbot.addWidget(first)
    first.grid_model.setData(first.grid_model.index(0, 0), "5")
    assert first.autosaver.save_now()
    second = MainWindow()
    qtbot.addWidget(second)
    assert seen == [] and second.autosaver.path != first.autosaver.path
    assert second.grid_model.to_ratings() == load_example("example-1")
    first.grid_model.undo_stack.setClean()  # closing at teardown asks nothing
