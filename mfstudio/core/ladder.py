"""The model ladder: which parts of a trained model predict, for showing what each part adds.

A biased model predicts r̂_ui = μ + b_u + b_i + Σ_k P[u,k]·Q[k,i]; the ladder's rungs switch on
the global mean μ, then the user biases b_u, then the item biases b_i, then the factors one by one
(a model without biases has only the factor rungs). Switching parts off never changes the trained
model: :func:`masked` returns a copy whose predictions are those of the parts left on.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mfstudio.core.solvers import Factors


@dataclass(frozen=True)
class Parts:
    """Which parts of a model predict: the global mean, the user and item biases, and the first ``factors``
    latent factors (None: all K). For a model without biases only ``factors`` matters."""

    mean: bool = True
    user_bias: bool = True
    item_bias: bool = True
    factors: int | None = None

    @property
    def everything(self) -> bool:
        return self.mean and self.user_bias and self.item_bias and self.factors is None


def masked(f: Factors, parts: Parts) -> Factors:
    """A copy of ``f`` that predicts with only ``parts`` (the parts switched off are zero); ``f`` itself
    when every part is on."""
    if parts.everything:
        return f
    g = f.copy()
    if parts.factors is not None:
        k = max(0, min(int(parts.factors), f.K))
        g.P[:, k:] = 0.0
        g.Q[k:, :] = 0.0
    if g.user_bias is not None:
        if not parts.mean:
            g.global_mean = 0.0
            g.fallback_mean = 0.0
        if not parts.user_bias:
            g.user_bias = np.zeros_like(g.user_bias)
        if not parts.item_bias:
            g.item_bias = np.zeros_like(g.item_bias)
    return g


def parts_words(parts: Parts, f: Factors) -> str:
    """The parts switched on, in words: "the mean, the user biases and factors 1-2"."""
    words = []
    if f.user_bias is not None:
        words += [w for on, w in ((parts.mean, "the mean"), (parts.user_bias, "the user biases"),
                                  (parts.item_bias, "the item biases")) if on]
    k = f.K if parts.factors is None else max(0, min(int(parts.factors), f.K))
    if k:
        words.append("factor 1" if k == 1 else f"factors 1-{k}")
    if not words:
        return "nothing"
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]
