"""Rating tables as text: matrix and triples layouts, encodings, delimiters, bad input."""

from __future__ import annotations

import numpy as np
import pytest

import mfstudio.io as mio
from mfstudio.io.text import sniff_delimiter

nan = np.nan


def dense(res: mio.LoadResult) -> np.ndarray:
    return res.session.ratings.to_dense()


# -- matrix layout ---------------------------------------------------------------------------
def test_matrix_with_header_and_user_column_crlf_and_trailing_blank_lines(load_text):
    res = load_text(",A,B,C\r\nalice,5,,3\r\nbob,0,4,1\r\n\r\n\r\n")
    r = res.session.ratings
    assert res.fmt == "matrix"
    assert r.users == ("alice", "bob") and r.items == ("A", "B", "C")
    np.testing.assert_array_equal(dense(res), [[5, nan, 3], [nan, 4, 1]])


def test_matrix_without_labels_zeros_are_not_rated_by_default(load_text):
    res = load_text("0,4.5,2.0,0\n4,0,3.5,0\n0,5,0,2\n0,3.5,4.0,1.0\n")
    r = res.session.ratings
    assert r.shape == (4, 4) and r.nnz == 9
    assert r.users[0] == "User 1" and r.items[3] == "Item 4"


def test_keep_zeros_keeps_zero_as_a_rating(load_text):
    res = load_text("0,4\n3,0\n", keep_zeros=True)
    np.testing.assert_array_equal(dense(res), [[0, 4], [3, 0]])
    assert res.session.ratings.scale == (0.0, 5.0)


def test_semicolon_with_decimal_comma_and_bom(load_text):
    res = load_text("\ufeffuser;A;B\nal;4,5;3\nbo;;2,5\n")
    r = res.session.ratings
    assert r.users == ("al", "bo") and r.items == ("A", "B")
    np.testing.assert_array_equal(dense(res), [[4.5, 3], [nan, 2.5]])


def test_tab_separated_with_header_lacking_the_corner_cell(load_text):
    res = load_text("A\tB\nann\t1\t2\nben\t3\t\n", name="r.tsv")
    assert res.session.ratings.items == ("A", "B")
    np.testing.assert_array_equal(dense(res), [[1, 2], [3, nan]])


def test_quoted_labels_with_delimiters_inside(load_text):
    res = load_text('"",\"Smith, J\",B\n"Doe; Ann",5,4\n')
    r = res.session.ratings
    assert r.items == ("Smith, J", "B") and r.users == ("Doe; Ann",)


def test_cp1252_falls_back_with_a_notice(load_text):
    res = load_text("user,caf\xe9\nzo\xeb,5\n".encode("cp1252"))
    assert res.session.ratings.items == ("café",) and res.session.ratings.users == ("zoë",)
    assert any("cp1252" in n for n in res.notices)


def test_utf16_with_bom_as_excel_unicode_text(load_text):
    res = load_text("user\tA\tB\r\nann\t1\t2\r\n".encode("utf-16"))
    np.testing.assert_array_equal(dense(res), [[1, 2]])


def test_sniffing_uses_many_lines_not_one():
    lines = ["u1;i1;4,5", "u1;i2;4", "u2;i1;3,5"]
    assert sniff_delimiter(lines) == ";"
    assert sniff_delimiter(["a,b,c", "1,2,3"]) == ","
    assert sniff_delimiter(["a\tb", "1\t2,5"]) == "\t"


def test_numeric_user_ids_under_a_corner_word(load_text):
    res = load_text("user,10,20\n7,5,\n9,,4\n")
    r = res.session.ratings
    assert r.users == ("7", "9") and r.items == ("10", "20")


def test_out_of_scale_and_negative_ratings_are_kept_and_reported(load_text):
    res = load_text("a,b\n" + "\n".join(["5,4"] * 20) + "\n-2,40\n")
    r = res.session.ratings
    assert r.scale == (1.0, 5.0)
    assert r.out_of_scale() == 2 and r.nnz == 42
    assert any("outside the scale 1 to 5" in n and "negative" in n for n in res.notices)


def test_scale_given_explicitly(load_text):
    res = load_text("1,2\n3,4\n", scale=(1, 10))
    assert res.session.ratings.scale == (1.0, 10.0)


def test_duplicate_labels_are_kept_and_reported(load_text):
    res = load_text(",A,A\nx,1,2\n")
    assert res.session.ratings.items == ("A", "A")
    assert any("more than once" in n for n in res.notices)


