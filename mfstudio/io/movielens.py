"""MovieLens downloads as they come: a folder, its ``.zip``, or its ratings file alone (the
titles are then read from beside it), in each of the three layouts GroupLens has published.

=============================  ===========================  ==================================
layout                         ratings                      titles and genres
=============================  ===========================  ==================================
ML-100K                        ``u.data`` (tab; also        ``u.item`` (``|``, latin-1, 19 genre
                               ``u1.base`` ... ``ub.test``)  flags) and ``u.genre`` (the names)
ML-1M, ML-10M                  ``ratings.dat`` (``::``)     ``movies.dat`` (``::``, genres ``|``)
current (ml-latest, ml-25m)    ``ratings.csv`` (header)     ``movies.csv`` (quoted titles)
=============================  ===========================  ==================================

Users and films come in the order of their ids; films are labelled by title (with the id
added where two films share a title) and keep their genres. Timestamps are ignored. The
ratings are parsed in blocks with numpy, so ML-25M's 25 million lines take seconds and
memory stays a small multiple of the ratings themselves. A ``.zip`` is read in memory,
never extracted, with a bound on what each member may unpack to.
"""

from __future__ import annotations

import codecs
import csv
import os
import re
import zipfile
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO

import numpy as np

from mfstudio.core.numbers import NumberError, read_number
from mfstudio.core.ratings import MAX_CELLS, Ratings
from mfstudio.io.errors import FileFormatError, describe_os_error
from mfstudio.io.files import MAX_FILE_BYTES, check_regular, open_input, zip_member_count
from mfstudio.io.text import text_lines

MAX_TITLES_BYTES = 256 * 1024**2  # movies.csv of ml-32m is ~4 MB; anything far larger is not a titles file
MAX_ZIP_MEMBERS = 100_000
BLOCK_BYTES = 1 << 22  # ratings are parsed 4 MiB at a time (measured fastest: fits the cache, few Python calls)
MAX_LINE_BYTES = 1 << 20  # a "line" longer than this is not a line of ratings
MAX_ID = 2**62

# The 19 genres of ML-100K in the order of u.item's flags (u.genre names them; used when it is missing).
GENRES_100K = ("unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary",
               "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller",
               "War", "Western")
NO_GENRES = "(no genres listed)"


@dataclass(frozen=True)
class Layout:
    """One MovieLens layout: file names and how their lines are split."""

    key: str
    ratings: str  # the usual name of the ratings file
    movies: str
    sep: bytes
    header: bool  # the ratings file starts with a header line


LAYOUTS = (
    Layout("100k", "u.data", "u.item", b"\t", False),
    Layout("dat", "ratings.dat", "movies.dat", b"::", False),
    Layout("csv", "ratings.csv", "movies.csv", b",", True),
)
RATING_NAMES = tuple(lay.ratings for lay in LAYOUTS)
LOOKED_FOR = ", ".join(RATING_NAMES)
_SPLITS_100K = re.compile(r"u[1-5ab]\.(base|test)", re.IGNORECASE)  # ML-100K's ready-made splits, same layout
_CSV_HEADER = ("userid", "movieid", "rating")


def _size(n: int) -> str:
    """1.9 MiB, 2.4 GiB: a size as people read it."""
    for unit, scale in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if n >= scale:
            return f"{n / scale:.2g} {unit}" if n < 10 * scale else f"{n / scale:,.0f} {unit}"
    return f"{n} bytes"


# The other files of a download, each with the ratings file beside it.
COMPANIONS = {**dict.fromkeys(("u.item", "u.genre", "u.user", "u.info", "u.occupation"), "u.data"),
              **dict.fromkeys(("movies.dat", "users.dat", "tags.dat"), "ratings.dat"),
              **dict.fromkeys(("movies.csv", "tags.csv", "links.csv", "genome-scores.csv", "genome-tags.csv"), "ratings.csv")}


