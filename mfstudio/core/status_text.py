"""The one status line of a training run, for the command line and the window alike: the step, the objective,
the errors and the speed (``step 120/10,000  objective 0.25  RMSE 0.1234  val RMSE 0.2  1,234 steps/s``)."""

from __future__ import annotations

import math

import numpy as np

from mfstudio.core.numbers import measure_text


def speed_text(steps_per_s: float) -> str:
    """``1,234 steps/s``, ``12.5 M steps/s``; "" when there is no speed to tell (0, NaN or infinite)."""
    rate = float(steps_per_s)
    if not (rate > 0 and math.isfinite(rate)):
        return ""
    return f"{rate / 1e6:.1f} M steps/s" if rate >= 1e6 else f"{rate:,.0f} steps/s"


# The status line's words: terse for a terminal, spelled out (with the notebook's e) in the window.
STATUS_WORDS = {
    "terminal": ("step {step:,}/{budget:,}", "step {step:,}", "objective {objective}", "val RMSE {val}"),
    "window": ("Step {step:,} of {budget:,}", "Step {step:,}", "e = {objective}", "validation RMSE {val}"),
}
# A model of counts of events (implicit-als) measures the error of its preferences p = [r > 0] (an RMSE too), and
# minimises Hu et al.'s F, not the notebook's e: the words that change for it.
PREFERENCE_WORDS = {
    "terminal": ("objective {objective}", "preference error {train}", "val preference error {val}"),
    "window": ("F = {objective}", "preference error {train}", "validation preference error {val}"),
}


def data_word(implicit: bool) -> str:
    """What the data's entries are called: ``interactions`` for counts of events, ``ratings`` otherwise."""
    return "interactions" if implicit else "ratings"


def error_words(preferences: bool) -> tuple[str, str]:
    """(training, validation) error in words for a run's summary: ``training RMSE``, ``validation RMSE``, or for a
    model of counts ``training preference error``, ``validation preference error``."""
    return ("training preference error", "validation preference error") if preferences else \
        ("training RMSE", "validation RMSE")


def status_parts(step: int, budget: int | None, objective: float, train_rmse: float,
                 val_rmse: float = math.nan, steps_per_s: float = math.nan, *, words: str = "terminal",
                 preferences: bool = False) -> list[str]:
    """The parts of a run's status: ``step 120/10,000``, ``objective 0.25``, ``RMSE 0.1234``, then
    ``val RMSE 0.2`` with a hold-out and the :func:`speed_text` when there is one.

    Without ``budget`` (a finished run read back) the step stands alone. ``words="window"`` spells the
    same parts out for the window ("Step 120 of 10,000", "e = 0.25", "validation RMSE 0.2"), with
    4 significant digits throughout. With ``preferences`` (a model of counts of events, implicit-als) the
    errors are the preferences' ("preference error 0.39", "val preference error 0.47"; the window's objective
    is "F = ...").
    """
    with_budget, bare, obj, val = STATUS_WORDS[words]
    train = "RMSE {train}"
    if preferences:
        obj, train, val = PREFERENCE_WORDS[words]
    window = words == "window"
    short = measure_text if window else (lambda x: f"{x:.4g}")
    parts = [(bare if budget is None else with_budget).format(step=step, budget=budget),
             obj.format(objective=measure_text(objective) if window else f"{objective:.6g}"),
             train.format(train=short(train_rmse))]
    if math.isfinite(val_rmse):
        parts.append(val.format(val=short(val_rmse)))
    speed = speed_text(steps_per_s)
    if speed:
        parts.append(speed)
    return parts


def status_line(step: int, budget: int | None, objective: float, train_rmse: float,
                val_rmse: float = math.nan, steps_per_s: float = math.nan, *, sep: str = "  ",
                preferences: bool = False) -> str:
    """The one status line of a run, for the command line and the window alike:
    ``step 120/10,000  objective 0.25  RMSE 0.1234  val RMSE 0.2  1,234 steps/s`` (parts joined by ``sep``;
    ``preferences``: see :func:`status_parts`)."""
    return sep.join(status_parts(step, budget, objective, train_rmse, val_rmse, steps_per_s,
                                 preferences=preferences))


EPOCH_RANGE = (1e8, 1e13)  # whole numbers in this range (seconds from 1973, or milliseconds) look like timestamps


def too_large_text(vals: np.ndarray, implicit: bool, biggest: float) -> str:
    """Why values beyond training.MAX_RATING are refused, and what to do: rescale ratings; values that look like
    timestamps (all whole, in EPOCH_RANGE), or counts that may be, are user, item, timestamp lines, which
    are read as events."""
    events = ("read user, item, timestamp lines as events, one interaction each (--format events, or "
              "File ▸ Open counts or events… in the window)")
    head = f"The {'counts' if implicit else 'ratings'} reach {biggest:.3g}, too large to factorize reliably; "
    v = np.asarray(vals, dtype=np.float64)
    lo, hi = EPOCH_RANGE
    if v.size and float(v.min()) >= lo and float(v.max()) <= hi and bool(np.all(v == np.round(v))):
        return head + f"they look like timestamps: {events}."
    if implicit:
        return head + f"if they are timestamps, {events}; otherwise scale the counts down and try again."
    return head + "rescale them (for example to a 1 to 5 scale) and try again."
