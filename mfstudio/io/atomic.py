"""Atomic file writes: a temp file in the same folder, then ``os.replace``.

A failed write leaves the old file byte-identical and no temp file behind. Several
files can be written together: all are prepared first and replaced at the end, so a
failure before that point changes nothing.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Mapping

from mfstudio.io.errors import FileFormatError, describe_os_error


def _umask() -> int:
    # os.umask can only be read by setting it; restore it at once.
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _as_bytes(data: bytes | str) -> bytes:
    if isinstance(data, str):
        return data.encode("utf-8")
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data)
    raise TypeError(f"atomic_write takes bytes or str, not {type(data).__name__}")


def _write_temp(path: Path, data: bytes) -> Path:
    """Write ``data`` to a new temp file next to ``path``, flushed to disk; return its path."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    tmp_path = Path(tmp)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        # mkstemp makes the file 0600; give it the mode a normal write would.
        try:
            mode = os.stat(path).st_mode & 0o777
        except OSError:
            mode = 0o666 & ~_umask()
        os.chmod(tmp_path, mode)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise
    return tmp_path


def atomic_write(path: str | os.PathLike[str], data: bytes | str) -> None:
    """Write ``data`` (str is UTF-8 encoded) to ``path`` atomically."""
    write_files({Path(path): _as_bytes(data)})


def write_files(files: Mapping[Path, bytes | str]) -> list[Path]:
    """Write several files atomically each, replacing them only once all are on disk."""
    staged: list[tuple[Path, Path]] = []
    target: Path | None = None
    try:
        for target, data in files.items():
            target = Path(target)
            staged.append((_write_temp(target, _as_bytes(data)), target))
        for tmp, target in staged:
            os.replace(tmp, target)
    except OSError as exc:
        raise FileFormatError(describe_os_error(exc, target, "write")) from exc
    finally:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
    return [t for _, t in staged]
