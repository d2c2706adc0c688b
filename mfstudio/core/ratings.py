"""The rating data: a users x items matrix R with missing entries.

Only observed entries are stored, as row-major sorted index arrays, so every cost
grows with the number of ratings and not with users x items: there is no limit on
users x items, only on memory (mfstudio.core.memory.check_ratings, before anything is
allocated). ``to_dense()`` gives the matrix with NaN for "not rated" when a caller needs
the grid, which only data small enough to show whole may ask for (memory.shows_whole).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from mfstudio.core import memory
from mfstudio.core.errors import DataError
from mfstudio.core.keys import increasing, last_of_each
from mfstudio.core.params import HOLDOUT


def check_text(texts: Sequence[str], what: str) -> None:
    """Refuse text that no file can hold: a lone surrogate (half of a UTF-16 pair, such as
    "\\ud800" from a JSON escape or a numpy string), which UTF-8 cannot encode, so saving,
    autosaving or exporting it would fail. Every reader builds its Ratings through here."""
    try:
        "".join(texts).encode("utf-8")
    except UnicodeEncodeError:
        for k, t in enumerate(texts):
            try:
                t.encode("utf-8")
            except UnicodeEncodeError as exc:
                shown = t if len(t) <= 30 else t[:27] + "..."
                raise DataError(
                    f"{what} {k + 1} ({shown!r}) holds a character that cannot be saved (U+{ord(t[exc.start]):04X}, "
                    "a lone surrogate: half of a UTF-16 pair); rename it, or fix the file it came from."
                ) from None


def _labels(given: Sequence[str] | None, n: int, prefix: str) -> tuple[str, ...]:
    if given is None:
        return tuple(f"{prefix} {i + 1}" for i in range(n))
    labels = tuple(str(x) for x in given)
    if len(labels) != n:
        who = prefix.lower()
        raise DataError(f"Got {len(labels)} {who} labels for {n} {who}s; give one label per {who}.")
    check_text(labels, f"{prefix} label")
    return labels


def _genres(given: Sequence[Sequence[str]] | None, n: int) -> tuple[tuple[str, ...], ...] | None:
    if given is None:
        return None
    if isinstance(given, (str, bytes)) or any(isinstance(g, (str, bytes)) for g in given):
        raise DataError("Item genres must be one list of genre names per item, not a string.")
    out = tuple(tuple(map(str, g)) for g in given)
    if len(out) != n:
        raise DataError(f"Got genres for {len(out)} items but there are {n}; "
                        "give one (possibly empty) list of genres per item.")
    check_text([g for gs in out for g in gs], "Genre name")
    return out


def infer_scale(values: np.ndarray) -> tuple[float, float]:
    """Guess the rating scale from the values: the smallest common scale that holds them."""
    if values.size == 0:
        return (1.0, 5.0)
    lo, hi = float(np.min(values)), float(np.max(values))
    for a, b in ((1.0, 5.0), (0.5, 5.0), (0.0, 5.0), (1.0, 10.0), (0.0, 10.0), (0.0, 1.0), (-1.0, 1.0)):
        if a <= lo and hi <= b:
            return (a, b)
    return (float(math.floor(lo)), float(math.ceil(hi)))


PREFERENCE_SCALE = (0.0, 1.0)  # the range of a preference p = [r > 0]: what a model of counts of events predicts


def display_scale(ratings: Ratings, solver: str | None = None) -> tuple[float, float]:
    """The one range predictions are shown (clipped) on, in R-hat, Why this number?, recommendations and fold-ins:
    the rating scale for ratings; for counts of events :data:`PREFERENCE_SCALE`, since the model of them
    (implicit-als) predicts preferences 0 to 1, not counts (the count scale, 0 to the largest count, is the
    data's, for entering and drawing counts). Given the ``solver`` whose model is shown, the model decides: a
    model of preferences (implicit-als) is shown 0 to 1 on any data, a model of values (als, sgd, ...) on the
    data's own scale, counts too."""
    from mfstudio.core.solvers import SOLVERS  # solvers -> ratings

    preferences = ratings.implicit if solver not in SOLVERS else SOLVERS[solver].implicit
    return PREFERENCE_SCALE if preferences else ratings.scale


def count_scale(counts: np.ndarray) -> tuple[float, float]:
    """The scale of counts of events (implicit data): 0 (no interaction) up to the largest count."""
    top = float(np.max(counts)) if np.size(counts) else 0.0
    return (0.0, top if math.isfinite(top) and top > 0 else 1.0)


def sum_cells(rows: np.ndarray, cols: np.ndarray, counts: np.ndarray,
              n_items: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """The rule for counts of events (implicit data): every repeated (row, col) cell summed into one.

    Gives rows, columns and summed counts in cell order (row-major), and how many repeats were
    folded in (entries beyond one per cell). Ratings keep their own rule instead: the last one wins."""
    r = np.asarray(rows, dtype=np.int64)
    c = np.asarray(cols, dtype=np.int64)
    v = np.asarray(counts, dtype=np.float64)
    n = max(int(n_items), 1)
    keys = r * n + c
    if increasing(keys):  # no cell twice (and in order): nothing to add up
        return r.copy(), c.copy(), v.copy(), 0
    cells, where = np.unique(keys, return_inverse=True)
    sums = np.bincount(where.ravel(), weights=v, minlength=cells.size) if cells.size else np.zeros(0)
    return cells // n, cells % n, sums, int(r.size - cells.size)


def first_bad_count(counts: np.ndarray) -> int | None:
    """The position of the first count of events that is not a finite number of at least 0, or None."""
    bad = ~(np.isfinite(counts) & (counts >= 0))
    return int(np.argmax(bad)) if bad.any() else None


@dataclass(frozen=True)
class Observed:
    """A set of observed entries: parallel arrays of row, column and value."""

    rows: np.ndarray
    cols: np.ndarray
    vals: np.ndarray

    def __len__(self) -> int:
        return int(self.vals.shape[0])


class Ratings:
    """Ratings R (users x items) with labels and a rating scale; NaN = not rated."""

    def __init__(
        self,
        rows: Iterable[int] | np.ndarray,
        cols: Iterable[int] | np.ndarray,
        vals: Iterable[float] | np.ndarray,
        shape: tuple[int, int],
        users: Sequence[str] | None = None,
        items: Sequence[str] | None = None,
        scale: tuple[float, float] | None = None,
        item_genres: Sequence[Sequence[str]] | None = None,
        *,
        implicit: bool = False,
    ) -> None:
        """``implicit``: the values are counts of events (plays, clicks, purchases), not ratings: every
        user x item cell counts, an observed one as an interaction of that strength (see the
        ``implicit-als`` solver), and validation is by ranking (every held-out interaction is relevant)."""
        n_users, n_items = int(shape[0]), int(shape[1])
        if n_users < 0 or n_items < 0:
            raise DataError("The rating matrix cannot have a negative size.")
        memory.check_ratings(n_users, n_items, int(np.size(vals)))
        r = np.asarray(rows, dtype=np.int64).ravel()
        c = np.asarray(cols, dtype=np.int64).ravel()
        v = np.asarray(vals, dtype=np.float64).ravel() + 0.0  # a copy, and -0 is 0 whoever read it
        if not (r.shape == c.shape == v.shape):
            raise DataError("Rows, columns and values of the ratings must have the same length.")
        if r.size:
            if r.min() < 0 or r.max() >= n_users or c.min() < 0 or c.max() >= n_items:
                raise DataError("A rating lies outside the matrix; check the user and item indices.")
            if not np.all(np.isfinite(v)):
                raise DataError("A rating is NaN or infinite; every rating must be a finite number.")
            key = r * max(n_items, 1) + c
            if not np.all(key[1:] > key[:-1]):  # already sorted and distinct (readers, sessions) skips the sort
                order = np.argsort(key, kind="stable")
                r, c, v, key = r[order], c[order], v[order], key[order]
                if np.any(key[1:] == key[:-1]):
                    raise DataError("The same (user, item) cell is rated twice; keep one rating per cell.")
        for a in (r, c, v):
            a.setflags(write=False)
        self._obs = Observed(r, c, v)
        self.shape: tuple[int, int] = (n_users, n_items)
        self.users: tuple[str, ...] = _labels(users, n_users, "User")
        self.items: tuple[str, ...] = _labels(items, n_items, "Item")
        # the genres of each item (MovieLens), in item order; None when the data has none
        self.item_genres: tuple[tuple[str, ...], ...] | None = _genres(item_genres, n_items)
        if scale is None:
            scale = infer_scale(v)
        lo, hi = float(scale[0]), float(scale[1])
        if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
            raise DataError(f"The rating scale {lo:g} to {hi:g} is not valid; give a minimum below the maximum.")
        self.scale: tuple[float, float] = (lo, hi)
        self.implicit: bool = bool(implicit)  # counts/events, not ratings

    # -- construction -------------------------------------------------------------
    @classmethod
    def from_dense(
        cls,
        R: Sequence[Sequence[float]] | np.ndarray,
        *,
        zeros_are_missing: bool = True,
        users: Sequence[str] | None = None,
        items: Sequence[str] | None = None,
        scale: tuple[float, float] | None = None,
    ) -> Ratings:
        """Ratings from a full matrix; NaN is "not rated", and so is 0 when ``zeros_are_missing``."""
        try:
            A = np.array(R, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise DataError("The rating matrix must hold numbers in rows of equal length.") from exc
        if A.ndim != 2:
            raise DataError("The rating matrix must be two-dimensional (users x items).")
        if np.any(np.isinf(A)):
            raise DataError("The rating matrix holds an infinite value; every rating must be a finite number.")
        mask = ~np.isnan(A)
        if zeros_are_missing:
            mask &= A != 0
        rows, cols = np.nonzero(mask)
        return cls(rows, cols, A[rows, cols], A.shape, users=users, items=items, scale=scale)

    @classmethod
    def from_triples(
        cls,
        users: Sequence[object],
        items: Sequence[object],
        ratings: Sequence[float] | np.ndarray,
        *,
        scale: tuple[float, float] | None = None,
        implicit: bool = False,
    ) -> tuple[Ratings, int]:
        """Ratings from (user, item, rating) triples with any labels.

        Labels come in natural order (see :func:`factorize_labels`): numeric ids
        sorted as numbers, other labels in order of first appearance. When a cell is
        rated more than once the last rating wins; the number of such duplicates is returned.

        With ``implicit`` the third column holds counts of events (plays, clicks): a cell listed
        more than once gets the sum of its counts (:func:`sum_cells`), a cell whose count is 0 is no
        interaction and is left out, and the scale is 0 to the largest count unless ``scale`` is given.
        """
        u = [str(x) for x in users]
        i = [str(x) for x in items]
        try:
            v = np.asarray(ratings, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise DataError("Every rating must be a number.") from exc
        if not (len(u) == len(i) == len(v)):
            raise DataError("Users, items and ratings must have the same length.")
        ulab, uidx = factorize_labels(u)
        ilab, iidx = factorize_labels(i)
        n_items = max(len(ilab), 1)
        if implicit:
            bad = first_bad_count(v)
            if bad is not None:
                raise DataError(f"Count {bad + 1} is {v[bad]:g}; a count of events must be a number of at least 0.")
            rows, cols, sums, repeats = sum_cells(uidx, iidx, v, n_items)
            keep = sums != 0
            sc = scale if scale is not None else count_scale(sums[keep])
            return cls(rows[keep], cols[keep], sums[keep], (len(ulab), len(ilab)), ulab, ilab, sc,
                       implicit=True), repeats
        key = uidx * n_items + iidx
        # last one wins: take the last occurrence of each key
        keep = last_of_each(key)
        dups = len(key) - len(keep)
        return cls(uidx[keep], iidx[keep], v[keep], (len(ulab), len(ilab)), ulab, ilab, scale), int(dups)

    @classmethod
    def from_events(cls, users: Sequence[object], items: Sequence[object]) -> tuple[Ratings, int]:
        """Implicit data from events, one (user, item) pair per play, click or purchase: each cell
        holds how often its pair occurs. Also gives the number of repeats summed in."""
        return cls.from_triples(users, items, np.ones(len(users)), implicit=True)

    # -- views --------------------------------------------------------------------
    @property
    def observed(self) -> Observed:
        return self._obs

    @property
    def n_users(self) -> int:
        return self.shape[0]

    @property
    def n_items(self) -> int:
        return self.shape[1]

    @property
    def nnz(self) -> int:
        return len(self._obs)

    def to_dense(self) -> np.ndarray:
        """The matrix with NaN where there is no rating."""
        A = np.full(self.shape, np.nan)
        A[self._obs.rows, self._obs.cols] = self._obs.vals
        return A

    def out_of_scale(self) -> int:
        """How many ratings lie outside the scale."""
        lo, hi = self.scale
        v = self._obs.vals
        return int(np.count_nonzero((v < lo) | (v > hi)))

    def with_scale(self, scale: tuple[float, float]) -> Ratings:
        o = self._obs
        return Ratings(o.rows, o.cols, o.vals, self.shape, self.users, self.items, scale, self.item_genres,
                       implicit=self.implicit)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Ratings):
            return NotImplemented
        a, b = self._obs, other._obs
        return (
            self.shape == other.shape
            and self.users == other.users
            and self.items == other.items
            and self.scale == other.scale
            and self.item_genres == other.item_genres
            and self.implicit == other.implicit
            and np.array_equal(a.rows, b.rows)
            and np.array_equal(a.cols, b.cols)
            and np.array_equal(a.vals, b.vals)
        )

    def __repr__(self) -> str:
        lo, hi = self.scale
        kind = "interactions" if self.implicit else "ratings"
        return f"Ratings({self.n_users} users x {self.n_items} items, {self.nnz} {kind}, scale {lo:g}-{hi:g})"

    # -- hold-out -----------------------------------------------------------------
    def split(self, holdout: float, seed: int = 0) -> Split:
        """Set aside the share ``holdout`` of the observed ratings for validation, reproducibly from ``seed``."""
        if not (math.isfinite(holdout) and HOLDOUT.contains(holdout)):
            raise DataError(f"The hold-out share must be at least 0 and below 1, not {holdout:g}.")
        n = self.nnz
        n_val = int(round(holdout * n))
        if holdout > 0 and n_val == 0 and n > 1:
            n_val = 1
        if n_val >= n and n > 0:
            raise DataError("The hold-out share leaves no rating to train on; use a smaller share.")
        flags = np.zeros(n, dtype=bool)
        if n_val:
            rng = np.random.default_rng(seed)
            flags[rng.choice(n, size=n_val, replace=False)] = True
        return self.split_flags(flags)

    def split_flags(self, held_out_flags: np.ndarray) -> Split:
        """Split by one flag per observed rating (True = held out)."""
        m = np.asarray(held_out_flags, dtype=bool)
        if m.shape != (self.nnz,):
            raise DataError("The held-out flags must be one per observed rating.")
        o = self._obs
        if m.any():
            train = Observed(o.rows[~m], o.cols[~m], o.vals[~m])
            val = Observed(o.rows[m], o.cols[m], o.vals[m])
        else:  # nothing held out: the (read-only) entries themselves, not a copy of millions of them
            train, val = o, Observed(o.rows[:0], o.cols[:0], o.vals[:0])
        u_cnt = np.bincount(train.rows, minlength=self.n_users)
        i_cnt = np.bincount(train.cols, minlength=self.n_items)
        u_all = np.bincount(o.rows, minlength=self.n_users)
        i_all = np.bincount(o.cols, minlength=self.n_items)
        return Split(
            train=train,
            val=val,
            held_out_flags=m,
            users_without_training=np.flatnonzero((u_cnt == 0) & (u_all > 0)),
            items_without_training=np.flatnonzero((i_cnt == 0) & (i_all > 0)),
        )

    def split_cells(self, held_out_cells: Iterable[tuple[int, int]] | np.ndarray) -> Split:
        """Split holding out the given (row, col) cells; cells without a rating are ignored.

        The cells must lie inside the matrix (:meth:`check_cells`): one outside would name another cell.
        """
        o = self._obs
        cells = self.check_cells(held_out_cells)
        key = o.rows * max(self.n_items, 1) + o.cols  # sorted and distinct (the entries' order)
        want = cells[:, 0] * max(self.n_items, 1) + cells[:, 1]
        flags = np.zeros(len(key), dtype=bool)
        if len(key) and len(want):  # a search per cell: np.isin sorts both sides (16 s at 25 M ratings)
            at = np.minimum(np.searchsorted(key, want), len(key) - 1)
            flags[at[key[at] == want]] = True
        return self.split_flags(flags)

    def check_cells(self, cells: Iterable[tuple[int, int]] | np.ndarray) -> np.ndarray:
        """``cells`` as a (k, 2) int64 array of (row, col), or a DataError if one lies outside the matrix."""
        try:
            a = np.asarray(cells if isinstance(cells, np.ndarray) else list(cells))
            if a.size and not np.issubdtype(a.dtype, np.integer):
                raise TypeError
            a = a.astype(np.int64).reshape(-1, 2)
        except (TypeError, ValueError, OverflowError):
            raise DataError("The held-out cells must be (row, column) pairs of whole numbers.") from None
        if a.size and (a.min() < 0 or a[:, 0].max() >= self.n_users or a[:, 1].max() >= self.n_items):
            raise DataError(f"A held-out cell lies outside the {self.n_users:,} x {self.n_items:,} ratings.")
        return a

    def no_split(self) -> Split:
        return self.split_flags(np.zeros(self.nnz, dtype=bool))


@dataclass(frozen=True)
class Split:
    """Training and validation entries of one hold-out split."""

    train: Observed
    val: Observed
    held_out_flags: np.ndarray  # bool per observed rating of the Ratings, True = validation
    users_without_training: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    items_without_training: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))

    @property
    def warnings(self) -> list[str]:
        out = []
        if len(self.users_without_training):
            out.append(f"{len(self.users_without_training)} user(s) have all their ratings held out, "
                       "so the model cannot learn them.")
        if len(self.items_without_training):
            out.append(f"{len(self.items_without_training)} item(s) have all their ratings held out, "
                       "so the model cannot learn them.")
        return out


_INTEGER = re.compile(r"[+-]?[0-9]+")


def natural_order(labels: Sequence[str]) -> list[int]:
    """The order to show distinct ``labels`` in: by value when every one is a whole number
    (1, 2, 10, not 1, 10, 2), else as given. Equal numbers ("7", "07") keep their order."""
    if labels and all(_INTEGER.fullmatch(lab) for lab in labels):
        return sorted(range(len(labels)), key=lambda k: int(labels[k]))
    return list(range(len(labels)))


def factorize_labels(labels: Sequence[str]) -> tuple[list[str], np.ndarray]:
    """Distinct labels in natural order (:func:`natural_order`) and each entry's index among them.

    dict.fromkeys finds them in order of first appearance at C speed (about 0.1 s per
    million labels); only the distinct labels are then sorted.
    """
    first = list(dict.fromkeys(labels))
    order = natural_order(first)
    uniq = [first[k] for k in order]
    index = {lab: k for k, lab in enumerate(uniq)}
    idx = np.fromiter(map(index.__getitem__, labels), dtype=np.int64, count=len(labels))
    return uniq, idx
