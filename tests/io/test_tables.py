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
