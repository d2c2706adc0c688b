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

This module finds the files (the layout, in a folder or a zip) and puts the ratings together;
movielens_parse parses the ratings and titles files.
"""

from __future__ import annotations

import codecs
import os
import re
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO

import numpy as np

from mfstudio.core.ratings import Ratings
from mfstudio.io.errors import FileFormatError, describe_os_error
from mfstudio.io.files import MAX_FILE_BYTES, approx_size, check_regular, open_input, zip_member_count
from mfstudio.io.interactions import interactions
from mfstudio.io.movielens_parse import (
    GENRES_100K,
    Titles,
    csv_header_ok,
    decode_titles,
    factorize_ids,
    genre_names_100k,
    is_id,
    last_of_each_cell,
    parse_movies_csv,
    parse_movies_dat,
    parse_u_item,
    read_ratings_stream,
    unique_titles,
)

MAX_TITLES_BYTES = 256 * 1024**2  # movies.csv of ml-32m is ~4 MB; anything far larger is not a titles file
MAX_ZIP_MEMBERS = 100_000


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


# The other files of a download, each with the ratings file beside it.
COMPANIONS = {**dict.fromkeys(("u.item", "u.genre", "u.user", "u.info", "u.occupation"), "u.data"),
              **dict.fromkeys(("movies.dat", "users.dat", "tags.dat"), "ratings.dat"),
              **dict.fromkeys(("movies.csv", "tags.csv", "links.csv", "genome-scores.csv", "genome-tags.csv"),
                              "ratings.csv")}


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
            raise FileFormatError(f"{self.where(key)} is larger than {approx_size(limit)}, far more than a MovieLens "
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
            raise FileFormatError(f"{self.where(key)} is {approx_size(size)}, more than MF Studio reads "
                                  f"({approx_size(limit)}); use a smaller MovieLens set.")
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
            raise FileFormatError(f"{self.name} is not a valid .zip file (it may be truncated); "
                                  "download it again.") from None
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
                raise FileFormatError(f"{self.name} holds a file named {info.filename!r}, which points outside the "
                                      "archive; MF Studio does not open such .zip files, so download it again from "
                                      "MovieLens.")
            if not info.is_dir():
                self.members[key] = info

    def candidates(self) -> list[tuple[int, str]]:
        return [(k.count("/"), k) for k in self.members if k.count("/") <= 2 and not k.startswith("__MACOSX/")]

    def open(self, key: str, limit: int) -> BinaryIO:
        info = self.members[key]
        where = self.where(key)
        if info.flag_bits & 0x1:
            raise FileFormatError(f"{where} is encrypted; unpack the .zip with its password and open the folder "
                                  "instead.")
        if info.file_size > limit:
            raise FileFormatError(f"{where} unpacks to {approx_size(info.file_size)}, more than MF Studio reads "
                                  f"({approx_size(limit)}); use a smaller MovieLens set.")
        try:
            # zipfile stops at the size the directory declares and checks the CRC there, so a member
            # that unpacks to more than it says (a zip bomb) raises BadZipFile instead of filling memory
            return self.zf.open(info)  # type: ignore[return-value]
        except NotImplementedError:
            raise FileFormatError(f"{where} is compressed in a way Python cannot unpack; unpack the .zip and open "
                                  "the folder instead.") from None

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


def lone_file_layout(path: Path) -> Layout | None:
    """The layout of a MovieLens ratings file opened by itself, judged by its name and first line."""
    lay = layout_of_name(path.name)
    if lay is None:
        return None
    line = _head_line(path)
    if lay.key == "csv":
        return lay if csv_header_ok(line) else None
    cells = line.split(lay.sep)
    if len(cells) in (3, 4) and all(is_id(c.strip()) for c in cells[:2]):
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


def read_movielens(path: str | os.PathLike[str], *, scale: tuple[float, float] | None = None,
                   implicit: bool = False) -> tuple[Ratings, list[str]]:
    """Ratings from a MovieLens folder, .zip or ratings file, and a notice of what was read.

    With ``implicit`` each rating is one interaction (value 1, whatever the stars; a film rated twice by one
    user counts 2), for teaching implicit feedback on familiar data; titles and genres are kept.

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
        return _read(src, p, lone, scale, implicit)
    except (zipfile.BadZipFile, zlib.error, EOFError):
        raise FileFormatError(f"{src.name} is damaged (a packed file does not unpack correctly); "
                              "download it again.") from None
    except OSError as exc:
        raise FileFormatError(describe_os_error(exc, p, "read")) from exc
    finally:
        src.close()


def _read(src: _Source, p: Path, lone: Layout | None, scale: tuple[float, float] | None,
          implicit: bool = False) -> tuple[Ratings, list[str]]:
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
    with src.open(key, MAX_FILE_BYTES) as fh:
        where = src.where(key) if lone is None else ratings_name
        users, movies, vals = read_ratings_stream(fh, lay.sep, lay.header, where)
    if vals.size == 0:
        raise FileFormatError(f"{ratings_name} in {src.name} holds no ratings; download the MovieLens set again.")
    user_ids, uidx = factorize_ids(users)
    movie_ids, iidx = factorize_ids(movies)
    del users, movies
    n_users, n_items = len(user_ids), len(movie_ids)
    if implicit:
        keep, dups = np.arange(uidx.size), 0  # each rating one interaction: io.interactions sums repeats
        vals = np.ones(uidx.size)
    else:
        keep = last_of_each_cell(uidx, iidx, n_items)  # the last rating of each (user, film) wins
        dups = int(uidx.size - keep.size)
        vals = vals[keep]
    notices: list[str] = []

    movies_key = src.find(lay.movies, folder)
    titles: Titles | None = None
    if movies_key is not None:
        text = decode_titles(src.read(movies_key, MAX_TITLES_BYTES))
        if lay.key == "100k":
            genre_key = src.find("u.genre", folder)
            names = genre_names_100k(decode_titles(src.read(genre_key, 1024**2))) if genre_key else GENRES_100K
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
    if scale is None and not implicit and lay.key == "csv" and vals.size and vals.min() >= 0.5 and vals.max() <= 5.0:
        scale = (0.5, 5.0)  # the current layout's half stars, even in a subset that happens to lack a 0.5
    user_labels = [str(u) for u in user_ids.tolist()]
    if implicit:
        ratings, scale_notes = interactions(uidx, iidx, vals, (n_users, n_items), user_labels, items,
                                            name=ratings_name, where=lambda k: f"Rating {k + 1}", scale=scale,
                                            genres=genres)
        what = (f"{uidx.size:,} ratings of {n_items:,} films by {n_users:,} users, each read as one interaction "
                "(implicit data)")
    else:
        sc, scale_notes = choose_scale(vals, scale)
        ratings = Ratings(uidx[keep], iidx[keep], vals, (n_users, n_items), user_labels, items, sc, genres)
        what = f"{ratings.nnz:,} ratings of {n_items:,} films by {n_users:,} users"
    if titles is not None:
        used = {g for gs in genres for g in gs} if genres is not None else set()
        n_genres = len(titles.genre_names) if titles.genre_names else len(used)
        notices.append(f"Read {name}: {what}, with titles and {n_genres} genres.")
    else:
        notices.append(f"Read {name}: {what}; there is no {lay.movies} beside {ratings_name}, "
                       "so films are labelled by their ids.")
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
