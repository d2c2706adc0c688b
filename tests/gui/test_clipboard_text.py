"""Spreadsheet clipboard text: splitting and joining tab-separated blocks, without Qt.

No test here uses a QApplication (no ``qapp`` or ``qtbot``), and one checks in a fresh
interpreter that the clipboard text module and the number rule work without importing Qt.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mfstudio.core.numbers import UNAMBIGUOUS_COMMA, exact_text, read_number
from mfstudio.gui.clipboard import format_block, parse_block

ROOT = Path(__file__).resolve().parents[2]


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


@given(st.lists(st.lists(st.floats(allow_infinity=False), min_size=3, max_size=3), min_size=1, max_size=4))
def test_copied_ratings_paste_back_as_the_same_numbers(rows: list[list[float]]) -> None:
    """What the grid copies (exact text, NaN as an empty cell) reads back, cell for cell, as the grid pastes it."""
    text = format_block([[exact_text(v) for v in row] for row in rows])
    back = [[read_number(cell, UNAMBIGUOUS_COMMA) for cell in row] for row in parse_block(text)]
    want = [[None if v != v else v for v in row] for row in rows]
    assert back == want


@pytest.mark.parametrize(("text", "block"), [
    ("4,5\t3\r\n", [["4,5", "3"]]),  # a decimal comma stays in its cell: only tabs separate cells
    ('"1,000"\t2', [["1,000", "2"]]),  # quotes are the spreadsheet's, not part of the number
])
def test_cells_keep_their_text_for_the_number_rule(text: str, block: list[list[str]]) -> None:
    assert parse_block(text) == block


def test_clipboard_text_and_the_number_rule_need_no_qt() -> None:
    code = textwrap.dedent("""
        import sys
        from mfstudio.core.numbers import UNAMBIGUOUS_COMMA, exact_text, read_number
        from mfstudio.gui.clipboard import format_block, parse_block
        rows = parse_block(format_block([[exact_text(4.5), ""], ["x\\ty", exact_text(0.1 + 0.2)]]))
        assert rows == [["4.5", ""], ["x\\ty", "0.30000000000000004"]], rows
        assert read_number("4,5", UNAMBIGUOUS_COMMA) == 4.5
        qt = sorted(m for m in sys.modules if m.split(".")[0] in ("PySide6", "shiboken6", "matplotlib"))
        assert not qt, qt
    """)
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
