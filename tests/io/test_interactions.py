"""Implicit data (counts of events) through the readers: load(..., implicit=True) on events, triples of counts,
matrices, MovieLens layouts, sessions, .npz and the grid's CSV export; the rule of io.interactions."""

from __future__ import annotations

import json

import numpy as np
import pytest

import mfstudio.io as mio
from mfstudio.core.ratings import Ratings
from mfstudio.core.session import Session
from mfstudio.io.errors import FileFormatError
from mfstudio.io.interactions import as_interactions, interactions
from tests.io.conftest import make_session
from tests.io.test_movielens import RATINGS_CSV, RATINGS_DAT, U_DATA, cell, ml1m, ml100k, ml_latest, zip_folder


def dense(r: Ratings) -> list[list[float | None]]:
    return [[None if np.isnan(x) else float(x) for x in row] for row in r.to_dense()]


# -- events and triples ----------------------------------------------------------------------
def test_events_with_repeats_are_summed_into_counts(load_text):
    res = load_text("user,artist\nana,Fiddle Creek\nana,Fiddle Creek\nben,Pulsewave\nana,Pulsewave\n"
                    "ana,Fiddle Creek\n", implicit=True)
    r = res.session.ratings
    assert res.fmt == "events" and r.implicit
    assert r.users == ("ana", "ben") and r.items == ("Fiddle Creek", "Pulsewave")
    assert dense(r) == [[3.0, 1.0], [None, 1.0]]
    assert r.scale == (0.0, 3.0)  # 0 up to the largest count
    assert res.notices == ["2 repeated (user, item) line(s) were summed into their cell's count."]


def test_events_without_a_header_and_with_numeric_ids(load_text):
    r = load_text("10\t7\n2\t7\n10\t7\n10\t3\n", name="clicks.tsv", implicit=True).session.ratings
    assert r.users == ("2", "10") and r.items == ("3", "7")
    assert dense(r) == [[None, 1.0], [1.0, 2.0]]


def test_triples_of_counts_sum_repeated_cells_instead_of_keeping_the_last(load_text):
    text = "user,item,plays\nana,A,3\nana,A,2\nben,B,4\nana,B,1\n"
    res = load_text(text, implicit=True)
    assert res.fmt == "triples" and res.session.ratings.implicit
    assert dense(res.session.ratings) == [[5.0, 1.0], [None, 4.0]]
    assert "1 repeated (user, item) line(s) were summed into their cell's count." in res.notices
    ratings = load_text(text).session.ratings  # as ratings: today's rule, the last one wins
    assert not ratings.implicit and dense(ratings) == [[2.0, 1.0], [None, 4.0]]


def test_zero_counts_are_no_interaction_and_are_dropped_with_a_notice(load_text):
    res = load_text("ana,A,3\nben,B,0\nben,A,2\nana,B,0\n", implicit=True)
    r = res.session.ratings
    assert r.nnz == 2 and dense(r) == [[3.0, None], [2.0, None]]
    assert "2 cell(s) with a count of 0 were left out: 0 means no interaction." in res.notices


def test_only_zero_counts_is_one_sentence(load_text):
    with pytest.raises(FileFormatError, match=r"r.csv holds no interactions: every count is 0"):
        load_text("ana,A,0\nben,B,0\n", implicit=True)


def test_a_negative_count_is_one_sentence_naming_the_line(load_text):
    with pytest.raises(FileFormatError) as e:
        load_text("user,item,count\nana,A,3\nben,B,-2\n", implicit=True)
    msg = str(e.value)
    assert msg.startswith("r.csv: Line 3 holds the count -2, but a count of events cannot be negative;")
    assert msg.endswith(".") and msg.count(". ") == 0 and "without the implicit switch" in msg


def test_a_count_that_is_no_number_is_one_sentence_naming_the_line(load_text):
    with pytest.raises(FileFormatError, match=r"^r.csv: Line 2 holds 'lots' where a count should be"):
        load_text("ana,A,3\nana,B,lots\nben,B,1\n", implicit=True)
    with pytest.raises(FileFormatError, match=r"Line 2 has no count; give every line a count"):
        load_text("ana,A,3\nana,B,\nben,B,1\n", implicit=True, fmt="triples")


def test_a_ragged_events_file_names_the_line(load_text):
    with pytest.raises(FileFormatError, match=r"Line 3 has 3 cells, but a line of events needs 2"):
        load_text("ana,A\nben,B\nben,B,C\nana,A\nana,B\n", implicit=True, fmt="events")


def test_format_events_implies_implicit(load_text):
    r = load_text("ana,A\nana,A\n", fmt="events").session.ratings
    assert r.implicit and dense(r) == [[2.0]]


