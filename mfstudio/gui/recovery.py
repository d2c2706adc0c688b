"""Crash recovery: write the session to a recovery file shortly after each change.

The window calls ``Autosaver.mark_changed()`` on every edit; about two seconds
after the last change the current session is written (atomically, by the io
layer) to ``<AppDataLocation>/recovery/recovery.mfstudio``.  A clean exit calls
``discard()``.  At start-up ``pending_recovery()`` finds a file left by a crash.

Only the snapshot is taken on the GUI thread (cheap: the window hands over its cached,
immutable Ratings and copies of what can change); turning it into a Session, the bytes
and the file happen on a saving thread, one save at a time, and the outcome comes back
to the GUI thread as ``saved`` or ``failed`` (a sentence, whatever went wrong).

Each running window owns a slot, held by a lock file (QLockFile: a lock whose process
has died counts as free): the first takes ``recovery.mfstudio``, a second copy of MF
Studio running at the same time ``recovery-1.mfstudio``, and so on. So two copies never
overwrite or delete each other's recovery file, and a start-up offers only files whose
owner is gone.
"""

from __future__ import annotations

import os
import threading
import time
import weakref
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QLockFile, QObject, QStandardPaths, Qt, QTimer, Signal, Slot

from mfstudio.core import priority
from mfstudio.core.errors import MFStudioError
from mfstudio.core.session import Session

RECOVERY_NAME = "recovery.mfstudio"
MAX_SLOTS = 32
DELAY_MS = 2000
AUTOSAVE_REST = 3.0  # the saving thread sleeps 3x as long as it held the GIL: the window gets at least 3/4 of it

# What the window hands over on the GUI thread: a Session, or a function that builds one (called on the
# saving thread, so building it costs the window nothing), or None when there is nothing to save.
Snapshot = Session | Callable[[], Session] | None
Serialise = Callable[[Session], bytes]
Write = Callable[[Path, bytes], None]

# Every saving thread started here, so tests can prove none is left running.
_SAVERS: weakref.WeakSet[threading.Thread] = weakref.WeakSet()


def live_savers() -> list[threading.Thread]:
    """The saving threads started here that are still running."""
    return [t for t in list(_SAVERS) if t.is_alive()]


RECOVERY_DIR_ENV = "MFSTUDIO_RECOVERY_DIR"


def default_recovery_folder() -> Path:
    """``$MFSTUDIO_RECOVERY_DIR`` if set (tests use it), else ``<AppDataLocation>/recovery`` (may not exist yet)."""
    override = os.environ.get(RECOVERY_DIR_ENV)
    if override:
        return Path(override)
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(base) / "recovery"


def slot_path(folder: Path, slot: int, suffix: str = ".mfstudio") -> Path:
    """The recovery file (or, with suffix ".lock", the lock) of a slot."""
    return folder / (f"recovery{suffix}" if slot == 0 else f"recovery-{slot}{suffix}")


def _lock(folder: Path, slot: int) -> QLockFile:
    lock = QLockFile(str(slot_path(folder, slot, ".lock")))
    lock.setStaleLockTime(0)  # stale only when its process is gone, however old
    return lock


def pending_recovery(folder: str | os.PathLike[str] | None = None, own: Path | None = None) -> Path | None:
    """A recovery file left in ``folder`` by a window that is gone (its own slot's, ``own``, first).

    Files of windows still running (their slot is locked by a live process) are not offered.
    """
    d = Path(folder if folder is not None else default_recovery_folder())
    candidates = [own] if own is not None else []
    candidates += [slot_path(d, n) for n in range(MAX_SLOTS) if slot_path(d, n) != own]
    for path in candidates:
        try:
            if not (path.is_file() and path.stat().st_size > 0):
                continue
        except OSError:
            continue
        if path == own:
            return path
        n = 0 if path.name == RECOVERY_NAME else int(path.stem.rsplit("-", 1)[1])
        probe = _lock(d, n)
        if probe.tryLock(0):  # nobody holds it: its window crashed
            probe.unlock()
            return path
    return None


def _default_serialise(session: Session) -> bytes:
    """The session's bytes; on the saving thread written at rest (see AUTOSAVE_REST), on the window's at once."""
    from mfstudio.io import session_to_bytes

    on_window = threading.current_thread() is threading.main_thread()
    return session_to_bytes(session, 0.0 if on_window else AUTOSAVE_REST)


