"""Large plain triples files (``user,item,rating[,timestamp]`` with whole-number ids) read column-wise.

The general reader (load -> tables.read_triples) decodes the whole file, splits it into a Python
string per cell and factorizes the labels in Python: 23 s and 5 GB for 10 M lines. Most large rating
files are plain: ASCII ids without leading zeros, a rating of digits and a point, one delimiter. Those
are read here in blocks of BLOCK_BYTES with the MovieLens reader's numpy parser
(movielens_parse._fast_block: the fields' digits weighted by powers of ten, column-wise), so the
memory beyond the result is one block and the columns' pieces, and ids are factorized by a table
(movielens_parse.factorize_ids). Measured on 25 M lines (ML-25M's shape, 650 MB): see
benchmarks/README.md (bench_scale.py). numpy alone: pyarrow's or pandas' CSV reader would parse
faster still, but each is a large new dependency for a reader this one already matches in the
budget (under 30 s, under 2 GB beyond the arrays), and the ids would still need factorizing.

Anything else (text ids, a leading zero, a sign, spaces, quotes, a decimal comma, a bad line) makes
:func:`read_plain_triples` give None, and the general reader reads the file, with its sentences
for every bad input; the labels and ratings it gives are the same for a file both can read.
"""

from __future__ import annotations

import codecs
import os
from pathlib import Path

import numpy as np

from mfstudio.core.ratings import Ratings
from mfstudio.io.files import MAX_FILE_BYTES, open_input
from mfstudio.io.interactions import interactions
from mfstudio.io.movielens_parse import BLOCK_BYTES, _fast_block, factorize_ids, last_of_each_cell
from mfstudio.io.text import SNIFF_LINES, looks_numeric, sniff_delimiter, split_line, split_table, text_lines

FAST_MIN_BYTES = 1 << 20  # smaller files are read by the general reader (no gain worth a second path)
HEAD_BYTES = 1 << 16  # the head the layout, delimiter and header are judged from
DELIMITERS = ("\t", ",", ";", "::")  # the delimiters the column-wise parser splits at


def read_plain_triples(path: Path, fmt: str | None, scale: tuple[float, float] | None,
                       implicit: bool = False) -> tuple[Ratings, list[str]] | None:
    """Ratings and notices of a large plain triples file, as tables.read_triples gives them; None when the
    file is small, not plain triples, or not plain all through (the caller then reads it the general way).
    With ``implicit`` the third column is a count (io.interactions: repeats summed, zeros left out); a plain
    file has no sign, so no negative count, which the general reader would name."""
    from mfstudio.io.tables import choose_scale, guess_layout, is_triple_header

    if fmt not in (None, "triples"):
        return None
    with open_input(path, MAX_FILE_BYTES) as fh:
        if os.fstat(fh.fileno()).st_size < FAST_MIN_BYTES:
            return None
        head = fh.read(HEAD_BYTES)
        layout = _layout(head, fmt, guess_layout, is_triple_header)
        if layout is None:
            return None
        sep, width, skip = layout
        fh.seek(0)
        cols = _columns(fh, sep, width, skip)
    if cols is None:
        return None
    users, items, vals = cols
    user_ids, uidx = factorize_ids(users)
    item_ids, iidx = factorize_ids(items)
    del users, items
    user_labels, item_labels = [str(u) for u in user_ids.tolist()], [str(i) for i in item_ids.tolist()]
    if implicit:
        return interactions(uidx, iidx, vals, (len(user_ids), len(item_ids)), user_labels, item_labels,
                            name=path.name, where=lambda k: f"Line {k + 1} of the counts", scale=scale)
    keep = last_of_each_cell(uidx, iidx, len(item_ids))  # the last rating of each cell wins
    dups = int(uidx.size - keep.size)
    notices = [f"{dups:,} duplicate rating(s): the last one of each was kept."] if dups else []
    vals = vals[keep]
    sc, scale_notes = choose_scale(vals, scale)
    ratings = Ratings(uidx[keep], iidx[keep], vals, (len(user_ids), len(item_ids)), user_labels, item_labels, sc)
    return ratings, notices + scale_notes


def _layout(head: bytes, fmt: str | None, guess_layout, is_triple_header) -> tuple[bytes, int, int] | None:
    """(delimiter, cells per line, header bytes to skip) when the head is plain triples, else None."""
    if head.startswith((b"\x1f\x8b", b"PK")) or head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{") \
            or b"\x00" in head:
        return None
    bom = len(codecs.BOM_UTF8) if head.startswith(codecs.BOM_UTF8) else 0
    cut = head.rfind(b"\n")
    if cut < 0 or not head[bom:cut].isascii():
        return None
    lines = text_lines(head[bom:cut + 1].decode("ascii"))
    lines = [ln for ln in lines if ln.strip()][:2 * SNIFF_LINES]
    if len(lines) < 2:
        return None
    d = sniff_delimiter(lines)
    if d not in DELIMITERS:
        return None
    if fmt is None:
        kind, notes = guess_layout(split_table("\n".join(lines), d, lines))
        if kind != "triples" or notes:
            return None
    first = split_line(lines[0], d)
    has_header = is_triple_header(first) or (len(first) >= 3 and not looks_numeric(first[2], d != ","))
    body = split_line(lines[1 if has_header else 0], d)
    if len(body) not in (3, 4) or (has_header and len(first) != len(body)):
        return None
    skip = bom + (head.index(b"\n") + 1 if has_header else 0)
    return d.encode("ascii"), len(body), skip


def _columns(fh, sep: bytes, width: int, skip: int) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """The user ids, item ids and ratings of every line after ``skip`` bytes, block by block; None as
    soon as a block is not plain (the general reader then names what is wrong)."""
    fh.seek(skip)
    cols: tuple[list[np.ndarray], ...] = ([], [], [])
    carry = b""
    while True:
        chunk = fh.read(BLOCK_BYTES)
        data = carry + chunk
        if not chunk:
            block, carry = data, b""
        else:
            cut = data.rfind(b"\n") + 1
            if cut == 0:
                return None  # a line longer than a block: not a line of ratings
            block, carry = data[:cut], data[cut:]
        if block.strip():
            got = _fast_block(block, sep, width, plain=True)
            if got is None:
                return None
            for out, a in zip(cols, got):
                # ids as int32 while they fit: 16 bytes a line while reading, not 24
                out.append(a.astype(np.int32) if a.dtype.kind == "i" and a.size and a.max() < 2**31 else a)
        if not chunk:
            break
    if not cols[0]:
        return None
    joined = []
    for out in cols:
        joined.append(np.concatenate(out))
        out.clear()  # one column's blocks at a time, so the peak is the data plus one column
    return joined[0], joined[1], joined[2]
