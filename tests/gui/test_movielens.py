"""MovieLens downloads in the window: File ▸ Open folder, Open (a .zip), drag and drop, recent
files; items are titles and the genres survive Save and reopen (tiny files in the real layouts)."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest
from PySide6.QtWidgets import QFileDialog, QMessageBox

from mfstudio import io
from tests.gui.test_work_kept import _drop
from tests.io.test_movielens import ml1m, ml100k, ml_latest

TITLES_100K = ("Toy Story (1995)", "Café au lait (1993)", "Kolya (1996)", "Chasing Amy (1997) (movie 246)", "unknown",
               "Chasing Amy (1997) (movie 268)")
NOTICE_100K = "Read MovieLens 100K: 7 ratings of 6 films by 4 users, with titles and 19 genres."


@pytest.fixture
def warnings(monkeypatch):
    seen: list[tuple[str, str]] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda parent, title, text, *a, **k: seen.append((title, text)))
    return seen


def zipped(folder: Path, target: Path) -> Path:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for f in folder.iterdir():
            zf.write(f, f"{folder.name}/{f.name}")
    return target


def test_open_path_on_a_folder_shows_titles_in_id_order(window, tmp_path):
    folder = ml100k(tmp_path)
    assert window.open_path(folder)
    m = window.grid_model
    assert m.items == TITLES_100K and m.users == ("1", "2", "10", "196")
    assert window.document_title == "ml-100k" and window.session_path == folder
    assert window.statusBar().currentMessage() == NOTICE_100K
    assert window.grid_ratings().item_genres[3] == ("Drama", "Romance")


def test_open_a_zip_through_the_open_dialog(window, tmp_path, monkeypatch):
    z = zipped(ml_latest(tmp_path / "src"), tmp_path / "ml-latest-small.zip")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(z), ""))
    window.action_open.trigger()
    assert window.document_title == "ml-latest-small.zip"
    assert window.grid_model.items[1] == "American President, The (1995)" and window.grid_model.scale == (0.5, 5.0)
    assert "*.zip" in io.FILE_FILTERS[0]


def test_open_folder_menu_entry(window, tmp_path, monkeypatch):
    folder = ml1m(tmp_path)
    asked: list[str] = []
    monkeypatch.setattr(
        QFileDialog, "getExistingDirectory", lambda parent, title, start, *a: asked.append(title) or str(folder)
    )
    file_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&File")
    texts = [a.text() for a in file_menu.actions()]
    assert texts.index("Open &folder…") == texts.index("&Open…") + 1
    window.action_open_folder.trigger()
    assert asked == ["Open a MovieLens folder"]
    assert window.grid_model.items == ("James and the Giant Peach (1996)", "One Flew Over the Cuckoo's Nest (1975)",
                                       "Erin Brockovich (2000)")
    assert window.settings.last_folder() == str(tmp_path)  # beside the folder, to pick another download


def test_dropping_a_folder_or_a_zip_opens_it(window, tmp_path):
    folder = ml100k(tmp_path / "a")
    assert _drop(window, [folder]) == (True, True)
    assert window.grid_model.items == TITLES_100K
    assert _drop(window, [zipped(ml1m(tmp_path / "b"), tmp_path / "ml-1m.zip")]) == (True, True)
    assert window.document_title == "ml-1m.zip" and window.grid_model.shape == (3, 3)


def test_a_folder_in_recent_files_reopens_and_is_forgotten_when_gone(window, tmp_path):
    folder = ml100k(tmp_path)
    assert window.open_path(folder)
    window.open_example("example-1")
    assert [Path(p).name for p in window.recent.files()] == ["ml-100k"]
    window.recent_menu.aboutToShow.emit()
    entry = next(a for a in window.recent_menu.actions() if a.data())
    entry.trigger()
    assert window.grid_model.items == TITLES_100K and window.document_title == "ml-100k"
    window.open_example("example-1")
    shutil.rmtree(folder)
    assert window.document.open_recent(str(folder)) is False
    assert "no longer" in window.statusBar().currentMessage() and window.recent.files() == []


def test_titles_and_genres_survive_save_and_reopen(window, tmp_path, monkeypatch):
    assert window.open_path(ml100k(tmp_path))
    saved = tmp_path / "lesson.mfstudio"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(saved), ""))
    assert window.save_session()  # a MovieLens folder is no session: Save asks for a name
    window.open_example("example-1")
    assert window.open_path(saved)
    r = window.grid_ratings()
    assert r.items == TITLES_100K and r.item_genres[0] == ("Animation", "Children's", "Comedy")
    window.grid_model.rename_item(2, "Kolya")  # a renamed film keeps no genres; the others keep theirs
    assert window.grid_ratings().item_genres[2] == () and window.grid_ratings().item_genres[1] == ("Comedy",)


def test_a_folder_that_is_not_movielens_gets_a_dialog_and_the_data_stays(window, tmp_path, warnings):
    d = tmp_path / "holiday photos"
    d.mkdir()
    assert window.open_path(d) is False
    assert warnings == [("Could not open the file", "holiday photos has no MovieLens ratings file (looked for u.data, "
                         "ratings.dat, ratings.csv); open a rating file instead or choose the MovieLens folder.")]
    assert window.document_title == "Example 1"
