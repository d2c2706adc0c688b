"""One run's artists on the loss curve: its three lines, the best-step marker, and the legend that names runs.

A run is drawn as its objective (left panel), training RMSE (right, solid) and validation RMSE
(right, dashed, with a hold-out); when the right panel shows ranking instead (the current run models
implicit feedback, judged by ranking, not RMSE), a run's right line is its held-out precision@k at
every step it was evaluated (dashed), and no training line. The current run is solid and on top, earlier ones fade. A
finished run trained with early stopping (a patience) has its best validation step marked on the
validation line: a ring there and a small "best 1,234" above it, on whichever side of the ring keeps it
inside the axes (:class:`BestNote`). The legend below the panels names
the shown runs (the latest :data:`LEGEND_RUNS`, as many as fit in :data:`LEGEND_ROWS` rows).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.text import Annotation
from matplotlib.transforms import IdentityTransform

from mfstudio.core import HISTORY_COLUMNS, get_solver
from mfstudio.core.runs import RunRecord

FADED_ALPHA = 0.35
LEGEND_ROWS = 3  # more rows would squeeze the axes at 1000 x 700
LEGEND_RUNS = 6  # runs named in the legend (the latest); older ones stay drawn
LEGEND_FONT = 7.5
MARKER_FONT = 7
STEP, OBJECTIVE, TRAIN_RMSE, VAL_RMSE = (HISTORY_COLUMNS.index(c) for c in ("step", "objective", "train_rmse",
                                                                             "val_rmse"))
PRECISION = len(HISTORY_COLUMNS)  # a history's first ranking column: precision@k (history_columns)


class BestNote(Annotation):
    """The "best 1,234" text: right of the ring in the left half of the axes, left of it in the right half, so
    it never reaches past the y axis (a best step near the start) nor the right edge (one near the end)."""

    def draw(self, renderer: Any) -> None:
        ax = self.axes
        if ax is not None and self.get_visible():
            x = ax.transData.transform(self.xy)[0]
            left_half = x < ax.bbox.x0 + ax.bbox.width / 2
            ha, dx = ("left", 3) if left_half else ("right", -3)
            if self.get_horizontalalignment() != ha:
                self.set_horizontalalignment(ha)
                self.xyann = (dx, 5)
        super().draw(renderer)


@dataclass(eq=False)
class RunLines:
    """What the loss curve draws for one run (``record``)."""

    record: RunRecord
    objective_name: str
    objective: Line2D
    train: Line2D
    val: Line2D
    marker: Line2D  # the best validation step (early stopping)
    note: Annotation  # "best 1,234" above the marker
    colour: str
    label: str = ""

    @classmethod
    def make(cls, record: RunRecord, ax_obj: Axes, ax_rmse: Axes, colour: str) -> RunLines:
        obj, = ax_obj.plot([], [], color=colour, lw=1.8, zorder=3)
        train, = ax_rmse.plot([], [], color=colour, lw=1.8, zorder=3)
        val, = ax_rmse.plot([], [], color=colour, lw=1.5, ls="--", zorder=3)
        marker, = ax_rmse.plot([], [], ls="none", marker="o", ms=6, mfc="white", mec=colour, mew=1.6, zorder=5)
        note = BestNote("", (0, 0), xytext=(-3, 5), textcoords="offset points", ha="right", va="bottom",
                        fontsize=MARKER_FONT, color=colour, zorder=5)
        note.set_transform(IdentityTransform())  # as Axes.annotate makes one
        ax_rmse.add_artist(note)
        marker.set_visible(False)
        note.set_visible(False)
        return cls(record, get_solver(record.solver).objective_name, obj, train, val, marker, note, colour)

    @property
    def solver(self) -> str:
        return self.record.solver

    @property
    def params(self) -> dict[str, Any]:
        return self.record.params

    @property
    def history(self) -> np.ndarray:
        return self.record.history

    @property
    def lines(self) -> tuple[Line2D, Line2D, Line2D]:
        return (self.objective, self.train, self.val)

    @property
    def artists(self) -> tuple[Any, ...]:
        return (*self.lines, self.marker, self.note)

    def detach(self) -> None:
        """Off the axes (kept, to be put back by :meth:`attach`)."""
        for a in self.artists:
            a.remove()

    def attach(self, ax_obj: Axes, ax_rmse: Axes, animated: bool) -> None:
        ax_obj.add_line(self.objective)
        for line in (self.train, self.val, self.marker):
            ax_rmse.add_line(line)
        ax_rmse.add_artist(self.note)
        for a in self.artists:
            a.set_animated(animated)

    def style(self, current: bool) -> None:
        """Solid and on top for the current run; faded below for the others."""
        for line, width in zip(self.lines, (1.8, 1.8, 1.5)):
            line.set_alpha(None if current else FADED_ALPHA)
            line.set_linewidth(width if current else 1.0)
            line.set_zorder(3 if current else 2)
        for a in (self.marker, self.note):
            a.set_alpha(None if current else max(FADED_ALPHA, 0.6))

    def show(self, x_column: int, objective_shown: str, ranking: bool = False) -> None:
        """The lines as the record's history says, against ``x_column``; hidden runs draw nothing. With
        ``ranking`` the right panel's line is the held-out precision@k (where it was evaluated), not RMSE."""
        h = self.record.history
        shown = self.record.visible
        x = h[:, x_column]
        self.objective.set_data(x, h[:, OBJECTIVE])
        self.objective.set_visible(shown and self.objective_name == objective_shown)
        if ranking:
            p = h[:, PRECISION] if h.shape[1] > PRECISION else np.zeros(0)
            at = np.flatnonzero(np.isfinite(p))
            self.train.set_data([], [])
            self.val.set_data(x[at], p[at])
        else:
            self.train.set_data(x, h[:, TRAIN_RMSE])
            val = h[:, VAL_RMSE]
            has_val = bool(np.isfinite(val).any())
            self.val.set_data(x if has_val else [], val if has_val else [])
        self.train.set_visible(shown)
        self.val.set_visible(shown)
        for line in self.lines:  # a one-row history (a run trained at once, e.g. on Spark) is a dot, not nothing
            line.set_marker("o" if len(line.get_xdata()) == 1 else "None")
            line.set_markersize(5)
        self._show_marker(x_column, ranking)

    def _show_marker(self, x_column: int, ranking: bool = False) -> None:
        r, h = self.record, self.record.history
        at = np.flatnonzero(h[:, STEP] <= r.best_step) if r.best_step is not None else np.zeros(0, int)
        on = bool(not ranking and r.visible and r.finished and r.patience is not None and at.size and
                  math.isfinite(h[at[-1], VAL_RMSE]))
        self.marker.set_visible(on)
        self.note.set_visible(on)
        if on:
            k = int(at[-1])
            x, y = float(h[k, x_column]), float(h[k, VAL_RMSE])
            self.marker.set_data([x], [y])
            self.note.xy = (x, y)
            self.note.set_text(f"best {r.best_step:,}")

    @property
    def marked(self) -> bool:
        """True when the best validation step is marked."""
        return self.marker.get_visible()


