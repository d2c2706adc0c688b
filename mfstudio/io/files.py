"""Opening input files safely: only a regular file (symlinks followed) is opened, never a FIFO
or a device that would block or never end; reading stops at a running limit, because ``stat``
says 0 bytes for files that never end; a .zip's member count is read from its last bytes
before its directory is listed."""

from __future__ import annotations

import os
import stat
import struct
from pathlib import Path
from typing import BinaryIO

from mfstudio.io.errors import FileFormatError, describe_os_error

MAX_FILE_BYTES = 2 * 1024**3  # an input file beyond 2 GiB is refused, from its size and while reading
READ_CHUNK = 1 << 24


def size_text(n: int) -> str:
    """1.9 GiB, 12.0 MiB, 300 bytes: a size as people read it."""
    for unit, scale in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} bytes"


def approx_size(n: int) -> str:
    """1.9 MiB, 977 KiB, 2.4 GiB: a size to about two digits, as people read it."""
    for unit, scale in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if n >= scale:
            return f"{n / scale:.2g} {unit}" if n < 10 * scale else f"{n / scale:,.0f} {unit}"
    return f"{n} bytes"


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a file"


def _not_regular(p: Path, mode: int) -> FileFormatError:
    return FileFormatError(f"{p} is {_kind(mode)}, not a regular file; MF Studio reads only files stored on disk, "
                           "so save the data to a file and open that.")


def check_regular(path: str | os.PathLike[str], limit: int | None = None) -> os.stat_result:
    """``os.stat`` of ``path`` (symlinks followed) when it is a regular file, else a sentence."""
    p = Path(path)
    try:
        st = os.stat(p)
    except FileNotFoundError:
        raise FileFormatError(f"There is no file at {p}; check the name and the folder.") from None
    except OSError as exc:
        raise FileFormatError(describe_os_error(exc, p, "read")) from exc
    if stat.S_ISDIR(st.st_mode):
        raise FileFormatError(f"{p} is a folder, not a file; choose a file with ratings.")
    if not stat.S_ISREG(st.st_mode):
        raise _not_regular(p, st.st_mode)
    if limit is not None and st.st_size > limit:
        raise FileFormatError(f"{p.name} is {size_text(st.st_size)}, more than MF Studio reads ({size_text(limit)}); "
                              "use a smaller file.")
    return st


def open_input(path: str | os.PathLike[str], limit: int | None = None) -> BinaryIO:
    """``path`` opened for reading when it is a regular file: checked before opening, opened
    non-blocking (a FIFO swapped in after the check cannot hang the caller) and checked again."""
    p = Path(path)
    check_regular(p, limit)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(p, flags)
    except FileNotFoundError:
        raise FileFormatError(f"There is no file at {p}; check the name and the folder.") from None
    except OSError as exc:
        raise FileFormatError(describe_os_error(exc, p, "read")) from exc
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise _not_regular(p, mode)
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_limited(fh: BinaryIO, limit: int, name: str, expected: int = 0) -> bytes:
    """Everything ``fh`` holds, refused as soon as it passes ``limit`` bytes. ``expected`` (the
    size ``stat`` gave) lets an ordinary file come in one read, without a copy."""
    parts: list[bytes] = []
    total = 0
    want = min(max(expected, 0), limit) + 1
    while True:
        chunk = fh.read(min(want, limit + 1 - total))
        if not chunk:
            return parts[0] if len(parts) == 1 else b"".join(parts)
        parts.append(chunk)
        total += len(chunk)
        if total > limit:
            raise FileFormatError(f"{name} holds more than MF Studio reads ({size_text(limit)}); use a smaller file.")
        want = READ_CHUNK


def read_bytes(path: str | os.PathLike[str], limit: int = MAX_FILE_BYTES) -> bytes:
    """The whole file, with user-facing errors for missing, folder, unreadable, special or huge files."""
    p = Path(path)
    with open_input(p, limit) as fh:
        try:
            return read_limited(fh, limit, p.name, os.fstat(fh.fileno()).st_size)
        except OSError as exc:
            raise FileFormatError(describe_os_error(exc, p, "read")) from exc


_EOCD = struct.Struct("<4s4H2LH")  # end of central directory record
_ZIP64_LOCATOR = struct.Struct("<4sLQL")
_ZIP64_EOCD = struct.Struct("<4sQ2H2L4Q")


def zip_member_count(fh: BinaryIO) -> int | None:
    """How many members a .zip declares, from its end records (before anything is listed), or
    None when they cannot be found (zipfile then says the file is damaged)."""
    try:
        end = fh.seek(0, os.SEEK_END)
        start = max(0, end - (_EOCD.size + 65535))
        fh.seek(start)
        tail = fh.read(end - start)
    except OSError:
        return None
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or at + _EOCD.size > len(tail):
        return None
    count = _EOCD.unpack_from(tail, at)[4]
    if count != 0xFFFF or at < _ZIP64_LOCATOR.size:
        return int(count)
    sig, _, offset, _ = _ZIP64_LOCATOR.unpack_from(tail, at - _ZIP64_LOCATOR.size)
    if sig != b"PK\x06\x07":
        return int(count)
    try:
        fh.seek(offset)
        rec = fh.read(_ZIP64_EOCD.size)
    except (OSError, OverflowError, ValueError):
        return None
    if len(rec) < _ZIP64_EOCD.size or rec[:4] != b"PK\x06\x06":
        return None
    return int(_ZIP64_EOCD.unpack(rec)[7])
