"""``mfstudio recommend`` end to end: train with ``main(["train", ...])``, then recommend for a new person
(folded in from --rate) or a user of the data (--user); the JSON is the core's fold-in and the core's
recommend; the table; mistakes as one sentence with exit 2."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

import mfstudio.io as mio
from mfstudio import cli
from mfstudio.core import load_example, recommend
from mfstudio.core.foldin import fold_in
from tests.cli.conftest import run

SOLVER_STEPS = {"sgd": "2000", "als": "30", "biased-sgd": "200", "nmf": "300"}
NEW_PERSON = ["Starfall=5", "Laugh Track=1", "deep orbit=4.5", "Pasta & Love=2"]  # a label's case aside
NEW_PAIRS = [(1, 5.0), (2, 1.0), (8, 4.5), (13, 2.0)]


def write_movie_night(path: Path) -> Path:
    """The movie-night example as a matrix CSV (0: not rated), as a user would have it."""
    r = load_example("movie-night")
    R = np.nan_to_num(r.to_dense(), nan=0.0)
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["", *r.items])
        for label, row in zip(r.users, R):
            w.writerow([label, *(f"{x:g}" for x in row)])
    return path


@pytest.fixture(scope="module")
def folders(tmp_path_factory) -> dict[str, Path]:
    """A results folder per solver, trained on movie night with 20% held out."""
    base = tmp_path_factory.mktemp("recommend")
    data = write_movie_night(base / "movies.csv")
    out = {}
    for solver, steps in SOLVER_STEPS.items():
        out[solver] = base / solver
        assert cli.main(["train", str(data), "--solver", solver, "--steps", steps, "--holdout", "0.2", "--quiet",
                         "--out", str(out[solver])]) == 0
    return out


def rate_flags(texts: list[str]) -> list[str]:
    return [a for t in texts for a in ("--rate", t)]


@pytest.mark.parametrize("solver", list(SOLVER_STEPS))
def test_a_new_person_gets_the_core_fold_in_as_json(folders, capsys, solver):
    out = folders[solver]
    code, stdout, err = run(["recommend", str(out), *rate_flags(NEW_PERSON), "--top", "20", "--json"], capsys)
    assert code == 0 and err == ""
    d = json.loads(stdout)
    assert list(d) == ["user_factors", "user_bias", "recommendations"]
    s = mio.load(out / "session.mfstudio").session
    r = s.result
    fi = fold_in(s.ratings, r.factors, s.train_entries(), solver, r.params, NEW_PAIRS)
    assert d["user_factors"] == fi.p.tolist()
    assert d["user_bias"] == fi.user_bias and (d["user_bias"] is None) == (solver != "biased-sgd")
    rec = fi.recommendations(20)
    assert [list(x) for x in d["recommendations"]] == [["item", "score", "ratings"]] * len(rec)
    assert [x["item"] for x in d["recommendations"]] == [s.ratings.items[i] for i in rec.item]
    assert [x["score"] for x in d["recommendations"]] == rec.score.tolist()
    assert [x["ratings"] for x in d["recommendations"]] == rec.item_ratings.tolist()
    rated = {s.ratings.items[i] for i, _ in NEW_PAIRS}
    assert not rated & {x["item"] for x in d["recommendations"]}
    scores = [x["score"] for x in d["recommendations"]]
    assert scores == sorted(scores, reverse=True)


@pytest.mark.parametrize("solver", list(SOLVER_STEPS))
def test_a_user_of_the_data_gets_what_recommend_gives(folders, capsys, solver):
    out = folders[solver]
    s = mio.load(out / "session.mfstudio").session
    f = s.result.factors
    recs = recommend(s.ratings, f, 4, train=s.train_entries())
    for u, label in enumerate(s.ratings.users):
        code, stdout, err = run(["recommend", str(out), "--user", label, "--top", "4", "--json"], capsys)
        assert code == 0 and err == ""
        d = json.loads(stdout)
        assert d["user_factors"] == f.P[u].tolist()
        assert d["user_bias"] == (None if f.user_bias is None else float(f.user_bias[u]))
        mine = recs.user == u
        assert [x["item"] for x in d["recommendations"]] == [s.ratings.items[i] for i in recs.item[mine]]
        np.testing.assert_allclose([x["score"] for x in d["recommendations"]], recs.score[mine], rtol=1e-14,
                                   atol=1e-14)
        assert [x["ratings"] for x in d["recommendations"]] == recs.item_ratings[mine].tolist()


def test_the_table_for_a_new_person(folders, capsys):
    code, text, err = run(["recommend", str(folders["biased-sgd"]), *rate_flags(NEW_PERSON), "--top", "3"], capsys)
    assert code == 0 and err == ""
    lines = text.splitlines()
    assert lines[0] == "Recommendations for a new person who rated 4 items (biased-sgd, K = 2, after 200 steps)"
    assert lines[2].split() == ["rank", "item", "predicted", "score", "ratings"]
    assert [ln.split()[0] for ln in lines[3:6]] == ["1", "2", "3"] and lines[6] == ""
    assert lines[7].startswith("Tastes: k1 ") and ", k2 " in lines[7] and "; bias " in lines[7]
    assert not any(name in text for name in ("Starfall", "Laugh Track", "Deep Orbit", "Pasta & Love"))
    for ln in lines[3:6]:
        predicted, score = float(ln.split()[-3]), float(ln.split()[-2])
        assert 1.0 <= predicted <= 5.0 and predicted == pytest.approx(min(max(score, 1.0), 5.0), abs=0.006)


def test_the_table_for_a_user_and_an_empty_list(folders, capsys):
    code, text, _ = run(["recommend", str(folders["als"] / "session.mfstudio"), "--user", "Ana"], capsys)
    assert code == 0 and text.startswith("Recommendations for Ana (als, K = 2, after 30 steps)\n")
    assert "Tastes: k1 " in text and "bias" not in text
    code, text, _ = run(["recommend", str(folders["als"]), "--user", "Ana", "--min-ratings", "100"], capsys)
    assert code == 0 and "Nothing to recommend: every item is rated or has fewer than 100 training ratings." in text
    code, _, err = run(["recommend", str(folders["als"]), "--user", "Ana", "--top", "0", "--json"], capsys)
    assert code == 2 and "give --top 1 or more" in err


def test_ratings_of_items_without_training_ratings_are_said_and_not_used(tmp_path, capsys):
    data = write_movie_night(tmp_path / "movies.csv")
    s = mio.load(data).session
    o = s.ratings.observed
    starfall = s.ratings.items.index("Starfall")
    s.held_out_cells = np.stack([o.rows[o.cols == starfall], o.cols[o.cols == starfall]], axis=1)
    mio.save_session(tmp_path / "held.mfstudio", s)
    out = tmp_path / "out"
    assert run(["train", str(tmp_path / "held.mfstudio"), "--solver", "als", "--steps", "20", "--quiet", "--out",
                str(out)], capsys)[0] == 0
    code, stdout, err = run(["recommend", str(out), "--rate", "Starfall=5", "--json"], capsys)
    assert code == 0
    assert err.startswith("Note: Nobody rated Starfall in training, so the model knows nothing of it and the "
                          "predictions are the fallback, the mean training rating ")
    d = json.loads(stdout)
    assert d["user_factors"] == [0.0, 0.0] and d["user_bias"] is None
    assert len({x["score"] for x in d["recommendations"]}) == 1  # every prediction is the mean
    code, text, _ = run(["recommend", str(out), "--rate", "Starfall=5", "--rate", "Iron Tide=4"], capsys)
    assert code == 0 and "that rating is not used." in " ".join(text.split())


@pytest.mark.parametrize(("flags", "message"), [
    (["--rate", "Starfal=4"], "There is no item 'Starfal' in {out}; the closest are 'Starfall', "),
    (["--rate", "Starfall=good"], "The rating in --rate 'Starfall=good' is not a number; give a number from 1 to 5."),
    (["--rate", "Starfall=nan"], "The rating in --rate 'Starfall=nan' is not a finite number; give a number from 1 "
                                 "to 5."),
    (["--rate", "Starfall="], "The rating in --rate 'Starfall=' is blank; give a number from 1 to 5."),
    (["--rate", "Starfall=7"], "A rating of 7 for Starfall is off the rating scale 1 to 5; give a rating from 1 to 5."),
    (["--rate", "Starfall=0.5"], "A rating of 0.5 for Starfall is off the rating scale 1 to 5;"),
    (["--rate", "Starfall"], "--rate 'Starfall' is not ITEM=RATING; give the item's name, = and a number, e.g. "
                             "--rate \"The Long Night=5\"."),
    (["--rate", "=4"], "--rate '=4' is not ITEM=RATING;"),
    (["--rate", "Starfall=4", "--rate", "starfall=5"], "Starfall is rated twice (4 and 5); give one rating per item."),
    (["--rate", "Starfall=4", "--user", "Ana"], "Give --rate (a new person's ratings) or --user (a user of the data), "
                                                "not both."),
    ([], "Say who the recommendations are for: --rate ITEM=RATING once per item for a new person, or --user U"),
    (["--user", "Zed"], "There is no user 'Zed' in {out}; the closest are"),
    (["--user", "Ana", "--top", "-1"], "Bad value for --top: "),
    (["--user", "Ana", "--min-ratings", "x"], "--min-ratings must be a whole number of training ratings"),
])
def test_mistakes_are_one_sentence(folders, capsys, flags, message):
    out = folders["als"]
    code, stdout, err = run(["recommend", str(out), *flags], capsys)
    assert code == 2 and stdout == "" and len(err.strip().splitlines()) == 1
    assert err.startswith(message.format(out=out))


def test_missing_or_untrained_results(tmp_path, capsys):
    code, _, err = run(["recommend", "--user", "Ana"], capsys)
    assert code == 2 and err.startswith("The following arguments are required: RESULTS; run `mfstudio recommend "
                                        "--help`")
    code, _, err = run(["recommend", str(tmp_path / "nothing"), "--user", "Ana"], capsys)
    assert code == 2 and "There is no file at" in err and len(err.strip().splitlines()) == 1
    data = write_movie_night(tmp_path / "movies.csv")
    code, _, err = run(["recommend", str(data), "--user", "Ana"], capsys)
    assert code == 2 and err == (f"{data} has no trained model; run `mfstudio train {data} --out DIR` first, then "
                                 "recommend DIR.\n")


def test_help_names_the_json_keys_and_the_main_help_the_command(capsys):
    code, out, _ = run(["recommend", "--help"], capsys)
    body = " ".join(out.split())
    assert code == 0 and "--rate ITEM=RATING" in body and "--user U" in body
    assert '{"user_factors": [...], "user_bias"' in body and '"recommendations": [{"item", "score"' in body
    code, out, _ = run(["--help"], capsys)
    assert "mfstudio recommend results --rate" in out and "mfstudio recommend results --user" in out
