"""Lessons: what a valid one holds, each way one can be wrong refused with a sentence, the page text's HTML."""

from __future__ import annotations

import pytest

from mfstudio.core import RUN_PARAMS, SOLVERS, load_example
from mfstudio.core.errors import LessonError
from mfstudio.core.lesson import ACTIONS, HIDABLE, MAX_PAGES, VIEWS, Action, Lesson, Page, page_html
from mfstudio.core.session import Session


def session(**kw) -> Session:
    return Session(ratings=load_example("example-1"), **{"solver": "sgd", "params": {"steps": 100}, **kw})


PAGE = Page("Press Train", "Press *Train* and watch.")


def lesson(**kw) -> Lesson:
    return Lesson(**{"title": "A lesson", "pages": (PAGE,), "session": session(), **kw})


def test_a_lesson_keeps_its_parts_as_given_and_types_its_actions():
    pages = [PAGE, Page("Smaller", "Set alpha to 0.01.", view="Printout",
                        action=Action("train", params={"alpha": "0.01", "K": 3.0, "patience": None}))]
    x = lesson(pages=pages, hide=["K", "seed", "K"], start_view="Printout", start_step=100)
    assert isinstance(x.pages, tuple) and x.pages[0] is PAGE
    assert x.hide == frozenset({"K", "seed"}) and x.hidden_in_order() == ["K", "seed"]
    params = x.pages[1].action.params
    assert params == {"alpha": 0.01, "K": 3, "patience": None}
    assert type(params["alpha"]) is float and type(params["K"]) is int
    assert pages[1].action.params["alpha"] == "0.01"  # the page given is not changed


def test_every_parameter_of_every_solver_and_run_can_be_hidden():
    names = {s.name for cls in SOLVERS.values() for s in cls.params} | {s.name for s in RUN_PARAMS}
    assert names <= HIDABLE.keys()
    assert all(isinstance(v, str) and v for v in HIDABLE.values()) and all(ACTIONS.values())


def test_an_action_may_switch_solver_and_then_takes_that_solvers_parameters():
    ok = lesson(pages=(Page("ALS", "Try ALS.", action=Action("train", solver="als", params={"steps": 20})),))
    assert ok.pages[0].action.params == {"steps": 20}
    with pytest.raises(LessonError, match="Page 1 of the lesson sets 'alpha', which the als solver and a run do not"):
        lesson(pages=(Page("ALS", "Try ALS.", action=Action("train", solver="als", params={"alpha": 0.1})),))


BAD = {
    "no title": (dict(title=" "), "The lesson has no title"),
    "title of two lines": (dict(title="A\nB"), "more than one line"),
    "long title": (dict(title="x" * 101), "a title of 101 characters"),
    "title with a lone surrogate": (dict(title="A \ud800"), "The title of the lesson holds a character that cannot"),
    "no pages": (dict(pages=()), "The lesson has no pages"),
    "pages not a sequence": (dict(pages=None), "The lesson has no pages"),
    "too many pages": (dict(pages=(PAGE,) * (MAX_PAGES + 1)), f"a lesson has at most {MAX_PAGES}"),
    "not a page": (dict(pages=("text",)), "Page 1 of the lesson is not a page"),
    "page without title": (dict(pages=(Page("", "x"),)), "Page 1 of the lesson has no title"),
    "page without text": (dict(pages=(PAGE, Page("T", "  \n")),), "Page 2 of the lesson has no text"),
    "long page": (dict(pages=(Page("T", "word " * 401),)), "split it in two"),
    "control character": (dict(pages=(Page("T", "a\tb"),)), "The text of page 1 of the lesson holds the control"),
    "unknown view": (dict(pages=(Page("T", "x", view="Ladders"),)), "shows the view 'Ladders', which MF Studio"),
    "unknown action": (dict(pages=(Page("T", "x", action=Action("jump")),)), "suggests 'jump', which is no action"),
    "unknown solver": (dict(pages=(Page("T", "x", action=Action("train", solver="svd")),)), "the solver 'svd'"),
    "unknown parameter": (dict(pages=(Page("T", "x", action=Action("train", params={"lr": 1})),)), "sets 'lr'"),
    "value out of range": (dict(pages=(Page("T", "x", action=Action("train", params={"K": 0})),)),
                           "Page 1 of the lesson sets a value the sgd solver cannot take: latent features"),
    "value of text": (dict(pages=(Page("T", "x", action=Action("train", params={"beta": "much"})),)), "not 'much'"),
    "unknown hide name": (dict(hide={"K", "learning-rate"}), "The lesson hides 'learning-rate', which is no control"),
    "hide as one string": (dict(hide="K"), "must be a set of names"),
    "unknown start view": (dict(start_view="Loss"), "The lesson starts on the view 'Loss'"),
    "start step 0": (dict(start_step=0), "The lesson trains 0 steps on opening"),
    "start step true": (dict(start_step=True), "The lesson trains True steps"),
    "start step beyond the budget": (dict(start_step=101), "its session's step budget is 100"),
    "no session": (dict(session=None), "The lesson has no session"),
    "session settings": (dict(session=session(params={"alpha": -1})), "The lesson's session has settings"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_bad_lesson_is_refused_with_a_sentence_that_says_the_lesson(case):
    changes, words = BAD[case]
    with pytest.raises(LessonError) as info:
        lesson(**changes)
    text = str(info.value)
    assert words in text
    assert text.endswith(".") and "\n" not in text
    # the lesson file reader names its file in place of "the lesson"
    assert text.startswith("The lesson") or "the lesson" in text


def test_views_and_vocabularies_are_the_documented_ones():
    assert VIEWS[:5] == ("R-hat", "P", "Q", "Biases", "Recommendations")
    assert {"Why this number?", "Ladder", "Layers", "This update", "Printout", "Add me", "Similar"} <= set(VIEWS)
    assert {"solver", "grid-edit", "export", "speed"} <= HIDABLE.keys()


def test_page_html_escapes_makes_paragraphs_and_emphasis():
    assert page_html("Press *Train*.\n\nThen *look*") == "<p>Press <em>Train</em>.</p><p>Then <em>look</em></p>"
    assert page_html("R < 5 & *R_hat* > 1") == "<p>R &lt; 5 &amp; <em>R_hat</em> &gt; 1</p>"
    assert page_html("2 * 3 * 4 and a lone * star") == "<p>2 * 3 * 4 and a lone * star</p>"
    assert page_html("one\nline break") == "<p>one<br>line break</p>"
    assert Page("T", "*a* b").html() == "<p><em>a</em> b</p>"
