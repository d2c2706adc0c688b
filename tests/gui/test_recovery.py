"""Crash recovery: the autosave timer, the recovery file and finding it at start-up."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mfstudio.core import Ratings, Session
from mfstudio.gui.recovery import RECOVERY_NAME, Autosaver, default_recovery_folder, pending_recovery


def _session() -> Session:
    return Session(ratings=Ratings.from_dense([[5, 3, 0], [4, 0, 1]]), held_out=np.array([[0, 0]]))


class FakeSave:
    def __init__(self) -> None:
        self.calls: list[tuple[Path, Session]] = []

    def __call__(self, path: Path, session: Session) -> None:
        self.calls.append((path, session))
        path.write_text("saved")


@pytest.fixture
def saver(qapp, tmp_path: Path):
    fake = FakeSave()
    a = Autosaver(_session, save=fake, folder=tmp_path / "recovery", delay_ms=50)
    yield a, fake
    a.stop()


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
    assert fake.calls[0][0].name == RECOVERY_NAME
    assert not a.is_pending


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
    fake = FakeSave()
    a = Autosaver(lambda: None, save=fake, folder=tmp_path)
    assert a.save_now() is False
    assert fake.calls == []


def test_a_failed_save_says_so_in_a_sentence(qapp, qtbot, tmp_path: Path) -> None:
    def broken(path: Path, session: Session) -> None:
        raise PermissionError(13, "Permission denied", str(path))

    a = Autosaver(_session, save=broken, folder=tmp_path)
    with qtbot.waitSignal(a.failed, timeout=1000) as blocker:
        assert a.save_now() is False
    assert "Permission denied" in blocker.args[0] and "save it yourself" in blocker.args[0]


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
    assert session.held_out.tolist() == [[0, 0]]


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
