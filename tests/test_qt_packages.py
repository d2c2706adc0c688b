"""The Debian package list is one list: README.md's two set-up commands, .ci/run and mfstudio/gui/qtlibs.py
agree, and tools/qt_debian_packages.py still derives it from what PySide6's Qt links against on this machine."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mfstudio.gui import qtlibs

ROOT = Path(__file__).resolve().parents[1]
TOOL = ROOT / "tools" / "qt_debian_packages.py"
LIST = ["python3-venv", *qtlibs.DEBIAN_PACKAGES]


def _tool():
    spec = importlib.util.spec_from_file_location("qt_debian_packages", TOOL)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up there
    spec.loader.exec_module(mod)
    return mod


def test_readme_installs_the_derived_list_in_both_commands():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = re.findall(
        r"^sudo apt-get update && sudo apt-get install -y ([^&]+?) && python3 -m venv", text, flags=re.M
    )
    assert len(commands) == 2
    for c in commands:
        assert c.split() == LIST


def test_ci_installs_the_same_list_and_what_the_real_display_test_needs():
    text = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert re.search(r'^PKGS="([^"]*)"', text, flags=re.M).group(1).split() == LIST
    test_pkgs = set(re.search(r'^TEST_PKGS="([^"]*)"', text, flags=re.M).group(1).split())
    assert test_pkgs == {"xvfb", "xdotool", "default-jre-headless"}  # the real-display test's, the Spark test's
    steps = [line for line in text.splitlines() if line.startswith(".venv/bin/")]
    assert steps == [".venv/bin/pip install '.[test,spark]'", ".venv/bin/ruff check .",
                     ".venv/bin/python -m pytest"]


def test_every_listed_package_ships_a_library_qt_needs():
    assert set(qtlibs.DEBIAN_PACKAGES) <= set(qtlibs.SONAME_PACKAGES.values())
    assert list(qtlibs.DEBIAN_PACKAGES) == sorted(qtlibs.DEBIAN_PACKAGES)


def test_debian_naming_rule_for_libraries_that_are_not_installed():
    rule = _tool().package_by_naming_rule
    assert rule("libxcb-icccm.so.4") == "libxcb-icccm4"
    assert rule("libxcb-keysyms.so.1") == "libxcb-keysyms1"
    assert rule("libxkbcommon-x11.so.0") == "libxkbcommon-x11-0"
    assert rule("libX11.so.6") == "libx11-6"
    assert rule("libpng16.so.16") == "libpng16-16"
    assert rule("libdbus-1.so.3") == "libdbus-1-3"


def test_ldd_output_and_dependency_fields_are_read_right():
    tool = _tool()
    libs = tool.parse_ldd("\tlinux-vdso.so.1 (0x1)\n\tlibGL.so.1 => /lib/x86_64-linux-gnu/libGL.so.1 (0x2)\n"
                          "\tlibxcb-icccm.so.4 => not found\n\t/lib64/ld-linux-x86-64.so.2 (0x3)\n")
    assert libs == {"libGL.so.1": "/lib/x86_64-linux-gnu/libGL.so.1", "libxcb-icccm.so.4": None}
    # an alternative ("a | b") guarantees neither, so it brings nothing
    assert tool._hard("libc6 (>= 2.34), libglvnd0 (= 1.6.0-1), libglx-mesa0 | libglx-vendor, debconf:any") == \
        ["libc6", "libglvnd0", "debconf"]
    assert tool._path_variants("/lib/x86_64-linux-gnu/libc.so.6")[:2] == \
        ["/lib/x86_64-linux-gnu/libc.so.6", "/usr/lib/x86_64-linux-gnu/libc.so.6"]


def test_the_tool_still_derives_the_list_on_this_machine():
    needed = ("ldd", "dpkg", "dpkg-query", "apt-cache")
    if not all(shutil.which(t) for t in needed) or importlib.util.find_spec("PySide6") is None:
        if os.environ.get("CI"):
            pytest.fail("CI runs on Debian with PySide6 installed; the derivation must be checked there.")
        pytest.skip("the derivation needs Debian's dpkg and apt and PySide6")
    proc = subprocess.run([sys.executable, str(TOOL), "--check", "--no-download"], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.strip() == f"mfstudio/gui/qtlibs.py matches: {' '.join(qtlibs.DEBIAN_PACKAGES)}"
