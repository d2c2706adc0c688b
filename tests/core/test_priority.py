"""Background threads compute at a lower CPU priority than the window's thread (Linux)."""

from __future__ import annotations

import threading

import pytest

from mfstudio.core import priority

pytestmark = pytest.mark.skipif(not priority.supported(), reason="per-thread nice values are Linux's")


def _in_thread(work) -> object:
    out: dict[str, object] = {}

    def target() -> None:
        out["value"] = work()

    t = threading.Thread(target=target)
    t.start()
    t.join(10)
    return out["value"]


def test_a_background_thread_lowers_itself_and_what_it_starts_but_not_the_window():
    main_before = priority.nice_of(threading.main_thread().native_id)

    def work() -> tuple[int, int]:
        priority.lower_this_thread()
        child = _in_thread(lambda: priority.nice_of(threading.get_native_id()))  # a thread it starts
        return priority.nice_of(threading.get_native_id()), child

    own, child = _in_thread(work)
    assert own >= priority.BACKGROUND_NICE and child >= priority.BACKGROUND_NICE
    priority.lower_this_thread()  # on the main thread: nothing happens
    assert priority.nice_of(threading.main_thread().native_id) == main_before


def test_lower_helpers_reaches_a_thread_started_before_it_and_leaves_the_main_thread():
    started, done = threading.Event(), threading.Event()
    tid: list[int] = []

    def idle() -> None:
        tid.append(threading.get_native_id())
        started.set()
        done.wait(10)

    t = threading.Thread(target=idle)
    t.start()
    started.wait(10)
    try:
        main_before = priority.nice_of(threading.main_thread().native_id)
        if priority.nice_of(tid[0]) >= priority.BACKGROUND_NICE:
            pytest.skip("this process's threads already start lowered")
        assert priority.lower_helpers() >= 1
        assert priority.nice_of(tid[0]) == priority.BACKGROUND_NICE
        assert priority.nice_of(threading.main_thread().native_id) == main_before
    finally:
        done.set()
        t.join(10)


def test_background_starts_numbas_threads_lowered_and_never_lowers_below_the_mark():
    def work() -> int:
        priority.background()
        priority.background()  # again: it stays where it is
        return priority.nice_of(threading.get_native_id())

    assert _in_thread(work) == priority.BACKGROUND_NICE
