"""``mfstudio similar`` end to end: train with ``main(["train", ...])``, then list the items (users) most like
one; the JSON is the core's list with exactly its keys; the table and its sentence; mistakes as one sentence
with exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import mfstudio.io as mio
from mfstudio import cli
from mfstudio.core.similar import compare, similar
from tests.cli.conftest import run
from tests.cli.test_recommend_command import write_movie_night


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("similar")
    data = write_movie_night(base / "movies.csv")
    out = base / "als"
    assert cli.main(["train", str(data), "--solver", "als", "--steps", "30", "--quiet", "--out", str(out)]) == 0
    return out


@pytest.mark.parametrize("by", ["cosine", "dot"])
def test_items_as_json_are_the_core_list(folder, capsys, by):
    s = mio.load(folder / "session.mfstudio").session
    f = s.result.factors
    for i, label in enumerate(s.ratings.items):
        code, stdout, err = run(["similar", str(folder), "--item", label, "--by", by, "--top", "5", "--json"], capsys)
        assert code == 0 and err == ""
        d = json.loads(stdout)
        assert list(d) == ["item", "by", "similar"] and d["item"] == label and d["by"] == by
        assert [list(x) for x in d["similar"]] == [["item", "score"]] * 5
        core = similar(f, "item", i, by, 5)
        assert [x["item"] for x in d["similar"]] == [s.ratings.items[j] for j in core.others]
        assert [x["score"] for x in d["similar"]] == core.scores.tolist()
        assert label not in [x["item"] for x in d["similar"]]
        scores = [x["score"] for x in d["similar"]]
        assert scores == sorted(scores, reverse=True)


def test_users_as_json(folder, capsys):
    code, stdout, _ = run(["similar", str(folder), "--user", "ana", "--json"], capsys)
    d = json.loads(stdout)
    assert code == 0 and list(d) == ["user", "by", "similar"] and d["user"] == "Ana" and d["by"] == "cosine"
    assert [list(x) for x in d["similar"]] == [["user", "score"]] * 10  # --top is 10 unless given
    assert "Ana" not in [x["user"] for x in d["similar"]]
    f = mio.load(folder / "session.mfstudio").session.result.factors
    P = f.P
    j = [x["user"] for x in d["similar"]]
    s = mio.load(folder / "session.mfstudio").session
    first = s.ratings.users.index(j[0])
    expect = P[0] @ P[first] / np.linalg.norm(P[0]) / np.linalg.norm(P[first])
    assert d["similar"][0]["score"] == pytest.approx(expect, rel=1e-12)


def test_the_table_ends_with_the_sentence(folder, capsys):
    code, text, err = run(["similar", str(folder / "session.mfstudio"), "--item", "Starfall", "--by", "dot", "--top",
                           "3"], capsys)
    assert code == 0 and err == ""
    lines = text.splitlines()
    assert lines[0] == "Items most like Starfall by dot (als, K = 2, after 30 steps)"
    assert lines[2].split() == ["rank", "item", "dot"] and [ln.split()[0] for ln in lines[3:6]] == ["1", "2", "3"]
    s = mio.load(folder / "session.mfstudio").session
    sentence = compare(s.result.factors, s.train_entries(), "item", s.ratings.items.index("Starfall"), 3).sentence
    assert " ".join(" ".join(lines[6:]).split()) == sentence


def test_cold_items_are_marked_and_last(tmp_path, capsys):
    data = write_movie_night(tmp_path / "movies.csv")
    s = mio.load(data).session
    o = s.ratings.observed
    k = s.ratings.items.index("Iron Tide")
    s.held_out_cells = np.stack([o.rows[o.cols == k], o.cols[o.cols == k]], axis=1)
    mio.save_session(tmp_path / "held.mfstudio", s)
    out = tmp_path / "out"
    assert run(["train", str(tmp_path / "held.mfstudio"), "--solver", "als", "--steps", "20", "--quiet", "--out",
                str(out)], capsys)[0] == 0
    d = json.loads(run(["similar", str(out), "--item", "Starfall", "--top", "14", "--json"], capsys)[1])
    assert d["similar"][-1] == {"item": "Iron Tide", "score": 0.0}
    code, text, _ = run(["similar", str(out), "--item", "Starfall", "--top", "14"], capsys)
    lines = text.splitlines()
    assert code == 0 and lines[16].split() == ["14", "Iron", "Tide", "0.000", "*"]
    assert lines[17] == "  * no taste vector (no training ratings, or all zeros): it scores 0 and comes last"
    assert len({len(ln.rstrip(" *")) for ln in lines[3:16]}) == 1  # the scores stay in one column
    code, text, _ = run(["similar", str(out), "--item", "Iron Tide"], capsys)
    assert code == 0 and "The model has no taste vector for this item" in " ".join(text.split())


@pytest.mark.parametrize(("flags", "message"), [
    (["--item", "Starfal"], "There is no item 'Starfal' in {out}; the closest are 'Starfall', "),
    (["--user", "Anna"], "There is no user 'Anna' in {out}; the closest are 'Ana', "),
    (["--item", "Starfall", "--user", "Ana"], "Give --item I (for similar items) or --user U (for similar users), "
                                              "not both."),
    ([], "Give --item I (for similar items) or --user U (for similar users)."),
    (["--item", "Starfall", "--by", "angle"], "Argument --by: invalid choice: 'angle'"),
    (["--item", "Starfall", "--top", "0"], "--top must be a whole number of at least 1; got 0."),
    (["--item", "Starfall", "--top", "many"], "--top must be a whole number of at least 1; got 'many'."),
])
def test_mistakes_are_one_sentence(folder, capsys, flags, message):
    code, stdout, err = run(["similar", str(folder), *flags], capsys)
    assert code == 2 and stdout == "" and len(err.strip().splitlines()) == 1
    assert err.startswith(message.format(out=folder))


def test_missing_results_and_the_help(tmp_path, capsys):
    code, _, err = run(["similar", "--item", "Starfall"], capsys)
    assert code == 2 and err.startswith("The following arguments are required: RESULTS; run `mfstudio similar --help`")
    code, _, err = run(["similar", str(tmp_path), "--item", "Starfall"], capsys)
    assert code == 2 and err.startswith(f"{tmp_path} holds no session.mfstudio;")
    code, out, _ = run(["similar", "--help"], capsys)
    body = " ".join(out.split())
    assert code == 0 and '{"item", "by", "similar": [{"item", "score"}, ...]}' in body
    assert '{"user", "by", "similar": [{"user", "score"}, ...]}' in body
    code, out, _ = run(["--help"], capsys)
    assert "mfstudio similar results --item" in out
