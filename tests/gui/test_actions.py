"""Commands as QActions: the factory, the keys (with fallbacks for standard keys), the menu table and the
shortcut list read back from the menus."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenuBar

from mfstudio.core import EXAMPLES
from mfstudio.gui import actions
from mfstudio.gui.actions import FALLBACK_KEYS, attribute_name, key_sequences, make_action, menus, shortcut_rows

pytestmark = pytest.mark.usefixtures("qapp")

K = QKeySequence.StandardKey
NATIVE = QKeySequence.SequenceFormat.NativeText


def texts(seqs: list[QKeySequence]) -> list[str]:
    return [s.toString() for s in seqs]


def no_platform_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """A platform (or a bare theme) that binds no keys to any standard command."""
    monkeypatch.setattr(QKeySequence, "keyBindings", staticmethod(lambda key: []))


def flatten(rows: list[tuple]) -> list[tuple]:
    """The table's rows, submenus' rows included."""
    out = []
    for row in rows:
        if row[0] == "menu":
            out.extend(flatten(row[3]))
        else:
            out.append(row)
    return out


def command_rows() -> list[tuple[str, str, tuple]]:
    """(menu title, text, row) of every row that makes an action of its own."""
    return [(title, row[0], row) for title, rows in menus().items() for row in flatten(rows) if len(row) == 5]


# -- key_sequences ----------------------------------------------------------------------------------
def test_keys_given_as_nothing_a_string_a_sequence_or_a_list():
    assert key_sequences(None) == []
    assert texts(key_sequences("Ctrl+E")) == ["Ctrl+E"]
    assert texts(key_sequences(QKeySequence("Ctrl+Shift+E"))) == ["Ctrl+Shift+E"]
    assert texts(key_sequences(["Ctrl+Return", "Ctrl+Enter"])) == ["Ctrl+Return", "Ctrl+Enter"]
    assert texts(key_sequences(["Esc", ["Ctrl+.", QKeySequence("F1")]])) == ["Esc", "Ctrl+.", "F1"]


def test_a_standard_key_gets_every_binding_of_the_platform(monkeypatch):
    monkeypatch.setattr(QKeySequence, "keyBindings",
                        staticmethod(lambda key: [QKeySequence("Ctrl+Z"), QKeySequence("Alt+Backspace")]))
    assert texts(key_sequences(K.Undo)) == ["Ctrl+Z", "Alt+Backspace"]


@pytest.mark.parametrize("key", list(FALLBACK_KEYS))
def test_a_standard_key_the_platform_does_not_bind_falls_back_to_the_usual_keys(monkeypatch, key):
    no_platform_keys(monkeypatch)
    assert texts(key_sequences(key)) == [QKeySequence(FALLBACK_KEYS[key]).toString()]


def test_a_standard_key_with_neither_binding_nor_fallback_gets_no_keys(monkeypatch):
    no_platform_keys(monkeypatch)
    assert K.Undo not in FALLBACK_KEYS
    assert key_sequences(K.Undo) == []
    bar = QMenuBar()
    make_action(bar, "&Undo", keys=K.Undo, menu=bar.addMenu("&Edit"))
    assert shortcut_rows(bar) == []  # Help ▸ Keyboard shortcuts must not list a command with blank keys


# -- make_action ------------------------------------------------------------------------------------
def test_make_action_quit_falls_back_to_ctrl_q_when_the_platform_has_none(monkeypatch):
    no_platform_keys(monkeypatch)
    owner = QObject()
    a = make_action(owner, "&Quit", keys=K.Quit)
    assert texts(a.shortcuts()) == ["Ctrl+Q"]


def test_make_action_sets_text_keys_tip_name_and_slot_and_joins_the_menu():
    bar = QMenuBar()
    menu = bar.addMenu("&File")
    called: list[bool] = []
    a = make_action(bar, "&Export…", lambda checked=False: called.append(checked), ["Ctrl+E", "Ctrl+Shift+X"],
                    tip="Write the results.", name="actionExport", context=Qt.ShortcutContext.WidgetShortcut,
                    menu=menu)
    assert a.parent() is bar and a.text() == "&Export…" and a.objectName() == "actionExport"
    assert texts(a.shortcuts()) == ["Ctrl+E", "Ctrl+Shift+X"]
    assert a.shortcutContext() == Qt.ShortcutContext.WidgetShortcut
    assert a.statusTip() == "Write the results." and a.toolTip() == "Write the results."
    assert not a.isCheckable() and a in menu.actions()
    a.trigger()
    assert called == [False]


def test_make_action_without_keys_keeps_the_default_context_and_can_be_checkable():
    owner = QObject()
    a = make_action(owner, "Full precision", checkable=True, context=Qt.ShortcutContext.WidgetShortcut)
    assert a.shortcuts() == [] and a.isCheckable()
    assert a.shortcutContext() == QAction(owner).shortcutContext()  # a context without keys is not set
    assert a.objectName() == "" and a.statusTip() == ""


# -- names ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name,attribute", [("actionSaveAs", "action_save_as"), ("actionNew", "action_new"),
                                            ("actionUndoClearRuns", "action_undo_clear_runs"),
                                            ("actionOpenFolder", "action_open_folder")])
def test_attribute_name_turns_an_object_name_into_the_window_attribute(name, attribute):
    assert attribute_name(name) == attribute


# -- the menu table ---------------------------------------------------------------------------------
def test_the_menu_bar_is_file_edit_training_help():
    assert list(menus()) == ["&File", "&Edit", "&Training", "&Help"]


def test_every_command_names_a_method_of_what_the_window_lends():
    from mfstudio.gui import MainWindow
    from mfstudio.gui.data_kind import DataKind
    from mfstudio.gui.document import Document
    from mfstudio.gui.exports import Exporter
    from mfstudio.gui.lesson_dialogs import LessonCommands
    from mfstudio.gui.run_commands import RunCommands
    from mfstudio.gui.views.plot import LossPlot

    owners = {"window": MainWindow, "commands": RunCommands, "document": Document, "exporter": Exporter,
              "plot": LossPlot, "lessons": LessonCommands, "data_kind": DataKind}
    rows = command_rows()
    assert len(rows) > 20
    for _title, text, (_t, command, _keys, _tip, _name) in rows:
        owner, method = command.partition(":")[0].split(".")
        assert callable(getattr(owners[owner], method, None)), f"{text}: {command}"


def test_named_actions_become_distinct_window_attributes():
    names = [row[4] for _title, _text, row in command_rows() if row[4]]
    assert all(n.startswith("action") for n in names)
    attributes = [attribute_name(n) for n in names]
    assert len(set(attributes)) == len(attributes)
    assert {"action_new", "action_open", "action_save", "action_save_as", "action_quit", "action_train",
            "action_export"} <= set(attributes)


def test_no_two_commands_share_a_key(monkeypatch):
    no_platform_keys(monkeypatch)  # the fallbacks, the same on every platform
    keys = [s.toString() for _title, _text, row in command_rows() for s in key_sequences(row[2])]
    assert len(keys) == len(set(keys)), sorted(k for k in keys if keys.count(k) > 1)


def test_the_export_menu_has_one_entry_per_table_and_the_example_menu_one_per_example():
    from mfstudio.gui.exports import TABLES

    file_rows = menus()["&File"]
    export = next(r for r in file_rows if r[0] == "menu" and r[2] == "export_menu")[3]
    table_commands = [r[1] for r in export if len(r) == 5 and ":" in r[1]]
    assert table_commands == [f"exporter.export_table:{name}" for name, _ in TABLES]
    examples = next(r for r in file_rows if r[0] == "menu" and r[2] == "examples_menu")[3]
    assert [r[1] for r in examples] == [f"document.open_example_asking:{name}" for name in EXAMPLES]


# -- build_menus with stand-ins -----------------------------------------------------------------------
class Recorder:
    """Any method: records (owner, method, args)."""

    def __init__(self, name: str, calls: list[tuple]) -> None:
        self._name, self._calls = name, calls

    def __getattr__(self, method: str):
        if method.startswith("_"):
            raise AttributeError(method)

        def call(*args):
            self._calls.append((self._name, method, args))

        return call


class Recent:
    def __init__(self) -> None:
        self.menus: list = []

    def attach_menu(self, menu) -> None:
        self.menus.append(menu)


class Grid:
    def __init__(self, parent: QObject) -> None:
        for _title, rows in menus().items():
            for row in flatten(rows):
                if row[0].startswith("grid:"):
                    setattr(self, row[0][5:], QAction(row[0][5:], parent))


@pytest.fixture
def built(qtbot):
    w = QMainWindow()
    qtbot.addWidget(w)
    w.grid = Grid(w)
    calls: list[tuple] = []
    recent = Recent()
    names = ("window", "commands", "document", "exporter", "plot", "lessons", "data_kind")
    targets = {name: Recorder(name, calls) for name in names}
    actions.build_menus(w, {**targets, "recent": recent})
    return w, calls, recent


def test_build_menus_makes_the_menu_bar_from_the_table(built):
    w, _calls, recent = built
    titles = [a.menu().title() for a in w.menuBar().actions()]
    assert titles == list(menus())
    assert w.action_save_as.objectName() == "actionSaveAs" and w.action_save_as.text() == "Save session &as…"
    assert w.export_menu.title() == "&Export" and w.examples_menu.title() == "Open e&xample"
    assert recent.menus == [w.recent_menu]
    edit = w.menuBar().actions()[1].menu()
    assert w.grid.action_undo in edit.actions() and w.grid.action_hold_out in edit.actions()


def test_each_command_calls_its_method_and_an_argument_is_passed_on(built):
    w, calls, _recent = built
    w.action_save_as.trigger()
    assert calls[-1][:2] == ("document", "save_session_as")
    first_table = next(a for a in w.export_menu.actions() if a.text() == "&P as CSV…")
    first_table.trigger()
    assert calls[-1] == ("exporter", "export_table", ("P",))
    w.examples_menu.actions()[1].trigger()
    assert calls[-1] == ("document", "open_example_asking", (list(EXAMPLES)[1],))
    w.action_undo_clear_runs.trigger()
    assert calls[-1][:2] == ("plot", "undo_clear")


# -- shortcut_rows --------------------------------------------------------------------------------------
def test_shortcut_rows_walk_submenus_drop_mnemonics_and_skip_commands_without_keys():
    bar = QMenuBar()
    file_menu = bar.addMenu("&File")
    make_action(bar, "Save && &quit", keys="Ctrl+Q", menu=file_menu)
    make_action(bar, "&About", menu=file_menu)
    file_menu.addSeparator()
    export = file_menu.addMenu("&Export")
    make_action(bar, "&P as CSV…", keys=["Ctrl+P", "Ctrl+Shift+P"], menu=export)
    def n(keys: str) -> str:
        return QKeySequence(keys).toString(NATIVE)

    assert shortcut_rows(bar) == [("File", "Save & quit", n("Ctrl+Q")),
                                  ("File ▸ Export", "P as CSV…", f"{n('Ctrl+P')}, {n('Ctrl+Shift+P')}")]


def test_every_menu_command_with_keys_is_listed_with_its_keys(window):
    rows = {(menu.split(" ▸ ")[0], text): keys for menu, text, keys in shortcut_rows(window.menuBar())}
    plain = actions._plain
    wanted = [(title, text, row) for title, text, row in command_rows() if row[2] is not None]
    assert len(wanted) >= 15
    for title, text, row in wanted:
        key = (plain(title), plain(text))
        assert key in rows, key
        assert rows[key] == ", ".join(s.toString(NATIVE) for s in key_sequences(row[2])), key
    for name in ("action_undo", "action_redo", "action_hold_out"):  # the grid's own commands are listed too
        assert ("Edit", plain(getattr(window.grid, name).text())) in rows
