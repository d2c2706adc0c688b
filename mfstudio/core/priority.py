"""Background computing at a lower CPU priority than the window's thread (Linux; elsewhere nothing changes).

Training uses every core (numba's threads), so the window's thread, which needs a few milliseconds every
tick, would otherwise wait for the scheduler behind them and its event loop would stall. Linux keeps a
nice value per thread and a new thread starts with its creator's: a background thread raises its own
(``lower_this_thread``) before it starts numba's threads, and ``lower_helpers`` raises that of the threads
the process made that are not the window's (numba's pools, Python threads such as the autosave), which
is what a thread started before it needs. Only ever raised (an unprivileged process cannot lower it
back), never above BACKGROUND_NICE, and a machine that refuses it simply keeps the default.
"""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

BACKGROUND_NICE = 10  # a waking window thread gets the core at once; an idle window leaves the threads all of it
TASKS = Path("/proc/self/task")


def supported() -> bool:
    """True where a thread's nice value is its own (Linux)."""
    return sys.platform.startswith("linux") and hasattr(os, "setpriority")


def _raise_nice(tid: int) -> bool:
    """Thread ``tid``'s nice value raised to BACKGROUND_NICE if below; True when it is there now."""
    try:
        if os.getpriority(os.PRIO_PROCESS, tid) < BACKGROUND_NICE:
            os.setpriority(os.PRIO_PROCESS, tid, BACKGROUND_NICE)
        return True
    except OSError:  # gone meanwhile, or not allowed here: the default priority is still correct
        return False


def nice_of(tid: int) -> int:
    """The nice value of thread ``tid`` of this process."""
    return os.getpriority(os.PRIO_PROCESS, tid)


def lower_this_thread() -> None:
    """The calling thread (not the window's) computes in the background from now on, and so do the threads it
    starts."""
    if supported() and threading.current_thread() is not threading.main_thread():
        _raise_nice(threading.get_native_id())


def _name(tid: str) -> str:
    try:
        return (TASKS / tid / "comm").read_text().strip()
    except OSError:
        return ""


def lower_helpers() -> int:
    """Every thread of this process named as the process is (threads a library or Python started; Qt names
    its own), except the window's, computes in the background; returns how many are now."""
    if not supported():
        return 0
    main = threading.main_thread().native_id
    try:
        tids = [t for t in os.listdir(TASKS) if t.isdigit() and int(t) != main]
    except OSError:
        return 0
    own = _name(str(main))
    return sum(_raise_nice(int(t)) for t in tids if _name(t) == own)


def background() -> None:
    """A background computation starts on this thread: it and numba's threads yield to the window's.

    numba's pool is started here first if it was not yet, so that its threads begin lowered."""
    if not supported():
        return
    lower_this_thread()
    try:
        import numba

        numba.get_num_threads()  # starts the pool (from this lowered thread) if nothing did yet
    except Exception:  # numba missing or its threading layer unusable: the run will say so itself
        pass
    lower_helpers()
