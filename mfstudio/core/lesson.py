"""A lesson: a session plus a title, a few pages of text shown beside it, and the controls it hides.

A teacher writes the pages; MF Studio shows them one at a time with Next and Back. A page may
name a result view to bring forward (``VIEWS``) and suggest an action (``ACTIONS``: train,
continue, ...), perhaps after setting some parameters. ``hide`` names controls the lesson does
not need (``HIDABLE``, the way TensorFlow Playground's ``_hide`` keys do). ``start_view`` is the
view shown on opening and ``start_step`` (when given) the number of steps trained on opening.

Page text is plain sentences; a blank line starts a new paragraph and ``*words*`` are emphasised
(:func:`page_html` renders that as HTML). Everything is checked when a Lesson is made, and a
problem is a LessonError whose sentence says "the lesson", so a reader can name its file there.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from mfstudio.core.errors import LessonError, MFStudioError
from mfstudio.core.params import RUN_PARAMS
from mfstudio.core.session import Session
from mfstudio.core.solvers import SOLVERS

# The result views a page or the start may bring forward: the titles of the window's result tabs.
VIEWS = ("R-hat", "P", "Q", "Biases", "Recommendations", "Why this number?", "Ladder", "Layers",
         "This update", "Printout", "Add me", "Similar")

# The controls a lesson may hide, each with what hiding it hides. Parameter boxes go by their
# parameter's name (mfstudio.core.params), so every solver's and run's parameter has one.
HIDABLE: dict[str, str] = {
    "solver": "the solver chooser (sgd, als, biased-sgd, nmf, implicit-als) and its description",
    "K": "the box for the number of latent features K",
    "steps": "the box for the step budget (steps)",
    "alpha": "the box for the learning rate (alpha)",
    "beta": "the box for the regularization (beta)",
    "cg_steps": "the box for als's and implicit-als's conjugate-gradient steps (CG steps)",
    "confidence": "the box for implicit-als's confidence weight (c = 1 + confidence × count)",
    "tol": "the box for the tolerance",
    "seed": "the box for the random seed",
    "holdout": "the box for the hold-out share",
    "patience": "the box for early stopping's patience",
    "relevance": "the box for the rating from which a held-out one is relevant (the ranking metrics)",
    "top_n": "the box for the number of recommendations per user",
    "speed": "the training speed chooser (slow motion)",
    "step": "the Step and One update buttons",
    "reset": "the Reset button",
    "grid-edit": "editing the rating grid (it stays visible, read-only)",
    "export": "File > Export (results, figures, the Python script)",
}

# What a page may suggest doing, each with what it does (the window's buttons of the same names).
ACTIONS: dict[str, str] = {
    "train": "train a new model from the seed's random start",
    "continue": "make more steps from the current factors",
    "step": "make one training step",
    "one-update": "make the next single update and show its arithmetic",
    "reset": "forget the model and draw a new random start",
}

LESSON_SUFFIX = ".mfslesson"  # the name lesson files end with
MAX_TITLE_CHARS = 100
MAX_PAGE_CHARS = 2_000
MAX_PAGES = 30

_RUN_SPECS = {s.name: s for s in RUN_PARAMS}
_EMPHASIS = re.compile(r"\*(\S(?:[^*\n]*?\S)?)\*")


def _names(names: Iterable[str]) -> str:
    return ", ".join(names)


def _fits(text: str, what: str) -> None:
    """Refuse a character no file can hold (a lone surrogate) or a control character other than a newline."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise LessonError(f"{what} holds a character that cannot be saved (a lone surrogate); "
                          "retype that part of the text.") from None
    bad = next((c for c in text if (ord(c) < 32 and c != "\n") or 127 <= ord(c) < 160), None)
    if bad is not None:
        raise LessonError(f"{what} holds the control character U+{ord(bad):04X}; "
                          "write plain text (a blank line starts a new paragraph).")


def _title(value: Any, what: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise LessonError(f"{what} has no title; give it a short one.")
    if "\n" in value:
        raise LessonError(f"{what} has a title of more than one line; keep it to one line.")
    if len(value) > MAX_TITLE_CHARS:
        raise LessonError(f"{what} has a title of {len(value):,} characters; "
                          f"keep it to {MAX_TITLE_CHARS} or fewer.")
    _fits(value, f"The title of {what[0].lower()}{what[1:]}")


@dataclass(frozen=True)
class Action:
    """What a page suggests doing (``do``, one of ACTIONS), after switching to ``solver`` (None: keep
    the one chosen) and setting ``params`` (solver or run parameters, by name; may be empty)."""

    do: str
    solver: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)

    def checked(self, current_solver: str, where: str) -> Action:
        """This action with its parameters typed and checked against the solver it runs with; a
        LessonError naming ``where`` ("Page 2 of the lesson") otherwise."""
        if self.do not in ACTIONS:
            raise LessonError(f"{where} suggests {self.do!r}, which is no action MF Studio has; "
                              f"the actions are {_names(ACTIONS)}.")
        if self.solver is not None and self.solver not in SOLVERS:
            raise LessonError(f"{where} switches to the solver {self.solver!r}, which MF Studio does not have; "
                              f"the solvers are {_names(SOLVERS)}.")
        solver = SOLVERS[self.solver or current_solver]
        specs = {s.name: s for s in solver.params} | _RUN_SPECS
        typed: dict[str, Any] = {}
        for name, value in dict(self.params).items():
            spec = specs.get(name)
            if spec is None:
                raise LessonError(f"{where} sets {name!r}, which the {solver.name} solver and a run do not have; "
                                  f"they take {_names(specs)}.")
            try:
                typed[name] = spec.validate(value)
            except MFStudioError as exc:
                raise LessonError(f"{where} sets a value the {solver.name} solver cannot take: "
                                  f"{str(exc)[:1].lower()}{str(exc)[1:]}") from None
        return replace(self, params=typed)