# -- triples layout ---------------------------------------------------------------------------
def test_u_data_lines_under_another_name_are_tab_triples(load_text):
    # (named u.data it is read as MovieLens: tests/io/test_movielens.py)
    res = load_text("196\t242\t3\t881250949\n186\t302\t3\t891717742\n22\t377\t1\t878887116\n", name="mine.tsv")
    r = res.session.ratings
    assert res.fmt == "triples"
    assert r.users == ("22", "186", "196") and r.items == ("242", "302", "377")  # numeric ids in numeric order
    assert r.nnz == 3


def test_ratings_csv_lines_under_another_name_are_triples_with_a_header(load_text):
    res = load_text("userId,movieId,rating,timestamp\n1,31,2.5,1260759144\n1,1029,3.0,1260759179\n2,31,4,1\n",
                    name="mine.csv")
    r = res.session.ratings
    assert res.fmt == "triples" and r.users == ("1", "2") and r.items == ("31", "1029")
    np.testing.assert_array_equal(r.to_dense(), [[2.5, 3.0], [4, nan]])
    assert r.scale == (1.0, 5.0)


def test_triples_numeric_ids_sort_numerically_text_labels_keep_the_file_order(load_text):
    res = load_text("user,item,rating\n10,b,1\n2,a,2\n1,c,3\n")
    r = res.session.ratings
    assert r.users == ("1", "2", "10") and r.items == ("b", "a", "c")
    np.testing.assert_array_equal(dense(res), [[nan, nan, 3], [nan, 2, nan], [1, nan, nan]])


def test_triples_with_text_labels_no_header(load_text):
    res = load_text("Alice,Titanic,5\nAlice,Up,3\nBob,Up,4\n")
    assert res.fmt == "triples"
    assert res.session.ratings.items == ("Titanic", "Up")


def test_triples_duplicates_last_one_wins_and_count_is_reported(load_text):
    res = load_text("user,item,rating\na,x,1\na,x,2\nb,y,3\na,x,5\n")
    np.testing.assert_array_equal(dense(res), [[5, nan], [nan, 3]])
    assert "2 duplicate rating(s): the last one of each was kept." in res.notices


def test_triples_keep_a_zero_rating(load_text):
    res = load_text("user;item;rating\na;x;0\nb;y;3,5\n")
    np.testing.assert_array_equal(dense(res), [[0, nan], [nan, 3.5]])


def test_forced_format_reads_small_numeric_triples(load_text):
    content = "1,2,5\n2,1,3\n3,3,4\n"
    assert load_text(content).fmt == "matrix"
    assert any("triples" in n for n in load_text(content).notices)
    res = load_text(content, fmt="triples")
    assert res.session.ratings.users == ("1", "2", "3")


def test_unknown_format_name_is_refused(load_text):
    with pytest.raises(mio.FileFormatError, match="no file format called 'xls'"):
        load_text("1,2\n", fmt="xls")


# -- bad input: each gets a clear FileFormatError ---------------------------------------------
@pytest.mark.parametrize(
    "content, pattern",
    [
        ("", "is empty"),
        ("\n\n  \n", "is empty"),
        ("A,B,C\n", "header row but no rows"),
        ("user,item,rating\n", "header row but no ratings"),
        ("1,2,3\n4,5\n6,7,8\n", "Line 2 has 2 cells but line 1 has 3"),
        ("a,b,c\n1,2,3\n4,5,6,7\n", "Line 3 has 4 cells"),
        ("x,A,B\nu,5,good\n", "Line 2, column 3 \\(B\\), holds 'good'"),
        ("1,nan\n2,3\n", "holds 'nan', which is not a rating"),
        ("1,2\n3,inf\n", "holds 'inf', which is not a rating"),
        ("0,0\n,0\n", "holds no ratings"),
        (",A\nu,\n", "holds no ratings"),
        ("user,item,rating\na,x,5\nb,y,\n", "Line 3 has no rating"),
        ("user,item,rating\na,x,5\nb,y,NaN\n", "Line 3 holds 'NaN'"),
        ("user,item,rating\na,x,5\n,y,4\n", "Line 3 has no user"),
        ("user,item,rating\na,x,5\nb,y,4,5,6\n", "Line 3 has 5 cells"),
        (b"\x00\x01\x02\xff\xfe\x00garbage\x00" * 50, "not a text file"),
        (bytes(range(256)) * 4, "not a text file"),
    ],
)
def test_bad_text_input(load_text, content, pattern):
    with pytest.raises(mio.FileFormatError, match=pattern):
        load_text(content)


def test_bad_triples_line_names_the_physical_line_despite_blank_lines(load_text):
    with pytest.raises(mio.FileFormatError, match="Line 5 holds 'x'"):
        load_text("user,item,rating\na,b,1\n\nc,d,2\ne,f,x\n")


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(mio.FileFormatError, match="There is no file at"):
        mio.load(tmp_path / "nope.csv")
    with pytest.raises(mio.FileFormatError, match="has no MovieLens ratings file"):
        mio.load(tmp_path)
    with pytest.raises(mio.FileFormatError, match="is a folder; only a MovieLens folder"):
        mio.load(tmp_path, fmt="triples")


