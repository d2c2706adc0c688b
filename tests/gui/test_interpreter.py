"""The window's process: a short GIL switch interval, the started window's objects out of the collections."""

from __future__ import annotations

import gc
import sys
import weakref

from mfstudio.gui import interpreter


def test_the_switch_interval_is_short_while_the_window_runs():
    before = sys.getswitchinterval()
    try:
        interpreter.share_the_interpreter()
        assert abs(sys.getswitchinterval() - interpreter.SWITCH_INTERVAL_S) < 1e-9
        assert interpreter.SWITCH_INTERVAL_S <= 0.001  # a tenth of Python's 5 ms or less
    finally:
        sys.setswitchinterval(before)


def test_freezing_keeps_live_objects_out_of_collections_and_collects_garbage_first():
    class Cycle:
        pass

    a = Cycle()
    a.me = a  # garbage only a collection frees
    ref = weakref.ref(a)
    del a
    kept = [object() for _ in range(10)]
    try:
        frozen = interpreter.freeze_long_lived()
        assert frozen == gc.get_freeze_count() > len(kept)
        assert ref() is None  # collected before the freeze, not kept for ever
    finally:
        gc.unfreeze()
