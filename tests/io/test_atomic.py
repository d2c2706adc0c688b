"""All-or-nothing writes of several files."""

import os
from pathlib import Path

import pytest

from mfstudio.io import atomic
from mfstudio.io.errors import FileFormatError


def test_failed_multi_write_restores_every_file(tmp_path, monkeypatch):
    a, b, c = tmp_path / "P.csv", tmp_path / "Q.csv", tmp_path / "R_hat.csv"
    a.write_text("old P")
    c.write_text("old R")
    real = os.replace
    def flaky(src, dst):
        if Path(dst).name == "R_hat.csv" and str(src).endswith(".tmp"):
            raise OSError(28, "No space left on device")
        return real(src, dst)
    monkeypatch.setattr(atomic.os, "replace", flaky)
    with pytest.raises(FileFormatError):
        atomic.write_files({a: "new P", b: "new Q", c: "new R"})
    assert a.read_text() == "old P" and c.read_text() == "old R" and not b.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["P.csv", "R_hat.csv"]

def test_a_directory_in_the_way_changes_nothing(tmp_path):
    (tmp_path / "P.csv").write_text("old")
    (tmp_path / "Q.csv").mkdir()
    with pytest.raises(FileFormatError):
        atomic.write_files({tmp_path / "P.csv": "new", tmp_path / "Q.csv": "x"})
    assert (tmp_path / "P.csv").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["P.csv", "Q.csv"]
