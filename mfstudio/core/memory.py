"""Memory a run or an export will need, estimated before anything is allocated.

Numbers the user controls (K, the data's users and items) decide the size of the
factors, and exports of R_hat are users x items; a request that cannot fit is refused
with a sentence giving the figure and what to change, instead of a MemoryError (or
the machine swapping) halfway through.

There is no limit on users x items as such: ratings are stored as their observed entries,
and nothing builds a users x items array unless the data is small enough to show whole
(:func:`shows_whole`, at most SHOW_WHOLE_MAX_CELLS cells), or the user asks for one
(``mfstudio train --dense``), after :func:`check_dense_export`.
"""

from __future__ import annotations

import os

from mfstudio.core.errors import DataError

FLOAT = 8  # bytes per float64
FACTOR_COPIES = 6  # the random draws, the kernels' layout, a snapshot, the result, the best state, the GUI's copy
ENTRY_BYTES = 24 * 3  # row, column and value of each rating, in about three arrangements (sorted, split, shuffled)
DENSE_EXPORT_BYTES = FLOAT * 3 + 16  # R and R_hat in results.npz, one row at a time of text, per users x items cell
USABLE_SHARE = 0.8  # leave the rest for the program, the window and the system
SHOW_WHOLE_MAX_CELLS = 2_000_000  # data up to this many users x items cells is small enough to build whole
LABEL_BYTES = 80  # one user or item label: the str object, its slot in the tuple, its dict entry while read
RATINGS_ENTRY_BYTES = 24 * 2  # row, column and value of each rating, and a copy while they are checked and sorted
CHECK_ABOVE = 64 * 10**6  # requests smaller than this are not checked (reading /proc/meminfo is not free)


def shows_whole(n_users: int, n_items: int) -> bool:
    """True when users x items is small enough to build as one array (R, R_hat, a grid): the one
    rule for when anything may be dense. Larger data stays as its entries, and R_hat is computed
    where it is needed (a block of users, one row, the cells asked for)."""
    return int(n_users) * int(n_items) <= SHOW_WHOLE_MAX_CELLS


