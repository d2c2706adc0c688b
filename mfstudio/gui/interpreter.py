"""How the window's process shares the Python interpreter with its background threads.

Two things would stall the event loop although the window itself has little to do:

- The GIL. A thread that wants it back after a Qt call waits until the holder's switch interval is up
  (5 ms by default), and a window's tick makes hundreds of such calls: with the autosave or the training
  thread running Python, a 10 ms tick took 100 ms. At ``SWITCH_INTERVAL_S`` the wait is a tenth of that.
- Full garbage collections, which walk every tracked object: the ~200,000 that starting the window made
  (modules, matplotlib's and Qt's objects) took 100-200 ms a collection. Once the window is up they are
  moved out of the collector's sight (``gc.freeze``); they live as long as the process anyway, and objects
  made later are collected as before.
"""

from __future__ import annotations

import gc
import sys

SWITCH_INTERVAL_S = 0.0005
FREEZE_AFTER_MS = 1500  # after the window's first paints: what they made lives on too


def share_the_interpreter() -> None:
    """A thread asking for the GIL gets it within SWITCH_INTERVAL_S of the holder running Python."""
    sys.setswitchinterval(SWITCH_INTERVAL_S)


def freeze_long_lived() -> int:
    """Collect, then keep what is left out of later collections; how many objects that is."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
