"""The real program on a real X display: Xvfb and Qt's xcb plugin, not the offscreen one the other tests use.

It starts ``mfstudio`` as a user would, finds its window (titled Example 1) on the X server,
presses Ctrl+Q there and expects a clean exit. Without Xvfb or xdotool it is skipped, except
under CI, where .ci/run installs them and a skip would hide a broken desktop start.
"""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mfstudio.gui import qtlibs

ROOT = Path(__file__).resolve().parents[2]
WINDOW_TITLE = "^Example 1 .*MF Studio$"  # "Example 1[*] — MF Studio"; Qt leaves out the [*] when unmodified


def _missing(what: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{what}; .ci/run must install it for the real-display test.")
    pytest.skip(what)


@pytest.fixture
def xvfb():
    """A private Xvfb on a display number it picks itself (-displayfd); stopped afterwards."""
    if not sys.platform.startswith("linux"):
        pytest.skip("Xvfb and Qt's xcb plugin are a Linux matter")
    for tool, package in (("Xvfb", "xvfb"), ("xdotool", "xdotool")):
        if shutil.which(tool) is None:
            _missing(f"{tool} is not installed (apt-get install {package})")
    r, w = os.pipe()
    proc = subprocess.Popen(
        ["Xvfb", "-displayfd", str(w), "-screen", "0", "1280x900x24", "-nolisten", "tcp"],
        pass_fds=(w,), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    os.close(w)
    try:
        number = b""
        deadline = time.monotonic() + 30
        while not number.endswith(b"\n") and time.monotonic() < deadline:
            ready, _, _ = select.select([r], [], [], 0.5)
            if ready:
                chunk = os.read(r, 16)
                if not chunk:
                    break
                number += chunk
        if not number.strip().isdigit():
            pytest.fail(f"Xvfb did not start (exit status {proc.poll()}).")
        yield f":{number.decode().strip()}"
    finally:
        os.close(r)
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _xdotool(display: str, *args: str) -> subprocess.CompletedProcess:
    env = {"PATH": os.environ.get("PATH", ""), "DISPLAY": display}
    return subprocess.run(["xdotool", *args], env=env, capture_output=True, text=True, timeout=30, check=False)


def _program() -> list[str]:
    """The installed ``mfstudio`` command beside this python, else ``python -m mfstudio``."""
    script = Path(sys.executable).with_name("mfstudio")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "mfstudio"]


class Program:
    """``mfstudio ARGS`` started on the display, its output in files; killed at the end if still running."""

    def __init__(self, display: str, tmp_path: Path, *args: str) -> None:
        self.display = display
        env = {k: v for k, v in os.environ.items() if k not in ("WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
        env.update(DISPLAY=display, QT_QPA_PLATFORM="xcb")  # private settings and recovery come from conftest.py
        problem = qtlibs.xcb_problem(env)
        if problem:
            _missing(problem)
        self.err = tmp_path / "stderr.txt"
        with (tmp_path / "stdout.txt").open("w") as fo, self.err.open("w") as fe:
            self.proc = subprocess.Popen([*_program(), *args], cwd=tmp_path, env=env, stdin=subprocess.DEVNULL,
                                         stdout=fo, stderr=fe)

    def window(self, title: str, timeout: float = 90) -> str:
        """The id of the visible window whose title matches ``title`` (a regular expression)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.proc.poll() is None:
            found = _xdotool(self.display, "search", "--onlyvisible", "--name", title).stdout.split()
            if found:
                return found[0]
            time.sleep(0.25)
        raise AssertionError(f"no visible window {title!r} (exit status {self.proc.poll()}): {self.err.read_text()}")

    def keys(self, window: str, *keys: str) -> None:
        done = _xdotool(self.display, "windowfocus", "--sync", window, "key", "--clearmodifiers", *keys)
        assert done.returncode == 0, done.stderr

    def exit_status(self) -> int:
        return self.proc.wait(timeout=60)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def program(xvfb, tmp_path):
    started: list[Program] = []

    def start(*args: str) -> Program:
        started.append(Program(xvfb, tmp_path, *args))
        return started[-1]

    yield start
    for p in started:
        p.stop()


def test_the_window_opens_on_a_real_display_and_ctrl_q_quits(program):
    app = program()
    window = app.window(WINDOW_TITLE)
    assert _xdotool(app.display, "getwindowname", window).stdout.strip() == "Example 1 — MF Studio"
    geometry = _xdotool(app.display, "getwindowgeometry", window).stdout
    assert "Geometry:" in geometry and "Geometry: 1x1" not in geometry
    app.keys(window, "ctrl+q")
    assert app.exit_status() == 0, app.err.read_text()
    assert not _xdotool(app.display, "search", "--name", WINDOW_TITLE).stdout.strip()
    assert "Traceback" not in app.err.read_text()


def test_a_missing_file_from_a_launcher_is_a_dialog_over_example_1(program, tmp_path):
    missing = tmp_path / "nope.csv"  # a launcher passes a full path, and has nowhere to show stderr
    app = program(str(missing))
    dialog = app.window("^Could not open the file")
    main = app.window(WINDOW_TITLE)
    assert dialog != main
    app.keys(dialog, "Return")  # OK
    deadline = time.monotonic() + 30
    while _xdotool(app.display, "search", "--onlyvisible", "--name", "^Could not open the file").stdout.strip():
        assert time.monotonic() < deadline, "the dialog did not close on Return"
        time.sleep(0.25)
    app.keys(main, "ctrl+q")
    assert app.exit_status() == 0, app.err.read_text()
    assert f"There is no file at {missing}; check the name and the folder." in app.err.read_text()