def available_bytes() -> int:
    """Memory this process can still take: MemAvailable on Linux, else physical memory."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_PHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return 1 << 62  # unknown: do not refuse


def usable_bytes(available: int | None = None) -> int:
    """The memory one request may take: USABLE_SHARE of ``available`` (default: what the system says now)."""
    return _usable(available)


def _usable(available: int | None) -> int:
    """The share of ``available`` (default: what the system says now) a request may take."""
    return int(USABLE_SHARE * (available_bytes() if available is None else available))


def human(n_bytes: float) -> str:
    """A size as people say it: 950 MB, 24 GB."""
    for unit, size in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n_bytes >= size:
            value = n_bytes / size
            return f"{value:.0f} {unit}" if value >= 10 else f"{value:.1f} {unit}"
    return f"{int(n_bytes)} bytes"


def run_bytes(n_users: int, n_items: int, nnz: int, K: int, biases: bool = False) -> int:
    """About how much memory training K features on this data takes at its peak."""
    factors = FLOAT * int(K) * (int(n_users) + int(n_items)) + (FLOAT * (n_users + n_items) if biases else 0)
    return FACTOR_COPIES * factors + ENTRY_BYTES * int(nnz)


def check_run(n_users: int, n_items: int, nnz: int, K: int, biases: bool = False,
              available: int | None = None) -> None:
    """Refuse, with a sentence, a run that would not fit in memory."""
    need = run_bytes(n_users, n_items, nnz, K, biases)
    have = _usable(available)
    if need <= have:
        return
    per_k = FACTOR_COPIES * FLOAT * (n_users + n_items)
    k_max = max(0, (have - ENTRY_BYTES * nnz) // per_k) if per_k else 0
    fix = f"use K = {k_max:,} or less" if k_max >= 1 else "use a smaller data set"
    raise DataError(
        f"Training K = {K:,} latent features for {n_users:,} users and {n_items:,} items needs about {human(need)} "
        f"of memory, more than the {human(have)} available; {fix}, or train on fewer users and items."
    )


def ratings_bytes(n_users: int, n_items: int, nnz: int) -> int:
    """About how much memory ratings of this size take: their entries and labels (never users x items)."""
    return RATINGS_ENTRY_BYTES * int(nnz) + LABEL_BYTES * (int(n_users) + int(n_items))


def check_ratings(n_users: int, n_items: int, nnz: int, available: int | None = None) -> None:
    """Refuse, with a sentence, ratings whose entries and labels would not fit in memory."""
    need = ratings_bytes(n_users, n_items, nnz)
    if need < CHECK_ABOVE:
        return
    have = _usable(available)
    if need > have:
        raise DataError(
            f"Ratings of {n_users:,} users x {n_items:,} items ({nnz:,} ratings) need about {human(need)} of "
            f"memory, more than the {human(have)} available; use a smaller data set."
        )


def dense_memory_bytes(n_users: int, n_items: int) -> int:
    """About how much memory an export of R_hat (users x items) takes while it is written."""
    return DENSE_EXPORT_BYTES * int(n_users) * int(n_items)


def check_dense_export(n_users: int, n_items: int, available: int | None = None,
                       advice: str = "export P, Q and the recommendations on their own instead") -> None:
    """Refuse, with a sentence, exports of R_hat (users x items) that would not fit in memory."""
    need = dense_memory_bytes(n_users, n_items)
    have = _usable(available)
    if need > have:
        raise DataError(
            f"Exporting R_hat for {n_users:,} users x {n_items:,} items needs about {human(need)} of memory, "
            f"more than the {human(have)} available; {advice}."
        )


GRID_ENTRY_BYTES = 64  # per rating in the window's grid: key, value and flag, an undo copy, the Ratings made of it
GRID_MAX_SIDE = 2**31 - 1  # users (or items) in the window's grid: Qt counts rows and columns in int
EDIT_BLOCK_MAX_CELLS = 10_000_000  # cells copied, filled or pasted at once in the grid (a dense block of them)


def grid_bytes(n_users: int, n_items: int, nnz: int) -> int:
    """About how much memory the window's grid of this size takes: its labels and rated cells (never
    users x items: an empty 100,000 x 100,000 grid is its 200,000 labels)."""
    return GRID_ENTRY_BYTES * int(nnz) + LABEL_BYTES * (int(n_users) + int(n_items))


def check_grid(n_users: int, n_items: int, nnz: int, available: int | None = None) -> None:
    """Refuse, with a sentence, a grid for the window whose labels and ratings would not fit in memory."""
    if max(int(n_users), int(n_items)) > GRID_MAX_SIDE:
        raise DataError(f"The grid can have at most {GRID_MAX_SIDE:,} users and as many items; "
                        f"{int(n_users):,} x {int(n_items):,} is too large.")
    need = grid_bytes(n_users, n_items, nnz)
    have = _usable(available)
    if need > have:
        raise DataError(
            f"Showing {int(n_users):,} users x {int(n_items):,} items with {int(nnz):,} ratings in the grid needs "
            f"about {human(need)} of memory, more than the {human(have)} available; use fewer users and items, "
            "or train it with `mfstudio train` instead."
        )


def check_block(n_rows: int, n_cols: int) -> None:
    """Refuse, with a sentence, a block of cells too large to copy, fill or paste at once."""
    cells = max(int(n_rows), 0) * max(int(n_cols), 0)
    if cells > EDIT_BLOCK_MAX_CELLS:
        raise DataError(
            f"{int(n_rows):,} x {int(n_cols):,} cells ({cells:,}) are too many to copy, fill or paste at once "
            f"(at most {EDIT_BLOCK_MAX_CELLS:,}); select a smaller block."
        )


def check_dense_script(solver: str, n_users: int, n_items: int) -> None:
    """Refuse, in a sentence, a reproducing script that could not run in bounded memory and time: sgd's is the
    notebook's code, which holds R as a users x items matrix and walks every cell at every step."""
    if solver == "sgd" and not shows_whole(n_users, n_items):
        raise DataError(
            f"The sgd script is the notebook's code, which keeps R as a {n_users:,} x {n_items:,} matrix and walks "
            f"all {n_users * n_items:,} cells at every step; for data this size write the script of biased-sgd, "
            "als or nmf instead (they walk the ratings only).")
