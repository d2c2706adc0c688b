"""Shared helpers for the io tests: write a file and read it back."""

from __future__ import annotations

from pathlib import Path

import pytest

import mfstudio.io as mio


@pytest.fixture
def write(tmp_path: Path):
    """write(name, content) -> path; str content is written as UTF-8 unless bytes are given."""

    def _write(name: str, content: str | bytes) -> Path:
        p = tmp_path / name
        p.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
        return p

    return _write


@pytest.fixture
def load_text(write):
    """load_text(content, name="r.csv", **kw) -> LoadResult."""

    def _load(content: str | bytes, name: str = "r.csv", **kw) -> mio.LoadResult:
        return mio.load(write(name, content), **kw)

    return _load
