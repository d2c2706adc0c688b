"""The factor layers: one picture per factor on one colour scale, adding up (with the biases) to R-hat, the residual
on rated cells with the held-out ones outlined, a block of at most 60 users and items, and quick redraws."""

from __future__ import annotations

import time

import numpy as np
import pytest

from mfstudio.core import History, Ratings, RunResult, load_example
from mfstudio.core.ladder import block_entries
from mfstudio.gui.experiment import Experiment, Shown
from mfstudio.gui.views.layers import MAX_LAYERS, MAX_SIDE, LayersPanel, nice_limit, user_block_entries
from mfstudio.gui.viewstate import Selection
from tests.gui.test_experiment import request, run_to_end
from tests.gui.views.test_ladder import HELD_OUT, big_model


@pytest.fixture
def setup(qtbot):
    ex = Experiment()
    selection = Selection()
    panel = LayersPanel(ex, selection)
    qtbot.addWidget(panel)
    panel.resize(960, 600)
    panel.show()
    qtbot.waitExposed(panel)
    yield ex, selection, panel
    ex.shutdown()
    panel.stop_timers()


def to_end(qtbot, ex, panel, *args):
    """A run to its end, and the panel to the run's last factors (shown from the next event-loop pass on)."""
    at_end = []  # connected after the panel: runs right after its slot, in the pass that ends the run
    ex.finished.connect(lambda _end: at_end.append(panel._pending))
    end = run_to_end(qtbot, ex, *args)
    assert at_end[-1]  # none of it in the event-loop pass that ended the run
    qtbot.waitUntil(lambda: not panel._pending, timeout=5_000)
    return end


def kinds(panel: LayersPanel) -> list[str]:
    return [p.kind for p in panel.panels]


def data(panel: LayersPanel, kind: str) -> list[np.ndarray]:
    return [p.data for p in panel.panels if p.kind == kind]


def test_before_a_model_the_panel_says_what_it_will_show(setup):
    _ex, _sel, panel = setup
    assert panel.objectName() == "factorLayers"
    assert panel.panels == [] and "train a model" in panel.caption.text()


def test_a_biased_models_layers_and_biases_add_up_to_r_hat(qtbot, setup):
    ex, _sel, panel = setup
    end = to_end(qtbot, ex, panel, ex.train, request(solver="biased-sgd", steps=400, cells=HELD_OUT, alpha=0.01))
    f = end.shown.result.factors
    assert kinds(panel) == ["layer", "layer", "baseline", "r_hat", "residual"]
    assert [p.title for p in panel.panels] == ["Factor 1", "+ factor 2", "+ μ + b_u + b_i", "= R-hat",
                                               "R − R-hat (rated)"]
    L1, L2 = data(panel, "layer")
    np.testing.assert_allclose(L1, np.outer(f.P[:, 0], f.Q[0]), atol=1e-12)
    (B,) = data(panel, "baseline")
    np.testing.assert_allclose(B, f.global_mean + f.user_bias[:, None] + f.item_bias[None, :], atol=1e-12)
    (R_hat,) = data(panel, "r_hat")
    np.testing.assert_allclose(L1 + L2 + B, R_hat, atol=1e-12)
    np.testing.assert_allclose(R_hat, f.predict(), atol=1e-12)
    assert "plus μ + b_u + b_i" in panel.caption.text() and "Users down, items across." in panel.caption.text()


def test_the_residual_is_the_miss_on_rated_cells_nan_elsewhere_and_the_held_out_cells_are_outlined(qtbot, setup):
    ex, _sel, panel = setup
    end = to_end(qtbot, ex, panel, ex.train, request(solver="biased-sgd", steps=400, cells=HELD_OUT, alpha=0.01))
    R = load_example("example-1").to_dense()
    (E,) = data(panel, "residual")
    np.testing.assert_array_equal(np.isnan(E), np.isnan(R))
    rated = ~np.isnan(R)
    np.testing.assert_allclose(E[rated], (R - end.shown.result.factors.predict())[rated], atol=1e-12)
    outlines = panel.held_marks.get_paths()
    assert len(outlines) == len(HELD_OUT)
    to_pixels = panel.canvas.figure.transFigure.transform
    cells = sorted(panel.cell_at(*to_pixels(p.vertices[:4].mean(axis=0))) for p in outlines)
    assert cells == sorted((4, int(r), int(c)) for r, c in HELD_OUT)  # on the residual panel, the held-out cells
    assert "held-out cells outlined" in panel.caption.text()


