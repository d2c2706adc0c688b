"""Atomic file writes: a temp file in the same folder, then ``os.replace``.

A failed write leaves the old file byte-identical and no temp file behind. Several
files can be written together: all are prepared first and replaced at the end, so a
failure before that point changes nothing.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

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


def _backup(target: Path) -> Path | None:
    """A hard link (or a copy) of an existing ``target`` next to it, to restore on failure."""
    if not target.exists():
        return None
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".bak")
    os.close(fd)
    bak = Path(tmp)
    bak.unlink()
    try:
        os.link(target, bak)
    except OSError:
        import shutil

        shutil.copy2(target, bak)
    return bak


def write_files(files: Mapping[Path, bytes | str]) -> list[Path]:
    """Write several files, all or nothing.

    Every file is first written to a temp file next to its target; only when all are
    on disk are they moved into place. If a move fails, the files already moved are
    put back as they were (from hard-link backups), so the folder ends as it began.
    """
    staged: list[tuple[Path, Path]] = []
    backups: list[tuple[Path, Path | None]] = []  # (target, backup or None if it did not exist)
    target: Path | None = None
    try:
        for target in map(Path, files):
            if target.is_dir():
                raise IsADirectoryError(21, "Is a directory", str(target))
        for target, data in files.items():
            target = Path(target)
            staged.append((_write_temp(target, _as_bytes(data)), target))
        for _tmp, target in staged:
            backups.append((target, _backup(target)))
        for tmp, target in staged:
            os.replace(tmp, target)
    except OSError as exc:
        _roll_back(backups, done=[t for tmp, t in staged if not tmp.exists()])
        raise FileFormatError(describe_os_error(exc, target, "write")) from exc
    finally:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
        for _, bak in backups:
            if bak is not None:
                bak.unlink(missing_ok=True)
    return [t for _, t in staged]


def _roll_back(backups: list[tuple[Path, Path | None]], done: list[Path]) -> None:
    """Undo the replacements in ``done``: restore backups, remove files that were new."""
    by_target = dict(backups)
    for target in done:
        bak = by_target.get(target)
        try:
            if bak is not None:
                os.replace(bak, target)
            elif target in by_target:
                target.unlink(missing_ok=True)
        except OSError:
            pass  # best effort: the error being reported already says the write failed
