"""The latent map: P's rows and Q's columns drawn as they are (K = 2), PCA axes that say their share (K > 2),
the selection's arrow, rings and lines, the genre filter, search, hover and click, the ladder's switches,
export, and a frame on ML-100K's size well within the event loop's budget."""

from __future__ import annotations

import re
import time

import numpy as np
import pytest
from matplotlib.backend_bases import MouseEvent
from matplotlib.colors import to_rgba
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog

from mfstudio.core import Factors, Ratings, load_example
from mfstudio.core.ladder import Parts
from mfstudio.core.training import Snapshot
from mfstudio.gui.experiment import Experiment, Progress, RunStart
from mfstudio.gui.views.latent_map import DIVERGED_HINT, EMPTY_HINT, LatentMap
from mfstudio.gui.viewstate import Selection, ShownParts
from tests.gui.conftest import synthetic_ratings
from tests.gui.test_experiment import request, run_to_end


@pytest.fixture
def setup(qtbot):
    ex, sel, parts = Experiment(), Selection(), ShownParts()
    m = LatentMap(ex, sel, parts)
    qtbot.addWidget(m)
    m.resize(460, 460)
    m.show()
    yield ex, sel, parts, m
    ex.shutdown()
    m.stop_timers()


def offsets(collection) -> np.ndarray:
    return np.asarray(collection.get_offsets(), dtype=float).reshape(-1, 2)


def random_factors(n: int, m: int, K: int, seed: int = 0, biases: bool = False) -> Factors:
    rng = np.random.default_rng(seed)
    f = Factors(rng.normal(0, 1, (n, K)), rng.normal(0, 1, (K, m)))
    if biases:
        f.user_bias, f.item_bias, f.global_mean = rng.normal(0, 0.3, n), rng.normal(0, 0.3, m), 3.5
    return f


def items(m: LatentMap) -> np.ndarray:
    """The items' drawn positions, by item index (read from their scatters, one per colour)."""
    idx, xy = m.canvas.item_offsets()
    out = np.full((len(m.canvas.items_xy), 2), np.nan)
    out[idx] = xy
    return out[idx]


def press(m: LatentMap, xy: np.ndarray) -> None:
    """A left click on the canvas at the data point ``xy``."""
    x, y = m.canvas.ax.transData.transform(xy)
    m.canvas.callbacks.process("button_press_event", MouseEvent("button_press_event", m.canvas, x, y, button=1))


def test_the_canvas_search_box_genre_filter_and_caption_are_there_and_named(setup):
    _ex, _sel, _parts, m = setup
    assert m.canvas.objectName() == "latentMap" and m.search.objectName() == "latentMapSearch"
    assert m.genre.objectName() == "latentMapGenre" and m.genre.isHidden()
    assert "rows of P" in m.caption.text() and "columns of Q" in m.caption.text()
    m.redraw_now()
    assert m.canvas.hint.get_visible() and m.canvas.hint.get_text() == EMPTY_HINT


def test_with_two_factors_the_points_are_exactly_the_rows_of_p_and_the_columns_of_q(qtbot, setup):
    ex, _sel, _parts, m = setup
    end = run_to_end(qtbot, ex, ex.train, request(steps=300))
    m.redraw_now()
    f = end.shown.result.factors
    assert f.K == 2
    (all_items, scatter), = m.canvas.item_groups  # without genres: one scatter, every item in order
    assert np.array_equal(all_items, np.arange(4))
    assert np.array_equal(offsets(m.canvas.users), f.P) and np.array_equal(offsets(scatter), f.Q.T)
    assert (m.canvas.ax.get_xlabel(), m.canvas.ax.get_ylabel()) == ("k1", "k2")
    assert not m.canvas.hint.get_visible()
    legend = [t.get_text() for t in m.canvas.legend.get_texts()]
    assert legend == ["Users (P rows)", "Items (Q columns)"]
    # every point is inside the axes: nothing clipped
    (x0, x1), (y0, y1) = m.canvas.ax.get_xlim(), m.canvas.ax.get_ylim()
    pts = np.vstack([f.P, f.Q.T, [[0, 0]]])
    assert (x0 < pts[:, 0]).all() and (pts[:, 0] < x1).all() and (y0 < pts[:, 1]).all() and (pts[:, 1] < y1).all()