def _default_write(path: Path, data: bytes) -> None:
    from mfstudio.io import atomic_write

    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, data)


def failure_reason(exc: BaseException) -> str:
    """What went wrong while writing a session, in words (for "Could not write ... (reason)")."""
    if isinstance(exc, UnicodeEncodeError):
        bad = exc.object[exc.start:exc.end] if isinstance(exc.object, str) else ""
        return f"a user or item name holds the character {bad!r}, which cannot be written as UTF-8"
    if isinstance(exc, OSError):
        return exc.strerror or str(exc) or type(exc).__name__
    if isinstance(exc, MFStudioError):
        return str(exc).rstrip(".")
    if isinstance(exc, MemoryError):
        return "there is not enough memory"
    return f"an unexpected error: {type(exc).__name__}: {exc}".rstrip(": ")


class Autosaver(QObject):
    """Writes a recovery file ``delay_ms`` after the last ``mark_changed()``, on a saving thread.

    ``get_session`` runs on the GUI thread and must be cheap (see :data:`Snapshot`);
    ``snapshot_seconds`` says how long the last one took. ``serialise`` and ``write``
    (tests replace them) run on the saving thread. ``save_now()`` saves on the calling
    thread instead, for quitting, where the file must be complete before the process ends.
    """

    saved = Signal(str)  # the recovery file's path
    failed = Signal(str)  # one sentence saying what went wrong
    _thread_done = Signal(object)  # from the saving thread (the thread itself), queued to the GUI thread

    def __init__(
        self,
        get_session: Callable[[], Snapshot],
        serialise: Serialise | None = None,
        folder: str | os.PathLike[str] | None = None,
        delay_ms: int = DELAY_MS,
        parent: QObject | None = None,
        *,
        write: Write | None = None,
    ) -> None:
        super().__init__(parent)
        self._get_session = get_session
        self._serialise = serialise if serialise is not None else _default_serialise
        self._write = write if write is not None else _default_write
        self.folder = Path(folder) if folder is not None else default_recovery_folder()
        self._timer = QTimer(self)
        self._timer.setObjectName("mfstudioAutosaveTimer")
        self._timer.setSingleShot(True)
        self._timer.setInterval(int(delay_ms))
        self._timer.timeout.connect(self.save_in_background)
        self._thread: threading.Thread | None = None
        self._outcome: tuple[bool, str] | None = None  # (saved, path or sentence), set by the saving thread
        self._again = False  # a change came while a save was being written: save once more after it
        # stop() and discard() bump the generation; a save started before that never writes (checked under the lock)
        self._write_lock = threading.Lock()
        self._generation = 0
        self.snapshot_seconds = 0.0
        self._thread_done.connect(self._collect, Qt.ConnectionType.QueuedConnection)
        self.slot, self._lock = self._take_slot()
    def _take_slot(self) -> tuple[int, QLockFile | None]:
        """The first slot no running window holds (0 when the folder cannot be used: saving will say so)."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError:
            return 0, None
        for n in range(MAX_SLOTS):
            lock = _lock(self.folder, n)
            if lock.tryLock(0):
                return n, lock
        return 0, None

    def release(self) -> None:
        """Give the slot back (a clean exit, after ``discard()``); waits for a save being written first."""
        self.wait()
        if self._lock is not None:
            self._lock.unlock()
            self._lock = None

    @property
    def path(self) -> Path:
        """Where the recovery file is written."""
        return slot_path(self.folder, self.slot)

    @property
    def is_pending(self) -> bool:
        """True while a save is scheduled."""
        return self._timer.isActive()

    @property
    def is_saving(self) -> bool:
        """True while a save is being written on the saving thread."""
        return self._thread is not None

    @Slot()
    def mark_changed(self) -> None:
        """The session changed: (re)start the countdown to the next save."""
        self._timer.start()

    def _snapshot(self) -> Snapshot:
        t0 = time.perf_counter()
        try:
            return self._get_session()
        finally:
            self.snapshot_seconds = time.perf_counter() - t0

    def _fail(self, exc: BaseException) -> None:
        self.failed.emit(self._sentence(exc))

    def _sentence(self, exc: BaseException) -> str:
        advice = ("rename that user or item, then save your work" if isinstance(exc, UnicodeEncodeError)
                  else "so save it yourself")
        return (f"Could not write the recovery file {self.path} ({failure_reason(exc)}); your work is not protected "
                f"against a crash, {advice}.")

    @Slot()
    def save_in_background(self) -> bool:
        """Take a snapshot now and write it on the saving thread; False (and ``failed``) if the snapshot failed.

        While a save is being written, the next one waits for it (and then takes a fresh snapshot).
        """
        self._timer.stop()
        if self._thread is not None:
            self._again = True
            return True
        try:
            snapshot = self._snapshot()
        except Exception as exc:  # whatever went wrong, the user hears of it
            self._fail(exc)
            return False
        if snapshot is None:
            return False
        generation = self._generation
        thread = threading.Thread(target=self._save_on_thread, args=(snapshot, generation),
                                  name="mfstudio-autosave", daemon=False)
        self._thread = thread
        self._outcome = None
        _SAVERS.add(thread)
        thread.start()
        return True

    def _write_unless_cancelled(self, data: bytes, generation: int) -> bool:
        with self._write_lock:
            if generation != self._generation:
                return False
            self._write(self.path, data)
            return True

    def _save_on_thread(self, snapshot: Snapshot, generation: int) -> None:
        """The saving thread: build, serialise and write; the outcome goes back to the GUI thread."""
        outcome: tuple[bool, str] | None
        priority.lower_this_thread()
        try:
            session = snapshot() if callable(snapshot) else snapshot
            data = self._serialise(session)
            outcome = (True, str(self.path)) if self._write_unless_cancelled(data, generation) else None
        except Exception as exc:  # never a traceback on stderr or a silent thread: a sentence for the status bar
            outcome = (False, self._sentence(exc))
        self._outcome = outcome
        try:
            self._thread_done.emit(threading.current_thread())
        except RuntimeError:  # the Autosaver is gone (its window was deleted without closing): nobody to tell
            pass

    @Slot(object)
    def _collect(self, thread: threading.Thread | None = None, follow_up: bool = True) -> None:
        """The saving thread ended (or is about to): report its outcome, then the save that waited for it."""
        if self._thread is None or (thread is not None and thread is not self._thread):
            return  # already collected by wait(), or a late report of an earlier save
        self._thread.join()
        self._thread = None
        outcome, self._outcome = self._outcome, None
        if outcome is not None:
            ok, text = outcome
            (self.saved if ok else self.failed).emit(text)
        if self._again:
            self._again = False
            if follow_up:
                self.save_in_background()
            else:
                self._timer.start()  # still saved, after the usual delay

    def wait(self, timeout_s: float | None = None) -> bool:
        """Wait for a save being written and report it; True when none is left (closing waits like this)."""
        thread = self._thread
        if thread is None:
            return True
        thread.join(timeout_s)
        if thread.is_alive():
            return False
        self._collect(thread, follow_up=False)
        return True

    @Slot()
    def save_now(self) -> bool:
        """Write the recovery file now, on this thread; returns False (and emits ``failed``) if it could not.

        A save being written on the saving thread is finished first; a change that was waiting for
        it is included in this one.
        """
        self.wait()
        self._timer.stop()
        self._again = False
        try:
            snapshot = self._snapshot()
            if snapshot is None:
                return False
            session = snapshot() if callable(snapshot) else snapshot
            self._write(self.path, self._serialise(session))
        except Exception as exc:  # whatever went wrong, the user hears of it
            self._fail(exc)
            return False
        self.saved.emit(str(self.path))
        return True

    def _cancel(self) -> None:
        """No save started so far writes anything any more (the caller holds the write lock)."""
        self._generation += 1
        self._again = False

    @Slot()
    def stop(self) -> None:
        """Cancel a scheduled save, and the write of one being prepared: nothing more is written."""
        self._timer.stop()
        with self._write_lock:
            self._cancel()

    @Slot()
    def discard(self) -> None:
        """Cancel any save (scheduled or being prepared) and remove the recovery file (after a save or a clean exit)."""
        self._timer.stop()
        with self._write_lock:
            self._cancel()
            try:
                self.path.unlink(missing_ok=True)
            except OSError:
                pass  # a leftover file is offered at the next start, which is harmless