def _is_id(text: bytes | str) -> bool:
    """An id as MovieLens writes one: ASCII digits (str.isdigit also takes ١٢ and ²)."""
    return text.isascii() and text.isdigit()


def layout_of_name(name: str) -> Layout | None:
    """The layout a ratings file of this name belongs to, or None."""
    low = name.lower()
    if _SPLITS_100K.fullmatch(low):
        return LAYOUTS[0]
    return next((lay for lay in LAYOUTS if lay.ratings == low), None)


# -- where the files are: a folder or a zip ------------------------------------------------------
class _Source:
    """A folder or a .zip: finds the MovieLens files in it and opens them for reading."""

    name: str  # what the user chose, as shown in messages

    def candidates(self) -> list[tuple[int, str]]:
        """(depth, key) of every file within reach; key is a '/'-separated relative path."""
        raise NotImplementedError

    def open(self, key: str, limit: int) -> BinaryIO:
        raise NotImplementedError

    def where(self, key: str) -> str:
        """How to name a member in a message: 'ml-1m.zip/ml-1m/ratings.dat' (control characters shown as '?')."""
        return re.sub(r"[\x00-\x1f\x7f]", "?", f"{self.name}/{key}")

    def close(self) -> None:
        pass

    def find(self, filename: str, folder: str | None = None) -> str | None:
        """The shallowest file called ``filename`` (any case), or the one in ``folder`` if given."""
        low = filename.lower()
        hits = sorted((d, k) for d, k in self.candidates() if PurePosixPath(k).name.lower() == low
                      and (folder is None or str(PurePosixPath(k).parent) == folder))
        return hits[0][1] if hits else None

    def read(self, key: str, limit: int) -> bytes:
        with self.open(key, limit) as fh:
            data = fh.read(limit + 1)
        if len(data) > limit:
            raise FileFormatError(f"{self.where(key)} is larger than {_size(limit)}, far more than a MovieLens "
                                  "titles file; check that it is the right file.")
        return data


class _Folder(_Source):
    """A folder and the folders directly inside it (an unpacked zip often nests one level)."""

    def __init__(self, root: Path, name: str | None = None) -> None:
        self.root = root
        self.name = name or root.name or str(root)
        self._list: list[tuple[int, str]] | None = None

    def candidates(self) -> list[tuple[int, str]]:
        if self._list is None:
            out: list[tuple[int, str]] = []
            try:
                with os.scandir(self.root) as it:
                    entries = sorted(it, key=lambda e: e.name)
                for e in entries:
                    if e.is_file():
                        out.append((0, e.name))
                    elif e.is_dir() and not e.name.startswith("."):
                        try:
                            with os.scandir(e.path) as sub:
                                out += [(1, f"{e.name}/{s.name}") for s in sub if s.is_file()]
                        except OSError:
                            continue  # an unreadable subfolder holds nothing for us
            except OSError as exc:
                raise FileFormatError(describe_os_error(exc, self.root, "read")) from exc
            self._list = out
        return self._list

    def open(self, key: str, limit: int) -> BinaryIO:
        p = self.root / key
        size = check_regular(p).st_size  # no FIFO or device, even one listed as a file a moment ago
        if size > limit:
            raise FileFormatError(f"{self.where(key)} is {_size(size)}, more than MF Studio reads "
                                  f"({_size(limit)}); use a smaller MovieLens set.")
        return open_input(p)  # the caller closes it


