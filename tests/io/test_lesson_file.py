"""Lesson files: exact round trips (through io.load too), Save as lesson, and each kind of damage refused whole
with one sentence naming the file."""

from __future__ import annotations

import gzip
import json

import pytest

import mfstudio.io as mio
from mfstudio.core.errors import LessonError
from mfstudio.core.examples import load_example
from mfstudio.core.lesson import Action, Lesson, Page
from mfstudio.core.patterns import Pattern, generate
from mfstudio.core.session import Session
from mfstudio.io.session_write import session_to_bytes
from tests.io.conftest import make_session


def a_lesson(session: Session | None = None) -> Lesson:
    s = session or Session(ratings=load_example("movie-night"), solver="biased-sgd", params={"steps": 50},
                           holdout=0.25, patience=10, top_n=3)
    pages = (Page("Start", "The *ratings* R.\n\nA second paragraph: é, ★."),
             Page("Train", "Press Train.", view="Ladder", action=Action("train", params={"alpha": 0.01})),
             Page("Plain", "Switch to sgd.", action=Action("step", solver="sgd", params={"K": 3, "patience": None})))
    return Lesson("Why biases matter", pages, s, hide=frozenset({"seed", "K", "grid-edit"}), start_view="Biases",
                  start_step=20)


def assert_same_lesson(a: Lesson, b: Lesson) -> None:
    assert (a.title, a.pages, a.hide, a.start_view, a.start_step) == (b.title, b.pages, b.hide, b.start_view,
                                                                      b.start_step)
    assert session_to_bytes(a.session) == session_to_bytes(b.session)  # the same session, to the last bit


def test_round_trip_restores_the_lesson_exactly(tmp_path):
    x = a_lesson()
    p = tmp_path / "l.mfslesson"
    mio.save_lesson(p, x)
    y, notices = mio.load_lesson(p)
    assert notices == []
    assert_same_lesson(x, y)
    doc = json.loads(p.read_text("utf-8"))  # plain, standard JSON with the session document inside
    assert doc["format"] == "mfstudio-lesson" and doc["version"] == 1 and doc["session"]["format"] == "mfstudio-session"
    assert doc["hide"] == ["K", "seed", "grid-edit"]  # in the vocabulary's order
    assert doc["pages"][2]["action"] == {"do": "step", "solver": "sgd", "params": {"K": 3, "patience": None}}
    assert mio.lesson_to_bytes(y) == p.read_bytes()


def test_io_load_gives_the_lesson_and_its_session_to_every_caller(tmp_path):
    x = a_lesson()
    p = tmp_path / "l.mfslesson"
    mio.save_lesson(p, x)
    res = mio.load(p)
    assert res.lesson is not None and res.session is res.lesson.session and res.fmt == "session"
    assert_same_lesson(x, res.lesson)
    renamed = tmp_path / "l.json"  # a renamed lesson is still one
    renamed.write_bytes(p.read_bytes())
    assert mio.load(renamed).lesson is not None
    assert mio.load(p, fmt="session").lesson is not None
    plain = tmp_path / "s.mfstudio"
    mio.save_session(plain, x.session)
    assert mio.load(plain).lesson is None
    named = tmp_path / "s.mfslesson"  # a session named as a lesson opens as the session it is
    named.write_bytes(plain.read_bytes())
    res = mio.load(named)
    assert res.lesson is None and session_to_bytes(res.session) == session_to_bytes(x.session)


def test_a_trained_session_becomes_a_lesson_with_or_without_its_model(tmp_path):
    s = make_session("biased-sgd", steps=30)
    x = mio.lesson_from_session(s, "Trained", [("One", "Look at R-hat."), Page("Two", "And P.", view="P")],
                                hide=["seed"], start_view="R-hat")
    assert x.session is not s and x.session.result is not None and x.pages[0] == Page("One", "Look at R-hat.")
    s.params["K"] = 5  # the window goes on editing its session: the lesson keeps what it was given
    s.held_out_cells[0, 0] = 3
    s.result.factors.P[0, 0] = 99.0
    assert x.session.params["K"] == 2 and x.session.held_out_cells[0, 0] != 3 and x.session.result.factors.P[0, 0] != 99
    p = tmp_path / "t.mfslesson"
    mio.save_lesson(p, x)
    assert_same_lesson(x, mio.load_lesson(p)[0])
    bare = mio.lesson_from_session(s, "Untrained", [("One", "Train it.")], keep_result=False)
    assert bare.session.result is None and s.result is not None
    with pytest.raises(LessonError, match="The lesson hides 'kay', which is no control"):
        mio.lesson_from_session(s, "Bad", [("One", "x")], hide=["kay"])


def test_a_large_lesson_is_written_as_entries_and_gzip_and_reads_back(tmp_path):
    ratings = generate(Pattern(users=400, items=400, observed=0.5, seed=1)).ratings
    x = a_lesson(Session(ratings=ratings, params={"steps": 50}))
    p = tmp_path / "big.mfslesson"
    mio.save_lesson(p, x)
    data = p.read_bytes()
    assert data[:2] == b"\x1f\x8b" and b'"entries"' in gzip.decompress(data)
    assert_same_lesson(x, mio.load(p).lesson)


def good_doc() -> dict:
    return json.loads(mio.lesson_to_bytes(a_lesson()))


def set_path(doc: dict, path: tuple, value) -> dict:
    d = doc
    for k in path[:-1]:
        d = d[k]
    if value is KeyError:
        del d[path[-1]]
    else:
        d[path[-1]] = value
    return doc


