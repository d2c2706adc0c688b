"""Spreadsheet clipboard text: parse and format tab-separated blocks of cells.

Pure Python (no Qt) so the rules can be tested without a display.  The numbers in
the cells are read and written by :mod:`mfstudio.core.numbers`.  The format is
what Excel, LibreOffice and Google Sheets put on the clipboard: cells separated by
tabs, rows by CRLF/LF/CR, one trailing newline, and cells holding a tab, a newline
or a quote wrapped in double quotes with inner quotes doubled.
"""

from __future__ import annotations


def parse_block(text: str) -> list[list[str]]:
    """Split spreadsheet clipboard text into rows of cell strings.

    Tabs separate cells, CRLF/LF/CR end rows, a single trailing line end is
    ignored, and a cell that starts with ``"`` is read up to its closing quote
    (holding tabs, newlines and ``""`` for a quote).  An unclosed quote is kept as
    literal text.  Empty text gives no rows.
    """
    if not text:
        return []
    rows: list[list[str]] = []
    row: list[str] = []
    n = len(text)
    i = 0
    while True:
        # one cell starts at i
        if i < n and text[i] == '"':
            cell, j = _read_quoted(text, i)
            if cell is None:  # unclosed quote: the rest of the cell is literal text
                cell, i = _read_plain(text, i)
            else:
                rest, i = _read_plain(text, j)
                cell += rest
        else:
            cell, i = _read_plain(text, i)
        row.append(cell)
        if i >= n:
            rows.append(row)
            break
        ch = text[i]
        if ch == "\t":
            i += 1
            continue
        # a line end
        i += 2 if text.startswith("\r\n", i) else 1
        rows.append(row)
        row = []
        if i >= n:  # the trailing newline: no empty row after it
            break
    return rows


def _read_plain(text: str, i: int) -> tuple[str, int]:
    """Read an unquoted cell from i up to the next tab or line end."""
    j = i
    n = len(text)
    while j < n and text[j] not in "\t\r\n":
        j += 1
    return text[i:j], j


def _read_quoted(text: str, i: int) -> tuple[str | None, int]:
    """Read a quoted cell starting at the quote at i; None if it never closes."""
    out: list[str] = []
    j = i + 1
    n = len(text)
    while j < n:
        k = text.find('"', j)
        if k < 0:
            return None, i
        out.append(text[j:k])
        if k + 1 < n and text[k + 1] == '"':
            out.append('"')
            j = k + 2
            continue
        return "".join(out), k + 1
    return None, i


def format_block(rows: list[list[str]]) -> str:
    """Join rows of cell strings as tab-separated text that spreadsheets paste back.

    Cells holding a tab, a line end or starting with a quote are quoted.  No
    trailing newline is written, so one copied cell pastes as plain text.
    """
    lines = ["\t".join(_quote(c) for c in row) for row in rows]
    if rows and len(rows[-1]) == 1 and rows[-1][0] == "" and len(rows) > 1:
        lines[-1] = '""'  # otherwise it would read back as the ignored trailing newline
    elif len(rows) == 1 and rows[0] == [""]:
        lines[0] = '""'
    return "\n".join(lines)


def _quote(cell: str) -> str:
    if any(ch in cell for ch in "\t\r\n") or cell.startswith('"'):
        return '"' + cell.replace('"', '""') + '"'
    return cell

