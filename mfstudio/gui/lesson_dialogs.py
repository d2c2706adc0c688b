"""The dialogs of File ▸ Save as lesson… and File ▸ New from pattern….

Save as lesson asks for a title, the pages (a line of three dashes between pages; each page's first
line is its title) and which controls to hide; New from pattern asks for a planted-taste matrix's
parameters (:mod:`mfstudio.core.patterns`), each box built from its parameter's declaration.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from mfstudio.core import MFStudioError
from mfstudio.core.lesson import HIDABLE, LESSON_SUFFIX, VIEWS
from mfstudio.core.patterns import PATTERN_PARAMS, Pattern, Planted, generate
from mfstudio.gui.controls import make_param_widget

PAGE_BREAK = "---"
PAGES_HELP = (f"One page after another, a line of three dashes ({PAGE_BREAK}) between them; the first line of a "
              "page is its title, the rest its text (a blank line starts a paragraph, *words* are emphasised).")


def split_pages(text: str) -> list[tuple[str, str]]:
    """The pages typed as ``text``: (title, text) each, empty pages left out."""
    pages = []
    chunk: list[str] = []
    for line in [*text.splitlines(), PAGE_BREAK]:
        if line.strip() == PAGE_BREAK:
            body = "\n".join(chunk).strip()
            chunk = []
            if body:
                title, _, rest = body.partition("\n")
                pages.append((title.strip(), rest.strip() or title.strip()))
        else:
            chunk.append(line)
    return pages


class SaveLessonDialog(QDialog):
    """File ▸ Save as lesson…: a title, the pages and the controls to hide (objectName ``saveLessonDialog``)."""

    def __init__(self, parent: QWidget | None, title: str = "") -> None:
        super().__init__(parent)
        self.setObjectName("saveLessonDialog")
        self.setWindowTitle("Save as lesson")
        self.title = QLineEdit(title)
        self.title.setObjectName("lessonTitleEdit")
        self.pages = QPlainTextEdit()
        self.pages.setObjectName("lessonPagesEdit")
        self.pages.setPlaceholderText("What we look at\nThe grid holds the ratings R…\n---\nPress Train\n…")
        self.hide_list = QListWidget()
        self.hide_list.setObjectName("lessonHideList")
        for name, what in HIDABLE.items():
            item = QListWidgetItem(f"{name}: {what}")
            item.setData(Qt.ItemDataRole.UserRole, name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
            self.hide_list.addItem(item)
        self.view = QComboBox()
        self.view.setObjectName("lessonStartView")
        self.view.addItem("(the tab shown now)", None)
        for v in VIEWS:
            self.view.addItem(v, v)
        form = QFormLayout()
        form.addRow("Title", self.title)
        form.addRow("Opens on", self.view)
        note = QLabel(PAGES_HELP)
        note.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(QLabel("Pages"))
        lay.addWidget(note)
        lay.addWidget(self.pages, 2)
        lay.addWidget(QLabel("Hide in presenter mode"))
        lay.addWidget(self.hide_list, 1)
        lay.addWidget(buttons)
        self.resize(560, 600)

    def values(self) -> dict[str, Any]:
        """What was typed: title, pages, hide, start_view (for lesson_from_session)."""
        hide = [self.hide_list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.hide_list.count())
                if self.hide_list.item(i).checkState() == Qt.CheckState.Checked]
        return {"title": self.title.text().strip(), "pages": split_pages(self.pages.toPlainText()), "hide": hide,
                "start_view": self.view.currentData()}


class PatternDialog(QDialog):
    """File ▸ New from pattern…: a planted-taste matrix's parameters (objectName ``patternDialog``)."""

    def __init__(self, parent: QWidget | None, pattern: Pattern | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("patternDialog")
        self.setWindowTitle("New from pattern")
        p = pattern or Pattern()
        form = QFormLayout()
        self.boxes = {}
        for spec in PATTERN_PARAMS:
            box = make_param_widget(spec, self)
            box.setObjectName(f"pattern_{spec.name}")
            box.setValue(getattr(p, spec.name))
            self.boxes[spec.name] = box
            form.addRow(spec.label, box)
        note = QLabel("Ratings made from planted tastes: users in taste clusters, each item a mix of the tastes, "
                      "plus noise, rounded onto the scale; only the share observed is kept. File ▸ Regenerate "
                      "pattern draws the same kind again with the next seed.")
        note.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(note)
        lay.addLayout(form)
        lay.addWidget(buttons)

    def pattern(self) -> Pattern:
        """The pattern asked for (a MFStudioError says which value does not fit)."""
        return Pattern(**{name: box.value() for name, box in self.boxes.items()})


class LessonCommands(QObject):
    """File ▸ Save as lesson…, New from pattern… and Regenerate pattern, on a window's document.

    ``plantedChanged(Planted | None)``: the data shown now comes from a pattern (its truth), or not.
    """

    plantedChanged = Signal(object)

    def __init__(self, document: Any) -> None:
        super().__init__(document)
        self.document = document
        self.planted: Planted | None = None  # the pattern the grid was made from (its truth), until other data
        document.opened.connect(self._on_opened)

    @Slot()
    def _on_opened(self) -> None:
        if self.planted is not None:
            self.planted = None
            self.plantedChanged.emit(None)

    @Slot()
    def save_lesson_dialog(self) -> Path | None:
        """Ask for the lesson's title, pages and hidden controls, then a file name; write it."""
        from mfstudio.io import LESSON_FILTER
        from mfstudio.io.lesson_file import lesson_from_session, save_lesson

        doc = self.document
        dialog = SaveLessonDialog(doc.window, Path(doc.title).stem)
        try:
            if dialog.exec() != QDialog.DialogCode.Accepted:
                return None
            v = dialog.values()
        finally:
            dialog.deleteLater()
        try:
            lesson = lesson_from_session(doc.current_session(), v["title"], v["pages"], v["hide"], v["start_view"])
        except MFStudioError as exc:
            doc.warn("Cannot make the lesson", str(exc))
            return None
        suggested = Path(doc.start_folder()) / f"{v['title'] or 'lesson'}{LESSON_SUFFIX}"
        path, _ = QFileDialog.getSaveFileName(doc.window, "Save as lesson", str(suggested), LESSON_FILTER)
        if not path:
            return None
        p = Path(path)
        if p.suffix.lower() != LESSON_SUFFIX:
            p = p.with_name(p.name + LESSON_SUFFIX)
        try:
            save_lesson(p, lesson)
        except (MFStudioError, OSError) as exc:
            doc.warn("Could not save the lesson", str(exc))
            return None
        doc.message(f"Saved the lesson “{lesson.title}” to {p}; Help ▸ Lessons lists the shipped ones, File ▸ Open "
                    "opens this one in presenter mode.")
        return p

    @Slot()
    def new_pattern_dialog(self) -> bool:
        """Ask for a planted-taste pattern, then about unsaved changes, then show its ratings."""
        doc = self.document
        dialog = PatternDialog(doc.window, self.planted.pattern if self.planted else None)
        try:
            if dialog.exec() != QDialog.DialogCode.Accepted:
                return False
            try:
                pattern = dialog.pattern()
            except MFStudioError as exc:
                doc.warn("Cannot make that pattern", str(exc))
                return False
        finally:
            dialog.deleteLater()
        if not doc.maybe_save("making a new pattern"):
            return False
        return self.show_pattern(pattern)

    @Slot()
    def regenerate_pattern(self) -> bool:
        """The same pattern with the next seed (the last pattern's, or the default one)."""
        doc = self.document
        if not doc.maybe_save("making a new pattern"):
            return False
        return self.show_pattern(self.planted.pattern.regenerate() if self.planted else Pattern())

    def show_pattern(self, pattern: Pattern) -> bool:
        """Make ``pattern``'s ratings and show them (no questions asked)."""
        try:
            planted = generate(pattern)
        except MFStudioError as exc:
            self.document.warn("Cannot make that pattern", str(exc))
            return False
        p = planted.pattern
        self.document.load_ratings(planted.ratings, title=f"Pattern (seed {p.seed})")
        self.planted = planted
        self.plantedChanged.emit(planted)
        self.document.message(f"Made {p.users:,} users × {p.items:,} items from {p.K} planted tastes in "
                              f"{p.clusters} cluster{'s' if p.clusters != 1 else ''} (noise {p.noise:g}, "
                              f"{p.observed:.0%} observed, seed {p.seed}); File ▸ Regenerate pattern draws again.")
        return True
