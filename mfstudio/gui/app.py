"""Starting the window: the QApplication, the first data set, background compilation, signals, the event loop.

Signals are handled like File > Quit, never with a traceback:

- SIGINT (Ctrl+C in the terminal) when a person can answer a dialog (see :func:`interactive`):
  the window closes as Quit does, asking about unsaved work or a running training (Cancel
  keeps the program running); exit status 130 once it has closed.
- SIGINT when nobody can answer (or a second Ctrl+C while it asks), SIGTERM (kill, a
  session manager) and SIGHUP (the terminal closed) never wait on a dialog: the training
  run is stopped and its thread joined, unsaved work (the stopped run's results included)
  goes to the recovery file, which is kept so that the next start offers it, and the
  program exits with 130, 143 or 129 (128 + the signal's number).

Python runs a signal handler only when the interpreter gets control, which a Qt event
loop waiting in C++ does not give it; ``signal.set_wakeup_fd`` writes each signal's number
into a socket whose QSocketNotifier wakes the loop, and the work is done from there, on
the GUI thread, between events (never in the middle of a table model's ``data()``).
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import threading
from pathlib import Path
from typing import Any

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


class WarmUp(threading.Thread):
    """Compiles every solver's kernels in a child process, then loads them here (a daemon thread).

    Compiling holds the GIL for seconds on a machine's first start, which would
    freeze the window; a child process compiles into numba's on-disk cache instead,
    and loading from that cache here takes well under a second. Warming up is only an
    optimisation (a real run compiles what it needs and reports its errors), so a
    failure is kept in ``error``, not raised; ``compiled`` says whether it all worked.
    """

    def __init__(self) -> None:
        super().__init__(name="mfstudio-warm-up", daemon=True)
        self.compiled = False
        self.error: BaseException | None = None

    def run(self) -> None:
        import subprocess

        from mfstudio.core import priority
        from mfstudio.core.solvers.warmup import child_compiling, compile_all

        priority.lower_this_thread()  # the compiling child starts lowered too
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
            self.compiled = True
        except Exception as exc:
            self.error = exc


def start_warm_up() -> WarmUp:
    """Warm up on a daemon thread so the first Train is not delayed by compiling."""
    from mfstudio.core.solvers.warmup import child_compiling

    child_compiling(True)  # a Train meanwhile waits for the child instead of freezing the window
    t = WarmUp()
    t.start()
    return t


INTERACTIVE_ENV = "MFSTUDIO_INTERACTIVE"  # "1": a person can answer dialogs; "0": nobody can (scripts, services)
# the signals handled, with the exit status each ends the program with (128 + the signal's number)
QUIT_SIGNALS = {
    name: 128 + int(getattr(signal, name)) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
}


def interactive() -> bool:
    """True when a person can answer a dialog: ``$MFSTUDIO_INTERACTIVE`` (1 or 0) if set, else
    standard input is a terminal (the program was started by someone at it) and Qt's platform
    shows windows to someone (not offscreen or minimal)."""
    forced = os.environ.get(INTERACTIVE_ENV, "").strip().lower()
    if forced in ("1", "yes", "true", "on"):
        return True
    if forced in ("0", "no", "false", "off"):
        return False
    from PySide6.QtGui import QGuiApplication

    if QGuiApplication.platformName() in ("offscreen", "minimal"):
        return False
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (AttributeError, ValueError, OSError):
        return False


def _signal_handling_class() -> Any:
    from PySide6.QtCore import QObject, QSocketNotifier, QTimer, Slot
    from PySide6.QtWidgets import QApplication

    class SignalHandling(QObject):
        """Turns SIGINT, SIGTERM and SIGHUP into a Quit of ``window`` (see the module docstring)."""

        def __init__(self, app: QApplication) -> None:
            super().__init__()
            self.app = app
            self.window: Any = None
            self.exit_code: int | None = None
            self._pending: list[int] = []  # signals that came before the window was ready
            self._asking = False
            self._read, self._write = socket.socketpair()
            for sock in (self._read, self._write):
                sock.setblocking(False)
            self._previous_fd = signal.set_wakeup_fd(self._write.fileno(), warn_on_full_buffer=False)
            self._previous = {}
            for name in QUIT_SIGNALS:
                signum = getattr(signal, name)
                self._previous[signum] = signal.signal(signum, self._note)
            self._notifier = QSocketNotifier(self._read.fileno(), QSocketNotifier.Type.Read, self)
            self._notifier.activated.connect(self._on_wakeup)

        @staticmethod
        def _note(signum: int, frame: object) -> None:
            """Python's part of a signal: nothing (the wake-up socket carries it to the event loop)."""

        def attach(self, window: Any) -> None:
            """The window is up: signals act on it from now on (one that came earlier acts once the loop runs)."""
            self.window = window
            if self._pending:
                QTimer.singleShot(0, self._replay)

        @Slot()
        def _replay(self) -> None:
            pending, self._pending = self._pending, []
            for signum in pending:
                self._handle(signum)

        @Slot()
        def _on_wakeup(self) -> None:
            try:
                data = self._read.recv(256)
            except (BlockingIOError, InterruptedError):
                return
            for signum in data:
                self._handle(signum)

        def _handle(self, signum: int) -> None:
            asks = signum == signal.SIGINT and not self._asking and interactive()
            if self.window is None:  # still starting (the restore offer may be open): act once the window is up
                self._pending.append(signum)
                modal = QApplication.activeModalWidget()
                if modal is not None and not asks:
                    modal.close()  # never wait on it; the restore offer's Escape keeps the work (restored, then saved)
                return
            if asks and self.window.isVisible():
                self._asking = True
                QTimer.singleShot(0, self._ask_to_quit)  # after this slot returns: the notifier stays free
                return
            self._quit_keeping_work(128 + signum)

        @Slot()
        def _ask_to_quit(self) -> None:
            try:
                closed = self.window.close()  # like File > Quit: asks about unsaved work or a running training
            finally:
                self._asking = False
            if closed and self.exit_code is None:
                self.exit_code = 128 + int(signal.SIGINT)
                self.app.exit(self.exit_code)

        def _quit_keeping_work(self, code: int) -> None:
            if self.exit_code is None:
                self.exit_code = code
            self.window.quit_keeping_work()
            self.app.exit(self.exit_code)  # also ends a dialog's event loop, and any dialog opened after

        def restore(self) -> None:
            """Put back the handlers that were there before (the event loop has ended)."""
            self._notifier.setEnabled(False)
            for signum, previous in self._previous.items():
                signal.signal(signum, previous if previous is not None else signal.SIG_DFL)
            signal.set_wakeup_fd(self._previous_fd)
            self._read.close()
            self._write.close()

    return SignalHandling


