"""Large sessions' entries and held-out cells packed as base64 columns (io/session_packed)."""

from __future__ import annotations

import base64
import gzip
import json
import re
import zlib

import numpy as np
import pytest

import mfstudio.io as mio
from mfstudio.core.ratings import Ratings
from mfstudio.core.session import Session
from mfstudio.io import session_json as sj
from mfstudio.io import session_packed as sp
from mfstudio.io import session_write as sw


def _ratings(n_users: int = 400, n_items: int = 300, nnz: int = 5_000, seed: int = 0) -> Ratings:
    rng = np.random.default_rng(seed)
    cells = np.sort(rng.choice(n_users * n_items, nnz, replace=False))
    vals = rng.integers(1, 11, nnz) / 2.0
    return Ratings(cells // n_items, cells % n_items, vals, (n_users, n_items))


@pytest.fixture
def small_pack(monkeypatch):
    """Pack from 1,000 entries, so small sessions take the packed path."""
    monkeypatch.setattr(sp, "PACK_ABOVE", 1_000)


def _document(path) -> dict:
    data = path.read_bytes()
    return json.loads(gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data)


def test_packed_session_reads_back_equal(tmp_path, small_pack):
    r = _ratings()
    held = np.stack([r.observed.rows[:1_500], r.observed.cols[:1_500]], axis=1)
    session = Session(ratings=r, held_out_cells=held)
    path = tmp_path / "big.mfstudio"
    mio.save_session(path, session)
    doc = _document(path)
    assert doc["ratings"]["entries"]["packing"] == "deflate-base64-le"
    assert doc["ratings"]["entries"]["count"] == 5_000
    assert doc["held_out"]["count"] == 1_500 and "values" not in doc["held_out"]
    back, notes = mio.load_session(path)
    assert back.ratings == r
    np.testing.assert_array_equal(back.held_out_cells, held)
    assert notes == []


def test_below_the_threshold_entries_stay_readable_lists(tmp_path):
    r = _ratings(nnz=20_000)
    doc = sw.session_to_dict(Session(ratings=r))
    assert not isinstance(doc["ratings"]["entries"], dict)
    assert isinstance(doc["held_out"], list)


def test_packed_and_listed_give_the_same_session(tmp_path, small_pack, monkeypatch):
    r = _ratings(seed=3)
    packed_path, listed_path = tmp_path / "p.mfstudio", tmp_path / "l.mfstudio"
    mio.save_session(packed_path, Session(ratings=r))
    monkeypatch.setattr(sp, "PACK_ABOVE", 10**9)
    mio.save_session(listed_path, Session(ratings=r))
    assert mio.load_session(packed_path)[0].ratings == mio.load_session(listed_path)[0].ratings


@pytest.mark.parametrize("n", [0, 1, 5, 1_000, 20_000])
def test_the_pieces_join_to_the_compressed_array(monkeypatch, n):
    monkeypatch.setattr(sp, "_CHUNK", 3 * 7)  # many pieces, and pieces of compressed output of any length
    a = np.random.default_rng(n).integers(0, 2**32, n, dtype=np.uint64).astype("<u4")
    text = "".join(sp._b64(a))
    assert text[0] == text[-1] == '"'
    assert zlib.decompress(base64.b64decode(text[1:-1], validate=True)) == a.tobytes()


def _column(values: np.ndarray) -> str:
    return base64.b64encode(zlib.compress(np.ascontiguousarray(values).tobytes())).decode()


def _damaged(tmp_path, small_pack_doc_change) -> str:
    r = _ratings()
    doc = json.loads(sw._dump(sw.session_to_dict(Session(ratings=r))))
    small_pack_doc_change(doc["ratings"]["entries"])
    path = tmp_path / "bad.mfstudio"
    path.write_text(json.dumps(doc))
    with pytest.raises(mio.FileFormatError) as err:
        mio.load_session(path)
    return str(err.value)


@pytest.mark.parametrize("change, words", [
    (lambda e: e.update(packing="zip"), "packing"),
    (lambda e: e.pop("values"), "exactly the keys"),
    (lambda e: e.update(extra=1), "exactly the keys"),
    (lambda e: e.update(count=4_999), "does not hold 4,999 numbers"),
    (lambda e: e.update(count=5_001), "does not hold 5,001 numbers"),
    (lambda e: e.update(count=-1), "whole number"),
    (lambda e: e.update(count=True), "whole number"),
    (lambda e: e.update(rows=e["rows"][:-8]), "does not hold 5,000"),
    (lambda e: e.update(rows=base64.b64encode(b"x" * 30).decode()), "is not compressed numbers"),
    (lambda e: e.update(rows=_column(np.zeros(5_000, "<u4")) + "AAAA"), "does not hold 5,000"),
    (lambda e: e.update(rows=e["rows"][:-1]), "is not valid base64"),
    (lambda e: e.update(rows=_column(np.zeros(6_000, "<u4"))), "does not hold 5,000"),
    (lambda e: e.update(cols="!" * len(e["cols"])), "not valid base64"),
    (lambda e: e.update(values=3), "must be text"),
    (lambda e: e.update(values=_column(np.full(5_000, np.nan))), "finite"),
    (lambda e: e.update(rows=_column(np.full(5_000, 400, "<u4"))), "outside"),
    (lambda e: e.update(count=10**9), "more than the 400 x 300 matrix"),
])
def test_a_damaged_packed_object_is_refused_with_a_sentence(tmp_path, small_pack, change, words):
    text = _damaged(tmp_path, change)
    assert words in text and text.endswith(".")


def test_the_long_number_scan_agrees_with_the_regular_expression(monkeypatch):
    monkeypatch.setattr(sj, "_RUN_CHUNK", 64)  # runs across chunk edges
    rng = np.random.default_rng(1)
    alphabet = np.frombuffer(b"0123456789e+-.,x\" ", dtype=np.uint8)
    for n in (0, 1, 63, 64, 65, 130, 500, 5_000):
        for weight in (0.5, 0.95, 1.0):
            p = np.full(alphabet.size, (1 - weight) / 4)
            p[:14] = weight / 14
            data = rng.choice(alphabet, n, p=p / p.sum()).tobytes()
            for length in (1, 2, 3, 5, 8, 20, 64, 65, 66):
                want = re.search(rb"[-+0-9.eE]{%d}" % length, data) is not None
                assert sj._has_number_run(data, length) == want, (n, weight, length)


def test_a_huge_number_is_still_refused_in_a_packed_session(tmp_path, small_pack):
    r = _ratings()
    text = sw._dump(sw.session_to_dict(Session(ratings=r)))
    text = text.replace('"holdout_fraction": 0.0', '"holdout_fraction": 0.' + "1" * 80, 1)
    path = tmp_path / "long.mfstudio"
    path.write_text(text)
    with pytest.raises(mio.FileFormatError, match="characters long"):
        mio.load_session(path)


def test_a_million_and_more_ratings_are_packed_and_read_back(tmp_path):
    n_users, n_items = 6_000, 400
    cells = np.arange(0, n_users * n_items, 2)[: sp.PACK_ABOVE + 1]
    r = Ratings(cells // n_items, cells % n_items, (cells % 9 + 2) / 2.0, (n_users, n_items))
    path = tmp_path / "m.mfstudio"
    mio.save_session(path, Session(ratings=r))
    assert _document(path)["ratings"]["entries"]["count"] == sp.PACK_ABOVE + 1
    assert mio.load_session(path)[0].ratings == r
