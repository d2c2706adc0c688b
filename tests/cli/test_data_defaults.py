"""`mfstudio train` starts larger data from the larger-data defaults, says so, and never overrides a flag."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from mfstudio import cli
from mfstudio.core.examples import example_path


@pytest.fixture
def larger_csv(tmp_path: Path) -> Path:
    """1,200 ratings (user,item,rating) among 60 users and 80 items."""
    rng = np.random.default_rng(0)
    flat = rng.choice(60 * 80, size=1_200, replace=False)
    p = tmp_path / "larger.csv"
    p.write_text("user,item,rating\n" + "".join(f"u{f // 80},i{f % 80},{rng.integers(1, 6)}\n" for f in flat))
    return p


def train(argv: list[str], capsys) -> tuple[dict, str]:
    assert cli.main(["train", *argv]) == 0
    err = capsys.readouterr().err
    out = Path(argv[argv.index("--out") + 1])
    return json.loads((out / "run.json").read_text())["parameters"], err


def test_larger_data_starts_als_from_beta_0_2_and_says_so(tmp_path, larger_csv, capsys):
    params, err = train([str(larger_csv), "--solver", "als", "--steps", "3", "--out", str(tmp_path / "a")], capsys)
    assert params["beta"] == 0.2
    assert "Note: For 1,200 ratings als starts from β = 0.2 (the notebook's 0.02" in err


def test_a_flag_is_never_overridden_and_needs_no_note(tmp_path, larger_csv, capsys):
    params, err = train([str(larger_csv), "--solver", "als", "--beta", "0.02", "--steps", "3",
                         "--out", str(tmp_path / "b")], capsys)
    assert params["beta"] == 0.02 and "starts from" not in err


def test_the_notebooks_matrix_keeps_the_notebooks_values(tmp_path, capsys):
    params, err = train([str(example_path("example-1")), "--solver", "sgd", "--steps", "3",
                         "--out", str(tmp_path / "c")], capsys)
    assert params["alpha"] == 0.0002 and params["beta"] == 0.02 and "starts from" not in err