class _Zip(_Source):
    """A .zip read in memory: member names checked, sizes bounded, nothing written to disk."""

    def __init__(self, path: Path) -> None:
        self.name = path.name
        self.fh = open_input(path)
        try:
            count = zip_member_count(self.fh)  # before zipfile lists them all
            if count is not None and count > MAX_ZIP_MEMBERS:
                raise FileFormatError(f"{self.name} holds {count:,} files, far more than a MovieLens download; "
                                      "choose the .zip as downloaded from MovieLens.")
            self.fh.seek(0)
            self.zf = zipfile.ZipFile(self.fh)
        except FileFormatError:
            self.fh.close()
            raise
        except (zipfile.BadZipFile, EOFError, ValueError, NotImplementedError):
            self.fh.close()
            raise FileFormatError(f"{self.name} is not a valid .zip file (it may be truncated); download it again.") from None
        except OSError as exc:
            self.fh.close()
            raise FileFormatError(describe_os_error(exc, path, "read")) from exc
        except BaseException:
            self.fh.close()
            raise
        infos = self.zf.infolist()
        if len(infos) > MAX_ZIP_MEMBERS:
            self.close()
            raise FileFormatError(f"{self.name} holds {len(infos):,} files, far more than a MovieLens download; "
                                  "choose the .zip as downloaded from MovieLens.")
        self.members: dict[str, zipfile.ZipInfo] = {}
        for info in infos:
            key = info.filename.replace("\\", "/")
            parts = key.split("/")
            if key.startswith("/") or ".." in parts or re.match(r"[A-Za-z]:", key):
                self.close()
                raise FileFormatError(f"{self.name} holds a file named {info.filename!r}, which points outside the archive; "
                                      "MF Studio does not open such .zip files, so download it again from MovieLens.")
            if not info.is_dir():
                self.members[key] = info

    def candidates(self) -> list[tuple[int, str]]:
        return [(k.count("/"), k) for k in self.members if k.count("/") <= 2 and not k.startswith("__MACOSX/")]

    def open(self, key: str, limit: int) -> BinaryIO:
        info = self.members[key]
        where = self.where(key)
        if info.flag_bits & 0x1:
            raise FileFormatError(f"{where} is encrypted; unpack the .zip with its password and open the folder instead.")
        if info.file_size > limit:
            raise FileFormatError(f"{where} unpacks to {_size(info.file_size)}, more than MF Studio reads "
                                  f"({_size(limit)}); use a smaller MovieLens set.")
        try:
            # zipfile stops at the size the directory declares and checks the CRC there, so a member
            # that unpacks to more than it says (a zip bomb) raises BadZipFile instead of filling memory
            return self.zf.open(info)  # type: ignore[return-value]
        except NotImplementedError:
            raise FileFormatError(f"{where} is compressed in a way Python cannot unpack; unpack the .zip and open the folder instead.") from None

    def close(self) -> None:
        self.zf.close()
        self.fh.close()


# -- recognising -------------------------------------------------------------------------------
def _head_line(path: Path) -> bytes:
    try:
        with open_input(path) as fh:
            head = fh.read(4096)
    except (OSError, FileFormatError):
        return b""
    return head.split(b"\n", 1)[0].rstrip(b"\r").removeprefix(codecs.BOM_UTF8)


def _csv_header_ok(line: bytes | str) -> bool:
    text = line.decode("utf-8", "replace") if isinstance(line, bytes) else line
    cells = [c.strip().strip('"').strip().lower() for c in text.lstrip("\ufeff").split(",")]
    return tuple(cells[:3]) == _CSV_HEADER and len(cells) in (3, 4)


def lone_file_layout(path: Path) -> Layout | None:
    """The layout of a MovieLens ratings file opened by itself, judged by its name and first line."""
    lay = layout_of_name(path.name)
    if lay is None:
        return None
    line = _head_line(path)
    if lay.key == "csv":
        return lay if _csv_header_ok(line) else None
    cells = line.split(lay.sep)
    if len(cells) in (3, 4) and all(_is_id(c.strip()) for c in cells[:2]):
        return lay
    return None


