"""Rating files as text: a matrix (optional header row and user column) or triples
``user,item,rating[,timestamp]``; which of the two a file is, guessed from its head. Read as
implicit data (counts of events, see io.interactions) a matrix or triples hold counts, and a
file of two columns is events ``user,item``."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

import numpy as np

from mfstudio.core.keys import last_of_each
from mfstudio.core.numbers import DECIMAL_COMMA, NO_COMMA, read_numbers
from mfstudio.core.ratings import Ratings, factorize_labels, infer_scale
from mfstudio.io.csvsafe import restore
from mfstudio.io.errors import FileFormatError
from mfstudio.io.interactions import interactions
from mfstudio.io.text import SNIFF_LINES, Table, looks_numeric, parse_numbers

USUAL_SCALES = ((1.0, 5.0), (0.5, 5.0), (0.0, 5.0), (1.0, 10.0), (0.0, 10.0), (0.0, 1.0), (-1.0, 1.0))
CORNER_WORDS = {"", "user", "users", "userid", "name", "names", "id", "uid", "customer", "person",
                "people", "student", "students", "rater", "raters", "critic", "critics", "who"}
USER_WORDS = {"user", "userid", "users", "uid", "u", "customer", "customerid", "person", "rater",
              "reviewer", "reviewerid", "critic", "student", "who"}
ITEM_WORDS = {"item", "itemid", "items", "iid", "i", "movie", "movieid", "film", "product", "productid",
              "book", "isbn", "asin", "song", "track", "artist", "game", "course", "what"}
RATING_WORDS = {"rating", "ratings", "score", "stars", "value", "grade", "r", "vote", "preference",
                "bookrating", "rate"}
TIME_WORDS = {"timestamp", "time", "date", "datetime", "ts", "t", "when"}
COUNTS_CORNER = "user (counts)"  # the corner cell of a matrix of counts of events (export_ratings of implicit data)


def _word(cell: str) -> str:
    return re.sub(r"[^0-9a-z]", "", cell.strip().lower())


def choose_scale(vals: np.ndarray, given: tuple[float, float] | None = None) -> tuple[tuple[float, float], list[str]]:
    """The rating scale and notices about negative or out-of-scale ratings (which are kept).

    Without ``given``: the smallest usual scale holding every rating; failing that,
    the smallest usual scale holding at least 95 % of them.
    """
    notices: list[str] = []
    if given is not None:
        scale = (float(given[0]), float(given[1]))
    else:
        scale = infer_scale(vals)
        if scale not in USUAL_SCALES and vals.size:
            for a, b in USUAL_SCALES:
                if np.mean((vals >= a) & (vals <= b)) >= 0.95:
                    scale = (a, b)
                    break
    lo, hi = scale
    n_out = int(np.count_nonzero((vals < lo) | (vals > hi)))
    n_neg = int(np.count_nonzero(vals < 0))
    if n_out:
        notices.append(
            f"{n_out:,} rating(s) lie outside the scale {lo:g} to {hi:g}; they were kept, so check them in the file."
        )
    if n_neg and lo >= 0 and n_out < n_neg:
        notices.append(f"{n_neg:,} rating(s) are negative; they were kept, so check them in the file.")
    elif n_neg and lo < 0 and not n_out:
        notices.append(f"{n_neg:,} rating(s) are negative (the scale is {lo:g} to {hi:g}); they were kept.")
    elif n_neg and n_out:
        notices[-1] = notices[-1].replace("; they were kept", f" ({n_neg:,} of them negative); they were kept")
    return scale, notices


# -- which layout ---------------------------------------------------------------------
ITEM_PREFIXES = ("item", "movie", "product", "book")


def is_triple_header(cells: Sequence[str]) -> bool:
    """True for a header like ``userId,movieId,rating,timestamp`` or ``user;item;score``."""
    if len(cells) not in (3, 4):
        return False
    w = [_word(c) for c in cells]
    if len(w) == 4 and w[3] not in TIME_WORDS:
        return False
    rating_ok = w[2] in RATING_WORDS
    user_ok = w[0] in USER_WORDS or w[0].startswith("user")
    item_ok = w[1] in ITEM_WORDS or w[1].startswith(ITEM_PREFIXES)
    if not rating_ok and w[2].startswith(ITEM_PREFIXES):  # "user,Item 1,Item 2": a matrix of two items
        return False
    return rating_ok and (user_ok or item_ok) or (user_ok and item_ok)


def _whole(cells: list[str]) -> np.ndarray | None:
    v = read_numbers(cells)
    return v if v is not None and np.all(v == np.round(v)) else None


def guess_layout(table: Table) -> tuple[str, list[str]]:
    """``"matrix"`` or ``"triples"`` from the head of the table, and a notice when in doubt."""
    rows = table.rows[:SNIFF_LINES]
    if not rows:
        return "matrix", []
    ncols = Counter(len(r) for r in rows).most_common(1)[0][0]
    if ncols not in (3, 4):
        return "matrix", []
    dc = table.delimiter != ","
    first = rows[0]
    if is_triple_header(first):
        return "triples", []
    if len(first) >= 3 and not looks_numeric(first[2], dc):
        return "matrix", []  # a header of item names
    body = [r for r in rows if len(r) == ncols]
    cols = list(zip(*body))
    if not all(looks_numeric(c, dc) for c in cols[2] if c.strip()):
        return "matrix", []  # text where a rating should be: the matrix reader names the cell
    if any(not looks_numeric(c, dc) for c in cols[1] if c.strip()):
        return "triples", []  # item names in the second column
    users = [c.strip() for c in cols[0]]
    if any(not looks_numeric(c, dc) for c in users) and len(set(users)) < len(users):
        return "triples", []  # the same user name on several lines
    ids = _whole([c for col in cols[:2] for c in col])
    ratings = read_numbers([c for c in cols[2] if c.strip()] or ["0"], DECIMAL_COMMA if dc else NO_COMMA)
    if ids is not None and ids.size and ratings is not None:
        # ids may be negative (they are labels); what tells them from ratings is their size
        top = max(float(np.abs(ratings).max()), 1.0)
        if ncols == 4:
            ts = _whole(list(cols[3]))
            if ts is not None and ts.size and ts.min() >= 1e5 and ts.min() / 10 > top:
                return "triples", []  # a timestamp column
        if float(np.abs(ids).max()) > max(10.0, top):
            return "triples", []  # ids larger than any rating on a usual scale
    if ids is None:
        return "matrix", []  # user names in the first column, each once: a matrix
    note = (f"The file was read as a rating matrix with {ncols} columns; if each line is user, item, rating, "
            "open it as triples instead (--format triples).")
    return "matrix", [note]


# -- matrix -------------------------------------------------------------------------------
def _is_corner(cell: str) -> bool:
    w = cell.strip().lower()
    return _word(w) in CORNER_WORDS or "/" in w or "\\" in w or w == COUNTS_CORNER


def empty_text(name: str, implicit: bool) -> str:
    """What an empty file is told: to choose one of ratings, or of counts or events when read as implicit data."""
    what = "counts or events (user, item on each line)" if implicit else "ratings"
    return f"{name} is empty; choose a file that holds {what}."


def read_matrix(table: Table, *, keep_zeros: bool = False, scale: tuple[float, float] | None = None,
                name: str = "The file", implicit: bool = False) -> tuple[Ratings, list[str]]:
    """Ratings from a users x items grid; a blank cell (and 0 unless ``keep_zeros``) is not rated.
    With ``implicit`` the cells are counts of events: blank and 0 are no interaction (io.interactions)."""
    rows, lines = table.rows, table.lines
    if not rows:
        raise FileFormatError(empty_text(name, implicit))
    dc = table.delimiter != ","
    num = lambda c: not c.strip() or looks_numeric(c, dc)
    first = rows[0]
    corner = not num(first[0]) and _is_corner(first[0])  # e.g. "user" above a column of ids
    has_header = any(not num(c) for c in first[1:]) or (corner and len(rows) > 1)
    header = first if has_header else None
    body, body_lines = (rows[1:], lines[1:]) if has_header else (rows, lines)
    if not body:
        raise FileFormatError(f"{name} has a header row but no rows of ratings; add one row per user.")
    width = len(body[0])
    # trailing empty cells (a delimiter at the end of a line) are dropped
    trimmed = []
    for r in body:
        while len(r) > width and not r[-1].strip():
            r = r[:-1]
        trimmed.append(r)
    body = trimmed
    for r, ln in zip(body, body_lines):
        if len(r) != width:
            raise FileFormatError(
                f"Line {ln} has {len(r)} cells but line {body_lines[0]} has {width}; give every row the same "
                f"number of cells (leave a cell blank for 'not rated')."
            )
    has_labels = any(not num(r[0]) for r in body)
    if header is not None:
        h = list(header)
        while len(h) > width and not h[-1].strip():
            h = h[:-1]
        if len(h) == width - 1:
            has_labels = True
            h = [""] + h
        elif len(h) == width and width > 1 and _is_corner(h[0]):
            has_labels = True
        if len(h) != width:
            raise FileFormatError(
                f"The header on line {lines[0]} has {len(h)} cells but line {body_lines[0]} has {width}; "
                "give the header one name per column."
            )
        item_names = h[1:] if has_labels else h
    else:
        item_names = None
    notices: list[str] = []
    if header is not None and header[0].strip().lower() == COUNTS_CORNER and not implicit:
        implicit = True  # written by MF Studio from implicit data: it reads back as it was
        notices.append(f"{name} holds counts of events (its corner cell says {COUNTS_CORNER!r}), so it was read as "
                       "implicit data.")
    start = 1 if has_labels else 0
    n_users, n_items = len(body), width - start
    if n_items < 1:
        raise FileFormatError(f"{name} has user names but no rating columns; add one column per item.")
    users = [restore(r[0].strip()) or f"User {i + 1}" for i, r in enumerate(body)] if has_labels else None
    items = (
        [restore(c.strip()) or f"Item {j + 1}" for j, c in enumerate(item_names)]
        if item_names is not None
        else None
    )
    cells = [c for r in body for c in r[start:]]
    flat = np.array([bool(c.strip()) for c in cells], dtype=bool)
    idx = np.flatnonzero(flat)
    filled = [cells[k] for k in idx]

    def where(k: int) -> str:
        pos = int(idx[k])
        i, j = divmod(pos, n_items)
        col = f"column {j + start + 1}" + (f" ({items[j]})" if items else "")
        return f"Line {body_lines[i]}, {col},"

    vals = parse_numbers(filled, dc, where, "a count" if implicit else "a rating")
    r_idx, c_idx = np.divmod(idx, n_items)
    if implicit:
        ratings, more = interactions(r_idx, c_idx, vals, (n_users, n_items), users, items, name=name,
                                     where=lambda k: where(k).rstrip(","), scale=scale)
        return ratings, notices + more
    if not keep_zeros:
        nz = vals != 0
        r_idx, c_idx, vals = r_idx[nz], c_idx[nz], vals[nz]
    if vals.size == 0:
        hint = "" if keep_zeros else " (0 means not rated unless you keep zeros as ratings)"
        raise FileFormatError(
            f"{name} holds no ratings: every cell is blank{' or 0' if not keep_zeros else ''}{hint}; "
            "enter some ratings."
        )
    sc, scale_notes = choose_scale(vals, scale)
    notices += scale_notes
    for what, labels in (("user", users), ("item", items)):
        if labels is not None:
            dup = len(labels) - len(set(labels))
            if dup:
                notices.append(f"{dup} {what} name(s) appear more than once; they were kept as separate {what}s.")
    ratings = Ratings(r_idx, c_idx, vals, (n_users, n_items), users, items, sc)
    return ratings, notices


# -- triples ------------------------------------------------------------------------------
def read_triples(table: Table, *, keep_zeros: bool = True, scale: tuple[float, float] | None = None,
                 name: str = "The file", implicit: bool = False) -> tuple[Ratings, list[str]]:
    """Ratings from ``user,item,rating[,timestamp]`` lines; the last of duplicate cells wins.

    Labels are kept as given, in natural order (numeric ids sorted as numbers, other
    labels in order of first appearance). In triples a 0 is a rating
    that was given, so it is kept unless ``keep_zeros`` is False. With ``implicit`` the lines are
    ``user,item,count``: repeated cells are summed and a count of 0 is no interaction (io.interactions).
    """
    dc = table.delimiter != ","
    value = "count" if implicit else "rating"  # what the third column holds: the words of every message here
    plural = "counts" if implicit else "ratings"
    if table.columns is not None:
        cols = table.columns
        first = [c[0] for c in cols]
        has_header = is_triple_header(first) or (len(first) >= 3 and not looks_numeric(first[2], dc))
        skip = 1 if has_header else 0
        if len(cols[0]) <= skip:
            raise FileFormatError(f"{name} has a header row but no {plural}; add lines of user, item, {value}.")
        cols = [c[skip:] for c in cols]
        body_lines: Sequence[int] = range(skip + 1, len(cols[0]) + skip + 1)
        width = len(cols)
        if width not in (3, 4):
            raise FileFormatError(
                f"Line {body_lines[0]} has {width} cells, but each line of triples needs 3 or 4 "
                f"(user, item, {value} and an optional timestamp); check the delimiter and the columns."
            )
    else:
        rows, lines = table.rows, table.lines
        if not rows:
            raise FileFormatError(f"{name} is empty; choose a file that holds {plural}.")
        first = rows[0]
        has_header = is_triple_header(first) or (len(first) >= 3 and not looks_numeric(first[2], dc))
        body, body_lines = (rows[1:], lines[1:]) if has_header else (rows, lines)
        if not body:
            raise FileFormatError(f"{name} has a header row but no {plural}; add lines of user, item, {value}.")
        width = len(body[0])
        if width not in (3, 4):
            raise FileFormatError(
                f"Line {body_lines[0]} has {width} cells, but each line of triples needs 3 or 4 "
                f"(user, item, {value} and an optional timestamp); check the delimiter and the columns."
            )
        widths = set(map(len, body))
        if len(widths) > 1:
            k = next(k for k, r in enumerate(body) if len(r) != width)
            raise FileFormatError(
                f"Line {body_lines[k]} has {len(body[k])} cells but line {body_lines[0]} has {width}; "
                f"give every line user, item, {value} (and a timestamp on all or none)."
            )
        cols = [list(c) for c in zip(*body)]
    users = [restore(u.strip()) for u in cols[0]]
    items = [restore(i.strip()) for i in cols[1]]
    for what, labels in (("user", users), ("item", items)):
        try:
            k = labels.index("")
        except ValueError:
            continue
        raise FileFormatError(f"Line {body_lines[k]} has no {what}; give every line a user, an item and a {value}.")
    raw = list(cols[2])
    try:
        k = next(k for k, c in enumerate(raw) if not c.strip())
    except StopIteration:
        pass
    else:
        raise FileFormatError(f"Line {body_lines[k]} has no {value}; give every line a {value} or delete the line.")
    vals = parse_numbers(raw, dc, lambda k: f"Line {body_lines[k]}", f"a {value}")
    if implicit:
        ulab, uidx = factorize_labels(users)
        ilab, iidx = factorize_labels(items)
        return interactions(uidx, iidx, vals, (len(ulab), len(ilab)), ulab, ilab, name=name,
                            where=lambda k: f"Line {body_lines[k]}", scale=scale)
    if not keep_zeros:
        nz = vals != 0
        users = [u for u, z in zip(users, nz) if z]
        items = [i for i, z in zip(items, nz) if z]
        vals = vals[nz]
    if vals.size == 0:
        raise FileFormatError(f"{name} holds no ratings; add lines of user, item, rating.")
    ulab, uidx = factorize_labels(users)
    ilab, iidx = factorize_labels(items)
    n_items = max(len(ilab), 1)
    key = uidx * n_items + iidx
    keep = last_of_each(key)
    dups = len(key) - len(keep)
    notices = []
    if dups:
        notices.append(f"{dups:,} duplicate rating(s): the last one of each was kept.")
    sc, scale_notes = choose_scale(vals[keep], scale)
    notices += scale_notes
    ratings = Ratings(uidx[keep], iidx[keep], vals[keep], (len(ulab), len(ilab)), ulab, ilab, sc)
    return ratings, notices


# -- events ---------------------------------------------------------------------------------
EVENT_WIDTH = 2  # a line of events: user, item
TIMED_WIDTH = 3  # user, item and the event's time (read, not used: each line is one event)


def is_event_header(cells: Sequence[str]) -> bool:
    """True for a header of events such as ``user,item``, ``userId,artist`` or ``customer;product``."""
    timed = len(cells) == TIMED_WIDTH and _word(cells[2]) in TIME_WORDS
    if len(cells) != EVENT_WIDTH and not timed:
        return False
    u, i = _word(cells[0]), _word(cells[1])
    return (u in USER_WORDS or u.startswith("user")) and (i in ITEM_WORDS or i.startswith(ITEM_PREFIXES))


def read_events(table: Table, *, name: str = "The file",
                scale: tuple[float, float] | None = None) -> tuple[Ratings, list[str]]:
    """Implicit Ratings from lines of events ``user,item`` or ``user,item,timestamp`` (an optional header line
    first): each cell's count is how often its pair occurs."""
    if table.columns is not None:
        cols = table.columns
        if len(cols) not in (EVENT_WIDTH, TIMED_WIDTH):
            raise FileFormatError(f"Line 1 of {name} has {len(cols)} cells, but a line of events needs 2 (user, "
                                  "item); check the delimiter, or open the file as triples of counts.")
        body_rows = [list(r) for r in zip(*cols)]
        line_no: Sequence[int] = range(1, len(body_rows) + 1)
    else:
        body_rows, line_no = table.rows, table.lines
    if not body_rows:
        raise FileFormatError(f"{name} is empty; choose a file that holds events (user, item on each line).")
    skip = 1 if is_event_header(body_rows[0]) else 0
    body, lines = body_rows[skip:], line_no[skip:]
    if not body:
        raise FileFormatError(f"{name} has a header row but no events; add lines of user, item.")
    width = len(body[0])
    for r, ln in zip(body, lines):
        if len(r) != width or width not in (EVENT_WIDTH, TIMED_WIDTH):
            raise FileFormatError(f"Line {ln} has {len(r)} cells, but a line of events needs 2 (user, item) or 3 "
                                  "(and its time) on every line; give every line a user and an item, or open the "
                                  "file as triples of counts.")
    users = [restore(r[0].strip()) for r in body]
    items = [restore(r[1].strip()) for r in body]
    for what, labels in (("user", users), ("item", items)):
        if "" in labels:
            raise FileFormatError(f"Line {lines[labels.index('')]} has no {what}; give every line a user and an item.")
    ulab, uidx = factorize_labels(users)
    ilab, iidx = factorize_labels(items)
    return interactions(uidx, iidx, np.ones(len(users)), (len(ulab), len(ilab)), ulab, ilab, name=name,
                        where=lambda k: f"Line {lines[k]}", scale=scale)
