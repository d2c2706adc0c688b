"""Writing session files: a grid or a list of entries, gzip above a size, the same bytes for the same session."""

from __future__ import annotations

import gzip
import json

import numpy as np

import mfstudio.io as mio
from mfstudio.core.ratings import Ratings
from mfstudio.core.session import Session
from mfstudio.io import session_write as sw
from tests.io.test_session_file import assert_same_session


def test_large_session_is_gzipped_and_uses_entries(tmp_path):
    rng = np.random.default_rng(0)
    n, m, nnz = 400, 300, 60_000
    cells = rng.choice(n * m, nnz, replace=False)
    r = Ratings(cells // m, cells % m, rng.random(nnz) * 4 + 1, (n, m), scale=(1, 5))
    s = Session(ratings=r)
    p = tmp_path / "big.mfstudio"
    mio.save_session(p, s)
    raw = p.read_bytes()
    assert raw[:2] == b"\x1f\x8b"
    assert "entries" in json.loads(gzip.decompress(raw))["ratings"]
    assert_same_session(s, mio.load(p).session)


def test_small_ratings_are_written_as_a_grid_and_larger_as_entries():
    def layout(n_users: int, n_items: int) -> str:
        r = Ratings.from_dense(np.ones((n_users, n_items)))
        return "R" if "R" in sw.session_to_dict(Session(ratings=r))["ratings"] else "entries"

    assert layout(100, 100) == "R"  # GRID_MAX_CELLS cells, the most a grid holds
    assert layout(101, 100) == "entries"


def test_the_same_session_gives_the_same_bytes_plain_and_gzipped():
    rng = np.random.default_rng(1)
    for n in (5, 400):  # plain JSON, and above GZIP_ABOVE gzip (with no time stamp in it)
        cells = rng.choice(n * 300, n * 150, replace=False)
        s = Session(ratings=Ratings(cells // 300, cells % 300, rng.random(cells.size) + 1, (n, 300)))
        data = sw.session_to_bytes(s)
        assert (data[:2] == b"\x1f\x8b") == (n == 400)
        assert sw.session_to_bytes(Session(ratings=s.ratings)) == data


def test_rows_of_floats_with_gaps_read_as_each_number_alone():
    row = [1.5, float("nan"), float("inf"), -float("inf"), 1e-300, -2.0, 3e20, 0.1]
    assert sw._dump_value(row, 0) == "[" + ", ".join(sw._num(v) for v in row) + "]"
    assert json.loads(sw._dump_value(row[:2] + row[4:], 0))[1] is None


def test_a_save_at_rest_gives_the_same_bytes_and_sleeps_in_proportion(monkeypatch):
    rng = np.random.default_rng(2)
    cells = rng.choice(300 * 300, 30_000, replace=False)
    s = Session(ratings=Ratings(cells // 300, cells % 300, rng.random(cells.size) + 1, (300, 300)))
    plain = sw.session_to_bytes(s)
    slept: list[float] = []
    monkeypatch.setattr(sw.time, "sleep", slept.append)
    assert sw.session_to_bytes(s, 3.0) == plain
    assert len(slept) > 5 and all(t >= 0 for t in slept) and sum(slept) > 0
    slept.clear()
    sw.session_to_bytes(s)
    assert slept == []  # no rest unless asked for


def test_big_two_d_arrays_are_written_in_pieces_of_rows():
    a = np.arange(3 * sw.ROWS_CHUNK * 2, dtype=float).reshape(-1, 2)
    pieces = list(sw._pieces(a))
    assert len(pieces) >= 4 and max(map(len, pieces)) < len("".join(pieces)) / 2
    assert json.loads("".join(pieces)) == a.tolist()
    assert "".join(pieces) == sw._dump_value(a, 0)
