"""The check before Qt starts: which libraries Qt's xcb plugin is missing, and the sentence that names
their packages."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from mfstudio.gui import app as gui_app
from mfstudio.gui import qtlibs

ROOT = Path(__file__).resolve().parents[2]

# ldd's report on libqxcb.so on a Debian 12 without libxcb-icccm4 and libxcb-keysyms1 (shortened)
LDD_MISSING_TWO = (
    "\tlinux-vdso.so.1 (0x00007ffd1a5f2000)\n"
    "\tlibQt6XcbQpa.so.6 => /venv/lib/python3.11/site-packages/PySide6/Qt/plugins/platforms/../../lib/libQt6XcbQpa.so.6"
    " (0x00007f)\n"
    "\tlibxcb-cursor.so.0 => /lib/x86_64-linux-gnu/libxcb-cursor.so.0 (0x00007f)\n"
    "\tlibxcb-icccm.so.4 => not found\n"
    "\tlibxcb-keysyms.so.1 => not found\n"
    "\tlibxcb.so.1 => /lib/x86_64-linux-gnu/libxcb.so.1 (0x00007f)\n"
    "\tlibxcb-icccm.so.4 => not found\n"
    "\tlibxcb-keysyms.so.1 => not found\n"
    "\t/lib64/ld-linux-x86-64.so.2 (0x00007f)\n"
)
LDD_ALL_THERE = "\n".join(line for line in LDD_MISSING_TWO.splitlines() if "not found" not in line)
SENTENCE = ("MF Studio cannot open its window because Qt's xcb platform plugin is missing libxcb-icccm.so.4, "
            "libxcb-keysyms.so.1; install them with: sudo apt-get install libxcb-icccm4 libxcb-keysyms1")
X11 = {"DISPLAY": ":0"}


def test_missing_libraries_are_read_from_ldd(monkeypatch):
    monkeypatch.setattr(qtlibs, "ldd", lambda path: LDD_MISSING_TWO)
    assert qtlibs.missing_libraries(Path("libqxcb.so")) == ["libxcb-icccm.so.4", "libxcb-keysyms.so.1"]
    monkeypatch.setattr(qtlibs, "ldd", lambda path: LDD_ALL_THERE)
    assert qtlibs.missing_libraries(Path("libqxcb.so")) == []
    monkeypatch.setattr(qtlibs, "ldd", lambda path: "")  # no ldd here: nothing is claimed missing
    assert qtlibs.missing_libraries(Path("libqxcb.so")) == []


def test_the_sentence_names_libraries_packages_and_the_command(monkeypatch):
    monkeypatch.setattr(qtlibs, "ldd", lambda path: LDD_MISSING_TWO)
    monkeypatch.setattr(qtlibs.shutil, "which", lambda name: "/usr/bin/" + name)
    assert qtlibs.xcb_problem(X11) == SENTENCE
    monkeypatch.setattr(qtlibs, "ldd", lambda path: LDD_ALL_THERE)
    assert qtlibs.xcb_problem(X11) is None


def test_sentence_for_libraries_the_table_does_not_know():
    s = qtlibs.missing_sentence(["libxcb-icccm.so.4", "libfuture.so.9"], have_apt=True)
    assert (
        "sudo apt-get install libxcb-icccm4, plus the package with libfuture.so.9 (apt-file search libfuture.so.9" in s
    )
    s = qtlibs.missing_sentence(["libfuture.so.9"], have_apt=True)
    assert s.endswith("install the packages that provide them (apt-file search libfuture.so.9 names one)")
    s = qtlibs.missing_sentence(["libxcb-icccm.so.4"], have_apt=False)
    assert "apt-get" not in s and "libxcb-icccm.so.4" in s and "package manager" in s
    s = qtlibs.missing_sentence(["libGL.so.1", "libX11.so.6", "libX11-xcb.so.1"], have_apt=True)
    assert s.endswith("sudo apt-get install libgl1 libx11-6 libx11-xcb1") and "\n" not in s


def test_packages_named_once_per_package():
    s = qtlibs.missing_sentence(["libglib-2.0.so.0", "libgthread-2.0.so.0"], have_apt=True)
    assert s.endswith("sudo apt-get install libglib2.0-0")


@pytest.mark.parametrize(
    "env, platform, expected",
    [
        ({"DISPLAY": ":0"}, "linux", True),
        ({"DISPLAY": ":0", "QT_QPA_PLATFORM": "xcb"}, "linux", True),
        ({"DISPLAY": ":0", "QT_QPA_PLATFORM": "xcb:nograb"}, "linux", True),
        ({"QT_QPA_PLATFORM": "xcb"}, "linux", True),  # Qt would try (and fail) without DISPLAY too
        ({"DISPLAY": ":0", "QT_QPA_PLATFORM": "offscreen"}, "linux", False),
        ({"DISPLAY": ":0", "QT_QPA_PLATFORM": "wayland;xcb"}, "linux", False),
        ({"DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-0"}, "linux", False),
        ({}, "linux", False),
        ({"DISPLAY": ":0"}, "darwin", False),
        ({"DISPLAY": ":0"}, "win32", False),
    ],
)
def test_uses_xcb(env, platform, expected):
    assert qtlibs.uses_xcb(env, platform) is expected


def test_no_check_when_another_platform_is_used(monkeypatch):
    def ldd(path):
        raise AssertionError("ldd run for a platform that is not xcb")

    monkeypatch.setattr(qtlibs, "ldd", ldd)
    assert qtlibs.xcb_problem({"DISPLAY": ":0", "QT_QPA_PLATFORM": "offscreen"}) is None


def test_the_real_plugin_is_found_and_ldd_reads_it():
    plugin = qtlibs.xcb_plugin()
    if plugin is None or not sys.platform.startswith("linux"):
        pytest.skip("PySide6 has no xcb plugin here")
    assert plugin.name == "libqxcb.so"
    report = qtlibs.ldd(plugin)
    assert "libxcb.so.1" in report  # every library it needs, found or not


def _run_mfstudio(code: str, env_extra: dict[str, str]) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(env_extra)
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_mfstudio_exits_2_with_the_sentence_when_libraries_are_missing():
    code = f"""
    import sys
    from mfstudio.gui import qtlibs
    qtlibs.ldd = lambda path: {LDD_MISSING_TWO!r}
    qtlibs.shutil.which = lambda name: "/usr/bin/" + name
    from mfstudio import cli
    sys.exit(cli.main([]))
    """
    proc = _run_mfstudio(code, {"DISPLAY": ":0", "QT_QPA_PLATFORM": "xcb"})
    assert proc.returncode == 2
    assert proc.stderr.strip() == SENTENCE
    assert proc.stdout == ""


def test_a_platform_plugin_qt_cannot_start_is_one_sentence_not_an_abort(tmp_path):
    # No X server on this display: Qt's xcb plugin fails (whether or not its libraries are all there),
    # and Qt's fatal message becomes our sentence and exit status 2 instead of "Aborted".
    code = """
    import sys
    from mfstudio.gui import qtlibs
    qtlibs.ldd = lambda path: ""  # the library check passes; Qt itself must fail
    from mfstudio import cli
    sys.exit(cli.main([]))
    """
    proc = _run_mfstudio(code, {"DISPLAY": ":12345", "QT_QPA_PLATFORM": "xcb", "XAUTHORITY": str(tmp_path / "none")})
    assert proc.returncode == 2, proc.stderr
    err = proc.stderr.strip()
    assert len(err.splitlines()) == 1, err
    assert err.startswith("MF Studio cannot open its window because Qt could not start its xcb platform plugin")
    assert "mfstudio train" in err and "Aborted" not in err and "Available platform plugins" not in err


def test_platform_failure_leaves_out_what_qt_always_says():
    held = [
        ("qt.qpa.plugin", "From 6.5.0, xcb-cursor0 or libxcb-cursor0 is needed to load the Qt xcb platform plugin."),
        ("qt.qpa.xcb", "could not connect to display :7"),
    ]
    s = gui_app.platform_failure("xcb", held)
    assert "(could not connect to display :7)" in s and "xcb-cursor0" not in s
    assert "()" not in gui_app.platform_failure("wayland", [])