def is_zip(path: Path) -> bool:
    """True for a .zip (by name, or by content when it holds no .npy arrays, so it is no .npz)."""
    if path.suffix.lower() == ".zip":
        return True
    if path.suffix.lower() == ".npz":
        return False
    try:
        with open_input(path) as fh:
            if fh.read(4) != b"PK\x03\x04":
                return False
            count = zip_member_count(fh)
            if count is not None and count > MAX_ZIP_MEMBERS:
                return True  # no .npz either; reading it as a zip says what is wrong
            fh.seek(0)
            with zipfile.ZipFile(fh) as zf:
                return not any(n.endswith(".npy") for n in zf.namelist())
    except (OSError, FileFormatError, zipfile.BadZipFile, EOFError, ValueError, NotImplementedError):
        return False


def recognise(path: str | os.PathLike[str]) -> bool:
    """True when ``path`` is to be read as MovieLens: a folder, a .zip, or a ratings file by its name."""
    p = Path(path)
    try:
        if p.is_dir():
            return True
        if not p.is_file():
            return False
    except OSError:
        return False
    return is_zip(p) or lone_file_layout(p) is not None


# -- the ratings, parsed fast ------------------------------------------------------------------------
_POW10 = 10 ** np.arange(19, dtype=np.int64)


def _digits(b: np.ndarray, starts: np.ndarray, ends: np.ndarray, decimal: bool) -> np.ndarray | None:
    """The numbers in fields ``b[starts:ends]`` (digits, and one '.' if ``decimal``), or None
    if any field is something else (the slow reader then names the line)."""
    lengths = ends - starts
    if lengths.size == 0:
        return np.zeros(0, np.float64 if decimal else np.int64)
    width = int(lengths.max())
    if lengths.min() < 1 or width > 18:
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


def _fast_block(data: bytes, sep: bytes, width: int) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """user ids, movie ids, ratings of a block of whole lines, or None to use the slow reader."""
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
    users = _digits(b, starts[0::width], ends[0::width], False)
    movies = _digits(b, starts[1::width], ends[1::width], False)
    vals = _digits(b, starts[2::width], ends[2::width], True)
    if users is None or movies is None or vals is None:
        return None
    return users, movies, vals


def _slow_block(data: bytes, sep: bytes, width: int, first_line: int, where: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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
                raise FileFormatError(f"Line {n:,} of {where} holds {shown!r} where a {what} (a whole number) should be; "
                                      "the file may be damaged, so download it again.")
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
            raise FileFormatError(f"{where} holds more than MF Studio reads ({_size(limit)}); use a smaller MovieLens set.")
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


class _Distinct:
    """A running count of distinct ids, over a table of the ids seen (MovieLens ids are small;
    past ``TABLE_LIMIT`` it stops counting and the caller checks at the end)."""

    TABLE_LIMIT = 50_000_000

    def __init__(self) -> None:
        self.seen = np.zeros(0, dtype=bool)
        self.count = 0
        self.on = True

    def add(self, ids: np.ndarray) -> None:
        if not self.on or ids.size == 0:
            return
        top = int(ids.max())
        if top >= self.TABLE_LIMIT:
            self.on = False
            return
        if top >= self.seen.size:
            self.seen = np.concatenate([self.seen, np.zeros(max(top + 1, 2 * self.seen.size) - self.seen.size, bool)])
        fresh = ids[~self.seen[ids]]
        if fresh.size:
            self.count += int(np.unique(fresh).size)
            self.seen[fresh] = True


class TooManyCellsError(Exception):
    """The users x films seen so far exceed ``max_cells``; reading stopped there."""

    def __init__(self, n_users: int, n_items: int) -> None:
        super().__init__(n_users, n_items)
        self.n_users, self.n_items = n_users, n_items


def read_ratings_stream(fh: BinaryIO, lay: Layout, where: str,
                        max_cells: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """user ids, movie ids and ratings of a MovieLens ratings file, in file order.

    With ``max_cells``, raises TooManyCellsError as soon as the distinct users x films read
    so far pass it: ML-25M is refused after a few blocks instead of after all 25 M lines.
    """
    cols: tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]] = ([], [], [])
    distinct = (_Distinct(), _Distinct())
    width = 0
    for data, first_line in _blocks(fh, where):
        if first_line == 1:
            data = data.removeprefix(codecs.BOM_UTF8)
            if lay.header:
                head, _, data = data.partition(b"\n")
                if not _csv_header_ok(head.rstrip(b"\r")):
                    shown = head.decode("utf-8", "replace").strip()[:60]
                    raise FileFormatError(f"{where} starts with {shown!r}, not MovieLens's header userId,movieId,rating,timestamp; "
                                          "open it as a rating file instead of as MovieLens.")
                first_line = 2
        if not width:
            first = next((ln for ln in data.split(b"\n", 50)[:50] if ln.strip()), None)
            if first is None:
                continue
            width = len(first.split(lay.sep))
            if width not in (3, 4):
                width = 4  # the slow reader names the line and what it should hold
        got = _fast_block(data, lay.sep, width)
        if got is None:
            got = _slow_block(data, lay.sep, width, first_line, where)
        for out, a in zip(cols, got):
            # ids as int32 while they fit: ML-25M's ratings then take 16 bytes a line, not 24
            out.append(a.astype(np.int32) if a.dtype.kind == "i" and a.size and a.max() < 2**31 else a)
        if max_cells is not None:
            distinct[0].add(got[0])
            distinct[1].add(got[1])
            if distinct[0].count * distinct[1].count > max_cells:
                raise TooManyCellsError(distinct[0].count, distinct[1].count)
    if not cols[0]:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    joined = []
    for out in cols:
        joined.append(np.concatenate(out))
        out.clear()  # one column's blocks at a time, so the peak is the data plus one column
    return joined[0], joined[1], joined[2]


