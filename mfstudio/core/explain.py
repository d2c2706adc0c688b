"""Why this number? One prediction of R_hat taken apart into the terms that add up to it.

A model with biases (biased-sgd) predicts

    r̂[u,i] = μ + b_u + b_i + Σ_k P[u,k]·Q[k,i]

and one without (sgd, als, nmf) r̂[u,i] = Σ_k P[u,k]·Q[k,i]. Each term is one push: μ, the mean
training rating, is where every prediction starts; b_u is how much higher (+) or lower (−) than μ
user u rates; b_i how much item i is liked whatever the taste; and P[u,k]·Q[k,i] what taste k adds:
how much u likes it times how much of it i has (two negatives make a positive). The terms are named
``mean``, ``user bias``, ``item bias`` and ``k1`` … ``kK``, as in the CSV exports. They add up to the
model's prediction (to rounding), which is ``Factors.predict_at`` of the cell, unclipped; what is
*shown* is that prediction clipped to the rating scale [lo, hi]. For a rated cell the error is
actual − prediction (unclipped, as training measures it).

A user or item without training ratings ("cold") has only its random start for factors, so its
prediction is the fallback: the mean training rating (μ in a model with biases) plus, with biases,
the other side's bias. Its terms are then ``mean`` (that fallback mean) and the known bias; the
factors play no part.

Single tastes are only defined up to rotation and sign: P·Q = (P·M)(Mᵀ·Q) for any orthogonal K x K
matrix M, and the regularised objectives do not change under it, so another seed can mix, swap or
flip the tastes. The biases and the total are what is stable.

Explaining one cell costs O(K), plus a binary search for its rating and a scan of the held-out cells.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mfstudio.core.errors import DataError
from mfstudio.core.numbers import short_text
from mfstudio.core.ratings import Ratings, display_scale
from mfstudio.core.solvers import Factors

MEAN, USER_BIAS, ITEM_BIAS = "mean", "user bias", "item bias"
HELD_OUT_TEXT = "held out — the model never saw it"
SMALL = 0.005  # a push below this is not worth a word: it does not change the shown 2 decimals


def factor_name(k: int) -> str:
    """The name of latent factor ``k`` (0-based) as the exports write it: k1, k2, …"""
    return f"k{k + 1}"


def rotation_note(biased: bool) -> str:
    """The note that single tastes are not unique, for under a breakdown."""
    stable = "the biases and the total are" if biased else "the total is"
    return f"Tastes are only defined up to rotation and sign (another seed can swap or flip them); {stable} stable."


@dataclass(frozen=True)
class Term:
    """One part of a prediction: its name (``mean``, ``user bias``, ``item bias``, ``k1`` …) and how much it adds.

    A factor term also carries its two sides, ``p`` = P[u,k] and ``q`` = Q[k,i] (value = p·q)."""

    name: str
    value: float
    p: float | None = None
    q: float | None = None

    @property
    def k(self) -> int | None:
        """The factor's number, counted from 1 (None for the mean and the biases)."""
        return int(self.name[1:]) if self.p is not None else None

    def label(self, fallback: bool = False) -> str:
        """The term in words: "mean rating μ", "user bias b_u", "taste 1 (k1)"; the fallback's mean says so."""
        if self.name == MEAN:
            return "mean rating (fallback)" if fallback else "mean rating μ"
        if self.name == USER_BIAS:
            return "user bias b_u"
        if self.name == ITEM_BIAS:
            return "item bias b_i"
        return f"taste {self.k} ({self.name})"


@dataclass(frozen=True)
class Explanation:
    """A cell's prediction, term by term, with what is shown, the actual rating and one plain sentence."""

    user: int
    item: int
    user_label: str
    item_label: str
    terms: list[Term]
    prediction: float  # the model's value, unclipped: Factors.predict_at of the cell
    shown: float  # the prediction clipped to the scale, as R-hat displays it
    scale: tuple[float, float]
    actual: float | None  # the rating, None when the cell is not rated
    held_out: bool  # rated, but set aside for validation: the model never trained on it
    cold: str  # "", "user", "item" or "both": who has no training ratings (then the prediction is the fallback)
    biased: bool
    sentence: str = field(default="", compare=False)

    @property
    def error(self) -> float | None:
        """actual − prediction (unclipped), None when not rated."""
        return None if self.actual is None else self.actual - self.prediction

    @property
    def clipped(self) -> bool:
        return self.shown != self.prediction

    @property
    def total(self) -> float:
        """The terms added up (equal to ``prediction`` to rounding)."""
        return math.fsum(t.value for t in self.terms)

    @property
    def fallback(self) -> bool:
        return bool(self.cold)

    def to_json(self) -> dict[str, Any]:
        """The breakdown as plain JSON data, the keys of ``mfstudio explain --json``: user, item, prediction
        (unclipped), shown (clipped), actual (None if unrated) and terms (name and value, summing to the
        prediction)."""
        return {
            "user": self.user_label, "item": self.item_label,
            "prediction": self.prediction, "shown": self.shown, "actual": self.actual,
            "terms": [{"name": t.name, "value": t.value} for t in self.terms],
        }

    def rows(self, short: bool = False, preferences: bool = False) -> list[tuple[str, str, str, str]]:
        """The breakdown as table rows of text: what, the user side, the item side, how much it adds (or is).

        ``short`` words the last rows for a narrow table (the hold-out note then belongs elsewhere);
        ``preferences`` (a model of counts, implicit-als) names the actual value a count, "no interaction" if none."""
        fb = self.fallback
        out = []
        for t in self.terms:
            if t.p is not None and t.q is not None:
                out.append((t.label(fb), short_text(t.p, True), short_text(t.q), short_text(t.value, True)))
            else:
                out.append((t.label(fb), "", "", short_text(t.value, t.name != MEAN)))
        lo, hi = self.scale
        clip = " (clipped)" if short else f" (clipped to {lo:g} to {hi:g})"
        held = " (held out)" if short else f" ({HELD_OUT_TEXT})"
        out.append(("prediction (sum)" if short else "prediction (the sum)", "", "", short_text(self.prediction)))
        out.append(("shown" + (clip if self.clipped else ""), "", "", short_text(self.shown)))
        actual = "actual count" if preferences else "actual rating"
        if self.actual is None:
            out.append((actual, "", "", "no interaction" if preferences else "not rated"))
        else:
            out.append((actual + (held if self.held_out else ""), "", "", short_text(self.actual)))
            error = short_text(self.error or 0.0, True)
            out.append(("error" if short else "error (actual − prediction)", "", "", error))
        return out


