"""Telling a triples header from a matrix header (io/tables.py)."""

from __future__ import annotations

import pytest

from mfstudio.io.tables import is_triple_header


@pytest.mark.parametrize("header", [["userId", "movieId", "rating", "timestamp"], ["user", "item", "score"],
                                    ["user_id", "item_id", "stars"], ["user", "item", "value"]])
def test_triples_headers(header):
    assert is_triple_header(header)


@pytest.mark.parametrize("header", [["user", "Item 1", "Item 2"], ["user", "movie A", "movie B"],
                                    ["", "a", "b"], ["user", "item", "rating", "extra"]])
def test_matrix_headers_are_not_triples(header):
    """A grid of two items, as the window exports it, is a matrix (its third column names an item)."""
    assert not is_triple_header(header)


def test_a_line_of_counts_that_does_not_fit_is_spoken_of_as_counts():
    from mfstudio.io.errors import FileFormatError
    from mfstudio.io.tables import read_triples
    from mfstudio.io.text import split_table, text_lines

    text = "a,x,3\na,y,3,4\nb,x,2\n"
    table = split_table(text, ",", text_lines(text))
    with pytest.raises(FileFormatError, match="give every line user, item, count \\(and a timestamp"):
        read_triples(table, implicit=True)
    with pytest.raises(FileFormatError, match="give every line user, item, rating \\(and a timestamp"):
        read_triples(table)
    header = split_table("user,item,plays\n", ",", ["user,item,plays"])
    with pytest.raises(FileFormatError, match="has a header row but no counts; add lines of user, item, count"):
        read_triples(header, implicit=True)
