"""Guard against the PySide6 6.12.0 / CPython 3.11 reference leak that aborts the app.

That release drops a reference to ``True`` per signal emit and to ``None`` per
``processEvents()``; after a few thousand events the interpreter frees a
singleton and aborts.  Python >= 3.12 makes those objects immortal (their counts
are huge and fixed), so the test only bites where the bug can bite.
"""

from __future__ import annotations

import sys

import pytest
from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import QApplication

N = 20_000
MARGIN = 100


class _Emitter(QObject):
    fired = Signal(bool)


class _Receiver(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    @Slot(bool)
    def on_fired(self, flag: bool) -> None:
        if flag:
            self.count += 1


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="None and True are immortal on Python 3.12+: "
                    "their reference counts cannot fall, so the leak cannot be seen (nor hurt)")
def test_signals_and_event_processing_keep_none_and_true_alive(qapp) -> None:
    emitter, receiver = _Emitter(), _Receiver()
    emitter.fired.connect(receiver.on_fired)
    before_true = sys.getrefcount(True)
    before_none = sys.getrefcount(None)
    for _ in range(N):
        emitter.fired.emit(True)
    for _ in range(N):
        QApplication.processEvents()
    after_true = sys.getrefcount(True)
    after_none = sys.getrefcount(None)
    emitter.fired.disconnect(receiver.on_fired)
    assert receiver.count == N
    assert after_true > before_true - MARGIN, (
        f"sys.getrefcount(True) fell from {before_true} to {after_true} over {N} signal emits: "
        "this PySide6 build leaks references (6.12.0 on CPython 3.11); install PySide6-Essentials < 6.12."
    )
    assert after_none > before_none - MARGIN, (
        f"sys.getrefcount(None) fell from {before_none} to {after_none} over {N} processEvents() calls: "
        "this PySide6 build leaks references (6.12.0 on CPython 3.11); install PySide6-Essentials < 6.12."
    )
