"""A standalone Python script that reproduces a training run: numpy only, never MF Studio.

The script holds the training ratings as (row, column, rating) triples, the labels and
the shape, the start factors written in full (``repr`` of each float, so they read back
bit for bit), the parameters, the number of steps and the solver's update rule in plain
Python and numpy. ``python reproduce.py`` prints the final P and Q and writes them (and
the biases of biased-sgd) to ``reproduced.npz`` in the current folder; they equal MF
Studio's results for that run to 1e-9.

``script_for(training)`` gives the text for a :class:`~mfstudio.core.training.Training`,
``write_script(path, training)`` writes it atomically.
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

import mfstudio
from mfstudio.core.memory import check_dense_script
from mfstudio.core.ratings import Observed, Ratings
from mfstudio.core.solvers import Factors, get_solver
from mfstudio.core.solvers._sgd_blocks import STREAMS, grid_side
from mfstudio.io.atomic import atomic_write
from mfstudio.io.script_implicit import IMPLICIT_ALS

if TYPE_CHECKING:
    from mfstudio.core.training import Training

SCRIPT_NAME = "reproduce.py"  # the name the command line's help and the window suggest
OUTPUT_NAME = "reproduced.npz"  # what the script writes, in the folder it is run from
WIDTH = 100  # the script's lines wrap at about this many characters


# -- public ---------------------------------------------------------------------------------
def reproduce_script(ratings: Ratings, train: Observed, solver: str, params: Mapping[str, Any],
                     start: Factors, steps: int) -> str:
    """The text of a script that replays ``steps`` steps of ``solver`` on ``train`` from ``start``.

    ``ratings`` gives the shape and the labels, ``train`` the ratings trained on (in the
    order the solver got them: row-major, as a split makes them), ``params`` the solver's
    parameters (defaults filled in) and ``start`` the factors the run started from.
    """
    check_dense_script(solver, *ratings.shape)
    cls = get_solver(solver)
    p = cls.resolve_params(params)
    n, m = ratings.shape
    P, Q = np.asarray(start.P, dtype=np.float64), np.asarray(start.Q, dtype=np.float64)
    K = P.shape[1] if P.ndim == 2 else -1
    if P.shape != (n, K) or Q.shape != (K, m):
        raise ValueError(f"The start factors do not fit the {n} x {m} ratings.")
    if int(steps) < 0:
        raise ValueError("The number of steps cannot be negative.")
    rows, cols, vals = (np.asarray(a) for a in (train.rows, train.cols, train.vals))
    key = rows.astype(np.int64) * max(m, 1) + cols
    if solver == "sgd" and not np.all(key[1:] > key[:-1]):
        raise ValueError("The notebook's loop visits the training ratings row by row; give them in row-major order.")
    triples = [(int(r), int(c), float(v)) for r, c, v in zip(rows, cols, vals)]
    parts = [
        _header(solver, cls.title, ratings, len(triples), int(steps)),
        _data(ratings, triples),
        _start(start, P, Q, cls.uses_biases),
        _params(solver, p, K, int(steps), grid_side(n, m, len(triples), K)),
        _CODE[solver],
        _SHOW,
        _MAIN[solver],
    ]
    return "\n\n\n".join(part.strip("\n") for part in parts) + "\n"


def script_for(training: Training) -> str:
    """The reproducing script of ``training``: its start factors, parameters and the steps it has made."""
    return reproduce_script(training.ratings, training.split.train, training.solver_name, training.params,
                            training.start_factors, training.solver.steps_done)


def write_script(path: str | os.PathLike[str], training: Training) -> Path:
    """Write :func:`script_for` ``training`` to ``path`` atomically; FileFormatError if that fails."""
    atomic_write(path, script_for(training))
    return Path(path)


# -- the parts of the script ----------------------------------------------------------------
def _num(x: float) -> str:
    """A float in full: the shortest text that reads back as the same double."""
    return repr(float(x))


def _wrap(items: Iterable[str], indent: str = "    ", width: int = WIDTH) -> list[str]:
    """``items`` joined by ", " into lines of about ``width`` characters, each ending in a comma."""
    lines: list[str] = []
    line = ""
    for item in items:
        if line and len(indent) + len(line) + len(item) + 2 > width:
            lines.append(indent + line.rstrip())
            line = ""
        line += item + ", "
    if line:
        lines.append(indent + line.rstrip())
    return lines


def _list(name: str, items: list[str], comment: str = "") -> str:
    head = f"{name} = [" + (f"  # {comment}" if comment else "")
    return "\n".join([head, *_wrap(items), "]"])


def _matrix(name: str, a: np.ndarray, comment: str) -> str:
    """``name = np.array([...])`` with one line (or more, wrapped) per row of the 2-D array ``a``."""
    lines = [f"{name} = np.array([  # {comment}"]
    for row in a:
        body = _wrap([_num(x) for x in row], indent="        ")
        if len(body) == 1:
            lines.append(f"    [{body[0].strip().rstrip(',')}],")
        else:
            lines += ["    [", *body, "    ],"]
    lines.append("])")
    return "\n".join(lines)


def _header(solver: str, title: str, ratings: Ratings, n_train: int, steps: int) -> str:
    n, m = ratings.shape
    held = ratings.nnz - n_train
    biases = " (with the user and item biases and the global mean)" if solver == "biased-sgd" else ""
    paragraphs = [
        f"Reproduce an MF Studio run of {solver}, {title[0].lower()}{title[1:]}: {steps:,} "
        f"step{'' if steps == 1 else 's'} on {n:,} users x {m:,} items.",
        f"Written by MF Studio {mfstudio.__version__}; needs only Python 3 and numpy (it does not use MF Studio). "
        f"Run it with `python {SCRIPT_NAME}`: from the run's start factors it makes the run's steps with the same "
        f"rule, prints the final P and Q and writes them{biases} to {OUTPUT_NAME} in the current folder. They "
        "equal MF Studio's results for the run to 1e-9.",
    ]
    if solver != "sgd":
        paragraphs.append("The update rule is a plain-Python/numpy restatement of MF Studio's compiled loop: slow, "
                          "and exact to 1e-9 for runs of a few hundred steps on small data.")
    paragraphs.append(f"The data are the run's {n_train:,} training ratings" + (
        f"; the {held:,} rating{'' if held == 1 else 's'} held out for validation are left out, as the training "
        "never saw them." if held else "."))
    doc = "\n\n".join(textwrap.fill(text, WIDTH - 4) for text in paragraphs)
    return f'#!/usr/bin/env python3\n"""{doc}\n"""\n\nimport numpy as np'


def _ruler(title: str) -> str:
    """``# -- title -----`` up to the script's width."""
    head = f"# -- {title} "
    return head + "-" * max(WIDTH - len(head), 4)


