"""The desktop GUI (PySide6): main window, rating grid, controls, plots.

``MainWindow`` is imported lazily, so ``import mfstudio.gui`` stays cheap and
``mfstudio.gui.app.run`` can import PySide6 before matplotlib's Qt backend.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mfstudio.gui.window import MainWindow

__all__ = ["MainWindow"]


def __getattr__(name: str) -> Any:
    if name == "MainWindow":
        from mfstudio.gui.window import MainWindow

        return MainWindow
    raise AttributeError(f"module 'mfstudio.gui' has no attribute {name!r}")
