"""Test-wide setup: Qt runs offscreen. Imports no Qt, so tests/core and tests/io stay Qt-free."""

import os

# Must happen before anything imports Qt: GUI tests draw into an offscreen buffer.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


import pytest


def pytest_sessionstart(session: pytest.Session) -> None:
    """Compile (or load from numba's cache) every solver's kernels once, before any test runs: a cold cache costs
    about a minute, which tests with a time limit on a run (20 s for a window's training) must not pay. Under
    xdist the controller does it, so the workers load the cache instead of compiling the same code twice."""
    if hasattr(session.config, "workerinput"):
        return
    from mfstudio.core.solvers.warmup import compile_all

    compile_all()


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


def spark_missing() -> str | None:
    """Why ``--engine spark`` cannot run here (no pyspark, no Java), or None."""
    import importlib.util

    from mfstudio.engines.spark import java_command

    if importlib.util.find_spec("pyspark") is None:
        return "pyspark is not installed (pip install '.[spark]')"
    if java_command() is None:
        return "no Java runtime (apt-get install default-jre-headless)"
    return None


def _spark_jvms() -> list[int]:
    """The ids of this process's child processes that run Spark's Java side."""
    import os
    from pathlib import Path

    found = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            ppid = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
            cmd = (d / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue
        if ppid == os.getpid() and b"org.apache.spark" in cmd:
            found.append(int(d.name))
    return found


SPARK_RUN_ARGS = ["--solver", "als", "--k", "3", "--steps", "20", "--beta", "0.5", "--holdout", "0.2", "--seed", "1"]


@pytest.fixture(scope="session")
def spark_run(tmp_path_factory: pytest.TempPathFactory):
    """One ``mfstudio train --engine spark`` run in local mode (local[2]) on a small made-up data set that Spark
    reads itself (a file:// URI), and the built-in ``als`` on the same data and split with the same parameters:
    (data file, Spark's out dir, als's out dir). Skipped without pyspark or Java, except under CI (which installs
    both): there it fails. Made once per test session: with several worker processes (pytest-xdist) the first
    one to need it makes it under a lock in the folder the workers share, and the others read it there."""
    import fcntl
    import os

    why = spark_missing()
    if why:
        if os.environ.get("CI"):
            pytest.fail(f"{why}; .ci/run must install it for the Spark engine's test.")
        pytest.skip(why)
    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent  # this run's folder, holding each worker's own
    base = shared / "spark-run"
    with open(shared / "spark-run.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (base / "made").exists():
            base.mkdir(exist_ok=True)
            _make_spark_run(base)
            (base / "made").touch()
    return base / "ratings.csv", base / "spark", base / "als"


def _make_spark_run(base):
    """The Spark run and the built-in als run of :func:`spark_run`, written into ``base``."""
    from pathlib import Path

    import numpy as np

    from mfstudio.cli import main

    rng = np.random.default_rng(0)
    n, m, k = 300, 200, 3
    truth = 1.0 + 1.2 * rng.random((n, k)) @ rng.random((k, m))
    rows, cols = np.nonzero(rng.random((n, m)) < 0.15)
    vals = np.clip(np.round(truth[rows, cols] + rng.normal(0, 0.3, len(rows))), 1, 5)
    data = base / "ratings.csv"
    data.write_text("user,item,rating\n" + "".join(f"u{u},i{i},{v:g}\n" for u, i, v in zip(rows, cols, vals)))
    from mfstudio.engines import spark as engine

    fit, seen = engine.fit_als, []

    def watched(*args, **kwargs):
        seen.extend(_spark_jvms())  # while Spark runs: its Java process, a child of this one
        return fit(*args, **kwargs)

    engine.fit_als = watched
    try:
        # given as a file:// URI, the data is read by Spark itself (as data on a cluster's file system would be)
        assert main(["train", data.as_uri(), *SPARK_RUN_ARGS, "--engine", "spark", "--spark-master", "local[2]",
                     "--quiet", "--out", str(base / "spark")]) == 0
    finally:
        engine.fit_als = fit
    if Path("/proc").is_dir():  # Linux (CI): the process table is readable
        assert seen, "Spark's Java process was not found while it ran (so the check after it would prove nothing)"
    assert _spark_jvms() == [], "Spark's Java process is still running after the run"
    als = ["train", str(data), *SPARK_RUN_ARGS, "--cg-steps", "exact", "--quiet", "--out", str(base / "als")]
    assert main(als) == 0