def _data(ratings: Ratings, triples: list[tuple[int, int, float]]) -> str:
    n, m = ratings.shape
    by_row: list[str] = []
    lines = ["ratings = [  # (row, column, rating), counted from 0: row = user, column = item"]
    for t, (r, c, v) in enumerate(triples):
        by_row.append(f"({r}, {c}, {_num(v)})")
        if t + 1 == len(triples) or triples[t + 1][0] != r:  # one line (or more) per user
            lines += _wrap(by_row)
            by_row = []
    lines.append("]")
    return "\n".join([
        _ruler("the data"),
        f"shape = ({n}, {m})  # users x items",
        _list("users", [repr(u) for u in ratings.users], "row labels"),
        _list("items", [repr(i) for i in ratings.items], "column labels"),
        "\n".join(lines),
    ])


def _start(start: Factors, P: np.ndarray, Q: np.ndarray, biased: bool) -> str:
    parts = [
        _ruler("the start: the factors the run started from"),
        _matrix("P", P, "users x K"),
        _matrix("Q", Q, "K x items"),
    ]
    if biased:
        if start.user_bias is None or start.item_bias is None:
            raise ValueError("A biased-sgd start needs user and item biases.")
        parts += [
            _list("user_bias", [_num(x) for x in np.asarray(start.user_bias)], "one per user"),
            _list("item_bias", [_num(x) for x in np.asarray(start.item_bias)], "one per item"),
            f"global_mean = {_num(start.global_mean)}  # mu: the mean training rating (it does not change)",
        ]
    return "\n".join(parts)


