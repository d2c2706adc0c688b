"""Every parameter declared once, with its range, default and help: the solvers' (K, steps, α, β,
confidence, tolerance, seed) and the run's (hold-out share, patience, recommendations per user, the rating from which a
held-out item is relevant).

The window, the command line and sessions build their controls, flags and checks from these.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from mfstudio.core.errors import ParameterError
from mfstudio.core.numbers import NumberError, read_number, read_whole


@dataclass(frozen=True)
class ParamSpec:
    """One parameter, declared once; the window and the command line build controls from it.

    ``minimum`` and ``maximum`` are allowed values unless ``min_exclusive`` / ``max_exclusive``.
    ``unit`` ("steps") follows the range in sentences and ``example`` is added to them in brackets.
    With ``off`` (the word for it, "off", or "auto" for one chosen from the data) the parameter can be
    switched off: None is then a value, the one that means off (it may be the default), and the word
    typed in any case reads as None.
    ``flag`` is the command line's flag when it is not ``--`` and the name (``--top`` for ``top_n``).
    """

    name: str
    label: str
    kind: type  # int or float
    default: float | int | None
    minimum: float | int
    maximum: float | int
    help: str
    log_scale: bool = False
    min_exclusive: bool = False
    max_exclusive: bool = False
    unit: str = ""
    example: str = ""
    off: str = ""
    flag: str = ""

    def range_words(self) -> str:
        """The allowed values: ``from 1 up to 1,000``, ``above 0 up to 10``, ``from 0 up to but not
        including 1``, ``from 1 up to 1,000,000,000 steps, or off``."""
        lo = "above" if self.min_exclusive else "from"
        hi = "up to but not including" if self.max_exclusive else "up to"
        text = f"{lo} {_num(self.minimum)} {hi} {_num(self.maximum)}"
        if self.unit:
            text += f" {self.unit}"
        return text + (f", or {self.off}" if self.off else "")

    def show(self, value: float | int | None) -> str:
        """A value as the sentences and the command line's help write it: ``1,000``, ``0.0002``, ``off``."""
        return self.off if value is None else _num(value)

    def _kind_words(self) -> str:
        what = "a whole number" if self.kind is int else "a number"
        return f"{what} or {self.off}" if self.off else what

    def validate(self, value: Any) -> float | int | None:
        """Return ``value`` converted to this parameter's type, or raise ParameterError with a sentence.

        None (or the word ``off``, as text) is the parameter switched off, for one declared with ``off``.
        """
        if self.off and (value is None or isinstance(value, str) and value.strip().lower() == self.off.lower()):
            return None
        try:
            if value is None or isinstance(value, (bool, np.bool_)):
                raise TypeError  # True is no number, though int(True) is 1
            if isinstance(value, str):  # typed or read from a file: the one rule for numbers
                x = read_whole(value) if self.kind is int else read_number(value)
                if x is None:
                    raise ValueError
                v: float | int = x
            elif self.kind is int:
                if isinstance(value, float) and not value.is_integer():
                    raise ValueError
                v = int(value)
            else:
                v = float(value)
        except NumberError as exc:
            if exc.kind == "infinite":
                raise ParameterError(f"{self.label} must be a finite number.") from None
            raise ParameterError(f"{self.label} must be {self._kind_words()}, not {value!r}.") from None
        except (TypeError, ValueError, OverflowError):
            raise ParameterError(f"{self.label} must be {self._kind_words()}, not {value!r}.") from None
        if isinstance(v, float) and not math.isfinite(v):
            raise ParameterError(f"{self.label} must be a finite number.")
        if not self.contains(v):
            example = f" ({self.example})" if self.example else ""
            raise ParameterError(f"{self.label} must be {self.range_words()}{example}; got {_num(v)}.")
        return v

    def contains(self, v: float | int) -> bool:
        """True when the number ``v`` is in range (None and the word for off aside)."""
        low_ok = v > self.minimum if self.min_exclusive else v >= self.minimum
        high_ok = v < self.maximum if self.max_exclusive else v <= self.maximum
        return bool(low_ok and high_ok)


def _num(x: float | int) -> str:
    """A number as people write it: 2,147,483,647 for whole numbers, 0.0002 or 1e+12 otherwise."""
    if isinstance(x, int) or (isinstance(x, float) and x.is_integer() and abs(x) < 1e15):
        return f"{int(x):,}"
    return f"{x:g}"


