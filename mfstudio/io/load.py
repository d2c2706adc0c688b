"""One entry point for every input file: detect the format, read it, say what was noticed."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from mfstudio.core.errors import MFStudioError
from mfstudio.core.lesson import Lesson
from mfstudio.core.session import Session
from mfstudio.io import movielens
from mfstudio.io.errors import FileFormatError
from mfstudio.io.fast_triples import read_plain_triples
from mfstudio.io.files import read_bytes
from mfstudio.io.interactions import as_interactions
from mfstudio.io.lesson_file import LESSON_SUFFIX, is_lesson_document, lesson_from_document
from mfstudio.io.npz import ratings_from_npz
from mfstudio.io.session_file import session_from_document
from mfstudio.io.session_json import document_from_bytes
from mfstudio.io.session_write import FORMAT_NAME
from mfstudio.io.tables import (
    COUNTS_CORNER,
    EVENT_WIDTH,
    empty_text,
    guess_layout,
    read_events,
    read_matrix,
    read_triples,
)
from mfstudio.io.text import (
    SNIFF_LINES,
    Table,
    decode,
    fast_columns,
    looks_numeric,
    sniff_delimiter,
    split_line,
    split_table,
    text_lines,
)

FORMATS = ("matrix", "triples", "events", "npz", "session", "movielens")  # events: implicit data, user,item lines
SESSION_SUFFIXES = (".mfstudio", ".json", LESSON_SUFFIX)  # read as a session document (a lesson holds one)
ACCEPTED = ("MF Studio reads a matrix or user,item,rating CSV/TSV, an .npz, a .mfstudio session, "
            "or a MovieLens folder or .zip")


@dataclass
class LoadResult:
    """What a file held: a Session (ratings only, for a rating file) and notices for the user.

    A lesson file gives its Lesson as ``lesson`` and the lesson's session as ``session``, with ``fmt``
    "session": a caller that knows no lessons opens its session as it would a session file's.
    """

    session: Session
    notices: list[str] = field(default_factory=list)
    fmt: str = ""  # the format read: one of FORMATS
    lesson: Lesson | None = None  # the lesson, when the file was one


def detect_format(path: Path, head: bytes) -> str:
    """The format of a file from its first bytes, then its name."""
    if head.startswith(b"PK\x03\x04") or path.suffix.lower() == ".npz":
        return "npz"
    if head.startswith(b"\x1f\x8b") or path.suffix.lower() in SESSION_SUFFIXES:
        return "session"
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{"):
        return "session"
    return "text"


def looks_like_prose(lines: list[str], delimiter: str) -> bool:
    """True when the head of a text file is mostly words (a README, a licence), not ratings.

    In any rating file, matrix or triples, at least a quarter of the cells after the first
    column are numbers or blank; prose split at the sniffed delimiter has almost none.
    """
    head = [ln for ln in lines[:2 * SNIFF_LINES] if ln.strip()][:SNIFF_LINES]
    if len(head) < 2:
        return False  # one line: a header without rows says so better
    cells = [c for ln in head[1:] for row in [split_line(ln, delimiter)] for c in (row[1:] if len(row) > 1 else row)]
    dc = delimiter != ","
    numbers = sum(1 for c in cells if not c.strip() or looks_numeric(c, dc))
    return numbers < 0.25 * len(cells)


def load(path: str | os.PathLike[str], *, keep_zeros: bool = False, fmt: str | None = None,
         scale: tuple[float, float] | None = None, implicit: bool = False) -> LoadResult:
    """Read a rating file, a session or lesson file, or a MovieLens download (folder, .zip or its ratings file).

    ``fmt`` is None (detect), "matrix", "triples", "events", "npz", "session" or "movielens". In a matrix
    (CSV/TSV or .npz) a blank cell is not rated, and so is 0 unless ``keep_zeros``;
    in triples every listed rating counts, 0 included. ``scale`` sets the rating
    scale instead of guessing it. Raises FileFormatError with a sentence to show.

    ``implicit``: the data are counts of events (plays, clicks, purchases), not ratings (io.interactions):
    triples are user, item, count; a file of two columns (or ``fmt`` "events", which implies it) is events
    user, item; a matrix holds counts; MovieLens counts each rating as one interaction; a session or .npz
    of ratings has its values read as counts. The Ratings returned then have ``implicit`` True. A session
    of implicit data, or a matrix CSV exported from one, is implicit without the switch.
    """
    p = Path(path)
    if fmt is not None and fmt not in FORMATS:
        raise FileFormatError(f"There is no file format called {fmt!r}; choose one of {', '.join(FORMATS)}.")
    try:
        loaded = _load(p, keep_zeros=keep_zeros, fmt=fmt, scale=scale, implicit=implicit or fmt == "events")
        if (implicit or fmt == "events") and not loaded.session.ratings.implicit:  # a session or .npz of ratings
            loaded.session.ratings, more = as_interactions(loaded.session.ratings, p.name)
            loaded.notices += more
        return loaded
    except MFStudioError as exc:
        # the sentence names the file, so a dialog or a log line says which one is meant
        raise FileFormatError(_naming(str(exc), p)) from exc
    except MemoryError:
        raise FileFormatError(f"{p.name} is too large to fit in memory; use a smaller file.") from None


def _naming(text: str, p: Path) -> str:
    """``text`` as it is when it names the file (or its folder), else with the file's name in front."""
    if p.name in text or str(p) in text or not p.name or text.startswith("MovieLens"):
        return text
    return f"{p.name}: {text}"


