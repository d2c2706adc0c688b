"""Crash recovery: write the session to a recovery file shortly after each change.

The window calls ``Autosaver.mark_changed()`` on every edit; about two seconds
after the last change the current session is written (atomically, by the io
layer) to ``<AppDataLocation>/recovery/recovery.mfstudio``.  A clean exit calls
``discard()``.  At start-up ``pending_recovery()`` finds a file left by a crash.

Each running window owns a slot, held by a lock file (QLockFile: a lock whose process
has died counts as free): the first takes ``recovery.mfstudio``, a second copy of MF
Studio running at the same time ``recovery-1.mfstudio``, and so on. So two copies never
overwrite or delete each other's recovery file, and a start-up offers only files whose
owner is gone.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QLockFile, QObject, QStandardPaths, QTimer, Signal, Slot

from mfstudio.core.errors import MFStudioError
from mfstudio.core.session import Session

RECOVERY_NAME = "recovery.mfstudio"
MAX_SLOTS = 32
DELAY_MS = 2000

SaveFunction = Callable[[Path, Session], None]


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


def _default_save(path: Path, session: Session) -> None:
    from mfstudio.io import save_session

    save_session(path, session)


class Autosaver(QObject):
    """Writes a recovery file ``delay_ms`` after the last ``mark_changed()``."""

    saved = Signal(str)  # the recovery file's path
    failed = Signal(str)  # one sentence saying what went wrong

    def __init__(
        self,
        get_session: Callable[[], Session | None],
        save: SaveFunction | None = None,
        folder: str | os.PathLike[str] | None = None,
        delay_ms: int = DELAY_MS,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._get_session = get_session
        self._save = save if save is not None else _default_save
        self.folder = Path(folder) if folder is not None else default_recovery_folder()
        self._timer = QTimer(self)
        self._timer.setObjectName("mfstudioAutosaveTimer")
        self._timer.setSingleShot(True)
        self._timer.setInterval(int(delay_ms))
        self._timer.timeout.connect(self.save_now)
        self._warned = False
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
        """Give the slot back (a clean exit, after ``discard()``)."""
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

    @Slot()
    def mark_changed(self) -> None:
        """The session changed: (re)start the countdown to the next save."""
        self._timer.start()

    @Slot()
    def save_now(self) -> bool:
        """Write the recovery file now; returns False (and emits ``failed``) if it could not."""
        self._timer.stop()
        try:
            session = self._get_session()
            if session is None:
                return False
            self.folder.mkdir(parents=True, exist_ok=True)
            self._save(self.path, session)
        except (OSError, MFStudioError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            self.failed.emit(
                f"Could not write the recovery file {self.path} ({reason}); your work is not protected against a crash, "
                "so save it yourself."
            )
            return False
        self.saved.emit(str(self.path))
        return True

    @Slot()
    def stop(self) -> None:
        """Cancel a scheduled save (the timer stops; nothing is written)."""
        self._timer.stop()

    @Slot()
    def discard(self) -> None:
        """Cancel any scheduled save and remove the recovery file (after a save or a clean exit)."""
        self._timer.stop()
        try:
            self.path.unlink(missing_ok=True)
        except OSError:
            pass  # a leftover file is offered at the next start, which is harmless
