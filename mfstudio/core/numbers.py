"""The one place for number text: the rule for reading a number (files, pastes, typing, flags)
and the ways a number is written for people (tables, measures, parameters, exact copies).

A number is written in ASCII: an optional sign, digits with at most one decimal point, and an
optional exponent (``4``, ``-1``, ``+2``, ``3.5``, ``.5``, ``5.``, ``1e3``). Blank space around
it is ignored and ``-0`` is 0. Nothing else is a number, even where Python's ``float`` would take
it: underscores (``1_0``), digits other than 0-9 (``١٢``, ``５``), ``nan``, ``inf``, hexadecimal,
or a value too large for a float. A decimal comma is read where the caller says the context
allows one: always in a file whose cells are not separated by commas, and in a paste or a typed
cell when the text cannot be a thousands separator (``4,5`` but not ``1,000``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

import numpy as np

SPACES = " \t\r\n\u00a0\u202f\u2007"  # what is stripped around a number (spreadsheets add the no-break ones)
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?", re.ASCII)
_WHOLE = re.compile(r"[+-]?[0-9]+", re.ASCII)
_THOUSANDS = re.compile(r"[+-]?[1-9][0-9]{0,2},[0-9]{3}", re.ASCII)
_FAST_DELETE = b"0123456789+-.eE \t\r\n"  # the bytes a cell may hold for the vectorised path

NO_COMMA = "no"  # a comma is never part of a number (comma-separated files, flags)
DECIMAL_COMMA = "decimal"  # a comma is the decimal mark (files separated by tabs, semicolons ...)
UNAMBIGUOUS_COMMA = "unambiguous"  # a comma is the decimal mark unless it could separate thousands


class NumberError(ValueError):
    """Text that is not a number by the rule; ``str(err)`` is a short reason, ``kind`` one of
    "text", "digits" (not 0-9), "underscore", "infinite" (nan, inf or too large), "ambiguous"."""

    def __init__(self, reason: str, kind: str = "text") -> None:
        super().__init__(reason)
        self.kind = kind


_NOT_FINITE = re.compile(r"[+-]?(?:nan|inf|infinity)", re.IGNORECASE)


def _why_not(s: str) -> NumberError:
    if not s.isascii() and any(ch.isdigit() for ch in s):
        return NumberError("uses digits other than 0-9", "digits")
    if "_" in s and _NUMBER.fullmatch(s.replace("_", "")):
        return NumberError("holds an underscore", "underscore")
    if _NOT_FINITE.fullmatch(s):
        return NumberError("is not a finite number", "infinite")
    return NumberError("is not a number")


def read_number(text: str, comma: str = NO_COMMA) -> float | None:
    """The number ``text`` holds, None when it is blank, or NumberError saying why not."""
    s = text.strip(SPACES)
    if not s:
        return None
    if comma == DECIMAL_COMMA:
        s = s.replace(",", ".")
    elif comma == UNAMBIGUOUS_COMMA and "," in s and "." not in s and s.count(",") == 1:
        if _THOUSANDS.fullmatch(s):  # "1,000": one thousand or 1.0? refuse rather than guess
            raise NumberError("is ambiguous (a thousands separator or a decimal comma)", "ambiguous")
        s = s.replace(",", ".")
    if not _NUMBER.fullmatch(s):
        raise _why_not(s)
    value = float(s)
    if not math.isfinite(value):
        raise NumberError("is too large to be a number here", "infinite")
    return value + 0.0  # -0 is 0


def read_whole(text: str) -> int:
    """A whole number written with ASCII digits and an optional sign, or NumberError."""
    s = text.strip(SPACES)
    if not _WHOLE.fullmatch(s):
        raise _why_not(s) if s else NumberError("is blank")
    return int(s)


def is_number(text: str, comma: str = NO_COMMA) -> bool:
    """True when ``text`` is a number by the rule (blank is not)."""
    try:
        return read_number(text, comma) is not None
    except NumberError:
        return False


def read_numbers(cells: Sequence[str], comma: str = NO_COMMA) -> np.ndarray | None:
    """The numbers of non-blank ``cells`` as floats in one vectorised pass, or None when any cell
    breaks the rule (the caller then finds and names it with :func:`read_number`).

    numpy's text conversion takes what Python's ``float`` takes (``1_0``, ``١٢``, ``nan``), so the
    cells are first checked to hold only the bytes a number may have; within those bytes float's
    grammar is exactly the rule's.
    """
    if comma == UNAMBIGUOUS_COMMA:
        return None
    if comma == DECIMAL_COMMA:
        cells = [c.replace(",", ".") for c in cells]
    joined = "".join(cells)
    if not joined.isascii() or joined.encode("ascii").translate(None, _FAST_DELETE):
        return None
    try:
        vals = np.array(cells, dtype=np.float64)
    except (ValueError, TypeError, OverflowError):
        return None
    if vals.shape != (len(cells),) or not bool(np.all(np.isfinite(vals))):
        return None
    vals += 0.0  # -0 is 0
    return vals


# -- writing numbers for people ---------------------------------------------------------------------------


def exact_text(value: float) -> str:
    """The shortest text that reads back as the same float, for copying, exporting and editing:
    ``3`` (not ``3.0``), ``0.30000000000000004``, ``1e-05``; empty for NaN (not rated)."""
    if value != value:
        return ""
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


def table_text(value: float, decimals: int = 3) -> str:
    """A table cell with fixed ``decimals``, so a column reads evenly (a tiny value is 0.000, never
    4.52e-41 beside 0.00774, and never -0.000); only |value| >= 100,000 switches to 3 significant digits."""
    if not math.isfinite(value):
        return _not_finite(value)
    if abs(value) >= 1e5:
        return f"{value:.3g}"
    text = f"{value:.{decimals}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text


def measure_text(value: float, digits: int = 4) -> str:
    """A measure (objective, RMSE) with ``digits`` significant digits: 1,234, 0.8133, 73,040, 1.2e-05."""
    if not math.isfinite(value):
        return _not_finite(value)
    if value != 0 and 1 <= abs(value) < 10 ** digits:
        return f"{value:,.{max(0, digits - 1 - math.floor(math.log10(abs(value))))}f}"
    if 10 ** digits <= abs(value) < 1e9:
        return f"{value:,.0f}"  # 73,040 rather than 7.304e+04
    return f"{value:.{digits}g}"


def param_text(value: float | int, digits: int = 6) -> str:
    """A parameter's value in few characters, for its box, sentences and run labels: a whole number
    of int type grouped in thousands (``2,147,483,647``), any other in ``digits`` significant digits
    (``0.0002``, ``1e-05``, ``1500``, ``1e+12``); zero is ``0``, never ``-0``."""
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}"
    if value == 0:
        return "0"
    return f"{value:.{digits}g}"


def short_text(value: float, signed: bool = False) -> str:
    """A number a non-programmer reads, in 2-3 significant digits: ``3.52``, ``12.3``, ``0.50``, ``0.042``,
    ``1,234``; with ``signed`` a plus in front of a positive one (``+2.04``), as a push up or down reads.
    Below 0.0005 it is ``0.00`` (never ``-0.00``); the exact value goes in a tooltip (:func:`exact_text`)."""
    if not math.isfinite(value):
        return _not_finite(value)
    a = abs(value)
    if a < 0.0005:
        return "0.00"
    r = float(f"{a:.2g}") if a < 1 else float(f"{a:.3g}")  # rounded first: 99.96 is 100, not 100.0
    text = f"{r:#.2g}" if r < 1 else measure_text(r, 3)
    return ("-" if value < 0 else "+" if signed else "") + text


def _not_finite(value: float) -> str:
    return "—" if math.isnan(value) else ("∞" if value > 0 else "−∞")
