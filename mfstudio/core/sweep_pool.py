"""Where a sweep's worker processes come from: one fork server per process, started once and kept warm.

A spawned worker costs about 2 s before its first step (a new Python, numpy, numba, mfstudio's core and
the kernels read from numba's cache), and the first point of each worker paid it. Instead the workers are
forked from multiprocessing's *fork server*: a fresh Python (started by fork + exec, so safe from a window
that holds Qt threads) that imports all that once — and loads the sweep's solver's kernels and the ranking
metrics' loop, see :mod:`mfstudio.core._sweep_preload` — then forks a worker in a few milliseconds for
every sweep that follows. :func:`warm_up` starts it early, while the caller does its own setup (the
command line reads its data; the window opens the sweep window); a sweep's pool is still started once per
sweep and ended with it.

Two helper processes of multiprocessing stay after a sweep: the fork server and its *resource tracker*
(which unlinks the named semaphores of a process that died without doing so). Both sleep on a pipe from
this process and end by themselves when it ends; :func:`shutdown` ends them sooner (tests, closing the
window), and a later sweep starts them again.
"""

from __future__ import annotations

import gc
import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing import forkserver, get_context, resource_tracker
from multiprocessing.context import BaseContext

PRELOAD = "mfstudio.core._sweep_preload"
WARM_ENV = "MFSTUDIO_SWEEP_WARM"  # the solver whose kernels the fork server loads (read by PRELOAD)

_lock = threading.Lock()
_live = 0  # pools started from here and not yet ended: shutdown() waits for none


def context() -> BaseContext:
    """The multiprocessing context of a sweep's workers: the fork server, preloading :data:`PRELOAD`."""
    ctx = get_context("forkserver")
    ctx.set_forkserver_preload([PRELOAD])
    return ctx


def warm_up(solver: str | None = None) -> None:
    """Start the fork server now (if it is not running) and return at once: it imports and loads ``solver``'s
    kernels in the background, and the first worker forked from it waits for that, not for a new Python."""
    with _lock:
        context()
        old = os.environ.get(WARM_ENV)
        os.environ[WARM_ENV] = solver or ""
        try:
            with children_ignore_sigint():
                forkserver.ensure_running()
        finally:
            if old is None:
                os.environ.pop(WARM_ENV, None)
            else:
                os.environ[WARM_ENV] = old


def pool_started() -> None:
    """A sweep started its pool (the fork server must not be shut down under it)."""
    global _live
    with _lock:
        _live += 1


def pool_ended() -> None:
    """A sweep's pool has no worker left."""
    global _live
    with _lock:
        _live = max(0, _live - 1)


def helper_pids() -> list[int]:
    """The pids of the fork server and of the resource tracker, those that are running."""
    pids = [getattr(forkserver._forkserver, "_forkserver_pid", None),
            getattr(resource_tracker._resource_tracker, "_pid", None)]
    return [p for p in pids if p is not None]


def shutdown() -> bool:
    """End the fork server and the resource tracker, unless a sweep's pool is still running (then False).

    Uses the two ``_stop`` methods multiprocessing's own tests use (private, present since Python 3.8)."""
    with _lock:
        if _live:
            return False
        gc.collect()  # ended sweeps' queues: their semaphores unlinked and unregistered now, not by the tracker
        stop_server = getattr(forkserver._forkserver, "_stop", None)
        if stop_server is not None:
            stop_server()
        stop_tracker = getattr(resource_tracker._resource_tracker, "_stop", None)
        if stop_tracker is not None:
            stop_tracker()
        return True


@contextmanager
def children_ignore_sigint() -> Iterator[None]:
    """Processes started here ignore SIGINT from their first instruction (an ignored signal stays ignored across
    exec, and the fork server's children inherit it): Ctrl-C in a terminal reaches the whole process group, and
    only the parent should act on it."""
    old = None
    if threading.current_thread() is threading.main_thread():
        try:
            old = signal.signal(signal.SIGINT, signal.SIG_IGN)
        except (ValueError, OSError):
            old = None
    try:
        yield
    finally:
        if old is not None:
            signal.signal(signal.SIGINT, old)
