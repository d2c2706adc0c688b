"""CSV cells a spreadsheet will not run: labels that would start a formula are neutralised.

A cell beginning with ``=``, ``+``, ``-`` or ``@`` (also after leading tabs or carriage
returns), or with a tab or carriage return itself, is taken by Excel and LibreOffice as
a formula (``=HYPERLINK(...)``, ``=cmd|' /C calc'!A0``). As OWASP's CSV-injection
guidance says, such a label is written with a single quote in front and the cell is
quoted; the spreadsheet then shows it as text. Numbers are never touched (a negative
factor stays ``-0.5``). Readers strip that quote again, so an export reads back with the
labels it was written from; session files keep labels exactly and need none of this.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@")
_LEADING_CONTROL = "\t\r"


def is_dangerous(label: str) -> bool:
    """True when a spreadsheet would read ``label`` as a formula."""
    if not label:
        return False
    if label[0] in _LEADING_CONTROL:
        return True
    return label.startswith(FORMULA_STARTS)


class Text(str):
    """A label cell: neutralised when dangerous, always written as text."""


def label(value: object) -> Text:
    """``value`` as a label cell (with the quote prefix when it would be a formula)."""
    s = str(value)
    return Text("'" + s if is_dangerous(s) else s)


def restore(cell: str) -> str:
    """A label read back from a CSV this program wrote: the neutralising quote removed."""
    if len(cell) >= 2 and cell[0] == "'" and is_dangerous(cell[1:]):
        return cell[1:]
    return cell


def field(value: Any) -> str:
    """One CSV field: a Text label quoted when neutralised or when CSV needs it; other values as given."""
    s = str(value)
    if isinstance(value, Text) and s.startswith("'") and is_dangerous(s[1:]):
        return '"' + s.replace('"', '""') + '"'
    if any(ch in s for ch in ',"\n\r') or (s != s.strip(" ") and s):
        return '"' + s.replace('"', '""') + '"'
    return s


def rows_csv(rows: Iterable[Sequence[Any]]) -> str:
    """Rows as CSV text (``\\n`` line ends), each field through :func:`field`."""
    return "".join(",".join(field(v) for v in row) + "\n" for row in rows)
