r"""Why this item? The item-based explanation of an implicit-als score (Hu, Koren & Volinsky 2008, section 5).

With implicit data (counts of plays, clicks, purchases) the user's factors are a weighted ridge
regression on the items' factors Y = Qᵀ (items x K): with every item's confidence c_uj = 1 + confidence·|r_uj|
(1 where the user has none) and preference p_uj = 1 where r_uj > 0,

    x_u = W^u Yᵀ C^u p(u),     W^u = (Yᵀ C^u Y + λI)^-1,     λ = beta (unscaled, as implicit-als)

so the score of item i is a sum over the items j the user has:

    x̂_ui = y_iᵀ x_u = Σ_j s^u_ij c_uj,     s^u_ij = y_iᵀ W^u y_j

— each of the user's own items pushes i up by how alike the two are *in this user's eyes* (s^u_ij, the
user's confidences weighting the metric) times how sure we are the user likes j (c_uj). The items with
the largest pushes are the explanation: "because you played X".

The identity holds for the user's factors solved exactly against the items as they are now. A trained
model's P_u was solved before the last item half-step (and by a few conjugate-gradient steps), so the
pushes add up to P_u·Q_i only up to a **rest**, P_u·Q_i − Σ_j s^u_ij c_uj: small once training has
converged, 0 (to rounding) for factors solved exactly against Q. The explanation shows it, so that the
parts always add up to the model's score, the cell of R_hat.

Only the user's training interactions enter (held-out ones were hidden from the model). Explaining one
score costs O(items K²) for the Gram matrix YᵀY (pass it in to explain many), a pass over the training
entries to find the user's, O(n_u K²) for their corrections and one K x K solve.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mfstudio.core.errors import DataError
from mfstudio.core.numbers import short_text
from mfstudio.core.ratings import Observed, Ratings
from mfstudio.core.solvers import Factors

VERB = "have"  # "because you have X"; a play log says "played"
SHOWN = 10  # the rows a table lists; the other items are summed in one row, so the table still adds up
REST_TEXT = "rest (the factors are not yet converged)"
NEGLIGIBLE = 1e-9  # a rest below this share of the score (or of 1) is rounding: the table leaves it out


@dataclass(frozen=True)
class Because:
    """One of the user's own items j and how much it adds to the score: ``value`` = similarity · confidence."""

    item: int
    label: str
    count: float  # r_uj, the user's training count of j
    confidence: float  # c_uj = 1 + confidence·|r_uj|
    similarity: float  # s^u_ij = y_iᵀ W^u y_j
    value: float  # s^u_ij · c_uj
    share: float  # value / the score (NaN when the score is 0)

    def text(self, verb: str = VERB) -> str:
        """``because you played X``."""
        return f"because you {verb} {self.label}"


@dataclass(frozen=True)
class ImplicitExplanation:
    """A score of an implicit model taken apart over the user's own items (see the module docstring)."""

    user: int
    item: int
    user_label: str
    item_label: str
    score: float  # the model's P_u·Q_i, the cell of R_hat
    because: list[Because]  # every item the user has (count > 0), largest push first
    rest: float  # score − the pushes' sum: 0 for factors solved exactly against Q
    verb: str = VERB
    sentence: str = field(default="", compare=False)

    @property
    def total(self) -> float:
        """The pushes and the rest added up: the score, to rounding."""
        return math.fsum([b.value for b in self.because] + [self.rest])

    def to_json(self) -> dict[str, Any]:
        """The breakdown as plain JSON data (``mfstudio explain --json`` for an implicit model)."""
        return {
            "user": self.user_label, "item": self.item_label, "form": "item-based", "score": self.score,
            "because": [{"item": b.label, "count": b.count, "confidence": b.confidence, "similarity": b.similarity,
                         "value": b.value, "share": b.share} for b in self.because],
            "rest": self.rest, "sentence": self.sentence,
        }

    def rows(self, shown: int = SHOWN) -> list[tuple[str, str, str, str]]:
        """The breakdown as table rows of text: the item the user has, its count, how much it adds, its share of
        the score; the largest ``shown`` pushes (by size), the others in one row, the rest, then the score."""
        order = sorted(self.because, key=lambda b: -abs(b.value))
        listed, others = order[:shown], order[shown:]
        out = [(b.label, f"{b.count:g}", short_text(b.value, True), _percent(b.share)) for b in
               sorted(listed, key=lambda b: -b.value)]
        if others:
            value = math.fsum(b.value for b in others)
            out.append((f"the other {len(others):,} items", "", short_text(value, True), _percent(self._share(value))))
        if abs(self.rest) > NEGLIGIBLE * max(1.0, abs(self.score)):
            out.append((REST_TEXT, "", short_text(self.rest, True), _percent(self._share(self.rest))))
        out.append(("score (the sum)", "", short_text(self.score), "100%" if self.score else ""))
        return out

    def _share(self, value: float) -> float:
        return value / self.score if self.score else math.nan


