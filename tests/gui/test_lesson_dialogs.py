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


def test_the_latent_map_shows_the_planted_truth_beside_the_estimate(qtbot, window):
    from mfstudio.core.patterns import aligned_truth

    assert window.lessons.show_pattern(Pattern(users=12, items=9, K=2, seed=4))
    box = window.latent_map.truth_box
    assert not box.isHidden()
    window.controls.solver_box.setCurrentIndex(window.controls.solver_box.findData("biased-sgd"))
    window.controls.set_params({"steps": 50})
    window.train()
    qtbot.waitUntil(lambda: not window.running, timeout=20_000)
    box.setChecked(True)
    c = window.latent_map.canvas
    f = window.result.factors
    tP, _tQ = aligned_truth(window.lessons.planted, f.P, f.Q)
    assert len(c.truth_users.get_offsets()) == 12 and len(c.truth_links.get_segments()) == 12 + 9
    proj = window.latent_map.projection
    assert abs(c.truth_users.get_offsets()[0] - proj.place(tP)[0]).max() < 1e-12
    window.document.open_example("example-1")  # other data: no truth to show
    assert box.isHidden() and window.lessons.planted is None
