"""The training worker: throttled progress, final state always delivered, stop/pause via Control."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from mfstudio.core import StopReason, Training, load_example, priority
from mfstudio.gui.worker import MAX_RATE, Outcome, TrainingRunner
from tests.gui.conftest import live_threads, synthetic_ratings


@pytest.fixture
def runner(qtbot):
    r = TrainingRunner()
    yield r
    r.shutdown()


def test_short_run_delivers_final_state_and_recommendations(qtbot, runner):
    t = Training(load_example("example-1"), "sgd", {"steps": 50})
    with qtbot.waitSignal(runner.finished, timeout=10_000) as blocker:
        runner.start(t, top_n=2)
    out: Outcome = blocker.args[0]
    assert out.error == ""
    assert out.snapshot is not None and out.snapshot.finished
    assert out.snapshot.step == 50 and out.reason is StopReason.BUDGET
    assert out.history.shape == (50, 7)
    assert np.array_equal(out.history[:, 0], np.arange(1, 51))
    assert out.recommendations is not None and set(out.recommendations.rank) <= {1, 2}
    assert not runner.running and live_threads() == []


def test_progress_is_throttled_in_the_worker(qtbot, runner):
    t = Training(synthetic_ratings(), "sgd", {"steps": 1_000_000_000, "alpha": 0.001})
    reports = []
    runner.progress.connect(reports.append)
    t0 = time.monotonic()
    runner.start(t)
    qtbot.wait(1200)
    with qtbot.waitSignal(runner.finished, timeout=5000) as blocker:
        runner.stop()
    elapsed = time.monotonic() - t0
    assert blocker.args[0].reason is StopReason.CANCELLED
    assert len(reports) >= 5  # the GUI does hear about a long run
    assert len(reports) <= MAX_RATE * elapsed + 2
    assert 20 <= MAX_RATE <= 30  # the pace the design asks for, pinned (the bound above follows MAX_RATE)
    assert len(reports) <= 30 * elapsed + 2
    steps = [r.snapshot.step for r in reports]
    assert steps == sorted(steps) and blocker.args[0].snapshot.step >= steps[-1]
    # snapshots carry copies: the worker's later steps do not change them
    assert not np.shares_memory(reports[0].snapshot.factors.P, t.factors.P)


def test_stop_takes_effect_within_half_a_second(qtbot, runner):
    t = Training(synthetic_ratings(), "als", {"steps": 1_000_000_000, "K": 5})
    runner.start(t)
    qtbot.wait(300)
    t0 = time.monotonic()
    with qtbot.waitSignal(runner.finished, timeout=5000):
        runner.stop()
    assert time.monotonic() - t0 < 0.5
    assert not runner.running


def test_pause_holds_the_step_and_resume_goes_on(qtbot, runner):
    t = Training(synthetic_ratings(), "sgd", {"steps": 1_000_000_000, "alpha": 0.001})
    runner.start(t)
    qtbot.wait(200)
    runner.pause()
    assert runner.paused
    qtbot.wait(150)  # let the current chunk end
    held = t.step
    qtbot.wait(300)
    assert t.step == held
    runner.resume()
    qtbot.waitUntil(lambda: t.step > held, timeout=3000)
    with qtbot.waitSignal(runner.finished, timeout=5000):
        runner.stop()


def test_stop_while_paused_ends_the_run(qtbot, runner):
    t = Training(synthetic_ratings(), "sgd", {"steps": 1_000_000_000})
    runner.start(t)
    qtbot.wait(100)
    runner.pause()
    with qtbot.waitSignal(runner.finished, timeout=2000) as blocker:
        runner.stop()
    assert blocker.args[0].reason is StopReason.CANCELLED


def test_an_error_in_the_worker_is_reported_not_swallowed(qtbot, runner, monkeypatch, capsys):
    def broken(self, control=None, **kw):
        yield from ()
        raise RuntimeError("boom")

    monkeypatch.setattr(Training, "run", broken)
    t = Training(load_example("example-1"), "sgd", {"steps": 10})
    with qtbot.waitSignal(runner.finished, timeout=5000) as blocker:
        runner.start(t)
    out = blocker.args[0]
    assert "unexpected error" in out.error and "boom" in out.error
    assert out.snapshot is None
    assert "RuntimeError: boom" in capsys.readouterr().err


def test_shutdown_stops_waits_and_reports_at_once(qtbot, runner):
    t = Training(synthetic_ratings(), "sgd", {"steps": 1_000_000_000})
    got = []
    runner.finished.connect(got.append)
    runner.start(t)
    qtbot.wait(100)
    assert runner.shutdown(5000)
    assert len(got) == 1 and got[0].reason is StopReason.CANCELLED
    assert live_threads() == []


def test_one_run_at_a_time(qtbot, runner):
    t = Training(synthetic_ratings(), "sgd", {"steps": 1_000_000_000})
    runner.start(t)
    with pytest.raises(RuntimeError):
        runner.start(t)
    runner.shutdown()


def test_a_run_waiting_for_the_warm_up_compiler_still_stops_at_once(qtbot, runner):
    """On a first start a child process compiles the kernels and Train waits for it; Stop, closing and
    SIGTERM must not wait for the compiler too (they did: up to its 10 s or more)."""
    from mfstudio.core.solvers import warmup

    t = Training(synthetic_ratings(), "sgd", {"steps": 1_000_000_000})
    warmup.child_compiling(True)
    try:
        runner.start(t)
        qtbot.wait(200)
        assert runner.running
        t0 = time.monotonic()
        assert runner.shutdown(5000)
        assert time.monotonic() - t0 < 0.5
    finally:
        warmup.child_compiling(False)
    assert live_threads() == []


@pytest.mark.skipif(not priority.supported(), reason="per-thread nice values are Linux's")
def test_the_training_thread_computes_below_the_windows_priority(qtbot, runner):
    seen: list[int] = []

    def recipe() -> Training:  # built on the training thread, after it lowered itself
        seen.append(priority.nice_of(threading.get_native_id()))
        return Training(load_example("example-1"), "als", {"steps": 5})

    main_before = priority.nice_of(threading.main_thread().native_id)
    with qtbot.waitSignal(runner.finished, timeout=10_000) as blocker:
        runner.start(recipe)
    assert blocker.args[0].error == ""
    assert seen == [priority.BACKGROUND_NICE]
    assert priority.nice_of(threading.main_thread().native_id) == main_before
