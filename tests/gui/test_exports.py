"""File ▸ Export: the shown results into a folder, or one table as CSV that reads back; nothing before training."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtWidgets import QFileDialog, QMessageBox

from mfstudio import io
from mfstudio.core import Ratings, Session
from mfstudio.gui.experiment import RunEnd
from mfstudio.gui.exports import TABLES, Exporter
from tests.gui.test_document import Desk, make_desk

NOTHING = ("Nothing to export yet", "There are no results yet; press Train first.")


@pytest.fixture
def desk(qtbot):
    d = make_desk(qtbot)
    yield d
    d.close()


@pytest.fixture
def exporter(desk) -> Exporter:
    return Exporter(desk.document, desk.experiment)


@pytest.fixture
def warnings(monkeypatch):
    seen: list[tuple[str, str]] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda parent, title, text, *a, **k: seen.append((title, text)))
    return seen


@pytest.fixture
def save_as(monkeypatch):
    """Answer the save dialog with the path put in ``answer[0]`` (None: cancelled); records (caption, suggestion)."""
    answer: list = [None]
    asked: list[tuple[str, str]] = []

    def dialog(parent, caption, suggested, *a, **k):
        asked.append((caption, suggested))
        return ("" if answer[0] is None else str(answer[0])), "CSV files (*.csv)"

    monkeypatch.setattr(QFileDialog, "getSaveFileName", dialog)
    return answer, asked


def rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.reader(f))


def test_before_training_there_is_nothing_to_export_and_no_dialog_opens(exporter, warnings, tmp_path):
    assert exporter.export_results(tmp_path / "out") == []
    assert exporter.export_table("P") is None  # the conftest fails the test should a file dialog open
    exporter.export_results_dialog()
    assert warnings == [NOTHING] * 3
    assert not (tmp_path / "out").exists()


def test_the_ratings_export_before_training_and_read_back(desk, exporter, save_as, tmp_path):
    answer, asked = save_as
    desk.edit(0, 0, "3")
    answer[0] = tmp_path / "ratings"
    path = exporter.export_table("ratings")
    assert path == tmp_path / "ratings.csv"
    assert asked[0][0] == "Export ratings as CSV" and asked[0][1].endswith("ratings.csv")
    assert io.load(path).session.ratings == desk.document.grid_ratings()


@pytest.mark.parametrize("dense", [[[1, 2], [3, 4], [5, 1]], [[1, 2], [4, np.nan]]], ids=["full", "blank"])
def test_the_ratings_of_a_two_item_grid_read_back(desk, exporter, save_as, tmp_path, dense):
    answer, _asked = save_as
    desk.document.load_ratings(Ratings.from_dense(dense), title="two items")
    answer[0] = tmp_path / "ratings.csv"
    path = exporter.export_table("ratings")
    assert path is not None
    assert io.load(path).session.ratings == desk.document.grid_ratings()


def check_table(name: str, path: Path, desk: Desk, end: RunEnd) -> None:
    """The CSV of table ``name`` holds what the experiment shows."""
    f, r = end.shown.result.factors, end.shown.ratings
    table = rows(path)
    header, body = table[0], table[1:]
    if name == "P":
        assert header == ["user", "k1", "k2"] and [row[0] for row in body] == list(r.users)
        np.testing.assert_allclose(np.array(body)[:, 1:].astype(float), f.P, rtol=1e-5)
    elif name == "Q":
        assert header == ["k", *r.items] and [row[0] for row in body] == ["k1", "k2"]
        np.testing.assert_allclose(np.array(body)[:, 1:].astype(float), f.Q, rtol=1e-5)
    elif name == "R_hat":
        assert header == ["user", *r.items] and [row[0] for row in body] == list(r.users)
        np.testing.assert_allclose(np.array(body)[:, 1:].astype(float), f.predict_rows(0, r.n_users), rtol=1e-5)
    elif name in ("user_bias", "item_bias"):
        labels, bias = (r.users, f.user_bias) if name == "user_bias" else (r.items, f.item_bias)
        assert [row[0] for row in body] == list(labels)
        np.testing.assert_allclose([float(row[1]) for row in body], bias, rtol=1e-5)
    elif name == "recommendations":
        recs = desk.experiment.recommendations()
        assert header[:4] == ["user", "rank", "item", "predicted"] and len(body) == len(recs)
        assert [(row[0], int(row[1]), row[2]) for row in body] == [t[:3] for t in recs.rows(r)]
    elif name == "history":
        assert header[:2] == ["step", "objective"] and [int(row[0]) for row in body] == list(range(1, 61))
    else:
        assert io.load(path).session.ratings == desk.document.grid_ratings()


def test_every_table_is_written_as_a_csv_that_reads_back(qtbot, desk, exporter, save_as, tmp_path):
    answer, asked = save_as
    end = desk.train(qtbot, solver="biased-sgd", steps=60)
    assert len(TABLES) == 8
    for name, _title in TABLES:
        answer[0] = tmp_path / f"{name}.csv"
        path = exporter.export_table(name)
        assert path == tmp_path / f"{name}.csv" and path.is_file(), name
        assert asked[-1][1].endswith(f"{name}.csv")
        check_table(name, path, desk, end)
        assert desk.messages[-1] == (f"Exported the ratings to {path}." if name == "ratings"
                                     else f"Exported {name.replace('_', '-')} to {path}.")
    assert desk.settings.last_folder() == str(tmp_path)


def test_csv_is_added_unless_the_name_has_it_and_cancel_writes_nothing(qtbot, desk, exporter, save_as, tmp_path):
    answer, _asked = save_as
    desk.train(qtbot, steps=20)
    answer[0] = tmp_path / "mine.CSV"
    assert exporter.export_table("Q") == tmp_path / "mine.CSV"
    answer[0] = tmp_path / "p.txt"
    assert exporter.export_table("P") == tmp_path / "p.txt.csv"
    answer[0] = None
    assert exporter.export_table("R_hat") is None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.CSV", "p.txt.csv"]


def test_full_precision_writes_numbers_that_read_back_bit_for_bit(qtbot, desk, exporter, save_as, tmp_path):
    answer, _asked = save_as
    f = desk.train(qtbot, steps=20).shown.result.factors
    answer[0] = tmp_path / "short.csv"
    exporter.export_table("P")
    desk.settings.set_full_precision(True)
    answer[0] = tmp_path / "full.csv"
    exporter.export_table("P")
    full = np.array(rows(tmp_path / "full.csv")[1:])[:, 1:].astype(float)
    short = np.array(rows(tmp_path / "short.csv")[1:])[:, 1:]
    assert np.array_equal(full, f.P)
    digits = [len(v.lstrip("-").split("e")[0].replace(".", "").lstrip("0")) for v in short.ravel()]
    assert max(digits) <= 6


def test_a_model_without_biases_says_so_instead_of_writing_them(qtbot, desk, exporter, save_as, warnings, tmp_path):
    answer, _asked = save_as
    desk.train(qtbot, solver="sgd", steps=20)
    answer[0] = tmp_path / "b.csv"
    assert exporter.export_table("user_bias") is None
    assert warnings[-1][0] == "Could not export the table" and "no biases" in warnings[-1][1]
    assert not (tmp_path / "b.csv").exists()


def test_the_recommendations_follow_the_top_n_setting(qtbot, desk, exporter, save_as, tmp_path):
    answer, _asked = save_as
    desk.train(qtbot, steps=20)
    desk.experiment.set_recommendation_settings(1, 0)
    answer[0] = tmp_path / "recs.csv"
    body = rows(exporter.export_table("recommendations"))[1:]
    assert [row[1] for row in body] == ["1"] * 4  # one item for each of Example 1's 4 users


def test_export_results_writes_the_result_set_and_a_session_that_reopens(qtbot, desk, exporter, tmp_path):
    end = desk.train(qtbot, solver="biased-sgd", steps=40)
    out = tmp_path / "results"
    written = exporter.export_results(out)
    names = {p.name for p in written}
    assert {"P.csv", "Q.csv", "R_hat.csv", "history.csv", "recommendations.csv", "run.json",
            "user_bias.csv", "item_bias.csv"} <= names
    assert all(p.is_file() and p.parent == out for p in written)
    assert desk.messages[-1] == f"Wrote {len(written)} files to {out}."
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert run["solver"] == "biased-sgd" and run["final"]["step"] == 40
    session_file = next(p for p in written if p.suffix == ".mfstudio")
    session: Session = io.load(session_file).session
    assert session.ratings == end.shown.ratings
    assert np.array_equal(session.result.factors.P, end.shown.result.factors.P)


def test_the_exported_session_keeps_the_runs_table(qtbot, desk, exporter, tmp_path):
    desk.train(qtbot, solver="sgd", steps=30)
    desk.train(qtbot, solver="biased-sgd", steps=40)
    assert len(desk.document.runs.saved()) == 2
    written = exporter.export_results(tmp_path / "results")
    session: Session = io.load(next(p for p in written if p.suffix == ".mfstudio")).session
    assert [(r.solver, r.steps_done) for r in session.runs] == [("sgd", 30), ("biased-sgd", 40)]


def test_export_results_where_a_file_stands_is_refused_with_a_sentence(qtbot, desk, exporter, warnings, tmp_path):
    desk.train(qtbot, steps=20)
    taken = tmp_path / "taken"
    taken.write_text("not a folder", encoding="utf-8")
    assert exporter.export_results(taken) == []
    assert warnings and warnings[-1][0] == "Could not export the results"
    assert taken.read_text(encoding="utf-8") == "not a folder"


def test_the_folder_dialog_writes_there_and_remembers_the_folder(qtbot, desk, exporter, monkeypatch, tmp_path):
    desk.train(qtbot, steps=20)
    out = tmp_path / "chosen"
    out.mkdir()
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(out))
    exporter.export_results_dialog()
    assert (out / "P.csv").is_file() and desk.settings.last_folder() == str(out)


def test_a_results_tables_export_command_reaches_the_exporter(qtbot, window, save_as, tmp_path):
    answer, _asked = save_as
    assert window.exporter.document is window.document and window.exporter.experiment is window.experiment
    with qtbot.waitSignal(window.trainingFinished, timeout=20_000):
        window.train()
    answer[0] = tmp_path / "q.csv"
    window.results.q_table.action_export.trigger()  # the table's context menu: Export as CSV…
    assert rows(tmp_path / "q.csv")[0] == ["k", "Item 1", "Item 2", "Item 3", "Item 4"]


def test_export_results_with_a_hold_out_writes_held_out_csv_and_the_ranking_metrics(qtbot, desk, exporter, tmp_path):
    from mfstudio.core import load_example

    desk.document.load_ratings(load_example("movie-night"), title="Movie night")
    desk.controls.holdout_box.setValue(25)
    held = {(int(r), int(c)) for r, c in desk.document.grid_held_out_cells()}
    end = desk.train(qtbot, solver="biased-sgd", steps=30)
    out = tmp_path / "results"
    names = {p.name for p in exporter.export_results(out)}
    assert io.HELD_OUT_FILE in names and io.verify_export(out) == []
    r = end.shown.ratings
    lines = rows(out / io.HELD_OUT_FILE)
    assert lines[0] == ["user", "item", "rating"]
    assert {(r.users.index(u), r.items.index(i)) for u, i, _ in lines[1:]} == held
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert run["final"]["precision@10"] == pytest.approx(end.snapshot.ranking["precision@10"])
    assert rows(out / "history.csv")[0][-4:] == ["precision@10", "recall@10", "ndcg@10", "map@10"]
    manifest = json.loads((out / io.MANIFEST).read_text(encoding="utf-8"))
    assert io.HELD_OUT_FILE in {f["name"] for f in manifest["files"]}


def test_r_hat_of_data_too_large_to_show_whole_is_written_only_when_the_user_says_so(qtbot, desk, exporter, save_as,
                                                                                       monkeypatch, tmp_path):
    answer, asked = save_as
    n = 1500  # 2.25 M cells: past memory.SHOW_WHOLE_MAX_CELLS
    rng = np.random.default_rng(0)
    cells = rng.choice(n * n, 3000, replace=False)
    desk.document.load_ratings(Ratings(cells // n, cells % n, rng.integers(1, 6, 3000).astype(float), (n, n)),
                               title="big")
    desk.train(qtbot, solver="als", steps=2)
    questions: list[str] = []
    reply = [QMessageBox.StandardButton.No]
    monkeypatch.setattr(QMessageBox, "question",
                        lambda parent, title, text, *a, **k: questions.append(text) or reply[0])
    answer[0] = tmp_path / "R_hat.csv"
    assert exporter.export_table("R_hat") is None and asked == []  # declined: no file dialog, no file
    assert "1,500 users × 1,500 items is 2,250,000 numbers" in questions[0] and "MB on disk" in questions[0]
    reply[0] = QMessageBox.StandardButton.Yes
    path = exporter.export_table("R_hat")
    assert path == tmp_path / "R_hat.csv" and len(rows(path)) == n + 1
    answer[0] = tmp_path / "P.csv"
    assert exporter.export_table("P") == tmp_path / "P.csv" and len(questions) == 2  # P needs no question