def legend(fig: Figure, runs: Sequence[RunLines], current: RunLines | None, shown: str, common: str,
           ranking: str = "") -> Any:
    """The figure legend below both panels for the visible ``runs``: a colour per run, then solid vs dashed
    (when any has validation); None when no run is visible. ``ranking`` names the right panel's ranking
    metric ("precision@10") when it shows ranking instead of RMSE."""
    runs = [r for r in runs if r.record.visible]
    if not runs:
        return None
    with_val = any(len(r.val.get_xdata()) for r in runs)
    keep = min(LEGEND_RUNS, len(runs))
    while True:  # as many recent runs as fit in LEGEND_ROWS rows, so the legend never squeezes the curves
        handles, labels = _entries(runs[-keep:], current, shown, len(runs) - keep, with_val, ranking)
        columns = _columns(fig, labels)
        if math.ceil(len(labels) / columns) <= LEGEND_ROWS or keep <= 1:
            break
        keep -= 1
    return fig.legend(handles, labels, loc="outside lower center", ncols=columns, fontsize=LEGEND_FONT,
                      frameon=False, handlelength=1.8, columnspacing=1.2, borderaxespad=0.2,
                      title=f"All runs: {common}" if common else None, title_fontsize=LEGEND_FONT)


def _entries(runs: Sequence[RunLines], current: RunLines | None, shown: str, hidden: int,
             with_val: bool, ranking: str = "") -> tuple[list[Any], list[str]]:
    handles: list[Any] = []
    labels: list[str] = []
    for run in runs:
        solid = run is current
        handles.append(Line2D([], [], color=run.colour, lw=1.8 if solid else 1.2,
                              alpha=None if solid else max(FADED_ALPHA, 0.5)))
        only = ranking.split("@")[0] if ranking else "RMSE"
        labels.append(run.label if run.objective_name == shown else f"{run.label} ({only} only)")
    if hidden:
        handles.append(Line2D([], [], lw=0))
        labels.append(f"+{hidden} earlier")
    if with_val and ranking:
        handles.append(Line2D([], [], color="0.3", lw=1.5, ls="--"))
        labels.append(f"{ranking}: held out")
    elif with_val:
        handles += [Line2D([], [], color="0.3", lw=1.5), Line2D([], [], color="0.3", lw=1.5, ls="--")]
        labels += ["RMSE: training", "validation (held out)"]
    return handles, labels


def _columns(fig: Figure, labels: list[str]) -> int:
    """As many columns as fit the figure's width (estimated from the longest label)."""
    em = LEGEND_FONT * fig.dpi / 72
    widest = max(len(t) for t in labels) * 0.62 * em + (1.8 + 0.8 + 1.2) * em
    return max(1, min(len(labels), int(fig.get_figwidth() * fig.dpi * 0.96 // widest)))
