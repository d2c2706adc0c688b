"""Hypothesis throws generated files at every reader: each call returns valid data or
raises FileFormatError with a one-sentence message."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mfstudio.io as mio
from mfstudio.core.ratings import Ratings

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

cell = st.one_of(
    st.sampled_from(["", "0", "1", "2.5", "4,5", "5", "-1", "nan", "inf", "x", '"q"', "1e309", " 3 ", "user", "item"]),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=6),
)
row = st.lists(cell, min_size=1, max_size=5)
delim = st.sampled_from([",", ";", "\t", "::", " "])
eol = st.sampled_from(["\n", "\r\n"])


@st.composite
def table_text(draw) -> bytes:
    d, e = draw(delim), draw(eol)
    rows = draw(st.lists(row, max_size=8))
    text = e.join(d.join(r) for r in rows) + draw(st.sampled_from(["", e, e + e]))
    enc = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16"]))
    return text.encode(enc, errors="replace")


def check(path, **kw) -> None:
    try:
        res = mio.load(path, **kw)
    except mio.FileFormatError as exc:
        msg = str(exc)
        assert msg and "\n" not in msg and msg.rstrip().endswith((".", ")")), msg
        return
    r = res.session.ratings
    assert isinstance(r, Ratings) and r.nnz > 0 or res.fmt == "session"
    assert np.all(np.isfinite(r.observed.vals))
    assert all(isinstance(n, str) and n for n in res.notices)


@FUZZ
@given(data=table_text(), fmt=st.sampled_from([None, "matrix", "triples"]), keep=st.booleans())
def test_text_tables(tmp_path, data, fmt, keep):
    p = tmp_path / "f.csv"
    p.write_bytes(data)
    check(p, fmt=fmt, keep_zeros=keep)


@FUZZ
@given(data=st.binary(max_size=600), name=st.sampled_from(["f.csv", "f.npz", "f.mfstudio", "f.data", "f"]))
def test_raw_bytes_with_any_name(tmp_path, data, name):
    p = tmp_path / name
    p.write_bytes(data)
    check(p)


json_leaf = st.one_of(st.none(), st.booleans(), st.integers(-10, 10), st.floats(allow_nan=False, allow_infinity=False),
                      st.text(max_size=5))
json_value = st.recursive(
    json_leaf, lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=5), kids, max_size=4),
    max_leaves=20)


@FUZZ
@given(doc=json_value, gz=st.booleans())
def test_arbitrary_json_as_session(tmp_path, doc, gz):
    data = json.dumps(doc).encode()
    p = tmp_path / "s.mfstudio"
    p.write_bytes(__import__("gzip").compress(data) if gz else data)
    check(p)


def _valid_doc() -> dict:
    r = Ratings([0, 1, 1], [1, 0, 1], [4.0, 2.0, 5.0], (2, 2), users=["a", "b"], items=["x", "y"])
    from mfstudio.core.session import Session
    return json.loads(mio.session_to_bytes(Session(ratings=r)))


paths = st.sampled_from([("ratings", "shape"), ("ratings", "users"), ("ratings", "items"), ("ratings", "scale"),
                         ("ratings", "R"), ("held_out",), ("solver",), ("params",), ("holdout_fraction",),
                         ("patience",), ("result",), ("version",), ("format",)])


@FUZZ
@given(where=paths, value=json_value)
def test_mutated_session_fields(tmp_path, where, value):
    doc = _valid_doc()
    target = doc
    for k in where[:-1]:
        target = target[k]
    target[where[-1]] = value
    p = tmp_path / "m.mfstudio"
    p.write_text(json.dumps(doc))
    check(p)


@FUZZ
@given(cut=st.integers(0, 400), flip=st.integers(0, 400), byte=st.integers(0, 255))
def test_truncated_or_flipped_session_bytes(tmp_path, cut, flip, byte):
    data = bytearray(json.dumps(_valid_doc()).encode())
    if flip < len(data):
        data[flip] = byte
    p = tmp_path / "t.mfstudio"
    p.write_bytes(bytes(data[: len(data) - cut]))
    check(p)


npz_array = st.one_of(
    st.builds(lambda a: np.array(a, dtype=float), st.lists(st.lists(st.floats(), min_size=2, max_size=2), max_size=3)),
    st.builds(np.array, st.lists(st.text(max_size=3), max_size=3)),
    st.builds(lambda n: np.arange(n), st.integers(0, 5)),
    st.just(np.zeros((0, 0))),
)


@FUZZ
@given(arrays=st.dictionaries(st.sampled_from(["R", "users", "items", "scale", "other"]), npz_array, max_size=4),
       cut=st.integers(0, 50))
def test_npz_files(tmp_path, arrays, cut):
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    data = buf.getvalue()
    p = tmp_path / "a.npz"
    p.write_bytes(data[: len(data) - cut] if cut else data)
    check(p)


@FUZZ
@given(member=st.binary(max_size=200))
def test_npz_with_garbage_members(tmp_path, member):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("R.npy", b"\x93NUMPY" + member)
    p = tmp_path / "g.npz"
    p.write_bytes(buf.getvalue())
    check(p)
