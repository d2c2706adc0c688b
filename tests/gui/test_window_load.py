"""Loading is all or nothing: a file that fails anywhere leaves the window exactly as it was."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtWidgets import QMessageBox

from mfstudio import io as mio
from mfstudio.core import Factors, History, Ratings, RunResult, Session
from mfstudio.gui.experiment import Experiment
from tests.gui.test_window import train


@pytest.fixture
def warnings(monkeypatch):
    seen: list[tuple[str, str]] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda parent, title, text, *a, **k: seen.append((title, text)))
    return seen


def _state(w):
    return (w.grid_ratings(), w.document_title, w.session_path, w.is_modified(), w.controls.solver(),
            None if w.result is None else w.result.factors.P.copy())


def _same(a, b):
    assert a[0] == b[0] and a[1:5] == b[1:5]
    assert (a[5] is None and b[5] is None) or np.array_equal(a[5], b[5])


def _bad_session(kind: str) -> Session:
    r = Ratings.from_dense([[5, 3, 0], [4, 0, 1], [1, 1, 5]])
    f = Factors(np.ones((3, 2)), np.ones((2, 3)))
    hist = History.from_array(np.array([[1, 2.0, 1.0, 1.0, np.nan, np.nan, 0.1]]))
    if kind == "user bias only":
        f = Factors(np.ones((3, 2)), np.ones((2, 3)), np.zeros(3), None, 3.0)
    elif kind == "nan step":
        hist = History.from_array(np.array([[np.nan, 2.0, 1.0, 1.0, np.nan, np.nan, 0.1]]))
    res = RunResult("biased-sgd" if kind == "user bias only" else "sgd", {}, f, hist, 1)
    return Session(ratings=r, result=res)


@pytest.mark.parametrize("kind", ["user bias only", "nan step"])
def test_a_half_valid_session_changes_nothing_and_save_keeps_the_old_file(qtbot, window, warnings, tmp_path, kind):
    a = tmp_path / "a.mfstudio"
    assert window.document.save_to(a)
    before_bytes = a.read_bytes()
    before = _state(window)
    from mfstudio.core import MFStudioError

    with pytest.raises(MFStudioError) as e:
        window.load_session(_bad_session(kind), path=tmp_path / "b.mfstudio")
    assert "Traceback" not in str(e.value)
    _same(_state(window), before)
    assert window.session_path == a
    assert window.save_session()  # Ctrl+S writes the same document to the same file
    assert mio.load(a).session.ratings == before[0]
    assert before_bytes


def test_opening_a_half_valid_session_file_is_one_sentence_and_nothing_changes(qtbot, window, warnings, tmp_path,
                                                                                monkeypatch):
    train(qtbot, window)
    before = _state(window)
    bad = tmp_path / "b.mfstudio"
    bad.write_bytes(mio.session_to_bytes(Session(ratings=Ratings.from_dense([[1, 2], [3, 4]]))))
    # the file is fine for the reader; showing it fails halfway (after the grid changed): the old document comes back
    bad.write_bytes(mio.session_to_bytes(_good_session_with_results()))
    real = Experiment.show_loaded
    calls = []

    def flaky(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise TypeError("unsupported operand type(s) for +: 'NoneType' and 'float'")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Experiment, "show_loaded", flaky)
    assert window.open_path(bad) is False
    assert warnings and warnings[-1][0] == "Could not open the file" and "window is as it was" in warnings[-1][1]
    s = _state(window)
    assert s[0] == before[0] and s[1] == before[1] and s[2] == before[2] and s[3] is True
    np.testing.assert_array_equal(s[5], before[5])


def _good_session_with_results() -> Session:
    from mfstudio.core import Training

    r = Ratings.from_dense([[1, 2], [3, 4]])
    t = Training(r, "sgd", {"steps": 5})
    t.run_to_end()
    return Session(ratings=r, result=RunResult("sgd", dict(t.params), t.factors.copy(), t.history, t.step))


def test_a_restore_that_cannot_be_shown_keeps_the_recovery_file(qtbot, window, warnings, tmp_path, monkeypatch):
    path = tmp_path / "lost-work.mfstudio"
    path.write_bytes(mio.session_to_bytes(_good_session_with_results()))
    monkeypatch.setattr(QMessageBox, "exec", lambda self: 0)
    monkeypatch.setattr(QMessageBox, "clickedButton", lambda self: None)  # not Discard: Restore
    monkeypatch.setattr(Experiment, "show_loaded",
                        lambda self, *a, **k: (_ for _ in ()).throw(TypeError("unsupported operand")))
    assert window.document.offer_recovery(path) is False
    assert path.exists()  # not adopted, so closing the window cannot discard it
    assert warnings and "kept in" in warnings[-1][1]


def test_an_import_that_fails_halfway_leaves_the_grid_and_its_undo_history(qtbot, window, warnings, tmp_path,
                                                                           monkeypatch):
    p = tmp_path / "r.csv"
    p.write_text("user,item,rating\na,x,5\nb,y,4\n")
    before = window.grid_ratings()
    steps = window.grid_model.undo_stack.count()
    real = window.grid_model.set_ratings

    def boom(*a, **k):
        raise MemoryError("Unable to allocate 1.49 GiB")

    monkeypatch.setattr(window.grid_model, "set_ratings", boom)
    assert window.import_path(p) is False
    monkeypatch.setattr(window.grid_model, "set_ratings", real)
    assert window.grid_ratings() == before
    assert window.grid_model.undo_stack.index() <= steps
    assert warnings and warnings[-1][0] == "Could not import the file" and "the grid is as it was" in warnings[-1][1]


def test_data_too_large_for_the_grid_is_refused_before_anything_changes(qtbot, window, warnings, tmp_path, monkeypatch):
    from mfstudio.core import memory

    p = tmp_path / "r.csv"
    p.write_text("user,item,rating\na,x,5\nb,y,4\n")
    monkeypatch.setattr(memory, "available_bytes", lambda: 10)
    before = _state(window)
    assert window.open_path(p) is False and window.import_path(p) is False
    _same(_state(window), before)
    assert "in the grid needs about" in warnings[-1][1]


def test_a_trained_sessions_patience_and_hold_out_are_kept_when_saved_from_the_window(window, tmp_path):
    from mfstudio.cli import main

    src = tmp_path / "r.csv"
    src.write_text("u,a,b,c\nx,1,2,3\ny,3,,4\nz,5,1,2\nw,2,2,\n")
    assert main(["train", str(src), "--steps", "5", "--holdout", "0.3", "--patience", "3", "--quiet",
                 "--out", str(tmp_path / "o")]) == 0
    assert window.open_path(tmp_path / "o" / "session.mfstudio")
    assert (window.controls.patience(), window.controls.holdout()) == (3, 0.3)
    assert window.controls.patience_box.isEnabled()  # the session holds ratings out: early stopping is on offer
    again = window.current_session()
    assert (again.patience, again.holdout, len(again.held_out_cells)) == (3, 0.3, 3)
    mio.save_session(tmp_path / "again.mfstudio", again)
    assert mio.load_session(tmp_path / "again.mfstudio")[0].patience == 3


def test_top_n_goes_with_the_session_like_the_other_run_parameters(window, tmp_path):
    from mfstudio.cli import main

    src = tmp_path / "r.csv"
    src.write_text("u,a,b,c\nx,1,2,3\ny,3,,4\nz,5,1,2\nw,2,2,\n")
    assert main(["train", str(src), "--steps", "5", "--top", "2", "--quiet", "--out", str(tmp_path / "o")]) == 0
    assert window.open_path(tmp_path / "o" / "session.mfstudio")
    assert window.top_n.value() == 2 and window.experiment.top_n == 2
    window.top_n.setValue(3)
    assert window.current_session().top_n == 3
    assert window.open_path(src)  # a rating file holds no top-N: the window's stays
    assert window.top_n.value() == 3
