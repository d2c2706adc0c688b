"""The hold-out: a random share of the ratings, drawn from the seed, set aside in the grid for validation.

Changing the share box marks that share of the grid's ratings as held out, as one undo
step that also puts the box back on undo; cells held out by hand stay as they are until
the share changes again. Big data (``busy.BIG_RATINGS``) draws its share on a thread behind the
busy dialog (10 M ratings: half a second); the words on users and items left without a training
rating are counted without splitting the ratings, once per grid.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject, Slot

from mfstudio.core import DataError, Ratings
from mfstudio.gui.busy import BIG_RATINGS, run_busy
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
        self._cold: tuple[Ratings, np.ndarray, str] | None = None  # (ratings, held-out cells, warning())
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
        self.apply(self.document.controls.holdout(), busy=True)

    def show(self, holdout: float) -> None:
        """Show ``holdout`` in the box without drawing a new hold-out (opening, undo and redo use this)."""
        self._showing = True
        try:
            self.document.controls.set_holdout(holdout)
        finally:
            self._showing = False
        self._shown = self.document.controls.holdout()

    def apply(self, holdout: float, *, quiet: bool = False, busy: bool = False) -> None:
        """Mark the share ``holdout`` of the ratings (drawn from the seed) as held out in the grid, as one undo step.
        ``busy``: big data draws it on a thread behind the busy dialog (only where nothing is half done: the
        event loop turns meanwhile)."""
        doc = self.document
        m = doc.grid_model
        ratings = doc.grid_ratings()
        draw = functools.partial(ratings.split, holdout, int(doc.controls.seed.value()))
        try:
            if busy and ratings.nnz >= BIG_RATINGS and not doc.quitting:
                split = run_busy(doc.window, f"Holding out {holdout:.0%} of {ratings.nnz:,} ratings…", draw)
            else:
                split = draw()
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
        """What the hold-out takes whole: users (items) left with no training rating, or "" (worked out once per
        grid: the window asks twice at each change)."""
        doc = self.document
        ratings, cells = doc.grid_ratings(), doc.grid_held_out_cells()
        got = self._cold
        if got is None or got[0] is not ratings or got[1] is not cells:
            got = self._cold = (ratings, cells, cold_words(*cold_counts(ratings, cells, rated=True)))
        return got[2]


def cold_counts(ratings: Ratings, held_out_cells: np.ndarray, *, rated: bool = False) -> tuple[int, int]:
    """How many users and items with ratings have every one of them among ``held_out_cells`` (cells without a
    rating do not count): ``ratings.split_cells(held_out_cells)``'s users and items without training, counted
    without making the split. ``rated``: the cells are known to be distinct rated cells (the grid's held-out
    cells are), so they are counted as they are, not looked up among the ratings (10 M ratings and 1 M cells:
    60 ms, not 0.2 s; the split took 0.6 s)."""
    o = ratings.observed
    cells = ratings.check_cells(held_out_cells)
    if not len(cells) or not len(o):
        return 0, 0
    if rated:
        held_rows, held_cols = cells[:, 0], cells[:, 1]
    else:
        m = max(ratings.n_items, 1)
        key = o.rows * m + o.cols  # sorted and distinct: the entries' order
        want = cells[:, 0] * m + cells[:, 1]
        at = np.minimum(np.searchsorted(key, want), len(key) - 1)
        held = np.zeros(len(key), bool)
        held[at[key[at] == want]] = True  # a cell given twice counts once
        held_rows, held_cols = o.rows[held], o.cols[held]
    out = []
    for side, mine, count in ((o.rows, held_rows, ratings.n_users), (o.cols, held_cols, ratings.n_items)):
        every = np.bincount(side, minlength=count)
        out.append(int(np.count_nonzero((every > 0) & (np.bincount(mine, minlength=count) == every))))
    return out[0], out[1]


def cold_words(nu: int, ni: int) -> str:
    """The words of :meth:`Holdout.warning` for ``nu`` users and ``ni`` items without a training rating."""
    parts = []
    if nu:
        parts.append(f"{nu:,} user{'s have' if nu != 1 else ' has'} every rating held out")
    if ni:
        parts.append(f"{ni:,} item{'s have' if ni != 1 else ' has'} every rating held out")
    if not parts:
        return ""
    return " and ".join(parts) + " (predicted from the mean and the known biases)"
