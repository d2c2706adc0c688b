"""Counts/events vs ratings in the window: File ▸ Open counts or events…, and the solver that goes with the kind.

When the grid panel's "Counts" switch says the values are counts of events, the solver is switched to
``implicit-als`` unless an implicit-feedback solver is chosen already (core.defaults.solver_for, the rule data
opened as counts also follows), and the status bar says why; switching back to ratings leaves the solver as it is.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Slot
from PySide6.QtWidgets import QFileDialog

from mfstudio.core import defaults
from mfstudio.gui.document import Document

SWITCHED = ("These are counts of events, so the solver is now implicit-als: every empty cell counts as \"not "
            "chosen\", and the held-out interactions are judged by ranking (precision, recall, NDCG, MAP, MPR).")


class DataKind(QObject):
    """Follows the grid's kind (``kindChanged``) for the controls; opens files as counts."""

    def __init__(self, document: Document) -> None:
        super().__init__(document)
        self.document = document
        document.grid_model.kindChanged.connect(self._on_kind)

    @Slot(bool)
    def _on_kind(self, implicit: bool) -> None:
        controls = self.document.controls
        solver = defaults.solver_for(controls.solver(), implicit)
        if solver != controls.solver() and not self.document.experiment.running:
            controls.set_solver(solver, controls.remembered(solver))
            self.document.message(SWITCHED, 20_000)

    @Slot()
    def open_dialog(self) -> bool:
        """File ▸ Open counts or events…: a file of (user, item, count) triples or (user, item) events, a
        MovieLens file or folder (each rating one interaction)."""
        from mfstudio import io

        path, _ = QFileDialog.getOpenFileName(self.document.window, "Open counts or events",
                                              self.document.start_folder(), ";;".join(io.FILE_FILTERS))
        return bool(path) and self.document.open_file(path, implicit=True)
