"""Starting the window: the QApplication, the first data set, background compilation, the event loop."""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

NO_DISPLAY = (
    "MF Studio needs a display to open its window and none was found; "
    "to train without a window use `mfstudio train FILE` (see `mfstudio train --help`)."
)


def no_display_reason() -> str | None:
    """The sentence to print when no window can be shown here, or None when one can."""
    platform = os.environ.get("QT_QPA_PLATFORM", "")
    if platform and not platform.startswith(("xcb", "wayland")):
        return None  # offscreen, minimal, vnc, eglfs...: Qt needs no X/Wayland server for these
    if sys.platform.startswith("linux") or "bsd" in sys.platform:
        if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
            return NO_DISPLAY
    return None


# Qt says these whenever xcb fails to load, whatever the reason (qtlibs.xcb_problem() has checked the libraries).
QT_MISLEADING = ("From 6.5.0, xcb-cursor0", "Could not load the Qt platform plugin")


def platform_failure(platform: str, held: list[tuple[str, str]]) -> str:
    """The sentence for a platform plugin that Qt could not start, with the first useful thing Qt said."""
    detail = next((m for c, m in held if c.startswith("qt.qpa") and not m.startswith(QT_MISLEADING)), "")
    because = f" ({detail.rstrip('.')})" if detail else ""
    return (f"MF Studio cannot open its window because Qt could not start its {platform} platform plugin{because}; "
            "check DISPLAY (or QT_QPA_PLATFORM), or train without a window with `mfstudio train FILE`.")


def _platform_name() -> str:
    requested = os.environ.get("QT_QPA_PLATFORM", "")
    if requested:
        return requested.split(";")[0].split(":")[0]
    return "wayland" if os.environ.get("WAYLAND_DISPLAY") else "xcb"


def start_application(argv: list[str]):
    """The QApplication; if Qt cannot start its platform plugin, one sentence and exit status 2 instead of Qt's abort.

    Qt reports that failure with a fatal message and then aborts; a message handler sees it
    first. Until the application exists Qt's messages are held, then printed as Qt would.
    """
    from PySide6.QtCore import QMessageLogContext, QtMsgType, qInstallMessageHandler
    from PySide6.QtWidgets import QApplication

    held: list[tuple[str, str]] = []

    def handler(mode: QtMsgType, context: QMessageLogContext, message: str) -> None:
        if mode == QtMsgType.QtFatalMsg:
            print(platform_failure(_platform_name(), held), file=sys.stderr, flush=True)
            os._exit(2)  # Qt aborts when this returns
        held.append((context.category or "", message))

    previous = qInstallMessageHandler(handler)
    try:
        app = QApplication(argv)
    finally:
        qInstallMessageHandler(previous)
    for category, message in held:
        print(f"{category}: {message}" if category and category != "default" else message, file=sys.stderr)
    return app


def warm_up() -> None:
    """Compile every solver's kernels in a child process, then load them here.

    Compiling holds the GIL for seconds on a machine's first start, which would
    freeze the window; a child process compiles into numba's on-disk cache instead,
    and loading from that cache here takes well under a second.
    """
    import subprocess

    from mfstudio.core.solvers.warmup import child_compiling, compile_all

    try:
        subprocess.run(
            [sys.executable, "-m", "mfstudio.core.solvers.warmup"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            timeout=600, check=False,
        )
    except (OSError, subprocess.SubprocessError):
        pass  # compiling here instead (on the first Train) still works, only slower to start
    finally:
        child_compiling(False)

    try:
        compile_all()
    except Exception:  # warming up is only an optimisation; a real run reports errors
        pass


def start_warm_up() -> threading.Thread:
    """Warm up on a daemon thread so the first Train is not delayed by compiling."""
    from mfstudio.core.solvers.warmup import child_compiling

    child_compiling(True)  # a Train meanwhile waits for the child instead of freezing the window
    t = threading.Thread(target=warm_up, name="mfstudio-warm-up", daemon=True)
    t.start()
    return t


def run(path: str | None = None) -> int:
    """Open the window (with ``path`` if given, else Example 1) and run until it closes; the exit code."""
    from mfstudio.gui.qtlibs import xcb_problem

    reason = no_display_reason() or xcb_problem()
    if reason:
        print(reason, file=sys.stderr)
        return 2
    # PySide6 first, so matplotlib's Qt backend binds to it.
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        QGuiApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
        app = start_application([sys.argv[0] if sys.argv else "mfstudio"])
    app.setApplicationName("MF Studio")
    app.setApplicationDisplayName("MF Studio")
    app.setOrganizationName("MF Studio")

    from mfstudio.gui.window import MainWindow

    window = MainWindow()
    start_warm_up()
    window.show()
    if path:
        window.open_file(Path(path))  # asks first if restored work is unsaved; a dialog explains a failure
    return int(app.exec())
