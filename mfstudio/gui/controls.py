"""The solver and parameter panel, built from the solvers' parameter declarations, plus run buttons.

Every widget is made from a :class:`~mfstudio.core.ParamSpec` (range, default, help),
so a new solver parameter appears here without touching this file.

Switching solver keeps what the solvers share (K and the seed; the hold-out share and the
patience are run parameters, not a solver's), while the solver's own values (steps, α, β, tolerance) follow
the solver: the values last used with it in this session (or remembered from the last
one), else its defaults. A step of sgd is one pass over the ratings and a step of als a
full solve, so a number of steps means something different for each solver and is not
carried over. A number typed outside a box's range is refused with a sentence naming
the range (``statusMessage``), not silently put back.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import QPoint, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QLabel,
    QPushButton,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from mfstudio.core import SOLVERS, MFStudioError, ParamSpec, defaults, get_solver
from mfstudio.core.numbers import param_text
from mfstudio.core.params import HOLDOUT, PATIENCE, RELEVANCE
from mfstudio.core.ranking import DEFINITIONS
from mfstudio.gui.param_boxes import (  # noqa: F401  (make_param_widget: the boxes' one maker)
    HoldoutBox,
    IntSpinBox,
    NumberSpinBox,
    _value,
    make_param_widget,
    range_text,
    short_name,
    tooltip_for,
)
from mfstudio.gui.settings import Settings

# The speeds offered, fastest first: the default runs at full speed; the slowest makes one step a second.
SPEEDS = (("Fastest", math.inf), ("30 steps/s", 30.0), ("10 steps/s", 10.0), ("3 steps/s", 3.0), ("1 step/s", 1.0))
SPEED_WORDS = ("as fast as possible", "30 steps a second", "10 steps a second", "3 steps a second",
               "one step a second")  # what each says, in full (its tooltip)

SHARED = ("K", "seed")  # parameters kept when the solver changes; the others follow the solver
PATIENCE_NEEDS_HOLDOUT = ("Early stopping watches the error on held-out ratings: set a hold-out share above 0 % "
                          "(or hold out cells in the grid) to use it.")


def _stored_params(settings: Settings, solver: str) -> dict[str, Any]:
    """The remembered parameters of ``solver`` that are still valid (damaged ones are left out)."""
    specs = {spec.name: spec for spec in get_solver(solver).params}
    params: dict[str, Any] = {}
    for name, value in settings.solver_params(solver).items():
        spec = specs.get(name)
        if spec is None or isinstance(value, bool) or not (isinstance(value, (int, float)) or
                                                           (value is None and spec.off)):
            continue
        try:
            params[name] = spec.validate(value)
        except MFStudioError:
            continue
    return params


class ControlPanel(QWidget):
    """Solver chooser, parameters, seed, hold-out share, patience and the run buttons.

    ``statusMessage(sentence)`` says what a solver switch changed, or that a typed value was refused.
    """

    paramsChanged = Signal()
    speedChanged = Signal(float)  # steps per second at most (infinite: as fast as possible)
    widgetsRebuilt = Signal()  # the parameter spin boxes were replaced (the tab order must follow)
    statusMessage = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.param_widgets: dict[str, IntSpinBox | NumberSpinBox] = {}
        self._solver = ""  # the solver the parameter boxes are built for
        self._memory: dict[str, dict[str, Any]] = {}  # solver -> its own values as last shown
        self.data_ratings = 0  # how many ratings the open data has (the defaults follow its size)
        self._running = False
        self._cells_held_out = False  # the grid holds ratings out (the document says so)

        # -- solver --------------------------------------------------------------------
        self.solver_box = QComboBox()
        self.solver_box.setObjectName("solverChooser")
        self.solver_box.setAccessibleName("Solver")
        for name, cls in SOLVERS.items():
            self.solver_box.addItem(f"{cls.title} ({name})", name)
            self.solver_box.setItemData(self.solver_box.count() - 1, cls.description, Qt.ItemDataRole.ToolTipRole)
        self.solver_box.setToolTip("The method that finds P and Q; each one's idea is shown below it.")
        self.description = QLabel()
        self.description.setObjectName("solverDescription")
        self.description.setWordWrap(True)
        self.description.setStyleSheet("color: palette(placeholder-text);")

        self.param_box = QGroupBox("Parameters")
        self.param_form = QFormLayout(self.param_box)
        self.param_form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.param_form.setContentsMargins(8, 4, 8, 4)
        self.param_form.setVerticalSpacing(3)

        # -- seed and hold-out ---------------------------------------------------------------
        from mfstudio.core.params import SEED

        self.seed = make_param_widget(SEED)
        self.seed.valueChanged.connect(self._on_param_edited)
        self.seed.refused.connect(self._on_refused)
        self.holdout_box = HoldoutBox(HOLDOUT)
        self.holdout_box.setObjectName("holdoutFraction")
        self.holdout_box.setKeyboardTracking(False)  # typing "25" is one hold-out change, not "2" then "25"
        self.holdout_box.valueChanged.connect(self._on_param_edited)
        self.holdout_box.refused.connect(self._on_refused)
        self.patience_box = make_param_widget(PATIENCE)  # "Off" below 1: no early stopping
        self.patience_box.setObjectName("patience")
        self._patience_tip = tooltip_for(PATIENCE) + "\nOff trains for all the steps."
        self.patience_box.setToolTip(self._patience_tip)
        self.holdout_box.valueChanged.connect(self._sync_patience)
        self.patience_box.valueChanged.connect(self._on_param_edited)
        self.patience_box.refused.connect(self._on_refused)
        self.relevance_box = NumberSpinBox(RELEVANCE, first=4.0)  # Auto (None); up from it: 4, the 1-5 scale's
        self.relevance_box.setObjectName("relevanceThreshold")
        self.relevance_box.setSingleStep(0.5)
        self.relevance_box.setAccessibleName(RELEVANCE.label)
        self.relevance_box.refused.connect(self._on_refused)
        split_box = self.split_box = QGroupBox("Random start and hold-out")
        split_form = QFormLayout(split_box)
        split_form.setContentsMargins(8, 4, 8, 4)
        split_form.setVerticalSpacing(3)
        split_form.addRow(self._label_for(SEED), self.seed)
        holdout_label = QLabel(HOLDOUT.label)
        holdout_label.setToolTip(self.holdout_box.toolTip())
        holdout_label.setBuddy(self.holdout_box)
        relevance_label = self._label_for(RELEVANCE)
        relevance_label.setBuddy(self.relevance_box)
        relevance_label.setIndent(10)
        holdout_row = QGridLayout()  # the share, and beside it the rating from which a held-out one is relevant
        for col, w in enumerate((self.holdout_box, relevance_label, self.relevance_box)):
            holdout_row.addWidget(w, 0, col)
            if col:
                w.setToolTip(f"{tooltip_for(RELEVANCE)}\nThe next Train uses it.\n\n{DEFINITIONS}")
        split_form.addRow(holdout_label, holdout_row)
        patience_label = self._label_for(PATIENCE)
        patience_label.setBuddy(self.patience_box)
        split_form.addRow(patience_label, self.patience_box)

        # -- buttons -------------------------------------------------------------------------
        self.train_button = self._button("Train", "trainButton", "Train",
                                         "Train a new model from the random start of the seed, for Steps steps.")
        self.train_button.setDefault(True)
        self.train_button.setStyleSheet("QPushButton { font-weight: bold; padding: 5px 14px; }")
        self.continue_button = self._button("Continue", "continueButton", "Continue training",
                                            "Make Steps more steps from the current factors.")
        self.pause_button = self._button("Pause", "pauseButton", "Pause or resume",
                                         "Pause the run; press again to resume it.")
        self.stop_button = self._button("Stop", "stopButton", "Stop", "Stop the run and keep its results.")
        self.step_button = self._button("Step", "stepButton", "One step",
                                        "Make one training step and show the result.")
        self.reset_button = self._button("Reset", "resetButton", "Reset",
                                         "Forget the trained model and draw a new random start "
                                         "(the seed goes up by one).")
        self.speed_box = QComboBox()
        self.speed_box.setObjectName("speedControl")
        self.speed_box.setAccessibleName("Training speed")
        self.speed_box.setToolTip("Speed: how fast a run goes, from as fast as possible (Fastest) down to one step a "
                                  "second, so that every view (grid, R-hat, P, Q, the latent map and the loss "
                                  "curve) moves step by step. "
                                  "A change takes effect at once, also during a run.")
        for (text, rate), words in zip(SPEEDS, SPEED_WORDS):
            self.speed_box.addItem(text, rate)
            self.speed_box.setItemData(self.speed_box.count() - 1, f"Train {words}.", Qt.ItemDataRole.ToolTipRole)
        self.speed_box.currentIndexChanged.connect(lambda _i: self.speedChanged.emit(self.speed()))
        self.speed_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.speed_box.setMinimumContentsLength(8)
        self.update_button = self._button("One update", "stepRatingButton", "One update",
                                          "Make the next single update and show its arithmetic: one rating's "
                                          "(sgd, biased-sgd) or half a step (als, nmf).")
        # two rows of four: Train, Continue, Step, One update above Pause, Stop, Reset and the speed (a third row
        # or six side by side would make the window too tall or too wide for a small screen)
        buttons = QGridLayout()
        buttons.setSpacing(4)
        for i, b in enumerate((self.train_button, self.continue_button, self.step_button, self.update_button,
                               self.pause_button, self.stop_button, self.reset_button, self.speed_box)):
            buttons.addWidget(b, i // 4, i % 4)
        for col in range(4):
            buttons.setColumnStretch(col, 1)
        for w in (self.train_button, self.continue_button, self.step_button, self.update_button, self.pause_button,
                  self.stop_button, self.reset_button):  # as narrow as their words (the style asks 80 px each)
            text = "Resume" if w is self.pause_button else w.text()  # Pause turns into Resume
            w.setMinimumWidth(w.fontMetrics().horizontalAdvance(text) + 16)

        head = QLabel("<b>Solver</b>")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(4)
        lay.addWidget(head)
        lay.addWidget(self.solver_box)
        lay.addWidget(self.description)
        lay.addWidget(self.param_box)
        lay.addWidget(split_box)
        lay.addLayout(buttons)
        lay.addStretch(1)

        self.solver_box.currentIndexChanged.connect(self._on_solver_index)
        self._build_params("sgd")
        self.set_running(False)

    def speed(self) -> float:
        """The speed chosen: steps per second at most (infinite: as fast as possible)."""
        return float(self.speed_box.currentData())

    def set_speed(self, steps_per_second: float) -> None:
        """Choose the speed nearest ``steps_per_second`` among those offered."""
        rates = [r for _t, r in SPEEDS]
        k = min(range(len(rates)), key=lambda n: abs(math.log(rates[n]) - math.log(steps_per_second))
                if math.isfinite(rates[n]) and math.isfinite(steps_per_second) else
                (0 if rates[n] == steps_per_second else math.inf))
        self.speed_box.setCurrentIndex(k)

    # -- construction helpers ---------------------------------------------------------------
    def _button(self, text: str, name: str, accessible: str, tip: str) -> QPushButton:
        b = QPushButton(text)
        b.setObjectName(name)
        b.setAccessibleName(accessible)
        b.setToolTip(tip)
        return b

    @staticmethod
    def _label_for(spec: ParamSpec) -> QLabel:
        lab = QLabel(spec.label)
        lab.setToolTip(tooltip_for(spec))
        return lab

    def _build_params(self, solver: str) -> None:
        while self.param_form.rowCount():
            self.param_form.removeRow(0)
        self.param_widgets = {}
        self._solver = solver
        for spec in get_solver(solver).params:
            if spec.name == "seed":  # in the random start box, below
                continue
            w = make_param_widget(spec, self.param_box)
            w.valueChanged.connect(self._on_param_edited)
            w.refused.connect(self._on_refused)
            lab = self._label_for(spec)
            lab.setBuddy(w)
            self.param_form.addRow(lab, w)
            self.param_widgets[spec.name] = w
        cls = get_solver(solver)
        self.description.setText(cls.description)
        self.description.setToolTip(cls.title)
        self.widgetsRebuilt.emit()

    # -- reading and setting ------------------------------------------------------------------
    def solver(self) -> str:
        return str(self.solver_box.currentData())

    def shown_params(self) -> dict[str, Any]:
        """The chosen solver's parameters (including the seed) as the boxes show them, not yet checked
        (a run request checks them, once)."""
        out = {name: _value(w) for name, w in self.param_widgets.items()}
        out["seed"] = int(self.seed.value())
        return out

    def params(self) -> dict[str, Any]:
        """The chosen solver's parameters (including the seed) as shown, checked."""
        return get_solver(self.solver()).resolve_params(self.shown_params())

    def holdout(self) -> float:
        """The hold-out share shown (0 up to below 1)."""
        return self.holdout_box.holdout()

    def set_holdout(self, holdout: float) -> None:
        self.holdout_box.set_holdout(holdout)

    def patience(self) -> int | None:
        """The early-stopping patience in steps, None when the box shows Off."""
        return self.patience_box.spec_value()

    def set_patience(self, patience: int | None) -> None:
        """Show ``patience`` (None: Off); one longer than the box holds shows its longest."""
        p = None if patience is None else min(int(patience), self.patience_box.maximum())
        self.patience_box.set_spec_value(p)

    def set_cells_held_out(self, held: bool) -> None:
        """Whether the grid holds ratings out (by the share or by hand): the patience has something to watch."""
        self._cells_held_out = bool(held)
        self._sync_patience()

    def _sync_patience(self, *_args: Any) -> None:
        """The patience box is on offer only with a hold-out (its value is kept meanwhile); the tooltip says why."""
        available = self.holdout() > 0 or self._cells_held_out
        self.patience_box.setEnabled(available and not self._running)
        self.patience_box.setToolTip(self._patience_tip if available else
                                     f"{PATIENCE_NEEDS_HOLDOUT}\n\n{self._patience_tip}")
        self.relevance_box.setEnabled(available and not self._running)  # the ranking metrics need it too

    def relevance(self) -> float | None:  # the ranking metrics' threshold (params.RELEVANCE); None: Auto
        return self.relevance_box.spec_value()

    def set_relevance(self, relevance: float | None) -> None:
        self.relevance_box.set_spec_value(relevance)

    def set_seed(self, seed: int) -> None:
        self.seed.setValue(int(seed))

    def tab_chain(self) -> list[QWidget]:
        """The panel's widgets in Tab order: solver, its parameters, seed, hold-out and the relevance threshold
        beside it, patience, then the buttons and the speed row by row."""
        return [self.solver_box, *self.param_widgets.values(), self.seed, self.holdout_box, self.relevance_box,
                self.patience_box, self.train_button, self.continue_button, self.step_button, self.update_button,
                self.pause_button, self.stop_button, self.reset_button, self.speed_box]

    # -- remembered between starts ------------------------------------------------------------
    def restore_from(self, settings: Settings) -> None:
        """The solver and each solver's parameters from the last run; damaged values are left out."""
        for name in SOLVERS:  # each solver's own values come back when it is chosen again
            self.remember(name, _stored_params(settings, name))
        solver = settings.last_solver()
        if solver not in SOLVERS:
            return
        try:
            self.set_solver(solver, _stored_params(settings, solver))
        except (MFStudioError, TypeError, ValueError, OverflowError):
            self.set_solver("sgd")

    def store_to(self, settings: Settings, params: Mapping[str, Any] | None = None) -> None:
        """Remember the solver shown and every solver's parameters (those that validate); ``params``, when
        given, are the shown solver's, already checked (a run's request)."""
        settings.set_last_solver(self.solver())
        for name in SOLVERS:
            own = self.remembered(name)
            if own and name != self.solver():
                settings.set_solver_params(name, {**settings.solver_params(name), **own})
        try:
            settings.set_solver_params(self.solver(), dict(params) if params is not None else self.params())
        except MFStudioError:
            pass  # parameters that do not validate are not worth remembering

    def remember(self, solver: str, params: dict[str, Any]) -> None:
        """Take ``params`` as the values last used with ``solver`` (its own ones; K and the seed are shared)."""
        names = {spec.name for spec in get_solver(solver).params} - set(SHARED)
        self._memory[solver] = {k: v for k, v in params.items() if k in names}

    def remembered(self, solver: str) -> dict[str, Any]:
        """The values last shown for ``solver``'s own parameters ({} if never shown)."""
        if solver == self._solver:
            return {k: _value(w) for k, w in self.param_widgets.items() if k not in SHARED}
        return dict(self._memory.get(solver, {}))

    def set_solver(self, name: str, params: dict[str, Any] | None = None) -> None:
        """Choose ``name`` and show its defaults, overridden by ``params`` where given."""
        get_solver(name)  # a clear error for an unknown name
        idx = self.solver_box.findData(name)
        if idx != self.solver_box.currentIndex():
            self.remember(self._solver, self.remembered(self._solver))
            self.solver_box.blockSignals(True)
            self.solver_box.setCurrentIndex(idx)
            self.solver_box.blockSignals(False)
            self._build_params(name)
        self.set_params({**get_solver(name).defaults(), **(params or {})},
                        keep_seed=params is None or "seed" not in params)

    def set_params(self, params: dict[str, Any], *, keep_seed: bool = False) -> None:
        for name, value in params.items():
            if name == "seed":
                if not keep_seed:
                    self.seed.setValue(int(value))
                continue
            w = self.param_widgets.get(name)
            if w is not None:
                w.blockSignals(True)
                w.set_spec_value(value)
                w.blockSignals(False)
        self.paramsChanged.emit()

    def set_running(self, running: bool, paused: bool = False) -> None:
        """Enable the controls that make sense while a run is (or is not) going (Continue: see the window)."""
        for w in (*self.param_widgets.values(), self.seed, self.holdout_box, self.solver_box,
                  self.train_button, self.step_button, self.reset_button, self.update_button):
            w.setEnabled(not running)
        self._running = running
        self._sync_patience()
        self.pause_button.setEnabled(running)
        self.stop_button.setEnabled(running)
        self.pause_button.setText("Resume" if paused else "Pause")

    # -- slots --------------------------------------------------------------------------------
    @Slot(int)
    def _on_solver_index(self, index: int) -> None:
        """The user chose another solver: keep K and the seed, give the solver's own values back, say what changed."""
        old, name = self._solver, str(self.solver_box.itemData(index))
        before = {k: _value(w) for k, w in self.param_widgets.items()}
        self.remember(old, before)
        own = self._memory.get(name, {})
        values = {**get_solver(name).defaults(), **own, **{k: before[k] for k in SHARED if k in before}}
        # a value still at one data size's default takes the open data's (core.defaults)
        tuned = defaults.retune(name, values, self.data_ratings)
        values.update(tuned)
        self._build_params(name)
        self.set_params(values, keep_seed=True)
        said = self._switch_message(old, name, before, values, own)
        self.statusMessage.emit(f"{said} {defaults.sentence(name, tuned, self.data_ratings)}" if tuned else said)

    @staticmethod
    def _switch_message(old: str, new: str, before: dict[str, Any], after: dict[str, Any],
                        own: dict[str, Any]) -> str:
        """E.g. "Switched to als: K and the seed kept; steps set to als's default (50); als has no α." """
        specs = {spec.name: spec for spec in get_solver(new).params}
        kept = [short_name(specs[k]) for k in SHARED if k in specs and k != "seed"] + ["the seed"]
        changed = [k for k, spec in specs.items() if k not in SHARED and before.get(k) != after.get(k)]
        parts = [f"Switched to {new}: {' and '.join(kept)} kept"]
        if changed:
            names = [short_name(specs[k]) for k in changed]
            values = [specs[k].show(after[k]) if after[k] is None or specs[k].kind is int else param_text(after[k])
                      for k in changed]
            if all(k in own and own[k] == after[k] for k in changed):
                whose = f"the values last used with {new}" if len(changed) > 1 else f"the value last used with {new}"
            elif any(k in own for k in changed):
                whose = f"{new}'s own values"
            else:
                whose = f"{new}'s default{'s' if len(changed) > 1 else ''}"
            listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
            parts.append(f"{listed} set to {whose} ({', '.join(values)})")
        old_specs = {spec.name: spec for spec in get_solver(old).params} if old else {}
        gone = [short_name(spec) for k, spec in old_specs.items() if k not in specs]
        if gone:
            parts.append(f"{new} has no {' or '.join(gone)}")
        return "; ".join(parts) + "."

    @Slot(str)
    def _on_refused(self, sentence: str) -> None:
        """A typed value outside a box's range was put back: say so in the status bar and beside the box."""
        box = self.sender()
        if isinstance(box, QWidget):
            QToolTip.showText(box.mapToGlobal(QPoint(0, box.height())), sentence, box)
        self.statusMessage.emit(sentence)

    @Slot()
    def _on_param_edited(self) -> None:
        self.paramsChanged.emit()
