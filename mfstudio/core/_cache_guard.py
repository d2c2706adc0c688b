"""numba's on-disk cache of compiled kernels, made safe to read.

A cache entry that cannot be read (a damaged or truncated index or data file, say after a disk error) is a
miss: the kernel is compiled again and the entry written anew, instead of the program stopping at every start
with a pickle error. A cache that cannot be written (a read-only or full disk) costs the compile time of the
next start, nothing else. Imported by every kernel module before it compiles anything.
"""

from __future__ import annotations

import contextlib
import os
from typing import Any

from numba.core import caching

_LOAD = caching.Cache.load_overload
_SAVE = caching.Cache.save_overload


def _load_or_miss(self: caching.Cache, sig: Any, target_context: Any) -> Any:
    try:
        return _LOAD(self, sig, target_context)
    except Exception:  # any damage to the files: numba compiles instead (None is its "not cached")
        return None


def _save_or_skip(self: caching.Cache, sig: Any, data: Any) -> None:
    try:
        _SAVE(self, sig, data)
    except Exception:  # a damaged index: start it anew, once; else leave this entry uncached
        with contextlib.suppress(Exception):
            os.remove(self._cache_file._index_path)
            _SAVE(self, sig, data)


def install() -> None:
    """Put the guards in place (once per process)."""
    if caching.Cache.load_overload is not _load_or_miss:
        caching.Cache.load_overload = _load_or_miss
        caching.Cache.save_overload = _save_or_skip


install()