_PARAM_NOTES = {
    "alpha": "learning rate",
    "beta": "regularization",
    "confidence": "c = 1 + confidence |r| on an interaction (1 on an empty cell)",
    "tol": "stop once the objective falls below this",
    "seed": "the random seed",
}


def _params(solver: str, p: Mapping[str, Any], K: int, steps: int, side: int) -> str:
    lines = [_ruler("the parameters"), f"K = {K}  # latent features"]
    budget = int(p["steps"])
    note = "the steps the run made" + ("" if budget == steps else f" (its budget was {budget:,})")
    lines.append(f"steps = {steps}  # {note}")
    for name in ("alpha", "beta", "confidence", "tol"):
        if name in p:
            lines.append(f"{name} = {_num(p[name])}  # {_PARAM_NOTES[name]}")
    if "cg_steps" in p:
        cg = p["cg_steps"]
        note = ("None: each row's system is solved exactly (Cholesky)" if cg is None
                else "conjugate-gradient steps per row and half-step, from the row's current factors "
                     "(at least K: solved exactly)")
        lines.append(f"cg_steps = {cg!r}  # {note}")
    seed_note = ("orders the visits" if solver == "biased-sgd"
                 else "drew the random start above (the steps use no randomness)")
    lines.append(f"seed = {int(p['seed'])}  # the random seed: {seed_note}")
    if solver == "biased-sgd":
        lines.append(f"side = {side}  # users and items fall into this many groups each: side x side blocks")
        lines.append(f"streams = {STREAMS}  # users (items) whose ratings a block takes in turn")
    return "\n".join(lines)


# -- the update rules ------------------------------------------------------------------------------
_SGD = '''
# -- the notebook's gradient descent ---------------------------------------------------------------
def matrix_factorization(R, P, Q, K, steps=5000, alpha=0.0002, beta=0.02, tol=0.001, trained=None):
    """
    R: rating matrix
    P: |U| * K (User features matrix)
    Q: K * |I| (Item features matrix)
    K: latent features
    steps: iterations
    alpha: learning rate
    beta: regularization parameter
    tol: stop once the error e falls below this
    trained: True at the cells to train on"""
    for step in range(steps):
        for i in range(len(R)):
            for j in range(len(R[i])):
                # The notebook tests `if R[i][j] > 0`; here the mask of training cells decides, so a
                # held-out rating is never trained on and a real rating of 0 is.
                if trained[i][j]:
                    # calculate error between Rij and R_hat_ij
                    eij = R[i][j] - np.dot(P[i, :], Q[:, j])

                    for k in range(K):
                        # calculate gradient with alpha and beta parameter (Q's update uses the new P[i][k])
                        P[i][k] = P[i][k] + alpha * (2 * eij * Q[k][j] - beta * P[i][k])
                        Q[k][j] = Q[k][j] + alpha * (2 * eij * P[i][k] - beta * Q[k][j])

        e = 0  # error

        for i in range(len(R)):
            for j in range(len(R[i])):
                if trained[i][j]:
                    e = e + pow(R[i][j] - np.dot(P[i, :], Q[:, j]), 2)
                    for k in range(K):
                        e = e + (beta / 2) * (pow(P[i][k], 2) + pow(Q[k][j], 2))
        # the notebook stops once e < 0.001; MF Studio once e < tol (or e is not a number)
        if not e >= tol:
            break
    return P, Q
'''

_HELPERS = '''
# -- helpers ---------------------------------------------------------------------------------------
def dot(X, u, Y, j):
    """X[u] . Y[j], summed from k = 0 up, as MF Studio sums it."""
    s = 0.0
    for k in range(X.shape[1]):
        s += X[u, k] * Y[j, k]
    return s


def lanes(x, y):
    """x . y in four lanes, as MF Studio sums a row's dots in als and biased-sgd: lane l sums k = l, l+4, ...
    in order, then (lane 0 + lane 1) + (lane 2 + lane 3), then the last K mod 4 terms in order."""
    K = len(x)
    top = K - K % 4
    sums = [0.0, 0.0, 0.0, 0.0]
    for k in range(top):
        sums[k % 4] += x[k] * y[k]
    s = (sums[0] + sums[1]) + (sums[2] + sums[3])
    for k in range(top, K):
        s += x[k] * y[k]
    return s


def counts(ratings, shape):
    """How many training ratings each user and each item has."""
    n_user = [0] * shape[0]
    n_item = [0] * shape[1]
    for u, i, _ in ratings:
        n_user[u] += 1
        n_item[i] += 1
    return n_user, n_item
'''

