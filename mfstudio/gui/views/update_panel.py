"""This update: the last single update (Training ▸ One update) in the notebook's notation, with its numbers.

For sgd and biased-sgd, one rating's update: its error, then for each latent feature k the P and Q
entries before and after (the notebook's two lines, in its order), and the change in the objective.
For als, implicit-als and nmf, a half-step: the rule every row of one side follows, and one row of it worked out
(the selected user or item when it has ratings). implicit-als's rule is Hu et al.'s weighted least-squares row
solve, in which every cell counts: the empty ones with confidence 1 and preference 0 (through Yᵀ Y), the row's
own cells with confidence c = 1 + confidence·|r| and preference p = [r > 0]. The text is plain and selectable;
Copy puts it on the clipboard with every number in full.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import QHBoxLayout, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget

from mfstudio.core import Ratings
from mfstudio.core.numbers import exact_text
from mfstudio.core.solvers.micro import Update
from mfstudio.gui.experiment import Experiment, RunStart, Updated
from mfstudio.gui.views.widgets import caption

EMPTY_TEXT = ("Press One update (Training ▸ One update, Ctrl+Shift+T) to make a single update and see its "
              "arithmetic here: one rating's for sgd and biased-sgd, half a step for als, implicit-als and nmf.")
SOLVES = ("als", "implicit-als")  # a half-step that solves each row's system (nmf multiplies)


def _n(x: float, full: bool = False) -> str:
    """A number to 6 significant digits (``full``: every digit), a minus sign as "−"."""
    text = exact_text(float(x)) if full else f"{float(x):.6g}"
    return text.replace("-", "−", 1) if text.startswith("-") else text


def _factor(x: float, full: bool) -> str:
    """A number in a product: negative ones in brackets, "0.5·(−0.2)"."""
    t = _n(x, full)
    return f"({t})" if t.startswith("−") else t


def _sum(terms: list[float], full: bool) -> str:
    """Terms added up as written by hand: "3.28 − 0.0063 + 0.01"."""
    out = ""
    for k, v in enumerate(terms):
        t = _n(v, full)
        if k == 0:
            out = t
        else:
            out += f" − {t[1:]}" if t.startswith("−") else f" + {t}"
    return out


def _vec(a: np.ndarray, full: bool = False) -> str:
    return "[" + ", ".join(_n(v, full) for v in np.asarray(a, dtype=float).ravel()) + "]"


def update_text(u: Update, ratings: Ratings, full: bool = False) -> str:
    """``u`` in the notebook's notation, numbers to 6 significant digits (``full``: every digit)."""
    n = lambda x: _n(x, full)
    head = f"Step {u.step:,}, update {u.index + 1:,} of {u.total:,} ({u.solver})"
    lines = [head, ""]
    if u.is_rating:
        i, j = u.user, u.item
        lines.append(f"Rating R[{i},{j}] = {n(u.rating)}: {ratings.users[i]} (i = {i}) × {ratings.items[j]} "
                     f"(j = {j})")
        lines.append("")
        dot = " + ".join(f"{_factor(p, full)}·{_factor(q, full)}" for p, q in zip(u.p_before, u.q_before))
        if u.user_bias is None:
            lines.append(f"e_ij = R_ij − P_i·Q_j = {n(u.rating)} − ({dot}) = {n(u.error)}")
            lines.append("")
            lines.append(f"for each k: P[i][k] = P[i][k] + α (2 e_ij Q[k][j] − β P[i][k])      α = {n(u.alpha)}, "
                         f"β = {n(u.beta)}")
            lines.append("            Q[k][j] = Q[k][j] + α (2 e_ij P[i][k] − β Q[k][j])      (with the new P[i][k])")
        else:
            b0, b1 = u.user_bias
            c0, c1 = u.item_bias or (float("nan"), float("nan"))
            lines.append("e_ij = R_ij − (μ + b_i + c_j + P_i·Q_j)")
            lines.append(f"     = {n(u.rating)} − ({_sum([u.mean, b0, c0], full)} + {dot})")
            lines.append(f"     = {n(u.error)}")
            lines.append("")
            lines.append(f"b_i = b_i + α (e_ij − β b_i): {n(b0)} → {n(b1)}      α = {n(u.alpha)}, β = {n(u.beta)}")
            lines.append(f"c_j = c_j + α (e_ij − β c_j): {n(c0)} → {n(c1)}")
            lines.append("for each k: P[i][k] = P[i][k] + α (e_ij Q[k][j] − β P[i][k])")
            lines.append("            Q[k][j] = Q[k][j] + α (e_ij P[i][k] − β Q[k][j])      (with the old P[i][k])")
        lines.append("")
        for k in range(len(u.p_before)):
            lines.append(f"k = {k}:  P[{i}][{k}]: {n(u.p_before[k])} → {n(u.p_after[k])}    "
                         f"Q[{k}][{j}]: {n(u.q_before[k])} → {n(u.q_after[k])}")
    else:
        users = u.side == "users"
        own, other = ("P", "Q") if users else ("Q", "P")
        who = "user" if users else "item"
        lines.append(f"Half {u.index + 1} of 2: every {who}'s factors {'solved' if u.solver in SOLVES else 'updated'} "
                     f"with {other} fixed")
        lines.append("")
        how = ("solved exactly (Cholesky)" if u.cg_steps is None else
               f"{u.cg_steps} conjugate-gradient step{'' if u.cg_steps == 1 else 's'} from the current x")
        if u.solver == "implicit-als":
            ys = "items" if users else "users"
            lines.append(f"for each {who} x:  (Yᵀ Y + Σ_y (c_xy − 1) y yᵀ + β I) x = Σ_y c_xy p_xy y      (a weighted "
                         f"least-squares solve, {how}; Y: every one of the {ys}, each empty cell with c = 1 and p = 0, "
                         f"so Σ_y runs over the x's own n_x cells: c_xy = 1 + confidence·|r_xy|, p_xy = [r_xy > 0]; "
                         f"β = {n(u.beta)})")
        elif u.solver == "als":
            lines.append(f"for each {who} x:  (Σ_y y yᵀ + β/2 · n_x · I) x = Σ_y r_xy y      (a ridge solve, {how}; "
                         f"y: the {'items' if users else 'users'} it is rated with, n_x of them; β = {n(u.beta)})")
        else:
            lines.append(f"for each {who} x and k:  x_k = x_k · max(0, Σ_y r_xy y_k) / (Σ_y r̂_xy y_k + β/2 · n_x · x_k "
                         f"+ 1e-12)      (β = {n(u.beta)}; every factor stays ≥ 0)")
        if u.row >= 0:
            names = ratings.users if users else ratings.items
            others = ratings.items if users else ratings.users
            rated = ", ".join(others[int(k)] for k in u.rated[:12]) + (" …" if len(u.rated) > 12 else "")
            lines.append("")
            where = f"{'row' if users else 'column'} {u.row} of {own}"
            lines.append(f"{names[u.row]} ({where}), with n_x = {len(u.rated)}: {rated}")
            if u.solver == "implicit-als":
                lines.append(f"  confidences c_xy: {_vec(u.confidences, full)}")
            if u.solver in SOLVES:
                lines.append("  matrix: " + "; ".join(_vec(r, full) for r in u.gram))
                lines.append(f"  right-hand side: {_vec(u.rhs, full)}")
            else:
                lines.append(f"  numerator: {_vec(u.rhs, full)}")
                lines.append(f"  denominator: {_vec(u.denominator, full)}")
            lines.append(f"  x: {_vec(u.x_before, full)} → {_vec(u.x_after, full)}")
    d = u.objective_after - u.objective_before
    lines.append("")
    name = "F (Hu et al., every cell)" if u.solver == "implicit-als" else "e"
    lines.append(f"objective {name}: {n(u.objective_before)} → {n(u.objective_after)} "
                 f"({'+' if d >= 0 else '−'}{n(abs(d))})")
    if u.completes_step:
        lines.append(f"Step {u.step:,} is complete.")
    return "\n".join(lines)


