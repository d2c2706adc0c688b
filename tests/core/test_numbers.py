"""Number text: the one rule for reading a number, and the ways numbers are written for people."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mfstudio.core.numbers import (
    DECIMAL_COMMA,
    NO_COMMA,
    UNAMBIGUOUS_COMMA,
    NumberError,
    exact_text,
    is_number,
    measure_text,
    param_text,
    read_number,
    read_numbers,
    read_whole,
    short_text,
    table_text,
)

# -- reading ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [("4", 4.0), ("3.5", 3.5), (" 4,5 ", 4.5), ("-1", -1.0), ("+2", 2.0), (".5", 0.5), ("5.", 5.0), ("1e0", 1.0),
     ("0", 0.0), ("\u00a03\u00a0", 3.0), ("\u202f2\t", 2.0)],
)
def test_a_typed_or_pasted_rating_is_read(text: str, value: float) -> None:
    assert read_number(text, UNAMBIGUOUS_COMMA) == value


@pytest.mark.parametrize("text", ["", "   ", "\t", "\u00a0"])
def test_blank_is_no_number(text: str) -> None:
    assert read_number(text, UNAMBIGUOUS_COMMA) is None and read_number(text) is None


@pytest.mark.parametrize(("text", "kind"), [
    ("abc", "text"), ("4 stars", "text"), ("1,2,3", "text"), ("1.2.3", "text"), ("--1", "text"), ("4,5.0", "text"),
    ("0x10", "text"), ("nan", "infinite"), ("inf", "infinite"), ("-Infinity", "infinite"), ("1e999", "infinite"),
    ("1_0", "underscore"), ("١٢", "digits"), ("５", "digits"),
])
def test_text_outside_the_rule_is_refused_with_a_reason(text: str, kind: str) -> None:
    with pytest.raises(NumberError) as err:
        read_number(text, UNAMBIGUOUS_COMMA)
    assert err.value.kind == kind


def test_minus_zero_is_zero() -> None:
    v = read_number("-0")
    assert v == 0 and math.copysign(1.0, v) == 1.0


@pytest.mark.parametrize("text", ["1,000", "12,345", "-1,000", "+999,999"])
def test_a_possible_thousands_separator_is_ambiguous_where_a_comma_may_be_decimal(text: str) -> None:
    with pytest.raises(NumberError) as err:
        read_number(text, UNAMBIGUOUS_COMMA)
    assert err.value.kind == "ambiguous"


@pytest.mark.parametrize(("text", "value"), [("4,5", 4.5), ("0,125", 0.125), ("1,0000", 1.0), ("1000,5", 1000.5),
                                             ("0,500", 0.5), ("-2,25", -2.25)])
def test_a_comma_that_cannot_separate_thousands_is_a_decimal_comma(text: str, value: float) -> None:
    assert read_number(text, UNAMBIGUOUS_COMMA) == value


def test_1_000_by_the_three_comma_modes() -> None:
    """One thousand is never guessed: a comma is no part of a number, or a decimal comma, or refused as ambiguous."""
    with pytest.raises(NumberError) as err:
        read_number("1,000", NO_COMMA)
    assert err.value.kind == "text"
    assert read_number("1,000", DECIMAL_COMMA) == 1.0
    with pytest.raises(NumberError) as err:
        read_number("1,000", UNAMBIGUOUS_COMMA)
    assert err.value.kind == "ambiguous"
    assert not is_number("1,000") and is_number("1,000", DECIMAL_COMMA) and not is_number("1,000", UNAMBIGUOUS_COMMA)


def test_whole_numbers_and_vectorised_reading_follow_the_rule() -> None:
    assert read_whole(" 12 ") == 12 and read_whole("-3") == -3
    for text in ("1.5", "1e3", "", "1_000", "1,000"):
        with pytest.raises(NumberError):
            read_whole(text)
    assert read_numbers(["1", " 2.5", "-0"]).tolist() == [1.0, 2.5, 0.0]
    assert read_numbers(["4,5"], DECIMAL_COMMA).tolist() == [4.5]
    assert read_numbers(["1_0"]) is None and read_numbers(["nan"]) is None and read_numbers(["4,5"]) is None
    assert read_numbers(["4"], UNAMBIGUOUS_COMMA) is None  # one by one, so an ambiguous cell is named


# -- writing ----------------------------------------------------------------------------------------------


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_exact_text_reads_back_as_the_same_float(value: float) -> None:
    text = exact_text(value)
    assert read_number(text) == value and read_number(text, UNAMBIGUOUS_COMMA) == value


@pytest.mark.parametrize(("value", "text"), [
    (3.0, "3"), (4.5, "4.5"), (0.1 + 0.2, "0.30000000000000004"), (1e-05, "1e-05"), (1e16, "1e+16"),
    (np.float64(2.5), "2.5"), (math.nan, ""),
])
def test_exact_text_is_the_shortest_and_empty_for_not_rated(value: float, text: str) -> None:
    assert exact_text(value) == text


@pytest.mark.parametrize(("value", "text"), [
    (4.4712345, "4.471"), (0.0, "0.000"), (-0.0001, "0.000"), (123456789.0, "1.23e+08"),
    (math.nan, "—"), (math.inf, "∞"), (-math.inf, "−∞"), (-1e-9, "0.000"), (4.52e-41, "0.000"), (0.00774, "0.008"),
    (-0.0126, "-0.013"), (99999.4, "99999.400"), (-2e5, "-2e+05"),
])
def test_table_text_has_fixed_decimals(value: float, text: str) -> None:
    assert table_text(value) == text


def test_table_text_takes_the_decimals_of_its_column() -> None:
    assert table_text(4.567, 2) == "4.57" and table_text(-0.004, 2) == "0.00" and table_text(5.0, 0) == "5"


@pytest.mark.parametrize(("value", "text"), [
    (73040.4, "73,040"), (82481.8, "82,482"), (1234.5, "1,234"), (0.81334, "0.8133"), (9.87654, "9.877"),
    (1.2e-05, "1.2e-05"), (0.0, "0"), (3.2e10, "3.2e+10"), (math.nan, "—"), (math.inf, "∞"), (-0.81334, "-0.8133"),
    (-1234.5, "-1,234"),
])
def test_measure_text_has_significant_digits(value: float, text: str) -> None:
    assert measure_text(value) == text


def test_measure_text_takes_its_digits() -> None:
    assert measure_text(3.14159, 3) == "3.14" and measure_text(0.0123456, 3) == "0.0123"
    assert measure_text(2718.3, 3) == "2,718"


@pytest.mark.parametrize(("value", "text"), [
    (0.0002, "0.0002"), (0.02, "0.02"), (1e-05, "1e-05"), (1500.0, "1500"), (10.0, "10"), (1e12, "1e+12"),
    (1 / 3, "0.333333"), (0.0, "0"), (-0.0, "0"), (2**31 - 1, "2,147,483,647"), (10_000, "10,000"), (1, "1"),
    (np.int64(1000), "1,000"), (np.float64(0.005), "0.005"),
])
def test_param_text_is_short_and_groups_whole_numbers(value: float | int, text: str) -> None:
    assert param_text(value) == text


def test_param_text_takes_its_digits() -> None:
    assert param_text(0.000123456, 3) == "0.000123" and param_text(123456, 3) == "123,456"
    assert param_text(0.25, 3) == "0.25" and param_text(math.inf, 3) == "inf"


@pytest.mark.parametrize(("value", "text", "signed"), [
    (3.5213, "3.52", "+3.52"), (12.345, "12.3", "+12.3"), (0.5, "0.50", "+0.50"), (0.0423, "0.042", "+0.042"),
    (-0.3, "-0.30", "-0.30"), (1234.5, "1,230", "+1,230"), (99.96, "100", "+100"), (0.9996, "1.00", "+1.00"),
    (0.0996, "0.10", "+0.10"), (0.0004, "0.00", "0.00"), (-0.0004, "0.00", "0.00"), (0.0, "0.00", "0.00"),
    (math.nan, "—", "—"), (-math.inf, "−∞", "−∞"),
])
def test_short_text_has_two_or_three_significant_digits(value: float, text: str, signed: str) -> None:
    assert short_text(value) == text and short_text(value, signed=True) == signed
