"""Render the window offscreen at 1280 x 800 after three runs on Example 1; save docs/screenshot.png.

Usage: python tools/screenshot.py [--scale N] [OUTPUT.png]

``--scale 2`` re-runs this script with QT_SCALE_FACTOR=2 (a high-DPI screen) and
saves docs/screenshot@2x.png by default, to check that nothing is clipped.
Settings and the recovery folder are private temporary ones, so the user's are untouched.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _rerun_scaled(scale: float, out: Path) -> int:
    """Run this script again in a child with QT_SCALE_FACTOR set (it must be set before Qt starts)."""
    env = dict(os.environ, QT_SCALE_FACTOR=f"{scale:g}", MFSTUDIO_SCREENSHOT_CHILD="1")
    return subprocess.call([sys.executable, str(Path(__file__).resolve()), str(out)], env=env)


def main(argv: list[str]) -> int:
    """Train three runs (so the faded earlier runs and their labels show), then grab the window."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", nargs="?", help="PNG to write (default docs/screenshot.png or screenshot@Nx.png)")
    parser.add_argument("--scale", type=float, default=1.0, help="render as on a screen with this scale factor")
    args = parser.parse_args(argv)
    if args.scale != 1.0 and not os.environ.get("MFSTUDIO_SCREENSHOT_CHILD"):
        out = Path(args.output) if args.output else ROOT / "docs" / f"screenshot@{args.scale:g}x.png"
        return _rerun_scaled(args.scale, out)
    out = Path(args.output) if args.output else ROOT / "docs" / "screenshot.png"

    with tempfile.TemporaryDirectory(prefix="mfstudio-screenshot-") as tmp:
        os.environ["MFSTUDIO_SETTINGS"] = str(Path(tmp) / "settings.ini")
        os.environ["MFSTUDIO_RECOVERY_DIR"] = str(Path(tmp) / "recovery")
        return _shoot(out)


def _shoot(out: Path) -> int:
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(["mfstudio-screenshot"])
    from mfstudio.gui import MainWindow

    w = MainWindow()
    w.resize(1280, 800)
    w.show()

    def train_and_wait() -> None:
        loop = QEventLoop()
        w.trainingFinished.connect(loop.quit)
        QTimer.singleShot(0, w.train)
        loop.exec()
        w.trainingFinished.disconnect(loop.quit)

    box = w.controls.solver_box
    box.setCurrentIndex(box.findData("als"))
    train_and_wait()  # earlier runs, faded on the curve: als's 50 steps ...
    box.setCurrentIndex(box.findData("sgd"))
    w.controls.param_widgets["alpha"].setValue(0.0005)
    train_and_wait()  # ... and a faster sgd
    w.controls.param_widgets["alpha"].setValue(0.0002)  # the notebook's parameters
    w.plot.log_x.setChecked(True)  # 50 als steps and 10,000 sgd steps side by side
    train_and_wait()
    w.plot.flush()
    settle = QEventLoop()  # the end of a run is drawn in slices over a few event-loop passes
    QTimer.singleShot(500, settle.quit)
    settle.exec()
    app.processEvents()  # and what its last pass posted
    out.parent.mkdir(parents=True, exist_ok=True)
    image = w.grab()
    if not image.save(str(out)):
        print(f"Could not write {out}.", file=sys.stderr)
        return 1
    print(f"Wrote {out} ({w.width()} x {w.height()} at scale {w.devicePixelRatioF():g}: "
          f"{image.width()} x {image.height()} pixels).")
    w.ask_before_closing = False
    w.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