# -- explaining a cell ----------------------------------------------------------------------


def explain(ratings: Ratings, factors: Factors, user: int, item: int,
            held_out_cells: np.ndarray | None = None, solver: str | None = None) -> Explanation:
    """The prediction of ``factors`` for (``user``, ``item``) (0-based indices) taken apart; O(K). ``solver`` (the
    model's) decides the range it is shown on (ratings.display_scale)."""
    n, m = ratings.shape
    u, i = int(user), int(item)
    if not (0 <= u < n and 0 <= i < m):
        raise DataError(f"There is no cell ({u + 1}, {i + 1}) in the {n:,} x {m:,} ratings.")
    if factors.P.shape[0] != n or factors.Q.shape[1] != m:
        raise DataError("The results do not belong to these ratings; train again.")
    ub, ib = factors.user_bias, factors.item_bias
    biased = ub is not None and ib is not None
    prediction = float(factors.predict_at(np.array([u]), np.array([i]))[0])
    cold_u = factors.cold_users is not None and bool(np.any(factors.cold_users == u))
    cold_i = factors.cold_items is not None and bool(np.any(factors.cold_items == i))
    cold = "both" if cold_u and cold_i else "user" if cold_u else "item" if cold_i else ""
    terms: list[Term] = []
    if cold:
        terms.append(Term(MEAN, float(factors.fallback_mean)))
        if ub is not None and ib is not None and cold != "both":
            # the side that has training ratings keeps its bias; the cold side's plays no part
            terms.append(Term(USER_BIAS, float(ub[u])) if cold == "item" else Term(ITEM_BIAS, float(ib[i])))
    else:
        if ub is not None and ib is not None:
            terms += [Term(MEAN, float(factors.global_mean)), Term(USER_BIAS, float(ub[u])),
                      Term(ITEM_BIAS, float(ib[i]))]
        p, q = factors.P[u], factors.Q[:, i]
        terms += [Term(factor_name(k), float(p[k] * q[k]), float(p[k]), float(q[k])) for k in range(factors.K)]
    lo, hi = display_scale(ratings, solver)
    shown = min(max(prediction, lo), hi) if math.isfinite(prediction) else prediction
    actual = rating_at(ratings, u, i)
    held = actual is not None and _listed(held_out_cells, u, i)
    e = Explanation(u, i, ratings.users[u], ratings.items[i], terms, prediction, shown, (lo, hi), actual, held,
                    cold, biased)
    return dataclasses.replace(e, sentence=sentence(e))


def rating_at(ratings: Ratings, user: int, item: int) -> float | None:
    """The rating of a cell, None when not rated (a binary search in the row-major observed entries)."""
    o = ratings.observed
    lo, hi = np.searchsorted(o.rows, [user, user + 1])
    j = lo + int(np.searchsorted(o.cols[lo:hi], item))
    return float(o.vals[j]) if j < hi and o.cols[j] == item else None


def _listed(cells: np.ndarray | None, user: int, item: int) -> bool:
    if cells is None or len(cells) == 0:
        return False
    c = np.asarray(cells).reshape(-1, 2)
    return bool(np.any((c[:, 0] == user) & (c[:, 1] == item)))


# -- the plain sentence -----------------------------------------------------------------------