def test_events_with_a_timestamp_column_are_one_interaction_each(load_text):
    r = load_text("user,item,timestamp\nana,A,1700000000\nana,A,1700000100\nben,B,1700000200\n",
                  fmt="events").session.ratings
    assert r.implicit and dense(r) == [[2.0, None], [None, 1.0]]
    r = load_text("ana,A,1700000000\nana,A,1700000100\n", fmt="events").session.ratings  # no header
    assert dense(r) == [[2.0]]


def test_an_empty_file_read_as_counts_asks_for_counts_or_events(load_text):
    with pytest.raises(FileFormatError, match=r"is empty; choose a file that holds counts or events"):
        load_text("", implicit=True)
    with pytest.raises(FileFormatError, match=r"is empty; choose a file that holds ratings\.$"):
        load_text("")

def test_a_matrix_of_counts(load_text):
    res = load_text("listener,A,B,C\nana,3,,0\nben,0,12,1\n", implicit=True)
    r = res.session.ratings
    assert res.fmt == "matrix" and r.implicit and r.scale == (0.0, 12.0)
    assert dense(r) == [[3.0, None, None], [None, 12.0, 1.0]]
    with pytest.raises(FileFormatError, match=r"Line 3, column 2 \(A\) holds the count -1"):
        load_text("listener,A,B,C\nana,3,,0\nben,-1,12,1\n", implicit=True)


def test_a_large_plain_file_of_counts_is_summed_on_the_fast_path_too(write):
    rng = np.random.default_rng(3)
    n = 120_000  # over a MiB: read column-wise (io.fast_triples)
    u, i, c = rng.integers(1, 300, n), rng.integers(1, 200, n), rng.integers(0, 5, n)
    p = write("big.csv", "".join(f"{a},{b},{x}\n" for a, b, x in zip(u, i, c)))
    assert p.stat().st_size > 1 << 20
    got = mio.load(p, implicit=True).session.ratings
    want, _ = Ratings.from_triples(u.tolist(), i.tolist(), c.astype(float), implicit=True)
    assert got.implicit and got == want
    small = mio.load(write("small.csv", "".join(f"{a},{b},{x}\n" for a, b, x in zip(u[:50], i[:50], c[:50]))),
                     implicit=True).session.ratings
    assert small == Ratings.from_triples(u[:50].tolist(), i[:50].tolist(), c[:50].astype(float), implicit=True)[0]


def test_interactions_is_the_one_rule():
    r, notes = interactions(np.array([0, 0, 1, 1]), np.array([1, 1, 0, 1]), np.array([2.0, 3.0, 0.0, 1.0]), (2, 2),
                            None, None, name="f", where=lambda k: f"Entry {k}")
    assert r.implicit and dense(r) == [[None, 5.0], [None, 1.0]] and len(notes) == 2
    with pytest.raises(FileFormatError, match="^Entry 2 holds the count -1"):
        interactions(np.array([0, 0, 1]), np.array([0, 1, 0]), np.array([1.0, 2.0, -1.0]), (2, 2), None, None,
                     name="f", where=lambda k: f"Entry {k}")


# -- MovieLens as interactions -----------------------------------------------------------------------
@pytest.mark.parametrize("make, lines", [(ml100k, U_DATA), (ml1m, RATINGS_DAT), (ml_latest, RATINGS_CSV)])
def test_every_movielens_layout_reads_each_rating_as_one_interaction(tmp_path, make, lines):
    folder = make(tmp_path)
    as_ratings = mio.load(folder).session.ratings
    res = mio.load(folder, implicit=True)
    r = res.session.ratings
    assert res.fmt == "movielens" and r.implicit and not as_ratings.implicit
    assert r.users == as_ratings.users and r.items == as_ratings.items and r.item_genres == as_ratings.item_genres
    o, a = r.observed, as_ratings.observed
    assert np.array_equal(o.rows, a.rows) and np.array_equal(o.cols, a.cols)  # the same cells
    assert np.all(o.vals == 1.0) and r.scale == (0.0, 1.0)  # each rating one interaction, whatever its stars
    assert "each read as one interaction (implicit data)" in res.notices[0]
    zipped = mio.load(zip_folder(folder, tmp_path / f"{folder.name}.zip"), implicit=True).session.ratings
    assert zipped == r


def test_a_movielens_ratings_file_alone_and_a_film_rated_twice(tmp_path):
    d = ml1m(tmp_path)
    (d / "ratings.dat").write_text(RATINGS_DAT + "1::661::4::978302200\n")  # user 1 rated film 661 again
    res = mio.load(d / "ratings.dat", implicit=True)
    r = res.session.ratings
    assert cell(r, "1", "James and the Giant Peach (1996)") == 2.0 and r.scale == (0.0, 2.0)
    assert "1 repeated (user, item) line(s) were summed into their cell's count." in res.notices