_GROUPED = '''
def grouped(ratings, shape):
    """Each user's (item, rating) pairs and each item's (user, rating) pairs, in the order given."""
    by_user = [[] for _ in range(shape[0])]
    by_item = [[] for _ in range(shape[1])]
    for u, i, r in ratings:
        by_user[u].append((i, r))
        by_item[i].append((u, r))
    return by_user, by_item


def objective_e(ratings, P, Q, beta):
    """The notebook's e: sum over ratings of (R_ui - P_u . Q_:i)^2 + beta/2 (|P_u|^2 + |Q_:i|^2)."""
    Qt = Q.T
    sse = 0.0
    for u, i, r in ratings:
        d = r - dot(P, u, Qt, i)
        sse += d * d
    n_user, n_item = counts(ratings, (P.shape[0], Q.shape[1]))
    reg = 0.0  # the regularizer summed per user and per item: n_u |P_u|^2 + m_i |Q_:i|^2
    for X, n in ((P, n_user), (Qt, n_item)):
        for u in range(X.shape[0]):
            if n[u]:
                reg += n[u] * dot(X, u, X, u)
    return sse + beta / 2 * reg
'''

_ALS = _HELPERS + '\n' + _GROUPED + '''

# -- alternating least squares ---------------------------------------------------------------------
def cholesky_solve(A, b):
    """Solve A x = b for a symmetric positive definite K x K matrix A (its lower triangle is read).

    Cholesky, A = L L^T, then L y = b and L^T x = y, every sum taken in MF Studio's order (so an
    ill-conditioned A, as beta = 0 gives, solves to the same numbers).
    """
    K = len(b)
    L = [row[:] for row in A]
    inv = [0.0] * K  # 1 / L[j][j]
    for j in range(K):
        d = L[j][j]
        for k in range(j):
            d -= L[j][k] * L[j][k]
        if d <= 0.0:
            d = 1e-300
        d = np.sqrt(d)
        L[j][j] = d
        inv[j] = 1.0 / d
        for i in range(j + 1, K):
            s = L[i][j]
            for k in range(j):
                s -= L[i][k] * L[j][k]
            L[i][j] = s * inv[j]
    x = [0.0] * K
    for i in range(K):  # forward: L y = b
        s = b[i]
        for k in range(i):
            s -= L[i][k] * x[k]
        x[i] = s * inv[i]
    for i in range(K - 1, -1, -1):  # backward: L^T x = y
        s = x[i]
        for k in range(i + 1, K):
            s -= L[k][i] * x[k]
        x[i] = s * inv[i]
    return x


def ridge(Y, rated, beta):
    """The best x for one row with Y fixed: (sum y y^T + beta/2 n I) x = sum r y over its n ratings."""
    K = Y.shape[1]
    n = len(rated)
    if n == 0:
        return [0.0] * K  # no rating: a zero factor
    A = [[0.0] * K for _ in range(K)]  # sum y y^T, lower triangle
    b = [0.0] * K  # sum r y
    for j, r in rated:
        for k in range(K):
            b[k] += r * Y[j, k]
            for m in range(k + 1):
                A[k][m] += Y[j, k] * Y[j, m]
    half_beta = beta / 2
    for k in range(K):
        A[k][k] += half_beta * n
        if half_beta == 0:
            A[k][k] += 1e-12  # keeps A invertible without regularization
    return cholesky_solve(A, b)


def gram_times(Y, rated, v, residual):
    """sum over the row's ratings of y q, where q = y . v, or q = r - y . v when ``residual``."""
    K = Y.shape[1]
    out = [0.0] * K
    for j, r in rated:
        q = lanes(Y[j], v)
        if residual:
            q = r - q
        for k in range(K):
            out[k] += Y[j, k] * q
    return out


def sum_of_squares(v):
    s = 0.0
    for a in v:
        s += a * a
    return s


def conjugate_gradient(Y, rated, x, beta, cg_steps):
    """cg_steps conjugate-gradient steps on the row's system A x = b of ``ridge``, starting from x.

    A is never formed: A p = sum y (y . p) + beta/2 n p. The residual r = b - A x is
    sum y (r - y . x) - beta/2 n x; each step goes along p as far as lowers the row's error most.
    """
    K = Y.shape[1]
    n = len(rated)
    if n == 0:
        return [0.0] * K  # no rating: a zero factor
    lam = beta / 2 * n
    if beta / 2 == 0:
        lam += 1e-12
    x = [float(a) for a in x]
    r = gram_times(Y, rated, x, True)
    for k in range(K):
        r[k] = r[k] - lam * x[k]
    p = r[:]
    rs = sum_of_squares(r)
    for _ in range(cg_steps):
        if not rs > 0.0:  # solved already
            break
        Ap = gram_times(Y, rated, p, False)
        pAp = 0.0
        for k in range(K):
            Ap[k] = Ap[k] + lam * p[k]
            pAp += p[k] * Ap[k]
        if not pAp > 0.0:
            break
        alpha = rs / pAp
        for k in range(K):
            x[k] = x[k] + alpha * p[k]
            r[k] = r[k] - alpha * Ap[k]
        rs_new = sum_of_squares(r)
        ratio = rs_new / rs
        for k in range(K):
            p[k] = r[k] + ratio * p[k]
        rs = rs_new
    return x


def solve(Y, rated, x, beta, cg_steps):
    """The row's new factors: its ridge system solved by CG from x, or exactly when cg_steps is None or
    at least K (CG would reach the exact solution in K steps anyway)."""
    if cg_steps is None or cg_steps >= Y.shape[1]:
        return ridge(Y, rated, beta)
    return conjugate_gradient(Y, rated, x, beta, cg_steps)


def als(ratings, P, Q, steps, beta, tol, cg_steps):
    """Each step solves every user's row of P with Q fixed, then every item's column of Q with P fixed."""
    by_user, by_item = grouped(ratings, (P.shape[0], Q.shape[1]))
    for step in range(steps):
        for u in range(P.shape[0]):
            P[u] = solve(Q.T, by_user[u], P[u], beta, cg_steps)
        for i in range(Q.shape[1]):
            Q[:, i] = solve(P, by_item[i], Q[:, i], beta, cg_steps)
        e = objective_e(ratings, P, Q, beta)
        if not np.isfinite(e) or e < tol:
            break
    return P, Q
'''

