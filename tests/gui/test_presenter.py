"""Lessons in presenter mode: each shipped lesson opens from Help ▸ Lessons, its controls hidden, Escape leaves."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from mfstudio.core.lessons import LESSONS
from mfstudio.io.lesson_file import load_lesson


@pytest.mark.parametrize("name", list(LESSONS))
def test_each_lesson_opens_in_presenter_mode_with_its_controls_hidden(qtbot, window, name):
    lesson = window.findChild(QWidget, "lessonPanel")
    assert lesson is None
    entries = [a for a in window.lessons_menu.actions() if LESSONS[name] in a.text()]
    assert len(entries) == 1
    entries[0].trigger()
    panel = window.findChild(QWidget, "lessonPanel")
    assert panel is not None and window.presenter.active and panel.lesson.title == LESSONS[name]
    qtbot.waitUntil(lambda: not window.running, timeout=30_000)
    for hidden in panel.lesson.hide:
        for w in window.presenter._controls_named(hidden):
            assert w.isHidden(), hidden
    if "solver" not in panel.lesson.hide:
        assert window.controls.solver_box.isVisible()
    assert window.document.grid_ratings() == panel.lesson.session.ratings
    assert window.font().pointSizeF() > 10 and window.top_split.font().pointSizeF() < window.font().pointSizeF()
    titles = [window.tabs.tabText(i) for i in range(window.tabs.count())]
    shown = window.tabs.tabText(window.tabs.currentIndex())
    assert shown == (panel.lesson.start_view or panel.page.view or shown)  # it opens where it says
    for k in range(1, len(panel.lesson.pages)):  # every later page shows, with its view in front
        panel.next_page()
        page = panel.page
        assert panel.index == k
        if page.view and page.view in titles:
            assert window.tabs.tabText(window.tabs.currentIndex()) == page.view
    qtbot.keyClick(window, Qt.Key.Key_Escape)
    assert not window.presenter.active and window.findChild(QWidget, "lessonPanel") is None
    for hidden in panel.lesson.hide:
        for w in window.presenter._controls_named(hidden):
            assert not w.isHidden(), hidden


def test_a_page_action_does_what_it_says(qtbot, window):
    from mfstudio.core.lessons import lesson_path

    lesson, _ = load_lesson(lesson_path("learning-rate"))
    window.presenter.enter(lesson)
    panel = window.presenter.panel
    k = next(i for i, p in enumerate(lesson.pages) if p.action is not None and p.action.params.get("alpha"))
    panel.show_page(k)
    assert panel.action.isVisibleTo(panel) and "α = " in panel.action.text()
    panel.action.click()
    qtbot.waitUntil(lambda: not window.running, timeout=30_000)
    assert window.controls.params()["alpha"] == lesson.pages[k].action.params["alpha"]
    assert window.result is not None
    window.presenter.leave()


def test_a_page_that_changes_the_solver_still_leaves_cleanly(qtbot, window):
    from mfstudio.core.lessons import lesson_path

    lesson, _ = load_lesson(lesson_path("biases"))
    window.presenter.enter(lesson)
    qtbot.waitUntil(lambda: not window.running, timeout=30_000)
    assert window.controls.param_box.isVisibleTo(window)  # K, steps, α and β stay: only some rows are hidden
    panel = window.presenter.panel
    k = next(i for i, p in enumerate(lesson.pages) if p.action is not None and p.action.solver)
    panel.show_page(k)
    panel.action.click()  # another solver: its parameter boxes are made anew
    qtbot.waitUntil(lambda: not window.running, timeout=30_000)
    assert window.controls.solver() == lesson.pages[k].action.solver
    for hidden in lesson.hide:
        for w in window.presenter._controls_named(hidden):
            assert w.isHidden(), hidden
    qtbot.keyClick(window, Qt.Key.Key_Escape)
    assert not window.presenter.active and not window.controls.param_widgets["tol"].isHidden()


def test_the_lesson_opens_on_its_start_view(qtbot, window):
    from mfstudio.core.lessons import lesson_path

    lesson, _ = load_lesson(lesson_path("newcomer"))
    window.presenter.enter(lesson)
    assert lesson.start_view and window.tabs.tabText(window.tabs.currentIndex()) == lesson.start_view
    qtbot.waitUntil(lambda: not window.running, timeout=30_000)
    window.presenter.leave()
