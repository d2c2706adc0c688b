"""The person being added ("Add me"), shared so that views follow them without reading the panel.

``Newcomer`` holds one :class:`Person` (their name, their folded-in factor vector p of length K
and their bias, None for a model without biases) or nothing; ``changed(Person | None)`` when it
changes. The Add me panel sets it; the latent map draws the person's point from it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QObject, Signal


@dataclass(frozen=True, eq=False)
class Person:
    """A newcomer's name and their row of the model: factors ``p`` (K,) and bias (None without biases)."""

    name: str
    p: np.ndarray
    bias: float | None = None

    def same_as(self, other: Person | None) -> bool:
        """True when ``other`` has the same name, vector and bias."""
        return other is not None and self.name == other.name and self.bias == other.bias and \
            self.p.shape == other.p.shape and bool(np.array_equal(self.p, other.p))


class Newcomer(QObject):
    """The one person being added, or nobody; ``changed(Person | None)`` when that changes."""

    changed = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._person: Person | None = None

    @property
    def person(self) -> Person | None:
        return self._person

    def set_person(self, name: str, p: np.ndarray, bias: float | None = None) -> None:
        """The person is ``name`` with factors ``p`` (copied, read-only) and ``bias``; the same again changes
        nothing."""
        vec = np.array(p, dtype=np.float64).reshape(-1)
        vec.setflags(write=False)
        new = Person(str(name), vec, None if bias is None else float(bias))
        if not new.same_as(self._person):
            self._person = new
            self.changed.emit(new)

    def clear(self) -> None:
        """Nobody is being added."""
        if self._person is not None:
            self._person = None
            self.changed.emit(None)
