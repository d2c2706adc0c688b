"""Crash recovery: the autosave timer, the saving thread, the recovery file and finding it at start-up."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from mfstudio.core import Ratings, Session
from mfstudio.gui.recovery import RECOVERY_NAME, Autosaver, default_recovery_folder, live_savers, pending_recovery


def _session() -> Session:
    return Session(ratings=Ratings.from_dense([[5, 3, 0], [4, 0, 1]]), held_out_cells=np.array([[0, 0]]))


class FakeSerialise:
    """Records the sessions it is given (and on which thread); the file then holds b"saved"."""

    def __init__(self) -> None:
        self.calls: list[Session] = []
        self.threads: list[threading.Thread] = []

    def __call__(self, session: Session) -> bytes:
        self.calls.append(session)
        self.threads.append(threading.current_thread())
        return b"saved"


@pytest.fixture
def saver(qapp, tmp_path: Path):
    fake = FakeSerialise()
    a = Autosaver(_session, fake, folder=tmp_path / "recovery", delay_ms=50)
    yield a, fake
    a.stop()
    a.release()
    assert live_savers() == []


def test_saves_once_after_a_burst_of_changes(saver, qtbot) -> None:
    a, fake = saver
    for _ in range(5):
        a.mark_changed()
    assert a.is_pending
    with qtbot.waitSignal(a.saved, timeout=2000) as blocker:
        pass
    assert blocker.args == [str(a.path)]
    qtbot.wait(120)
    assert len(fake.calls) == 1
    assert a.path.name == RECOVERY_NAME and a.path.read_bytes() == b"saved"
    assert not a.is_pending and not a.is_saving


def test_each_change_restarts_the_countdown(saver, qtbot) -> None:
    a, fake = saver
    a.mark_changed()
    qtbot.wait(30)
    a.mark_changed()  # restarts: the save comes 50 ms after this
    qtbot.wait(30)
    assert fake.calls == []
    qtbot.waitUntil(lambda: len(fake.calls) == 1, timeout=2000)


def test_stop_cancels_and_discard_removes_the_file(saver, qtbot) -> None:
    a, fake = saver
    a.mark_changed()
    a.stop()
    assert not a.is_pending
    qtbot.wait(100)
    assert fake.calls == []
    assert a.save_now()
    assert pending_recovery(a.folder, own=a.path) == a.path
    a.mark_changed()
    a.discard()
    assert not a.is_pending
    assert pending_recovery(a.folder, own=a.path) is None
    a.discard()  # nothing to remove: still fine


def test_nothing_to_save_writes_nothing(qapp, tmp_path: Path) -> None:
    fake = FakeSerialise()
    a = Autosaver(lambda: None, fake, folder=tmp_path)
    assert a.save_now() is False
    assert a.save_in_background() is False and not a.is_saving
    assert fake.calls == []
    a.release()


def test_a_failed_save_says_so_in_a_sentence(qapp, qtbot, tmp_path: Path) -> None:
    def broken(path: Path, data: bytes) -> None:
        raise PermissionError(13, "Permission denied", str(path))

    a = Autosaver(_session, FakeSerialise(), folder=tmp_path, write=broken)
    with qtbot.waitSignal(a.failed, timeout=1000) as blocker:
        assert a.save_now() is False
    assert "Permission denied" in blocker.args[0] and "save it yourself" in blocker.args[0]
    with qtbot.waitSignal(a.failed, timeout=2000) as blocker:  # the same from the saving thread
        assert a.save_in_background()
    assert "Permission denied" in blocker.args[0]
    a.release()


def test_real_session_file_round_trips(qapp, tmp_path: Path) -> None:
    io = pytest.importorskip("mfstudio.io")
    a = Autosaver(_session, folder=tmp_path / "deep" / "recovery")
    assert a.save_now()
    assert pending_recovery(tmp_path / "deep" / "recovery") is None  # its window is still running
    a.release()
    found = pending_recovery(tmp_path / "deep" / "recovery")
    assert found == a.path
    session, _warnings = io.load_session(found)
    assert session.ratings == _session().ratings
    assert session.held_out_cells.tolist() == [[0, 0]]


def test_pending_recovery_ignores_missing_and_empty_files(tmp_path: Path) -> None:
    assert pending_recovery(tmp_path) is None
    (tmp_path / RECOVERY_NAME).write_bytes(b"")
    assert pending_recovery(tmp_path) is None
    assert pending_recovery(tmp_path / "no such folder") is None


def test_default_folder_is_under_app_data(qapp) -> None:
    assert default_recovery_folder().name == "recovery"


def test_two_running_copies_keep_separate_recovery_files(qapp, tmp_path: Path) -> None:
    first = Autosaver(_session, folder=tmp_path)
    second = Autosaver(_session, folder=tmp_path)
    assert first.path != second.path
    assert first.save_now() and second.save_now()
    # neither is offered to a third start while both run
    third = Autosaver(_session, folder=tmp_path)
    assert pending_recovery(tmp_path, own=third.path) is None
    second.discard()  # a clean exit of one copy leaves the other's file alone
    second.release()
    assert first.path.exists()
    first.release()  # as if the first copy had crashed: its lock is free, its file is offered
    assert pending_recovery(tmp_path, own=third.path) == first.path
    third.release()


# -- the saving thread -----------------------------------------------------------------------------
def test_the_snapshot_is_taken_on_the_gui_thread_and_written_on_another(saver, qtbot) -> None:
    a, fake = saver
    taken_on: list[threading.Thread] = []
    built_on: list[threading.Thread] = []

    def snapshot():
        taken_on.append(threading.current_thread())

        def build() -> Session:
            built_on.append(threading.current_thread())
            return _session()
        return build

    a._get_session = snapshot
    with qtbot.waitSignal(a.saved, timeout=2000):
        a.mark_changed()
    assert taken_on == [threading.main_thread()]
    assert built_on == fake.threads and fake.threads[0] is not threading.main_thread()
    assert fake.threads[0].name == "mfstudio-autosave" and not fake.threads[0].is_alive()
    assert 0 <= a.snapshot_seconds < 0.05


class Gate:
    """A serialiser that waits until the test opens the gate; counts how many run at once."""

    def __init__(self) -> None:
        self.open = threading.Event()
        self.entered = threading.Event()
        self.sessions: list[Session] = []
        self.at_once = 0
        self.most_at_once = 0
        self._lock = threading.Lock()

    def __call__(self, session: Session) -> bytes:
        with self._lock:
            self.at_once += 1
            self.most_at_once = max(self.most_at_once, self.at_once)
        self.entered.set()
        assert self.open.wait(10)
        with self._lock:
            self.at_once -= 1
        self.sessions.append(session)
        return f"saved {len(self.sessions)}".encode()


def test_one_save_at_a_time_and_a_change_meanwhile_is_saved_after(qapp, qtbot, tmp_path: Path) -> None:
    gate = Gate()
    version = [1]
    a = Autosaver(lambda: Session(ratings=Ratings.from_dense([[version[0]]])), gate, folder=tmp_path, delay_ms=10)
    saved: list[str] = []
    a.saved.connect(saved.append)
    assert a.save_in_background()
    assert gate.entered.wait(5) and a.is_saving
    version[0] = 2
    a.mark_changed()  # while the first is being written
    qtbot.wait(100)
    assert len(gate.sessions) == 0 and gate.most_at_once == 1
    gate.open.set()
    qtbot.waitUntil(lambda: len(saved) == 2, timeout=5000)
    assert gate.most_at_once == 1
    # the second took a fresh snapshot
    assert [s.ratings.observed.vals.tolist() for s in gate.sessions] == [[1.0], [2.0]]
    assert a.path.read_bytes() == b"saved 2"
    a.release()
    assert live_savers() == []


def test_stop_and_discard_during_a_save_mean_nothing_is_written(qapp, qtbot, tmp_path: Path) -> None:
    for cancel in ("stop", "discard"):
        gate = Gate()
        a = Autosaver(_session, gate, folder=tmp_path / cancel)
        outcomes: list[str] = []
        a.saved.connect(outcomes.append)
        a.failed.connect(outcomes.append)
        assert a.save_in_background() and gate.entered.wait(5)
        getattr(a, cancel)()  # e.g. the user saved, or a restored file was just adopted into this slot
        gate.open.set()
        assert a.wait(5)
        qtbot.wait(20)
        assert not a.path.exists() and outcomes == [], cancel
        a.release()


def test_release_waits_for_the_save_being_written(qapp, tmp_path: Path) -> None:
    gate = Gate()
    a = Autosaver(_session, gate, folder=tmp_path)
    assert a.save_in_background() and gate.entered.wait(5)
    threading.Timer(0.2, gate.open.set).start()
    a.release()  # as closing does
    assert live_savers() == [] and not a.is_saving
    assert a.path.read_bytes() == b"saved 1"


def test_save_now_finishes_the_save_in_flight_then_writes_the_latest(qapp, qtbot, tmp_path: Path) -> None:
    gate = Gate()
    version = [1]
    a = Autosaver(lambda: Session(ratings=Ratings.from_dense([[version[0]]])), gate, folder=tmp_path)
    assert a.save_in_background() and gate.entered.wait(5)
    version[0] = 3
    a.mark_changed()
    threading.Timer(0.2, gate.open.set).start()
    assert a.save_now()
    assert a.path.read_bytes() == b"saved 2" and gate.sessions[-1].ratings.observed.vals.tolist() == [3.0]
    assert not a.is_saving and not a.is_pending and live_savers() == []
    a.release()


def _unencodable(session: Session) -> bytes:
    """What writing a session raised for a label like 'caf\udce9'. Ratings now refuse such labels
    (every reader does), so the failure is injected as the serialiser."""
    return "caf\udce9".encode("utf-8")


@pytest.mark.parametrize("where", ["snapshot", "build", "serialise", "write"])
def test_any_error_in_the_autosave_becomes_a_sentence_never_a_traceback(qapp, qtbot, tmp_path, capfd, where) -> None:
    """Not only OSError: a ValueError, a bug, a label that cannot be encoded... reach the status bar."""

    def boom(*args):
        raise ValueError("something odd")

    snapshot = boom if where == "snapshot" else (lambda: boom) if where == "build" else _session
    a = Autosaver(snapshot, boom if where == "serialise" else None, folder=tmp_path,
                  write=boom if where == "write" else None)
    for save in (a.save_in_background, a.save_now):
        with qtbot.waitSignal(a.failed, timeout=3000) as blocker:
            save()
        text = blocker.args[0]
        assert text.startswith(f"Could not write the recovery file {a.path} "
                               "(an unexpected error: ValueError: something odd)")
        assert text.endswith("your work is not protected against a crash, so save it yourself.")
    a.release()
    assert "Traceback" not in capfd.readouterr().err


def test_a_label_that_cannot_be_encoded_says_which_character(qapp, qtbot, tmp_path, capfd) -> None:
    a = Autosaver(_session, _unencodable, folder=tmp_path, delay_ms=10)
    with qtbot.waitSignal(a.failed, timeout=5000) as blocker:
        a.mark_changed()
    assert "a user or item name holds the character '\\udce9', which cannot be written as UTF-8" in blocker.args[0]
    assert "rename that user or item, then save your work" in blocker.args[0]
    assert not a.path.exists()
    a.release()
    assert "Traceback" not in capfd.readouterr().err


def test_a_late_report_of_an_earlier_save_does_not_wait_for_the_next(qapp, tmp_path: Path) -> None:
    a = Autosaver(_session, FakeSerialise(), folder=tmp_path)
    assert a.save_in_background()
    earlier = a._thread
    assert a.wait(10)  # collected here; its queued report is still to come
    gate = Gate()
    a._serialise = gate
    assert a.save_in_background() and gate.entered.wait(5)
    a._collect(earlier)  # the late report: must return at once, not join the save in flight
    assert a.is_saving
    gate.open.set()
    a.release()


def test_the_saving_thread_writes_at_rest_and_the_window_at_once(monkeypatch):
    import threading

    from mfstudio.core import Ratings
    from mfstudio.core.session import Session
    from mfstudio.gui import recovery
    from mfstudio.io import session_write

    rests: list[float] = []
    monkeypatch.setattr(session_write, "session_to_bytes", lambda session, rest=0.0: rests.append(rest) or b"")
    monkeypatch.setattr("mfstudio.io.session_to_bytes", session_write.session_to_bytes)
    s = Session(ratings=Ratings.from_dense([[1, 2], [3, 4]]))
    recovery._default_serialise(s)
    t = threading.Thread(target=recovery._default_serialise, args=(s,))
    t.start()
    t.join(10)
    assert rests == [0.0, recovery.AUTOSAVE_REST] and recovery.AUTOSAVE_REST >= 1
