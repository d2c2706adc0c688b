"""What the latent map needs of the ratings, made once per data set: counts, who rated what, held-out flags,
the colours of the items and, for big data, the fixed sample of the points drawn."""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np

from mfstudio.core import Ratings
from mfstudio.gui.views.latent_canvas import item_style

Pair = tuple[np.ndarray, np.ndarray]  # (in training, held out)


class MapData:
    """What the map needs of the ratings, made once per data set: counts, who rated what, held-out flags.

    Nothing here sorts or scans the ratings when a data set arrives (10 M ratings took seconds to index on the
    window's thread): counts are counted on first use, and who rated what is looked up for the one user
    (a slice: the ratings are sorted by user) or item (a scan of the columns: 10 ms at 10 M) asked about, and
    kept for the next frames while the same one is asked about."""

    def __init__(self, ratings: Ratings, held_out_cells: np.ndarray | None, max_points: int) -> None:
        self.ratings = ratings
        self.held_out_cells = np.zeros((0, 2), np.int64) if held_out_cells is None else np.asarray(held_out_cells)
        self.style = item_style(ratings)
        self._genre_masks: dict[str, np.ndarray] = {}
        self._of: dict[tuple[str, int], Pair] = {}  # the last user's items, item's users
        n, m = ratings.n_users, ratings.n_items
        self.total = n + m
        self.sample: tuple[np.ndarray, np.ndarray] | None = None  # (users, items) drawn; None: every point
        if self.total > max_points:
            rng = np.random.default_rng(0)
            k = min(n, max(1, round(max_points * n / self.total)))
            self.sample = (np.sort(rng.choice(n, size=k, replace=False)),
                           np.sort(rng.choice(m, size=min(m, max_points - k), replace=False)))

    @functools.cached_property
    def user_counts(self) -> np.ndarray:
        return np.bincount(self.ratings.observed.rows, minlength=self.ratings.n_users)

    @functools.cached_property
    def item_counts(self) -> np.ndarray:
        return np.bincount(self.ratings.observed.cols, minlength=self.ratings.n_items)

    def items_of(self, user: int) -> Pair:
        """The items ``user`` rated: in training, and held out."""
        return self._kept(("user", int(user)), self._items_of)

    def users_of(self, item: int) -> Pair:
        """The users who rated ``item``: in training, and held out."""
        return self._kept(("item", int(item)), self._users_of)

    def _kept(self, key: tuple[str, int], make: Callable[[int], Pair]) -> Pair:
        """What ``make`` gives for ``key``, kept until another user (item) is asked about."""
        got = self._of.get(key)
        if got is None:
            self._of = {k: v for k, v in self._of.items() if k[0] != key[0]}  # one user and one item kept
            got = self._of[key] = make(key[1])
        return got

    def _items_of(self, user: int) -> Pair:
        rows = self.ratings.observed.rows
        s = slice(int(np.searchsorted(rows, user)), int(np.searchsorted(rows, user, side="right")))
        cols = self.ratings.observed.cols[s]
        cells = self.held_out_cells
        held = np.isin(cols, cells[cells[:, 0] == user, 1]) if len(cells) else np.zeros(len(cols), bool)
        return cols[~held], cols[held]

    def _users_of(self, item: int) -> Pair:
        o = self.ratings.observed
        rows = o.rows[np.flatnonzero(o.cols == item)]
        cells = self.held_out_cells
        held = np.isin(rows, cells[cells[:, 1] == item, 0]) if len(cells) else np.zeros(len(rows), bool)
        return rows[~held], rows[held]

    def genre_mask(self, genre: str | None) -> np.ndarray:
        m = self.ratings.n_items
        if genre is None or self.ratings.item_genres is None:
            return np.ones(m, bool)
        if genre not in self._genre_masks:
            self._genre_masks[genre] = np.array([genre in gs for gs in self.ratings.item_genres], bool)
        return self._genre_masks[genre]
