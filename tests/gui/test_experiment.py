"""The experiment controller, without any widget: requests in, signals out, results equal the core's."""

from __future__ import annotations

import numpy as np
import pytest

from mfstudio.core import DataError, ParameterError, Ratings, Training, load_example
from mfstudio.gui.experiment import Experiment, RunEnd, RunRequest, RunStart, Shown

pytestmark = pytest.mark.usefixtures("qapp")

NO_CELLS = np.zeros((0, 2), np.int64)


def request(ratings: Ratings | None = None, steps: int = 200, solver: str = "sgd", cells=NO_CELLS, version: int = 0,
            **params) -> RunRequest:
    r = ratings if ratings is not None else load_example("example-1")
    return RunRequest.make(r, cells, solver, {"steps": steps, **params}, data_version=version)


def run_to_end(qtbot, experiment: Experiment, command, req: RunRequest) -> RunEnd:
    with qtbot.waitSignal(experiment.finished, timeout=20_000) as blocker:
        command(req)
    return blocker.args[0]


def test_a_request_is_validated_once_and_cannot_be_changed_afterwards():
    req = request(K=3, alpha=0.001)
    assert req.params["K"] == 3 and req.params["beta"] == 0.02  # defaults filled in
    with pytest.raises(TypeError):
        req.params["steps"] = 5  # type: ignore[index]
    assert not req.held_out_cells.flags.writeable
    with pytest.raises(ParameterError, match="Latent features"):
        request(K=0)


def test_train_reports_started_progress_finished_and_equals_the_core_run(qtbot):
    ex = Experiment()
    seen: list[str] = []
    ex.started.connect(lambda run: seen.append("started"))
    ex.progress.connect(lambda report: seen.append("progress"))
    ex.finished.connect(lambda end: seen.append("finished"))
    req = request(steps=300)
    end = run_to_end(qtbot, ex, ex.train, req)
    assert seen[0] == "started" and seen[-1] == "finished" and seen.count("finished") == 1
    assert end.reason == "budget" and end.shown is not None
    ref = Training(req.ratings, "sgd", dict(req.params))
    list(ref.run())
    assert np.array_equal(end.shown.result.factors.P, ref.factors.P)
    assert np.array_equal(end.shown.result.factors.Q, ref.factors.Q)
    assert ex.result is end.shown.result and end.shown.result.steps_done == 300
    assert ex.result_for(req.ratings) is ex.result


def test_the_gui_thread_holds_no_live_training_while_a_run_goes(qtbot):
    ex = Experiment()
    held: list[object] = []

    def look(run: RunStart) -> None:
        held.append(ex._model)  # what the controller holds once the worker owns the model
        assert not any(isinstance(v, Training) for v in vars(run).values())

    ex.started.connect(look)
    run_to_end(qtbot, ex, ex.train, request(steps=50))
    assert held == [None]
    assert isinstance(ex._model, Training)  # handed back only after the thread ended


def test_continue_goes_on_from_the_model_bit_for_bit(qtbot):
    ex = Experiment()
    run_to_end(qtbot, ex, ex.train, request(steps=100))
    end = run_to_end(qtbot, ex, ex.continue_, request(steps=100))
    ref = Training(load_example("example-1"), "sgd", {"steps": 200})
    list(ref.run())
    assert end.shown is not None and end.shown.result.steps_done == 200
    assert np.array_equal(end.shown.result.factors.P, ref.factors.P)
    assert end.shown.result.params["steps"] == 200


def test_continue_is_refused_with_a_reason_when_the_request_no_longer_fits(qtbot):
    ex = Experiment()
    assert "no model" in ex.continue_blocker(request())
    run_to_end(qtbot, ex, ex.train, request(steps=20))
    assert ex.continue_blocker(request(steps=99)) == ""  # steps aside, the same model
    assert "changed" in ex.continue_blocker(request(steps=20, beta=0.5))
    assert "changed" in ex.continue_blocker(request(steps=20, version=1))
    with pytest.raises(DataError, match="Nothing to continue"):
        ex.continue_(request(steps=20, K=3))


def test_step_makes_one_step_and_goes_past_the_budget(qtbot):
    ex = Experiment()
    end = run_to_end(qtbot, ex, ex.step, request(steps=2))
    assert end.snapshot is not None and end.snapshot.step == 1
    run_to_end(qtbot, ex, ex.step, request(steps=2))
    end = run_to_end(qtbot, ex, ex.step, request(steps=2))
    assert end.snapshot.step == 3 and end.budget == 3


def test_new_start_shows_the_seeds_random_start_at_step_zero(qtbot):
    ex = Experiment()
    with qtbot.waitSignal(ex.reset) as blocker:
        snap = ex.new_start(request(seed=4))
    shown: Shown = blocker.args[0]
    assert snap.step == 0 and shown.result.steps_done == 0
    ref = Training(load_example("example-1"), "sgd", {"seed": 4})
    assert np.array_equal(shown.result.factors.P, ref.factors.P)
    assert ex.continue_blocker(request(seed=4)) == ""  # Continue goes on from the random start


def test_a_data_change_makes_the_result_stale_and_forgets_the_model(qtbot):
    ex = Experiment()
    run_to_end(qtbot, ex, ex.train, request(steps=20))
    with qtbot.waitSignal(ex.stale) as blocker:
        ex.data_changed()
    assert blocker.args == [True] and ex.results_stale
    assert ex.result_for(load_example("example-1")) is None
    assert "no model" in ex.continue_blocker(request(steps=20))
    with qtbot.waitSignal(ex.cleared):
        ex.clear()
    assert ex.result is None and not ex.results_stale