def _load(p: Path, *, keep_zeros: bool, fmt: str | None, scale: tuple[float, float] | None,
          implicit: bool) -> LoadResult:
    name = p.name
    if fmt == "movielens" or fmt is None and movielens.recognise(p):
        ratings, notices = movielens.read_movielens(p, scale=scale, implicit=implicit)
        return LoadResult(Session(ratings=ratings), notices, "movielens")
    ratings_file = movielens.COMPANIONS.get(name.lower())
    if fmt is None and ratings_file and (p.parent / ratings_file).is_file():
        # links.csv would even read as a matrix of numbers: beside MovieLens ratings it is surely not one
        raise FileFormatError(f"{name} is part of a MovieLens download but holds no ratings; open its folder "
                              f"(or {ratings_file}) instead.")
    if p.is_dir():
        raise FileFormatError(f"{p} is a folder; only a MovieLens folder opens as a folder, so choose a file "
                              f"to open as {fmt} or leave out the format.")
    if fmt == "npz" or fmt is None and p.suffix.lower() == ".npz":
        if not p.exists():
            read_bytes(p)  # the standard "no file" message
        ratings, notices = ratings_from_npz(p, keep_zeros=keep_zeros, scale=scale)
        return LoadResult(Session(ratings=ratings), notices, "npz")
    if fmt in (None, "triples") and p.suffix.lower() not in SESSION_SUFFIXES:
        # a large plain triples file, column-wise; None: read it here
        fast = read_plain_triples(p, fmt, scale, implicit)
        if fast is not None:
            return LoadResult(Session(ratings=fast[0]), fast[1], "triples")
    data = read_bytes(p)
    kind = fmt or detect_format(p, data[:64])
    if kind == "npz":
        ratings, notices = ratings_from_npz(p, keep_zeros=keep_zeros, scale=scale)
        return LoadResult(Session(ratings=ratings), notices, "npz")
    if kind == "session":
        return _read_document(data, p)
    if not data.strip(b" \t\r\n\xef\xbb\xbf"):
        raise FileFormatError(empty_text(name, implicit))
    text, notices = decode(data, name)
    lines = text_lines(text)
    d = sniff_delimiter(lines)
    try:
        return _read_table(text, lines, d, kind, name, notices, keep_zeros=keep_zeros, scale=scale,
                           implicit=implicit)
    except FileFormatError:
        if fmt is None and looks_like_prose(lines, d):
            # the cell-by-cell complaint ("line 10 has 2 cells") would be beside the point
            events = "; if each line is one event (user, item), open it as counts/events, not ratings (--implicit)" \
                if not implicit and _width(lines, d) == EVENT_WIDTH else ""
            raise FileFormatError(
                f"{name} does not look like ratings: most of its lines are words, not numbers; {ACCEPTED}{events}."
            ) from None
        raise


def _read_document(data: bytes, p: Path) -> LoadResult:
    """A session or lesson file, told apart by what the document says (a renamed lesson still opens
    as one); a file named .mfslesson that holds no session is spoken of as a lesson."""
    kind = "lesson" if p.suffix.lower() == LESSON_SUFFIX else "session"
    obj = document_from_bytes(data, f"The {kind} file {p.name}", kind)
    holds_session = isinstance(obj, dict) and obj.get("format") == FORMAT_NAME
    if is_lesson_document(obj) or (kind == "lesson" and not holds_session):
        lesson, notices = lesson_from_document(obj, f"The lesson file {p.name}")
        return LoadResult(lesson.session, notices, "session", lesson)
    session, notices = session_from_document(obj, f"The {kind} file {p.name}")
    return LoadResult(session, notices, "session")


def _read_table(text: str, lines: list[str], d: str, kind: str, name: str, notices: list[str], *,
                keep_zeros: bool, scale: tuple[float, float] | None, implicit: bool = False) -> LoadResult:
    exported = bool(lines) and split_line(lines[0], d)[0].strip().lower() == COUNTS_CORNER  # a matrix of counts
    if implicit and kind in ("text", "triples") and _width(lines, d) == EVENT_WIDTH and not exported:
        kind = "events"  # two columns of implicit data: user, item, one line per event
    if kind == "events":
        ratings, more = read_events(split_table(text, d, lines), name=name, scale=scale)
        return LoadResult(Session(ratings=ratings), notices + more, kind)
    if kind == "text":
        head = lines[:2 * SNIFF_LINES]
        head_table = split_table("\n".join(head), d, head)
        kind, guess_notes = guess_layout(head_table)
        if implicit and kind == "matrix" and _bad_count_line(head_table):
            kind, guess_notes = "triples", []  # so the triples reader names the line that holds no count
        notices += guess_notes
    if kind == "triples":
        cols = fast_columns(lines, d)
        table = Table([], [], d, columns=cols) if cols is not None else split_table(text, d, lines)
        ratings, more = read_triples(table, scale=scale, keep_zeros=True, name=name, implicit=implicit)
    else:
        table = split_table(text, d, lines)
        ratings, more = read_matrix(table, keep_zeros=keep_zeros, scale=scale, name=name, implicit=implicit)
    return LoadResult(Session(ratings=ratings), notices + more, kind)


def _bad_count_line(table: Table) -> bool:
    """True when lines of user, item, count (the first line's third cell a number) have text for a count
    further down, which the layout guess would take for a matrix's header of names."""
    rows = [r for r in table.rows if len(r) in (3, 4)]
    dc = table.delimiter != ","
    if not rows or len(rows) < len(table.rows) or not looks_numeric(rows[0][2], dc):
        return False
    return any(r[2].strip() and not looks_numeric(r[2], dc) for r in rows)


def _width(lines: list[str], d: str) -> int:
    """The usual number of cells in a line of the file's head."""
    head = [len(split_line(ln, d)) for ln in lines[:2 * SNIFF_LINES] if ln.strip()][:SNIFF_LINES]
    return max(set(head), key=head.count) if head else 0
