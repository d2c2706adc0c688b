"""A sweep's grid: parameter names matched as flags are, values as lists and grids, each checked by its
declaration, and the refusals (one sentence each)."""

import pytest

from mfstudio.core.errors import ParameterError
from mfstudio.core.params import ALPHA, BETA, K
from mfstudio.core.sweep_grid import (
    MAX_AXES,
    check_axes,
    find_param,
    grid_points,
    looks_log,
    make_axis,
    parse_values,
    value_text,
)


@pytest.mark.parametrize("name", ["K", "k", "--k", " K "])
def test_a_name_is_matched_as_its_flag_is(name):
    assert find_param("sgd", name) is K


def test_the_label_keeps_the_name_as_given():
    a = make_axis("sgd", "k", "1,2")
    assert (a.name, a.label, a.values) == ("K", "k", (1, 2))
    assert make_axis("sgd", "--beta", "0.1").label == "beta"


def test_an_unknown_name_is_refused_naming_the_ones_the_solver_takes():
    with pytest.raises(ParameterError, match=r"no parameter 'gamma'.*sgd solver takes K, steps, alpha, beta, tol, "
                                             r"seed"):
        find_param("sgd", "gamma")


def test_a_parameter_of_another_solver_says_which_solvers_have_it():
    with pytest.raises(ParameterError, match=r"als solver has no learning rate.*sgd or biased-sgd"):
        find_param("als", "alpha")


def test_a_list_linear_grid_and_log_grid():
    assert parse_values(K, "1, 2,5,10") == [1, 2, 5, 10]
    assert parse_values(K, "1:10:4") == [1, 4, 7, 10]
    assert parse_values(BETA, "0.01:1:5log") == [0.01, 0.0316228, 0.1, 0.316228, 1.0]
    assert parse_values(BETA, "0:1:3") == [0.0, 0.5, 1.0]


def test_a_whole_number_log_grid_is_rounded_and_loses_repeats():
    assert parse_values(K, "1:4:6log") == [1, 2, 3, 4]


@pytest.mark.parametrize("text, words", [
    ("", "has no values"),
    ("1,,2", "empty value"),
    ("1:5", "no grid"),
    ("1:5:1", "number of values from 2"),
    ("1:5:xlog", "number of values from 2"),
    ("3:3:4", "two different ends"),
])
def test_bad_value_text_is_refused_with_a_sentence(text, words):
    with pytest.raises(ParameterError, match=words):
        parse_values(K, text)


def test_a_value_out_of_range_gets_the_declarations_sentence():
    with pytest.raises(ParameterError) as exc:
        parse_values(ALPHA, "0.1,0")
    with pytest.raises(ParameterError) as expected:
        ALPHA.validate("0")
    assert str(exc.value) == str(expected.value)
    with pytest.raises(ParameterError, match="whole number"):
        parse_values(K, "1.5")


def test_a_log_grid_needs_ends_above_zero():
    with pytest.raises(ParameterError, match="above 0"):
        parse_values(BETA, "0:1:3log")


def test_a_value_given_twice_is_refused():
    with pytest.raises(ParameterError, match="lists 2 twice"):
        make_axis("sgd", "K", "1,2,2")


@pytest.mark.parametrize("values, log", [
    ((0.01, 0.1, 1), True), ((1, 2, 5, 10, 20), True), ((0.01, 1), True),
    ((1, 2, 3), False), ((10, 20, 30), False), ((0, 0.1, 1), False), ((1, 2), False), ((1, 5, 9, 13), False),
])
def test_log_spacing_is_recognised(values, log):
    assert looks_log(values) is log


def test_the_axis_knows_a_log_grid_and_log_spaced_lists():
    assert make_axis("sgd", "beta", "0.01:1:3log").log
    assert make_axis("sgd", "beta", "0.001,0.01,0.1").log
    assert not make_axis("sgd", "K", "1,2,3").log


def test_more_than_two_axes_or_one_twice_or_none_are_refused():
    a, b, c = (make_axis("sgd", n, "1") for n in ("K", "steps", "seed"))
    with pytest.raises(ParameterError, match=f"at most {MAX_AXES}"):
        check_axes([a, b, c])
    with pytest.raises(ParameterError, match="swept twice"):
        check_axes([a, make_axis("sgd", "k", "2")])
    with pytest.raises(ParameterError, match="needs a parameter"):
        check_axes([])
    check_axes([a, b])


def test_points_take_the_first_axis_outermost():
    axes = [make_axis("sgd", "K", "1,2"), make_axis("sgd", "beta", "0.1,1")]
    pts = grid_points(axes)
    assert [p.values for p in pts] == [(1, 0.1), (1, 1.0), (2, 0.1), (2, 1.0)]
    assert [p.index for p in pts] == [0, 1, 2, 3]
    assert pts[1].params(axes) == {"K": 1, "beta": 1.0}
    assert pts[1].describe(axes) == "K = 1, beta = 1"


def test_values_are_written_so_they_read_back_exactly():
    assert [value_text(v) for v in (5, 0.1, 1.0, 1e-05, 0.0316228)] == ["5", "0.1", "1", "1e-05", "0.0316228"]
    assert float(value_text(0.1 + 0.2)) == 0.1 + 0.2
