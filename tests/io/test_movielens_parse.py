"""The MovieLens files parsed: the fast block parser agrees with the line-by-line one across block
boundaries, a bad line is named, and the titles files are read as their layouts write them."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import mfstudio.io as mio
from mfstudio.io import movielens_parse as mlp
from tests.io.test_fuzz import FUZZ
from tests.io.test_movielens import RATINGS_DAT, ml1m, ml_latest


@pytest.mark.parametrize("block", [16, 64, 1 << 22])
def test_blocks_of_any_size_give_the_same_ratings(tmp_path, monkeypatch, block):
    rng = np.random.default_rng(2)
    n = 3000
    u, i = rng.integers(1, 300, n), rng.integers(1, 5000, n)
    v = rng.integers(1, 11, n) / 2
    lines = [f"{a},{b},{c},{1000 + k}" for k, (a, b, c) in enumerate(zip(u, i, v))]
    lines[7] = lines[7].replace(".0,", ",", 1)  # '4' and '4.0' both appear
    d = tmp_path / "ml-latest-small"
    d.mkdir()
    (d / "ratings.csv").write_text("userId,movieId,rating,timestamp\n" + "\n".join(lines) + "\n")
    monkeypatch.setattr(mlp, "BLOCK_BYTES", block)
    r = mio.load(d).session.ratings
    ref = mio.load(d / "ratings.csv", fmt="triples").session.ratings  # the general reader
    assert r.users == ref.users and r.items == ref.items
    np.testing.assert_array_equal(r.to_dense(), ref.to_dense())


@FUZZ
@given(rows=st.lists(st.tuples(st.integers(0, 10**9), st.integers(0, 10**6),
                               st.sampled_from(["1", "4.5", "0.5", "3.25", "10", "005", "2."])),
                     min_size=1, max_size=30),
       sep=st.sampled_from([b"\t", b"::", b","]), crlf=st.booleans())
def test_fast_parser_equals_the_line_by_line_one(rows, sep, crlf):
    eol = b"\r\n" if crlf else b"\n"
    data = eol.join(sep.join([str(a).encode(), str(b).encode(), c.encode(), b"123"]) for a, b, c in rows) + eol
    fast = mlp._fast_block(data, sep, 4)
    slow = mlp._slow_block(data, sep, 4, 1, "f")
    assert fast is not None
    for a, b in zip(fast, slow):
        np.testing.assert_array_equal(a, b)
        assert a.dtype.kind == b.dtype.kind
    assert np.array_equal(fast[2], [float(c) for _, _, c in rows])


def test_a_bad_line_is_named_with_its_file_and_number(tmp_path, monkeypatch):
    d = ml1m(tmp_path)
    lines = RATINGS_DAT.splitlines() * 50
    lines[170] = "1::1193::five::978300760"
    (d / "ratings.dat").write_text("\n".join(lines) + "\n")
    monkeypatch.setattr(mlp, "BLOCK_BYTES", 100)  # the bad line is many blocks in
    with pytest.raises(mio.FileFormatError,
                       match=r"^Line 171 of ml-1m/ratings.dat holds 'five' where a rating should be"):
        mio.load(d)
    lines[170] = "1::1193::5"
    (d / "ratings.dat").write_text("\n".join(lines) + "\n")
    with pytest.raises(mio.FileFormatError, match=r"Line 171 of ml-1m/ratings.dat has 3 fields where MovieLens has 4"):
        mio.load(d)
    lines[170] = "x1::1193::5::1"
    (d / "ratings.dat").write_text("\n".join(lines) + "\n")
    with pytest.raises(mio.FileFormatError,
                       match=r"Line 171 .* holds 'x1' where a user id \(a whole number\) should be"):
        mio.load(d / "ratings.dat")


def test_a_ratings_csv_in_a_folder_without_the_header(tmp_path):
    d = ml_latest(tmp_path)
    (d / "ratings.csv").write_text("user,film,stars\n1,2,3\n")
    with pytest.raises(mio.FileFormatError, match="not MovieLens's header userId,movieId,rating,timestamp"):
        mio.load(d)


def test_titles_files_are_read_as_each_layout_writes_them():
    csv = mlp.parse_movies_csv('movieId,title,genres\n1,"Heat, the film (1995)",Action|Crime\n'
                               '2,Jumanji (1995),(no genres listed)\nx,Broken,Drama\n')
    assert csv.titles == {1: "Heat, the film (1995)", 2: "Jumanji (1995)"} and csv.bad_lines == [4]
    assert csv.genres == {1: ("Action", "Crime"), 2: ()}
    dat = mlp.parse_movies_dat("3::Grumpier Old Men (1995)::Comedy|Romance\n4::Waiting::to Exhale (1995)::Drama\n")
    assert dat.titles == {3: "Grumpier Old Men (1995)", 4: "Waiting::to Exhale (1995)"}
    item = mlp.parse_u_item("5|Copycat (1995)|01-Jan-1995||http://x|" + "|".join("1" if k in (8, 16) else "0"
                                                                            for k in range(19)) + "\n")
    assert item.titles == {5: "Copycat (1995)"} and item.genres == {5: ("Drama", "Thriller")}


def test_repeated_titles_get_their_ids_and_labels_stay_unique():
    labels, missing = mlp.unique_titles([1, 2, 3, 4], {1: "Amy", 2: "Amy", 3: "Amy (movie 1)"})
    assert labels == ["Amy (movie 1)", "Amy (movie 2)", "Amy (movie 1) (2)", "Movie 4"] and missing == 1