def test_while_training_the_map_draws_the_reported_factors_at_a_bounded_pace(qtbot, setup):
    ex, _sel, _parts, m = setup
    reported: list[np.ndarray] = []
    ex.progress.connect(lambda report: reported.append(report.snapshot.factors.P.copy()))
    ex.train(request(synthetic_ratings(), steps=1_000_000_000))
    qtbot.waitUntil(lambda: m.canvas.frames >= 3, timeout=10_000)
    drawn = offsets(m.canvas.users)
    assert any(np.array_equal(drawn, P) for P in reported)  # a frame is a snapshot's factors, as they are
    with qtbot.waitSignal(ex.finished, timeout=10_000):
        ex.stop()
    assert m.canvas.frames <= len(reported) + 2  # throttled: never more frames than reports (+ start and end)


def test_the_end_of_a_run_is_drawn_at_once_and_no_timer_is_left_ticking(qtbot, setup):
    ex, _sel, _parts, m = setup
    run_to_end(qtbot, ex, ex.train, request(steps=50))
    assert not m._timer.isActive() and m.canvas.frames >= 1 and not m._dirty
    assert m._timer.objectName().startswith("mfstudio")
    m._on_progress(type("Report", (), {"snapshot": ex.snapshot})())  # a live report goes through the timer
    assert m._timer.isActive()
    qtbot.waitUntil(lambda: not m._timer.isActive(), timeout=2_000)


def test_a_hidden_map_draws_nothing_until_it_is_shown(qtbot, setup):
    ex, _sel, _parts, m = setup
    m.hide()
    run_to_end(qtbot, ex, ex.train, request(steps=50))
    qtbot.waitUntil(lambda: not m._timer.isActive(), timeout=2_000)
    assert m.canvas.frames == 0
    m.show()
    qtbot.waitUntil(lambda: m.canvas.frames == 1 and not m._timer.isActive(), timeout=2_000)


def test_with_three_factors_the_axes_say_their_share_of_the_variance(qtbot, setup):
    ex, _sel, _parts, m = setup
    run_to_end(qtbot, ex, ex.train, request(steps=300, K=3))
    m.redraw_now()
    assert re.fullmatch(r"PC1 \(\d+% of variance\)", m.canvas.ax.get_xlabel())
    assert re.fullmatch(r"PC2 \((\d+|\d\.\d|0\.\d+)% of variance\)", m.canvas.ax.get_ylabel())
    assert "K = 3" in m.caption.text()


def test_selecting_a_user_draws_the_taste_arrow_rings_the_rated_items_and_lines_of_equal_prediction(qtbot, setup):
    ex, sel, _parts, m = setup
    end = run_to_end(qtbot, ex, ex.train, request(steps=2000))
    f = end.shown.result.factors
    sel.select(user=1)  # User 2 rated Item 1 and Item 3
    m.redraw_now()
    c = m.canvas
    assert c.arrow.get_visible()
    (x0, y0), (x1, y1) = c.arrow._posA_posB
    assert (x0, y0) == (0.0, 0.0) and np.allclose((x1, y1), f.P[1])
    assert np.array_equal(offsets(c.rings), f.Q.T[[0, 2]]) and len(offsets(c.held_rings)) == 0
    assert np.allclose(offsets(c.chosen), f.P[[1]])
    assert c.ax.get_title() == "User 2's taste arrow; rated items ringed"
    assert "Dashed lines: equal predicted rating." in m.caption.text()
    # the lines are perpendicular to the arrow, and each one's number is the prediction of any item on it
    segments = c.levels.get_segments()
    labelled = [t for t in c.level_labels if t.get_visible()]
    assert len(segments) >= 3 and len(labelled) >= 3
    for seg in segments:
        assert abs(float((seg[1] - seg[0]) @ f.P[1])) < 1e-9
    for t in labelled:
        assert float(np.asarray(t.get_position()) @ f.P[1]) == pytest.approx(float(t.get_text()), abs=1e-9)
    # selecting nothing removes them
    sel.clear()
    m.redraw_now()
    assert not c.arrow.get_visible() and len(offsets(c.rings)) == 0 and not c.levels.get_segments()


def test_held_out_ratings_are_ringed_apart_and_the_lines_add_the_biases(qtbot, setup):
    ex, sel, _parts, m = setup
    cells = np.array([[1, 0]])
    end = run_to_end(qtbot, ex, ex.train, request(steps=300, solver="biased-sgd", cells=cells))
    f = end.shown.result.factors
    sel.select(user=1)
    m.redraw_now()
    c = m.canvas
    assert np.array_equal(offsets(c.rings), f.Q.T[[2]]) and np.array_equal(offsets(c.held_rings), f.Q.T[[0]])
    offset = f.global_mean + f.user_bias[1]
    for t in (t for t in c.level_labels if t.get_visible()):
        assert offset + float(np.asarray(t.get_position()) @ f.P[1]) == pytest.approx(float(t.get_text()))
    assert "held out" in m.caption.text() and "b_u" in m.caption.text()


