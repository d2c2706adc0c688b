"""Lesson files (``.mfslesson``): the document of a session file with a title, pages and hidden controls.

Layout (version 1)::

    {"format": "mfstudio-lesson", "version": 1, "app": "MF Studio 0.1.0",
     "title": "Too big a learning rate",
     "start_view": null or "Printout",        (one of mfstudio.core.lesson.VIEWS)
     "start_step": null or 200,               (steps trained on opening)
     "hide": ["K", "seed", ...],              (names of HIDABLE, written in its order)
     "pages": [{"title": "...", "text": "...", "view": null or "Ladder",
                "action": null or {"do": "train", "solver": null or "sgd", "params": {"alpha": 0.01}}},
               ...],
     "session": {...}}                        (a session document, as session_write writes it)

Reading is all or nothing: the bytes are read as bounded JSON as session files are (session_json,
so gzip is allowed), every key is checked, a key no lesson has is refused, and the session is
read strictly (damaged saved results refuse the file too, where a session file would open without
them). Any problem is one sentence naming the file. Writing is atomic.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import mfstudio
from mfstudio.core.errors import LessonError
from mfstudio.core.lesson import LESSON_SUFFIX, Action, Lesson, Page
from mfstudio.core.session import Session
from mfstudio.core.training import History
from mfstudio.io.atomic import atomic_write
from mfstudio.io.errors import FileFormatError
from mfstudio.io.files import read_bytes
from mfstudio.io.session_file import session_from_document
from mfstudio.io.session_json import document_from_bytes
from mfstudio.io.session_write import FORMAT_NAME, document_to_bytes, session_to_dict

LESSON_FORMAT = "mfstudio-lesson"
LESSON_VERSION = 1  # the version written and the newest read
KEYS = ("format", "version", "app", "title", "start_view", "start_step", "hide", "pages", "session")
PAGE_KEYS = ("title", "text", "view", "action")
ACTION_KEYS = ("do", "solver", "params")


# -- writing ------------------------------------------------------------------------------------
def _action_dict(a: Action | None) -> dict[str, Any] | None:
    if a is None:
        return None
    return {"do": a.do, "solver": a.solver, "params": dict(a.params)}  # checked values: int, float or None


def lesson_to_dict(lesson: Lesson) -> dict[str, Any]:
    """The JSON document of a lesson, as Python objects (its session's as session_write makes it)."""
    return {
        "format": LESSON_FORMAT,
        "version": LESSON_VERSION,
        "app": f"MF Studio {mfstudio.__version__}",
        "title": lesson.title,
        "start_view": lesson.start_view,
        "start_step": lesson.start_step,
        "hide": lesson.hidden_in_order(),
        "pages": [{"title": p.title, "text": p.text, "view": p.view, "action": _action_dict(p.action)}
                  for p in lesson.pages],
        "session": session_to_dict(lesson.session),
    }


def lesson_to_bytes(lesson: Lesson) -> bytes:
    """The bytes of a lesson file: JSON laid out as session files are, gzip-compressed when large."""
    return document_to_bytes(lesson_to_dict(lesson))


def save_lesson(path: str | os.PathLike[str], lesson: Lesson) -> None:
    """Write ``lesson`` to ``path`` atomically."""
    atomic_write(path, lesson_to_bytes(lesson))


def _copy(session: Session, keep_result: bool) -> Session:
    """A copy of ``session`` that later edits of the original do not reach (the ratings are immutable)."""
    r = session.result
    if r is not None and keep_result:
        history = History.from_array(r.history.arrays(), cap=r.history.cap, columns=r.history.columns)
        r = dataclasses.replace(r, params=dict(r.params), factors=r.factors.copy(), history=history)
    return dataclasses.replace(session, held_out_cells=session.held_out_cells.copy(), params=dict(session.params),
                               result=r if keep_result else None)


def lesson_from_session(session: Session, title: str, pages: Sequence[Page | tuple[str, str]],
                        hide: Iterable[str] = (), start_view: str | None = None, start_step: int | None = None,
                        *, keep_result: bool = True) -> Lesson:
    """File ▸ Save as lesson…: a lesson of a copy of ``session`` (without its trained model unless
    ``keep_result``); a page may be given as (title, text). A LessonError says what is wrong."""
    made = [p if isinstance(p, Page) else Page(*p) for p in pages]
    return Lesson(title=title, pages=tuple(made), session=_copy(session, keep_result), hide=frozenset(hide),
                  start_view=start_view, start_step=start_step)


# -- reading ------------------------------------------------------------------------------------
def is_lesson_document(obj: Any) -> bool:
    """True when a parsed JSON document says it is a lesson."""
    return isinstance(obj, dict) and obj.get("format") == LESSON_FORMAT


class _Reader:
    """Checked access to a lesson document, each failure one sentence naming the file."""

    def __init__(self, name: str) -> None:
        self.name = name

    def fail(self, what: str) -> FileFormatError:
        return FileFormatError(f"{self.name} is damaged: {what}; open an older copy or save the lesson again.")

    def keys(self, d: Any, allowed: tuple[str, ...], where: str) -> dict[str, Any]:
        if not isinstance(d, dict):
            raise self.fail(f"{where} is not an object")
        extra = [k for k in d if k not in allowed]
        if extra:
            raise self.fail(f"{where} has {extra[0]!r}, which a lesson does not have (it has {', '.join(allowed)})")
        return d

    def text(self, d: dict[str, Any], key: str, where: str, *, nullable: bool = False, required: bool = True) -> Any:
        if key not in d:
            if required:
                raise self.fail(f"{where} has no {key!r}")
            return None
        v = d[key]
        if v is None and nullable:
            return None
        if not isinstance(v, str):
            raise self.fail(f"{where}'s {key!r} must be text{' or null' if nullable else ''}")
        return v

    def number(self, v: Any, where: str) -> Any:
        """A JSON number, or null (a parameter switched off); never true/false or text."""
        if v is None or (isinstance(v, (int, float)) and not isinstance(v, bool)):
            return v
        raise self.fail(f"{where} must be a number written without quotes")


def _renamed(exc: LessonError, name: str) -> FileFormatError:
    """A lesson's sentence ("The lesson hides ...", "Page 2 of the lesson ...") naming the file instead."""
    text = str(exc)
    if text.startswith("The lesson"):
        text = name + text[len("The lesson"):]
    else:
        text = text.replace("the lesson", name[:1].lower() + name[1:], 1)
    return FileFormatError(text)


def _page(r: _Reader, d: Any, k: int) -> Page:
    where = f"page {k}"
    d = r.keys(d, PAGE_KEYS, where)
    title = r.text(d, "title", where)
    text = r.text(d, "text", where)
    view = r.text(d, "view", where, nullable=True, required=False)
    a = d.get("action")
    action = None
    if a is not None:
        a = r.keys(a, ACTION_KEYS, f"the action of {where}")
        do = r.text(a, "do", f"the action of {where}")
        solver = r.text(a, "solver", f"the action of {where}", nullable=True, required=False)
        params = a.get("params", {})
        if not isinstance(params, dict):
            raise r.fail(f"the action of {where} has 'params' that are not an object of names and numbers")
        params = {key: r.number(v, f"the action of {where}'s {key!r}") for key, v in params.items()}
        action = Action(do, solver, params)
    return Page(title, text, view, action)


def lesson_from_document(obj: Any, name: str = "The lesson file") -> tuple[Lesson, list[str]]:
    """A Lesson from a parsed JSON document, or a FileFormatError with one sentence; notices say
    if its session was converted from an older format."""
    if not is_lesson_document(obj):
        raise FileFormatError(f"{name} is JSON but not an MF Studio lesson; choose a {LESSON_SUFFIX} file "
                              "saved by MF Studio.")
    r = _Reader(name)
    version = obj.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise r.fail("its format version is missing")
    if version > LESSON_VERSION:
        raise FileFormatError(f"{name} was made by a newer MF Studio (lesson format {version}, this one reads up to "
                              f"{LESSON_VERSION}); update MF Studio to open it.")
    r.keys(obj, KEYS, "the lesson")
    title = r.text(obj, "title", "the lesson")
    start_view = r.text(obj, "start_view", "the lesson", nullable=True, required=False)
    start_step = obj.get("start_step")
    if start_step is not None and (isinstance(start_step, bool) or not isinstance(start_step, int)):
        raise r.fail("its 'start_step' must be a whole number of steps or null")
    hide = obj.get("hide", [])
    if not isinstance(hide, list) or not all(isinstance(h, str) for h in hide):
        raise r.fail("its 'hide' must be a list of control names")
    pages_v = obj.get("pages")
    if not isinstance(pages_v, list):
        raise r.fail("its 'pages' must be a list of pages")
    pages = tuple(_page(r, d, k) for k, d in enumerate(pages_v, 1))  # checked as the Lesson is made
    s = obj.get("session")
    if not (isinstance(s, dict) and s.get("format") == FORMAT_NAME):
        raise r.fail("it holds no session (the 'session' object of format 'mfstudio-session')")
    session, notices = session_from_document(s, f"The session in {name[:1].lower()}{name[1:]}", strict=True)
    try:
        lesson = Lesson(title=title, pages=pages, session=session, hide=frozenset(hide), start_view=start_view,
                        start_step=start_step)
    except LessonError as exc:
        raise _renamed(exc, name) from None
    return lesson, notices


def lesson_from_bytes(data: bytes | bytearray, name: str = "The lesson file") -> tuple[Lesson, list[str]]:
    """A Lesson from the bytes of a lesson file (gzip or plain JSON)."""
    return lesson_from_document(document_from_bytes(data, name, "lesson"), name)


def load_lesson(path: str | os.PathLike[str]) -> tuple[Lesson, list[str]]:
    """Read a ``.mfslesson`` lesson file; notices say if its session was converted."""
    p = Path(path)
    return lesson_from_bytes(read_bytes(p), f"The lesson file {p.name}")
