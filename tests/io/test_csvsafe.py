"""Spreadsheet formula injection: every CSV MF Studio writes neutralises labels that would run."""

from __future__ import annotations

import csv
import io

import pytest

import mfstudio.io as mio
from mfstudio.core.ratings import Ratings
from mfstudio.io import csvsafe
from tests.io.conftest import make_session

EVIL_USERS = ["=HYPERLINK(\"http://x\",\"y\")", "+1", "\t=cmd|' /C calc'!A0", "ok"]
EVIL_ITEMS = ["@SUM(A1)", "-2", "\r=1+1", "plain, with comma"]


@pytest.mark.parametrize("text,dangerous", [
    ("=1", True), ("+1", True), ("-x", True), ("@a", True), ("\t=1", True), ("\r@", True), ("\tx", True),
    ("a=1", False), ("", False), ("'=1", False), ("Film (1995)", False),
])
def test_which_labels_a_spreadsheet_would_run(text, dangerous):
    assert csvsafe.is_dangerous(text) is dangerous


def test_label_round_trip():
    for s in EVIL_USERS + EVIL_ITEMS:
        assert csvsafe.restore(csvsafe.label(s)) == s
    assert csvsafe.restore("'plain") == "'plain"  # a quote the program did not add stays


def test_every_exported_csv_neutralises_labels_and_leaves_numbers(tmp_path):
    r = Ratings([0, 1, 2, 3, 0], [0, 1, 2, 3, 3], [4.0, 2.0, 5.0, 1.0, 3.0], (4, 4), users=EVIL_USERS, items=EVIL_ITEMS)
    s = make_session("biased-sgd", ratings=r, hold_out=False)
    mio.export_results(tmp_path, s, min_ratings=1)
    mio.export_ratings(tmp_path / "ratings.csv", r)
    for name in ("P.csv", "Q.csv", "R_hat.csv", "recommendations.csv", "user_bias.csv", "item_bias.csv", "ratings.csv"):
        with open(tmp_path / name, encoding="utf-8", newline="") as fh:
            text = fh.read()
        cells = [c for row in csv.reader(io.StringIO(text)) for c in row]
        for c in cells:
            if c and c[0] in "=+-@\t\r":
                float(c)  # only numbers may start like a formula
        assert any(c.startswith("'") for c in cells), name
        assert '"\'=HYPERLINK' in text or '"\'@SUM' in text, name  # neutralised cells are quoted too
    with open(tmp_path / "Q.csv", encoding="utf-8", newline="") as fh:
        q = list(csv.reader(fh))
    assert q[0][1:] == ["'@SUM(A1)", "'-2", "'\r=1+1", "plain, with comma"]
    p = list(csv.reader(io.StringIO((tmp_path / "P.csv").read_text())))
    assert any(float(x) < 0 for row in p[1:] for x in row[1:])  # negative numbers are written as numbers


def test_exported_ratings_and_recommendations_read_back_with_the_labels_written(tmp_path):
    r = Ratings([0, 1, 2, 3, 0], [0, 1, 2, 3, 3], [4.0, 2.0, 5.0, 1.0, 3.0], (4, 4),
                users=["=A", "+B", "@C", "ok"], items=["-x", "y", "=z", "w"])
    mio.export_ratings(tmp_path / "ratings.csv", r)
    back = mio.load(tmp_path / "ratings.csv").session.ratings
    assert back.users == r.users and back.items == r.items
