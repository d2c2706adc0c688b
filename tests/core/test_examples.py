"""The bundled examples: the listening log is implicit data with the taste structure it was made from."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from mfstudio.core.examples import EXAMPLES, example_path, load_example

ROOT = Path(__file__).resolve().parents[2]


def test_the_listening_log_is_implicit_play_counts_with_genres():
    assert EXAMPLES["listening"] == "Listening log (50 listeners x 40 artists, play counts)"
    r = load_example("listening")
    assert r.implicit and r.shape == (50, 40) and len(set(r.users)) == 50 and len(set(r.items)) == 40
    v = r.observed.vals
    assert np.all(v >= 1) and np.all(v == np.round(v)) and r.scale == (0.0, v.max())  # whole plays; 0 = none
    assert 0.15 < r.nnz / (50 * 40) < 0.5  # many zeros: no plays
    assert r.item_genres is not None and all(len(g) == 1 for g in r.item_genres)
    assert not any(load_example(n).implicit for n in EXAMPLES if n != "listening")


def test_the_planted_taste_structure_shows_in_the_counts():
    r = load_example("listening")
    R = np.nan_to_num(r.to_dense())
    assert np.all((R > 0).sum(axis=1) >= 3) and np.all(R.sum(axis=0) > 0)  # every listener 3+ artists, every artist
    genres = sorted({g[0] for g in r.item_genres})
    by_genre = np.stack([R[:, [g[0] == name for g in r.item_genres]].sum(axis=1) for name in genres], axis=1)
    top2 = np.sort(by_genre, axis=1)[:, -2:].sum(axis=1) / by_genre.sum(axis=1)
    assert len(genres) == 5 and np.mean(top2 > 0.7) > 0.8  # a listener's plays go to the two genres they love
    # listeners of the same taste group agree: most have a close neighbour by the genres they play
    shares = by_genre / by_genre.sum(axis=1, keepdims=True)
    d = np.abs(shares[:, None, :] - shares[None, :, :]).sum(axis=2) + np.eye(50) * 9
    assert np.mean(d.min(axis=1) < 0.5) > 0.8


def test_the_file_is_what_the_script_makes(tmp_path):
    shipped = example_path("listening").read_bytes()
    doc = json.loads(shipped)
    assert doc["implicit"] is True and doc["title"] == EXAMPLES["listening"]
    out = tmp_path / "listening.json"
    res = subprocess.run([sys.executable, str(ROOT / "tools" / "make_listening.py"), str(out)], capture_output=True,
                         text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert out.read_bytes() == shipped, "run tools/make_listening.py: listening.json is out of date"
