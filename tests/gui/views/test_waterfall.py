"""The waterfall: while a run goes its frames are drawn in slices, with the same pixels as a whole draw."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from mfstudio.core.explain import explain
from mfstudio.core.solvers import Factors
from mfstudio.gui.views.waterfall import Waterfall
from tests.gui.conftest import synthetic_ratings


@pytest.fixture
def setup(qtbot):
    r = synthetic_ratings(40, 50)
    rng = np.random.default_rng(0)
    f = Factors(rng.normal(0, 0.5, (40, 12)), rng.normal(0, 0.5, (12, 50)), rng.normal(0, 0.2, 40),
                rng.normal(0, 0.2, 50), 3.5)
    w = Waterfall()
    qtbot.addWidget(w)
    w.resize(520, 300)
    w.show()
    qtbot.waitExposed(w)
    yield r, f, w
    w.stop_slices()


def test_live_frames_are_drawn_in_slices_with_the_pixels_of_a_whole_draw(qtbot, setup):
    r, f, w = setup
    w.live = True
    before = w.full_draws  # the empty figure's message
    w.draw_explanation(explain(r, f, 3, 4))  # new bars: a full frame, the layout solved in one of its steps
    assert w.slices.busy() and w.slices.passes == 0 and w.full_draws == before + 1  # from the next pass on
    w.slices.finish()
    for scale in (1.0, 1.5, 0.5):  # the bars move; the limits only grow, so the axes are drawn again at times
        g = f.copy()
        g.P *= scale
        w.draw_explanation(explain(r, g, 3, 4))
        w.slices.finish()
    assert w.full_draws == before + 1 and w.blits == 3
    sliced = np.array(w.buffer_rgba())
    w.draw()  # a whole draw: the background, then the bars over it
    np.testing.assert_array_equal(np.array(w.buffer_rgba()), sliced)


def test_after_a_run_new_bars_are_drawn_in_slices_and_moved_bars_at_once(qtbot, setup):
    r, f, w = setup
    before = w.full_draws
    w.draw_explanation(explain(r, f, 3, 4))
    assert w.slices.busy() and w.full_draws == before + 1
    qtbot.waitUntil(lambda: not w.slices.busy(), timeout=5000)
    sliced = np.array(w.buffer_rgba())
    w.draw()  # a whole draw (counted too)
    np.testing.assert_array_equal(np.array(w.buffer_rgba()), sliced)
    g = f.copy()
    g.P *= 1.1
    w.draw_explanation(explain(r, g, 3, 4))
    assert not w.slices.busy() and w.blits == 1 and w.full_draws == before + 2


def test_bars_rebuilt_while_live_keep_the_layout_and_the_run_s_end_solves_it(qtbot, setup, monkeypatch):
    from mfstudio.gui.views import waterfall

    r, f, w = setup
    solves: list[int] = []
    solve = waterfall.fit_row
    monkeypatch.setattr(waterfall, "fit_row", lambda *a, **k: (solves.append(1), solve(*a, **k)))
    w.live = True
    w.draw_explanation(explain(r, f, 3, 4))
    w.slices.finish()
    assert len(solves) == 1  # the first bars: laid out
    g = dataclasses.replace(f, global_mean=9.0)  # the prediction leaves the scale: a bar for what is shown,
    e = explain(r, g, 3, 4)  # so the bars are made anew
    assert e.clipped != explain(r, f, 3, 4).clipped
    w.draw_explanation(e)
    w.slices.finish()
    assert len(solves) == 1 and w.full_draws >= 2  # drawn whole, in the layout it had
    w.live = False
    w.draw_explanation(e)  # the run's end
    assert w.slices.busy()  # from the next pass on: the end has work of its own
    w.slices.finish()
    assert len(solves) == 2
    fresh = Waterfall()  # the same explanation drawn from scratch after a run: the very same pixels
    qtbot.addWidget(fresh)
    fresh.resize(w.size())
    fresh.show()
    qtbot.waitExposed(fresh)
    fresh.draw_explanation(e)
    qtbot.waitUntil(lambda: hasattr(fresh, "renderer") and not fresh.slices.busy(), timeout=5000)
    np.testing.assert_array_equal(np.array(fresh.buffer_rgba()), np.array(w.buffer_rgba()))
    fresh.stop_slices()


def test_a_message_already_shown_is_not_drawn_again(qtbot, setup):
    _r, _f, w = setup
    w.draw_message("Training")
    qtbot.waitUntil(lambda: not w.slices.busy(), timeout=5000)
    before = w.full_draws
    w.draw_message("Training")
    assert w.full_draws == before and not w.slices.busy()
    w.draw_message("Something else")
    assert w.full_draws == before + 1


@pytest.mark.parametrize("size", [(472, 201), (286, 160)])
def test_the_waterfall_s_texts_lie_inside_its_figure(qtbot, setup, size):
    """472 x 201 is the waterfall of a 1280 x 800 window, 286 x 160 of a 1000 x 700 one."""
    r, f, w = setup
    w.resize(*size)
    g = dataclasses.replace(f, global_mean=4.9)  # a prediction clipped to the scale: the most bars and names
    for e in (explain(r, f, 3, 4), explain(r, g, 3, 4)):
        w.draw_explanation(e)
        w.slices.finish()
        w.draw()
        renderer = w.get_renderer()
        box = w.figure.bbox
        ax = w.ax
        texts = [ax._right_title, ax.yaxis.label, *ax.get_xticklabels(), *ax.get_yticklabels(), *w._numbers]
        lo, hi = ax.get_ylim()
        shown = [t for t in texts if t.get_visible() and t.get_text()
                 and not (t in ax.get_yticklabels() and not lo <= t.get_position()[1] <= hi)]
        assert len(shown) > 10
        out = []
        for t in shown:
            b = t.get_window_extent(renderer)
            if b.x0 < box.x0 - 0.5 or b.x1 > box.x1 + 0.5 or b.y0 < box.y0 - 0.5 or b.y1 > box.y1 + 0.5:
                out.append(t.get_text())
        assert out == [], (size, e.clipped)


def test_bars_made_anew_keep_the_axes_ticks_and_leave_nothing_of_the_old_ones(qtbot, setup):
    r, f, w = setup
    w.draw_explanation(explain(r, f, 3, 4))
    w.slices.finish()
    tick = w.ax.xaxis.get_major_ticks()[0]
    children = len(w.ax.get_children())
    g = dataclasses.replace(f, global_mean=9.0)  # clipped: another kind of bars, one more
    w.draw_explanation(explain(r, g, 3, 4))
    w.slices.finish()
    assert w.ax.xaxis.get_major_ticks()[0] is tick  # not made anew (each costs milliseconds)
    assert len(w.ax.get_children()) == children + 2  # one bar and its number more; the old ones gone
    w.draw_message("Training")
    assert not w.ax.patches and not w.ax.lines and [t.get_text() for t in w.ax.texts] == ["Training"]
    assert w.ax._right_title.get_text() == ""
    w.draw_explanation(explain(r, f, 3, 4))
    assert [t.get_text() for t in w.ax.texts if t.get_text() == "Training"] == []
    assert len(w.ax.get_children()) == children
