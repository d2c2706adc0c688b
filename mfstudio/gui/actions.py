"""Commands as QActions: the one factory that makes them, and the list of their shortcuts.

Every menu command and every grid command is made by :func:`make_action`, so keys,
tips and names follow one rule; :func:`shortcut_rows` reads the keys back from the
menus themselves for Help ▸ Keyboard shortcuts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QMenuBar

StandardKey = QKeySequence.StandardKey
# Where the platform has no keys for a standard command (Quit on Windows, a bare offscreen theme): the usual ones.
FALLBACK_KEYS = {StandardKey.New: "Ctrl+N", StandardKey.Open: "Ctrl+O", StandardKey.Save: "Ctrl+S",
                 StandardKey.SaveAs: "Ctrl+Shift+S", StandardKey.Quit: "Ctrl+Q"}

Keys = QKeySequence | StandardKey | str | Sequence[Any] | None


def key_sequences(keys: Keys) -> list[QKeySequence]:
    """``keys`` as a list of key sequences: a standard key (the platform's bindings), a string, or a list of either."""
    if keys is None:
        return []
    if isinstance(keys, StandardKey):
        bound = [k for k in QKeySequence.keyBindings(keys) if not k.isEmpty()]
        fallback = FALLBACK_KEYS.get(keys)
        return bound or ([QKeySequence(fallback)] if fallback else [])
    if isinstance(keys, (str, QKeySequence)):
        return [QKeySequence(keys)]
    out: list[QKeySequence] = []
    for k in keys:
        out.extend(key_sequences(k))
    return out


def make_action(parent: QObject, text: str, slot: Callable[..., Any] | None = None, keys: Keys = None, *,
                tip: str = "", name: str = "", checkable: bool = False,
                context: Qt.ShortcutContext | None = None, menu: QMenu | None = None) -> QAction:
    """A QAction with its keys, tip (status bar and tooltip) and object name; added to ``menu`` when given."""
    a = QAction(text, parent)
    shortcuts = key_sequences(keys)
    if shortcuts:
        a.setShortcuts(shortcuts)
        if context is not None:
            a.setShortcutContext(context)
    if tip:
        a.setStatusTip(tip)
        a.setToolTip(tip)
    if name:
        a.setObjectName(name)
    a.setCheckable(checkable)
    if slot is not None:
        a.triggered.connect(slot)
    if menu is not None:
        menu.addAction(a)
    return a


def _plain(text: str) -> str:
    """A menu text without its mnemonic marks ("&&" stays a literal "&")."""
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&")


def shortcut_rows(menu_bar: QMenuBar) -> list[tuple[str, str, str]]:
    """(menu, command, keys) for every menu command that has keys, in menu order."""
    rows: list[tuple[str, str, str]] = []

    def walk(menu: QMenu, path: str) -> None:
        for a in menu.actions():
            if a.menu() is not None:
                walk(a.menu(), f"{path} ▸ {_plain(a.menu().title())}")
            elif not a.isSeparator() and a.shortcuts():
                keys = ", ".join(k.toString(QKeySequence.SequenceFormat.NativeText) for k in a.shortcuts())
                rows.append((path, _plain(a.text()), keys))

    for top in menu_bar.actions():
        if top.menu() is not None:
            walk(top.menu(), _plain(top.menu().title()))
    return rows


# Keys that belong to no menu command, listed beside the menus' own in Help ▸ Keyboard shortcuts.
EXTRA_SHORTCUTS = [
    ("Rating grid", "Move down / up after typing", "Enter, Shift+Enter"),
    ("Rating grid", "Next / previous cell; leaves the grid at its last / first cell", "Tab, Shift+Tab"),
    ("Rating grid", "Leave the grid", "Ctrl+Tab, Ctrl+Shift+Tab"),
    ("Rating grid", "Rename a user or item", "double-click its header"),
    ("Everywhere", "Open a menu", "Alt + the underlined letter"),
]


# The menu table: rows of (text, command, keys, tip, object name). A command "owner.method" names a method of one
# of the objects the window lends ("window", "commands", "document", "exporter", "plot"); "owner.method:arg" calls
# it with that argument. ("-",) is a separator, ("grid:NAME",) puts in the grid's own action, ("recent",) the
# recent files, and ("menu", text, attribute, rows) a submenu kept as the window attribute. A named action
# ("actionSaveAs") is kept as the window attribute action_save_as.
def _export_rows() -> list[tuple]:
    from mfstudio.gui.exports import TABLES

    return [("&Results into a folder…", "exporter.export_results_dialog", "Ctrl+E",
             "Write P, Q, R-hat, the history, recommendations and a run description into a folder.", "actionExport"),
            ("-",),
            *[(title, f"exporter.export_table:{key}", None, "", "") for key, title in TABLES],
            ("-",),
            ("Full precisio&n in CSV files", "window.set_full_precision", None,
             "Write CSV numbers in full, so they read back bit for bit (otherwise 6 significant digits).",
             "actionFullPrecision"),
            ("-",),
            ("Python &script…", "exporter.export_script_dialog", None,
             "A standalone Python script (numpy only) with the data, the start and the update rule, that "
             "reproduces the run's P and Q.", "actionExportScript"),
            ("-",),
            ("Loss curve &figure…", "plot.save_figure_dialog", "Ctrl+Shift+E",
             "Save the loss curve as PNG, SVG or PDF.",
             "actionSaveFigure")]


def _lesson_rows() -> list[tuple]:
    from mfstudio.core.lessons import LESSONS

    return [(f"&{n} {title}", f"document.open_lesson_asking:{name}", None, f"Open the lesson “{title}”.", "")
            for n, (name, title) in enumerate(LESSONS.items(), start=1)]


def _example_rows() -> list[tuple]:
    from mfstudio.core import EXAMPLES

    return [(f"&{n} {title}", f"document.open_example_asking:{name}", None, f"Open {title}.", "")
            for n, (name, title) in enumerate(EXAMPLES.items(), start=1)]


def menus() -> dict[str, list[tuple]]:
    """The menu bar, menu by menu."""
    return {
        "&File": [
            ("&New…", "document.new_dialog", StandardKey.New, "Start an empty grid of a chosen size.", "actionNew"),
            ("New from &pattern…", "lessons.new_pattern_dialog", None,
             "Make ratings from planted tastes (users, items, true K, noise, share observed, taste clusters).",
             "actionNewFromPattern"),
            ("Re&generate pattern", "lessons.regenerate_pattern", None,
             "The same kind of pattern again, with the next seed.", "actionRegeneratePattern"),
            ("&Open…", "document.open_dialog", StandardKey.Open,
             "Open a saved session or a rating file (CSV, TSV, MovieLens .zip, .npz).", "actionOpen"),
            ("Open &folder…", "document.open_folder_dialog", "Ctrl+Shift+O",
             "Open a MovieLens download's folder (ML-100K, ML-1M, ml-latest ...).", "actionOpenFolder"),
            ("Open &counts or events…", "data_kind.open_dialog", None,
             "Open plays, clicks or purchases: (user, item, count) triples, (user, item) events (repeats summed), "
             "or MovieLens ratings, each one interaction.", "actionOpenCounts"),
            ("menu", "Open e&xample", "examples_menu", _example_rows()),
            ("recent",), ("-",),
            ("&Save session", "document.save_session", StandardKey.Save, "Save ratings, settings and results.",
             "actionSave"),
            ("Save session &as…", "document.save_session_as", StandardKey.SaveAs,
             "Save the session under a new name.", "actionSaveAs"),
            ("Save as &lesson…", "lessons.save_lesson_dialog", None,
             "Make a lesson of this session: a title, pages of text beside the model, controls to hide.",
             "actionSaveAsLesson"),
            ("-",),
            ("&Import ratings…", "document.import_dialog", "Ctrl+I",
             "Replace the grid's ratings with a file's (one undo step).", "actionImport"),
            ("menu", "&Export", "export_menu", _export_rows()), ("-",),
            ("&Quit", "window.close", StandardKey.Quit, "Close MF Studio (asks about unsaved changes).",
             "actionQuit"),
        ],
        "&Edit": [
            ("grid:action_undo",), ("grid:action_redo",), ("-",),
            ("grid:action_cut",), ("grid:action_copy",), ("grid:action_paste",), ("grid:action_clear",), ("-",),
            ("grid:action_add_user",), ("grid:action_add_item",), ("grid:action_remove_users",),
            ("grid:action_remove_items",),
            ("Resi&ze grid…", "document.resize_dialog", None,
             "Add or drop users and items at the end of the grid (one undo step).", "actionResize"),
            ("-",), ("grid:action_hold_out",), ("grid:action_use_for_training",), ("-",),
            ("Go to the &grid", "window.focus_grid", "Ctrl+1", "Put the keyboard focus on the rating grid.", ""),
            ("Go to the param&eters", "window.focus_parameters", "Ctrl+2",
             "Put the keyboard focus on the solver chooser.", ""),
            ("Go to the result&s", "window.focus_results", "Ctrl+3", "Put the keyboard focus on the result tabs.", ""),
        ],
        "&Training": [
            ("&Train", "commands.train", ["Ctrl+Return", "Ctrl+Enter"],
             "Train a new model from the random start of the seed.", "actionTrain"),
            ("C&ontinue", "commands.continue_training", ["Ctrl+Shift+Return", "Ctrl+Shift+Enter"],
             "Make Steps more steps from the current factors.", "actionContinue"),
            ("&Pause / Resume", "commands.toggle_pause", "Ctrl+P", "", "actionPause"),
            ("&Stop", "commands.stop", ["Esc", "Ctrl+."], "", "actionStop"),
            ("One st&ep", "commands.step", "Ctrl+T", "", "actionStep"),
            ("One upd&ate", "commands.step_rating", "Ctrl+Shift+T",
             "Make the next single update, shown in the notebook's arithmetic: one rating's (sgd, biased-sgd) or "
             "half a step (als, nmf).", "actionStepRating"),
            ("&Reset (new random start)", "commands.reset", "Ctrl+R", "", "actionReset"),
            ("-",),
            ("S&weep…", "window.open_sweep", None,
             "Train one model per combination of one or two parameters' values, in parallel, and compare their "
             "validation errors.", "actionSweep"),
            ("-",),
            ("&Clear earlier runs from the curve", "plot.clear_runs", "Ctrl+Shift+L", "", ""),
            ("&Undo clearing the curve", "plot.undo_clear", None,
             "Bring back the runs that Clear runs removed from the loss curve.", "actionUndoClearRuns"),
        ],
        "&Help": [
            ("menu", "&Lessons", "lessons_menu", _lesson_rows()),
            ("&What am I looking at?", "window.show_help", "Shift+F1",
             "One short paragraph per view, in plain words.", "actionWhatAmILookingAt"),
            ("&Keyboard shortcuts", "window.show_shortcuts", "F1", "List every menu command and its keys.",
             "actionShortcuts"),
            ("&About MF Studio", "window.about", None, "", ""),
        ],
    }


def attribute_name(object_name: str) -> str:
    """"actionSaveAs" -> "action_save_as": the window attribute a named menu action is kept under."""
    rest = object_name[len("action"):]
    return "action" + "".join("_" + c.lower() if c.isupper() else c for c in rest)


def _slot(targets: dict[str, Any], command: str) -> Callable[..., Any]:
    owner_method, _, arg = command.partition(":")
    owner, method = owner_method.split(".")
    fn = getattr(targets[owner], method)
    return (lambda _=False: fn(arg)) if arg else fn


def add_entries(menu: QMenu, rows: list[tuple], targets: dict[str, Any], grid: Any, made: dict[str, Any],
                parent: QObject) -> None:
    """Fill ``menu`` from table rows (see :func:`menus`); named actions and submenus are collected in ``made``."""
    for row in rows:
        if row[0] == "-":
            menu.addSeparator()
        elif row[0].startswith("grid:"):
            menu.addAction(getattr(grid, row[0][5:]))
        elif row[0] == "recent":
            made["recent_menu"] = sub = menu.addMenu("Open &recent")
            targets["recent"].attach_menu(sub)
        elif row[0] == "menu":
            _, title, attribute, sub_rows = row
            made[attribute] = sub = menu.addMenu(title)
            add_entries(sub, sub_rows, targets, grid, made, parent)
        else:
            text, command, keys, tip, name = row
            a = make_action(parent, text, _slot(targets, command), keys, tip=tip, name=name, menu=menu)
            if name:
                made[attribute_name(name)] = a


def build_menus(window: Any, targets: dict[str, Any]) -> None:
    """The window's menu bar from :func:`menus`; every named action and submenu becomes a window attribute."""
    made: dict[str, Any] = {}
    for title, rows in menus().items():
        add_entries(window.menuBar().addMenu(title), rows, targets, window.grid, made, window)
    for attribute, obj in made.items():
        setattr(window, attribute, obj)