def test_every_layer_shares_one_symmetric_scale_with_zero_white(qtbot, setup):
    ex, _sel, panel = setup
    to_end(qtbot, ex, panel, ex.train, request(solver="biased-sgd", steps=400, cells=HELD_OUT, alpha=0.01))
    norm = panel.scales["layer"].norm
    assert norm.vmin == -norm.vmax > -np.inf
    values = np.abs(np.concatenate([d.ravel() for d in data(panel, "layer")]))
    assert np.percentile(values, 99) <= norm.vmax <= 1.5 * values.max()  # holds them, not washed out
    assert panel.scales["residual"].norm.vmin == -panel.scales["residual"].norm.vmax
    assert tuple(panel.scales["rating"].get_clim()) == (1.0, 5.0)
    cmap = panel.scales["layer"].cmap
    assert cmap(0.5) == (1.0, 1.0, 1.0, 1.0)  # zero is white
    # each image holds its values coloured on the shared scale
    p = panel.panels[1]
    want = cmap(np.clip((p.data - norm.vmin) / (norm.vmax - norm.vmin), 0, 1), bytes=True)
    np.testing.assert_array_equal(p.image.get_array(), want)


def test_the_images_are_drawn_the_right_way_up(qtbot, setup):
    ex, _sel, panel = setup
    to_end(qtbot, ex, panel, ex.train, request(solver="biased-sgd", steps=400, cells=HELD_OUT, alpha=0.01))
    panel.canvas.draw()
    buf = np.asarray(panel.canvas.buffer_rgba())
    H = buf.shape[0]
    index = kinds(panel).index("r_hat")
    colours = panel.panels[index].image.get_array()
    for row, col in ((0, 0), (3, 0), (0, 3), (2, 1)):
        x, y = panel.cell_centre(index, row, col)  # in pixels from the bottom
        assert tuple(buf[int(H - y), int(x)]) == tuple(colours[row, col]), (row, col)
        assert panel.cell_at(x, y) == (index, row, col)


def test_a_model_without_biases_is_the_sum_of_its_layers(qtbot, setup):
    ex, _sel, panel = setup
    end = to_end(qtbot, ex, panel, ex.train, request(steps=300, K=3))
    assert kinds(panel) == ["layer", "layer", "layer", "r_hat", "residual"]
    np.testing.assert_allclose(sum(data(panel, "layer")), data(panel, "r_hat")[0], atol=1e-12)
    np.testing.assert_allclose(data(panel, "r_hat")[0], end.shown.result.factors.predict(), atol=1e-12)
    assert "b_u" not in panel.caption.text() and "outlined" not in panel.caption.text()
    assert len(panel.held_marks.get_paths()) == 0


def test_a_user_without_training_ratings_shows_the_fallback(qtbot, setup):
    ex, _sel, panel = setup
    cells = np.array([[0, 1], [0, 2]])  # every rating of user 1
    end = to_end(qtbot, ex, panel, ex.train, request(steps=200, cells=cells))
    assert kinds(panel) == ["layer", "layer", "baseline", "r_hat", "residual"]
    f = end.shown.result.factors
    (B,) = data(panel, "baseline")
    assert np.all(B[0] == f.fallback_mean) and not B[1:].any()
    assert not any(d[0].any() for d in data(panel, "layer"))
    np.testing.assert_allclose(B + sum(data(panel, "layer")), data(panel, "r_hat")[0], atol=1e-12)
    assert "1 user without training ratings" in panel.caption.text()