def _push(t: Term, user: str, item: str) -> str:
    """What a term says about the user and the item, without its value."""
    up = t.value > 0
    if t.name == USER_BIAS:
        return f"{user} rates {'above' if up else 'below'} average"
    if t.name == ITEM_BIAS:
        return f"{item} is liked {'more' if up else 'less'} than average, whatever the taste"
    assert t.p is not None and t.q is not None
    likes, has = t.p >= 0, t.q >= 0
    amount = "a lot" if t.q >= 1 else ("some" if has else "little")  # a factor's values are of order 1
    return (f"{user} {'likes' if likes else 'dislikes'} taste {t.k} ({short_text(t.p, True)}) "
            f"{'but' if likes and not has else 'and'} {item} has {amount} of it ({short_text(t.q)})")


def sentence(e: Explanation) -> str:
    """One plain sentence: what the model predicts and which parts pushed it up or down most."""
    user, item = e.user_label, e.item_label
    if not math.isfinite(e.prediction):
        return (f"The model's numbers for {user} and {item} are not finite (training diverged); "
                "train again with a smaller learning rate.")
    what = short_text(e.prediction)
    if e.clipped and short_text(e.shown) != what:  # 0.998 shown as 1.00 needs no word
        end = "top" if e.prediction > e.shown else "bottom"
        what += f" (shown as {short_text(e.shown)}, the {end} of the scale)"
    lead = f"The model predicts {what} for {user} and {item}"
    if e.cold:
        mean = "the mean rating" if e.biased else "the mean training rating"
        parts = [f"{mean} {short_text(e.terms[0].value)}"]
        parts += [f"{user if t.name == USER_BIAS else item}'s bias {short_text(t.value, True)}" for t in e.terms[1:]]
        who = {"user": f"{user} has no training ratings, so the model cannot know their taste",
               "item": f"{item} has no training ratings, so the model cannot know what it offers",
               "both": f"neither {user} nor {item} has training ratings"}[e.cold]
        return f"{lead}, but {who}: this is the fallback, {' plus '.join(parts)}."
    pushes = sorted((t for t in e.terms if t.name != MEAN), key=lambda t: -abs(t.value))
    if e.biased:
        lead += f" from the mean rating {short_text(e.terms[0].value)}"
    if not pushes or abs(pushes[0].value) < SMALL:
        return f"{lead}: no part pushes it up or down by much."
    chosen = pushes[:1] + [t for t in pushes[1:2] if abs(t.value) >= max(SMALL, 0.1 * abs(pushes[0].value))]
    clauses = []
    for j, t in enumerate(chosen):
        if j == 0:
            how = "pushed up most" if t.value > 0 else "pulled down most"
        elif (t.value > 0) == (chosen[0].value > 0):
            how = "and next"
        else:
            how = "pushed up most" if t.value > 0 else "pulled down most"
        clauses.append(f"{how} because {_push(t, user, item)}: {short_text(t.value, True)}")
    return f"{lead}: {'; '.join(clauses)}."


# -- finding a user or item by what someone typed ---------------------------------------------

_WHOLE = re.compile(r"[0-9]+")


def closest_labels(labels: Sequence[str], name: str, n: int = 3) -> list[str]:
    """The ``n`` labels most like ``name`` (case aside), most alike first; some even when none is close."""
    folded = {}
    for lab in labels:
        folded.setdefault(lab.casefold(), lab)
    want = name.strip().casefold()
    close = difflib.get_close_matches(want, list(folded), n=n, cutoff=0.0)
    return [folded[c] for c in close]


def numbers_are_labels(labels: Sequence[str]) -> bool:
    """True when some label is a whole number (ids): then a number is always read as a label, never a position."""
    return any(_WHOLE.fullmatch(lab.strip()) for lab in labels)


def find_label(labels: Sequence[str], text: str, who: str, where: str = "") -> int:
    """The index of the user (or item) that ``text`` names, or a DataError naming the closest labels.

    ``text`` is a label as written; else the one label equal to it ignoring case and surrounding
    spaces; else, when no label is a whole number, a position counted from 1 (``3`` = the third).
    ``who`` is "user" or "item"; ``where`` names the results for the message ("in results/session.mfstudio").
    """
    by_position = not numbers_are_labels(labels)
    also = f" (or give a number from 1 to {len(labels):,})" if by_position else ""
    place = f" {where}" if where else ""
    want = text.strip().casefold()
    for same in ([k for k, lab in enumerate(labels) if lab == text],
                 [k for k, lab in enumerate(labels) if lab.strip().casefold() == want]):
        if len(same) == 1:
            return same[0]
        if len(same) > 1:
            raise DataError(f"{len(same):,} {who}s{place} are called {text!r} (numbers "
                            f"{', '.join(str(k + 1) for k in same[:5])}); name one by its number instead."
                            if by_position else
                            f"{len(same):,} {who}s{place} are called {text!r}; rename them to tell them apart.")
    if by_position and _WHOLE.fullmatch(text.strip()):
        k = int(text.strip())
        if 1 <= k <= len(labels):
            return k - 1
    if not labels:
        raise DataError(f"There are no {who}s{place}.")
    close = closest_labels(labels, text, 3)
    named = ", ".join(repr(c) for c in close)
    closest = "the closest are" if len(close) > 1 else "the closest is"
    raise DataError(f"There is no {who} {text!r}{place}; {closest} {named}{also}.")
