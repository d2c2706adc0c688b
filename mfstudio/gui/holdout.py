"""The hold-out: a random share of the ratings, drawn from the seed, set aside in the grid for validation.

Changing the share box marks that share of the grid's ratings as held out, as one undo
step that also puts the box back on undo; cells held out by hand stay as they are until
the share changes again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject, Slot

from mfstudio.core import DataError
from mfstudio.gui.grid.undo import HoldoutCommand

if TYPE_CHECKING:
    from mfstudio.gui.document import Document


class Holdout(QObject):
    """Follows the controls' hold-out box and applies it to the document's grid."""

    def __init__(self, document: Document) -> None:
        super().__init__(document)
        self.document = document
        self._shown = 0.0
        self._showing = False
        document.controls.holdout_box.valueChanged.connect(self._on_box_changed)
        document.gridChanged.connect(self._on_grid_changed)

    @Slot()
    def _on_grid_changed(self) -> None:
        """Early stopping and the ranking metrics' threshold are on offer while the grid holds ratings out."""
        self.document.controls.set_cells_held_out(len(self.document.grid_held_out_cells()) > 0)

    @Slot()
    def _on_box_changed(self) -> None:
        if self._showing or self.document.experiment.running:
            return
        self.apply(self.document.controls.holdout())

    def show(self, holdout: float) -> None:
        """Show ``holdout`` in the box without drawing a new hold-out (opening, undo and redo use this)."""
        self._showing = True
        try:
            self.document.controls.set_holdout(holdout)
        finally:
            self._showing = False
        self._shown = self.document.controls.holdout()

    def apply(self, holdout: float, *, quiet: bool = False) -> None:
        """Mark the share ``holdout`` of the ratings (drawn from the seed) as held out in the grid, as one undo step."""
        doc = self.document
        m = doc.grid_model
        try:
            split = doc.grid_ratings().split(holdout, int(doc.controls.seed.value()))
        except DataError as exc:
            doc.message(str(exc))
            self.show(self._shown)
            return
        new = np.stack([split.val.rows, split.val.cols], axis=1).astype(np.int64)
        text = f"Hold out {holdout:.0%} of the ratings"
        m.undo_stack.beginMacro(text)
        try:
            m.replace_held_out(new, text)
            m.undo_stack.push(HoldoutCommand(self.show, self._shown, holdout, text))
        finally:
            m.undo_stack.endMacro()
        n = len(new)
        if not quiet:
            cold = self.warning() if n else ""
            doc.message((f"{n:,} rating{'s' if n != 1 else ''} held out for validation (orange in the grid)."
                         + (f" Note: {cold}." if cold else "")) if n else "All ratings are used for training.")

    def warning(self) -> str:
        """What the hold-out takes whole: users (items) left with no training rating, or ""."""
        doc = self.document
        split = doc.grid_ratings().split_cells(doc.grid_held_out_cells())
        nu, ni = len(split.users_without_training), len(split.items_without_training)
        parts = []
        if nu:
            parts.append(f"{nu:,} user{'s have' if nu != 1 else ' has'} every rating held out")
        if ni:
            parts.append(f"{ni:,} item{'s have' if ni != 1 else ' has'} every rating held out")
        if not parts:
            return ""
        return " and ".join(parts) + " (predicted from the mean and the known biases)"
