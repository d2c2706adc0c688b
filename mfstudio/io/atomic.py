"""Atomic file writes: a temp file in the same folder, then ``os.replace``; a whole folder
built beside its target and switched in with one rename.

A failed write leaves the old file byte-identical and no temp file behind. Several
files can be written together: all are prepared first and replaced at the end, so a
failure before that point changes nothing. A write into a symlink writes the file it
points to (next to it, so on its filesystem). A read-only file is never replaced. The
hidden temp files a killed write leaves (``.NAME.xxxxxxxx.tmp`` / ``.bak``) are removed
by the next write of NAME.
"""

from __future__ import annotations

import ctypes
import errno
import os
import re
import shutil
import stat
import sys
import tempfile
from collections.abc import Collection, Mapping
from pathlib import Path

from mfstudio.io.errors import FileFormatError, describe_os_error

# tempfile.mkstemp's names: the prefix we give, 8 characters of this alphabet, the suffix
_LITTER = re.compile(r"^\.(?P<name>.+)\.[a-z0-9_]{8}\.(?:tmp|bak)$")
# replace_folder's hidden siblings: .NAME.mfstudio-new-xxxxxxxx (being built) and -old- (set aside)
_SWAP_PART = ".mfstudio-"
# errors that mean "this folder cannot be switched by a rename here" (nothing was changed)
_CANNOT_SWAP = {errno.EXDEV, errno.EBUSY, errno.EACCES, errno.EPERM, errno.EROFS}


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


