"""What every solver shares: factors and the solver interface (parameters: mfstudio.core.params).

A solver owns its factors and advances them in chunks of steps through compiled
loops; after each step it records the objective and the training/validation errors.
It knows nothing of threads or widgets: the training driver decides how many steps
to ask for and when to stop.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from mfstudio.core.errors import DataError
from mfstudio.core.params import ParamSpec, resolve
from mfstudio.core.ratings import Observed

PREDICT_CHUNK = 1 << 16  # cells Factors.predict_at gathers at once


@dataclass
class Factors:
    """The model: R_hat = global_mean + user_bias[:, None] + item_bias[None, :] + P @ Q.

    Users (items) in ``cold_users`` (``cold_items``) had no training rating, so their
    factors are only the random start: their predictions fall back to what the model
    does know, ``fallback_mean`` plus the other side's bias when the model has biases.
    """

    P: np.ndarray  # users x K
    Q: np.ndarray  # K x items
    user_bias: np.ndarray | None = None
    item_bias: np.ndarray | None = None
    global_mean: float = 0.0
    cold_users: np.ndarray | None = None  # indices of users without a training rating
    cold_items: np.ndarray | None = None  # indices of items without a training rating
    fallback_mean: float = 0.0  # the training ratings' mean (the global mean with biases)

    def copy(self) -> Factors:
        c = lambda a: None if a is None else a.copy()
        return Factors(self.P.copy(), self.Q.copy(), c(self.user_bias), c(self.item_bias), float(self.global_mean),
                       c(self.cold_users), c(self.cold_items), float(self.fallback_mean))

    @property
    def K(self) -> int:
        return int(self.P.shape[1])

    def check(self, n_users: int, n_items: int) -> None:
        """Raise a DataError unless these factors fit an n_users x n_items matrix and hang together."""
        P, Q = np.asarray(self.P), np.asarray(self.Q)
        if P.ndim != 2 or Q.ndim != 2 or P.shape[0] != n_users or Q.shape[1] != n_items or P.shape[1] != Q.shape[0]:
            raise DataError(f"The factors do not fit the ratings: P must be {n_users} x K and Q K x {n_items}.")
        if not (np.issubdtype(P.dtype, np.floating) and np.issubdtype(Q.dtype, np.floating)):
            raise DataError("The factors P and Q must hold numbers.")
        if (self.user_bias is None) != (self.item_bias is None):
            raise DataError("The results have user biases without item biases (or the other way round); "
                            "a model has both or neither.")
        if self.user_bias is not None:
            ub, ib = np.asarray(self.user_bias), np.asarray(self.item_bias)
            if ub.shape != (n_users,) or ib.shape != (n_items,):
                raise DataError(f"The biases do not fit the ratings: {n_users} user biases and {n_items} item biases "
                                "are needed.")
            if not (np.issubdtype(ub.dtype, np.floating) and np.issubdtype(ib.dtype, np.floating)):
                raise DataError("The biases must be numbers.")
        gm = self.global_mean
        if not isinstance(gm, (float, int, np.floating, np.integer)) or isinstance(gm, bool):
            raise DataError("The global mean must be a number.")

    def with_fallback(self, train: Observed) -> Factors:
        """These factors with the users and items that ``train`` never rates marked cold (in place)."""
        n, m = self.P.shape[0], self.Q.shape[1]
        rated_u = np.bincount(train.rows, minlength=n)[:n] > 0
        rated_i = np.bincount(train.cols, minlength=m)[:m] > 0
        self.cold_users = np.flatnonzero(~rated_u) if not rated_u.all() else None
        self.cold_items = np.flatnonzero(~rated_i) if not rated_i.all() else None
        if self.user_bias is not None:
            self.fallback_mean = float(self.global_mean)
        else:
            self.fallback_mean = float(np.mean(train.vals)) if len(train) else 0.0
        return self

    def is_cold(self, row: int, col: int) -> bool:
        """True when the prediction at (row, col) is the fallback, not the factors'."""
        return bool((self.cold_users is not None and np.any(self.cold_users == row))
                    or (self.cold_items is not None and np.any(self.cold_items == col)))

    def predict_rows(self, start: int, stop: int) -> np.ndarray:
        """R_hat for users ``start`` to ``stop`` (exclusive) and every item."""
        R = self.P[start:stop] @ self.Q
        if self.user_bias is not None:  # in place, in the order of R + mean + user bias + item bias (the same bits)
            R += self.global_mean
            R += self.user_bias[start:stop, None]
            R += self.item_bias[None, :]
        if self.cold_users is not None or self.cold_items is not None:
            ub = np.zeros(stop - start) if self.user_bias is None else self.user_bias[start:stop]
            ib = np.zeros(R.shape[1]) if self.item_bias is None else self.item_bias
            if self.cold_items is not None:
                R[:, self.cold_items] = self.fallback_mean + ub[:, None]
            if self.cold_users is not None:
                cu = self.cold_users[(self.cold_users >= start) & (self.cold_users < stop)] - start
                R[cu, :] = self.fallback_mean + ib[None, :]
                if self.cold_items is not None:
                    R[np.ix_(cu, self.cold_items)] = self.fallback_mean
        return R

    def predict(self) -> np.ndarray:
        """R_hat for every (user, item)."""
        return self.predict_rows(0, self.P.shape[0])

    def predict_at(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """R_hat at the given cells only."""
        # in chunks: P[rows] and Q[:, cols] of 25 M ratings at once would be 8 GB with K = 20
        step = PREDICT_CHUNK
        out = np.concatenate([np.einsum("ij,ji->i", self.P[rows[s:s + step]], self.Q[:, cols[s:s + step]])
                              for s in range(0, len(rows), step)]) if len(rows) else np.zeros(0)
        if self.user_bias is not None:
            out = out + self.global_mean + self.user_bias[rows] + self.item_bias[cols]
        if len(rows) and (self.cold_users is not None or self.cold_items is not None):
            cu = np.isin(rows, self.cold_users) if self.cold_users is not None else np.zeros(len(rows), bool)
            ci = np.isin(cols, self.cold_items) if self.cold_items is not None else np.zeros(len(rows), bool)
            ub = 0.0 if self.user_bias is None else self.user_bias[rows]
            ib = 0.0 if self.item_bias is None else self.item_bias[cols]
            out = np.where(cu & ci, self.fallback_mean,
                           np.where(cu, self.fallback_mean + ib, np.where(ci, self.fallback_mean + ub, out)))
        return out

    def all_finite(self) -> bool:
        arrays = [self.P, self.Q] + [a for a in (self.user_bias, self.item_bias) if a is not None]
        return all(bool(np.all(np.isfinite(a))) for a in arrays) and math.isfinite(self.global_mean)


class Solver(ABC):
    """A factorization method. Subclasses set ``name``, ``title``, ``description``, ``objective_name``, ``params``.

    ``objective_name`` names the objective the solver minimises (its module docstring
    states it); solvers with the same name minimise the same function, so their
    objective curves compare.
    """

    name: ClassVar[str]
    title: ClassVar[str]
    description: ClassVar[str]
    objective_name: ClassVar[str]
    objective_symbol: ClassVar[str] = "e"  # its letter on axes and in the status line: the notebook's e, or F
    params: ClassVar[tuple[ParamSpec, ...]]
    uses_biases: ClassVar[bool] = False
    # True when run() writes each step's training errors as summed during the step (each rating's before its
    # update), not from the factors after it: the end of a run is then scored from the factors it keeps
    errors_in_epoch: ClassVar[bool] = False
    # True for a model of implicit feedback (every user x item cell counts, observed ones as preference 1):
    # its training and validation errors are those of the preferences, its validation is by ranking
    implicit: ClassVar[bool] = False

    def __init__(
        self,
        shape: tuple[int, int],
        train: Observed,
        val: Observed | None = None,
        params: Mapping[str, Any] | None = None,
        init: Factors | None = None,
    ) -> None:
        self.shape = (int(shape[0]), int(shape[1]))
        self.p = self.resolve_params(params or {})
        self.train_set = _contiguous(train)
        self.val_set = _contiguous(val) if val is not None and len(val) else None
        if len(self.train_set) == 0:
            raise DataError("There are no ratings to train on; enter some ratings first.")
        K = int(self.p["K"])
        if init is not None:
            self.factors = self._check_init(init, K)
        else:
            self.factors = self.initial_factors(np.random.default_rng(int(self.p["seed"])), K)
        self.factors = _kernel_layout(self.factors).with_fallback(self.train_set)
        self.cold_val_errors = self._set_aside_cold_validation()
        self.steps_done = 0

    def _set_aside_cold_validation(self) -> tuple[float, float]:
        """Make validation see the fallback predictions of users and items without training ratings.

        With biases, zero factors and biases of cold users and items give the fallback
        (mean + the other side's bias) through the ordinary formula, and no step ever
        changes them. Without biases the fallback is a constant: those validation
        entries are taken out of the kernels' set and their (fixed) squared and
        absolute errors returned, for the training driver to add to every step's.
        """
        f, v = self.factors, self.val_set
        if f.cold_users is None and f.cold_items is None:
            return (0.0, 0.0)
        if self.uses_biases:
            if f.cold_users is not None:
                f.P[f.cold_users] = 0.0
                f.user_bias[f.cold_users] = 0.0
            if f.cold_items is not None:
                f.Q[:, f.cold_items] = 0.0
                f.item_bias[f.cold_items] = 0.0
            return (0.0, 0.0)
        if v is None:
            return (0.0, 0.0)
        cold = np.zeros(len(v), dtype=bool)
        if f.cold_users is not None:
            cold |= np.isin(v.rows, f.cold_users)
        if f.cold_items is not None:
            cold |= np.isin(v.cols, f.cold_items)
        if not cold.any():
            return (0.0, 0.0)
        d = v.vals[cold] - f.fallback_mean
        warm = Observed(v.rows[~cold], v.cols[~cold], v.vals[~cold])
        self.val_set = _contiguous(warm) if len(warm) else None
        return (float(np.sum(d * d)), float(np.sum(np.abs(d))))

    def val_or_empty(self) -> Observed:
        return self.val_set if self.val_set is not None else empty_observed()

    @classmethod
    def resolve_params(cls, given: Mapping[str, Any]) -> dict[str, Any]:
        """Defaults filled in, every value checked; unknown names are refused."""
        return resolve(cls.params, given, f"The {cls.name} solver")

    @classmethod
    def defaults(cls) -> dict[str, Any]:
        return {s.name: s.default for s in cls.params}

    def _check_init(self, init: Factors, K: int) -> Factors:
        n, m = self.shape
        P = np.array(init.P, dtype=np.float64)
        Q = np.array(init.Q, dtype=np.float64)
        if P.shape != (n, K) or Q.shape != (K, m):
            got_p = f"{P.shape[0]} x {P.shape[1] if P.ndim > 1 else 1}"
            got_q = f"{Q.shape[0]} x {Q.shape[1] if Q.ndim > 1 else 1}"
            raise DataError(f"The starting factors must be P {n} x {K} and Q {K} x {m}; got P {got_p} and Q {got_q}.")
        f = Factors(np.ascontiguousarray(P), np.ascontiguousarray(Q))
        if self.uses_biases:
            f.user_bias = _bias(init.user_bias, n, "user")
            f.item_bias = _bias(init.item_bias, m, "item")
            try:
                f.global_mean = float(np.asarray(init.global_mean, dtype=np.float64).reshape(()))
            except (TypeError, ValueError):
                raise DataError("The starting global mean must be a single number.") from None
            if init.user_bias is None and init.item_bias is None:
                f.global_mean = float(np.mean(self.train_set.vals))
        if not f.all_finite():
            raise DataError("The starting factors hold NaN or infinite values; give finite numbers.")
        return f

    def get_state(self) -> Any:
        """A copy of everything a step changes, for :meth:`set_state`."""
        return self.factors.copy()

    def set_state(self, state: Any) -> None:
        f = self.factors
        for name in ("P", "Q", "user_bias", "item_bias"):
            dst, src = getattr(f, name), getattr(state, name)
            if dst is not None:
                dst[...] = src
        f.global_mean = state.global_mean

    @abstractmethod
    def initial_factors(self, rng: np.random.Generator, K: int) -> Factors:
        """Random starting factors drawn from ``rng``."""

    @abstractmethod
    def run(self, n_steps: int, out: np.ndarray) -> int:
        """Advance up to ``n_steps`` steps; after each step write one row of ``out``.

        ``out`` has shape (n_steps, 5): objective, train SSE, train SAE, val SSE, val SAE.
        Returns how many steps were done: fewer than asked when the objective fell
        below ``tol`` or became non-finite (the row of that step is written).
        """


def _bias(given: Any, n: int, who: str) -> np.ndarray:
    """A starting bias vector of length ``n`` (zeros when not given), or a DataError."""
    if given is None:
        return np.zeros(n)
    try:
        b = np.array(given, dtype=np.float64)
    except (TypeError, ValueError):
        raise DataError(f"The starting {who} biases must be numbers.") from None
    if b.shape != (n,):
        raise DataError(f"The starting {who} biases must be one number per {who} ({n}); got shape {b.shape}.")
    return b


def _kernel_layout(f: Factors) -> Factors:
    """P C-contiguous; Q the transpose of a C-contiguous items x K array (what kernels take)."""
    P = np.ascontiguousarray(f.P, dtype=np.float64)
    Q = np.ascontiguousarray(np.asarray(f.Q, dtype=np.float64).T).T
    ub = None if f.user_bias is None else np.ascontiguousarray(f.user_bias, dtype=np.float64)
    ib = None if f.item_bias is None else np.ascontiguousarray(f.item_bias, dtype=np.float64)
    return Factors(P, Q, ub, ib, float(f.global_mean))


def _contiguous(o: Observed) -> Observed:
    return Observed(
        np.ascontiguousarray(o.rows, dtype=np.int64),
        np.ascontiguousarray(o.cols, dtype=np.int64),
        np.ascontiguousarray(o.vals, dtype=np.float64),
    )


def empty_observed() -> Observed:
    z = np.zeros(0, np.int64)
    return Observed(z, z.copy(), np.zeros(0))
