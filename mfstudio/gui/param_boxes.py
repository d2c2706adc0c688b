"""The parameter boxes: spin boxes made from a parameter's declaration (range, default, help), that take
numbers as people type them, refuse values out of range with a sentence, and step along 1-2-5."""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QDoubleSpinBox,
    QSpinBox,
    QWidget,
)

from mfstudio.core import ParamSpec
from mfstudio.core.numbers import SPACES, UNAMBIGUOUS_COMMA, NumberError, is_number, param_text, read_number
from mfstudio.core.params import HOLDOUT

_NICE = (1.0, 2.0, 5.0)


def nice_step(value: float, steps: int) -> float:
    """Move ``value`` ``steps`` places along 1-2-5 × 10^k (0 sits below the smallest)."""
    for _ in range(abs(steps)):
        if value <= 0:
            value = 1e-4 if steps > 0 else 0.0
            continue
        exp = math.floor(math.log10(value))
        seq = [n * 10.0 ** e for e in (exp - 1, exp, exp + 1) for n in _NICE]
        if steps > 0:
            value = next(v for v in seq if v > value * (1 + 1e-9))
        else:
            value = [v for v in seq if v < value * (1 - 1e-9)][-1]
            if value < 1e-12:
                value = 0.0
        value = float(f"{value:.12g}")  # 2 * 10**-4 is 0.00020000000000000001
    return value


def range_text(spec: ParamSpec) -> str:
    """The allowed values in words: ``a whole number from 1 to 1,000``, ``above 0 and at most 10``,
    ``from 0 to below 1``, ``a whole number from 1 to 1,000,000,000, or off``."""
    off = f", or {spec.off}" if spec.off else ""
    if spec.kind is int:
        lo = int(spec.minimum) + (1 if spec.min_exclusive else 0)
        hi = int(spec.maximum) - (1 if spec.max_exclusive else 0)
        return f"a whole number from {lo:,} to {hi:,}{off}"
    lo, hi = param_text(spec.minimum), param_text(spec.maximum)
    if spec.min_exclusive:
        return f"above {lo} and {'below' if spec.max_exclusive else 'at most'} {hi}{off}"
    return f"from {lo} to {'below ' if spec.max_exclusive else ''}{hi}{off}"


def short_name(spec: ParamSpec) -> str:
    """What a sentence calls the parameter: ``α`` for "Learning rate (α)", ``steps`` for "Steps", ``CG steps``
    for "CG steps" (an abbreviation keeps its capitals)."""
    if "(" in spec.label and spec.label.endswith(")"):
        return spec.label[spec.label.rindex("(") + 1 : -1]
    first = spec.label.split(" ")[0]
    return spec.label if len(first) > 1 and first.isupper() else spec.label.lower()


def _is_number(text: str, integer: bool) -> bool:
    """True for a number by the project's one rule (``core.numbers``; a whole-number box also takes the
    thousands separators it shows itself, "10,000"), or the sign a number starts with ("-3" can be typed,
    then refused)."""
    t = text.strip(SPACES)
    if t in ("-", "+"):
        return True
    if integer:
        return is_number(t.replace(",", ""))
    return is_number(t, UNAMBIGUOUS_COMMA)


