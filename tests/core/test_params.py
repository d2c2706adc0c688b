"""Every parameter declared once: each takes its range and refuses what lies outside with a sentence,
the run's parameters (hold-out share, patience, recommendations per user) included, and the command
line's flags are built from the declarations."""

from __future__ import annotations

import math

import pytest

import mfstudio.cli.common  # noqa: F401  (cli.common)
from mfstudio import cli
from mfstudio.core import RUN_PARAMS, SOLVERS, ParameterError, resolve_run_params
from mfstudio.core.params import HOLDOUT, PATIENCE, TOP_N, ParamSpec

ALL_SPECS = {f"{owner}.{s.name}": s for owner, specs in
             [*((n, c.params) for n, c in SOLVERS.items()), ("run", RUN_PARAMS)] for s in specs}


def _inside(spec: ParamSpec) -> list[float | int]:
    """Values every spec must take: its default and its bounds where they are allowed."""
    out = [] if spec.default is None else [spec.default]
    out.append(spec.minimum + (1 if spec.kind is int else 1e-9) if spec.min_exclusive else spec.minimum)
    out.append(spec.maximum - (1 if spec.kind is int else 1e-9) if spec.max_exclusive else spec.maximum)
    return out


def _outside(spec: ParamSpec) -> list[float | int]:
    step = 1 if spec.kind is int else spec.maximum * 1e-6
    return [spec.minimum if spec.min_exclusive else spec.minimum - step,
            spec.maximum if spec.max_exclusive else spec.maximum + step]


@pytest.mark.parametrize("key", sorted(ALL_SPECS))
def test_every_parameter_takes_its_range(key):
    spec = ALL_SPECS[key]
    for v in _inside(spec):
        got = spec.validate(v)
        assert got == pytest.approx(v) and type(got) is spec.kind
        assert spec.validate(str(v)) == got  # typed or read from a file: the same value
    assert spec.validate(spec.default) == spec.default


@pytest.mark.parametrize("key", sorted(ALL_SPECS))
def test_every_parameter_refuses_what_lies_outside_with_a_sentence(key):
    spec = ALL_SPECS[key]
    for v in _outside(spec):
        with pytest.raises(ParameterError) as info:
            spec.validate(v)
        text = str(info.value)
        assert text.startswith(f"{spec.label} must be {spec.range_words()}") and text.endswith(".")
        assert "got" in text and "\n" not in text
    for bad in ("two", True, float("nan"), [1]):
        with pytest.raises(ParameterError, match=f"^{spec.label[:8]}.*must be"):
            spec.validate(bad)


def test_the_hold_out_share_refuses_1_and_says_why():
    assert HOLDOUT.validate(0) == 0.0 and HOLDOUT.validate("0.999") == 0.999
    with pytest.raises(ParameterError) as info:
        HOLDOUT.validate(1)
    assert str(info.value) == ("Hold-out share must be from 0 up to but not including 1 "
                               "(e.g. 0.2 sets a fifth of the ratings aside); got 1.")
    with pytest.raises(ParameterError, match="finite"):
        HOLDOUT.validate(math.inf)
    assert HOLDOUT.contains(0.0) and not HOLDOUT.contains(1.0) and not HOLDOUT.contains(-0.01)


def test_patience_off_is_none_and_round_trips_through_text():
    assert PATIENCE.default is None and PATIENCE.validate(None) is None
    for text in ("off", "Off", " OFF "):
        assert PATIENCE.validate(text) is None
    assert PATIENCE.show(None) == "off" and PATIENCE.validate(PATIENCE.show(None)) is None
    assert PATIENCE.validate(PATIENCE.show(3)) == 3
    with pytest.raises(ParameterError, match=r"^Patience must be from 1 up to 1,000,000,000 steps, or off; got 0\.$"):
        PATIENCE.validate(0)  # 0 is a number refused, not off: as --patience 0 always was
    with pytest.raises(ParameterError, match="a whole number or off"):
        PATIENCE.validate("soon")
    with pytest.raises(ParameterError, match="must be a number"):
        HOLDOUT.validate(None)  # only a parameter declared with off may be None


def test_the_run_parameters_resolve_together():
    assert resolve_run_params() == {"holdout": 0.0, "patience": None, "top_n": 10, "relevance": None}
    given = {"holdout": "0.25", "patience": 4, "top_n": 0, "relevance": "3.5"}
    assert resolve_run_params(given) == {"holdout": 0.25, "patience": 4, "top_n": 0, "relevance": 3.5}
    assert resolve_run_params({"relevance": "Auto"})["relevance"] is None  # the word for the automatic threshold
    with pytest.raises(ParameterError, match="^Relevant from must be a number or auto, not 'high'.$"):
        resolve_run_params({"relevance": "high"})
    with pytest.raises(ParameterError,
                       match="^A run has no parameter 'share'; it takes holdout, patience, relevance, top_n.$"):
        resolve_run_params({"share": 0.2})
    with pytest.raises(ParameterError, match="Recommendations per user must be from 0 up to 1,000; got 1,001."):
        resolve_run_params({"top_n": 1001})


def test_the_command_line_flags_are_built_from_the_declarations():
    parser = cli.train_parser()
    actions = {a.option_strings[0]: a for a in parser._actions if a.option_strings}
    for spec in RUN_PARAMS:
        flag = cli.flag_name(spec)
        assert flag in actions, flag
        help_text = actions[flag].help.replace("%%", "%")
        assert help_text.startswith(f"{spec.label}: {spec.help}")
        assert f"default {cli.common._default_help(spec)}" in help_text
    assert [cli.flag_name(s) for s in RUN_PARAMS] == ["--holdout", "--patience", "--top", "--relevance"]
    assert "Range 0 to below 1" in actions["--holdout"].help and "or the session's" in actions["--holdout"].help
    assert "Range 1 to 1,000,000,000, or off; default off" in actions["--patience"].help
    assert "Range 0 to 1,000; default 10." in actions["--top"].help
    assert "Range -1,000,000 to 1,000,000, or auto; default auto, or the session's." in actions["--relevance"].help
    for name, pairs in cli.param_specs().items():  # the solvers' flags, too
        assert cli.flag_name(pairs[0][1]) in actions, name


def test_the_command_line_checks_flags_by_their_declarations():
    args = cli.train_parser().parse_args(["in.csv", "--out", "o", "--holdout", "0.3", "--patience", "off"])
    assert cli.run_flags(args) == {"holdout": 0.3, "patience": None}  # --top not given: left out
    args = cli.train_parser().parse_args(["in.csv", "--out", "o", "--top", str(TOP_N.maximum + 1)])
    with pytest.raises(cli.UsageError, match=r"^Bad value for --top: Recommendations per user must be from 0 up to "):
        cli.run_flags(args)
