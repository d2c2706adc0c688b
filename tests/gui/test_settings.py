"""Settings: values round-trip; corrupt or wrong-typed values fall back to defaults."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QByteArray, QSettings

from mfstudio.gui.settings import Settings


@pytest.fixture
def ini(qapp, tmp_path: Path) -> Path:
    return tmp_path / "settings.ini"


def fresh(ini: Path) -> Settings:
    return Settings(QSettings(str(ini), QSettings.Format.IniFormat))


def test_round_trip_through_the_file(ini: Path, tmp_path: Path) -> None:
    s = fresh(ini)
    s.set_geometry(QByteArray(b"\x01\x02geometry"))
    s.set_splitter_state("main", QByteArray(b"\x00split"))
    s.set_last_folder(tmp_path / "file.csv")
    s.set_last_solver("als")
    s.set_solver_params("als", {"K": np.int64(3), "beta": 0.02, "seed": 0, "fast": True, "name": "x",
                                "bad": float("nan")})
    s.set_recent_files([str(tmp_path / "a.csv"), str(tmp_path / "b.csv")])
    s.sync()
    t = fresh(ini)
    assert bytes(t.geometry().data()) == b"\x01\x02geometry"
    assert bytes(t.splitter_state("main").data()) == b"\x00split"
    assert t.splitter_state("other") is None
    assert t.last_folder() == str(tmp_path)
    assert t.last_solver() == "als"
    assert t.solver_params("als") == {"K": 3, "beta": 0.02, "seed": 0, "fast": True, "name": "x"}
    assert t.solver_params("sgd") == {}
    assert t.recent_files() == [str(tmp_path / "a.csv"), str(tmp_path / "b.csv")]


def test_empty_settings_give_defaults(ini: Path) -> None:
    s = fresh(ini)
    assert s.geometry() is None
    assert s.last_folder() == str(Path.home())
    assert s.last_solver() is None
    assert s.recent_files() == []


def test_corrupt_and_wrong_typed_values_are_ignored(ini: Path) -> None:
    ini.write_text(
        "[window]\ngeometry=not bytes\nstate=42\n"
        "[files]\nlast_folder=/no/such/folder/anywhere\nrecent={not json\n"
        "[training]\nsolver=\nparams\\als=[1, 2]\n"
        "params\\sgd=\"{\\\"K\\\": [1], \\\"alpha\\\": 0.1, \\\"x\\\": {\\\"y\\\": 1}}\"\n"
        "params\\nmf=%%%\n"  # params\als has bare commas: QSettings reads a string list, ignored
    )
    s = fresh(ini)
    assert s.geometry() is None
    assert s.last_folder() == str(Path.home())
    assert s.recent_files() == []
    assert s.last_solver() is None
    assert s.solver_params("als") == {}
    assert s.solver_params("sgd") == {"alpha": 0.1}
    assert s.solver_params("nmf") == {}


def test_recent_list_with_wrong_items_keeps_the_strings(ini: Path) -> None:
    ini.write_text('[files]\nrecent="[\\"a.csv\\", 3, null, \\"\\", \\"b.csv\\"]"\n')
    assert fresh(ini).recent_files() == ["a.csv", "b.csv"]