def install_signal_handling(app: Any) -> Any:
    """Handle SIGINT, SIGTERM and SIGHUP on ``app``'s event loop; None where that is impossible
    (not the main thread)."""
    try:
        return _signal_handling_class()(app)
    except (ValueError, OSError):  # signals can only be handled on the main thread
        return None


def _end_with_threads_running(code: int) -> None:
    """Destroying a running QThread aborts the process: end it without destroying anything."""
    print("MF Studio could not stop its training run in time and ended without waiting for it.",
          file=sys.stderr, flush=True)
    sys.stdout.flush()
    os._exit(code)


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

    from PySide6.QtCore import QTimer

    from mfstudio.gui import interpreter
    from mfstudio.gui.window import MainWindow

    signals = install_signal_handling(app)
    try:
        interpreter.share_the_interpreter()
        window = MainWindow()
        start_warm_up()
        window.show()
        if path:
            window.open_file(Path(path))  # asks first if restored work is unsaved; a dialog explains a failure
        QTimer.singleShot(interpreter.FREEZE_AFTER_MS, interpreter.freeze_long_lived)
        if signals is not None:
            signals.attach(window)
        code = int(app.exec())
        if signals is not None and signals.exit_code is not None:
            code = signals.exit_code
        if not window.quit_keeping_work() and window.running:  # a no-op after a close or aboutToQuit
            _end_with_threads_running(code)
        return code
    finally:
        if signals is not None:
            signals.restore()
