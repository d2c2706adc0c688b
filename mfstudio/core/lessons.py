"""The lessons shipped in ``resources/lessons/`` (made by ``tools/make_lessons.py``), in Help ▸ Lessons' order.

They are read with :func:`mfstudio.io.load_lesson` (or :func:`mfstudio.io.load`, like any file).
"""

from __future__ import annotations

from pathlib import Path

from mfstudio.core.examples import resource_dir
from mfstudio.core.lesson import LESSON_SUFFIX

LESSONS = {
    "notebook": "What the notebook does",
    "learning-rate": "Too big a learning rate",
    "more-factors": "More factors is not always better",
    "biases": "Why biases matter",
    "newcomer": "A newcomer with one rating",
    "ratings-vs-clicks": "Ratings vs. clicks",
}


def lesson_path(name: str) -> Path:
    """The file of the shipped lesson ``name`` (see ``LESSONS``)."""
    if name not in LESSONS:
        raise KeyError(f"There is no lesson called {name!r}; choose one of {', '.join(LESSONS)}.")
    return resource_dir() / "lessons" / f"{name}{LESSON_SUFFIX}"