class IntSpinBox(QSpinBox):
    """A whole-number box that lets any number be typed, and says the range when one outside it is refused.

    ``refused(sentence)`` is emitted when the typed text is put back.
    """

    refused = Signal(str)

    def __init__(self, spec: ParamSpec, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.spec = spec

    def _bare(self, text: str) -> str:
        """The typed text without the suffix, in lower case (to compare with the word for off)."""
        t, suffix = text.strip(), self.suffix().strip()
        if suffix and t.endswith(suffix):
            t = t[: -len(suffix)].strip()
        return t.lower()

    def validate(self, text: str, pos: int) -> tuple[QValidator.State, str, int]:
        if self.spec.off:  # the word for off may be typed ("Off"), as well as shown
            t, word = self._bare(text), self.spec.off.lower()
            if t == word:
                return QValidator.State.Acceptable, text, pos
            if t and word.startswith(t):
                return QValidator.State.Intermediate, text, pos
        state, text2, pos2 = super().validate(text, pos)
        if state == QValidator.State.Invalid and _is_number(text, True):
            return QValidator.State.Intermediate, text, pos  # let it be typed; refused with a sentence at the end
        return state, text2, pos2

    def valueFromText(self, text: str) -> int:
        if self.spec.off and self._bare(text) == self.spec.off.lower():
            return self.minimum()
        return super().valueFromText(text)

    def fixup(self, text: str) -> str:
        shown = self.specialValueText() if self.value() == self.minimum() and self.specialValueText() else \
            f"{self.value():,}"
        self.refused.emit(f"{self.spec.label} must be {range_text(self.spec)}; it stays {shown}.")
        return text

    def spec_value(self) -> int | None:
        """The value shown, None when the box shows its word for off (a parameter declared with ``off``)."""
        if self.spec.off and self.value() == self.minimum():
            return None
        return int(self.value())

    def set_spec_value(self, value: int | None) -> None:
        """Show ``value``; None shows the word for off."""
        self.setValue(self.minimum() if value is None else int(value))


class NumberSpinBox(QDoubleSpinBox):
    """A float spin box that shows numbers compactly (``0.0002``, ``1e-05``) and steps 1-2-5 on log scales.

    Any number may be typed; one outside the range is refused with ``refused(sentence)``. A parameter
    declared with ``off`` ("auto") gets one more value below its range that shows the word (typed too),
    read as None by :meth:`spec_value`; stepping up from it goes to ``first``.
    """

    refused = Signal(str)

    def __init__(self, spec: ParamSpec, parent: QWidget | None = None, first: float = 0.0) -> None:
        super().__init__(parent)
        self.spec = spec
        self.first = first
        self.setDecimals(15)  # QDoubleSpinBox rounds to its decimals; keep values exact
        lo = float(spec.minimum)
        if spec.min_exclusive:
            lo = math.nextafter(lo, math.inf) if lo != 0 else 1e-12
        if spec.off:
            lo -= 1.0
            self.setSpecialValueText(spec.off.capitalize())
        self.setRange(lo, float(spec.maximum))
        self.setValue(lo if spec.off else self.value())  # a box with a word starts on it
        self.setKeyboardTracking(False)
        self.setCorrectionMode(QAbstractSpinBox.CorrectionMode.CorrectToPreviousValue)

    def textFromValue(self, value: float) -> str:
        return param_text(value)

    def spec_value(self) -> float | None:  # the value shown; None: the word (a parameter declared with ``off``)
        return None if self.spec.off and self.value() == self.minimum() else float(self.value())

    def set_spec_value(self, value: float | None) -> None:  # None: the word
        self.setValue(self.minimum() if value is None else float(value))

    def valueFromText(self, text: str) -> float:
        if self.spec.off and text.strip().lower() == self.spec.off.lower():
            return self.minimum()
        try:
            v = read_number(text, UNAMBIGUOUS_COMMA)  # the grid's rule: "0,5" is a half, "1,000" is refused
        except NumberError:
            return self.value()
        return self.value() if v is None else v

    def validate(self, text: str, pos: int) -> tuple[QValidator.State, str, int]:
        t = text.strip(SPACES)
        if self.spec.off and t and self.spec.off.lower().startswith(t.lower()):  # the word, or its start
            return (QValidator.State.Acceptable if t.lower() == self.spec.off.lower()
                    else QValidator.State.Intermediate), text, pos
        if t in ("", "-", "+", ".", "-.", "+.", ",", "-,", "+,") or t.lower().endswith(("e", "e-", "e+")):
            return QValidator.State.Intermediate, text, pos
        try:
            v = read_number(t, UNAMBIGUOUS_COMMA)
        except NumberError as exc:
            # "1,000" could still become "1,0005" (a decimal comma); anything else is no number
            return (QValidator.State.Intermediate if exc.kind == "ambiguous" else QValidator.State.Invalid), text, pos
        if v is None:
            return QValidator.State.Intermediate, text, pos
        if self.minimum() <= v <= self.maximum():
            return QValidator.State.Acceptable, text, pos
        return QValidator.State.Intermediate, text, pos

    def fixup(self, text: str) -> str:
        kept = param_text(self.value())
        try:
            read_number(text, UNAMBIGUOUS_COMMA)
        except NumberError as exc:
            if exc.kind == "ambiguous":
                self.refused.emit(f"{self.spec.label}: {text.strip()} {exc} (write 1000 or 1.000); it stays {kept}.")
                return text
        self.refused.emit(f"{self.spec.label} must be {range_text(self.spec)}; it stays {kept}.")
        return text

    def stepBy(self, steps: int) -> None:
        below = self.value() + steps * self.singleStep() < self.spec.minimum
        if self.spec.off and (self.spec_value() is None or below):  # the word: up from it to ``first``, down to it
            self.setValue(self.first if self.spec_value() is None and steps > 0 else self.minimum())
        elif self.spec.log_scale:
            v = nice_step(self.value(), steps)
            self.setValue(min(max(v, self.minimum()), self.maximum()))
        else:
            super().stepBy(steps)


def tooltip_for(spec: ParamSpec) -> str:
    """Plain-words help: "Learning rate (α): how big each correction step is. …" plus range and default."""
    text = spec.help[:1].lower() + spec.help[1:] if spec.help else ""
    if spec.default is None:
        default = spec.off.capitalize()
    else:
        default = f"{spec.default:,}" if spec.kind is int else param_text(spec.default)
    return f"{spec.label}: {text}\nAllowed: {spec.range_words()}. Default: {default}."


class HoldoutBox(QDoubleSpinBox):
    """The hold-out share (``params.HOLDOUT``) in whole per cent: 0 up to 99 (the share is below 1);
    a share outside that is refused with ``refused(sentence)``."""

    refused = Signal(str)

    def __init__(self, spec: ParamSpec = HOLDOUT, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.spec = spec
        self.setDecimals(0)
        lo = 100.0 * spec.minimum + (1 if spec.min_exclusive else 0)
        hi = 100.0 * spec.maximum - (1 if spec.max_exclusive else 0)
        self.setRange(lo, hi)
        self.setSingleStep(5.0)
        self.setSuffix(" %")
        self.setValue(100.0 * float(spec.default or 0.0))
        self.setAccessibleName(spec.label)
        self.setToolTip(
            f"{spec.label}: the part of the ratings hidden from training and used to measure how well the\n"
            "model predicts ratings it has not seen (validation RMSE). 0 % trains on everything.\n"
            f"Allowed: from {lo:g} % up to {hi:g} %. Default: {100.0 * float(spec.default or 0.0):g} %.\n"
            "Cells you mark as held out in the grid are used instead when there are any."
        )

    def holdout(self) -> float:
        return float(self.value()) / 100.0

    def set_holdout(self, holdout: float) -> None:
        self.setValue(round(float(holdout) * 100.0))

    def validate(self, text: str, pos: int) -> tuple[QValidator.State, str, int]:
        state, text2, pos2 = super().validate(text, pos)
        if state == QValidator.State.Invalid and _is_number(text.replace(self.suffix().strip(), ""), False):
            return QValidator.State.Intermediate, text, pos
        return state, text2, pos2

    def fixup(self, text: str) -> str:
        lo, hi = self.minimum(), self.maximum()
        self.refused.emit(f"{self.spec.label} must be from {lo:g} to {hi:g} %; it stays {self.value():g} %.")
        return text


def make_param_widget(spec: ParamSpec, parent: QWidget | None = None) -> IntSpinBox | NumberSpinBox:
    """A spin box for ``spec`` with its range, default, tooltip, objectName ``param_<name>``.

    A whole-number parameter declared with ``off`` goes one below its minimum, where the box
    shows the word ("Off"); :meth:`IntSpinBox.spec_value` reads that as None.
    """
    w: IntSpinBox | NumberSpinBox
    if spec.kind is int:
        w = IntSpinBox(spec, parent)
        lo = int(spec.minimum) + (1 if spec.min_exclusive else 0) - (1 if spec.off else 0)
        hi = int(spec.maximum) - (1 if spec.max_exclusive else 0)
        w.setRange(lo, int(min(hi, 2**31 - 1)))
        if spec.off:
            w.setSpecialValueText(spec.off.capitalize())
        w.set_spec_value(None if spec.default is None else int(spec.default))
        if spec.maximum >= 10_000:
            w.setGroupSeparatorShown(True)
        w.setKeyboardTracking(False)
    else:
        w = NumberSpinBox(spec, parent)
        w.set_spec_value(None if spec.default is None else float(spec.default))
    w.setObjectName(f"param_{spec.name}")
    w.setAccessibleName(spec.label)
    w.setAccessibleDescription(spec.help)
    w.setToolTip(tooltip_for(spec))
    w.setMinimumWidth(110)
    return w


def _value(w: IntSpinBox | NumberSpinBox) -> Any:
    """A box's value: int or float, None where a box that can be off shows its word (cg_steps "Exact")."""
    return w.spec_value()


