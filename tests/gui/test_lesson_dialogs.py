"""File ▸ Save as lesson… and File ▸ New from pattern… / Regenerate pattern."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QFileDialog

from mfstudio.core.patterns import Pattern, generate
from mfstudio.gui.lesson_dialogs import PatternDialog, SaveLessonDialog, split_pages
from mfstudio.io.lesson_file import load_lesson


def test_pages_are_split_at_lines_of_three_dashes():
    assert split_pages("One\nfirst text\n\nmore\n---\nTwo\nsecond\n---\n\n") == [
        ("One", "first text\n\nmore"), ("Two", "second")]


def test_save_as_lesson_writes_a_lesson_that_opens_in_presenter_mode(qtbot, window, tmp_path, monkeypatch):
    def fill(dialog: QDialog) -> int:
        assert isinstance(dialog, SaveLessonDialog)
        dialog.title.setText("My first lesson")
        dialog.pages.setPlainText("Look\nThe grid is R.\n---\nTrain\nPress Train and watch.")
        item = dialog.hide_list.item(0)  # "solver"
        item.setCheckState(Qt.CheckState.Checked)
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(QDialog, "exec", fill)
    target = tmp_path / "mine"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    window.findChild(type(window.action_train), "actionSaveAsLesson").trigger()
    lesson, _ = load_lesson(tmp_path / "mine.mfslesson")
    assert lesson.title == "My first lesson" and [p.title for p in lesson.pages] == ["Look", "Train"]
    assert lesson.hide == frozenset({"solver"}) and lesson.session.ratings == window.document.grid_ratings()
    assert window.document.open_path(tmp_path / "mine.mfslesson")
    assert window.presenter.active and window.controls.solver_box.isHidden()
    window.presenter.leave()


def test_new_from_pattern_shows_its_ratings_and_regenerate_draws_the_next_seed(qtbot, window, monkeypatch):
    def fill(dialog: QDialog) -> int:
        assert isinstance(dialog, PatternDialog)
        dialog.boxes["users"].setValue(12)
        dialog.boxes["items"].setValue(9)
        dialog.boxes["seed"].setValue(4)
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(QDialog, "exec", fill)
    window.findChild(type(window.action_train), "actionNewFromPattern").trigger()
    want = generate(Pattern(users=12, items=9, seed=4))
    assert window.document.grid_ratings() == want.ratings and window.document_title == "Pattern (seed 4)"
    window.findChild(type(window.action_train), "actionRegeneratePattern").trigger()
    assert window.document.grid_ratings() == generate(Pattern(users=12, items=9, seed=5)).ratings
    assert window.lessons.planted.pattern.seed == 5
