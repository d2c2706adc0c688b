"""Implicit data as the readers build it: counts of events (plays, clicks, purchases), not ratings.

``load(path, implicit=True)`` reads a file of triples as (user, item, count), a file of two columns
as events (user, item), one line per event, and a MovieLens download with each rating as one
interaction (value 1). Whatever the layout, the rule is the same (:func:`interactions`): a count
is a number of at least 0 (a negative one is refused, naming its line), the counts of a cell listed
more than once are summed (core.ratings.sum_cells; ratings keep "the last one wins"), a cell whose
count is 0 is no interaction and is left out, and the scale runs from 0 to the largest count.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from mfstudio.core.ratings import Ratings, count_scale, first_bad_count, sum_cells
from mfstudio.io.errors import FileFormatError


def interactions(rows: np.ndarray, cols: np.ndarray, counts: np.ndarray, shape: tuple[int, int],
                 users: Sequence[str] | None, items: Sequence[str] | None, *, name: str,
                 where: Callable[[int], str], scale: tuple[float, float] | None = None,
                 genres: Sequence[Sequence[str]] | None = None) -> tuple[Ratings, list[str]]:
    """Implicit Ratings from one count per listed (row, col) entry, by the rule of this module, and
    notices of what was summed or left out. ``where(k)`` names entry k ("Line 7") in the sentence
    that refuses a negative count; ``name`` names the file."""
    vals = np.asarray(counts, dtype=np.float64)
    bad = first_bad_count(vals)
    if bad is not None:
        raise FileFormatError(f"{where(bad)} holds the count {vals[bad]:g}, but a count of events cannot be negative; "
                              "correct it, or open the file as ratings (without the implicit switch).")
    r, c, sums, repeats = sum_cells(rows, cols, vals, shape[1])
    keep = sums > 0
    n_zero = int(keep.size - np.count_nonzero(keep))
    if not keep.any():
        raise FileFormatError(f"{name} holds no interactions: every count is 0 (0 means no interaction); "
                              "give some counts above 0.")
    notices = []
    if repeats:
        notices.append(f"{repeats:,} repeated (user, item) line(s) were summed into their cell's count.")
    if n_zero:
        notices.append(f"{n_zero:,} cell(s) with a count of 0 were left out: 0 means no interaction.")
    sc = scale if scale is not None else count_scale(sums[keep])
    ratings = Ratings(r[keep], c[keep], sums[keep], shape, users, items, sc, genres, implicit=True)
    return ratings, notices


def as_interactions(ratings: Ratings, name: str) -> tuple[Ratings, list[str]]:
    """``ratings`` read as counts of events (a session or .npz opened with the implicit switch): each value is
    a count, so the rule of :func:`interactions` applies; already implicit data is returned as it is."""
    if ratings.implicit:
        return ratings, []
    o = ratings.observed
    out, notices = interactions(o.rows, o.cols, o.vals, ratings.shape, ratings.users, ratings.items, name=name,
                                where=lambda k: f"{name}'s entry for {ratings.users[o.rows[k]]} and "
                                                f"{ratings.items[o.cols[k]]}", genres=ratings.item_genres)
    return out, [f"{name} held ratings; they were read as counts of events (implicit data).", *notices]
