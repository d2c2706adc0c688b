"""Spreadsheet clipboard text: parsing, formatting and number reading (no Qt needed)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mfstudio.gui.clipboard import format_block, format_number, parse_block, parse_number


def test_tabs_and_lf() -> None:
    assert parse_block("1\t2\n3\t4") == [["1", "2"], ["3", "4"]]


def test_crlf_with_trailing_newline_gives_no_empty_row() -> None:
    assert parse_block("1\t2\r\n3\t4\r\n") == [["1", "2"], ["3", "4"]]


def test_lone_cr_line_ends() -> None:
    assert parse_block("1\r2\r") == [["1"], ["2"]]


def test_empty_cells_are_kept() -> None:
    assert parse_block("\t5\t\n4\t\t") == [["", "5", ""], ["4", "", ""]]


def test_only_one_trailing_newline_is_dropped() -> None:
    assert parse_block("1\n\n") == [["1"], [""]]


def test_empty_text_has_no_rows() -> None:
    assert parse_block("") == []


def test_quoted_cells_hold_tabs_newlines_and_quotes() -> None:
    text = '"a\tb"\t"line1\r\nline2"\t"say ""hi"""\r\n4\t5\t6\r\n'
    assert parse_block(text) == [["a\tb", "line1\r\nline2", 'say "hi"'], ["4", "5", "6"]]


def test_unclosed_quote_is_literal() -> None:
    assert parse_block('"abc\t1') == [['"abc', "1"]]


def test_quote_inside_cell_is_literal() -> None:
    assert parse_block('4"5\t1') == [['4"5', "1"]]


def test_format_block_quotes_only_when_needed() -> None:
    assert format_block([["1", "2.5"], ["", "x\ty"]]) == '1\t2.5\n\t"x\ty"'
    assert format_block([['"q']]) == '"""q"'


def test_format_block_keeps_a_last_empty_row() -> None:
    rows = [["1"], [""]]
    assert parse_block(format_block(rows)) == rows
    assert parse_block(format_block([[""]])) == [[""]]


_cell = st.text(alphabet=st.sampled_from(list('ab1.,"\t\r\n ')), max_size=6)


@given(st.integers(1, 4).flatmap(lambda w: st.lists(st.lists(_cell, min_size=w, max_size=w), min_size=1, max_size=4)))
def test_format_then_parse_round_trips(rows: list[list[str]]) -> None:
    assert parse_block(format_block(rows)) == rows


@pytest.mark.parametrize(
    ("text", "value"),
    [("4", 4.0), ("3.5", 3.5), (" 4,5 ", 4.5), ("-1", -1.0), ("+2", 2.0), (".5", 0.5), ("1e0", 1.0), ("0", 0.0),
     ("\u00a03\u00a0", 3.0)],
)
def test_parse_number_reads_ratings(text: str, value: float) -> None:
    assert parse_number(text) == value


@pytest.mark.parametrize("text", ["", "   ", "\t"])
def test_parse_number_empty_is_none(text: str) -> None:
    assert parse_number(text) is None


@pytest.mark.parametrize("text", ["abc", "4 stars", "nan", "inf", "1_0", "1,2,3", "1.2.3", "1e999", "--1", "4,5.0"])
def test_parse_number_refuses_text(text: str) -> None:
    with pytest.raises(ValueError):
        parse_number(text)


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_format_number_round_trips(value: float) -> None:
    assert parse_number(format_number(value)) == value


def test_format_number_is_compact() -> None:
    assert format_number(3.0) == "3"
    assert format_number(4.5) == "4.5"
    assert format_number(math.nan) == ""


def test_a_thousands_separator_is_not_read_as_a_decimal_comma():
    import pytest as _pytest

    from mfstudio.gui.clipboard import parse_number

    with _pytest.raises(ValueError):
        parse_number("1,000")
    assert parse_number("4,5") == 4.5 and parse_number("0,125") == 0.125
