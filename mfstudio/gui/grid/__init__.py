"""The rating grid: its state, undo commands, table model and view.

``state`` is plain data with no Qt (``import mfstudio.gui.grid.state`` does not load
PySide6); ``undo`` holds the reversible ops over that state and the undo commands made
of them; ``model`` is the Qt table model that applies them; ``view`` the spreadsheet-like
table.  The names below are imported lazily, on first use, so importing the package (or
``state`` alone) stays free of Qt.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mfstudio.gui.grid.model import (
        HELD_OUT_COLOR,
        LOCKED_MESSAGE,
        OUT_OF_SCALE_COLOR,
        ZERO_CLEARS,
        RatingsTableModel,
    )
    from mfstudio.gui.grid.state import ITEMS, USERS, GridState
    from mfstudio.gui.grid.view import RatingGridView

_WHERE = {
    "GridState": "state",
    "USERS": "state",
    "ITEMS": "state",
    "RatingsTableModel": "model",
    "LOCKED_MESSAGE": "model",
    "HELD_OUT_COLOR": "model",
    "OUT_OF_SCALE_COLOR": "model",
    "ZERO_CLEARS": "model",
    "RatingGridView": "view",
}

__all__ = [
    "HELD_OUT_COLOR", "ITEMS", "LOCKED_MESSAGE", "OUT_OF_SCALE_COLOR", "USERS", "ZERO_CLEARS",
    "GridState", "RatingGridView", "RatingsTableModel",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'mfstudio.gui.grid' has no attribute {name!r}")
    return getattr(importlib.import_module(f"mfstudio.gui.grid.{module}"), name)
