"""Imported by the sweeps' fork server (see sweep_pool.py) once, before it forks any worker.

It loads what every worker needs before its first step — numpy, numba, mfstudio's core, the kernels of the
solver named in ``MFSTUDIO_SWEEP_WARM`` and the ranking metrics' loop — so that each forked worker has them
at no cost. Kernels that run on numba's threads (``THREADED``) are not loaded here: a process must not fork
after starting those threads, so each worker loads them itself. Nothing here may fail the server: a worker
loads whatever is missing.
"""

from __future__ import annotations

import os

THREADED = frozenset({"als", "implicit-als"})  # solvers whose kernels start numba's threads


def _preload() -> None:
    try:
        import mfstudio.core.sweep  # noqa: F401  (numpy, numba, training, solvers)
        from mfstudio.core.solvers.warmup import ensure_compiled, ensure_ranking_compiled

        name = os.environ.get("MFSTUDIO_SWEEP_WARM", "")
        if name and name not in THREADED:
            ensure_compiled(name)
        ensure_ranking_compiled()
    except Exception:  # a worker loads what is missing, with its own sentence if that fails
        pass


_preload()