def test_selecting_an_item_rings_the_users_who_rated_it(qtbot, setup):
    ex, sel, _parts, m = setup
    end = run_to_end(qtbot, ex, ex.train, request(steps=300))
    f = end.shown.result.factors
    sel.select(item=1)  # Item 2: rated by User 1, User 3 and User 4
    m.redraw_now()
    c = m.canvas
    assert np.array_equal(offsets(c.rings), f.P[[0, 2, 3]])
    assert np.allclose(offsets(c.chosen), f.Q.T[[1]]) and not c.arrow.get_visible()
    assert c.ax.get_title() == "Item 2: its 3 raters ringed"


def test_counts_of_events_ring_the_items_with_an_interaction_and_speak_of_preference(qtbot, setup):
    ex, sel, _parts, m = setup
    run_to_end(qtbot, ex, ex.train, request(load_example("listening"), steps=3, solver="implicit-als"))
    r = ex.shown.ratings
    sel.select(user=0)
    m.redraw_now()
    assert m.canvas.ax.get_title().endswith("'s taste arrow; their items ringed")
    text = m.caption.text()
    assert "predicted preference" in text and "rating" not in text
    sel.select(item=0)
    m.redraw_now()
    n = int(np.count_nonzero(r.observed.cols == 0))
    assert m.canvas.ax.get_title().endswith(f": its {n:,} user{'s' if n != 1 else ''} ringed")

def test_movie_night_is_coloured_by_genre_and_the_filter_shows_one_genre(setup):
    _ex, sel, _parts, m = setup
    r = load_example("movie-night")
    f = random_factors(r.n_users, r.n_items, 3)
    m.show_model(r, f)
    m.redraw_now()
    assert not m.genre.isHidden()
    legend = [t.get_text() for t in m.canvas.legend.get_texts()]
    assert legend[0] == "Users (P rows)" and {"Sci-fi", "Romance", "Drama"} <= set(legend)
    style = m.canvas.style
    starfall, orbit, hearts = (r.items.index(t) for t in ("Starfall", "Deep Orbit", "Paper Hearts"))
    assert style.colour_of(starfall) == style.colour_of(orbit) != style.colour_of(hearts)
    # each colour is one scatter whose points are its items' columns of Q, and every item is in one
    labels = [label for label, _c, _idx in style.groups]
    assert labels == legend[1:]
    for (idx, scatter), (_label, colour, _i) in zip(m.canvas.item_groups, style.groups):
        assert np.allclose(offsets(scatter), m.projection.items_xy[idx])
        assert np.allclose(scatter.get_facecolor()[0], to_rgba(colour))
    assert sorted(np.concatenate([idx for idx, _s in m.canvas.item_groups]).tolist()) == list(range(r.n_items))
    m.genre.setCurrentIndex(m.genre.findData("Sci-fi"))
    m.redraw_now()
    shown = [i for i, gs in enumerate(r.item_genres) if "Sci-fi" in gs]
    assert len(shown) == 3 and np.array_equal(m.canvas.visible_items, shown)
    assert np.array_equal(m.canvas.item_offsets()[0], shown)
    assert np.allclose(items(m), m.projection.items_xy[shown])
    # a hidden item's raters are not ringed; searching for it shows every genre again
    sel.select(item=r.items.index("Paper Hearts"))
    m.redraw_now()
    assert len(offsets(m.canvas.chosen)) == 0
    assert m.find("Paper Hearts") and m.genre.currentData() is None
    m.redraw_now()
    assert len(items(m)) == r.n_items
    # data without genres hides the filter
    m.show_model(load_example("example-1"), random_factors(4, 4, 2))
    assert m.genre.isHidden()