# -- titles and genres -------------------------------------------------------------------------------
def _decode(data: bytes) -> str:
    """UTF-8 (ML-10M, ml-latest), else latin-1 (ML-100K's u.item, ML-1M's movies.dat)."""
    data = data.removeprefix(codecs.BOM_UTF8)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


@dataclass
class _Titles:
    titles: dict[int, str]
    genres: dict[int, tuple[str, ...]]
    genre_names: tuple[str, ...] | None = None  # the full list, where the layout names it (ML-100K)
    bad_lines: list[int] | None = None


def _genre_names_100k(text: str) -> tuple[str, ...]:
    """u.genre: 'name|index' lines, in index order."""
    named: dict[int, str] = {}
    for line in text_lines(text):
        name, _, index = line.rpartition("|")
        if name.strip() and _is_id(index.strip()):
            named.setdefault(int(index), name.strip())
    if not named or sorted(named) != list(range(len(named))):
        return GENRES_100K
    return tuple(named[k] for k in range(len(named)))


def parse_u_item(text: str, names: tuple[str, ...] = GENRES_100K) -> _Titles:
    """u.item: id|title|release date|video release date|IMDb URL|one 0/1 flag per genre."""
    out = _Titles({}, {}, names, [])
    n_flags = len(names)
    for n, line in enumerate(text_lines(text), start=1):
        if not line.strip():
            continue
        f = line.split("|")
        if len(f) < 2 or not _is_id(f[0].strip()):
            out.bad_lines.append(n)  # type: ignore[union-attr]
            continue
        mid = int(f[0])
        if mid in out.titles:
            continue
        out.titles[mid] = f[1].strip()
        flags = f[-n_flags:] if len(f) >= 5 + n_flags else []
        out.genres[mid] = tuple(g for g, x in zip(names, flags) if x.strip() == "1")
    return out


def parse_movies_dat(text: str) -> _Titles:
    """movies.dat: MovieID::Title::Genres, genres separated by '|'."""
    out = _Titles({}, {}, None, [])
    for n, line in enumerate(text_lines(text), start=1):
        if not line.strip():
            continue
        f = line.split("::")
        if len(f) < 2 or not _is_id(f[0].strip()):
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


