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


def is_printed(steps_done: int, every: int) -> bool:
    """Whether the notebook prints after the ``steps_done``-th step (its step index is ``steps_done - 1``)."""
    return steps_done >= 1 and (steps_done - 1) % every == 0


def printout(step: int, factors: Factors) -> str:
    """The notebook's block for its step index ``step`` (0 after the first step)."""
    P, Q = np.asarray(factors.P), np.asarray(factors.Q)
    eR = np.dot(P, Q) if factors.user_bias is None else factors.predict()
    return "\n".join(["-------- Result at step " + str(step) + " : with eR, P, Q are :-----",
                      repr(eR), repr(P), repr(Q)])
