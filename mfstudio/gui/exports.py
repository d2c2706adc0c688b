"""File ▸ Export: the shown results into a folder, or one table as CSV."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Slot
from PySide6.QtWidgets import QFileDialog, QMessageBox

from mfstudio.core import MFStudioError, Session, Training
from mfstudio.gui.document import Document
from mfstudio.gui.experiment import Experiment

TABLES = (("P", "&P as CSV…"), ("Q", "&Q as CSV…"), ("R_hat", "R-&hat as CSV…"),
          ("user_bias", "&User biases as CSV…"), ("item_bias", "I&tem biases as CSV…"),
          ("recommendations", "Re&commendations as CSV…"), ("history", "Training histor&y as CSV…"),
          ("ratings", "Ratin&gs R as CSV…"))


SCRIPT_FILTER = "Python script (*.py)"


class Exporter(QObject):
    """Writes what the experiment shows (and the document's ratings) to files the user picks."""

    def __init__(self, document: Document, experiment: Experiment) -> None:
        super().__init__(document)
        self.document, self.experiment = document, experiment

    def _need_result(self) -> bool:
        if self.experiment.shown is None:
            self.document.warn("Nothing to export yet", "There are no results yet; press Train first.")
            return False
        return True

    @Slot()
    def export_results_dialog(self) -> None:
        """Ask for a folder and write the whole result set there."""
        if not self._need_result():
            return
        folder = QFileDialog.getExistingDirectory(self.document.window, "Export results into a folder",
                                                  self.document.start_folder())
        if folder:
            self.document.settings.set_last_folder(folder)
            self.export_results(folder)

    def export_results(self, folder: str | Path) -> list[Path]:
        """Write P, Q, R-hat, history, recommendations and the run description into ``folder``."""
        from mfstudio import io

        if not self._need_result():
            return []
        s = self.experiment.shown
        assert s is not None
        # the run's own hold-out and patience, whatever the controls show now; the runs table as saving keeps it
        session = Session(s.ratings, s.held_out_cells, s.result.solver, dict(s.result.params), s.holdout,
                          s.patience, s.result, top_n=self.experiment.top_n,
                          relevance=self.document.controls.relevance(), runs=self.document.runs.saved())
        try:
            written = io.export_results(folder, session, top_n=self.experiment.top_n,
                                        min_ratings=self.experiment.min_ratings,
                                        full_precision=self.document.settings.full_precision(), include_session=True)
        except (MFStudioError, OSError) as exc:
            self.document.warn("Could not export the results", str(exc))
            return []
        self.document.message(f"Wrote {len(written)} files to {folder}.")
        return list(written)

    @Slot()
    def export_script_dialog(self) -> Path | None:
        """Ask for a file name and write a standalone Python script (numpy only) that reproduces the run."""
        from mfstudio.io.script import SCRIPT_NAME

        doc = self.document
        try:
            model = self.experiment.reproducible_model()
        except MFStudioError as exc:
            doc.warn("No script to write", str(exc))
            return None
        path, _ = QFileDialog.getSaveFileName(doc.window, "Export a Python script that reproduces the run",
                                              str(Path(doc.start_folder()) / SCRIPT_NAME), SCRIPT_FILTER)
        if not path:
            return None
        p = Path(path)
        if p.suffix.lower() != ".py":
            p = p.with_name(p.name + ".py")
        return self.export_script(p, model)

    def export_script(self, path: str | Path, model: Training | None = None) -> Path | None:
        """Write the script that reproduces the shown run to ``path`` (None, with a warning, if it cannot)."""
        from mfstudio.io.script import OUTPUT_NAME, write_script

        doc = self.document
        try:
            written = write_script(path, model if model is not None else self.experiment.reproducible_model())
        except (MFStudioError, OSError) as exc:
            doc.warn("Could not write the script", str(exc))
            return None
        doc.settings.set_last_folder(str(written.parent))
        doc.message(f"Wrote {written}: python {written.name} prints P and Q and writes {OUTPUT_NAME}, equal to "
                    "these results.")
        return written

    def _whole_r_hat_wanted(self) -> bool:
        """For data too large to show whole, R-hat's CSV is every user x item cell: say how big and ask first."""
        from mfstudio.core.memory import human, shows_whole
        from mfstudio.io.export import r_hat_csv_bytes

        s = self.experiment.shown
        assert s is not None
        n, m = s.ratings.n_users, s.ratings.n_items
        if shows_whole(n, m):
            return True
        size = human(r_hat_csv_bytes(n, m, self.document.settings.full_precision()))
        B = QMessageBox.StandardButton
        return QMessageBox.question(
            self.document.window, "Export R-hat",
            f"R-hat for {n:,} users × {m:,} items is {n * m:,} numbers, about {size} on disk, and takes a while to "
            "write. P, Q and the recommendations hold the same model in far less. Export all of R-hat anyway?",
            B.Yes | B.No, B.No) == B.Yes

    @Slot(str)
    def export_table(self, which: str) -> Path | None:
        """Ask for a file name and export one table (a name of :data:`TABLES`) as CSV."""
        from mfstudio import io

        doc = self.document
        if which != "ratings" and not self._need_result():
            return None
        if which == "R_hat" and not self._whole_r_hat_wanted():
            return None
        path, _ = QFileDialog.getSaveFileName(doc.window, f"Export {which.replace('_', '-')} as CSV",
                                              str(Path(doc.start_folder()) / f"{which}.csv"), io.CSV_FILTER)
        if not path:
            return None
        p = Path(path)
        if p.suffix.lower() != ".csv":
            p = p.with_name(p.name + ".csv")
        try:
            if which == "ratings":
                io.export_ratings(p, doc.grid_ratings())
                doc.settings.set_last_folder(p)
                doc.message(f"Exported the ratings to {p}.")
                return p
            s = self.experiment.shown
            assert s is not None
            ratings, f = s.ratings, s.result.factors
            full = doc.settings.full_precision()
            if which == "P":
                io.export_P(p, ratings, f, full)
            elif which == "Q":
                io.export_Q(p, ratings, f, full)
            elif which == "R_hat":
                io.export_R_hat(p, ratings, f, full)
            elif which in ("user_bias", "item_bias"):
                io.export_biases(p, ratings, f, which.split("_")[0], full)
            elif which == "history":
                io.export_history(p, s.result.history, full)
            elif which == "recommendations":
                recs = self.experiment.recommendations()
                assert recs is not None
                io.export_recommendations(p, ratings, recs, full)
            else:
                raise ValueError(f"unknown table {which!r}")
        except (MFStudioError, OSError) as exc:
            doc.warn("Could not export the table", str(exc))
            return None
        doc.settings.set_last_folder(p)
        doc.message(f"Exported {which.replace('_', '-')} to {p}.")
        return p
