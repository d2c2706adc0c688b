"""Large plain triples files are read column-wise: the same ratings, labels and notices as the general reader,
and anything not plain left to it (with its sentences)."""

from __future__ import annotations

import numpy as np
import pytest

import mfstudio.io as mio
from mfstudio.io import fast_triples
from mfstudio.io.movielens_parse import last_of_each_cell


def _both(path, **kw):
    """(column-wise result or None, the general reader's LoadResult)."""
    fast = fast_triples.read_plain_triples(path, kw.get("fmt"), kw.get("scale"))
    general = mio.load(path, **kw)  # below FAST_MIN_BYTES: the general reader
    return fast, general


def _lines(rng: np.random.Generator, n: int, sep: str, header: str | None, ts: bool, halves: bool) -> str:
    users = rng.integers(1, 400, n)
    items = rng.integers(1, 90, n) * 7
    vals = rng.integers(1, 11, n) / 2 if halves else rng.integers(0, 6, n).astype(float)
    text = [header + "\n"] if header else []
    for u, i, v in zip(users.tolist(), items.tolist(), vals.tolist()):
        cell = f"{v:g}" if not halves else str(v)
        text.append(sep.join([str(u), str(i), cell] + (["964982703"] if ts else [])) + "\n")
    return "".join(text)


@pytest.mark.parametrize("sep, header, ts, halves", [
    (",", "userId,movieId,rating,timestamp", True, True),
    ("\t", None, True, False),
    (";", "user;item;rating", False, True),
    ("::", None, True, False),
    (",", None, False, False),
])
def test_plain_files_read_the_same_both_ways(tmp_path, sep, header, ts, halves):
    p = tmp_path / "r.csv"
    p.write_text(_lines(np.random.default_rng(len(sep)), 3000, sep, header, ts, halves), newline="")
    fast, general = _both(p)
    assert fast is None  # small: left to the general reader
    fast_triples.FAST_MIN_BYTES, old = 0, fast_triples.FAST_MIN_BYTES
    try:
        fast, _ = _both(p)
        via_load = mio.load(p)
    finally:
        fast_triples.FAST_MIN_BYTES = old
    assert fast is not None
    ratings, notices = fast
    assert ratings == general.session.ratings and notices == general.notices
    assert "duplicate rating(s)" in notices[0]  # 3,000 random cells of 400 x 90 repeat some
    assert via_load.fmt == "triples" and via_load.session.ratings == ratings


@pytest.mark.parametrize("text", [
    "user,item,rating\n1,007,4\n2,8,3\n",  # a leading zero: the label is 007, not 7
    "user,item,rating\nann,1,4\nbob,2,3\n",  # text labels
    "1,2,4,5\n11,12,3\n",  # a ragged line
    "u,i,r\n1,2,-4\n3,4,1\n",  # a sign
    "u\ti\tr\n1\t2\t4,5\n3\t4\t1\n",  # a decimal comma
    "u,i,r\n1, 2,4\n3,4,1\n",  # a space
    '"u","i","r"\n"1","2","4"\n',  # quotes
    "u,i,r\n1,2,\n3,4,1\n",  # a blank rating
])
def test_files_that_are_not_plain_are_left_to_the_general_reader(tmp_path, monkeypatch, text):
    monkeypatch.setattr(fast_triples, "FAST_MIN_BYTES", 0)
    p = tmp_path / "r.csv"
    p.write_text(text)
    assert fast_triples.read_plain_triples(p, None, None) is None


def test_a_bad_line_late_in_a_large_file_keeps_its_sentence(tmp_path, monkeypatch):
    monkeypatch.setattr(fast_triples, "FAST_MIN_BYTES", 0)
    monkeypatch.setattr(fast_triples, "BLOCK_BYTES", 64)  # the bad line is blocks after the head
    p = tmp_path / "r.csv"
    p.write_text("user,item,rating\n" + "".join(f"{k},{k % 7 + 1},4\n" for k in range(1, 200)) + "200,3,four\n")
    with pytest.raises(mio.FileFormatError, match=r"Line 201 holds 'four' where a rating should be"):
        mio.load(p)


def test_the_last_rating_of_a_cell_wins_whichever_way_it_is_packed():
    rng = np.random.default_rng(0)
    for _ in range(100):
        n, m = int(rng.integers(1, 60)), int(rng.integers(1, 6))
        u, i = rng.integers(0, 4, n), rng.integers(0, m, n)
        key = u * m + i
        _, first_in_rev = np.unique(key[::-1], return_index=True)
        want = np.sort(n - 1 - first_in_rev)
        assert np.array_equal(np.sort(last_of_each_cell(u, i, m)), want)
        assert np.array_equal(np.sort(last_of_each_cell(u * 2**30, i * 2**20, m * 2**20)), want)  # would overflow