@dataclass(frozen=True)
class Page:
    """One page: a short title, a few plain sentences (``*emphasis*``; a blank line between
    paragraphs), the result view to bring forward (one of VIEWS, or None) and a suggested action."""

    title: str
    text: str
    view: str | None = None
    action: Action | None = None

    def check(self, where: str) -> None:
        """Raise a LessonError naming ``where`` ("Page 2 of the lesson") unless the page is usable."""
        _title(self.title, where)
        if not isinstance(self.text, str) or not self.text.strip():
            raise LessonError(f"{where} has no text; write a few sentences for it.")
        if len(self.text) > MAX_PAGE_CHARS:
            raise LessonError(f"{where} has {len(self.text):,} characters of text; "
                              f"a page holds at most {MAX_PAGE_CHARS:,}, so split it in two.")
        _fits(self.text, f"The text of {where[0].lower()}{where[1:]}")
        if self.view is not None and self.view not in VIEWS:
            raise LessonError(f"{where} shows the view {self.view!r}, which MF Studio does not have; "
                              f"the views are {_names(VIEWS)}.")
        if self.action is not None and not isinstance(self.action, Action):
            raise LessonError(f"{where} has an action that is not an Action.")

    def html(self) -> str:
        """The text as simple HTML: see :func:`page_html`."""
        return page_html(self.text)


def page_html(text: str) -> str:
    """Plain page text as HTML: escaped, one ``<p>`` per paragraph (a blank line between them),
    a single newline a ``<br>``, and ``*words*`` as ``<em>words</em>`` (a lone or spaced ``*`` stays)."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    out = []
    for p in paragraphs:
        body = _EMPHASIS.sub(r"<em>\1</em>", html.escape(p, quote=False))
        out.append("<p>" + body.replace("\n", "<br>") + "</p>")
    return "".join(out)


@dataclass(frozen=True, eq=False)
class Lesson:
    """A session with a title, pages, the controls it hides and how it starts.

    ``hide`` holds names of HIDABLE; ``start_view`` one of VIEWS (None: the window's choice);
    ``start_step`` the steps to train on opening (None: none), at most the session's step budget.
    Lists given for ``pages`` and ``hide`` are kept as a tuple and a frozenset, and each page's
    action parameters as the solver's types.
    """

    title: str
    pages: tuple[Page, ...]
    session: Session
    hide: frozenset[str] = frozenset()
    start_view: str | None = None
    start_step: int | None = None

    def __post_init__(self) -> None:
        _title(self.title, "The lesson")
        if not isinstance(self.session, Session):
            raise LessonError("The lesson has no session; make it from the ratings and settings to teach with.")
        try:
            steps = int(self.session.resolved_params()["steps"])
        except MFStudioError as exc:
            raise LessonError(f"The lesson's session has settings its solver cannot take: "
                              f"{str(exc)[:1].lower()}{str(exc)[1:]}") from None
        pages = tuple(self.pages) if isinstance(self.pages, (list, tuple)) else None
        if not pages:
            raise LessonError("The lesson has no pages; give it at least one.")
        if len(pages) > MAX_PAGES:
            raise LessonError(f"The lesson has {len(pages):,} pages; a lesson has at most {MAX_PAGES}.")
        checked = []
        for k, page in enumerate(pages, 1):
            where = f"Page {k} of the lesson"
            if not isinstance(page, Page):
                raise LessonError(f"{where} is not a page (a title and some text).")
            page.check(where)
            if page.action is not None:
                page = replace(page, action=page.action.checked(self.session.solver, where))
            checked.append(page)
        object.__setattr__(self, "pages", tuple(checked))
        if isinstance(self.hide, str) or not all(isinstance(h, str) for h in self.hide):
            raise LessonError("The lesson's hidden controls must be a set of names, such as {'K', 'seed'}.")
        hide = frozenset(self.hide)
        unknown = sorted(hide - HIDABLE.keys())
        if unknown:
            raise LessonError(f"The lesson hides {unknown[0]!r}, which is no control MF Studio can hide; "
                              f"the names are {_names(HIDABLE)}.")
        object.__setattr__(self, "hide", hide)
        if self.start_view is not None and self.start_view not in VIEWS:
            raise LessonError(f"The lesson starts on the view {self.start_view!r}, which MF Studio does not have; "
                              f"the views are {_names(VIEWS)}.")
        s = self.start_step
        if s is not None:
            if isinstance(s, bool) or not isinstance(s, int) or s < 1:
                raise LessonError(f"The lesson trains {s!r} steps on opening; give a whole number of steps "
                                  "from 1, or none.")
            if s > steps:
                raise LessonError(f"The lesson trains {s:,} steps on opening but its session's step budget is "
                                  f"{steps:,}; raise the budget or train fewer steps.")

    def hidden_in_order(self) -> list[str]:
        """The hidden controls in the order of HIDABLE (how files list them)."""
        return [name for name in HIDABLE if name in self.hide]