def test_a_big_model_shows_its_first_60_users_and_items_or_the_selected_one_first(qtbot, setup):
    ex, selection, panel = setup
    r, f, cells = big_model()
    ex.show_loaded(Shown(RunResult("biased-sgd", {"K": 20}, f, History(), 100), r, cells))
    assert len(panel.users) == len(panel.items) == MAX_SIDE == 60
    assert kinds(panel) == ["layer"] * 20 + ["baseline", "r_hat", "residual"]  # each factor its own picture
    assert [p.title for p in panel.panels[:3]] == ["Factor 1", "+ factor 2", "+ factor 3"]
    assert all(p.data.shape == (60, 60) for p in panel.panels)
    for k, layer_k in enumerate(data(panel, "layer")):
        np.testing.assert_allclose(layer_k, np.outer(f.P[:60, k], f.Q[k, :60]), atol=1e-12)
    total = sum(data(panel, "layer")) + data(panel, "baseline")[0]
    np.testing.assert_allclose(total, f.predict_rows(0, 60)[:, :60], atol=1e-12)
    assert "users 1–60 (down) and items 1–60 (across) of 943 × 1,682" in panel.caption.text()
    E = data(panel, "residual")[0]
    R = r.to_dense()[:60, :60]
    np.testing.assert_array_equal(np.isnan(E), np.isnan(R))
    held = {(int(a), int(b)) for a, b in cells if a < 60 and b < 60}
    assert len(panel.held_marks.get_paths()) == len(held) > 0
    selection.select(user=500, item=7)
    assert panel.users[0] == 500 and list(panel.users[1:4]) == [0, 1, 2] and panel.items[0] == 0
    np.testing.assert_allclose(data(panel, "r_hat")[0][0], f.predict_rows(500, 501)[0, :60], atol=1e-12)
    assert "user 501 (selected), then users 1–59" in panel.caption.text()


def test_a_big_models_layers_redraw_in_well_under_50_ms(qtbot, setup):
    ex, _sel, panel = setup
    r, f, cells = big_model()
    ex.show_loaded(Shown(RunResult("biased-sgd", {"K": 20}, f, History(), 100), r, cells))
    qtbot.wait(50)  # the first, full draw
    t0 = time.perf_counter()
    panel.canvas.draw()
    full = time.perf_counter() - t0
    draws = panel.canvas.full_draws
    times = []
    for j in range(7):
        g = f.copy()
        g.P *= 1 + 1e-4 * j  # the scales stay: only the images are drawn again
        t0 = time.perf_counter()
        panel._set_factors(g, now=True)
        times.append(time.perf_counter() - t0)
    print(f"\nlayers, 943 x 1,682, K = 20: {1000 * np.median(times):.1f} ms a redraw (median of 7; "
          f"slowest {1000 * max(times):.1f} ms), a full draw {1000 * full:.0f} ms")
    assert panel.canvas.full_draws == draws and panel.canvas.blits >= 7
    assert np.median(times) < 0.05


def test_a_run_redraws_at_a_bounded_pace_and_cleared_empties_the_panel(qtbot, setup):
    from tests.gui.conftest import synthetic_ratings

    ex, _sel, panel = setup
    reports = []
    ex.progress.connect(reports.append)
    with qtbot.waitSignal(ex.progress, timeout=10_000):
        ex.train(request(synthetic_ratings(), steps=1_000_000_000, solver="biased-sgd", alpha=0.005))
    qtbot.waitUntil(lambda: panel.draws > 0, timeout=5_000)
    qtbot.wait(400)
    assert 0 < panel.draws <= len(reports)
    with qtbot.waitSignal(ex.finished, timeout=10_000):
        ex.stop()
    qtbot.waitUntil(lambda: not panel._pending, timeout=5_000)  # the run's last factors, from the next pass on
    np.testing.assert_allclose(data(panel, "r_hat")[0], ex.shown.result.factors.predict_rows(0, 60)[:, :60],
                               atol=1e-12)
    ex.clear()
    assert panel.panels == [] and "train a model" in panel.caption.text()