def test_search_finds_a_user_or_an_item_by_name(qtbot, setup):
    _ex, sel, _parts, m = setup
    r = load_example("movie-night")
    m.show_model(load_example("example-1"), random_factors(4, 4, 2))
    messages: list[str] = []
    m.statusMessage.connect(messages.append)
    qtbot.keyClicks(m.search, "User 2")
    qtbot.keyClick(m.search, Qt.Key.Key_Return)
    assert sel.current.user == 1 and sel.current.item is None
    assert messages[-1] == "Found the user User 2."
    m.show_model(r, random_factors(r.n_users, r.n_items, 3))
    assert m.find("starf") and sel.current.item == r.items.index("Starfall")
    assert m.find("chloé") and sel.current.user == r.users.index("Chloé")
    assert not m.find("Nobody") and "No user or item is called “Nobody”" in messages[-1]


def test_hovering_names_the_point_and_a_click_selects_it(setup):
    _ex, sel, _parts, m = setup
    r = load_example("movie-night")
    f = random_factors(r.n_users, r.n_items, 2, seed=4)
    m.show_model(r, f)
    m.redraw_now()
    k = r.items.index("Starfall")
    x, y = m.canvas.ax.transData.transform(f.Q.T[k])
    m.canvas.callbacks.process("motion_notify_event", MouseEvent("motion_notify_event", m.canvas, x, y))
    n = int(np.sum(r.observed.cols == k))
    assert m.hover_text.splitlines()[0] == f"Starfall (item; Sci-fi): {n} ratings"
    assert m.hover_text.splitlines()[1].startswith("k1 = ")
    press(m, f.Q.T[k])
    assert sel.current.item == k and sel.current.user is None
    press(m, f.P[3])
    assert sel.current.user == 3
    assert m.describe("user", 3).startswith(f"Dev (user): {int(np.sum(r.observed.rows == 3))} rating")


def test_the_ladder_s_switches_with_only_factor_one_put_the_points_on_the_horizontal_axis(qtbot, setup):
    ex, _sel, parts, m = setup
    end = run_to_end(qtbot, ex, ex.train, request(steps=300))
    f = end.shown.result.factors
    parts.set_parts(Parts(factors=1))
    m.redraw_now()
    users, drawn = offsets(m.canvas.users), items(m)
    assert not users[:, 1].any() and not drawn[:, 1].any()
    assert np.array_equal(users[:, 0], f.P[:, 0]) and np.array_equal(drawn[:, 0], f.Q[0])
    assert "Only feature k1 switched on" in m.caption.text()
    parts.set_parts(Parts())
    m.redraw_now()
    assert np.array_equal(offsets(m.canvas.users), f.P)
    # with K = 3 too: one factor on, every point lies on PC1's axis
    m.show_model(end.shown.ratings, random_factors(4, 4, 3))
    parts.set_parts(Parts(factors=1))
    m.redraw_now()
    assert np.allclose(offsets(m.canvas.users)[:, 1], 0) and np.allclose(items(m)[:, 1], 0)


def test_a_diverged_model_shows_a_sentence_and_cleared_shows_nothing(qtbot, setup):
    ex, _sel, _parts, m = setup
    r = load_example("example-1")
    f = random_factors(4, 4, 2)
    f.P[0, 0] = np.nan
    m.show_model(r, f)
    m.redraw_now()
    assert m.canvas.hint.get_text() == DIVERGED_HINT and len(offsets(m.canvas.users)) == 0
    m.show_model(r, random_factors(4, 4, 2))
    m.redraw_now()
    assert len(offsets(m.canvas.users)) == 4
    ex.clear()
    m.redraw_now()
    assert m.canvas.hint.get_text() == EMPTY_HINT and len(offsets(m.canvas.users)) == 0


@pytest.mark.parametrize("ext, magic", [(".png", b"\x89PNG"), (".svg", b"<?xml"), (".pdf", b"%PDF")])
def test_the_map_exports_as_png_svg_and_pdf(setup, tmp_path, ext, magic):
    _ex, sel, _parts, m = setup
    m.show_model(load_example("example-1"), random_factors(4, 4, 2))
    sel.select(user=0)
    path = m.save_figure(tmp_path / f"map{ext}")
    assert path.read_bytes().startswith(magic)
    with pytest.raises(ValueError, match="png, .svg or .pdf"):
        m.save_figure(tmp_path / "map.jpg")


def test_the_save_dialog_adds_the_chosen_filter_s_extension(setup, tmp_path, monkeypatch):
    _ex, _sel, _parts, m = setup
    m.show_model(load_example("example-1"), random_factors(4, 4, 2))
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(tmp_path / "map"), "PDF document (*.pdf)"))
    messages: list[str] = []
    m.statusMessage.connect(messages.append)
    m.save_button.click()
    assert (tmp_path / "map.pdf").read_bytes().startswith(b"%PDF") and "map.pdf" in messages[-1]


