"""Remembered preferences (QSettings): window geometry, splitters, last folder, solver, recent files.

Every getter tolerates a missing, corrupt or wrong-typed value and falls back to
a default, so a damaged settings file never stops the app from starting.
"""

from __future__ import annotations

import json
import math
import numbers
import os
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QSettings

ORGANIZATION = "MF Studio"
APPLICATION = "mfstudio"
SETTINGS_FILE_ENV = "MFSTUDIO_SETTINGS"


def default_qsettings() -> QSettings:
    """The app's QSettings: an ini file at ``$MFSTUDIO_SETTINGS`` if set (tests use it), else the user's."""
    path = os.environ.get(SETTINGS_FILE_ENV)
    if path:
        return QSettings(path, QSettings.Format.IniFormat)
    return QSettings(ORGANIZATION, APPLICATION)


class Settings:
    """Typed access to the app's QSettings."""

    def __init__(self, qsettings: QSettings | None = None) -> None:
        self.q = qsettings if qsettings is not None else default_qsettings()

    # -- helpers -----------------------------------------------------------------------
    def _bytes(self, key: str) -> QByteArray | None:
        value = self.q.value(key)
        if isinstance(value, QByteArray) and not value.isEmpty():
            return value
        if isinstance(value, (bytes, bytearray)) and value:
            return QByteArray(bytes(value))
        return None

    def _str(self, key: str) -> str | None:
        value = self.q.value(key)
        return value if isinstance(value, str) and value else None

    def sync(self) -> None:
        """Write pending changes to disk."""
        self.q.sync()

    # -- window --------------------------------------------------------------------------
    def geometry(self) -> QByteArray | None:
        """The saved main-window geometry (for ``restoreGeometry``), or None."""
        return self._bytes("window/geometry")

    def set_geometry(self, data: QByteArray) -> None:
        self.q.setValue("window/geometry", data)

    def splitter_state(self, name: str) -> QByteArray | None:
        """The saved state of the splitter called ``name`` (for ``restoreState``), or None."""
        return self._bytes(f"splitters/{name}")

    def set_splitter_state(self, name: str, data: QByteArray) -> None:
        self.q.setValue(f"splitters/{name}", data)

    # -- files ---------------------------------------------------------------------------
    def last_folder(self) -> str:
        """The folder of the last opened/saved file if it still exists, else the home folder."""
        folder = self._str("files/last_folder")
        if folder and os.path.isdir(folder):
            return folder
        return str(Path.home())

    def set_last_folder(self, path: str | os.PathLike[str]) -> None:
        """Remember ``path``'s folder (``path`` may be a file or a folder)."""
        p = Path(path)
        self.q.setValue("files/last_folder", str(p if p.is_dir() else p.parent))

    def recent_files(self) -> list[str]:
        """The stored recent-file paths, newest first (not checked for existence here)."""
        text = self._str("files/recent")
        if text is None:
            return []
        try:
            value = json.loads(text)
        except ValueError:
            return []
        if not isinstance(value, list):
            return []
        return [x for x in value if isinstance(x, str) and x]

    def set_recent_files(self, paths: list[str]) -> None:
        self.q.setValue("files/recent", json.dumps([str(p) for p in paths]))

    # -- training ------------------------------------------------------------------------
    def last_solver(self) -> str | None:
        """The name of the solver used last, or None."""
        return self._str("training/solver")

    def set_last_solver(self, name: str) -> None:
        self.q.setValue("training/solver", str(name))

    def solver_params(self, solver: str) -> dict[str, Any]:
        """The parameters last used with ``solver`` (numbers, booleans, strings, None); {} if unknown."""
        text = self._str(f"training/params/{solver}")
        if text is None:
            return {}
        try:
            value = json.loads(text)
        except ValueError:
            return {}
        if not isinstance(value, dict):
            return {}
        out: dict[str, Any] = {}
        for k, v in value.items():
            if not isinstance(k, str):
                continue
            if isinstance(v, float) and not math.isfinite(v):
                continue
            if v is None or isinstance(v, (bool, int, float, str)):
                out[k] = v
        return out

    def set_solver_params(self, solver: str, params: dict[str, Any]) -> None:
        """Remember ``params`` for ``solver``; values that are not plain numbers/strings are skipped."""
        plain: dict[str, Any] = {}
        for k, v in params.items():
            if isinstance(v, numbers.Integral) and not isinstance(v, bool):
                v = int(v)  # numpy integers too
            elif isinstance(v, numbers.Real) and not isinstance(v, bool):
                v = float(v)
                if not math.isfinite(v):
                    continue
            if v is None or isinstance(v, (bool, int, float, str)):
                plain[str(k)] = v
        self.q.setValue(f"training/params/{solver}", json.dumps(plain))

    # -- exports ---------------------------------------------------------------------------
    def full_precision(self) -> bool:
        """Whether CSV exports write numbers in full (default: 6 significant digits)."""
        return str(self.q.value("export/full_precision", "false")).lower() in ("true", "1")

    def set_full_precision(self, on: bool) -> None:
        self.q.setValue("export/full_precision", "true" if on else "false")
