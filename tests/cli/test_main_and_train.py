"""The mfstudio command: train end to end, flags from the parameter specs, errors as one
sentence with exit status 2, and the window path (with a stand-in for the GUI)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest

import mfstudio
import mfstudio.cli.common
import mfstudio.io as mio
from mfstudio import cli
from mfstudio.core.examples import example_path
from tests.cli.conftest import run

EXAMPLE_CSV = ",A,B,C,D\nu1,0,4.5,2.0,0\nu2,4,0,3.5,0\nu3,0,5,0,2\nu4,0,3.5,4.0,1.0\n"


@pytest.fixture
def ratings_csv(tmp_path: Path) -> Path:
    p = tmp_path / "r.csv"
    p.write_text(EXAMPLE_CSV)
    return p


def test_train_writes_results_and_a_session_the_window_can_open(tmp_path, ratings_csv, capsys):
    out = tmp_path / "out"
    code, stdout, stderr = run(["train", str(ratings_csv), "--k", "3", "--steps", "200", "--seed", "4",
                                "--holdout", "0.2", "--top", "2", "--out", str(out)], capsys)
    assert code == 0, stderr
    assert sorted(os.listdir(out)) == sorted([*mio.RESULT_FILES, mio.HELD_OUT_FILE, "session.mfstudio", mio.MANIFEST])
    assert mio.verify_export(out) == []
    assert "Wrote 10 files" in stdout and "step 200/200" in stderr
    run_json = json.loads((out / "run.json").read_text())
    assert run_json["parameters"] == {"K": 3, "steps": 200, "alpha": 0.0002, "beta": 0.02, "tol": 0.001, "seed": 4}
    assert run_json["data"]["held_out"] == 2 and run_json["final"]["val_rmse"] is not None
    s = mio.load(out / "session.mfstudio").session
    assert s.result.steps_done == 200 and s.result.factors.P.shape == (4, 3) and len(s.held_out_cells) == 2
    assert s.ratings.users == ("u1", "u2", "u3", "u4")


def test_same_seed_same_result_and_session_as_input(tmp_path, ratings_csv, capsys):
    a, b = tmp_path / "a", tmp_path / "b"
    args = ["train", str(ratings_csv), "--solver", "als", "--steps", "20", "--out", str(a), "--quiet"]
    assert run(args, capsys)[0] == 0
    code, out, err = run(["train", str(a / "session.mfstudio"), "--out", str(b), "--quiet"], capsys)
    assert code == 0 and out == "" and err == ""
    assert (a / "P.csv").read_bytes() == (b / "P.csv").read_bytes()
    assert json.loads((b / "run.json").read_text())["solver"] == "als"


def test_every_solver_runs(tmp_path, ratings_csv, capsys):
    for name in ("sgd", "als", "biased-sgd", "nmf"):
        code, _, err = run(["train", str(ratings_csv), "--solver", name, "--steps", "5", "--out", str(tmp_path / name),
                            "--quiet"], capsys)
        assert code == 0, err


def test_init_from_npz_and_k_taken_from_it(tmp_path, ratings_csv, capsys):
    init = tmp_path / "init.npz"
    P0, Q0 = np.full((4, 3), 0.5), np.full((3, 4), 0.5)
    np.savez(init, P=P0, Q=Q0)
    out = tmp_path / "o"
    code, _, err = run(["train", str(ratings_csv), "--init", str(init), "--steps", "1", "--out", str(out), "--quiet"],
                       capsys)
    assert code == 0, err
    assert mio.load(out / "session.mfstudio").session.result.factors.K == 3
    code, _, err = run(["train", str(ratings_csv), "--init", str(init), "--k", "2", "--out", str(out)], capsys)
    assert code == 2 and "K = 3 but --k is 2" in err


def test_keep_zeros_flag(tmp_path, ratings_csv, capsys):
    out = tmp_path / "o"
    args = ["train", str(ratings_csv), "--keep-zeros", "--steps", "1", "--out", str(out), "--quiet"]
    assert run(args, capsys)[0] == 0
    assert mio.load(out / "session.mfstudio").session.ratings.nnz == 16


def test_notices_go_to_stderr_unless_quiet(tmp_path, capsys):
    p = tmp_path / "t.csv"
    p.write_text("user,item,rating\na,x,1\na,x,2\nb,y,3\n")
    code, _, err = run(["train", str(p), "--steps", "1", "--out", str(tmp_path / "o")], capsys)
    assert code == 0 and "Note: 1 duplicate rating(s)" in err
    code, _, err = run(["train", str(p), "--steps", "1", "--out", str(tmp_path / "o"), "--quiet"], capsys)
    assert code == 0 and err == ""


@pytest.mark.parametrize(
    "flags, pattern",
    [
        (["--k", "0"], "Bad value for --k: Latent features \\(K\\) must be from 1 up to 1,000; got 0."),
        (["--k", "two"], "--k: Latent features \\(K\\) must be a whole number"),
        (["--alpha", "-1"], "--alpha: Learning rate \\(α\\) must be above 0"),
        (["--alpha", "nan"], "--alpha: Learning rate \\(α\\) must be a finite number"),
        (["--holdout", "1.5"], "Bad value for --holdout: Hold-out share must be from 0 up to but not including 1 "
                               "\\(e.g. 0.2 sets a fifth of the ratings aside\\); got 1.5."),
        (["--holdout", "1"], "Hold-out share must be from 0 up to but not including 1 .*; got 1."),
        (["--solver", "svd++"], "There is no solver called 'svd\\+\\+'; choose one of sgd, als, biased-sgd, nmf."),
        (["--solver", "als", "--alpha", "0.1"], "The als solver has no learning rate \\(α\\); leave out --alpha"),
        (["--patience", "3"], "--patience needs a hold-out"),
        (["--patience", "0", "--holdout", "0.2"],
         "Bad value for --patience: Patience must be from 1 up to 1,000,000,000 steps, or off; got 0."),
        (["--patience", "soon", "--holdout", "0.2"], "--patience: Patience must be a whole number or off, not 'soon'"),
        (["--top", "-1"], "Bad value for --top: Recommendations per user must be from 0 up to 1,000; got -1."),
        (["--top", "2.5"], "--top: Recommendations per user must be a whole number"),
        (["--format", "xls"], "Argument --format: invalid choice"),
        (["--bogus"], "Unrecognized arguments: --bogus; run `mfstudio train --help`"),
    ],
)
def test_bad_flags_exit_2_with_one_sentence(tmp_path, ratings_csv, capsys, flags, pattern):
    out = tmp_path / "out"
    code, stdout, err = run(["train", str(ratings_csv), "--out", str(out), *flags], capsys)
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    import re
    assert re.search(pattern, err), err
    assert not out.exists()  # nothing half-written


@pytest.mark.parametrize(
    "content, pattern",
    [
        (b"", "is empty"),
        (b"1,2,3\n4,5\n", "Line 2 has 2 cells"),
        (b"\x00\xff\x00\x13" * 40, "not a text file"),
        (b'{"format": "mfstudio-session", "version": 99}', "newer MF Studio"),
    ],
)
def test_bad_input_files_exit_2(tmp_path, capsys, content, pattern):
    p = tmp_path / "in.csv"
    p.write_bytes(content)
    code, _, err = run(["train", str(p), "--out", str(tmp_path / "o")], capsys)
    assert code == 2 and pattern in err and len(err.strip().splitlines()) == 1


def test_missing_input_and_out_is_a_file(tmp_path, ratings_csv, capsys):
    code, _, err = run(["train", str(tmp_path / "none.csv"), "--out", str(tmp_path / "o")], capsys)
    assert code == 2 and "There is no file at" in err
    f = tmp_path / "f"
    f.write_text("")
    code, _, err = run(["train", str(ratings_csv), "--out", str(f)], capsys)
    assert code == 2 and "is a file, not a folder" in err
    code, _, err = run(["train", str(ratings_csv)], capsys)
    assert code == 2 and "--out" in err


def test_divergence_exits_2_and_writes_nothing(tmp_path, ratings_csv, capsys):
    out = tmp_path / "o"
    code, _, err = run(["train", str(ratings_csv), "--alpha", "10", "--out", str(out)], capsys)
    last = err.strip().splitlines()[-1]
    assert code == 2 and last.startswith("Training diverged at step")
    assert "α = 0.01 ran 50 steps from the same start without diverging (α = 1 and 0.1 diverged too)." in last
    assert not out.exists()


def test_a_full_disk_leaves_no_out_folder(tmp_path, ratings_csv, capsys, monkeypatch):
    import errno

    from mfstudio.io import atomic

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(atomic.os, "fsync", full)
    out = tmp_path / "new" / "deeper" / "o"
    code, _, err = run(["train", str(ratings_csv), "--steps", "3", "--out", str(out), "--quiet"], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1 and "No space left on device" in err
    assert not (tmp_path / "new").exists()  # neither --out nor the folders it needed
    assert sorted(os.listdir(tmp_path)) == ["r.csv"]


def test_a_read_only_result_file_in_out_is_refused_before_training(tmp_path, ratings_csv, capsys):
    out = tmp_path / "o"
    assert run(["train", str(ratings_csv), "--steps", "3", "--out", str(out), "--quiet"], capsys)[0] == 0
    os.chmod(out / "Q.csv", 0o444)
    before = {n: (out / n).read_bytes() for n in os.listdir(out)}
    code, _, err = run(["train", str(ratings_csv), "--steps", "3", "--out", str(out)], capsys)
    assert code == 2 and err == (f"{out / 'Q.csv'} is read-only, so nothing was written; "
                                 "make it writable or choose another folder.\n")  # no "Training ..." line
    assert {n: (out / n).read_bytes() for n in os.listdir(out)} == before


def test_out_through_a_symlink_keeps_the_link(tmp_path, ratings_csv, capsys):
    real = tmp_path / "real"
    real.mkdir()
    link = tmp_path / "link"
    link.symlink_to(real, target_is_directory=True)
    for _ in range(2):
        assert run(["train", str(ratings_csv), "--steps", "3", "--out", str(link), "--quiet"], capsys)[0] == 0
    assert link.is_symlink() and mio.verify_export(real) == [] and (real / "session.mfstudio").exists()


def test_existing_results_survive_a_failed_run(tmp_path, ratings_csv, capsys):
    out = tmp_path / "o"
    assert run(["train", str(ratings_csv), "--steps", "3", "--out", str(out), "--quiet"], capsys)[0] == 0
    before = {n: (out / n).read_bytes() for n in os.listdir(out)}
    assert run(["train", str(ratings_csv), "--alpha", "10", "--out", str(out)], capsys)[0] == 2
    assert {n: (out / n).read_bytes() for n in os.listdir(out)} == before


def test_train_writes_a_script_that_reproduces_the_run(tmp_path, ratings_csv, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, stdout, err = run(["train", str(ratings_csv), "--solver", "biased-sgd", "--steps", "20", "--holdout", "0.25",
                             "--out", "out", "--script", "reproduce.py"], capsys)
    assert code == 0, err
    assert "Wrote 12 files to out; `python reproduce.py` reproduces the run." in stdout  # held_out.csv too
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    done = subprocess.run([sys.executable, str(tmp_path / "reproduce.py")], cwd=elsewhere, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    with np.load(elsewhere / "reproduced.npz") as got, np.load(tmp_path / "out" / "results.npz") as want:
        for key in ("P", "Q", "user_bias", "item_bias", "global_mean"):
            assert np.max(np.abs(got[key] - want[key])) <= 1e-9, key
    # into a new --out folder, made for the results first
    code, _, err = run(["train", str(ratings_csv), "--steps", "3", "--out", "new", "--script", "new/again.py",
                        "--quiet"], capsys)
    assert code == 0 and err == "" and (tmp_path / "new" / "again.py").is_file()


@pytest.mark.parametrize("script, pattern", [
    ("missing/reproduce.py", "the folder missing does not exist"),
    ("", "--script is empty"),
    (".", "is a folder"),
])
def test_a_script_that_cannot_be_written_is_refused_before_training(tmp_path, ratings_csv, capsys, monkeypatch,
                                                                    script, pattern):
    monkeypatch.chdir(tmp_path)
    code, _, err = run(["train", str(ratings_csv), "--steps", "3", "--out", "o", "--script", script], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1 and pattern in err
    assert not (tmp_path / "o").exists()


def test_an_sgd_script_of_data_too_large_to_show_whole_is_refused_before_training(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    big = tmp_path / "big.csv"  # 1,500 x 1,500 = 2.25 M cells, 1,500 ratings
    big.write_text("user,item,rating\n" + "".join(f"u{i},i{i},{1 + i % 5}\n" for i in range(1500)))
    code, _, err = run(["train", str(big), "--solver", "sgd", "--steps", "2", "--out", "o", "--quiet",
                        "--script", "s.py"], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "keeps R as a 1,500 x 1,500 matrix" in err and "biased-sgd, als or nmf" in err
    assert not (tmp_path / "o").exists() and not (tmp_path / "s.py").exists()
    code, _, err = run(["train", str(big), "--solver", "als", "--steps", "2", "--out", "o", "--quiet",
                        "--script", "s.py"], capsys)
    assert code == 0, err
    assert (tmp_path / "s.py").is_file()


def test_a_failed_script_write_is_one_sentence_and_keeps_the_results(tmp_path, ratings_csv, capsys, monkeypatch):
    import errno

    from mfstudio.io import script as script_module
    from mfstudio.io.errors import FileFormatError, describe_os_error

    def full(path, data):
        raise FileFormatError(describe_os_error(OSError(errno.ENOSPC, "No space left on device"), path, "write"))
    monkeypatch.setattr(script_module, "atomic_write", full)
    out = tmp_path / "o"
    code, _, err = run(["train", str(ratings_csv), "--steps", "3", "--out", str(out), "--quiet",
                        "--script", str(tmp_path / "reproduce.py")], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert err.startswith(f"The results are in {out}, but the script was not written: could not write ")
    assert "No space left on device" in err and mio.verify_export(out) == []


def test_flags_come_from_parameter_specs(capsys):
    code, out, _ = run(["train", "--help"], capsys)
    assert code == 0
    from mfstudio.core.solvers import SOLVERS
    for cls in SOLVERS.values():
        for spec in cls.params:
            assert cli.flag_name(spec) in out
    assert "--k K" in out and "How many hidden taste dimensions" in out and "examples:" in out
    assert "sgd 10000, als 50, biased-sgd 200, nmf 500" in " ".join(out.split())
    assert "--script FILE" in out and "--script reproduce.py" in out


def test_version_and_help(capsys):
    code, out, _ = run(["--version"], capsys)
    assert code == 0 and out.strip() == f"MF Studio {mfstudio.__version__}"
    code, out, _ = run(["--help"], capsys)
    assert code == 0 and "mfstudio train" in out and "examples:" in out


# -- the window path, with a stand-in for mfstudio.gui.app -------------------------------------
@pytest.fixture
def fake_gui(monkeypatch):
    calls: list[object] = []
    app = types.ModuleType("mfstudio.gui.app")
    app.run = lambda path: calls.append(path) or 0
    gui = types.ModuleType("mfstudio.gui")
    gui.app = app
    monkeypatch.setitem(sys.modules, "mfstudio.gui", gui)
    monkeypatch.setitem(sys.modules, "mfstudio.gui.app", app)
    return calls


def test_no_arguments_opens_the_window(fake_gui, monkeypatch, capsys):
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    assert cli.main([]) == 0 and fake_gui == [None]
    path = str(example_path("example-1"))
    assert cli.main([path]) == 0 and fake_gui == [None, path]


def test_no_display_is_one_sentence(fake_gui, monkeypatch, capsys):
    for var in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(sys, "platform", "linux")
    code, _, err = run([], capsys)
    assert code == 2 and fake_gui == []
    assert "There is no display" in err and "mfstudio train" in err


def test_window_with_missing_file(fake_gui, monkeypatch, capsys):
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    code, _, err = run(["trian"], capsys)
    assert code == 2 and "mfstudio train" in err and fake_gui == []


def test_window_with_a_missing_file_opens_over_example_1(fake_gui, monkeypatch, capsys, tmp_path):
    # from a desktop launcher: the window opens (Example 1) and its dialog says what stderr says
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    missing = str(tmp_path / "nope.csv")
    code, _, err = run([missing], capsys)
    assert code == 0 and fake_gui == [missing]
    assert err.strip() == f"There is no file at {missing}; check the name and the folder."
    code, _, err = run([str(tmp_path)], capsys)
    assert code == 0 and fake_gui == [missing, str(tmp_path)] and "has no MovieLens ratings file" in err


def test_missing_file_without_a_display_is_one_sentence(fake_gui, monkeypatch, capsys, tmp_path):
    for var in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(sys, "platform", "linux")
    code, _, err = run(["nope.csv"], capsys)
    assert code == 2 and fake_gui == []
    assert err.strip() == "There is no file at nope.csv; check the name and the folder."


def test_python_dash_m_in_a_subprocess_without_qt(tmp_path, ratings_csv):
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    out = tmp_path / "sub"
    p = subprocess.run([sys.executable, "-m", "mfstudio", "train", str(ratings_csv), "--steps", "10",
                        "--out", str(out)], capture_output=True, text=True, env=env)
    assert p.returncode == 0, p.stderr
    assert "step 10/10" in p.stderr  # a progress line, not a terminal: plain lines
    p = subprocess.run([sys.executable, "-m", "mfstudio", "train", str(ratings_csv), "--k", "0", "--out", str(out)],
                       capture_output=True, text=True, env=env)
    assert p.returncode == 2 and p.stderr.count("\n") == 1 and "Traceback" not in p.stderr


def test_progress_bar_on_a_terminal_redraws_in_place():
    import io as _io

    from mfstudio.core.solvers import Factors
    from mfstudio.core.training import Snapshot

    class Tty(_io.StringIO):
        def isatty(self) -> bool:
            return True

    stream = Tty()
    prog = cli.common.ProgressPrinter(stream, quiet=False)
    snap = Snapshot(step=50, objective=1.5, train_rmse=0.25, train_mae=0.2, val_rmse=float("nan"), val_mae=float("nan"),
                    elapsed=0.1, steps_per_s=500.0, budget=100, factors=Factors(np.zeros((1, 1)), np.zeros((1, 1))))
    prog.update(snap)
    prog.update(snap)  # throttled: within 0.2 s nothing new is drawn
    prog.done()
    text = stream.getvalue()
    assert text.count("\r") == 1 and "[############            ]  50%" in text and "500 steps/s" in text
    quiet = Tty()
    cli.common.ProgressPrinter(quiet, quiet=True).update(snap, force=True)
    assert quiet.getvalue() == ""


def test_out_edge_cases(tmp_path, capsys):
    from mfstudio.cli import main

    src = tmp_path / "r.csv"
    src.write_text("u,a,b\nx,1,2\ny,3,\n")
    assert main(["train", str(src), "--steps", "5", "--out", ""]) == 2
    assert "--out is empty" in capsys.readouterr().err
    assert main(["train", str(src), "--steps", "5", "--out", str(src / "sub")]) == 2
    assert "is a file" in capsys.readouterr().err


def test_init_with_bad_biases_is_a_sentence(tmp_path, capsys):
    import numpy as np

    from mfstudio.cli import main

    src = tmp_path / "r.csv"
    src.write_text("u,a,b\nx,1,2\ny,3,\n")
    P, Q = np.ones((2, 2)), np.ones((2, 2))
    cases = {
        "text.npz": dict(user_bias=np.array(["a", "b"])),
        "short.npz": dict(user_bias=np.zeros(1), item_bias=np.zeros(2)),
        "mean.npz": dict(user_bias=np.zeros(2), item_bias=np.zeros(2), global_mean=np.zeros(0)),
    }
    for name, extra in cases.items():
        np.savez(tmp_path / name, P=P, Q=Q, **extra)
        code = main(["train", str(src), "--solver", "biased-sgd", "--init", str(tmp_path / name),
                     "--out", str(tmp_path / "o")])
        err = capsys.readouterr().err.strip().splitlines()
        assert code == 2, name
        assert err and "Traceback" not in err[-1] and err[-1].endswith("."), (name, err)
    assert not (tmp_path / "o").exists()


def test_min_ratings_and_full_precision_flags(tmp_path, ratings_csv, capsys):
    out = tmp_path / "out"
    code, _, stderr = run(["train", str(ratings_csv), "--solver", "biased-sgd", "--steps", "30", "--min-ratings", "3",
                           "--full-precision", "--out", str(out), "--quiet"], capsys)
    assert code == 0, stderr
    assert {"user_bias.csv", "item_bias.csv"} <= set(os.listdir(out))
    rows = [line.split(",") for line in (out / "recommendations.csv").read_text().splitlines()]
    assert rows[0] == ["user", "rank", "item", "predicted", "score", "item_ratings"]
    assert rows[1:] and all(int(r[5]) >= 3 for r in rows[1:])
    assert json.loads((out / "run.json").read_text())["recommendations"]["min_item_ratings"] == 3
    s = mio.load(out / "session.mfstudio").session
    P = np.array([line.split(",")[1:] for line in (out / "P.csv").read_text().splitlines()[1:]], dtype=float)
    np.testing.assert_array_equal(P, s.result.factors.P)  # full precision reads back exactly


@pytest.mark.parametrize("value", ["0", "-1", "many"])
def test_bad_min_ratings_is_one_sentence(tmp_path, ratings_csv, capsys, value):
    code, _, err = run(["train", str(ratings_csv), "--min-ratings", value, "--out", str(tmp_path / "o")], capsys)
    assert code == 2 and "--min-ratings must be a whole number" in err and "Traceback" not in err


# -- MovieLens downloads ----------------------------------------------------------------------------
def test_train_on_a_movielens_folder_and_zip_writes_titles(tmp_path, capsys):
    import csv
    import zipfile

    from tests.io.test_movielens import ml100k

    folder = ml100k(tmp_path / "dl")
    z = tmp_path / "ml-100k.zip"
    with zipfile.ZipFile(z, "w") as zf:
        for f in folder.iterdir():
            zf.write(f, f"ml-100k/{f.name}")
    for source, out in ((folder, tmp_path / "a"), (z, tmp_path / "b")):
        code, stdout, stderr = run(["train", str(source), "--k", "2", "--steps", "20", "--top", "3", "--out", str(out)],
                                   capsys)
        assert code == 0, stderr
        assert "Note: Read MovieLens 100K: 7 ratings of 6 films by 4 users, with titles and 19 genres." in stderr
        with open(out / "recommendations.csv", newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        assert [r["user"] for r in rows][:3] == ["1", "1", "1"]  # users in numeric order
        assert {r["item"] for r in rows} <= {"Toy Story (1995)", "Café au lait (1993)", "Kolya (1996)", "unknown",
                                             "Chasing Amy (1997) (movie 246)", "Chasing Amy (1997) (movie 268)"}
        s = mio.load(out / "session.mfstudio").session
        assert s.ratings.item_genres[0] == ("Animation", "Children's", "Comedy")
    assert (tmp_path / "a" / "P.csv").read_bytes() == (tmp_path / "b" / "P.csv").read_bytes()


def test_a_folder_that_is_not_movielens_is_one_sentence(tmp_path, fake_gui, monkeypatch, capsys):
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    d = tmp_path / "photos"
    d.mkdir()
    sentence = ("photos has no MovieLens ratings file (looked for u.data, ratings.dat, ratings.csv); "
                "open a rating file instead or choose the MovieLens folder.\n")
    code, _, err = run(["train", str(d), "--out", str(tmp_path / "o")], capsys)
    assert code == 2 and err == sentence and not (tmp_path / "o").exists()
    # the window opens over Example 1 and its dialog says the same (a desktop launcher shows no stderr)
    code, _, err = run([str(d)], capsys)
    assert code == 0 and err == sentence and fake_gui == [str(d)]


def test_the_window_opens_a_movielens_folder(tmp_path, fake_gui, monkeypatch):
    from tests.io.test_movielens import ml1m

    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    folder = ml1m(tmp_path)
    assert cli.main([str(folder)]) == 0 and fake_gui == [str(folder)]


def test_an_r_hat_too_large_to_write_is_refused_before_training(tmp_path, ratings_csv, capsys, monkeypatch):
    from mfstudio.core import memory

    real = memory.check_dense_export
    monkeypatch.setattr(memory, "check_dense_export", lambda n, m, available=None, advice="": real(n, m, 10, advice))
    out = tmp_path / "out"
    code, _, err = run(["train", str(ratings_csv), "--steps", "5", "--out", str(out)], capsys)
    assert code == 2 and "Exporting R_hat" in err and "train on fewer users and items" in err
    assert "step" not in err.split("Exporting")[0] and not out.exists()


def test_a_rerun_keeps_the_sessions_hold_out_and_patience_unless_a_flag_overrides_them(tmp_path, ratings_csv, capsys):
    first = tmp_path / "first"
    assert run(["train", str(ratings_csv), "--steps", "5", "--holdout", "0.3", "--patience", "3", "--quiet",
                "--out", str(first)], capsys)[0] == 0
    saved = first / "session.mfstudio"
    held = mio.load(saved).session.held_out_cells.tolist()
    for flags, patience, cells in ([], 3, held), (["--patience", "off"], None, held), (["--holdout", "0"], None, []):
        out = tmp_path / f"again{len(flags)}{flags[-1] if flags else ''}"
        code, _, err = run(["train", str(saved), "--steps", "5", "--out", str(out), *flags], capsys)
        assert code == 0, err
        s = mio.load(out / "session.mfstudio").session
        assert (s.patience, s.held_out_cells.tolist()) == (patience, cells), flags
    assert "sets a patience of 3 steps but holds out no ratings" in err  # --holdout 0: said, not silently dropped


# -- ranking metrics -------------------------------------------------------------------------------
def _triples(tmp_path: Path) -> Path:
    """40 users x 25 items, 400 ratings 1 to 5 from a planted model (numeric ids, so labels are the ids)."""
    rng = np.random.default_rng(5)
    cells = rng.choice(40 * 25, 400, replace=False)
    taste = rng.normal(size=(40, 2)) @ rng.normal(size=(2, 25))
    lines = ["user,item,rating"] + [
        f"{c // 25 + 1},{c % 25 + 1},{int(np.clip(np.rint(3 + taste[c // 25, c % 25]), 1, 5))}" for c in cells]
    p = tmp_path / "triples.csv"
    p.write_text("\n".join(lines) + "\n")
    return p


def _rows(path: Path) -> list[list[str]]:
    import csv

    return list(csv.reader(path.open(encoding="utf-8")))


def test_train_with_a_hold_out_writes_ranking_metrics_anyone_can_recompute(tmp_path, capsys):
    from mfstudio.core.ranking import metric_names
    from mfstudio.core.ratings import Observed
    from tests.core.test_ranking import reference

    src, out = _triples(tmp_path), tmp_path / "out"
    code, stdout, stderr = run(["train", str(src), "--solver", "biased-sgd", "--k", "3", "--steps", "40",
                                "--holdout", "0.2", "--full-precision", "--out", str(out)], capsys)
    assert code == 0, stderr
    names = list(metric_names(10))  # k = --top, 10 by default
    run_json = json.loads((out / "run.json").read_text())
    final = run_json["final"]
    assert all(isinstance(final[n], float) for n in names) and ", precision@10 " in stdout
    assert run_json["ranking"]["k"] == 10 and run_json["ranking"]["relevant_from"] == 4.0  # auto on 1 to 5
    assert run_json["ranking"]["held_out_file"] == "held_out.csv" and "recall@k" in run_json["ranking"]["definitions"]
    hist = _rows(out / "history.csv")
    assert hist[0][-4:] == names and hist[-1][0] == "40" and all(hist[-1][-4:])
    assert [float(x) for x in hist[-1][-4:]] == [final[n] for n in names]
    assert any(row[-1] == "" for row in hist[1:])  # steps off the schedule hold nothing
    held = _rows(out / "held_out.csv")
    assert held[0] == ["user", "item", "rating"] and len(held) - 1 == run_json["data"]["held_out"] == 80
    # recompute from the files alone: the held-out ratings out of the input are the training ones
    users = [r[0] for r in _rows(out / "P.csv")[1:]]
    items = _rows(out / "Q.csv")[0][1:]
    R_hat = np.array([[float(x) for x in r[1:]] for r in _rows(out / "R_hat.csv")[1:]])
    held_cells = {(r[0], r[1]): float(r[2]) for r in held[1:]}
    train, val = [], []
    for u, i, v in (line.split(",") for line in src.read_text().splitlines()[1:]):
        (val if (u, i) in held_cells else train).append((users.index(u), items.index(i), float(v)))

    def observed(cells):
        a = np.array(cells)
        return Observed(a[:, 0].astype(np.int64), a[:, 1].astype(np.int64), a[:, 2])

    want = reference(R_hat, observed(train), observed(val), 10, 4.0)
    assert [final[n] for n in names] == pytest.approx([want[n] for n in names], rel=1e-9)


def test_train_takes_the_relevance_flag_and_the_session_keeps_it(tmp_path, capsys):
    src, out = _triples(tmp_path), tmp_path / "out"
    code, _, stderr = run(["train", str(src), "--steps", "20", "--holdout", "0.2", "--top", "5", "--relevance", "3",
                           "--out", str(out), "--quiet"], capsys)
    assert code == 0, stderr
    run_json = json.loads((out / "run.json").read_text())
    assert run_json["ranking"]["relevant_from"] == 3.0 and "precision@5" in run_json["final"]
    s = mio.load(out / "session.mfstudio").session
    assert s.relevance == 3.0 and s.result.relevant_from == 3.0 and "ndcg@5" in s.result.ranking
    code, _, err = run(["train", str(src), "--holdout", "0.2", "--relevance", "high", "--out", str(out)], capsys)
    assert code == 2 and err.strip() == "Bad value for --relevance: Relevant from must be a number or auto, not 'high'."
    code, stdout, _ = run(["train", str(src), "--steps", "5", "--holdout", "0.2", "--relevance", "6",
                           "--out", str(tmp_path / "none")], capsys)
    assert code == 0 and "no ranking metrics: no held-out rating is 6 or more (set --relevance lower)" in stdout
    code, _, _ = run(["train", str(src), "--steps", "5", "--out", str(tmp_path / "all")], capsys)  # no hold-out
    assert code == 0 and not (tmp_path / "all" / "held_out.csv").exists()
    assert "precision@10" not in json.loads((tmp_path / "all" / "run.json").read_text())["final"]


def test_data_too_large_to_show_whole_gets_no_r_hat_unless_dense(tmp_path, ratings_csv, capsys, monkeypatch):
    from mfstudio.core import memory

    monkeypatch.setattr(memory, "SHOW_WHOLE_MAX_CELLS", 0)
    out = tmp_path / "out"
    code, _, err = run(["train", str(ratings_csv), "--steps", "5", "--out", str(out)], capsys)
    assert code == 0 and "R_hat.csv is not written" in err and "--dense" in err
    assert not (out / "R_hat.csv").exists() and (out / "recommendations.csv").exists()
    with np.load(out / "results.npz") as z:
        assert "R_hat" not in z and "R" not in z and tuple(z["R_shape"]) == (4, 4)
    dense = tmp_path / "dense"
    code, _, err = run(["train", str(ratings_csv), "--steps", "5", "--dense", "--out", str(dense)], capsys)
    assert code == 0 and (dense / "R_hat.csv").exists() and "not written" not in err
    assert "--dense: R_hat is written whole" in err and "on disk" in err and "of memory" in err


def test_the_dense_note_and_the_dense_refusal_give_the_same_memory_figure(tmp_path, ratings_csv, capsys,
                                                                          monkeypatch):
    import re

    from mfstudio.core import memory

    monkeypatch.setattr(memory, "SHOW_WHOLE_MAX_CELLS", 0)
    code, _, note = run(["train", str(ratings_csv), "--steps", "5", "--out", str(tmp_path / "a")], capsys)
    assert code == 0
    real = memory.check_dense_export
    monkeypatch.setattr(memory, "check_dense_export", lambda n, m, available=None, advice="": real(n, m, 10, advice))
    code, _, refusal = run(["train", str(ratings_csv), "--steps", "5", "--dense", "--out", str(tmp_path / "b")],
                           capsys)
    assert code == 2
    in_note = re.search(r"about (\S+ \S+) of memory", note).group(1)
    assert f"needs about {in_note} of memory" in refusal


def test_dense_is_refused_with_a_sentence_when_the_disk_cannot_hold_it(tmp_path, ratings_csv, capsys, monkeypatch):
    import shutil
    from collections import namedtuple

    from mfstudio.core import memory

    monkeypatch.setattr(memory, "SHOW_WHOLE_MAX_CELLS", 0)
    monkeypatch.setattr(shutil, "disk_usage", lambda p: namedtuple("U", "total used free")(100, 90, 10))
    out = tmp_path / "out"
    code, _, err = run(["train", str(ratings_csv), "--steps", "5", "--dense", "--out", str(out)], capsys)
    assert code == 2 and "(--dense) needs about" in err and "of disk" in err and "leave out --dense" in err
    assert "step" not in err.split("Writing R_hat")[0] and not out.exists()
    real = memory.check_dense_export
    monkeypatch.setattr(memory, "check_dense_export", lambda n, m, available=None, advice="": real(n, m, 10, advice))
    code, _, err = run(["train", str(ratings_csv), "--steps", "5", "--dense", "--out", str(out)], capsys)
    assert code == 2 and "Exporting R_hat" in err and "leave out --dense" in err and not out.exists()


# -- --implicit: counts and events, not ratings ------------------------------------------------------
EVENTS_CSV = "user,artist\nana,A\nana,A\nana,B\nben,B\nben,C\ncy,A\ncy,C\ncy,C\ndee,B\ndee,C\n"


def test_train_implicit_reads_events_and_writes_run_json_with_implicit_true(tmp_path, capsys):
    p = tmp_path / "plays.csv"
    p.write_text(EVENTS_CSV)
    out = tmp_path / "out"
    code, _, err = run(["train", str(p), "--implicit", "--solver", "als", "--k", "2", "--steps", "5",
                        "--out", str(out)], capsys)
    assert code == 0, err
    assert "Note: 2 repeated (user, item) line(s) were summed into their cell's count." in err
    data = json.loads((out / "run.json").read_text())["data"]
    assert data["implicit"] is True and data["ratings"] == 8 and data["scale"] == [0.0, 2.0]
    s = mio.load(out / "session.mfstudio").session
    assert s.ratings.implicit and s.solver == "als"
    code, _, err = run(["train", str(p), "--solver", "als", "--steps", "5", "--out", str(tmp_path / "r")], capsys)
    assert code == 2 and "open it as counts/events, not ratings (--implicit)" in err  # no switch: said so


def test_the_implicit_flag_is_in_the_help_of_every_command_that_reads_data(capsys):
    for command in ("train", "sweep"):
        code, out, _ = run([command, "--help"], capsys)
        assert code == 0 and "--implicit" in out and "These are counts/events, not ratings" in out, command


def test_the_default_solver_follows_the_data():
    from mfstudio.cli.common import default_solver
    from mfstudio.core.ratings import Ratings
    from mfstudio.core.session import Session
    from mfstudio.io.load import LoadResult

    counts = Ratings([0], [0], [3.0], (1, 1), implicit=True)
    assert default_solver(LoadResult(Session(ratings=counts), fmt="events")) == "implicit-als"
    assert default_solver(LoadResult(Session(ratings=Ratings([0], [0], [3.0], (1, 1))), fmt="triples")) == "sgd"
    assert default_solver(LoadResult(Session(ratings=counts, solver="als"), fmt="session")) == "als"


def test_train_implicit_without_a_solver_trains_implicit_als(tmp_path, capsys):
    p = tmp_path / "plays.csv"
    p.write_text(EVENTS_CSV)
    out = tmp_path / "out"
    code, _, err = run(["train", str(p), "--implicit", "--k", "2", "--steps", "3", "--out", str(out)], capsys)
    assert code == 0, err
    run_json = json.loads((out / "run.json").read_text())
    assert run_json["solver"] == "implicit-als" and run_json["data"]["implicit"] is True
    assert mio.load(out / "session.mfstudio").session.solver == "implicit-als"


def test_a_long_write_of_recommendations_is_announced(tmp_path, ratings_csv, capsys, monkeypatch):
    from mfstudio.cli import train_command

    monkeypatch.setattr(train_command, "LONG_WRITE_CELLS", 1)
    code, _, err = run(["train", str(ratings_csv), "--steps", "5", "--out", str(tmp_path / "out")], capsys)
    assert code == 0 and "the recommendations score all 4 items for each of 4 users" in err
    monkeypatch.setattr(train_command, "LONG_WRITE_CELLS", 10**12)
    code, _, err = run(["train", str(ratings_csv), "--steps", "5", "--out", str(tmp_path / "out2")], capsys)
    assert code == 0 and "Writing the results" not in err
