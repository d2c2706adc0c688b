"""NumPy .npz input: array R with optional labels; no pickle; sizes checked before allocating."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest

import mfstudio.io as mio
from mfstudio.io.npz import inspect_npz, read_npz


def test_npz_with_labels_and_scale(tmp_path):
    p = tmp_path / "r.npz"
    R = np.array([[5, np.nan, 0], [1, 2, 3]])
    np.savez(p, R=R, users=np.array(["ann", "bo"]), items=np.array(["x", "y", "z"]), scale=np.array([1, 10]))
    res = mio.load(p)
    r = res.session.ratings
    assert res.fmt == "npz" and r.users == ("ann", "bo") and r.items == ("x", "y", "z") and r.scale == (1.0, 10.0)
    np.testing.assert_array_equal(r.to_dense(), [[5, np.nan, np.nan], [1, 2, 3]])
    assert mio.load(p, keep_zeros=True).session.ratings.nnz == 5


def test_npz_detected_by_content_whatever_the_name(tmp_path):
    p = tmp_path / "data.bin"
    np.savez(p.with_suffix(""), R=np.eye(2) + 1)  # savez adds .npz to a name without one
    (tmp_path / "data.npz").rename(p)
    assert mio.load(p).fmt == "npz"


def test_object_array_is_refused_without_unpickling(tmp_path):
    p = tmp_path / "evil.npz"
    np.savez(p, R=np.array([{"a": 1}, None], dtype=object))
    with pytest.raises(mio.FileFormatError, match="holds Python objects"):
        mio.load(p)


def _npz_claiming(shape: tuple[int, ...]) -> bytes:
    """An .npz whose R header claims ``shape`` of float64 but holds a few bytes."""
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False, "shape": shape})
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("R.npy", header.getvalue() + b"\x00" * 64)
    return buf.getvalue()


def test_huge_claimed_shape_is_refused_before_allocating(tmp_path):
    p = tmp_path / "huge.npz"
    p.write_bytes(_npz_claiming((100_000, 100_000)))
    with pytest.raises(mio.FileFormatError, match="claims 100,000 x 100,000 entries"):
        mio.load(p)


def test_array_shorter_than_its_header_is_damaged(tmp_path):
    p = tmp_path / "short.npz"
    p.write_bytes(_npz_claiming((100, 100)))
    with pytest.raises(mio.FileFormatError, match="shorter than its header"):
        mio.load(p)


@pytest.mark.parametrize(
    "arrays, pattern",
    [
        ({"X": np.ones((2, 2))}, "no array named 'R'"),
        ({"R": np.ones(3)}, "two-dimensional array of numbers"),
        ({"R": np.array([["a", "b"]])}, "two-dimensional array of numbers"),
        ({"R": np.array([[1.0, np.inf]])}, "infinite"),
        ({"R": np.zeros((2, 2))}, "holds no ratings"),
        ({"R": np.ones((2, 2)), "users": np.array(["a"])}, "users labels"),
        ({"R": np.ones((2, 2)), "scale": np.array([5, 1])}, "'scale'"),
    ],
)
def test_bad_npz(tmp_path, arrays, pattern):
    p = tmp_path / "bad.npz"
    np.savez(p, **arrays)
    with pytest.raises(mio.FileFormatError, match=pattern):
        mio.load(p)


def test_truncated_npz(tmp_path):
    p = tmp_path / "t.npz"
    np.savez(p, R=np.ones((20, 20)))
    p.write_bytes(p.read_bytes()[:100])
    with pytest.raises(mio.FileFormatError, match="not a valid .npz"):
        mio.load(p)


def test_read_npz_only_wanted_arrays(tmp_path):
    p = tmp_path / "f.npz"
    np.savez(p, P=np.ones((3, 2)), Q=np.ones((2, 4)), other=np.arange(3))
    meta = inspect_npz(p)
    assert meta["P"][0] == (3, 2) and meta["Q"][0] == (2, 4)
    assert set(read_npz(p, ("P", "Q"))) == {"P", "Q"}
