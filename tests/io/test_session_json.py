"""Session files read as bounded, strict JSON: truncation, corrupt gzip, long numbers, deep nesting, bare NaN."""

from __future__ import annotations

import gzip

import pytest

import mfstudio.io as mio
from mfstudio.io import session_json as sj
from mfstudio.io import session_write as sw


def test_truncated_plain_and_gzipped(tmp_path, session):
    data = sw.session_to_bytes(session)
    p = tmp_path / "t.mfstudio"
    p.write_bytes(data[: len(data) // 2])
    with pytest.raises(mio.FileFormatError, match="truncated"):
        mio.load(p)
    p.write_bytes(gzip.compress(data)[:-30])
    with pytest.raises(mio.FileFormatError, match="truncated"):
        mio.load(p)


def test_corrupted_gzip(tmp_path, session):
    z = bytearray(gzip.compress(sw.session_to_bytes(session)))
    z[20:40] = b"\xff" * 20
    p = tmp_path / "c.mfstudio"
    p.write_bytes(bytes(z))
    with pytest.raises(mio.FileFormatError, match="damaged|truncated"):
        mio.load(p)


def test_huge_number_is_refused(tmp_path):
    p = tmp_path / "n.mfstudio"
    p.write_text('{"format": "mfstudio-session", "version": 1, "x": ' + "9" * 100_000 + "}")
    with pytest.raises(mio.FileFormatError, match="100,000 characters long"):
        mio.load(p)
    p.write_text('{"format": "mfstudio-session", "version": 1, "x": 0.' + "1" * 100_000 + "}")
    with pytest.raises(mio.FileFormatError, match="characters long"):
        mio.load(p)


def test_deep_nesting_is_refused_without_recursion(tmp_path):
    p = tmp_path / "deep.mfstudio"
    p.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(mio.FileFormatError, match="nests 100,000 levels deep"):
        mio.load(p)
    p.write_text('{"a": ' * 100_000 + "1" + "}" * 100_000)
    with pytest.raises(mio.FileFormatError, match="levels deep"):
        mio.load(p)


def test_brackets_inside_strings_do_not_count_as_nesting():
    assert sj.nesting_depth('{"a": "[[[[[[\\"[[[["}') == 1


def test_bare_nan_is_refused(tmp_path, session):
    text = sw.session_to_bytes(session).decode().replace("null", "NaN", 1)
    p = tmp_path / "nan.mfstudio"
    p.write_text(text)
    with pytest.raises(mio.FileFormatError, match="bare NaN"):
        mio.load(p)


def test_a_csv_forced_as_a_session_is_not_called_truncated(tmp_path):
    p = tmp_path / "x.csv"
    p.write_text("u,a,b\nx,1,2\n")
    with pytest.raises(mio.FileFormatError, match="not JSON"):
        mio.load(p, fmt="session")

