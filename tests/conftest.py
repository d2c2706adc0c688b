"""Test-wide setup: Qt runs offscreen. Imports no Qt, so tests/core and tests/io stay Qt-free."""

import os

# Must happen before anything imports Qt: GUI tests draw into an offscreen buffer.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


import pytest


@pytest.fixture(scope="module")
def no_sweep_helpers_after():
    """After a module that runs sweeps: the fork server and the resource tracker end (sweep_pool.shutdown), and
    no process of theirs is left."""
    yield
    import os
    import time

    from mfstudio.core import sweep_pool

    pids = sweep_pool.helper_pids()
    assert sweep_pool.shutdown(), "a sweep's pool is still running after the module's tests"
    assert sweep_pool.helper_pids() == []
    deadline = time.monotonic() + 5
    for pid in pids:
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.02)
        else:
            raise AssertionError(f"process {pid} (a sweep helper) is still running")
