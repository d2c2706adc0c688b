"""Frames drawn in slices: the same pixels as one full draw, the old frame shown until the new one is whole."""

from __future__ import annotations

import time

import numpy as np
import pytest
from matplotlib.figure import Figure

from mfstudio.gui.views import slices
from mfstudio.gui.views.blit import Canvas
from mfstudio.gui.views.slices import Slices, figure_steps


def _figure() -> Figure:
    fig = Figure(figsize=(4, 3), dpi=100, layout="constrained")
    left, right = fig.subplots(1, 2)
    for ax, name in ((left, "Objective"), (right, "RMSE")):
        ax.plot(np.arange(10), np.linspace(3, 1, 10), label=name)
        ax.set_title(name)
        ax.set_xlabel("Step")
        ax.grid(True, alpha=0.3)
        ax.text(0.5, 0.5, "a note", transform=ax.transAxes)
    fig.legend(loc="outside lower center", ncols=2)
    return fig


@pytest.fixture(autouse=True)
def fresh_window(monkeypatch):
    """Each test's slices start with the shared budget unspent (no other test's canvases in it)."""
    monkeypatch.setattr(slices, "_window", {"start": 0.0, "used": {}})


@pytest.fixture
def canvas(qtbot):
    c = Canvas(_figure())
    qtbot.addWidget(c)
    c.resize(400, 300)
    c.show()
    qtbot.waitExposed(c)
    c.draw()
    yield c
    c.stop_slices()


def test_the_steps_draw_the_same_pixels_as_a_full_draw(canvas):
    whole = np.array(canvas.buffer_rgba())
    canvas.figure.set_layout_engine("none")  # the steps keep the layout the draw solved
    steps = figure_steps(canvas.figure, canvas.get_renderer())
    assert len(steps) > 10  # one per artist: patches, spines, axes, titles, texts, lines, legend
    for step in steps:
        step()
    np.testing.assert_array_equal(np.array(canvas.buffer_rgba()), whole)


def test_animated_artists_are_left_out_as_a_draw_leaves_them_out(canvas):
    line = canvas.figure.axes[0].get_lines()[0]
    line.set_animated(True)
    canvas.figure.set_layout_engine("none")
    canvas.draw()
    without = np.array(canvas.buffer_rgba())
    for step in figure_steps(canvas.figure, canvas.get_renderer()):
        step()
    np.testing.assert_array_equal(np.array(canvas.buffer_rgba()), without)


def test_the_canvas_shows_its_last_whole_frame_until_the_sliced_one_is_done(canvas, qtbot, monkeypatch):
    monkeypatch.setattr(slices, "SLICE_S", 0.0)  # one step per pass
    before = canvas.grab().toImage()
    canvas.figure.set_layout_engine("none")
    canvas.figure.axes[0].set_facecolor("black")
    shown = []
    canvas.draw_in_slices(figure_steps(canvas.figure, canvas.get_renderer()), lambda: shown.append(True))
    assert canvas.slices.busy()
    assert canvas.grab().toImage() == before  # half drawn: nothing of it is seen
    qtbot.waitUntil(lambda: not canvas.slices.busy(), timeout=3000)
    assert shown == [True] and canvas.slices.frames == 1 and canvas.slices.passes > 10
    assert canvas.grab().toImage() != before  # the black axes, now whole


def test_finish_runs_the_rest_at_once_and_cancel_drops_it(qtbot, monkeypatch):
    monkeypatch.setattr(slices, "SLICE_S", 0.0)
    s = Slices()
    done: list[int] = []
    s.start([lambda k=k: done.append(k) for k in range(5)])
    assert done == [0] and s.busy()
    s.finish()
    assert done == [0, 1, 2, 3, 4] and not s.busy() and s.frames == 1
    s.start([lambda k=k: done.append(k) for k in range(10, 15)])
    s.cancel()
    qtbot.wait(20)
    assert done[-1] == 10 and not s.busy() and s.frames == 1