def resolve(specs: Iterable[ParamSpec], given: Mapping[str, Any], who: str) -> dict[str, Any]:
    """``given`` with the defaults filled in, every value checked; a name ``who`` ("The sgd solver")
    does not take is refused with a sentence."""
    specs = tuple(specs)
    names = {s.name for s in specs}
    unknown = sorted(set(given) - names)
    if unknown:
        raise ParameterError(f"{who} has no parameter {unknown[0]!r}; it takes {', '.join(sorted(names))}.")
    return {s.name: s.validate(given.get(s.name, s.default)) for s in specs}


# -- the solvers' parameters, with the notebook's names ---------------------------------------
K = ParamSpec("K", "Latent features (K)", int, 2, 1, 1000,
              "How many hidden taste dimensions describe each user and item.")
STEPS = ParamSpec("steps", "Steps", int, 10_000, 1, 1_000_000_000,
                  "How many passes over all ratings to make at most.")
ALPHA = ParamSpec("alpha", "Learning rate (α)", float, 0.0002, 0.0, 10.0,
                  "How big each correction step is. Too big and training blows up.",
                  log_scale=True, min_exclusive=True)
BETA = ParamSpec("beta", "Regularization (β)", float, 0.02, 0.0, 100.0,
                 "How strongly large factor values are penalised; more keeps the model simple.",
                 log_scale=True)
# implicit-als (Hu, Koren & Volinsky 2008): how much more an observed interaction counts than an empty cell
CONFIDENCE = ParamSpec("confidence", "Confidence weight", float, 1.0, 0.0, 1e6,
                       "How much more a cell with interactions counts than an empty one: confidence "
                       "c = 1 + confidence × count (Hu et al.'s α; not a learning rate).",
                       log_scale=True, min_exclusive=True)
TOL = ParamSpec("tol", "Tolerance", float, 0.001, 0.0, 1e12,
                "Stop as soon as the objective falls below this value.", log_scale=True)
SEED = ParamSpec("seed", "Random seed", int, 0, 0, 2**31 - 1,
                 "The same seed gives the same random start and the same result.")

# -- the run's parameters: not a solver's, the same for every solver -----------------------------
HOLDOUT = ParamSpec("holdout", "Hold-out share", float, 0.0, 0.0, 1.0,
                    "The share of the ratings hidden from training and used to measure how well the model "
                    "predicts ratings it has not seen (validation RMSE); 0 trains on every rating.",
                    max_exclusive=True, example="e.g. 0.2 sets a fifth of the ratings aside")
# Off is None, as in a Session, in Training and in a session file ("patience": null): 0 is no
# patience but a refused number, as it always was on the command line. A patience longer than the
# most steps a run can make (STEPS.maximum) could never stop one, so that is the maximum.
PATIENCE = ParamSpec("patience", "Patience", int, None, 1, STEPS.maximum,
                     "With a hold-out: stop when validation RMSE has not improved for this many steps, "
                     "and keep the factors of the best step.", unit="steps", off="off")
# 0 writes no recommendations (the command line's --top 0); a list longer than 1,000 recommends nothing.
# It is also the k of the ranking metrics (precision@k ...; none with 0).
TOP_N = ParamSpec("top_n", "Recommendations per user", int, 10, 0, 1000,
                  "How many unrated items to recommend to each user; with a hold-out also the k of the ranking "
                  "metrics (precision@k, recall@k, NDCG@k, MAP@k).", flag="--top")
# Auto (None) is three quarters up the rating scale: 4 on 1 to 5 (mfstudio.core.ranking.relevance_threshold).
# The range is the ratings' own (a larger magnitude is refused before training, training.MAX_RATING).
RELEVANCE = ParamSpec("relevance", "Relevant from", float, None, -1e6, 1e6,
                      "With a hold-out: a held-out rating at or above this counts as relevant for the ranking "
                      "metrics (precision@k, recall@k, NDCG@k, MAP@k); auto is three quarters up the rating "
                      "scale, 4 on 1 to 5. Ignored with implicit data (counts): every held-out interaction is "
                      "relevant.", off="auto", example="e.g. 4 on a 1 to 5 scale")
RUN_PARAMS = (HOLDOUT, PATIENCE, TOP_N, RELEVANCE)


def resolve_run_params(given: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The run's parameters (``holdout``, ``patience``, ``top_n``, ``relevance``): defaults filled in, each checked,
    an unknown name refused, each as a ParameterError with a sentence."""
    return resolve(RUN_PARAMS, given or {}, "A run")
