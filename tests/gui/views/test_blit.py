"""The blitting canvas helpers: no drawing while hidden, the two-level background, rows placed from their texts."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.figure import Figure

from mfstudio.gui.views import slices
from mfstudio.gui.views.blit import BlitCanvas, Canvas, ScaledBackground, axis_key, fit_row


def _canvas(qtbot) -> Canvas:
    c = Canvas(Figure(figsize=(4, 3), dpi=100))
    qtbot.addWidget(c)
    c.resize(400, 300)
    c.draws = 0

    def count(_event) -> None:
        c.draws += 1

    c.mpl_connect("draw_event", count)
    return c


def test_a_hidden_canvas_draws_only_once_shown(qtbot):
    c = _canvas(qtbot)
    c.figure.add_subplot().plot([1, 2, 3])
    for _ in range(3):
        c.draw_idle()
        qtbot.wait(5)
    assert c.draws == 0
    c.show()
    qtbot.waitExposed(c)
    qtbot.waitUntil(lambda: c.draws >= 1)
    qtbot.wait(20)
    assert c.draws == 1  # what was asked for while hidden, drawn once


def test_a_full_draw_answers_a_pending_idle_draw(qtbot):
    c = _canvas(qtbot)
    c.show()
    qtbot.waitExposed(c)
    qtbot.wait(20)
    before = c.draws
    c.draw_idle()
    c.draw()
    qtbot.wait(20)
    assert c.draws == before + 1


def test_the_scales_are_drawn_again_only_when_the_limits_move(qtbot):
    c = _canvas(qtbot)
    ax = c.figure.add_subplot()
    line, = ax.plot([0, 1], [0, 1], animated=True)
    scales = [ax.xaxis, ax.yaxis]
    for a in scales:
        a.set_animated(True)
    bg = ScaledBackground(c)
    c.show()
    qtbot.waitExposed(c)
    c.draw()
    bg.save()
    bg.restore(scales, axis_key(ax))
    assert bg.scale_draws == 1
    bg.restore(scales, axis_key(ax))
    assert bg.scale_draws == 1  # the same limits: the saved background
    before = c.copy_from_bbox(c.figure.bbox)
    ax.set_ylim(0, 100)
    bg.restore(scales, axis_key(ax))
    assert bg.scale_draws == 2
    after = c.copy_from_bbox(c.figure.bbox)
    assert not np.array_equal(np.asarray(before), np.asarray(after))  # the new tick labels are on the canvas


def test_scales_drawn_again_in_steps_draw_an_axis_a_tick_per_step_with_the_same_pixels(qtbot):
    c = _canvas(qtbot)
    ax = c.figure.add_subplot()
    ax.set_ylim(0, 10)
    scales = [ax.xaxis, ax.yaxis]
    for a in scales:
        a.set_animated(True)
    c.show()
    qtbot.waitExposed(c)
    c.draw()
    bg = ScaledBackground(c)
    bg.save()
    steps = bg.restore_steps(scales, axis_key(ax))
    assert len(steps) > 2 + len(ax.get_xticks()) + len(ax.get_yticks())  # not one step per axis
    for step in steps:
        step()
    sliced = np.array(c.buffer_rgba())
    c.restore_region(bg.base)
    for a in scales:
        c.figure.draw_artist(a)
    np.testing.assert_array_equal(np.array(c.buffer_rgba()), sliced)


def _stepped_canvas(qtbot, monkeypatch, moving: bool = True) -> tuple[BlitCanvas, object]:
    """A 400 x 300 BlitCanvas drawing one slice step per event-loop pass, with one line (moving, or in the
    background); not shown yet."""
    monkeypatch.setattr(slices, "SLICE_S", 0.0)
    c = BlitCanvas(Figure(figsize=(4, 3), dpi=100))
    qtbot.addWidget(c)
    c.resize(400, 300)
    ax = c.figure.add_subplot()
    line, = ax.plot([0, 1], [0, 1])
    if moving:
        c.set_moving([line])
    return c, ax


def test_a_full_frame_asked_for_while_one_is_drawn_in_slices_follows_it(qtbot, monkeypatch):
    c, ax = _stepped_canvas(qtbot, monkeypatch)
    c.show()
    qtbot.waitExposed(c)
    c.draw()
    draws = c.full_draws
    c.refresh(full=True, sliced=True)
    qtbot.waitUntil(lambda: c.slices.passes > 20, timeout=3000)  # well into the frame: past the title's step
    ax.set_title("a title set while the frame was drawn")
    c.refresh(full=True, sliced=True)
    assert c.full_draws == draws  # not started again: the frame being drawn goes on
    qtbot.waitUntil(lambda: c.full_draws == draws + 2 and not c.slices.busy(), timeout=5000)
    sliced = np.array(c.buffer_rgba())
    c.draw()
    np.testing.assert_array_equal(np.array(c.buffer_rgba()), sliced)  # the title is in the background


def test_a_row_fitted_with_room_keeps_space_for_wider_labels(qtbot):
    lefts = []
    for room in (1, 9):
        fig = Figure(figsize=(4, 3), dpi=100)
        Canvas(fig)
        ax = fig.add_subplot()
        ax.set_ylim(0, 1)
        fit_row(fig, [ax], [room])
        lefts.append(ax.get_position().x0)
    assert lefts[1] > lefts[0] + 0.05


def test_a_row_fitted_keeps_right_titles_and_tick_labels_of_two_lines_inside(qtbot):
    fig = Figure(figsize=(3, 2), dpi=100)
    Canvas(fig)
    ax = fig.add_subplot()
    ax.set_title("a right-aligned title wider than its axes", loc="right", fontsize=8)
    ax.set_xticks([0, 1], ["mean\nμ", "user\nbias"])
    fit_row(fig, [ax], [4])
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    for t in [ax._right_title, *ax.get_xticklabels()]:
        b = t.get_window_extent(renderer)
        assert b.x0 >= -0.5 and b.x1 <= fig.bbox.x1 + 0.5 and b.y0 >= -0.5 and b.y1 <= fig.bbox.y1 + 0.5, t.get_text()


def test_a_resized_canvas_draws_in_slices_showing_its_last_frame_meanwhile(qtbot, monkeypatch):
    c, ax = _stepped_canvas(qtbot, monkeypatch, moving=False)
    c.show()
    qtbot.waitExposed(c)
    c.draw()
    draws = c.full_draws
    last = np.array(c.buffer_rgba()).copy()
    c.resize(380, 280)
    assert c.slices.busy() and c._frozen is not None
    frozen = c._frozen.constBits()
    assert np.array_equal(np.frombuffer(frozen, np.uint8).reshape(last.shape), last)  # the last whole frame
    qtbot.waitUntil(lambda: not c.slices.busy(), timeout=5000)
    assert c.full_draws == draws + 1 and np.array(c.buffer_rgba()).shape[:2] == (280, 380)


def _row(width: float = 4.0) -> tuple[Figure, list]:
    fig = Figure(figsize=(width, 3), dpi=100)
    Canvas(fig)
    axes = fig.subplots(1, 2)
    for ax, name in zip(axes, ("Objective", "RMSE")):
        ax.set_title(name)
        ax.set_xlabel("Step")
        ax.set_ylim(0, 1)
    return fig, list(axes)


def test_a_row_fitted_again_with_the_same_inputs_measures_nothing_and_lands_where_it_did(qtbot, monkeypatch):
    from mfstudio.gui.views import blit

    calls = []
    measure = blit._text_margins
    monkeypatch.setattr(blit, "_text_margins", lambda *a: calls.append(1) or measure(*a))
    fig, axes = _row()
    first = fit_row(fig, axes, [4])
    boxes = [ax.get_position().bounds for ax in axes]
    assert calls
    calls.clear()
    for ax in axes:
        ax.set_position([0.1, 0.1, 0.3, 0.3])  # moved by something else meanwhile
    assert fit_row(fig, axes, [4]) == first and calls == []
    assert [ax.get_position().bounds for ax in axes] == boxes
    assert blit.row_fits(fig, axes, first, [4]) and calls
    calls.clear()
    assert blit.row_fits(fig, axes, first, [4]) and calls == []  # the answer kept too


def test_a_row_fitted_after_its_inputs_changed_is_measured_again_as_a_fresh_one(qtbot):
    def changes(fig: Figure, axes: list) -> list:
        return [lambda: axes[0].set_ylim(0, 100000), lambda: axes[1].set_title("a much longer title than before"),
                lambda: axes[0].set_xticks([0, 0.5, 1], ["mean\nμ", "user\nbias", "item\nbias"]),
                lambda: axes[1].tick_params(labelsize=14), lambda: fig.set_size_inches(6, 3)]

    fig, axes = _row()
    fit_row(fig, axes, [4])
    for k, change in enumerate(changes(fig, axes)):
        change()
        margins = fit_row(fig, axes, [4])
        fresh, fresh_axes = _row()
        for again in changes(fresh, fresh_axes)[:k + 1]:
            again()
        assert margins == fit_row(fresh, fresh_axes, [4]), k
        assert [ax.get_position().bounds for ax in axes] == [ax.get_position().bounds for ax in fresh_axes], k


@pytest.mark.parametrize("drawn_before", [False, True])
def test_a_draw_asked_for_while_hidden_is_made_in_slices_once_shown(qtbot, monkeypatch, drawn_before):
    c, ax = _stepped_canvas(qtbot, monkeypatch)
    if drawn_before:
        c.show()
        qtbot.waitExposed(c)
        c.draw()
        c.hide()
    draws = c.full_draws
    ax.set_title("changed while hidden")
    c.refresh(full=True)
    assert c.full_draws == draws  # hidden: nothing drawn
    c.show()
    qtbot.waitExposed(c)
    assert c.slices.busy() and c._frozen is not None  # the last frame (or a blank one) shown meanwhile
    qtbot.waitUntil(lambda: not c.slices.busy(), timeout=5000)
    qtbot.wait(20)
    assert c.full_draws == draws + 1 and c._frozen is None
    sliced = np.array(c.buffer_rgba())
    c.draw()
    np.testing.assert_array_equal(np.array(c.buffer_rgba()), sliced)
