"""Reading delimited text: bytes to str (BOM, UTF-8, cp1252 fallback), delimiter sniffing,
rows with their line numbers, and number parsing with a clear message per bad cell."""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from mfstudio.core.numbers import DECIMAL_COMMA, NO_COMMA, NumberError, read_number, read_numbers
from mfstudio.io.errors import FileFormatError

SNIFF_LINES = 200  # the delimiter is chosen from this many non-blank lines at the head
DELIMITERS = ("\t", ";", ",", "::", " ")  # in order of preference when several fit
DELIMITER_NAMES = {"\t": "tab", ";": "semicolon", ",": "comma", "::": "double colon", " ": "spaces"}


def looks_binary(text: str) -> bool:
    """True when the text holds NUL or many control characters (not a text file)."""
    head = text[:65536]
    if "\x00" in head:
        return True
    ctrl = sum(1 for ch in head if ch < " " and ch not in "\t\r\n\f\v")
    return ctrl > max(2, len(head) // 100)


def decode(data: bytes, name: str) -> tuple[str, list[str]]:
    """Bytes to text: UTF-8 (BOM or not), UTF-16 with a BOM, else cp1252 with a notice."""
    notices: list[str] = []
    if data.startswith(codecs.BOM_UTF8):
        raw = data[len(codecs.BOM_UTF8):]
        encodings = ["utf-8"]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raw, encodings = data, ["utf-16"]
    else:
        raw, encodings = data, ["utf-8", "cp1252"]
    text = None
    for enc in encodings:
        try:
            text = raw.decode(enc)
        except UnicodeDecodeError:
            continue
        if enc == "cp1252":
            notices.append(
                f"{name} is not UTF-8, so it was read as Windows-1252 (cp1252); "
                "if names look wrong, save it as UTF-8 and open it again."
            )
        break
    if text is None or looks_binary(text):
        raise FileFormatError(
            f"{name} is not a text file MF Studio can read; choose a CSV/TSV text file, an .npz, a .mfstudio session, "
            "or a MovieLens folder or .zip."
        )
    return text, notices


@dataclass
class Table:
    """Non-blank rows of cells (not stripped) and the 1-based line number of each."""

    rows: list[list[str]]
    lines: list[int]
    delimiter: str
    notices: list[str] = field(default_factory=list)
    columns: list[list[str]] | None = None  # set by the fast path instead of rows (lines 1..n)

    @property
    def delimiter_name(self) -> str:
        return DELIMITER_NAMES.get(self.delimiter, repr(self.delimiter))


def split_line(line: str, delim: str) -> list[str]:
    """One line's cells (quotes honoured for a one-character delimiter)."""
    if delim == " ":
        return line.split()
    if '"' in line and len(delim) == 1:
        return next(csv.reader([line], delimiter=delim), [""])
    return line.split(delim)


def sniff_delimiter(lines: list[str]) -> str:
    """The delimiter that splits most head lines into the same number (>= 2) of cells.

    Candidates are tried in the order tab, semicolon, comma, "::", spaces; the first
    one that gives a consistent count wins, so ``u1;i1;4,5`` is split at ``;``.
    """
    head = [ln for ln in lines[:SNIFF_LINES * 2] if ln.strip()][:SNIFF_LINES]
    if not head:
        return ","
    for d in DELIMITERS:
        counts = [len(split_line(ln, d)) for ln in head]
        mode, n_mode = Counter(counts).most_common(1)[0]
        # a header may differ by one cell; a ragged row is reported later, not here
        if mode >= 2 and n_mode >= max(1, int(0.8 * len(head))):
            return d
    return ","


_EOL = re.compile(r"\r\n|\r|\n")


def text_lines(text: str) -> list[str]:
    """Lines split at CR, LF or CRLF only (``str.splitlines`` also splits at \v, \f, \x1c-\x1e,
    \x85, \u2028 and \u2029, which may stand inside a label)."""
    lines = _EOL.split(text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def split_table(text: str, delimiter: str | None = None, lines: list[str] | None = None) -> Table:
    """Rows of cells from text; blank lines are skipped but line numbers are kept."""
    lines = text_lines(text) if lines is None else lines
    d = delimiter or sniff_delimiter(lines)
    if '"' in text and len(d) == 1 and d != " ":
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=d)
        rows, nums = [], []
        start = 1  # the line the current row starts on
        try:
            for row in reader:
                if any(c.strip() for c in row):
                    rows.append(row)
                    nums.append(reader.line_num)
                last_start, start = start, reader.line_num + 1
        except csv.Error as exc:
            raise FileFormatError(
                f"Line {reader.line_num} is not valid CSV ({exc}); check the quotes on that line."
            ) from None
        if rows and text.count('"') % 2:  # an odd count: some quote is never closed (even on the last line)
            # a quote never closed: the csv module reads on to the end of the file as one cell
            raise FileFormatError(f"Line {last_start} opens a quote (\") that is never closed, so the rest of the file "
                                  "would be read as one cell; close the quote or remove it.")
        return Table(rows, nums, d)
    if d == " ":
        split = str.split
        rows = [split(ln) for ln in lines]
    else:
        rows = [ln.split(d) for ln in lines]
    nums = list(range(1, len(rows) + 1))
    if any(not ln.strip() for ln in lines):
        keep = [k for k, ln in enumerate(lines) if ln.strip()]
        rows = [rows[k] for k in keep]
        nums = [k + 1 for k in keep]
    return Table(rows, nums, d)


def fast_columns(lines: list[str], d: str) -> list[list[str]] | None:
    """Columns of a large plain table in a few C-speed passes, or None to use the slow path.

    Only for a one-character delimiter, no quotes and no blank lines (trailing ones
    aside), where every line has the same number of cells; anything else (including a
    ragged row, whose message needs the row-by-row reader) returns None.
    """
    while lines and not lines[-1].strip():
        lines = lines[:-1]
    if len(d) != 1 or d == " " or not lines or "" in lines:
        return None
    joined = "\n".join(lines)
    if '"' in joined:
        return None
    width = lines[0].count(d) + 1
    b = np.frombuffer(joined.encode("utf-8"), dtype=np.uint8)
    d_pos = np.flatnonzero(b == ord(d))
    ends = np.append(np.flatnonzero(b == 10), b.size)
    per_line = np.diff(np.searchsorted(d_pos, ends), prepend=0)
    if np.any(per_line != width - 1):
        return None
    flat = joined.replace("\n", d).split(d)
    return [flat[k::width] for k in range(width)]


def is_number(cell: str, decimal_comma: bool) -> bool:
    """True when ``cell`` is a number by the one rule (:mod:`mfstudio.core.numbers`)."""
    try:
        return read_number(cell, DECIMAL_COMMA if decimal_comma else NO_COMMA) is not None
    except NumberError:
        return False


def looks_numeric(cell: str, decimal_comma: bool) -> bool:
    """True for a number, and for what Python's float takes besides (nan, inf, 1_0, ١٢): no
    number by the rule, but a cell meant as one, so it is named as a bad rating rather than
    taken for a header or for prose."""
    if is_number(cell, decimal_comma):
        return True
    try:
        float(cell.replace(",", ".") if decimal_comma else cell)
    except ValueError:
        return False
    return True


def parse_numbers(
    cells: list[str], decimal_comma: bool, where: Callable[[int], str], what: str = "a rating"
) -> np.ndarray:
    """Float array from non-blank cells; a bad cell raises with ``where(k)`` naming it.

    Cells are read by the one rule for numbers (:mod:`mfstudio.core.numbers`): text, NaN,
    infinity, underscores and non-ASCII digits are refused with a sentence that says where
    and what to do. A vectorised pass reads the common case; the first bad cell is then found
    one by one.
    """
    comma = DECIMAL_COMMA if decimal_comma else NO_COMMA
    vals = read_numbers(cells, comma)
    if vals is not None:
        return vals
    out = np.empty(len(cells))
    for k, c in enumerate(cells):
        try:
            x = read_number(c, comma)
        except NumberError as exc:
            shown = c.strip()
            shown = shown if len(shown) <= 30 else shown[:27] + "..."
            if exc.kind == "infinite":
                raise FileFormatError(
                    f"{where(k)} holds {shown!r}, which is not {what}; put a finite number there or leave it blank."
                ) from None
            if exc.kind in ("digits", "underscore"):
                raise FileFormatError(
                    f"{where(k)} holds {shown!r}, which {exc} where {what} should be; write it with the "
                    "digits 0-9 (and a point or comma), or leave it blank."
                ) from None
            raise FileFormatError(
                f"{where(k)} holds {shown!r} where {what} should be; put a number there or leave it blank."
            ) from None
        if x is None:
            raise FileFormatError(f"{where(k)} is blank where {what} should be; put a number there.")
        out[k] = x
    # every cell passed the rule one by one (the vectorised pass is stricter about spacing such as a
    # no-break space): the same values a paste or typing would give
    return out