def test_no_ratings_is_refused_before_a_thread_starts_and_a_bad_split_after():
    ex = Experiment()
    empty = Ratings([], [], [], (2, 2))
    with pytest.raises(DataError, match="no ratings"):
        ex.train(request(empty))
    assert not ex.running


def test_every_rating_held_out_ends_as_a_user_error(qtbot):
    ex = Experiment()
    r = load_example("example-1")
    cells = np.stack([r.observed.rows, r.observed.cols], axis=1)
    end = run_to_end(qtbot, ex, ex.train, request(r, cells=cells))
    assert end.outcome.user_error and "held out" in end.outcome.error and end.shown is None


def test_recommendation_settings_list_the_shown_result_again(qtbot):
    ex = Experiment()
    run_to_end(qtbot, ex, ex.train, request(steps=50))
    with qtbot.waitSignal(ex.recommendationsChanged) as blocker:
        ex.set_recommendation_settings(1, 0)
    recs = blocker.args[0]
    assert recs is not None and ex.recommendations() is recs
    assert ex.top_n == 1


# -- one update at a time, slow motion, the notebook's printout ---------------------------------------------
def test_nine_single_updates_are_one_step_and_each_is_reported(qtbot):
    ex = Experiment()
    seen: list = []
    ex.updated.connect(seen.append)
    req = request(steps=10)
    for _ in range(9):
        ex.step_update(req)
    # the line on the loss curve starts with the first completed step
    assert [u.update.index for u in seen] == list(range(9)) and [u.new_line for u in seen] == [False] * 8 + [True]
    assert seen[-1].update.completes_step and ex.snapshot.step == 1 and ex.result.steps_done == 1
    ref = Training(req.ratings, "sgd", dict(req.params))
    list(ref.run(max_steps=1))
    assert np.array_equal(ex.result.factors.P, ref.factors.P) and np.array_equal(ex.result.factors.Q, ref.factors.Q)
    end = run_to_end(qtbot, ex, ex.step, req)  # Step goes on from the same model: step 2
    assert end.shown.result.steps_done == 2


def test_a_step_begun_one_update_at_a_time_is_finished_by_step(qtbot):
    ex = Experiment()
    req = request(steps=10, solver="biased-sgd")
    ex.step_update(req)
    end = run_to_end(qtbot, ex, ex.step, req)
    ref = Training(req.ratings, "biased-sgd", dict(req.params))
    list(ref.run(max_steps=1))
    assert end.shown.result.steps_done == 1 and np.array_equal(end.shown.result.factors.P, ref.factors.P)


def test_half_steps_of_als_show_the_focused_user_then_item():
    ex = Experiment()
    req = request(steps=10, solver="als")
    first = ex.step_update(req, focus=(2, 3)).update
    second = ex.step_update(req, focus=(2, 3)).update
    assert (first.side, first.row) == ("users", 2) and (second.side, second.row) == ("items", 3)
    assert ex.result.steps_done == 1


def test_half_steps_of_implicit_als_show_the_focused_listener_then_artist():
    ex = Experiment()
    req = request(load_example("listening"), steps=10, solver="implicit-als")
    first = ex.step_update(req, focus=(4, 7)).update
    second = ex.step_update(req, focus=(4, 7)).update
    assert (first.side, first.row) == ("users", 4) and (second.side, second.row) == ("items", 7)
    assert ex.result.steps_done == 1


def test_slow_motion_goes_at_the_speed_chosen_and_a_change_takes_effect_at_once(qtbot):
    ex = Experiment()
    ex.set_speed(10.0)
    steps: list[int] = []
    ex.progress.connect(lambda report: steps.append(report.snapshot.step))
    with qtbot.waitSignal(ex.finished, timeout=10_000):
        ex.train(request(steps=5))
    assert steps == [1, 2, 3, 4, 5]  # every step reported
    ex.set_speed(1.0)
    ex.train(request(steps=100_000))
    qtbot.wait(300)
    ex.set_speed(float("inf"))  # as fast as possible: the run ends long before 100,000 s
    with qtbot.waitSignal(ex.finished, timeout=10_000) as blocker:
        pass
    assert blocker.args[0].shown.result.steps_done == 100_000
    with pytest.raises(DataError):
        ex.set_speed(0)


def test_stop_stops_a_slow_run_within_a_second(qtbot):
    ex = Experiment()
    ex.set_speed(1.0)
    ex.train(request(steps=1000))
    qtbot.wait(200)
    import time

    t0 = time.perf_counter()
    with qtbot.waitSignal(ex.finished, timeout=5_000) as blocker:
        ex.stop()
    assert time.perf_counter() - t0 < 1.0 and blocker.args[0].reason == "cancelled"


def test_the_notebooks_printouts_come_with_the_run(qtbot):
    ex = Experiment()
    ex.set_log_every(1000)
    got: list[int] = []
    ex.progress.connect(lambda report: got.extend(int(t.split()[4]) for t in report.printouts))
    end = run_to_end(qtbot, ex, ex.train, request(steps=3500))
    got += [int(t.split()[4]) for t in end.outcome.printouts]
    assert got == [0, 1000, 2000, 3000]  # "-------- Result at step N : ..."


def test_a_request_keeps_read_only_cells_as_they_are_and_copies_any_others():
    r = load_example("example-1")
    cells = np.array([[0, 0], [1, 1]], np.int64)
    copied = request(r, cells=cells).held_out_cells
    assert copied is not cells and not copied.flags.writeable and copied.tolist() == cells.tolist()
    cells.setflags(write=False)
    first, second = request(r, cells=cells), request(r, cells=cells)
    assert first.held_out_cells is cells and second.held_out_cells is cells  # the views' work for them is kept
    assert first.key == second.key
    view = cells[:1]  # read-only, but a view of other cells: copied
    assert request(r, cells=view).held_out_cells is not view
