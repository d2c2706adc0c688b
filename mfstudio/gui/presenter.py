"""Presenter mode: a lesson's pages beside the model (``lessonPanel``), larger fonts, the controls it hides hidden.

A lesson (:mod:`mfstudio.core.lesson`) is a session plus pages of text, the controls it does not need,
and where to start. Opening one shows its session as any session opens, then enters presenter mode:
the pages in a side panel with Back and Next (each may bring a result tab forward and offer to do
something, "Train with α = 0.01"), the window's text larger for a room, and the hidden controls
hidden. Escape, or Leave presenter mode, puts everything back.
"""

from __future__ import annotations

from typing import Any

import shiboken6
from PySide6.QtCore import QObject, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QFont, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDockWidget,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from mfstudio.core.lesson import ACTIONS, Action, Lesson, Page

FONT_SCALE = 1.3  # presenter mode's text, against the window's usual


def action_text(a: Action) -> str:
    """The button of a page's suggested action: "Train with α = 0.01, K = 2"."""
    names = {"alpha": "α", "beta": "β"}
    verb = {"train": "Train", "continue": "Continue", "step": "Make one step", "one-update": "Make one update",
            "reset": "Reset"}[a.do]
    parts = ([a.solver] if a.solver else []) + [f"{names.get(k, k)} = {v:g}" if isinstance(v, float) else
                                                  f"{names.get(k, k)} = {v}" for k, v in a.params.items()]
    return verb + (" with " + ", ".join(parts) if parts else "")


