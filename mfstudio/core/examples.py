"""The example data sets shipped in ``resources/``: the notebook's two, "movie night" and the listening log
(play counts: implicit data, tools/make_listening.py)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from mfstudio.core.ratings import Ratings

EXAMPLES = {
    "example-1": "Example 1 (the notebook's 4 x 4)",
    "example-2": "Example 2 (the notebook's 5 x 4)",
    "movie-night": "Movie night (12 people x 15 films)",
    "listening": "Listening log (50 listeners x 40 artists, play counts)",
}


def resource_dir() -> Path:
    """The resources folder: next to the package in a checkout, inside it when installed."""
    here = Path(__file__).resolve().parent.parent  # mfstudio/
    for cand in (here.parent / "resources", here / "resources"):
        if (cand / "examples").is_dir():
            return cand
    raise FileNotFoundError("MF Studio's resources folder is missing; reinstall MF Studio.")


def example_path(name: str) -> Path:
    return resource_dir() / "examples" / f"{name}.json"


def load_example(name: str = "example-1") -> Ratings:
    """Load a bundled example by name (see ``EXAMPLES``); one whose file says ``"implicit": true`` holds counts
    of events (its Ratings are implicit)."""
    if name not in EXAMPLES:
        raise KeyError(f"There is no example called {name!r}; choose one of {', '.join(EXAMPLES)}.")
    doc = json.loads(example_path(name).read_text(encoding="utf-8"))
    R = np.array([[np.nan if x is None else x for x in row] for row in doc["R"]], dtype=float)
    r = Ratings.from_dense(
        R, zeros_are_missing=doc.get("zeros_are_missing", True),
        users=doc.get("users"), items=doc.get("items"),
        scale=tuple(doc["scale"]) if "scale" in doc else None,
    )
    if doc.get("item_genres") is None and not doc.get("implicit", False):
        return r
    o = r.observed
    return Ratings(o.rows, o.cols, o.vals, r.shape, r.users, r.items, r.scale, doc.get("item_genres"),
                   implicit=bool(doc.get("implicit", False)))
