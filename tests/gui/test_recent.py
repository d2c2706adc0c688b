"""Recent files: newest first, at most 8, de-duplicated, missing files dropped; the menu."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMenu

from mfstudio.gui.recent import MAX_RECENT, RecentFiles, add_recent, existing_only, fill_menu
from mfstudio.gui.settings import Settings


@pytest.fixture
def files(tmp_path: Path) -> list[str]:
    out = []
    for k in range(10):
        p = tmp_path / f"r{k}.csv"
        p.write_text("1,2\n")
        out.append(str(p))
    return out


@pytest.fixture
def recent(qapp, tmp_path: Path) -> RecentFiles:
    return RecentFiles(Settings(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)))


def test_add_recent_moves_to_front_dedups_and_caps(files: list[str]) -> None:
    lst: list[str] = []
    for f in files:
        lst = add_recent(lst, f)
    assert lst == files[::-1][:MAX_RECENT]
    lst = add_recent(lst, files[5])
    assert lst[0] == files[5] and lst.count(files[5]) == 1 and len(lst) == MAX_RECENT
    same = os.path.join(os.path.dirname(files[5]), ".", os.path.basename(files[5]))
    assert add_recent(lst, same) == lst


def test_missing_files_are_dropped(recent: RecentFiles, files: list[str]) -> None:
    recent.add(files[0])
    recent.add(files[1])
    os.remove(files[0])
    assert recent.files() == [files[1]]
    assert recent.settings.recent_files() == [files[1]]
    assert existing_only([files[0], files[2]]) == [files[2]]


def test_add_remove_clear_emit_changed(recent: RecentFiles, files: list[str], qtbot) -> None:
    with qtbot.waitSignal(recent.changed, timeout=1000):
        recent.add(files[0])
    recent.add(files[1])
    recent.remove(files[0])
    assert recent.files() == [files[1]]
    with qtbot.waitSignal(recent.changed, timeout=1000):
        recent.action_clear.trigger()
    assert recent.files() == []


def test_fill_menu(qapp, files: list[str]) -> None:
    menu = QMenu()
    fill_menu(menu, [])
    assert [a.text() for a in menu.actions()] == ["No recent files"]
    assert not menu.actions()[0].isEnabled()
    acts = fill_menu(menu, files[:2])
    assert [a.text() for a in acts] == ["&1 r0.csv", "&2 r1.csv"]
    assert acts[1].data() == files[1] and acts[1].toolTip() == files[1]
    assert len(menu.actions()) == 2
    menu.deleteLater()


def test_attached_menu_opens_the_picked_file(recent: RecentFiles, files: list[str], qtbot) -> None:
    menu = QMenu()
    recent.attach_menu(menu)
    assert [a.text() for a in menu.actions()] == ["No recent files"]
    recent.add(files[3])
    menu.aboutToShow.emit()
    entries = [a for a in menu.actions() if a.data()]
    assert [a.data() for a in entries] == [files[3]]
    assert menu.actions()[-1] is recent.action_clear
    with qtbot.waitSignal(recent.openRequested, timeout=1000) as blocker:
        entries[0].trigger()
    assert blocker.args == [files[3]]
    menu.deleteLater()