def _percent(share: float) -> str:
    return "" if not math.isfinite(share) else f"{100 * share:.0f}%"


def explain_implicit(ratings: Ratings, factors: Factors, train: Observed, user: int, item: int, confidence: float,
                     beta: float, verb: str = VERB, gram: np.ndarray | None = None) -> ImplicitExplanation:
    """The score P_u·Q_i of an implicit model for (``user``, ``item``) (0-based) as pushes from the user's own
    training items (``train``: the training interactions), with the model's ``confidence`` and ``beta`` (λ);
    ``verb`` words the sentence ("because you played X"), ``gram`` is YᵀY = Q·Qᵀ when known."""
    n, m = ratings.shape
    u, i = int(user), int(item)
    if not (0 <= u < n and 0 <= i < m):
        raise DataError(f"There is no cell ({u + 1}, {i + 1}) in the {n:,} x {m:,} ratings.")
    if factors.P.shape[0] != n or factors.Q.shape[1] != m:
        raise DataError("The results do not belong to these ratings; train again.")
    Y = np.asarray(factors.Q, dtype=np.float64).T  # items x K
    mine = np.asarray(train.rows) == u
    items, counts = np.asarray(train.cols)[mine], np.asarray(train.vals, dtype=np.float64)[mine]
    c = 1.0 + float(confidence) * np.abs(counts)
    A = (Y.T @ Y if gram is None else np.array(gram, dtype=np.float64)) + float(beta) * np.eye(Y.shape[1])
    Yu = Y[items]
    A += (Yu * (c - 1.0)[:, None]).T @ Yu
    w = np.linalg.solve(A, Y[i])  # W^u y_i (A is symmetric)
    score = float(np.dot(factors.P[u], factors.Q[:, i]))
    liked = counts > 0  # p_uj = 1: only these push (a count of 0 or less is preference 0)
    sim = Yu[liked] @ w
    values = sim * c[liked]
    because = [Because(int(j), ratings.items[int(j)], float(r), float(cj), float(s), float(v),
                       float(v) / score if score else math.nan)
               for j, r, cj, s, v in zip(items[liked], counts[liked], c[liked], sim, values)]
    because.sort(key=lambda b: (-b.value, b.item))
    rest = score - math.fsum(values.tolist())
    e = ImplicitExplanation(u, i, ratings.users[u], ratings.items[i], score, because, rest, verb)
    return dataclasses.replace(e, sentence=sentence(e))


def sentence(e: ImplicitExplanation, most: int = 2) -> str:
    """One plain sentence: the score and the user's items that pushed it up most ("because you played X")."""
    user, item = e.user_label, e.item_label
    if not math.isfinite(e.score):
        return f"The model's numbers for {user} and {item} are not finite (training diverged); train again."
    lead = f"{item} scores {short_text(e.score)} for {user}"
    if not e.because:
        return f"{lead}: {user} has no training interactions, so none of their items explains it."
    up = [b for b in e.because if b.value > 0][:most]
    if not up or e.score <= 0:
        return f"{lead}: none of {user}'s items speaks for it."
    parts = [f"{b.label} ({_percent(b.share)})" if math.isfinite(b.share) else b.label for b in up]
    parts[0] = parts[0].replace("%)", "% of the score)")
    return f"{lead}, mostly because you {e.verb} {' and '.join(parts)}."