def test_error_messages_are_one_sentence(load_text):
    with pytest.raises(mio.FileFormatError) as info:
        load_text("1,2,3\n4,5\n")
    msg = str(info.value)
    assert msg.endswith(".") and "\n" not in msg and ";" in msg


def test_large_triples_fast_path_equals_row_by_row_reader(load_text):
    rng = np.random.default_rng(1)
    lines = [
        f"{u},{i},{r}"
        for u, i, r in zip(rng.integers(0, 50, 3000), rng.integers(0, 80, 3000), rng.integers(1, 6, 3000))
    ]
    fast = load_text("user,item,rating\n" + "\n".join(lines) + "\n")
    quoted = load_text('"user","item","rating"\n' + "\n".join(lines) + "\n")  # quotes: the csv-module path
    assert fast.session.ratings == quoted.session.ratings and fast.notices == quoted.notices


def test_ragged_line_deep_in_a_large_triples_file_is_named(load_text):
    lines = [f"{k},{k % 7},3" for k in range(5000)]
    lines[4321] = "99,1"
    with pytest.raises(mio.FileFormatError, match="Line 4322 has 2 cells but line 1 has 3"):
        load_text("\n".join(lines), fmt="triples")


MOVIELENS_README = """SUMMARY & USAGE LICENSE
=============================================

MovieLens data sets were collected by the GroupLens Research Project
at the University of Minnesota.

This data set consists of:
\t* 100,000 ratings (1-5) from 943 users on 1682 movies.
\t* Each user has rated at least 20 movies.
        * Simple demographic info for the users (age, gender, occupation, zip)

The data was collected through the MovieLens web site
(movielens.umn.edu) during the seven-month period from September 19th,
1997 through April 22nd, 1998.
"""


@pytest.mark.parametrize("name, content", [
    ("README.md", "# MF Studio\n\nSee, teach and experiment with matrix factorization.\n\n"
                  "## Setup\n\nRun the two commands, then open a file.\n"),
    ("README", MOVIELENS_README),
    ("LICENSE.txt", "MIT License\n\nCopyright (c) 2024, the authors\n\nPermission is hereby granted, free of charge, "
                    "to any person obtaining a copy\nof this software, to deal in the Software without restriction,\n"),
    ("notes.csv", "hello\nworld\n"),
])
def test_a_text_file_that_is_not_ratings_is_called_that(load_text, name, content):
    with pytest.raises(mio.FileFormatError) as info:
        load_text(content, name=name)
    assert str(info.value) == (
        f"{name} does not look like ratings: most of its lines are words, not numbers; MF Studio reads a matrix or "
        "user,item,rating CSV/TSV, an .npz, a .mfstudio session, or a MovieLens folder or .zip.")


def test_a_rating_file_with_a_bad_cell_keeps_its_own_message(load_text):
    rows = "\n".join(f"u{k},{k % 5 + 1},{(k + 2) % 5 + 1}" for k in range(30))
    with pytest.raises(mio.FileFormatError, match="Line 12, column 3 \\(B\\), holds 'soon'"):
        load_text("user,A,B\n" + rows.replace("u10,1,3", "u10,1,soon") + "\n")
    with pytest.raises(mio.FileFormatError, match="Line 2 has 3 cells but line 1 has 1"):  # words, forced as a matrix
        load_text("a\nb,c,d\ne,f\n", fmt="matrix")


def test_every_reading_error_names_the_file(tmp_path):
    import mfstudio.io as mio

    p = tmp_path / "notes.md"
    p.write_text("# Notes\n1, 2, 3\n1, 2, 3\n")
    with pytest.raises(mio.FileFormatError, match=r"^notes\.md: Line 2 has 3 cells"):
        mio.load(p)
    png = tmp_path / "picture.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    with pytest.raises(
        mio.FileFormatError, match=r"^picture\.png is not a text file .* or a MovieLens folder or \.zip"
    ):
        mio.load(png)


@pytest.mark.parametrize("text", ['user,a,b\nu1,1,2\nu2,"3,4\n', 'user,item,rating\nu1,i1,5\nu2,i2,"4\n'])
def test_a_quote_left_open_on_the_last_line_is_named(tmp_path, text):
    import mfstudio.io as mio

    p = tmp_path / "q.csv"
    p.write_text(text)
    with pytest.raises(mio.FileFormatError, match=r"Line 3 opens a quote .* never closed"):
        mio.load(p)
