"""Render the window offscreen at 1280 x 800 after training on Example 1; save docs/screenshot.png.

Usage: python tools/screenshot.py [OUTPUT.png]
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main(argv: list[str]) -> int:
    """Train two runs (so the faded earlier run shows), then grab the window."""
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    out = Path(argv[0]) if argv else ROOT / "docs" / "screenshot.png"
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

    w.controls.param_widgets["alpha"].setValue(0.0005)
    train_and_wait()  # an earlier run, faded on the curve
    w.controls.param_widgets["alpha"].setValue(0.0002)  # the notebook's parameters
    train_and_wait()
    w.plot.flush()
    for _ in range(5):
        app.processEvents()
    out.parent.mkdir(parents=True, exist_ok=True)
    if not w.grab().save(str(out)):
        print(f"Could not write {out}.", file=sys.stderr)
        return 1
    print(f"Wrote {out} ({w.width()} x {w.height()}).")
    w.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
