"""The document: title, file and unsaved changes; opening all or nothing, importing as one undo step, saving
a file that reopens equal; the Save / Discard / Cancel question, crash recovery, closing, drag and drop, the
"0 means not rated" rule for files read, and the grid's Ratings cached per change.

Most tests build a Document on a bare widget (``make_desk``), without the main window."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from mfstudio import io
from mfstudio.core import DataError, MFStudioError, ParameterError, Ratings, Session, load_example
from mfstudio.gui.controls import ControlPanel
from mfstudio.gui.document import RECOVERED_TITLE, UNTITLED, Document
from mfstudio.gui.experiment import Experiment, RunEnd, RunRequest
from mfstudio.gui.grid import LOCKED_MESSAGE
from mfstudio.gui.settings import Settings
from tests.gui.conftest import synthetic_ratings

B = QMessageBox.StandardButton


# -- a document without the main window ------------------------------------------------------------
@dataclass
class Desk:
    """A Document on a bare widget, with the control panel, experiment and settings it needs."""

    host: QWidget
    controls: ControlPanel
    experiment: Experiment
    settings: Settings
    document: Document
    messages: list[str]

    @property
    def grid_model(self):
        return self.document.grid_model

    def edit(self, r: int = 0, c: int = 0, value: str = "1") -> None:
        m = self.grid_model
        assert m.setData(m.index(r, c), value)

    def train(self, qtbot, solver: str = "sgd", steps: int = 40, **params) -> RunEnd:
        doc = self.document
        req = RunRequest.make(doc.grid_ratings(), doc.grid_held_out_cells(), solver, {"steps": steps, **params},
                              data_version=doc.data_version)
        with qtbot.waitSignal(self.experiment.finished, timeout=20_000) as blocker:
            self.experiment.train(req)
        return blocker.args[0]

    def close(self) -> None:
        self.experiment.shutdown()
        self.document.close_cleanly()


def make_desk(qtbot) -> Desk:
    """A Document showing Example 1, as a window starts (call ``close()`` at the end)."""
    host = QWidget()
    qtbot.addWidget(host)
    controls, experiment, settings = ControlPanel(host), Experiment(host), Settings()
    doc = Document(host, controls, experiment, settings, None)
    messages: list[str] = []
    doc.statusMessage.connect(lambda text, ms: messages.append(text))
    doc.start(load_example("example-1"), None)
    return Desk(host, controls, experiment, settings, doc, messages)


@pytest.fixture
def desk(qtbot):
    d = make_desk(qtbot)
    yield d
    d.close()


@pytest.fixture
def warnings(monkeypatch):
    seen: list[tuple[str, str]] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda parent, title, text, *a, **k: seen.append((title, text)))
    return seen


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


def csv_file(tmp_path: Path, name: str = "few.csv") -> Path:
    f = tmp_path / name
    f.write_text("user,item,rating\nann,film a,4\nann,film b,2\nbob,film a,5\n", encoding="utf-8")
    return f


def save_dialog(monkeypatch, path: Path | None) -> list[str]:
    """The save dialog answers ``path`` (None: cancelled); returns the suggested names."""
    suggested: list[str] = []

    def dialog(parent, caption, suggestion, *a, **k):
        suggested.append(suggestion)
        return ("" if path is None else str(path)), ""

    monkeypatch.setattr(QFileDialog, "getSaveFileName", dialog)
    return suggested


def state(d: Desk) -> tuple:
    doc = d.document
    res = d.experiment.result
    return (doc.grid_ratings(), doc.title, doc.path, doc.is_modified(), d.controls.solver(),
            None if res is None else res.factors.P.copy())


# -- title, path, unsaved changes ---------------------------------------------------------------------
def test_the_first_document_is_example_1_untitled_and_clean(desk):
    doc = desk.document
    assert doc.title == "Example 1" and doc.path is None and not doc.is_modified()
    assert doc.grid_ratings() == load_example("example-1") and desk.grid_model.undo_stack.count() == 0


def test_the_title_and_the_path_follow_what_was_opened(qtbot, desk, tmp_path):
    doc = desk.document
    f = csv_file(tmp_path)
    with qtbot.waitSignal(doc.titleChanged) as blocker:
        assert doc.open_path(f)
    assert blocker.args == ["few.csv"] and doc.title == "few.csv" and doc.path == f
    assert desk.messages[-1] == "Opened few.csv."
    doc.open_example("example-2")
    assert doc.title == "Example 2" and doc.path is None
    doc.new_grid(3, 2)
    assert doc.title == UNTITLED and doc.path is None and desk.grid_model.shape == (3, 2)
    assert doc.grid_ratings().nnz == 0


def test_an_edit_is_unsaved_until_undone(qtbot, desk):
    doc = desk.document
    with qtbot.waitSignal(doc.modifiedChanged, check_params_cb=lambda modified: modified):
        desk.edit()
    assert doc.is_modified()
    with qtbot.waitSignal(doc.modifiedChanged, check_params_cb=lambda modified: not modified):
        desk.grid_model.undo_stack.undo()
    assert not doc.is_modified()


def test_the_window_title_marks_unsaved_changes(window, tmp_path):
    doc = window.document
    assert window.windowTitle() == "Example 1[*] — MF Studio" and not window.isWindowModified()
    m = window.grid_model
    m.setData(m.index(0, 0), "2")
    assert window.isWindowModified()
    assert doc.save_to(tmp_path / "s.mfstudio")
    assert window.windowTitle() == "s.mfstudio[*] — MF Studio" and not window.isWindowModified()


# -- opening is all or nothing -----------------------------------------------------------------------
def test_a_session_that_does_not_fit_is_refused_before_anything_changes(desk):
    before = state(desk)
    with pytest.raises(ParameterError):
        desk.document.load_session(Session(ratings=load_example("example-2"), params={"K": 0}), title="bad")
    assert state(desk)[:5] == before[:5]


def test_a_session_that_fails_halfway_puts_the_previous_document_back(qtbot, desk, tmp_path, monkeypatch):
    doc = desk.document
    assert doc.save_to(tmp_path / "mine.mfstudio")
    desk.edit(0, 0, "2")
    desk.train(qtbot, steps=30)
    before = state(desk)
    assert before[3] and before[5] is not None
    real = desk.experiment.clear
    grids: list[Ratings] = []

    def flaky() -> None:  # showing the new session fails after its grid went in
        grids.append(doc.grid_ratings())
        if len(grids) == 1:
            raise TypeError("unsupported operand type(s)")
        real()

    monkeypatch.setattr(desk.experiment, "clear", flaky)
    with pytest.raises(DataError, match="the window is as it was"):
        doc.load_session(Session(ratings=load_example("movie-night")), title="Movie night")
    assert grids[0] == load_example("movie-night")  # the failure came with the new grid shown
    after = state(desk)
    assert after[0] == before[0] and after[1:5] == ("mine.mfstudio", tmp_path / "mine.mfstudio", True, "sgd")
    np.testing.assert_array_equal(after[5], before[5])  # the results are back too
    assert desk.experiment.result_for(doc.grid_ratings()) is not None


def test_a_loaded_session_is_the_clean_baseline_with_its_settings(desk):
    doc = desk.document
    desk.edit()
    r = load_example("example-2")
    doc.load_session(Session(ratings=r, solver="als", params={"K": 3, "steps": 7}, patience=4), title="Two")
    assert doc.grid_ratings() == r and doc.title == "Two"
    assert not doc.is_modified() and desk.grid_model.undo_stack.count() == 0
    assert desk.controls.solver() == "als" and desk.controls.params()["K"] == 3
    assert desk.controls.patience() == 4


def test_opening_an_unreadable_file_says_so_and_keeps_the_document(desk, warnings, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("this is not,a rating\ntable at all,really\n", encoding="utf-8")
    before = state(desk)
    assert desk.document.open_path(bad) is False
    assert warnings and warnings[-1][0] == "Could not open the file"
    assert state(desk)[:5] == before[:5]


def test_a_recent_file_that_has_gone_is_dropped_from_the_list(desk, tmp_path):
    doc = desk.document
    f = csv_file(tmp_path)
    assert doc.open_path(f) and str(f.resolve()) in [str(Path(p).resolve()) for p in doc.recent.files()]
    f.unlink()
    assert doc.open_recent(str(f)) is False
    assert str(f.resolve()) not in [str(Path(p).resolve()) for p in doc.recent.files()]
    assert "is no longer at" in desk.messages[-1]


# -- importing -----------------------------------------------------------------------------------------
def test_import_is_one_undo_step_and_keeps_the_documents_name(desk, tmp_path):
    doc, m = desk.document, desk.grid_model
    assert doc.save_to(tmp_path / "mine.mfstudio")
    before = doc.grid_ratings()
    version = doc.data_version
    assert doc.import_path(csv_file(tmp_path))
    assert doc.grid_ratings().users == ("ann", "bob") and doc.grid_ratings().nnz == 3
    assert doc.title == "mine.mfstudio" and doc.path == tmp_path / "mine.mfstudio" and doc.is_modified()
    assert m.undo_stack.count() == 1 and m.undo_stack.undoText() == "Import few.csv"
    assert doc.data_version > version
    assert desk.messages[-1].startswith("Imported 3 ratings from few.csv; ")
    m.undo_stack.undo()
    assert doc.grid_ratings() == before and not doc.is_modified()


def test_import_draws_the_boxes_hold_out_share_in_the_same_step(desk, tmp_path):
    doc, m = desk.document, desk.grid_model
    f = tmp_path / "many.csv"
    f.write_text("user,item,rating\n" + "".join(f"u{i},i{j},{1 + (i + j) % 5}\n" for i in range(5) for j in range(4)),
                 encoding="utf-8")
    desk.controls.holdout_box.setValue(25)
    count = m.undo_stack.count()
    assert doc.import_path(f)
    assert m.undo_stack.count() == count + 1 and len(doc.grid_held_out_cells()) == 5
    m.undo_stack.undo()
    assert doc.grid_ratings() == load_example("example-1")


def test_importing_a_file_that_lists_0_switches_the_rule_off_in_the_same_step(desk, tmp_path):
    doc, m = desk.document, desk.grid_model
    f = tmp_path / "zeros.csv"
    f.write_text("user,item,rating\na,x,0\na,y,3\nb,x,4\n", encoding="utf-8")
    assert m.zeros_are_missing
    assert doc.import_path(f)
    assert not m.zeros_are_missing and doc.grid_ratings().to_dense()[0, 0] == 0
    assert "switched off" in desk.messages[-1] and m.undo_stack.count() == 1
    m.undo_stack.undo()
    assert m.zeros_are_missing and doc.grid_ratings() == load_example("example-1")


def test_import_into_a_locked_grid_is_refused(desk, tmp_path):
    desk.grid_model.set_read_only(True)
    assert desk.document.import_path(csv_file(tmp_path)) is False
    assert desk.document.grid_ratings() == load_example("example-1")
    assert desk.messages[-1] == LOCKED_MESSAGE


# -- saving -----------------------------------------------------------------------------------------------
def test_save_writes_a_file_that_reopens_equal(qtbot, desk, tmp_path, monkeypatch):
    doc = desk.document
    desk.controls.set_params({"K": 3})
    desk.edit(0, 0, "1")
    end = desk.train(qtbot, K=3, steps=30)
    suggested = save_dialog(monkeypatch, tmp_path / "mine")
    assert doc.save_session()
    saved = tmp_path / "mine.mfstudio"
    assert suggested[0].endswith("Example 1.mfstudio")
    assert saved.is_file() and doc.path == saved and doc.title == "mine.mfstudio" and not doc.is_modified()
    assert desk.messages[-1] == f"Saved the session to {saved}."
    grid = doc.grid_ratings()
    doc.open_example("example-2")
    assert doc.open_path(saved)
    assert doc.grid_ratings() == grid and doc.title == "mine.mfstudio" and not doc.is_modified()
    assert desk.controls.params()["K"] == 3
    np.testing.assert_array_equal(desk.experiment.result.factors.P, end.shown.result.factors.P)


def test_save_again_writes_the_same_file_without_asking(desk, tmp_path):
    doc = desk.document
    assert doc.save_to(tmp_path / "mine.mfstudio")
    desk.edit(1, 1, "3")
    assert doc.save_session()  # a dialog would fail the test (conftest)
    assert io.load(tmp_path / "mine.mfstudio").session.ratings == doc.grid_ratings()


def test_save_of_an_opened_rating_file_asks_for_a_session_name_and_leaves_the_file(desk, tmp_path, monkeypatch):
    doc = desk.document
    f = csv_file(tmp_path)
    text = f.read_text(encoding="utf-8")
    assert doc.open_path(f)
    suggested = save_dialog(monkeypatch, None)
    assert doc.save_session() is False
    assert suggested and suggested[0].endswith("few.mfstudio")
    assert f.read_text(encoding="utf-8") == text and doc.path == f


def test_a_save_that_fails_keeps_the_work_unsaved(desk, warnings, tmp_path):
    doc = desk.document
    desk.edit()
    folder = tmp_path / "a-folder.mfstudio"
    folder.mkdir()
    assert doc.save_to(folder) is False
    assert warnings and warnings[-1][0] == "Could not save the session"
    assert doc.is_modified() and doc.path is None and doc.title == "Example 1"


# -- Save / Discard / Cancel ------------------------------------------------------------------------------
def test_nothing_unsaved_asks_nothing(desk):
    assert desk.document.maybe_save("opening a file")  # a question would fail the test (conftest)


def test_cancel_keeps_the_work_and_says_what_was_asked(desk, answers):
    desk.edit()
    answers.queue.append(B.Cancel)
    assert desk.document.maybe_save("opening few.csv") is False
    assert answers.asked == [("Unsaved changes", "Example 1 has changes that are not saved. Save them before "
                                                 "opening few.csv?")]
    assert desk.document.is_modified()


def test_discard_goes_on_without_saving(desk, answers, tmp_path):
    desk.edit()
    answers.queue.append(B.Discard)
    assert desk.document.open_file(csv_file(tmp_path))
    assert desk.document.title == "few.csv" and not desk.document.is_modified()
    assert list(tmp_path.glob("*.mfstudio")) == []


def test_save_saves_then_goes_on_and_a_cancelled_save_dialog_stops(desk, answers, tmp_path, monkeypatch):
    doc = desk.document
    desk.edit()
    answers.queue.append(B.Save)
    save_dialog(monkeypatch, None)
    assert doc.maybe_save("closing") is False and doc.is_modified()
    answers.queue.append(B.Save)
    save_dialog(monkeypatch, tmp_path / "kept.mfstudio")
    assert doc.maybe_save("closing") and not doc.is_modified()
    assert io.load(tmp_path / "kept.mfstudio").session.ratings == doc.grid_ratings()


def test_the_question_says_a_running_training_will_be_stopped(qtbot, desk, answers):
    desk.edit()
    doc = desk.document
    req = RunRequest.make(synthetic_ratings(), np.zeros((0, 2), np.int64), "sgd", {"steps": 1_000_000_000})
    desk.experiment.train(req)
    answers.queue.append(B.Cancel)
    assert doc.maybe_save("closing") is False
    assert answers.asked[-1][1].endswith(" The training run will be stopped.")
    with qtbot.waitSignal(desk.experiment.finished, timeout=10_000):
        desk.experiment.stop()


# -- closing -----------------------------------------------------------------------------------------------
def test_may_close_asks_only_about_unsaved_work(desk, answers):
    doc = desk.document
    assert doc.may_close()  # nothing unsaved, nothing running: no question
    desk.edit()
    answers.queue.append(B.Cancel)
    assert doc.may_close() is False
    assert doc.may_close(ask=False)  # scripts and tests: no question
    assert len(answers.asked) == 1


def test_may_close_while_training_asks_and_no_keeps_it_running(qtbot, desk, answers):
    doc, ex = desk.document, desk.experiment
    ex.train(RunRequest.make(synthetic_ratings(), np.zeros((0, 2), np.int64), "sgd", {"steps": 1_000_000_000}))
    answers.queue.append(B.No)
    assert doc.may_close() is False and ex.running
    assert answers.asked[-1] == ("Training is running", "A training run is going. Stop it and close MF Studio?")
    answers.queue.append(B.Yes)
    assert doc.may_close() and not ex.running


def test_a_clean_close_leaves_no_recovery_file(desk):
    doc = desk.document
    desk.edit()
    assert doc.autosaver.save_now() and doc.autosaver.path.is_file()
    doc.close_cleanly()
    assert not doc.autosaver.path.exists()


def test_keep_work_writes_the_recovery_file_only_when_something_is_unsaved(desk):
    doc = desk.document
    path = doc.autosaver.path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"left over")
    assert doc.keep_work(5_000) and not path.exists()  # nothing unsaved: nothing to keep
    desk.edit(0, 0, "1")
    assert doc.keep_work(5_000) and path.is_file()
    assert io.load(path).session.ratings == doc.grid_ratings()
    assert not doc.autosaver.is_pending


def test_after_keep_work_a_warning_goes_to_stderr_not_a_dialog(desk, capsys):
    desk.document.keep_work(5_000)
    desk.document.warn("Could not save", "The disk is full.")  # a dialog would fail the test (conftest)
    assert "Could not save: The disk is full." in capsys.readouterr().err


# -- crash recovery ---------------------------------------------------------------------------------------
def offered(monkeypatch, button_text: str) -> None:
    """The recovery offer is answered by clicking the button labelled ``button_text``."""
    monkeypatch.setattr(QMessageBox, "exec", lambda self: 0)
    monkeypatch.setattr(QMessageBox, "clickedButton",
                        lambda self: next(b for b in self.buttons() if b.text() == button_text))


def lost_work(tmp_path: Path) -> tuple[Path, Ratings]:
    r = Ratings.from_dense([[1, 2, 0], [3, 0, 4]])
    path = tmp_path / "lost.mfstudio"
    io.save_session(path, Session(ratings=r))
    return path, r


def test_restore_opens_the_work_untitled_unsaved_and_adopts_the_file(desk, tmp_path, monkeypatch):
    doc = desk.document
    path, r = lost_work(tmp_path)
    offered(monkeypatch, "&Restore")
    assert doc.offer_recovery(path)
    assert doc.grid_ratings() == r and doc.title == RECOVERED_TITLE and doc.path is None and doc.is_modified()
    assert not path.exists() and doc.autosaver.path.is_file()  # the window's own recovery file now
    assert desk.messages[-1] == "Restored the work that was not saved; save it to keep it."


def test_discard_deletes_the_recovery_file_and_keeps_the_document(desk, tmp_path, monkeypatch):
    doc = desk.document
    path, _r = lost_work(tmp_path)
    offered(monkeypatch, "&Discard")
    assert doc.offer_recovery(path) is False
    assert not path.exists() and doc.title == "Example 1" and doc.grid_ratings() == load_example("example-1")
    assert desk.messages[-1] == "The unsaved work from last time was discarded."


# -- the zero rule of files read --------------------------------------------------------------------------
def test_zero_rule_for_switches_the_rule_off_for_a_file_that_lists_0(desk):
    doc = desk.document
    with_zero = Ratings([0, 1], [0, 1], [0.0, 4.0], (2, 2), scale=(0, 5))
    notices: list[str] = []
    assert doc.zero_rule_for(with_zero, notices, True) is False
    assert notices == ["This file lists 0 as a rating, so \"0 means not rated\" was switched off for it."]
    notices = []
    assert doc.zero_rule_for(load_example("example-1"), notices, True) is True and notices == []
    assert doc.zero_rule_for(with_zero, notices, False) is False and notices == []


def test_zero_rule_for_follows_the_grids_rule_by_default(desk):
    doc = desk.document
    plain = load_example("example-1")
    assert doc.zero_rule_for(plain, []) is desk.grid_model.zeros_are_missing
    desk.grid_model.set_zeros_are_missing(not desk.grid_model.zeros_are_missing)
    assert doc.zero_rule_for(plain, []) is desk.grid_model.zeros_are_missing


# -- the grid as Ratings ----------------------------------------------------------------------------------
def test_grid_ratings_are_made_once_per_change_of_the_grid(desk):
    doc = desk.document
    first = doc.grid_ratings()
    assert doc.grid_ratings() is first
    version = doc.data_version
    desk.edit(0, 0, "3")
    assert doc.data_version == version + 1
    second = doc.grid_ratings()
    assert second is not first and second.to_dense()[0, 0] == 3 and doc.grid_ratings() is second
    desk.grid_model.rename_user(0, "Ann")
    assert doc.grid_ratings().users[0] == "Ann"
    desk.grid_model.set_held_out([(0, 0)], True)
    assert [tuple(c) for c in doc.grid_held_out_cells()] == [(0, 0)]


def test_a_grid_change_makes_the_results_stale_and_keeps_them_out_of_the_session(qtbot, desk):
    doc = desk.document
    desk.train(qtbot, steps=20)
    assert doc.current_session().result is not None
    with qtbot.waitSignal(doc.gridChanged):
        desk.edit(0, 0, "3")
    assert desk.experiment.results_stale and doc.current_session().result is None


def test_a_session_snapshot_is_taken_now_and_built_later(qtbot, desk):
    doc = desk.document
    make = doc.session_snapshot()
    desk.edit(0, 0, "3")
    assert make().ratings == load_example("example-1")  # what was on screen when it was taken
    assert doc.session_snapshot()().ratings.to_dense()[0, 0] == 3


def test_errors_are_sentences(desk):
    with pytest.raises(MFStudioError) as e:
        desk.document.load_session(Session(ratings=load_example("example-1"), solver="no-such-solver"))
    assert "Traceback" not in str(e.value) and str(e.value).endswith(".")


def test_big_data_is_made_ready_on_a_thread_and_shows_as_small_data_does(qtbot, desk, monkeypatch):
    import threading

    import mfstudio.gui.document as document
    import mfstudio.gui.prepare as prepare

    r = load_example("example-2")
    cells = np.array([[0, 0], [1, 2], [3, 3]], np.int64)
    session = Session(ratings=r, held_out_cells=cells)
    desk.document.load_session(session, title="small")
    small = (desk.document.grid_ratings(), desk.document.grid_held_out_cells().tolist(), state(desk)[:5])
    threads: list[str] = []
    real = prepare.BuiltGrid.of

    def of(*args, **kw):
        threads.append(threading.current_thread().name)
        return real(*args, **kw)

    monkeypatch.setattr(prepare.BuiltGrid, "of", of)
    monkeypatch.setattr(document, "BIG_RATINGS", r.nnz)  # as big as big data
    desk.document.load_session(session, title="big")
    assert threads == ["mfstudio-busy"]  # the grid was made on the busy thread
    assert desk.document.grid_ratings() == small[0] == r
    assert desk.document.grid_held_out_cells().tolist() == small[1]
    big = state(desk)[:5]
    assert big[1] == "big" and big[2:] == small[2][2:]
    assert desk.document.grid_model.undo_stack.count() == 0
    desk.edit(0, 1, "2")  # and it edits as any grid does
    assert desk.document.grid_ratings().to_dense()[0, 1] == 2