_NMF = _HELPERS + '\n' + _GROUPED + '''

# -- non-negative factorization --------------------------------------------------------------------
def multiplicative_update(X, Y, rated, beta):
    """Update each row X[u] with Y fixed; rows without a rating stay as they are.

    X[u, k] <- X[u, k] * max(0, sum r Y[j, k]) / (sum R_hat_uj Y[j, k] + beta/2 n X[u, k] + 1e-12)
    """
    K = X.shape[1]
    for u in range(X.shape[0]):
        n = len(rated[u])
        if n == 0:
            continue
        num = [0.0] * K
        den = [0.0] * K
        for j, r in rated[u]:
            pred = dot(X, u, Y, j)
            for k in range(K):
                num[k] += r * Y[j, k]
                den[k] += pred * Y[j, k]
        for k in range(K):
            nk = num[k]
            if nk < 0.0:
                nk = 0.0
            X[u, k] = X[u, k] * nk / (den[k] + beta / 2 * n * X[u, k] + 1e-12)


def nmf(ratings, P, Q, steps, beta, tol):
    """Each step updates every user's row of P, then every item's column of Q (Q.T is a view of Q)."""
    by_user, by_item = grouped(ratings, (P.shape[0], Q.shape[1]))
    for step in range(steps):
        multiplicative_update(P, Q.T, by_user, beta)
        multiplicative_update(Q.T, P, by_item, beta)
        e = objective_e(ratings, P, Q, beta)
        if not np.isfinite(e) or e < tol:
            break
    return P, Q
'''