def parse_movies_csv(text: str) -> _Titles:
    """movies.csv: movieId,title,genres with a header; titles quoted when they hold commas."""
    out = _Titles({}, {}, None, [])
    rows = csv.reader(text_lines(text))
    col = {"movieid": 0, "title": 1, "genres": 2}
    try:
        for row in rows:
            n = rows.line_num
            cells = [c.strip() for c in row]
            if not any(cells):
                continue
            if n == 1 and not _is_id(cells[0]):
                words = [c.lower() for c in cells]
                if all(w in words for w in col):
                    col = {w: words.index(w) for w in col}
                continue
            if len(cells) <= max(col["movieid"], col["title"]) or not _is_id(cells[col["movieid"]]):
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


# -- reading -----------------------------------------------------------------------------------
def _dataset_name(container: str, lay: Layout) -> str:
    """'MovieLens 1M', 'MovieLens latest-small' ... from the folder or zip name, else from the layout."""
    stem = container.lower().removesuffix(".zip")
    m = re.match(r"ml-(\d+)([km])", stem)
    if m:
        return f"MovieLens {m.group(1)}{m.group(2).upper()}"
    if stem.startswith("ml-latest"):
        return f"MovieLens {stem[3:]}"
    return "MovieLens 100K" if lay.key == "100k" else "MovieLens"


def _locate(src: _Source) -> tuple[str, Layout]:
    found = [(d, LAYOUTS.index(lay), key, lay) for lay in LAYOUTS for d, key in src.candidates()
             if PurePosixPath(key).name.lower() == lay.ratings]
    if not found:
        if isinstance(src, _Zip):
            raise FileFormatError(f"{src.name} holds no MovieLens ratings file (looked for {LOOKED_FOR}); "
                                  "open a rating file instead, or a MovieLens .zip as downloaded.")
        raise FileFormatError(f"{src.name} has no MovieLens ratings file (looked for {LOOKED_FOR}); "
                              "open a rating file instead or choose the MovieLens folder.")
    _, _, key, lay = min(found, key=lambda t: t[:3])
    return key, lay


def read_movielens(path: str | os.PathLike[str], *, scale: tuple[float, float] | None = None) -> tuple[Ratings, list[str]]:
    """Ratings from a MovieLens folder, .zip or ratings file, and a notice of what was read.

    Raises FileFormatError with a sentence for anything that is not MovieLens or is damaged.
    """
    p = Path(path)
    lone: Layout | None = None
    src: _Source
    if p.is_dir():
        src = _Folder(p)
    elif is_zip(p):
        src = _Zip(p)
    else:
        lone = layout_of_name(p.name)
        if lone is None:
            raise FileFormatError(f"{p.name} is not a MovieLens ratings file (those are called {LOOKED_FOR}); "
                                  "open it as a rating file, or choose the MovieLens folder or .zip.")
        src = _Folder(p.parent, p.parent.name)
    try:
        return _read(src, p, lone, scale)
    except (zipfile.BadZipFile, zlib.error, EOFError):
        raise FileFormatError(f"{src.name} is damaged (a packed file does not unpack correctly); download it again.") from None
    except OSError as exc:
        raise FileFormatError(describe_os_error(exc, p, "read")) from exc
    finally:
        src.close()


def _too_large(name: str, n_users: int, n_items: int) -> FileFormatError:
    return FileFormatError(
        f"{name} has at least {n_users:,} users x {n_items:,} films ({n_users * n_items:,} cells), more than MF Studio "
        f"handles ({MAX_CELLS:,} cells); open a smaller set such as MovieLens 100K, 1M or ml-latest-small.")


