"""The files of a MovieLens download parsed: its ratings file in blocks with numpy (fast, and
line by line to name a bad line), its titles and genres files (u.item, movies.dat, movies.csv)."""

from __future__ import annotations

import codecs
import csv
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np

from mfstudio.core.numbers import NumberError, read_number
from mfstudio.io.errors import FileFormatError
from mfstudio.io.files import MAX_FILE_BYTES, approx_size
from mfstudio.io.text import text_lines

BLOCK_BYTES = 1 << 22  # ratings are parsed 4 MiB at a time (measured fastest: fits the cache, few Python calls)
MAX_LINE_BYTES = 1 << 20  # a "line" longer than this is not a line of ratings
MAX_ID = 2**62

# The 19 genres of ML-100K in the order of u.item's flags (u.genre names them; used when it is missing).
GENRES_100K = ("unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary",
               "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller",
               "War", "Western")
NO_GENRES = "(no genres listed)"
_CSV_HEADER = ("userid", "movieid", "rating")


def is_id(text: bytes | str) -> bool:
    """An id as MovieLens writes one: ASCII digits (str.isdigit also takes ١٢ and ²)."""
    return text.isascii() and text.isdigit()


def csv_header_ok(line: bytes | str) -> bool:
    """True for the header of the current layout's ratings.csv: userId,movieId,rating[,timestamp]."""
    text = line.decode("utf-8", "replace") if isinstance(line, bytes) else line
    cells = [c.strip().strip('"').strip().lower() for c in text.lstrip("\ufeff").split(",")]
    return tuple(cells[:3]) == _CSV_HEADER and len(cells) in (3, 4)


# -- the ratings, parsed fast ------------------------------------------------------------------------
_POW10 = 10 ** np.arange(19, dtype=np.int64)


def _digits(b: np.ndarray, starts: np.ndarray, ends: np.ndarray, decimal: bool,
            plain: bool = False) -> np.ndarray | None:
    """The numbers in fields ``b[starts:ends]`` (digits, and one '.' if ``decimal``), or None
    if any field is something else (the slow reader then names the line). With ``plain`` a
    whole number with a leading zero (007) is something else too: as a label it is not 7."""
    lengths = ends - starts
    if lengths.size == 0:
        return np.zeros(0, np.float64 if decimal else np.int64)
    width = int(lengths.max())
    if lengths.min() < 1 or width > 18:
        return None
    if plain and not decimal and np.any((b[starts] == 48) & (lengths > 1)):
        return None
    j = np.arange(width)
    idx = ends[:, None] - width + j  # fields right-aligned in a (fields x width) window
    np.maximum(idx, 0, out=idx)
    ch = b[idx] - np.uint8(48)  # '0'..'9' -> 0..9; anything else wraps above 9
    inside = j >= (width - lengths)[:, None]
    digit = (ch <= 9) & inside
    if not decimal:
        if not np.array_equal(digit, inside):
            return None
        return np.where(inside, ch, 0).astype(np.int64) @ _POW10[width - 1::-1]
    dot = (ch == np.uint8(254)) & inside  # '.' - '0' wraps to 254
    n_dots = dot.sum(axis=1)
    if np.any(inside & ~digit & ~dot) or n_dots.max() > 1 or np.any(digit.sum(axis=1) == 0):
        return None
    # each digit weighs 10 ** (digits to its right); the dot then divides by 10 ** (digits after it)
    right = np.cumsum(digit[:, ::-1], axis=1)[:, ::-1] - digit
    whole = (np.where(digit, ch, 0).astype(np.int64) * _POW10[right]).sum(axis=1)
    after = np.where(n_dots > 0, width - 1 - np.argmax(dot, axis=1), 0)
    return whole / _POW10[after]  # exact integers divided: the same double as float(text)


