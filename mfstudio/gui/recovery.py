"""Crash recovery: write the session to a recovery file shortly after each change.

The window calls ``Autosaver.mark_changed()`` on every edit; about two seconds
after the last change the current session is written (atomically, by the io
layer) to ``<AppDataLocation>/recovery/recovery.mfstudio``.  A clean exit calls
``discard()``.  At start-up ``pending_recovery()`` finds a file left by a crash.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QObject, QStandardPaths, QTimer, Signal, Slot

from mfstudio.core.errors import MFStudioError
from mfstudio.core.session import Session

RECOVERY_NAME = "recovery.mfstudio"
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


def pending_recovery(folder: str | os.PathLike[str] | None = None) -> Path | None:
    """The recovery file left in ``folder`` (default: the app's), or None if there is none."""
    path = Path(folder if folder is not None else default_recovery_folder()) / RECOVERY_NAME
    try:
        return path if path.is_file() and path.stat().st_size > 0 else None
    except OSError:
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

    @property
    def path(self) -> Path:
        """Where the recovery file is written."""
        return self.folder / RECOVERY_NAME

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