# -- sessions, results and exports ------------------------------------------------------------------
def implicit_ratings() -> Ratings:
    return Ratings([0, 0, 1, 2], [0, 2, 1, 2], [3.0, 1.0, 7.0, 2.0], (3, 3), ["ana", "ben", "cy"],
                   ["A", "B", "C"], (0.0, 7.0), [["Folk"], ["Jazz"], ["Folk"]], implicit=True)


def test_a_session_keeps_the_flag_and_an_old_one_reads_as_ratings(tmp_path):
    s = Session(ratings=implicit_ratings(), held_out_cells=np.array([[1, 1]]), solver="als")
    p = tmp_path / "s.mfstudio"
    mio.save_session(p, s)
    doc = json.loads(p.read_text())
    assert doc["ratings"]["implicit"] is True
    back, notes = mio.load_session(p)
    assert back.ratings == s.ratings and back.ratings.implicit and notes == []
    del doc["ratings"]["implicit"]  # a file from before the flag
    p.write_text(json.dumps(doc))
    old, _ = mio.load_session(p)
    assert not old.ratings.implicit and np.array_equal(old.ratings.observed.vals, s.ratings.observed.vals)
    ratings_doc = json.loads(mio.session_to_bytes(Session(ratings=implicit_ratings().with_scale((0, 9)))))
    assert ratings_doc["ratings"]["implicit"] is True  # with_scale keeps it
    plain = Session(ratings=Ratings([0], [0], [4.0], (1, 1)))
    assert "implicit" not in json.loads(mio.session_to_bytes(plain))["ratings"]  # ratings: written as before
    doc["ratings"]["implicit"] = "yes"
    p.write_text(json.dumps(doc))
    with pytest.raises(FileFormatError, match=r"'ratings.implicit' has the wrong type"):
        mio.load_session(p)


def test_a_session_of_ratings_opened_with_the_switch_reads_its_values_as_counts(tmp_path):
    p = tmp_path / "r.mfstudio"
    mio.save_session(p, Session(ratings=Ratings([0, 1], [0, 1], [4.0, 2.0], (2, 2))))
    res = mio.load(p, implicit=True)
    assert res.session.ratings.implicit and res.session.ratings.scale == (0.0, 4.0)
    assert res.notices == ["r.mfstudio held ratings; they were read as counts of events (implicit data)."]
    neg = Ratings([0, 1], [0, 1], [4.0, -1.0], (2, 2), ["ana", "ben"], ["A", "B"], (-1, 5))
    with pytest.raises(FileFormatError, match=r"^x's entry for ben and B holds the count -1"):
        as_interactions(neg, "x")


def test_the_example_file_layout_carries_the_flag(write):
    p = write("log.json", json.dumps({"implicit": True, "users": ["a", "b"], "items": ["X", "Y"],
                                      "R": [[2, None], [0, 5]]}))
    r = mio.load(p).session.ratings
    assert r.implicit and dense(r) == [[2.0, None], [None, 5.0]]


def test_run_json_results_npz_and_the_grid_csv_keep_the_flag(tmp_path):
    s = make_session("als", steps=5, ratings=implicit_ratings())
    out = tmp_path / "out"
    mio.export_results(out, s, include_session=True)
    run = json.loads((out / "run.json").read_text())
    assert run["data"]["implicit"] is True and run["data"]["scale"] == [0.0, 7.0]
    assert mio.load(out / "results.npz").session.ratings.implicit
    assert mio.load(out / "session.mfstudio").session.ratings == s.ratings
    csv = tmp_path / "grid.csv"
    mio.export_ratings(csv, s.ratings)
    assert csv.read_text().startswith("user (counts),A,B,C\n")
    res = mio.load(csv)  # no switch needed: the corner says so
    back = res.session.ratings
    assert back.implicit and dense(back) == dense(s.ratings) and back.scale == s.ratings.scale
    assert back.users == s.ratings.users and back.items == s.ratings.items  # genres: a CSV has none
    assert res.notices == ["grid.csv holds counts of events (its corner cell says 'user (counts)'), so it was read "
                           "as implicit data."]
    assert mio.load(csv, implicit=True).notices == []
    plain = make_session("als", steps=5)
    mio.export_results(tmp_path / "plain", plain)
    assert json.loads((tmp_path / "plain" / "run.json").read_text())["data"]["implicit"] is False
    assert not mio.load(tmp_path / "plain" / "results.npz").session.ratings.implicit
