"""Loss-curve ticks: two labelled ticks on any log range, labels that differ, 1-2-5 limits."""

from __future__ import annotations

import numpy as np
import pytest

from mfstudio.gui.views.ticks import LogTicks, PlainTicks, nice_above, nice_range


def test_log_ticks_on_random_ranges():
    rng = np.random.default_rng(0)
    loc = LogTicks()
    for _ in range(2000):
        a = 10 ** rng.uniform(-8, 8)
        b = a * 10 ** rng.uniform(0.001, 6)
        ticks = loc.tick_values(a, b)
        inside = [t for t in ticks if a * (1 - 1e-9) <= t <= b * (1 + 1e-9)]
        assert 2 <= len(inside) <= 14, (a, b, ticks)


@pytest.mark.parametrize(("lo", "hi", "ticks"), [
    (1, 1000, [1, 10, 100, 1000]),  # decades when two are in view
    (0.15, 0.95, [0.1, 0.2, 0.5, 1, 2, 5]),  # else 1-2-5 values
    (0.31, 0.39, [0.3, 0.325, 0.35, 0.375, 0.4]),  # else round numbers
])
def test_log_ticks_fall_back_from_decades_to_1_2_5_to_round_numbers(lo, hi, ticks):
    assert np.allclose(LogTicks().tick_values(lo, hi), ticks)


def test_plain_tick_labels_have_the_digits_the_ticks_need_to_differ():
    f = PlainTicks()
    assert [f(v) for v in (0.001, 1.0, 1e5, 1e6)] == ["0.001", "1", "100,000", "1e+06"]  # no ticks set: six digits
    f.set_locs([1.0, 10.0, 100.0, float("nan")])
    assert [f(v) for v in (1.0, 10.0, 100.0)] == ["1", "10", "100"]
    flat = [82529.25, 82529.26, 82529.27]
    f.set_locs(flat)
    assert [f(v) for v in flat] == ["82,529.25", "82,529.26", "82,529.27"]  # not three labels reading 82529.3
    f.set_locs([1000.0, 2000.0])  # a log axis's decades: written out, not 1e+03 and 2e+03
    assert [f(v) for v in (1000.0, 2000.0)] == ["1,000", "2,000"]
    f.set_locs([-2500.0, 0.0, 2500.0])
    assert [f(v) for v in (-2500.0, 0.0, 2500.0)] == ["-2,500", "0", "2,500"]


@pytest.mark.parametrize(("x", "above"), [(0.3, 0.5), (7, 10), (1, 1), (1.0000001, 2), (2e-4, 0.0002), (0, 1), (-3, 1)])
def test_nice_above_is_the_next_1_2_5_value(x, above):
    assert nice_above(x) == above


@pytest.mark.parametrize(("lo", "hi", "log", "limits"), [
    (0.3, 40, True, (0.1, 100)), (10, 10, True, (10, 100)),  # whole decades, never an empty range
    (0.5, 8.2, False, (0, 10)), (-3, 8, False, (-5, 10)), (-3, -1, False, (-5, 1)),  # 0 or a 1-2-5 value
])
def test_nice_range_holds_the_data(lo, hi, log, limits):
    assert nice_range(lo, hi, log) == pytest.approx(limits)