def ml100k_sized(seed: int = 0) -> Ratings:
    rng = np.random.default_rng(seed)
    n, m = 943, 1682
    cells = np.sort(rng.choice(n * m, 100_000, replace=False))
    rows, cols = np.divmod(cells, m)
    return Ratings(rows, cols, rng.integers(1, 6, len(cells)).astype(float), (n, m), scale=(1, 5))


def test_a_frame_on_a_943_by_1682_model_with_20_factors_takes_well_under_50_ms(setup):
    ex, sel, _parts, m = setup
    r = ml100k_sized()
    f = random_factors(r.n_users, r.n_items, 20, biases=True)
    sel.select(user=5)  # the arrow, its lines and the user's 100-odd rings as well
    # a run starts (the signals a run makes, without the run: the frames alone are timed)
    ex.started.emit(RunStart("biased-sgd", {"seed": 0}, r, np.zeros((0, 2), np.int64), 0.0, 100, 0, None, True, f))
    m.redraw_now()  # the first frame draws everything (and solves the layout)
    full = m.canvas.full_draws
    rng = np.random.default_rng(1)
    wall, cpu = [], []
    for _ in range(20):  # as training goes: new factors every frame, projected and drawn
        f = Factors(f.P + rng.normal(0, 1e-3, f.P.shape), f.Q + rng.normal(0, 1e-3, f.Q.shape), f.user_bias,
                    f.item_bias, f.global_mean)
        ex.progress.emit(Progress(Snapshot(1, 1.0, 1.0, 1.0, np.nan, np.nan, 0.1, 10.0, 100, f), np.zeros((0, 7))))
        t0, c0 = time.perf_counter(), time.thread_time()
        m.redraw_now()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.thread_time() - c0)  # the GUI thread's own work, whatever else the machine runs
    assert np.array_equal(offsets(m.canvas.users), m.projection.users_xy)
    assert m.canvas.full_draws - full <= 2  # the axes grow rarely: the frames are blitted
    t0 = time.perf_counter()
    m.canvas.draw()
    whole = 1000 * (time.perf_counter() - t0)
    ms = lambda xs, q: 1000 * float(np.quantile(xs, q))
    print(f"\nlatent map frame on 943 x 1682, K = 20: median {ms(wall, 0.5):.1f} ms wall "
          f"({ms(cpu, 0.5):.1f} ms of the GUI thread's time), worst {ms(wall, 1):.1f} ms; a full draw {whole:.0f} ms")
    assert ms(cpu, 0.5) < 50 and ms(wall, 0.5) < 200


def test_a_frame_on_movie_night_training_is_drawn_with_the_run_s_own_ratings(qtbot, setup):
    ex, _sel, _parts, m = setup
    r = load_example("movie-night")
    end = run_to_end(qtbot, ex, ex.train, request(r, steps=20, solver="als", K=3))
    m.redraw_now()
    assert m.ratings is r and len(items(m)) == r.n_items
    assert np.allclose(offsets(m.canvas.users), m.projection.users_xy)
    assert np.allclose(m.projection.users_xy, end.shown.result.factors.P @ m.projection.basis)


@pytest.mark.parametrize("K", [2, 4])
def test_the_person_being_added_is_a_star_at_their_projected_place(qtbot, K):
    from mfstudio.gui.newcomer import Newcomer

    ex, sel, parts, nc = Experiment(), Selection(), ShownParts(), Newcomer()
    m = LatentMap(ex, sel, parts, newcomer=nc)
    qtbot.addWidget(m)
    m.resize(460, 460)
    m.show()
    r = load_example("example-1")
    m.show_model(r, random_factors(r.n_users, r.n_items, K, seed=3))
    m.redraw_now()
    assert len(offsets(m.canvas.newcomer)) == 0 and not m.canvas.newcomer_name.get_visible()
    p = np.linspace(-1.5, 2.5, K)  # far out: the limits make room for the star
    nc.set_person("Ada", p, 0.2)
    assert np.allclose(offsets(m.canvas.newcomer), m.projection.place(p))
    star, dot = m.canvas.newcomer.get_paths()[0], m.canvas.users.get_paths()[0]
    assert not np.array_equal(star.vertices.shape, dot.vertices.shape)  # a marker of its own
    assert m.canvas.newcomer_name.get_text() == "Ada" and m.canvas.newcomer_name.get_visible()
    x, y = m.projection.place(p)[0]
    (x0, x1), (y0, y1) = sorted(m.canvas.ax.get_xlim()), sorted(m.canvas.ax.get_ylim())
    assert x0 < x < x1 and y0 < y < y1
    assert m.canvas.newcomer in m.canvas._moving() and m.canvas.newcomer.get_animated()
    nc.set_person("Ada", np.ones(K + 1))  # a vector of another model: not drawn
    assert len(offsets(m.canvas.newcomer)) == 0
    nc.set_person("Ada", p)
    nc.clear()
    assert len(offsets(m.canvas.newcomer)) == 0 and not m.canvas.newcomer_name.get_visible()
    m.stop_timers()
    ex.shutdown()


