"""The notebook's printout: what its training loop printed every 1,000 steps, for a model's factors.

The notebook prints, after step ``step`` (counted from 0, so after the first pass over the
ratings it is step 0), when ``step % 1000 == 0``::

    print("-------- Result at step", step, ": with eR, P, Q are :-----")
    display(eR, P, Q)

with eR = np.dot(P, Q); ``display`` shows each array in numpy's own format. A model with
biases prints its whole R-hat as eR (mean and biases included).
"""

from __future__ import annotations

import numpy as np

from mfstudio.core.solvers.base import Factors

DEFAULT_EVERY = 1000  # the notebook's interval
DENSE_CELLS = 4_000_000  # R-hat up to this many cells is computed whole for the printout (32 MB)


def is_printed(steps_done: int, every: int) -> bool:
    """Whether the notebook prints after the ``steps_done``-th step (its step index is ``steps_done - 1``)."""
    return steps_done >= 1 and (steps_done - 1) % every == 0


def printout(step: int, factors: Factors) -> str:
    """The notebook's block for its step index ``step`` (0 after the first step)."""
    P, Q = np.asarray(factors.P), np.asarray(factors.Q)
    return "\n".join(["-------- Result at step " + str(step) + " : with eR, P, Q are :-----",
                      _r_hat_text(factors), repr(P), repr(Q)])


def _r_hat_text(f: Factors) -> str:
    """repr(eR). Up to ``DENSE_CELLS`` cells it is computed whole (numpy then shows its corners); past that only
    its corners are, and shown as an array of them, with a line saying so (nothing users x items is built)."""
    n, m = f.P.shape[0], f.Q.shape[1]
    if n * m <= DENSE_CELLS:
        plain = f.user_bias is None and f.cold_users is None and f.cold_items is None
        return repr(np.dot(f.P, f.Q) if plain else f.predict())
    e = int(np.get_printoptions()["edgeitems"])
    rows = np.r_[np.arange(e), np.arange(n - e, n)]
    cols = np.r_[np.arange(e), np.arange(m - e, m)]
    R = f.predict_at(np.repeat(rows, len(cols)), np.tile(cols, len(rows))).reshape(len(rows), len(cols))
    return (f"# eR is {n:,} x {m:,}: its first and last {e} rows and columns\n" + repr(R))