def test_colour_limits_move_in_steps():
    assert [nice_limit(x) for x in (0.0, 0.11, 0.9, 1.0, 1.01, 2.6, 7.0, 8.5)] == [1.0, 0.12, 1.0, 1.0, 1.2, 3.0,
                                                                                      8.0, 10.0]


def test_a_hidden_panel_waits_and_catches_up_when_shown(qtbot, setup):
    from tests.gui.conftest import synthetic_ratings

    ex, _sel, panel = setup
    panel.hide()
    with qtbot.waitSignal(ex.progress, timeout=10_000):
        ex.train(request(synthetic_ratings(), steps=1_000_000_000, solver="biased-sgd", alpha=0.005))
    qtbot.wait(300)
    assert panel.draws == 0
    at_once = []
    panel.canvas.mpl_connect("draw_event", lambda _e: at_once.append(True))
    panel.show()
    assert panel.draws == 1 and kinds(panel)[-2:] == ["r_hat", "residual"]
    assert panel.canvas.slices.busy() and at_once == []  # the new panels' full draw in slices, not at once
    with qtbot.waitSignal(ex.finished, timeout=10_000):
        ex.stop()


@pytest.mark.parametrize("seed", range(5))
def test_user_block_entries_reads_only_the_blocks_users_and_agrees_with_a_pass_over_all(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, m = 90, 70
    flat = rng.choice(n * m, size=1_500, replace=False)
    r = Ratings(flat // m, flat % m, np.ones(1_500), (n, m))
    users = rng.permutation(n)[:20]
    items = rng.permutation(m)[:15]
    got = user_block_entries(r.observed, m, users, items)
    want = block_entries(r.observed, n, m, users, items)
    assert all(np.array_equal(a, b) for a, b in zip(got, want))


def test_a_runs_first_frame_and_its_end_draw_in_slices_not_in_one_pass(qtbot, setup):
    from tests.gui.conftest import synthetic_ratings

    ex, _sel, panel = setup
    full_in_pass = []

    def draw() -> None:  # a full draw made at once, in one event-loop pass
        full_in_pass.append(True)

    qtbot.wait(200)  # the empty panel's first paint
    panel.canvas.mpl_connect("draw_event", lambda _e: draw())
    with qtbot.waitSignal(ex.progress, timeout=10_000):
        ex.train(request(synthetic_ratings(), steps=1_000_000_000, solver="biased-sgd", alpha=0.005))
    qtbot.waitUntil(lambda: panel.draws > 0 and panel.canvas.full_draws > 0, timeout=5_000)
    assert full_in_pass == []  # the new panels' full draw was made in slices
    at_end = []  # connected after the panel: runs right after its slot, in the pass that ends the run
    ex.finished.connect(lambda _end: at_end.append((panel._pending, panel.draws)))
    with qtbot.waitSignal(ex.finished, timeout=10_000):
        ex.stop()
    pending, draws = at_end[-1]
    assert pending  # not in the pass that ended the run
    qtbot.waitUntil(lambda: panel.draws == draws + 1 and not panel.canvas.slices.busy(), timeout=5_000)
    np.testing.assert_allclose(data(panel, "r_hat")[0], ex.shown.result.factors.predict_rows(0, 60)[:, :60],
                               atol=1e-12)  # the run's last factors
    assert full_in_pass == []


def test_past_max_layers_factors_the_last_factors_share_one_panel(qtbot, setup):
    ex, _selection, panel = setup
    K = MAX_LAYERS + 5
    r, f, cells = big_model(K=K)
    ex.show_loaded(Shown(RunResult("biased-sgd", {"K": K}, f, History(), 100), r, cells))
    assert kinds(panel) == ["layer"] * MAX_LAYERS + ["rest", "baseline", "r_hat", "residual"]
    assert panel.panels[MAX_LAYERS].title == f"+ factors {MAX_LAYERS + 1}–{K}"
    total = sum(data(panel, "layer")) + data(panel, "rest")[0] + data(panel, "baseline")[0]
    np.testing.assert_allclose(total, f.predict_rows(0, 60)[:, :60], atol=1e-12)
