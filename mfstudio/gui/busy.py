"""Long work the window waits for without freezing: it runs on a thread while a busy dialog (window-modal, so
nothing else can be clicked meanwhile) keeps the event loop turning, repaints and says how long it has taken.

Used to read big rating files (an ML-10M-sized file takes tens of seconds): the window stays responsive and
says what it is doing, instead of freezing silently. The thread is always joined before :func:`run_busy`
returns, so no thread outlives the work.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from PySide6.QtCore import QEventLoop, Qt, QTimer
from PySide6.QtWidgets import QProgressDialog, QWidget

T = TypeVar("T")
BIG_FILE_BYTES = 16 * 10**6  # files (or MovieLens folders) at least this large are read on a thread
BIG_RATINGS = 1_000_000  # data with at least this many ratings is made ready to show on a thread too
POLL_MS = 50


def data_bytes(path: str | os.PathLike[str]) -> int:
    """The size of a file, or of the files directly in a folder (a MovieLens folder); 0 when unknown."""
    p = Path(path)
    try:
        if p.is_dir():
            return sum(f.stat().st_size for f in p.iterdir() if f.is_file())
        return p.stat().st_size
    except OSError:
        return 0


def run_busy(parent: QWidget | None, text: str, work: Callable[[], T]) -> T:
    """``work()`` on a thread while a busy dialog showing ``text`` and the seconds taken keeps the window
    responsive; its result, or the exception it raised."""
    out: dict[str, Any] = {}

    def target() -> None:
        try:
            out["value"] = work()
        except BaseException as exc:  # handed to the caller below, on its own thread
            out["error"] = exc

    thread = threading.Thread(target=target, name="mfstudio-busy", daemon=True)
    dialog = QProgressDialog(text, "", 0, 0, parent)  # 0..0: a busy bar, no percentage to make up
    dialog.setObjectName("busyDialog")
    dialog.setWindowTitle("MF Studio")
    dialog.setCancelButton(None)  # a half-read file is of no use; the read itself cannot be interrupted
    dialog.setWindowModality(Qt.WindowModality.WindowModal)
    dialog.setMinimumDuration(0)
    loop = QEventLoop()
    timer = QTimer()
    timer.setInterval(POLL_MS)
    started = time.monotonic()

    def poll() -> None:
        if not thread.is_alive():
            loop.quit()
            return
        dialog.setLabelText(f"{text} ({time.monotonic() - started:.0f} s)")

    timer.timeout.connect(poll)
    thread.start()
    timer.start()
    dialog.show()
    try:
        if thread.is_alive():
            loop.exec()
    finally:
        timer.stop()
        thread.join()
        dialog.close()
        dialog.deleteLater()
    if "error" in out:
        raise out["error"]
    return out["value"]
