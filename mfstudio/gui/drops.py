"""What is being dragged onto the window: a local file or folder to open, or nothing."""

from __future__ import annotations

import os

from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent


def dropped_path(event: QDragEnterEvent | QDragMoveEvent | QDropEvent) -> str | None:
    """The local file or folder (opened as MovieLens) being dragged, or None."""
    md = event.mimeData()
    if md is None or not md.hasUrls():
        return None
    for url in md.urls():
        if url.isLocalFile() and (os.path.isfile(url.toLocalFile()) or os.path.isdir(url.toLocalFile())):
            return url.toLocalFile()
    return None
