"""The system libraries Qt's xcb platform plugin links against, their Debian packages, and a check before Qt starts.

When the xcb plugin cannot load, Qt aborts the process with a message that names neither the missing
library nor its package. ``xcb_problem()`` runs ``ldd`` on PySide6's plugin first, so MF Studio can say
which packages to install. Imports no Qt.

The tables are written by ``tools/qt_debian_packages.py --table`` (ldd on the Qt files the window loads,
then ``dpkg -S``; Debian's base set left out); ``tests/test_qt_packages.py`` checks that they still match.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

# soname -> the Debian package that ships it (as derived on Debian 12)
SONAME_PACKAGES = {
    "libbrotlicommon.so.1": "libbrotli1",
    "libbrotlidec.so.1": "libbrotli1",
    "libbsd.so.0": "libbsd0",
    "libdbus-1.so.3": "libdbus-1-3",
    "libEGL.so.1": "libegl1",
    "libexpat.so.1": "libexpat1",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libGL.so.1": "libgl1",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libgthread-2.0.so.0": "libglib2.0-0",
    "libGLdispatch.so.0": "libglvnd0",
    "libGLX.so.0": "libglx0",
    "libpng16.so.16": "libpng16-16",
    "libX11.so.6": "libx11-6",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libXau.so.6": "libxau6",
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxcb.so.1": "libxcb1",
    "libXdmcp.so.6": "libxdmcp6",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxkbcommon.so.0": "libxkbcommon0",
}

# the packages to install (README.md, .ci/run): the table's, less those another of them depends on
DEBIAN_PACKAGES = (
    "libdbus-1-3",
    "libegl1",
    "libfontconfig1",
    "libgl1",
    "libglib2.0-0",
    "libx11-xcb1",
    "libxcb-cursor0",
    "libxcb-icccm4",
    "libxcb-keysyms1",
    "libxcb-randr0",
    "libxcb-shape0",
    "libxcb-sync1",
    "libxcb-xfixes0",
    "libxkbcommon-x11-0",
)

XCB_PLUGIN = "Qt/plugins/platforms/libqxcb.so"

NOT_FOUND = re.compile(r"^\s*(\S+)\s+=>\s+not found", re.M)


def uses_xcb(environ: Mapping[str, str] = os.environ, platform: str = sys.platform) -> bool:
    """True when Qt will start its xcb (X11) platform plugin here."""
    if not (platform.startswith("linux") or "bsd" in platform):
        return False
    requested = environ.get("QT_QPA_PLATFORM", "")
    if requested:
        return requested.split(";")[0].split(":")[0].strip() == "xcb"
    # unset: Qt takes Wayland on a Wayland session, else X11
    return bool(environ.get("DISPLAY")) and not environ.get("WAYLAND_DISPLAY")


def xcb_plugin() -> Path | None:
    """PySide6's xcb plugin, found without importing PySide6; None when PySide6 is not installed."""
    spec = importlib.util.find_spec("PySide6")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / XCB_PLUGIN
    return path if path.is_file() else None


def ldd(path: Path) -> str:
    """``ldd``'s report on ``path``; empty when there is no ldd (then nothing is checked and Qt speaks for itself)."""
    if shutil.which("ldd") is None:
        return ""
    try:
        proc = subprocess.run(["ldd", str(path)], capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.SubprocessError):
        return ""
    return proc.stdout


def missing_libraries(path: Path) -> list[str]:
    """The libraries ``path`` needs that the dynamic loader cannot find, each once, in ldd's order."""
    return list(dict.fromkeys(NOT_FOUND.findall(ldd(path))))


def missing_sentence(missing: list[str], have_apt: bool | None = None) -> str:
    """One sentence naming the missing libraries and how to install them."""
    if have_apt is None:
        have_apt = shutil.which("apt-get") is not None
    packages = list(dict.fromkeys(SONAME_PACKAGES[s] for s in missing if s in SONAME_PACKAGES))
    unknown = [s for s in missing if s not in SONAME_PACKAGES]
    start = f"MF Studio cannot open its window because Qt's xcb platform plugin is missing {', '.join(missing)}; "
    if not have_apt:
        return start + "install the packages that provide them with your system's package manager"
    # no full stop after the command: it would be copied with it
    if not unknown:
        return start + f"install them with: sudo apt-get install {' '.join(packages)}"
    if packages:
        return (start + f"install them with: sudo apt-get install {' '.join(packages)}, plus the package with "
                f"{', '.join(unknown)} (apt-file search {unknown[0]} names it)")
    return start + f"install the packages that provide them (apt-file search {unknown[0]} names one)"


def xcb_problem(environ: Mapping[str, str] = os.environ) -> str | None:
    """The sentence to print when Qt's xcb plugin would fail to load for want of libraries, else None."""
    if not uses_xcb(environ):
        return None
    plugin = xcb_plugin()
    if plugin is None:
        return None
    missing = missing_libraries(plugin)
    return missing_sentence(missing) if missing else None
