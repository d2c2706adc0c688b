"""What the user is looking at, shared by the views without any view reading another.

``Selection``: the user, item or cell pointed at (on the latent map, in the grid, in P, Q or
R-hat); every view may set it and follow it. ``ShownParts``: which parts of the model predict
in what the views show (the model ladder); it never changes the trained model.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal

from mfstudio.core.ladder import Parts


@dataclass(frozen=True)
class Selected:
    """A user (row), an item (column), both (a cell), or nothing."""

    user: int | None = None
    item: int | None = None

    @property
    def cell(self) -> tuple[int, int] | None:
        return None if self.user is None or self.item is None else (self.user, self.item)


class Selection(QObject):
    """The one current selection; ``changed(Selected)`` when it changes."""

    changed = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._current = Selected()

    @property
    def current(self) -> Selected:
        return self._current

    def select(self, user: int | None = None, item: int | None = None) -> None:
        """Select a user, an item, or the cell (user, item); the same selection again changes nothing."""
        new = Selected(None if user is None else int(user), None if item is None else int(item))
        if new != self._current:
            self._current = new
            self.changed.emit(new)

    def clear(self) -> None:
        self.select()


class ShownParts(QObject):
    """The model ladder's switches; ``changed(Parts)`` when they change."""

    changed = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._parts = Parts()

    @property
    def parts(self) -> Parts:
        return self._parts

    def set_parts(self, parts: Parts) -> None:
        if parts != self._parts:
            self._parts = parts
            self.changed.emit(parts)