_BIASED = _HELPERS + '''

# -- the random visiting order: splitmix64, with Python ints kept to 64 bits -----------------------
MASK64 = 2**64 - 1


def splitmix64(state):
    """The next random 64-bit number; ``state`` is a one-element list holding the generator's state."""
    state[0] = (state[0] + 0x9E3779B97F4A7C15) & MASK64
    z = state[0]
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return z ^ (z >> 31)


def below(state, m):
    """A random whole number from 0 to m - 1: the high 32 bits of a draw times m, shifted down 32 bits."""
    return (((splitmix64(state) >> 32) * m) & MASK64) >> 32


def shuffle(order, state):
    """Fisher-Yates: shuffle the list ``order`` in place."""
    for a in range(len(order) - 1, 0, -1):
        b = below(state, a + 1)
        order[a], order[b] = order[b], order[a]


# -- gradient descent with biases ------------------------------------------------------------------
def groups(counts, side):
    """Each user's (or item's) group: consecutive ones, about equal numbers of ratings per group.
    Number u is in group (ratings of those before u) * side // (all ratings)."""
    total, before, group = sum(counts), 0, []
    for c in counts:
        group.append(min(before * side // max(total, 1), side - 1))
        before += c
    return group


def blocks(ratings, shape, side, seed):
    """The ratings grouped into the side x side grid's blocks, each block's user by user.

    Block (a, b) holds the ratings of user group a on item group b (see groups). Within a block the
    ratings are grouped by user in ascending order (by item when there are more items than users),
    each user's ratings in a seeded shuffle, `streams` users' ratings taken in turn (see in_turn).
    Returns a list, per block number a * side + b, of that block's ratings.
    """
    n_user, n_item = counts(ratings, shape)
    user_group, item_group = groups(n_user, side), groups(n_item, side)
    grid = [[] for _ in range(side * side)]
    for t in np.random.default_rng([seed, 1]).permutation(len(ratings)):  # shuffled, kept within a user's
        u, i, r = ratings[t]
        grid[user_group[u] * side + item_group[i]].append((u, i, r))
    by_user = shape[0] >= shape[1]
    for b, block in enumerate(grid):
        block.sort(key=lambda x: x[0] if by_user else x[1])  # stable: a user's ratings keep their order
        grid[b] = in_turn(block, 0 if by_user else 1)
    return grid


def in_turn(block, key):
    """A block's ratings with `streams` users' (items') ratings taken in turn, as MF Studio stores them.

    The users' runs are dealt in order to `streams` streams: each round, each stream in turn takes the next user
    if its own is used up, then gives its user's next rating (2 streams, runs of 3, 1, 2: a1 b1 a2 c1 a3 c2).
    """
    runs = []
    for x in block:
        if runs and runs[-1][-1][key] == x[key]:
            runs[-1].append(x)
        else:
            runs.append([x])
    runs.reverse()  # taken from the end
    current = [[] for _ in range(streams)]
    out = []
    while len(out) < len(block):
        for w in range(streams):
            if not current[w] and runs:
                current[w] = runs.pop()
            if current[w]:
                out.append(current[w].pop(0))
    return out


def epoch_blocks(side, state):
    """The next epoch's block numbers in visiting order: the grid's rows, columns and diagonals shuffled;
    diagonal d holds (row a, column a + d mod side) for a = 0 .. side-1, so its blocks share no user or
    item (MF Studio runs them on two threads at once, with the same result)."""
    rows, cols, diags = list(range(side)), list(range(side)), list(range(side))
    shuffle(rows, state)
    shuffle(cols, state)
    shuffle(diags, state)
    return [rows[a] * side + cols[(a + d) % side] for d in diags for a in range(side)]


def regularizer(ratings, P, Q, user_bias, item_bias):
    """sum over ratings of b_u^2 + c_i^2 + |P_u|^2 + |Q_:i|^2, summed per user and per item as MF Studio does."""
    n_user, n_item = counts(ratings, (P.shape[0], Q.shape[1]))
    reg = 0.0  # n_u (|P_u|^2 + b_u^2) + m_i (|Q_:i|^2 + c_i^2)
    for X, b, n in ((P, user_bias, n_user), (Q.T, item_bias, n_item)):
        for u in range(X.shape[0]):
            if n[u]:
                reg += n[u] * (dot(X, u, X, u) + b[u] * b[u])
    return reg


def biased_sgd(ratings, P, Q, user_bias, item_bias, mu, steps, alpha, beta, tol, seed):
    """Epochs of SGD on R_hat_ui = mu + b_u + c_i + P_u . Q_:i, in MF Studio's blocked order.

    Each epoch visits the blocks in the order epoch_blocks draws, each block's ratings in their
    order. The objective's error term is each rating's squared error just before its update,
    summed per block, the blocks' sums added in block number order; its regularizer is the
    end of the epoch's.
    """
    K = P.shape[1]
    Qt = Q.T  # items x K, a view of Q
    grid = blocks(ratings, (P.shape[0], Q.shape[1]), side, seed)
    state = [(seed * 2654435761 + 1) & MASK64]
    for step in range(steps):
        sse = [0.0] * len(grid)
        for b in epoch_blocks(side, state):
            for u, i, r in grid[b]:
                err = r - (mu + user_bias[u] + item_bias[i] + lanes(P[u], Qt[i]))
                sse[b] += err * err
                user_bias[u] += alpha * (err - beta * user_bias[u])
                item_bias[i] += alpha * (err - beta * item_bias[i])
                for k in range(K):
                    puk = P[u, k]
                    qik = Q[k, i]
                    P[u, k] += alpha * (err * qik - beta * puk)
                    Q[k, i] += alpha * (err * puk - beta * qik)  # with the old P[u, k]
        total = 0.0
        for x in sse:
            total += x
        e = total + beta * regularizer(ratings, P, Q, user_bias, item_bias)
        if not np.isfinite(e) or e < tol:
            break
    return P, Q, user_bias, item_bias
'''

