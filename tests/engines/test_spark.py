"""The Spark engine: the parameter mapping (no Spark needed), the flags, and one real run in local mode (the
``spark_run`` fixture, tests/conftest.py) whose held-out RMSE and objective agree with the built-in ``als``."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from mfstudio.engines import spark as engine
from mfstudio.engines.spark import EngineError, map_params

SHAPE = {"n_users": 300, "n_items": 200, "n_positive": 6000}


def test_explicit_solvers_map_beta_to_half_of_it_as_regparam():
    m = map_params("als", {"K": 7, "steps": 12, "beta": 0.3, "seed": 5, "tol": 0.0, "cg_steps": 3}, **SHAPE)
    assert m.spark == {"rank": 7, "maxIter": 12, "regParam": pytest.approx(0.15), "implicitPrefs": False,
                       "nonnegative": False, "seed": 5, "coldStartStrategy": "drop"}
    assert map_params("nmf", {"K": 2, "steps": 3, "beta": 0.3, "seed": 0}, **SHAPE).spark["nonnegative"] is True
    sgd = map_params("sgd", {"K": 2, "steps": 3, "alpha": 0.01, "beta": 0.02, "seed": 0}, **SHAPE)
    assert sgd.spark["regParam"] == pytest.approx(0.01) and any("learning rate" in n for n in sgd.notes)
    assert "regParam = 0.15" in m.lines()[0] and "rank = 7" in m.lines()[0]


def test_implicit_als_maps_confidence_to_alpha_and_states_the_regularisation_mismatch():
    m = map_params("implicit-als", {"K": 4, "steps": 6, "beta": 0.6, "confidence": 40.0, "seed": 2}, **SHAPE)
    assert m.spark["implicitPrefs"] is True and m.spark["alpha"] == 40.0 and m.spark["nonnegative"] is False
    # the same total ridge weight: regParam x (sum of users' and items' counts = 2 x positives) = beta x (n + m)
    assert m.spark["regParam"] * 2 * SHAPE["n_positive"] == pytest.approx(0.6 * (300 + 200))
    assert any("regParam × the row's count" in n for n in m.notes)
    with pytest.raises(EngineError, match="confidence"):
        map_params("implicit-als", {"K": 4, "steps": 6, "beta": 0.6, "seed": 2}, **SHAPE)


def test_a_spark_result_states_only_the_parameters_spark_uses():
    given = {"K": 4, "steps": 6, "beta": 0.6, "seed": 2, "tol": 1e-4, "cg_steps": 3, "alpha": 0.01}
    assert engine.used_params("als", given) == {"K": 4, "steps": 6, "beta": 0.6, "seed": 2}
    assert engine.used_params("sgd", given) == {"K": 4, "steps": 6, "beta": 0.6, "seed": 2}  # alpha is unused
    assert engine.used_params("implicit-als", {**given, "confidence": 40.0})["confidence"] == 40.0


def test_solvers_spark_cannot_run_are_refused_in_a_sentence():
    with pytest.raises(EngineError, match="no user and item biases.*--solver als"):
        map_params("biased-sgd", {"K": 2, "steps": 1, "beta": 0.1, "seed": 0}, **SHAPE)
    with pytest.raises(EngineError, match="not 'svd'"):
        map_params("svd", {}, **SHAPE)


def test_spark_conf_pairs():
    assert engine.parse_conf(["spark.driver.memory=2g", " a.b = c=d "]) == {"spark.driver.memory": "2g", "a.b": "c=d"}
    with pytest.raises(EngineError, match="KEY=VALUE"):
        engine.parse_conf(["spark.driver.memory"])


def test_paths_spark_reads_itself(tmp_path):
    assert engine.spark_reads("hdfs:///data/ratings.parquet") and engine.spark_reads("s3a://bucket/r.csv")
    assert engine.spark_reads(str(tmp_path / "r.parquet"))
    assert not engine.spark_reads(str(tmp_path / "r.csv")) and not engine.spark_reads("ml-1m")
    assert engine.is_local("local[*]") and engine.is_local("local") and not engine.is_local("spark://h:7077")


def test_without_java_the_engine_says_what_to_install(monkeypatch, tmp_path, capsys):
    from mfstudio.cli import main

    monkeypatch.setattr(engine, "java_command", lambda: None)
    data = tmp_path / "r.csv"
    data.write_text("u,a,b\nx,1,2\ny,3,4\n")
    assert main(["train", str(data), "--engine", "spark", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert err == engine.INSTALL and err.count(". ") == 0 and "pip install 'mfstudio[spark]'" in err
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("flags, said", [
    (["--spark-master", "local[2]"], "--spark-master is for --engine spark"),
    (["--spark-conf", "a=b"], "--spark-conf is for --engine spark"),
    (["--engine", "spark", "--solver", "biased-sgd"], "no user and item biases"),
    (["--engine", "spark", "--patience", "3", "--holdout", "0.2"], "--patience works with the built-in engine only"),
    (["--engine", "spark", "--tol", "0.5"], "--tol works with the built-in engine only"),
    (["--engine", "spark", "--cg-steps", "5"], "--cg-steps works with the built-in engine only (Spark's ALS solves"),
])
def test_flags_that_do_not_fit_are_refused_before_spark_starts(tmp_path, capsys, flags, said):
    from mfstudio.cli import main

    data = tmp_path / "r.csv"
    data.write_text("u,a,b\nx,1,2\ny,3,4\n")
    assert main(["train", str(data), *flags, "--out", str(tmp_path / "o")]) == 2
    assert said in capsys.readouterr().err


def test_a_file_of_counts_trains_implicit_als_on_spark_by_default(tmp_path, capsys, monkeypatch):
    """As with the built-in engine, data that says it is counts (the listening log) picks implicit-als."""
    import contextlib

    from mfstudio.cli import main
    from mfstudio.core.examples import example_path

    @contextlib.contextmanager
    def no_spark(*_args, **_kwargs):  # the parameters are settled and said before Spark starts: stop there
        raise EngineError("Spark was not started by this test.")
        yield

    monkeypatch.setattr(engine, "check_available", lambda: None)
    monkeypatch.setattr(engine, "spark_session", no_spark)
    listening = example_path("listening")
    assert main(["train", str(listening), "--engine", "spark", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "Spark ALS parameters from implicit-als" in err and "implicitPrefs = True" in err, err


def _run_json(folder):
    return json.loads((folder / "run.json").read_text(encoding="utf-8"))


def test_spark_run_writes_the_built_in_files_and_names_its_engine(spark_run):
    _, spark_dir, als_dir = spark_run
    built_in = {p.name for p in als_dir.iterdir()}
    assert {p.name for p in spark_dir.iterdir()} == built_in  # the same files, session.mfstudio among them
    for name in ("P.csv", "Q.csv", "history.csv", "recommendations.csv"):
        with open(spark_dir / name, newline="", encoding="utf-8") as a, open(als_dir / name, newline="",
                                                                            encoding="utf-8") as b:
            assert next(csv.reader(a)) == next(csv.reader(b)), name  # the same columns
    doc = _run_json(spark_dir)
    about = doc["engine"]
    assert about["name"] == "spark" and about["master"] == "local[2]" and about["spark_version"][0].isdigit()
    assert about["parameters"] == {"rank": 3, "maxIter": 20, "regParam": 0.25, "implicitPrefs": False,
                                   "nonnegative": False, "seed": 1, "coldStartStrategy": "drop"}
    assert doc["solver"] == "als" and doc["parameters"]["K"] == 3 and doc["final"]["step"] == 20
    assert set(doc["parameters"]) == {"K", "steps", "beta", "seed"}  # not tol or cg_steps: Spark has neither
    assert "engine" not in _run_json(als_dir)
    assert about["data_read_by"] == "spark"  # the fixture's data is a file:// URI: Spark read it, not MF Studio
    assert doc["data"] == _run_json(als_dir)["data"]  # ... into the same users, items, ratings and hold-out
    history = (spark_dir / "history.csv").read_text().splitlines()
    assert len(history) == 2 and history[1].startswith("20,")  # one row: the final one (Spark trains at once)
    assert about["validation"]["held_out"] == doc["data"]["held_out"] > 0


def test_spark_agrees_with_the_built_in_als_under_the_mapped_parameters(spark_run):
    """Same objective (regParam = beta / 2), same split: Spark's held-out RMSE (its evaluator's) is within 0.01 of
    als's and the objective e of its factors within 1 % (the starts differ, so the paths do; on this data both
    reach the same minimum). A regParam of beta instead would be 0.15 and 5 % off (measured)."""
    _, spark_dir, als_dir = spark_run
    s, a = _run_json(spark_dir)["final"], _run_json(als_dir)["final"]
    assert s["val_rmse"] == pytest.approx(a["val_rmse"], abs=0.01)
    assert s["objective"] == pytest.approx(a["objective"], rel=0.01)
    assert s["train_rmse"] == pytest.approx(a["train_rmse"], abs=0.01)
    held_spark = (spark_dir / "held_out.csv").read_text()
    assert held_spark == (als_dir / "held_out.csv").read_text()  # the same ratings held out
    npz = np.load(spark_dir / "results.npz")
    assert npz["P"].shape == (300, 3) and np.abs(npz["P"]).sum() > 0


def test_a_bad_input_is_refused_before_spark_starts(monkeypatch, tmp_path, capsys):
    from mfstudio.cli import main

    monkeypatch.setattr(engine, "check_available", lambda: None)  # as if pyspark and Java were there

    def no_spark(*args, **kwargs):
        raise AssertionError("Spark was started for an input that cannot be read")

    monkeypatch.setattr(engine, "spark_session", no_spark)
    bad = tmp_path / "r.csv"
    bad.write_text("u,a,b\nx,1,oops\n")
    assert main(["train", str(tmp_path / "missing.csv"), "--engine", "spark", "--out", str(tmp_path / "o")]) == 2
    assert main(["train", str(bad), "--engine", "spark", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "missing.csv" in err and "Spark" not in err and not (tmp_path / "o").exists()