class LessonPanel(QWidget):
    """A lesson's pages with Back and Next (objectName ``lessonPanel``)."""

    pageShown = Signal(object)  # Page
    actionRequested = Signal(object)  # Action
    leaveRequested = Signal()

    def __init__(self, lesson: Lesson, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("lessonPanel")
        self.lesson = lesson
        self.index = 0
        self.title = QLabel(f"<b>{lesson.title}</b>")
        self.title.setObjectName("lessonTitle")
        self.title.setWordWrap(True)
        self.page_title = QLabel()
        self.page_title.setObjectName("lessonPageTitle")
        self.page_title.setWordWrap(True)
        self.text = QTextBrowser()
        self.text.setObjectName("lessonText")
        self.text.setAccessibleName("The lesson's page")
        self.text.setOpenExternalLinks(False)
        self.action = QPushButton()
        self.action.setObjectName("lessonAction")
        self.action.clicked.connect(self._on_action)
        self.back = QPushButton("◀ Back")
        self.back.setObjectName("lessonBack")
        self.back.clicked.connect(self.previous_page)
        self.next = QPushButton("Next ▶")
        self.next.setObjectName("lessonNext")
        self.next.clicked.connect(self.next_page)
        self.counter = QLabel()
        self.counter.setObjectName("lessonCounter")
        self.counter.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.leave = QPushButton("Leave presenter mode (Esc)")
        self.leave.setObjectName("lessonLeave")
        self.leave.clicked.connect(self.leaveRequested)
        nav = QHBoxLayout()
        nav.addWidget(self.back)
        nav.addWidget(self.counter, 1)
        nav.addWidget(self.next)
        lay = QVBoxLayout(self)
        lay.addWidget(self.title)
        lay.addWidget(self.page_title)
        lay.addWidget(self.text, 1)
        lay.addWidget(self.action)
        lay.addLayout(nav)
        lay.addWidget(self.leave)
        self.show_page(0)

    @property
    def page(self) -> Page:
        return self.lesson.pages[self.index]

    def show_page(self, index: int) -> None:
        """Show page ``index`` (0-based, kept in range) and say so (``pageShown``)."""
        self.index = max(0, min(int(index), len(self.lesson.pages) - 1))
        page = self.page
        self.page_title.setText(f"<b>{page.title}</b>")
        self.text.setHtml(page.html())
        self.counter.setText(f"{self.index + 1} of {len(self.lesson.pages)}")
        self.back.setEnabled(self.index > 0)
        self.next.setEnabled(self.index < len(self.lesson.pages) - 1)
        self.action.setVisible(page.action is not None)
        if page.action is not None:
            self.action.setText(action_text(page.action))
            self.action.setToolTip(ACTIONS[page.action.do].capitalize() + ".")
        self.pageShown.emit(page)

    @Slot()
    def next_page(self) -> None:
        self.show_page(self.index + 1)

    @Slot()
    def previous_page(self) -> None:
        self.show_page(self.index - 1)

    @Slot()
    def _on_action(self) -> None:
        if self.page.action is not None:
            self.actionRequested.emit(self.page.action)


class Presenter(QObject):
    """Enters and leaves presenter mode on a window; ``hide`` maps a lesson's names to the widgets they hide."""

    entered = Signal(object)  # Lesson
    left = Signal()

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.window = window
        self.lesson: Lesson | None = None
        self.panel: LessonPanel | None = None
        self.dock: QDockWidget | None = None
        self._font: QFont | None = None
        self._hidden: list[Any] = []
        self._escape = QShortcut(QKeySequence(Qt.Key.Key_Escape), window)
        self._escape.setContext(Qt.ShortcutContext.WindowShortcut)
        self._escape.setEnabled(False)
        self._escape.activated.connect(self.leave)
        self._stop_keys: list[QKeySequence] = []

    @property
    def active(self) -> bool:
        return self.lesson is not None

    def enter(self, lesson: Lesson) -> None:
        """Presenter mode for ``lesson`` (leaving another lesson's first)."""
        if self.active:
            self.leave()
        w = self.window
        self.lesson = lesson
        self.panel = LessonPanel(lesson)
        self.panel.pageShown.connect(self._on_page)
        self.panel.actionRequested.connect(self.do_action)
        self.panel.leaveRequested.connect(self.leave)
        self.dock = QDockWidget(f"Lesson: {lesson.title}", w)
        self.dock.setObjectName("lessonDock")
        self.dock.setFeatures(QDockWidget.DockWidgetFeature.NoDockWidgetFeatures)
        self.dock.setWidget(self.panel)
        w.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.dock)
        self._font = w.font()
        big = QFont(self._font)
        big.setPointSizeF(max(self._font.pointSizeF(), 9.0) * FONT_SCALE)
        w.setFont(big)
        usual = QFont(self._font)
        usual.setPointSizeF(self._font.pointSizeF())  # set, not inherited: the big font does not reach it
        w.top_split.setFont(usual)  # the loss curve's and the map's toolbars keep their size (they are full)
        # Escape leaves presenter mode (so it no longer stops a run; Ctrl+. still does)
        self._stop_keys = list(w.action_stop.shortcuts())
        w.action_stop.setShortcuts([k for k in self._stop_keys if k != QKeySequence(Qt.Key.Key_Escape)])
        self._escape.setEnabled(True)
        self.apply_hiding()
        w.controls.widgetsRebuilt.connect(self.apply_hiding)
        self.panel.show_page(0)
        if lesson.start_view:  # where the lesson starts, even when its first page names another view
            self.show_view(lesson.start_view)
        # the lesson panel takes room: the loss curve and the latent map share what is left evenly
        QTimer.singleShot(0, self._share_top)
        self.entered.emit(lesson)

    @Slot()
    def _share_top(self) -> None:
        split = self.window.top_split
        if self.active and split.count() == 2:
            split.share_evenly()

    @Slot()
    def leave(self) -> None:
        """Back to the ordinary window: fonts, controls and Escape as they were."""
        if not self.active:
            return
        w = self.window
        try:
            w.controls.widgetsRebuilt.disconnect(self.apply_hiding)
        except (RuntimeError, TypeError):
            pass
        for widget in self._hidden:
            if shiboken6.isValid(widget):  # a parameter box may have been made anew since (another solver)
                _set_shown(widget, True)
        self._hidden = []
        for box in (w.controls.param_box, w.controls.split_box):
            box.setVisible(True)
        self._grid_editable(True)
        w.export_menu.menuAction().setEnabled(True)
        if self._font is not None:
            w.setFont(self._font)
        w.action_stop.setShortcuts(self._stop_keys)
        self._escape.setEnabled(False)
        if self.dock is not None:
            w.removeDockWidget(self.dock)
            self.dock.hide()
            self.dock.setParent(None)  # gone from the window now; deleted once control returns
            self.dock.deleteLater()
        self.dock = self.panel = None
        self.lesson = None
        w.show_message("Left presenter mode.")
        self.left.emit()

    @Slot()
    def apply_hiding(self) -> None:
        """Hide what the lesson hides (again after the parameter boxes were made anew)."""
        if self.lesson is None:
            return
        w = self.window
        for widget in self._hidden:
            if shiboken6.isValid(widget):  # the parameter boxes of another solver are gone
                _set_shown(widget, True)
        self._hidden = [x for name in self.lesson.hide for x in self._controls_named(name)]
        for widget in self._hidden:
            _set_shown(widget, False)
        hidden = {id(x) for x in self._hidden}
        for box in (w.controls.param_box, w.controls.split_box):  # a group with every row hidden goes too
            form = box.layout()
            fields = [form.itemAt(r, QFormLayout.ItemRole.FieldRole) for r in range(form.rowCount())]
            box.setVisible(any(f is not None and f.widget() is not None and id(f.widget()) not in hidden
                               for f in fields))
        self._grid_editable("grid-edit" not in self.lesson.hide)
        w.export_menu.menuAction().setEnabled("export" not in self.lesson.hide)

    def _controls_named(self, name: str) -> list[Any]:
        """The widgets a lesson's hide name stands for (see mfstudio.core.lesson.HIDABLE)."""
        c = self.window.controls
        named = {"solver": [c.solver_box, c.description], "seed": [c.seed], "holdout": [c.holdout_box],
                 "patience": [c.patience_box], "relevance": [c.relevance_box], "top_n": [self.window.top_n],
                 "speed": [c.speed_box],
                 "step": [c.step_button, c.update_button], "reset": [c.reset_button]}
        if name in named:
            return named[name]
        w = c.param_widgets.get(name)
        return [w] if w is not None else []

    def _grid_editable(self, editable: bool) -> None:
        from PySide6.QtWidgets import QAbstractItemView

        grid = self.window.grid
        if editable:
            if getattr(self, "_triggers", None) is not None:
                grid.setEditTriggers(self._triggers)
                self._triggers = None
        else:
            if getattr(self, "_triggers", None) is None:
                self._triggers = grid.editTriggers()
            grid.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        for name in ("action_cut", "action_paste", "action_clear", "action_add_user", "action_add_item",
                     "action_remove_users", "action_remove_items", "action_hold_out", "action_use_for_training"):
            getattr(grid, name).setEnabled(editable)

    def show_view(self, title: str) -> None:
        """Bring the result tab titled ``title`` forward (a title the window lacks changes nothing)."""
        tabs = self.window.tabs
        for i in range(tabs.count()):
            if tabs.tabText(i) == title:
                tabs.setCurrentIndex(i)
                return

    @Slot(object)
    def do_action(self, action: Action) -> None:
        """Do what a page suggests: choose its solver, set its parameters, press its button."""
        w = self.window
        c = w.controls
        if w.running:
            w.show_message("A run is going; stop it first (Ctrl+.).")
            return
        if action.solver:
            c.solver_box.setCurrentIndex(c.solver_box.findData(action.solver))
        params = dict(action.params)
        if "holdout" in params:
            c.set_holdout(float(params.pop("holdout")))
        if "patience" in params:
            c.set_patience(params.pop("patience"))
        if "relevance" in params:
            c.set_relevance(params.pop("relevance"))
        if "top_n" in params:
            w.top_n.setValue(int(params.pop("top_n")))
        c.set_params(params)
        {"train": w.train, "continue": w.continue_training, "step": w.step, "one-update": w.step_rating,
         "reset": w.reset}[action.do]()

    @Slot(object)
    def _on_page(self, page: Page) -> None:
        if page.view:
            self.show_view(page.view)


def _set_shown(widget: Any, shown: bool) -> None:
    """Show or hide a control, with its row of a form (its label too) when it sits in one."""

    parent = widget.parentWidget()
    layout = parent.layout() if parent is not None else None
    if isinstance(layout, QFormLayout) and layout.indexOf(widget) >= 0:
        layout.setRowVisible(widget, shown)
    else:
        widget.setVisible(shown)
