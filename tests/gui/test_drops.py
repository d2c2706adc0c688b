"""Drag and drop (gui/drops.py): a local file or folder is opened, anything else is refused."""

from __future__ import annotations

from PySide6.QtCore import QMimeData, QPoint, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent

from mfstudio.gui.drops import dropped_path
from tests.gui.test_document import csv_file


def drag(urls: list[QUrl] | None = None, text: str = "") -> QDragEnterEvent:
    md = QMimeData()
    if urls is not None:
        md.setUrls(urls)
    if text:
        md.setText(text)
    event = QDragEnterEvent(QPoint(5, 5), Qt.DropAction.CopyAction, md, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    event._md = md  # the event does not own its mime data
    return event


def test_dropped_path_accepts_a_local_file_or_folder(qapp, tmp_path):
    f = csv_file(tmp_path)
    assert dropped_path(drag([QUrl.fromLocalFile(str(f))])) == str(f)
    assert dropped_path(drag([QUrl.fromLocalFile(str(tmp_path))])) == str(tmp_path)


def test_dropped_path_refuses_a_url_text_and_what_is_not_there(qapp, tmp_path):
    assert dropped_path(drag([QUrl("https://example.org/ratings.csv")])) is None
    assert dropped_path(drag([QUrl.fromLocalFile(str(tmp_path / "missing.csv"))])) is None
    assert dropped_path(drag(text=str(csv_file(tmp_path)))) is None
    assert dropped_path(drag([])) is None


def test_dropped_path_takes_the_first_local_file_among_several(qapp, tmp_path):
    f = csv_file(tmp_path)
    urls = [QUrl("https://example.org/x.csv"), QUrl.fromLocalFile(str(tmp_path / "gone.csv")),
            QUrl.fromLocalFile(str(f))]
    assert dropped_path(drag(urls)) == str(f)