def _factorize_ids(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
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


def _read(src: _Source, p: Path, lone: Layout | None, scale: tuple[float, float] | None) -> tuple[Ratings, list[str]]:
    from mfstudio.io.tables import choose_scale

    if lone is not None:
        key, lay = p.name, lone
        container = p.parent.name
    else:
        key, lay = _locate(src)
        container = src.name
    folder = str(PurePosixPath(key).parent)
    ratings_name = PurePosixPath(key).name
    name = _dataset_name(container, lay)
    try:
        with src.open(key, MAX_FILE_BYTES) as fh:
            users, movies, vals = read_ratings_stream(fh, lay, src.where(key) if lone is None else ratings_name, MAX_CELLS)
    except TooManyCellsError as exc:
        raise _too_large(name, exc.n_users, exc.n_items) from None
    if vals.size == 0:
        raise FileFormatError(f"{ratings_name} in {src.name} holds no ratings; download the MovieLens set again.")
    user_ids, uidx = _factorize_ids(users)
    movie_ids, iidx = _factorize_ids(movies)
    del users, movies
    n_users, n_items = len(user_ids), len(movie_ids)
    if n_users * n_items > MAX_CELLS:  # ids too large for the running count
        raise _too_large(name, n_users, n_items)
    key_ = uidx.astype(np.int64) * n_items + iidx
    order = np.argsort(key_, kind="stable")
    ks = key_[order]
    last = np.append(ks[1:] != ks[:-1], True)  # the last rating of each (user, film) wins
    dups = int(order.size - np.count_nonzero(last))
    keep = order[last]
    vals = vals[keep]
    notices: list[str] = []

    movies_key = src.find(lay.movies, folder)
    titles: _Titles | None = None
    if movies_key is not None:
        text = _decode(src.read(movies_key, MAX_TITLES_BYTES))
        if lay.key == "100k":
            genre_key = src.find("u.genre", folder)
            names = _genre_names_100k(_decode(src.read(genre_key, 1024**2))) if genre_key else GENRES_100K
            titles = parse_u_item(text, names)
        elif lay.key == "dat":
            titles = parse_movies_dat(text)
        else:
            titles = parse_movies_csv(text)
    ids = movie_ids.tolist()
    if titles is not None:
        items, missing = unique_titles(ids, titles.titles)
        genres = [titles.genres.get(i, ()) for i in ids]
    else:
        items, missing, genres = [str(i) for i in ids], 0, None
    if scale is None and lay.key == "csv" and vals.size and vals.min() >= 0.5 and vals.max() <= 5.0:
        scale = (0.5, 5.0)  # the current layout's half stars, even in a subset that happens to lack a 0.5
    sc, scale_notes = choose_scale(vals, scale)
    ratings = Ratings(uidx[keep], iidx[keep], vals, (n_users, n_items), [str(u) for u in user_ids.tolist()],
                      items, sc, genres)
    what = f"{ratings.nnz:,} ratings of {n_items:,} films by {n_users:,} users"
    if titles is not None:
        used = {g for gs in genres for g in gs} if genres is not None else set()
        n_genres = len(titles.genre_names) if titles.genre_names else len(used)
        notices.append(f"Read {name}: {what}, with titles and {n_genres} genres.")
    else:
        notices.append(f"Read {name}: {what}; there is no {lay.movies} beside {ratings_name}, so films are labelled by their ids.")
    if titles is not None and missing:
        notices.append(f"{missing:,} rated film(s) have no title in {lay.movies}; they are labelled 'Movie <id>'.")
    if titles is not None and titles.bad_lines:
        b = titles.bad_lines
        notices.append(f"{len(b):,} line(s) of {lay.movies} could not be read (the first is line {b[0]:,}); "
                       "those films are labelled by their ids.")
    if dups:
        notices.append(f"{dups:,} duplicate rating(s): the last one of each was kept.")
    return ratings, notices + scale_notes


def describe(path: str | os.PathLike[str]) -> str:
    """Which MovieLens ratings file a folder or .zip holds ('ml-1m/ratings.dat'), or a
    FileFormatError saying what was looked for. Quick: nothing is parsed."""
    p = Path(path)
    src: _Source = _Folder(p) if p.is_dir() else _Zip(p)
    try:
        key, _ = _locate(src)
        return src.where(key)
    finally:
        src.close()
