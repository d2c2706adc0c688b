"""``mfstudio explain`` end to end: train with ``main(["train", ...])``, then explain a cell; the JSON terms
add up to the prediction, which is the R_hat.csv cell; the table; mistakes as one sentence with exit 2."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

import mfstudio.io as mio
from mfstudio.core.explain import HELD_OUT_TEXT
from tests.cli.conftest import run

CSV = ",A,B,C,D\nu1,0,4.5,2.0,0\nu2,4,0,3.5,0\nu3,0,5,0,2\nu4,0,3.5,4.0,1.0\n"


@pytest.fixture
def ratings_csv(tmp_path: Path) -> Path:
    p = tmp_path / "r.csv"
    p.write_text(CSV)
    return p


def train(tmp_path: Path, ratings_csv: Path, capsys, name: str = "out", *flags: str) -> Path:
    out = tmp_path / name
    code, _, err = run(["train", str(ratings_csv), "--out", str(out), "--quiet", *flags], capsys)
    assert code == 0, err
    return out


def r_hat_csv(folder: Path) -> dict[tuple[str, str], float]:
    with open(folder / "R_hat.csv", newline="") as fh:
        rows = list(csv.reader(fh))
    items = rows[0][1:]
    return {(row[0], item): float(v) for row in rows[1:] for item, v in zip(items, row[1:])}


@pytest.mark.parametrize("solver", ["sgd", "als", "biased-sgd", "nmf"])
def test_json_terms_add_up_to_the_r_hat_cell_with_full_precision(tmp_path, ratings_csv, capsys, solver):
    out = train(tmp_path, ratings_csv, capsys, "out", "--solver", solver, "--steps", "50", "--full-precision")
    R_hat = r_hat_csv(out)
    for (user, item), cell in R_hat.items():
        code, stdout, err = run(["explain", str(out), "--user", user, "--item", item, "--json"], capsys)
        assert code == 0 and err == ""
        d = json.loads(stdout)
        assert list(d)[:6] == ["user", "item", "prediction", "shown", "actual", "terms"]
        assert (d["user"], d["item"]) == (user, item)
        names = [t["name"] for t in d["terms"]]
        assert names == (["mean", "user bias", "item bias"] if solver == "biased-sgd" else []) + ["k1", "k2"]
        total = sum(t["value"] for t in d["terms"])
        assert abs(total - d["prediction"]) <= 1e-12 * max(1.0, abs(d["prediction"]))
        # R_hat.csv is P @ Q for the whole matrix (BLAS), the explanation one dot product of K terms: they may
        # differ in the last bit, never more
        assert d["prediction"] == pytest.approx(cell, rel=1e-14, abs=1e-14)
        assert d["shown"] == min(max(d["prediction"], 1.0), 5.0)


def test_the_default_csv_precision_agrees_to_its_six_digits(tmp_path, ratings_csv, capsys):
    out = train(tmp_path, ratings_csv, capsys, "out", "--steps", "300")
    cell = r_hat_csv(out)[("u3", "A")]
    d = json.loads(run(["explain", str(out), "--user", "u3", "--item", "A", "--json"], capsys)[1])
    assert float(f"{d['prediction']:.6g}") == cell


def test_actual_error_and_held_out_in_json_and_table(tmp_path, ratings_csv, capsys):
    out = train(tmp_path, ratings_csv, capsys, "out", "--holdout", "0.2", "--steps", "300")
    s = mio.load(out / "session.mfstudio").session
    (hu, hi), *_ = s.held_out_cells
    user, item = s.ratings.users[hu], s.ratings.items[hi]
    d = json.loads(run(["explain", str(out), "--user", user, "--item", item, "--json"], capsys)[1])
    actual = float(s.ratings.to_dense()[hu, hi])
    assert d["actual"] == actual and set(d) == {"user", "item", "prediction", "shown", "actual", "terms"}
    code, text, _ = run(["explain", str(out), "--user", user, "--item", item], capsys)
    assert code == 0 and f"actual rating ({HELD_OUT_TEXT})" in text
    d = json.loads(run(["explain", str(out), "--user", "u1", "--item", "A", "--json"], capsys)[1])
    assert d["actual"] is None


def test_the_table_lists_every_term_and_the_sentence(tmp_path, ratings_csv, capsys):
    out = train(tmp_path, ratings_csv, capsys, "out", "--solver", "biased-sgd", "--steps", "100")
    code, text, err = run(["explain", str(out / "session.mfstudio"), "--user", "u1", "--item", "C"], capsys)
    assert code == 0 and err == ""
    lines = text.splitlines()
    assert lines[0] == "u1 and C (biased-sgd, K = 2, after 100 steps)"
    assert lines[2].split() == ["part", "P[u,k]", "Q[k,i]", "value"]
    labels = [ln.split("  ")[1].strip() for ln in lines[3:12]]
    assert labels == ["mean rating μ", "user bias b_u", "item bias b_i", "taste 1 (k1)", "taste 2 (k2)",
                      "prediction (the sum)", "shown", "actual rating", "error (actual − prediction)"]
    assert lines[10].split()[-1] == "2.00"  # u1 rated C 2.0
    body = " ".join(text.split())
    assert "The model predicts" in body and "from the mean rating" in body
    assert "rotation and sign" in body and "the biases and the total are stable." in body


def test_users_and_items_by_position_or_by_label_case_aside(tmp_path, ratings_csv, capsys):
    out = train(tmp_path, ratings_csv, capsys, "out", "--steps", "20")
    by_label = json.loads(run(["explain", str(out), "--user", "u2", "--item", "D", "--json"], capsys)[1])
    by_number = json.loads(run(["explain", str(out), "--user", "2", "--item", "4", "--json"], capsys)[1])
    by_case = json.loads(run(["explain", str(out), "--user", "U2", "--item", "d", "--json"], capsys)[1])
    assert by_label == by_number == by_case and by_label["user"] == "u2"


def test_numbers_are_ids_when_labels_are_numbers(tmp_path, capsys):
    p = tmp_path / "t.csv"
    p.write_text("user,item,rating\n10,1,4\n10,2,3\n20,1,5\n30,2,2\n")
    out = train(tmp_path, p, capsys, "out", "--steps", "20")
    assert json.loads(run(["explain", str(out), "--user", "20", "--item", "2", "--json"], capsys)[1])["user"] == "20"
    code, stdout, err = run(["explain", str(out), "--user", "2", "--item", "1"], capsys)
    assert code == 2 and stdout == ""
    assert err.startswith("There is no user '2' in ") and "'20'" in err and "give a number" not in err


@pytest.mark.parametrize(("flags", "message"), [
    (["--user", "u9", "--item", "A"], "There is no user 'u9' in {out}; the closest are 'u4', 'u3', 'u2' "
                                      "(or give a number from 1 to 4)."),
    (["--user", "u1", "--item", "E"], "There is no item 'E' in {out}; the closest are"),
    (["--user", "5", "--item", "A"], "There is no user '5' in {out};"),
    (["--user", "u1"], "The following arguments are required: --item; run `mfstudio explain --help`"),
])
def test_unknown_users_and_items_are_one_sentence_with_the_closest_labels(tmp_path, ratings_csv, capsys, flags,
                                                                          message):
    out = train(tmp_path, ratings_csv, capsys, "out", "--steps", "20")
    code, stdout, err = run(["explain", str(out), *flags], capsys)
    assert code == 2 and stdout == "" and len(err.strip().splitlines()) == 1
    assert err.startswith(message.format(out=out))


def test_results_without_a_model_or_a_folder_without_a_session(tmp_path, ratings_csv, capsys):
    code, _, err = run(["explain", str(ratings_csv), "--user", "u1", "--item", "A"], capsys)
    assert code == 2 and err == (f"{ratings_csv} has no trained model; run `mfstudio train {ratings_csv} --out DIR` "
                                 "first, then explain DIR.\n")
    untrained = tmp_path / "s.mfstudio"
    mio.save_session(untrained, mio.load(ratings_csv).session)
    code, _, err = run(["explain", str(untrained), "--user", "u1", "--item", "A"], capsys)
    assert code == 2 and "s.mfstudio has no trained model; run `mfstudio train" in err
    empty = tmp_path / "empty"
    empty.mkdir()
    code, _, err = run(["explain", str(empty), "--user", "u1", "--item", "A"], capsys)
    assert code == 2 and err == (f"{empty} holds no session.mfstudio; give the folder that `mfstudio train --out` "
                                 "wrote, or a session file.\n")
    code, _, err = run(["explain", str(tmp_path / "nothing"), "--user", "u1", "--item", "A"], capsys)
    assert code == 2 and "There is no file at" in err and len(err.strip().splitlines()) == 1


def test_help_says_how_users_and_items_are_named(capsys):
    code, out, _ = run(["explain", "--help"], capsys)
    body = " ".join(out.split())
    assert code == 0 and "--user U" in body and "position counted from 1 when no user label is a whole number" in body
    assert '"mean", "user bias", "item bias", "k1" ... "kK"' in body
    code, out, _ = run(["--help"], capsys)
    assert "mfstudio explain" in out


def implicit_session(tmp_path: Path) -> Path:
    """A session file of implicit-als trained on a small play log (counts), a fifth held out."""
    import numpy as np

    from mfstudio.core import RunResult, Session, Training
    from mfstudio.core.ratings import Ratings

    rng = np.random.default_rng(1)
    cells = rng.choice(10 * 8, 40, replace=False)
    r = Ratings(cells // 8, cells % 8, rng.integers(1, 30, 40).astype(float), (10, 8),
                [f"listener {k}" for k in range(10)], [f"artist {k}" for k in range(8)], (0.0, 29.0), implicit=True)
    t = Training(r, "implicit-als", {"K": 3, "steps": 5, "confidence": 2.0, "beta": 0.5}, holdout=0.2)
    snap = t.run_to_end()
    o, m = r.observed, t.split.held_out_flags
    s = Session(ratings=r, held_out_cells=np.stack([o.rows[m], o.cols[m]], axis=1), solver="implicit-als",
                params=dict(t.params), holdout=0.2, patience=None)
    s.result = RunResult.from_snapshot("implicit-als", t.params, snap, t.history, None)
    p = tmp_path / "plays.mfstudio"
    mio.save_session(p, s)
    return p


def test_an_implicit_model_is_explained_by_the_users_own_items(tmp_path, capsys):
    import math

    import numpy as np

    p = implicit_session(tmp_path)
    s = mio.load(p).session
    f, train = s.result.factors, s.train_entries()
    for user, item in (("listener 0", "artist 3"), ("listener 4", "artist 0"), ("listener 7", "artist 7")):
        code, stdout, err = run(["explain", str(p), "--user", user, "--item", item, "--json"], capsys)
        assert code == 0 and err == ""
        d = json.loads(stdout)
        u, i = int(user.split()[1]), int(item.split()[1])
        assert d["form"] == "item-based" and d["score"] == float(f.P[u] @ f.Q[:, i])
        mine = train.rows == u
        assert sorted(b["item"] for b in d["because"]) == sorted(f"artist {j}" for j in train.cols[mine])
        counts = dict(zip(train.cols[mine].tolist(), train.vals[mine].tolist()))
        assert all(b["count"] == counts[int(b["item"].split()[1])] for b in d["because"])
        assert all(b["confidence"] == 1 + 2.0 * b["count"] for b in d["because"])
        assert math.fsum([b["value"] for b in d["because"]] + [d["rest"]]) == pytest.approx(d["score"], abs=1e-12)
    busy = int(np.argmax(np.bincount(train.rows, minlength=10)))  # the listener with the most plays in training
    new = next(j for j in range(8) if j not in set(train.cols[train.rows == busy].tolist()))
    code, stdout, _ = run(["explain", str(p), "--user", f"listener {busy}", "--item", f"artist {new}", "--verb",
                           "played"], capsys)
    assert code == 0 and "by the user's items" in stdout and "because you played artist" in stdout
    assert "the user has" in stdout and "score (the sum)" in stdout and "%" in stdout
    code, stdout, _ = run(["explain", str(p), "--user", f"listener {busy}", "--item", f"artist {new}"], capsys)
    assert "because you have artist" in stdout


def test_the_help_names_exactly_the_json_keys(tmp_path, ratings_csv, capsys):
    out = train(tmp_path, ratings_csv, capsys, "out", "--steps", "5")
    d = json.loads(run(["explain", str(out), "--user", "u3", "--item", "A", "--json"], capsys)[1])
    code, helptext, _ = run(["explain", "--help"], capsys)
    listed = helptext.split("With --json, stdout is one JSON")[1].split("with term names")[0]
    assert code == 0 and set(re.findall(r'"([a-z_]+)"', listed)) == set(d) | set(d["terms"][0])


def test_a_reader_that_closes_the_pipe_early_gets_no_traceback(tmp_path, ratings_csv, capsys):
    import subprocess
    import sys

    out = train(tmp_path, ratings_csv, capsys, "out", "--steps", "5")
    code = ("import sys; from mfstudio.cli import main; sys.exit(main(['explain', sys.argv[1], '--user', 'u3', "
            "'--item', 'A', '--json']))")
    p = subprocess.Popen([sys.executable, "-c", code, str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         cwd=Path(__file__).resolve().parents[2])
    p.stdout.close()  # as `| head -0` does, before anything is printed
    err = p.stderr.read().decode()
    p.wait(timeout=120)
    # 1 when the write found the pipe closed (as it does here: the child starts long after the close)
    assert "Traceback" not in err and "Exception" not in err and p.returncode in (0, 1)