def test_a_step_that_starts_another_frame_ends_the_one_it_was_in(qtbot, monkeypatch):
    s = Slices()
    done: list[str] = []
    s.start([lambda: s.start([lambda: done.append("new")]), lambda: done.append("old")])
    qtbot.wait(20)
    assert done == ["new"] and not s.busy()


def test_a_resize_drops_a_frame_drawn_for_the_old_size(canvas, monkeypatch):
    monkeypatch.setattr(slices, "SLICE_S", 0.0)
    canvas.draw_in_slices(figure_steps(canvas.figure, canvas.get_renderer()), lambda: None)
    assert canvas.slices.busy()
    canvas.resize(300, 200)
    assert not canvas.slices.busy() and canvas._frozen is None


def test_two_canvases_slices_share_one_budget(qtbot, monkeypatch):
    monkeypatch.setattr(slices, "WINDOW_S", 10.0)  # one long window: what the first slice used stays used
    first, second = Slices(), Slices()
    done: list[str] = []

    def busy_step(name: str) -> None:
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < slices.SLICE_S:  # a step that takes the whole budget
            pass
        done.append(name)

    first.start([lambda: busy_step("a1"), lambda: busy_step("a2")])
    assert done == ["a1"]  # one slice: the budget is spent
    second.start([lambda: done.append("b1")])
    assert done == ["a1"] and second.busy()  # the other canvas waits for the next window
    monkeypatch.setattr(slices, "WINDOW_S", 0.0)  # the next window
    qtbot.waitUntil(lambda: not first.busy() and not second.busy(), timeout=3000)
    assert sorted(done) == ["a1", "a2", "b1"]


def test_an_artist_removed_after_the_steps_were_made_is_not_drawn(canvas):
    canvas.figure.set_layout_engine("none")
    line = canvas.figure.axes[0].get_lines()[0]
    steps = figure_steps(canvas.figure, canvas.get_renderer())
    line.remove()  # new data made the figure's artists anew before the frame's steps ran
    for step in steps:
        step()
    sliced = np.array(canvas.buffer_rgba())
    canvas.draw()
    np.testing.assert_array_equal(np.array(canvas.buffer_rgba()), sliced)


def test_an_axis_drawn_in_parts_has_the_pixels_of_one_axis_draw(canvas):
    ax = canvas.figure.axes[0]
    ax.set_xticks(range(5), [f"taste\n{k}" for k in range(5)])
    ax.xaxis.set_animated(True)
    canvas.draw()
    canvas.figure.set_layout_engine("none")
    base = canvas.copy_from_bbox(canvas.figure.bbox)
    canvas.figure.draw_artist(ax.xaxis)
    whole = np.array(canvas.buffer_rgba())
    canvas.restore_region(base)
    parts = slices.axis_parts(ax.xaxis)
    assert len(parts) == 8 and all(p.get_visible() for p in parts)  # the ticks' update, 5 ticks, name, offset
    for part in parts:
        canvas.figure.draw_artist(part)
    np.testing.assert_array_equal(np.array(canvas.buffer_rgba()), whole)


def test_a_full_frame_draws_an_axis_a_tick_per_step(canvas):
    ax = canvas.figure.axes[0]
    ax.set_xticks(range(10), [f"rung {k}" for k in range(10)])
    canvas.figure.set_layout_engine("none")
    canvas.draw()
    whole = np.array(canvas.buffer_rgba())
    steps = figure_steps(canvas.figure, canvas.get_renderer())
    drawn: list[object] = []
    for axis in (ax.xaxis, ax.yaxis):  # drawn whole, an axis would be one step: here each tick is one
        axis.draw = lambda renderer, axis=axis: drawn.append(axis)  # type: ignore[method-assign]
    for step in steps:
        step()
    assert drawn == []
    assert len(steps) > 10 + len(ax.get_yticks())
    for axis in (ax.xaxis, ax.yaxis):
        del axis.draw
    np.testing.assert_array_equal(np.array(canvas.buffer_rgba()), whole)


