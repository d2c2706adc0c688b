"""Compile every solver's kernels (and the ranking metrics' loop) ahead of use.

numba compiles a kernel on its first call and keeps the machine code in its cache
(``cache=True``), so only the very first start on a machine pays (30-45 s for all
solvers on 2 shared cores, als's parallel loops half of it); later processes load it in
about a second. Compiling holds the
GIL, so a window runs ``python -m mfstudio.core.solvers.warmup`` in a child process
first and only then loads the cached code itself.
"""

from __future__ import annotations

import sys
import threading

import numpy as np

_lock = threading.Lock()
_ready: set[str] = set()
_ranking_ready = False
_no_child_compiling = threading.Event()
_no_child_compiling.set()


def child_compiling(active: bool) -> None:
    """Say that a child process is (or no longer is) compiling into the cache.

    While it is, :func:`ensure_compiled` waits for it (without holding the GIL) instead
    of compiling the same kernels here, which would hold the GIL for seconds.
    """
    if active:
        _no_child_compiling.clear()
    else:
        _no_child_compiling.set()


def wait_for_child(timeout: float | None = None) -> bool:
    """Wait until no child process is compiling (True) or ``timeout`` seconds have passed (False)."""
    return _no_child_compiling.wait(timeout)


def ensure_compiled(name: str) -> None:
    """Make sure solver ``name``'s kernels are compiled or loaded in this process."""
    if name in _ready:
        return
    _no_child_compiling.wait(timeout=600)
    with _lock:
        if name in _ready:
            return
        from mfstudio.core.ratings import Ratings
        from mfstudio.core.solvers import get_solver

        tiny = Ratings([0, 0, 1, 1], [0, 1, 0, 1], [5.0, 3.0, 4.0, 1.0], (2, 2), scale=(1, 5))
        split = tiny.split_flags(np.array([False, False, False, True]))
        cls = get_solver(name)
        s = cls(tiny.shape, split.train, split.val, {"steps": 1})
        s.run(1, np.empty((1, 5)))
        from mfstudio.core.solvers.micro import Stepper

        one = Stepper(s)  # the kernels called one update at a time (and to finish a step begun so)
        one.next()
        one.finish()
        one.score(np.empty((1, 5)))
        _ready.add(name)


def ensure_ranking_compiled() -> None:
    """Make sure the ranking metrics' loop (every run with a hold-out calls it) is compiled or loaded here."""
    global _ranking_ready
    if _ranking_ready:
        return
    _no_child_compiling.wait(timeout=600)
    with _lock:
        if not _ranking_ready:
            from mfstudio.core.ranking import warm_up

            warm_up()
            _ranking_ready = True


def compile_all() -> None:
    """Compile (or load from the cache) the kernels of every solver and the ranking metrics' loop."""
    from mfstudio.core.solvers import SOLVERS

    for name in SOLVERS:
        ensure_compiled(name)
    ensure_ranking_compiled()


if __name__ == "__main__":
    compile_all()
    sys.exit(0)