def _fast_block(data: bytes, sep: bytes, width: int,
                plain: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """user ids, movie ids, ratings of a block of whole lines, or None to use the slow reader
    (``plain``: ids with a leading zero too, see :func:`_digits`)."""
    if b"\x00" in data:
        return None
    if b"\r" in data:
        data = data.replace(b"\r", b"")
    s = sep[0]
    if len(sep) > 1:
        data = data.replace(sep, b"\x00")  # '::' to one byte that cannot be in the file (checked above)
        s = 0
    while b"\n\n" in data:
        data = data.replace(b"\n\n", b"\n")
    data = data.lstrip(b"\n")
    if not data.endswith(b"\n"):
        data += b"\n"
    b = np.frombuffer(data, np.uint8)
    ends = np.flatnonzero((b == s) | (b == 10))
    is_eol = b[ends] == 10
    n_lines = ends.size // width
    if ends.size != n_lines * width or np.count_nonzero(is_eol) != n_lines or not np.all(is_eol[width - 1::width]):
        return None
    starts = np.empty_like(ends)
    starts[0] = 0
    starts[1:] = ends[:-1] + 1
    users = _digits(b, starts[0::width], ends[0::width], False, plain)
    movies = _digits(b, starts[1::width], ends[1::width], False, plain)
    vals = _digits(b, starts[2::width], ends[2::width], True)
    if users is None or movies is None or vals is None:
        return None
    return users, movies, vals


def _slow_block(data: bytes, sep: bytes, width: int, first_line: int,
                where: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The same as :func:`_fast_block` line by line, naming the first line that is wrong."""
    text = data.decode("utf-8", "replace")
    d = sep.decode()
    users: list[int] = []
    movies: list[int] = []
    vals: list[float] = []
    for k, line in enumerate(text.split("\n")):
        if not line.strip():
            continue
        n = first_line + k
        cells = [c.strip() for c in line.split(d)]
        if len(cells) != width:
            raise FileFormatError(f"Line {n:,} of {where} has {len(cells)} fields where MovieLens has {width} "
                                  "(user, movie, rating, timestamp); the file may be damaged, so download it again.")
        for what, cell, out in (("user id", cells[0], users), ("movie id", cells[1], movies)):
            if not (cell.isascii() and cell.isdigit()) or int(cell) >= MAX_ID:
                shown = cell if len(cell) <= 30 else cell[:27] + "..."
                raise FileFormatError(f"Line {n:,} of {where} holds {shown!r} where a {what} (a whole number) "
                                      "should be; the file may be damaged, so download it again.")
            out.append(int(cell))
        try:
            v = read_number(cells[2])  # the one rule: the fast path reads only ASCII digits and '.'
        except NumberError:
            v = None
        if v is None:
            shown = cells[2] if len(cells[2]) <= 30 else cells[2][:27] + "..."
            raise FileFormatError(f"Line {n:,} of {where} holds {shown!r} where a rating should be; "
                                  "the file may be damaged, so download it again.")
        vals.append(v)
    return np.array(users, np.int64), np.array(movies, np.int64), np.array(vals, np.float64)


def _blocks(fh: BinaryIO, where: str, limit: int = MAX_FILE_BYTES) -> Iterator[tuple[bytes, int]]:
    """Whole lines in blocks of about BLOCK_BYTES, each with the number of its first line;
    refused once more than ``limit`` bytes came (whatever the file's size said)."""
    carry = b""
    line = 1
    total = 0
    while True:
        chunk = fh.read(BLOCK_BYTES)
        if not chunk:
            if carry:
                yield carry, line
            return
        total += len(chunk)
        if total > limit:
            raise FileFormatError(f"{where} holds more than MF Studio reads ({approx_size(limit)}); "
                                  "use a smaller MovieLens set.")
        data = carry + chunk
        cut = data.rfind(b"\n") + 1
        if cut == 0:
            if len(data) > MAX_LINE_BYTES:
                raise FileFormatError(f"{where} has a line longer than {MAX_LINE_BYTES // 1024**2} MiB, so it is not a "
                                      "MovieLens ratings file; check that it is the right file.")
            carry = data
            continue
        block, carry = data[:cut], data[cut:]
        yield block, line
        line += block.count(b"\n")


def read_ratings_stream(fh: BinaryIO, sep: bytes, header: bool,
                        where: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """user ids, movie ids and ratings of a MovieLens ratings file, in file order: fields split
    at ``sep``, after a header line (userId,movieId,rating,timestamp) when ``header``.

    Read in blocks of BLOCK_BYTES, each parsed column-wise with numpy (:func:`_fast_block`), so
    the memory beyond the result is a block and the columns' pieces (ids as int32 while they fit).
    """
    cols: tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]] = ([], [], [])
    width = 0
    for data, first_line in _blocks(fh, where):
        if first_line == 1:
            data = data.removeprefix(codecs.BOM_UTF8)
            if header:
                head, _, data = data.partition(b"\n")
                if not csv_header_ok(head.rstrip(b"\r")):
                    shown = head.decode("utf-8", "replace").strip()[:60]
                    raise FileFormatError(f"{where} starts with {shown!r}, not MovieLens's header "
                                          "userId,movieId,rating,timestamp; open it as a rating file instead of "
                                          "as MovieLens.")
                first_line = 2
        if not width:
            first = next((ln for ln in data.split(b"\n", 50)[:50] if ln.strip()), None)
            if first is None:
                continue
            width = len(first.split(sep))
            if width not in (3, 4):
                width = 4  # the slow reader names the line and what it should hold
        got = _fast_block(data, sep, width)
        if got is None:
            got = _slow_block(data, sep, width, first_line, where)
        for out, a in zip(cols, got):
            # ids as int32 while they fit: ML-25M's ratings then take 16 bytes a line, not 24
            out.append(a.astype(np.int32) if a.dtype.kind == "i" and a.size and a.max() < 2**31 else a)
    if not cols[0]:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    joined = []
    for out in cols:
        joined.append(np.concatenate(out))
        out.clear()  # one column's blocks at a time, so the peak is the data plus one column
    return joined[0], joined[1], joined[2]


def factorize_ids(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct ids in increasing order and each entry's index among them. MovieLens ids
    are small, so a table over 0..max does it in one pass instead of a sort."""
    top = int(ids.max())
    if top > 4 * ids.size + 1_000_000:
        uniq, inverse = np.unique(ids, return_inverse=True)
        return uniq, inverse.astype(np.int64).ravel()
    present = np.zeros(top + 1, dtype=bool)
    present[ids] = True
    position = np.cumsum(present, dtype=np.int64) - 1
    return np.flatnonzero(present), position[ids]


def last_of_each_cell(uidx: np.ndarray, iidx: np.ndarray, n_items: int) -> np.ndarray:
    """The positions of the entries to keep when a (user, item) cell is rated more than once: the
    last rating of each cell, in cell order.

    The cell and the position are packed into one int64 (cell x n + position) and sorted with numpy's
    default sort (3 to 6 times faster than a stable argsort, and np.unique is slower still in numpy 2);
    a stable argsort only when the packed number would overflow."""
    n = uidx.size
    if n == 0:
        return np.zeros(0, np.int64)
    key = uidx.astype(np.int64) * max(n_items, 1)
    key += iidx
    if int(key.max()) >= (2**63 - 1) // n - 1:
        order = np.argsort(key, kind="stable")
        ks = key[order]
        del key
        return order[np.append(ks[1:] != ks[:-1], True)]
    key *= n
    key += np.arange(n, dtype=np.int64)
    key.sort()
    cell, pos = np.divmod(key, n)
    del key
    last = np.append(cell[1:] != cell[:-1], True)
    del cell
    return pos[last]


# -- titles and genres -------------------------------------------------------------------------------
def decode_titles(data: bytes) -> str:
    """UTF-8 (ML-10M, ml-latest), else latin-1 (ML-100K's u.item, ML-1M's movies.dat)."""
    data = data.removeprefix(codecs.BOM_UTF8)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


@dataclass
class Titles:
    titles: dict[int, str]
    genres: dict[int, tuple[str, ...]]
    genre_names: tuple[str, ...] | None = None  # the full list, where the layout names it (ML-100K)
    bad_lines: list[int] | None = None


def genre_names_100k(text: str) -> tuple[str, ...]:
    """u.genre: 'name|index' lines, in index order."""
    named: dict[int, str] = {}
    for line in text_lines(text):
        name, _, index = line.rpartition("|")
        if name.strip() and is_id(index.strip()):
            named.setdefault(int(index), name.strip())
    if not named or sorted(named) != list(range(len(named))):
        return GENRES_100K
    return tuple(named[k] for k in range(len(named)))


def parse_u_item(text: str, names: tuple[str, ...] = GENRES_100K) -> Titles:
    """u.item: id|title|release date|video release date|IMDb URL|one 0/1 flag per genre."""
    out = Titles({}, {}, names, [])
    n_flags = len(names)
    for n, line in enumerate(text_lines(text), start=1):
        if not line.strip():
            continue
        f = line.split("|")
        if len(f) < 2 or not is_id(f[0].strip()):
            out.bad_lines.append(n)  # type: ignore[union-attr]
            continue
        mid = int(f[0])
        if mid in out.titles:
            continue
        out.titles[mid] = f[1].strip()
        flags = f[-n_flags:] if len(f) >= 5 + n_flags else []
        out.genres[mid] = tuple(g for g, x in zip(names, flags) if x.strip() == "1")
    return out


def parse_movies_dat(text: str) -> Titles:
    """movies.dat: MovieID::Title::Genres, genres separated by '|'."""
    out = Titles({}, {}, None, [])
    for n, line in enumerate(text_lines(text), start=1):
        if not line.strip():
            continue
        f = line.split("::")
        if len(f) < 2 or not is_id(f[0].strip()):
            out.bad_lines.append(n)  # type: ignore[union-attr]
            continue
        mid = int(f[0])
        if mid in out.titles:
            continue
        title = "::".join(f[1:-1]) if len(f) > 2 else f[1]
        genres = f[-1] if len(f) > 2 else ""
        out.titles[mid] = title.strip()
        out.genres[mid] = tuple(g.strip() for g in genres.split("|") if g.strip() and g.strip() != NO_GENRES)
    return out


def parse_movies_csv(text: str) -> Titles:
    """movies.csv: movieId,title,genres with a header; titles quoted when they hold commas."""
    out = Titles({}, {}, None, [])
    rows = csv.reader(text_lines(text))
    col = {"movieid": 0, "title": 1, "genres": 2}
    try:
        for row in rows:
            n = rows.line_num
            cells = [c.strip() for c in row]
            if not any(cells):
                continue
            if n == 1 and not is_id(cells[0]):
                words = [c.lower() for c in cells]
                if all(w in words for w in col):
                    col = {w: words.index(w) for w in col}
                continue
            if len(cells) <= max(col["movieid"], col["title"]) or not is_id(cells[col["movieid"]]):
                out.bad_lines.append(n)  # type: ignore[union-attr]
                continue
            mid = int(cells[col["movieid"]])
            if mid in out.titles:
                continue
            out.titles[mid] = cells[col["title"]]
            genres = cells[col["genres"]] if len(cells) > col["genres"] else ""
            out.genres[mid] = tuple(g.strip() for g in genres.split("|") if g.strip() and g.strip() != NO_GENRES)
    except csv.Error:
        out.bad_lines.append(rows.line_num)  # type: ignore[union-attr]  # the rest stays unread: its quotes are broken
    return out


def unique_titles(ids: list[int], titles: dict[int, str]) -> tuple[list[str], int]:
    """A label per film: its title, with its id added where titles repeat ('Chasing Amy (1997)
    (movie 246)'); 'Movie <id>' where there is none. Also how many films had no title."""
    raw = [titles.get(i, "").strip() for i in ids]
    counts = Counter(raw)
    labels = []
    missing = 0
    for mid, t in zip(ids, raw):
        if not t:
            missing += 1
            labels.append(f"Movie {mid}")
        elif counts[t] > 1:
            labels.append(f"{t} (movie {mid})")
        else:
            labels.append(t)
    # a title that happens to read like another's disambiguated label: count it up until unique
    seen: set[str] = set()
    for k, lab in enumerate(labels):
        cand, n = lab, 2
        while cand in seen:
            cand, n = f"{lab} ({n})", n + 1
        seen.add(cand)
        labels[k] = cand
    return labels, missing