_CODE = {"sgd": _SGD, "als": _ALS, "nmf": _NMF, "biased-sgd": _BIASED, "implicit-als": IMPLICIT_ALS}

_SHOW = '''
def show(title, X, labels):
    """Print X with one labelled row per line (numpy's summary when there are many rows)."""
    print(title)
    if len(labels) > 50:
        print(X)
        return
    width = max(len(label) for label in labels)
    for label, row in zip(labels, X):
        print(f"  {label:<{width}}  " + "  ".join(f"{x: .6f}" for x in row))
'''

_MAIN_SGD = f'''
if __name__ == "__main__":
    R = np.zeros(shape)
    trained = np.zeros(shape, dtype=bool)
    for i, j, r in ratings:
        R[i][j] = r
        trained[i][j] = True
    nP, nQ = matrix_factorization(R, P, Q, K, steps=steps, alpha=alpha, beta=beta, tol=tol, trained=trained)
    show("P (one row per user):", nP, users)
    show("Q (one column per item, shown as rows):", nQ.T, items)
    np.savez("{OUTPUT_NAME}", P=nP, Q=nQ)
    print("Wrote {OUTPUT_NAME}")
'''


def _main_alternating(fn: str, extra: str = "") -> str:
    return f'''
if __name__ == "__main__":
    nP, nQ = {fn}(ratings, P, Q, steps, beta, tol{extra})
    show("P (one row per user):", nP, users)
    show("Q (one column per item, shown as rows):", nQ.T, items)
    np.savez("{OUTPUT_NAME}", P=nP, Q=nQ)
    print("Wrote {OUTPUT_NAME}")
'''


_MAIN_BIASED = f'''
if __name__ == "__main__":
    b = np.array(user_bias, dtype=float)
    c = np.array(item_bias, dtype=float)
    nP, nQ, b, c = biased_sgd(ratings, P, Q, b, c, global_mean, steps, alpha, beta, tol, seed)
    print("global mean:", global_mean)
    show("P and the user bias (last column), one row per user:", np.column_stack([nP, b]), users)
    show("Q and the item bias (last column), one row per item:", np.column_stack([nQ.T, c]), items)
    np.savez("{OUTPUT_NAME}", P=nP, Q=nQ, user_bias=b, item_bias=c, global_mean=np.float64(global_mean))
    print("Wrote {OUTPUT_NAME}")
'''

_MAIN = {"sgd": _MAIN_SGD, "als": _main_alternating("als", ", cg_steps"), "nmf": _main_alternating("nmf"),
         "biased-sgd": _MAIN_BIASED, "implicit-als": _main_alternating("implicit_als", ", confidence, cg_steps")}
