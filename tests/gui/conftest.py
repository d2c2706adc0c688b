"""GUI test fixtures: fail any test that leaves a training thread or one of our timers running.

Our timers carry an objectName starting with ``mfstudio`` (Qt's own helpers, such
as a status bar's message timer, are unnamed and not ours to police).
"""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from PySide6.QtCore import QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from mfstudio.gui import worker  # noqa: E402


def _our_active_timers() -> list[str]:
    app = QApplication.instance()
    if app is None:
        return []
    found = []
    for top in QApplication.topLevelWidgets():
        for t in top.findChildren(QTimer):
            if t.objectName().startswith("mfstudio") and t.isActive():
                found.append(f"{top.objectName() or type(top).__name__}/{t.objectName()}")
    return found


@pytest.fixture(autouse=True)
def no_leftover_threads_or_timers(request: pytest.FixtureRequest):
    """After each test: no training thread running, none of our timers active; windows closed."""
    yield
    if "qapp" not in request.fixturenames and QApplication.instance() is None:
        return
    threads = worker.live_threads()
    timers = _our_active_timers()
    # Clean up first so one failure does not cascade (or abort the process).
    for t in threads:
        t.control.stop()
        t.wait(10_000)
    for top in QApplication.topLevelWidgets():
        top.close()
        top.deleteLater()
    QApplication.processEvents()
    problems = []
    if threads:
        problems.append(f"{len(threads)} training thread(s) still running")
    if timers:
        problems.append("active timers: " + ", ".join(timers))
    if problems:
        pytest.fail("The test left " + "; ".join(problems) + ".")


@pytest.fixture
def example_ratings():
    from mfstudio.core import load_example

    return load_example("example-1")