class UpdatePanel(QWidget):
    """The last single update, in the notebook's notation (objectName ``updatePanel``)."""

    statusMessage = Signal(str)

    def __init__(self, experiment: Experiment, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("updatePanel")
        self.update_: Updated | None = None
        self.text = QPlainTextEdit()
        self.text.setObjectName("updateText")
        self.text.setAccessibleName("The last update's arithmetic")
        self.text.setReadOnly(True)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.text.setPlaceholderText(EMPTY_TEXT)
        self.copy_button = QPushButton("Copy")
        self.copy_button.setObjectName("copyUpdateButton")
        self.copy_button.setToolTip("Copy the update's arithmetic, every number in full.")
        self.copy_button.clicked.connect(self.copy)
        self.note = caption("One update at a time, in the order the solver makes them; the last one of a step "
                            "completes it (the loss curve gets its point). Step, Continue and Train go on from here.")
        bar = QHBoxLayout()
        bar.addWidget(self.note, 1)
        bar.addWidget(self.copy_button, 0, Qt.AlignmentFlag.AlignTop)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.setSpacing(2)
        lay.addLayout(bar)
        lay.addWidget(self.text, 1)
        experiment.updated.connect(self._on_updated)
        experiment.started.connect(self._on_started)
        experiment.cleared.connect(self._on_cleared)

    @Slot(object)
    def _on_updated(self, updated: Updated) -> None:
        self.update_ = updated
        text = update_text(updated.update, updated.shown.ratings)
        if updated.diverged:
            text += ("\n\nThe objective became too large: this update was undone, and the factors are those "
                     "before it. Try a smaller learning rate (α), then One update again.")
        self.text.setPlainText(text)

    @Slot(object)
    def _on_started(self, _run: RunStart) -> None:
        if self.update_ is not None:  # what is shown is older than the run: say so, keep it readable
            self.text.appendPlainText("\n(A run has started since: the model has moved on from this update.)")
            self.update_ = None

    @Slot()
    def _on_cleared(self) -> None:
        self.update_ = None
        self.text.clear()

    @Slot()
    def copy(self) -> None:
        u = self.update_
        if u is None:
            self.statusMessage.emit("Make an update first (One update), then copy it.")
            return
        QGuiApplication.clipboard().setText(update_text(u.update, u.shown.ratings, full=True) + "\n")
        self.statusMessage.emit("Copied the update's arithmetic, every number in full.")