def test_ticks_the_limits_brought_after_the_parts_were_made_are_drawn_too(canvas):
    ax = canvas.figure.axes[0]
    ax.set_xticks([0, 1])
    ax.xaxis.set_animated(True)
    canvas.figure.set_layout_engine("none")
    canvas.draw()
    base = canvas.copy_from_bbox(canvas.figure.bbox)
    parts = slices.axis_parts(ax.xaxis)  # made for two ticks
    ax.set_xticks([0, 1, 2, 3, 4, 5, 6, 7, 8])
    canvas.figure.draw_artist(ax.xaxis)
    whole = np.array(canvas.buffer_rgba())
    canvas.restore_region(base)
    for part in parts:
        canvas.figure.draw_artist(part)
    np.testing.assert_array_equal(np.array(canvas.buffer_rgba()), whole)


def test_an_axis_in_parts_places_and_draws_its_offset_text_as_one_axis_draw(canvas):
    ax = canvas.figure.axes[1]
    ax.set_ylim(100000.0, 100000.5)  # tick labels with an offset ("+1e5") above the axis
    ax.yaxis.set_animated(True)
    canvas.draw()
    canvas.figure.set_layout_engine("none")
    assert ax.yaxis.major.formatter.get_offset()
    base = canvas.copy_from_bbox(canvas.figure.bbox)
    canvas.figure.draw_artist(ax.yaxis)
    whole = np.array(canvas.buffer_rgba())
    canvas.restore_region(base)
    ax.yaxis.offsetText.set_position((0, 0))  # misplaced: the parts must place it again
    for part in slices.axis_parts(ax.yaxis):
        canvas.figure.draw_artist(part)
    np.testing.assert_array_equal(np.array(canvas.buffer_rgba()), whole)


def test_a_legend_is_drawn_a_handle_and_a_text_per_step_with_the_pixels_of_one_draw(canvas):
    fig = canvas.figure
    ax = fig.axes[0]
    for k in range(5):
        ax.plot([0, 9], [k, k + 1], label=f"run {k} α=0.005")
    ax.legend(loc="upper right", title="Runs", shadow=True)
    canvas.draw()
    whole = np.array(canvas.buffer_rgba())
    fig.set_layout_engine("none")
    steps = figure_steps(fig, canvas.get_renderer())
    legends = [lg for lg in (*fig.legends, ax.get_legend())]
    for legend in legends:
        legend.draw = lambda renderer: pytest.fail("a legend drawn whole")  # type: ignore[method-assign]
    for step in steps:
        step()
    for legend in legends:
        del legend.draw
    np.testing.assert_array_equal(np.array(canvas.buffer_rgba()), whole)
    assert len(slices.legend_steps(ax.get_legend(), canvas.get_renderer())) > 2 * 6  # 6 entries, a title


def test_a_legend_made_anew_or_removed_after_its_steps_were_made_is_drawn_as_it_is(canvas):
    fig = canvas.figure
    ax = fig.axes[0]
    ax.plot([0, 9], [0, 1], label="first")
    legend = ax.legend(loc="upper right")
    fig.set_layout_engine("none")
    canvas.draw()
    base = canvas.copy_from_bbox(fig.bbox)
    renderer = canvas.get_renderer()
    for change in ("entries", "entry texts"):
        steps = slices.legend_steps(legend, renderer)
        ax.plot([0, 9], [1, 0], label="second")
        if change == "entries":
            legend._legend_box = ax.legend(loc="upper right")._legend_box  # its entries made anew
        else:
            legend._legend_box.get_children()[0].set_visible(False)  # the box's children changed
        canvas.restore_region(base)
        for step in steps:
            step()
        sliced = np.array(canvas.buffer_rgba())
        canvas.restore_region(base)
        legend.draw(renderer)
        np.testing.assert_array_equal(np.array(canvas.buffer_rgba()), sliced, err_msg=change)
    steps = slices.legend_steps(legend, renderer)
    legend.remove()
    canvas.restore_region(base)
    before = np.array(canvas.buffer_rgba())
    for step in steps:
        step()
    np.testing.assert_array_equal(np.array(canvas.buffer_rgba()), before)  # removed: nothing drawn
