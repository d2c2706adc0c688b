"""The build lists every package and every data file: a normal (non-editable) install has them all."""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_package_is_installed() -> None:
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(setuptools["packages"]) - set(setuptools["package-dir"])  # resources/ installs under a new name
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "mfstudio").rglob("__init__.py")}
    assert found - listed == set(), "add these to [tool.setuptools] packages in pyproject.toml"
    assert listed - found == set(), "these listed packages do not exist"


def test_every_resource_file_is_package_data() -> None:
    """A data file under resources/ (an example, a lesson, an icon) ships only if a package-data pattern names it."""
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    patterns = setuptools["package-data"]["mfstudio.resources"]
    files = [p.relative_to(ROOT / "resources").as_posix() for p in (ROOT / "resources").rglob("*")
             if p.is_file() and p.suffix != ".py" and "__pycache__" not in p.parts]
    assert "lessons/notebook.mfslesson" in files and "examples/example-1.json" in files
    missed = [f for f in files if not any(fnmatch.fnmatchcase(f, pat) and (pat.count("/") == f.count("/"))
                                          for pat in patterns)]
    assert missed == [], "add a pattern for these to [tool.setuptools.package-data] in pyproject.toml"