def is_read_only(path: str | os.PathLike[str]) -> bool:
    """True if ``path`` exists and its owner (or we) may not write it; checked on the mode
    bits too, because ``os.access`` says yes to root."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    if sys.platform == "win32" and stat.S_ISDIR(mode):
        return False  # Windows' read-only attribute on a folder only marks it as customised
    return not (mode & 0o222) or not os.access(path, os.W_OK)


def real_target(path: str | os.PathLike[str]) -> Path:
    """The file a write to ``path`` should change: the end of a symlink chain, else ``path``."""
    p = Path(path)
    return Path(os.path.realpath(p)) if os.path.islink(p) else p


def litter_of(entry_name: str) -> str | None:
    """The file whose hidden temp file ``entry_name`` is (``.P.csv.xxxxxxxx.tmp`` -> ``P.csv``), else None."""
    m = _LITTER.match(entry_name)
    return m["name"] if m else None


def clean_litter(folder: str | os.PathLike[str], names: Collection[str]) -> list[Path]:
    """Remove the hidden temp files (``.NAME.xxxxxxxx.tmp`` / ``.bak``) that a killed write of
    one of ``names`` left in ``folder``; other files, hidden or not, are left alone."""
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        if litter_of(entry.name) in names and entry.is_file(follow_symlinks=False):
            try:
                os.unlink(entry.path)
                removed.append(Path(entry.path))
            except OSError:
                pass  # best effort: the next write tries again
    return removed


def _fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable (a no-op where folders cannot be opened, e.g. Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


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
        shutil.copy2(target, bak)
    return bak


def write_files(files: Mapping[Path, bytes | str]) -> list[Path]:
    """Write several files, all or nothing.

    Every file is first written to a temp file next to its target; only when all are
    on disk are they moved into place. If a move fails, the files already moved are
    put back as they were (from hard-link backups), so the folder ends as it began.
    A read-only target or a folder in the way is refused before anything is written.
    """
    wanted = {real_target(p): _as_bytes(data) for p, data in files.items()}
    staged: list[tuple[Path, Path]] = []
    backups: list[tuple[Path, Path | None]] = []  # (target, backup or None if it did not exist)
    target: Path | None = None
    try:
        for target in wanted:
            if target.is_dir():
                raise IsADirectoryError(21, "Is a directory", str(target))
            if is_read_only(target):
                raise FileFormatError(f"{target} is read-only, so it was not replaced and nothing was written; "
                                      "make it writable or choose another name.")
        by_folder: dict[Path, set[str]] = {}
        for target in wanted:
            by_folder.setdefault(target.parent, set()).add(target.name)
        for folder, names in by_folder.items():
            clean_litter(folder, names)
        for target, data in wanted.items():
            staged.append((_write_temp(target, data), target))
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
    return [Path(p) for p in files]


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


# -- whole folders ------------------------------------------------------------------------------
_renameat2 = None


def _exchange(a: Path, b: Path) -> bool:
    """Swap two folders in one step (Linux ``renameat2(RENAME_EXCHANGE)``); False where that
    does not exist (other systems, old kernels, filesystems without it): nothing was changed."""
    global _renameat2
    if not sys.platform.startswith("linux"):
        return False
    if _renameat2 is None:
        try:
            fn = ctypes.CDLL(None, use_errno=True).renameat2
        except (AttributeError, OSError):
            fn = False
        else:
            fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
            fn.restype = ctypes.c_int
        _renameat2 = fn
    if not _renameat2:
        return False
    at_fdcwd, rename_exchange = -100, 2
    if _renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def _swap_parts(target: Path) -> dict[str, dict[str, Path]]:
    """The hidden siblings of ``target`` left by replace_folder: {"new"|"old": {token: path}}."""
    pattern = re.compile(rf"^\.{re.escape(target.name)}{re.escape(_SWAP_PART)}(new|old)-([a-z0-9_]{{8}})$")
    found: dict[str, dict[str, Path]] = {"new": {}, "old": {}}
    try:
        entries = list(os.scandir(target.parent))
    except OSError:
        return found
    for entry in entries:
        m = pattern.match(entry.name)
        if m and entry.is_dir(follow_symlinks=False):
            found[m[1]][m[2]] = Path(entry.path)
    return found


def _remove_part(folder: Path) -> None:
    """Delete one of our hidden sibling folders, only if it holds nothing but plain files."""
    try:
        if all(e.is_file(follow_symlinks=False) for e in os.scandir(folder)):
            shutil.rmtree(folder)
    except OSError:
        pass  # best effort: the next write tries again


def repair_folder_swap(target: str | os.PathLike[str]) -> Path | None:
    """Finish a folder switch that a kill interrupted, and remove the hidden leftovers of
    earlier switches beside ``target``. Returns the folder put back at ``target``, if any.

    A kill between moving the old folder aside and moving the new one in leaves ``target``
    missing with both parts beside it; the new part is complete then (it is only swapped in
    once every file is on disk), so it becomes ``target``.
    """
    target = Path(target)
    parts = _swap_parts(target)
    restored = None
    if not os.path.lexists(target):
        for token in sorted(parts["new"].keys() & parts["old"].keys()):
            try:
                os.rename(parts["new"].pop(token), target)
                restored = target
                _fsync_dir(target.parent)
            except OSError:
                pass
            break
    for path in [*parts["new"].values(), *parts["old"].values()]:
        _remove_part(path)
    return restored


def _holds_cwd(folder: Path) -> bool:
    try:
        cwd = Path(os.getcwd()).resolve()
    except OSError:
        return False
    return cwd == folder.resolve() or folder.resolve() in cwd.parents


def replace_folder(target: str | os.PathLike[str], files: Mapping[str, bytes | str]) -> bool:
    """Make ``target`` a folder holding exactly ``files`` (name -> data, written in this
    order), built in a hidden sibling folder and switched in with one rename, so a reader
    (or a kill) sees the old folder or the new one, never a mix.

    Where the folder cannot be switched by a rename — it is a mount point or the working
    folder, its parent cannot be written, or the system refuses — this returns False having
    changed nothing, and the caller writes into it file by file instead. The old folder's
    permissions and its files' modes are kept. Raises OSError when writing fails (the old
    folder is then as it was).
    """
    target = Path(os.path.abspath(real_target(target)))  # a symlinked folder: switch what it points to
    parent = target.parent
    repair_folder_swap(target)
    exists = target.is_dir()
    if exists and (os.path.ismount(target) or _holds_cwd(target)):
        return False
    try:
        new = Path(tempfile.mkdtemp(dir=parent, prefix=f".{target.name}{_SWAP_PART}new-"))
    except OSError:
        return False
    old = parent / f".{target.name}{_SWAP_PART}old-{new.name.rsplit('-', 1)[1]}"
    try:
        for name, data in files.items():
            path = new / name
            with open(path, "wb") as fh:
                fh.write(_as_bytes(data))
                fh.flush()
                os.fsync(fh.fileno())
            try:
                os.chmod(path, os.stat(target / name).st_mode & 0o777)
            except OSError:
                pass  # a new file keeps the mode a normal write gives
        _fsync_dir(new)
        if exists:
            st = os.stat(target)
            os.chmod(new, stat.S_IMODE(st.st_mode))
            if hasattr(os, "chown") and (st.st_uid, st.st_gid) != (os.stat(new).st_uid, os.stat(new).st_gid):
                try:
                    os.chown(new, st.st_uid, st.st_gid)
                except OSError:
                    pass
        else:
            os.chmod(new, 0o777 & ~_umask())  # mkdtemp makes it 0700
        try:
            if not exists:
                os.rename(new, target)
                _fsync_dir(parent)
                return True
            if _exchange(new, target):
                leftover = new  # it holds the old folder now
            else:
                os.rename(target, old)
                leftover = old
        except OSError as exc:
            if exc.errno in _CANNOT_SWAP:
                shutil.rmtree(new, ignore_errors=True)
                return False
            raise
        if leftover is old:
            try:
                os.rename(new, target)
            except BaseException:  # Ctrl-C too: put the old folder back
                try:
                    os.rename(old, target)
                except OSError:
                    pass  # target stays missing with both parts beside it: repair_folder_swap finishes
                raise
        _fsync_dir(parent)
    except BaseException:
        # the new part goes, unless it is the complete set a missing target is to be repaired from
        if new.exists() and not (old.exists() and not os.path.lexists(target)):
            shutil.rmtree(new, ignore_errors=True)
        raise
    _remove_part(leftover)
    return True


def set_aside(path: str | os.PathLike[str], stem: str) -> Path:
    """Move ``path`` to ``STEM<suffix>`` in its folder, or ``STEM-2<suffix>``, ``-3``… —
    the first name not taken, so nothing set aside before is ever overwritten."""
    path = Path(path)
    n = 1
    while True:
        aside = path.with_name(f"{stem}{'' if n == 1 else f'-{n}'}{path.suffix}")
        try:
            os.link(path, aside)  # fails if the name is taken, never overwrites
        except FileExistsError:
            n += 1
            continue
        except OSError:  # no hard links here: check, then rename (not overwriting what exists)
            if os.path.lexists(aside):
                n += 1
                continue
            os.rename(path, aside)
            return aside
        path.unlink()
        return aside
