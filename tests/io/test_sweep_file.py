"""sweep.csv's text and writing a sweep's files: all or nothing, a read-only file refused before anything."""

from __future__ import annotations

import math
import os
import stat

import pytest

from mfstudio.core.sweep import METRICS, PointResult
from mfstudio.core.sweep_grid import make_axis
from mfstudio.io.errors import FileFormatError
from mfstudio.io.sweep_file import check_sweep_folder, sweep_csv, write_sweep

AXES = (make_axis("sgd", "k", "1,2"), make_axis("sgd", "beta", "0.1,0.0316228"))


def result(index: int, values: tuple, val: float, reason: str = "budget") -> PointResult:
    m = {**dict.fromkeys(METRICS, 1 / 3), "val_rmse": val}
    return PointResult(index, values, m, {}, 12, 40, 0.25, reason)


def test_values_are_exact_errors_have_six_digits_and_a_missing_error_is_empty():
    text = sweep_csv(AXES, [result(1, (1, 0.0316228), math.nan, "diverged"), result(0, (1, 0.1), 0.8)])
    lines = text.splitlines()
    assert lines[0] == "k,beta,train_rmse,val_rmse,train_mae,val_mae,best_step,seconds,reason"
    assert lines[1] == "1,0.1,0.333333,0.8,0.333333,0.333333,12,0.25,budget"  # grid order
    assert lines[2] == "1,0.0316228,0.333333,,0.333333,0.333333,12,0.25,diverged"


def test_full_precision_reads_back_bit_for_bit():
    line = sweep_csv(AXES, [result(0, (2, 0.1), 0.1 + 0.2)], full_precision=True).splitlines()[1]
    assert float(line.split(",")[3]) == 0.1 + 0.2 and float(line.split(",")[2]) == 1 / 3


def test_write_makes_the_folder_and_both_files(tmp_path):
    d = tmp_path / "a" / "b"
    written = write_sweep(d, {"sweep.csv": "x\n", "sweep.png": b"png"})
    assert [p.name for p in written] == ["sweep.csv", "sweep.png"]
    assert (d / "sweep.csv").read_text() == "x\n" and (d / "sweep.png").read_bytes() == b"png"


def test_a_read_only_file_is_refused_and_nothing_changes(tmp_path):
    (tmp_path / "sweep.csv").write_text("old")
    (tmp_path / "sweep.png").write_bytes(b"old")
    os.chmod(tmp_path / "sweep.png", stat.S_IRUSR)
    try:
        with pytest.raises(FileFormatError, match="read-only"):
            check_sweep_folder(tmp_path)
        with pytest.raises(FileFormatError, match="read-only"):
            write_sweep(tmp_path, {"sweep.csv": "new", "sweep.png": b"new"})
        assert (tmp_path / "sweep.csv").read_text() == "old"
    finally:
        os.chmod(tmp_path / "sweep.png", stat.S_IRUSR | stat.S_IWUSR)


def test_a_file_in_place_of_the_folder_is_refused(tmp_path):
    (tmp_path / "f").write_text("")
    with pytest.raises(FileFormatError, match="is a file"):
        write_sweep(tmp_path / "f", {"sweep.csv": "x"})


def test_a_failed_write_removes_the_folders_it_made(tmp_path, monkeypatch):
    from mfstudio.io import atomic

    def fail(files):
        raise FileFormatError("disk full")

    monkeypatch.setattr(atomic, "write_files", fail)
    with pytest.raises(FileFormatError):
        write_sweep(tmp_path / "new" / "deeper", {"sweep.csv": "x"})
    assert not (tmp_path / "new").exists()