def test_big_data_draws_a_fixed_sample_and_the_caption_says_how_many(qtbot, setup, monkeypatch):
    from mfstudio.gui.views import latent_map

    monkeypatch.setattr(latent_map, "MAX_POINTS", 100)
    ex, _sel, _parts, m = setup
    r = synthetic_ratings(120, 90, 0.2)
    run_to_end(qtbot, ex, ex.train, request(r, steps=5, K=3))
    m.redraw_now()
    drawn = len(offsets(m.canvas.users)) + len(m.canvas.item_offsets()[0])
    assert drawn <= 100 + 2
    caption = m.caption.text()
    assert f"{drawn:,} of the 210 points drawn (a fixed sample)." in caption
    assert "drawn" not in m.canvas.ax.get_title()
    first = offsets(m.canvas.users).copy()
    m.redraw_now()  # the same sample every frame
    assert np.array_equal(offsets(m.canvas.users), first)


def test_big_data_draws_the_sample_and_the_selections_points_each_once(qtbot, setup, monkeypatch):
    """The sample plus the selected user, their items and, for an item, its raters: sorted, each once."""
    from mfstudio.gui.views import latent_map

    monkeypatch.setattr(latent_map, "MAX_POINTS", 100)
    ex, sel, _parts, m = setup
    r = synthetic_ratings(120, 90, 0.2)
    o = r.observed
    held = np.stack([o.rows[::5], o.cols[::5]], axis=1)
    run_to_end(qtbot, ex, ex.train, request(r, steps=5, K=3, cells=held))
    su, si = m._data.sample
    for user in (int(su[0]), int(np.setdiff1d(np.arange(120), su)[0])):  # one in the sample, one not
        sel.select(user=user)
        m.redraw_now()
        mine = o.cols[o.rows == user]
        assert np.array_equal(m.canvas.visible_users, np.union1d(su, [user]))
        assert np.array_equal(m.canvas.visible_items, np.union1d(si, mine))
        rated, held_out = m._data.items_of(user)
        is_held = {(int(a), int(b)) for a, b in held}
        assert sorted(rated.tolist() + held_out.tolist()) == sorted(mine.tolist())
        assert all((user, int(i)) in is_held for i in held_out) and all((user, int(i)) not in is_held for i in rated)
    for item in (int(si[0]), int(np.setdiff1d(np.arange(90), si)[0]), int(si[0])):  # and back: kept, still right
        sel.select(item=item)
        m.redraw_now()
        raters = o.rows[o.cols == item]
        assert np.array_equal(m.canvas.visible_users, np.union1d(su, raters))
        assert np.array_equal(m.canvas.visible_items, np.union1d(si, [item]))
        rated, held_out = m._data.users_of(item)
        assert sorted(rated.tolist() + held_out.tolist()) == sorted(raters.tolist())
        assert np.all(np.isfinite(m.canvas.users_xy[m.canvas.visible_users]))  # every point drawn is placed


def test_the_search_offers_the_names_once_focused_and_follows_new_data(qtbot, setup):
    ex, _sel, _parts, m = setup
    movie = load_example("movie-night")
    run_to_end(qtbot, ex, ex.train, request(movie, steps=5))
    names = m.search.completer().model()
    m.search.setFocus()
    qtbot.waitUntil(m.search.hasFocus)
    assert names.stringList() == list(dict.fromkeys(movie.users + movie.items))
    r = synthetic_ratings(12, 9, 0.5)
    run_to_end(qtbot, ex, ex.train, request(r, steps=5))  # new data while the box has the focus
    assert names.stringList() == list(dict.fromkeys(r.users + r.items))
    ex.clear()
    assert names.stringList() == []