DAMAGE = {
    "not JSON": (b"hello, lesson", "is not JSON, so it cannot be an MF Studio lesson; choose a lesson saved"),
    "truncated": (lambda b: b[: len(b) // 2], "ends too early (it is truncated); open an older copy or save the"),
    "empty": (b"  \n", "is empty; choose a lesson saved by MF Studio"),
    "not a lesson": ({"format": "something"}, "is JSON but not an MF Studio lesson"),
    "a list": ([1, 2], "is JSON but not an MF Studio lesson"),
    "newer": ((("version",), 2), "was made by a newer MF Studio (lesson format 2"),
    "no version": ((("version",), KeyError), "its format version is missing"),
    "unknown key": ((("teacher",), "me"), "the lesson has 'teacher', which a lesson does not have"),
    "no title": ((("title",), KeyError), "the lesson has no 'title'"),
    "title of a number": ((("title",), 3), "the lesson's 'title' must be text"),
    "empty title": ((("title",), ""), "has no title; give it a short one"),
    "pages not a list": ((("pages",), {}), "its 'pages' must be a list of pages"),
    "no pages": ((("pages",), []), "has no pages; give it at least one"),
    "page not an object": ((("pages", 0), "Start"), "page 1 is not an object"),
    "page key unknown": ((("pages", 1, "image"), "x.png"), "page 2 has 'image', which a lesson does not have"),
    "page without text": ((("pages", 0, "text"), KeyError), "page 1 has no 'text'"),
    "page text of a list": ((("pages", 0, "text"), ["a"]), "page 1's 'text' must be text"),
    "unknown view": ((("pages", 1, "view"), "Ladders"), "Page 2 of the lesson file l.mfslesson shows the view"),
    "action not an object": ((("pages", 1, "action"), "train"), "the action of page 2 is not an object"),
    "unknown action": ((("pages", 1, "action", "do"), "fly"), "Page 2 of the lesson file l.mfslesson suggests 'fly'"),
    "action params of text": ((("pages", 1, "action", "params", "alpha"), "0.01"), "written without quotes"),
    "action params of true": ((("pages", 1, "action", "params", "alpha"), True), "written without quotes"),
    "action params a list": ((("pages", 1, "action", "params"), [1]), "'params' that are not an object"),
    "action param unknown": ((("pages", 1, "action", "params", "lr"), 1), "sets 'lr', which the biased-sgd solver"),
    "action param out of range": ((("pages", 1, "action", "params", "alpha"), -1), "sets a value the biased-sgd"),
    "unknown hide name": ((("hide",), ["K", "learning-rate"]), "The lesson file l.mfslesson hides 'learning-rate'"),
    "hide not a list": ((("hide",), "K"), "its 'hide' must be a list of control names"),
    "unknown start view": ((("start_view",), "Loss"), "The lesson file l.mfslesson starts on the view 'Loss'"),
    "start step of text": ((("start_step",), "20"), "its 'start_step' must be a whole number of steps or null"),
    "start step true": ((("start_step",), True), "its 'start_step' must be a whole number"),
    "start step beyond the budget": ((("start_step",), 51), "its session's step budget is 50"),
    "no session": ((("session",), KeyError), "it holds no session"),
    "session of another format": ((("session", "format"), "mfstudio-lesson"), "it holds no session"),
    "session ratings damaged": ((("session", "ratings", "shape"), KeyError),
                                "The session in the lesson file l.mfslesson is damaged: 'ratings.shape' is missing"),
    "session settings": ((("session", "params"), {"alpha": "fast"}), "The session in the lesson file l.mfslesson has"),
    "a key twice": (lambda b: b.replace(b'"title": "Why', b'"title": "A", "title": "Why', 1), "holds 'title' twice"),
}


def damaged(case: str):
    what, _ = DAMAGE[case]
    if isinstance(what, bytes):
        return what
    if callable(what):
        return what(mio.lesson_to_bytes(a_lesson()))
    if isinstance(what, tuple):
        return json.dumps(set_path(good_doc(), *what)).encode()
    return json.dumps(what).encode()


@pytest.mark.parametrize("case", sorted(DAMAGE))
def test_each_kind_of_damage_refuses_the_file_with_one_sentence(tmp_path, case):
    p = tmp_path / "l.mfslesson"
    p.write_bytes(damaged(case))
    for read in (mio.load_lesson, mio.load):
        with pytest.raises(mio.FileFormatError) as info:
            read(p)
        text = str(info.value)
        assert DAMAGE[case][1] in text
        assert "l.mfslesson" in text and text.endswith(".") and "\n" not in text


def test_damaged_saved_results_refuse_a_lesson_where_a_session_would_open_without_them(tmp_path):
    x = mio.lesson_from_session(make_session("sgd", steps=30), "Trained", [("One", "Look.")])
    doc = json.loads(mio.lesson_to_bytes(x))
    doc["session"]["result"]["factors"]["K"] = 7
    p = tmp_path / "l.mfslesson"
    p.write_text(json.dumps(doc), "utf-8")
    with pytest.raises(mio.FileFormatError, match="The session in the lesson file l.mfslesson: its saved results"):
        mio.load(p)
    s = tmp_path / "s.mfstudio"
    s.write_text(json.dumps(doc["session"]), "utf-8")
    res = mio.load(s)
    assert res.session.result is None and "saved results" in res.notices[0]


def test_the_open_dialog_offers_lessons():
    assert "*.mfslesson" in mio.FILE_FILTERS[0] and mio.LESSON_FILTER in mio.FILE_FILTERS
