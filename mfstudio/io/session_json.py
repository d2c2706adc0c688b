"""Session files as JSON, read strictly and within bounds: gzip unpacked in pieces up to a limit;
nesting depth, number length and the count of nulls checked before parsing; duplicate keys, bare NaN refused.

Lesson files (a session with pages) are read the same way; ``kind`` ("session" or "lesson") is the word
the sentences use for the file."""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Callable
from typing import Any

import numpy as np

from mfstudio.core.training import HISTORY_COLUMNS
from mfstudio.io.errors import FileFormatError

MAX_DEPTH = 32  # deepest nesting a session file may have (the format needs 5)
MAX_NUMBER_CHARS = 64  # longest number token accepted
MAX_JSON_BYTES = 2 * 1024**3  # largest session after decompression
MAX_UNPACK_RATIO = 20  # a gzip session may unpack to this many times its size (MF Studio's pack 6-10x; bombs 1000x)
UNPACK_FLOOR = 32 * 1024**2  # ... and always to this much (small sessions pack better)
MAX_GRID_CELLS = 1_000_000  # ratings as an 'R' grid only up to this many cells (MF Studio writes up to 10,000)
MAX_HISTORY_ROWS = 1_000_000  # a history keeps about 10,000 rows
MAX_NULLS = MAX_GRID_CELLS + len(HISTORY_COLUMNS) * MAX_HISTORY_ROWS  # nulls (NaN) only fill a grid or history cells

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_LONG_NUMBER = re.compile(rf"[-+0-9.eE]{{{MAX_NUMBER_CHARS + 1},}}")
_NUMBER_BYTE = np.zeros(256, dtype=bool)
_NUMBER_BYTE[np.frombuffer(b"-+0123456789.eE", dtype=np.uint8)] = True
_BRACKET_STEP = np.zeros(256, dtype=np.int8)
_BRACKET_STEP[[ord("["), ord("{")]] = 1
_BRACKET_STEP[[ord("]"), ord("}")]] = -1
_SCAN_CHUNK = 1 << 24
_RUN_CHUNK = 1 << 22  # bytes per chunk of the long-number scan (each step a few bool arrays of this size)
_NOT_BLANK = re.compile(rb"[^ \t\r\n]")


def nesting_depth(text: str) -> int:
    """How deeply ``[`` and ``{`` nest in JSON text (strings ignored), without recursion."""
    bare = _STRING.sub('""', text).encode("utf-8", "replace")
    return _bracket_depth(bare)


def _bracket_depth(data: bytes | bytearray | memoryview) -> int:
    """How deeply brackets nest, strings not told apart, in chunks (bounded temporaries). Brackets
    inside strings can make this more or less than the document's depth; the caller checks
    precisely only when this is above the limit, and json itself refuses far deeper nesting."""
    mv = memoryview(data)
    depth = top = 0
    for start in range(0, len(mv), _SCAN_CHUNK):
        step = _BRACKET_STEP[np.frombuffer(mv[start:start + _SCAN_CHUNK], dtype=np.uint8)]
        moves = step[np.flatnonzero(step)].astype(np.int64)
        if moves.size:
            running = np.cumsum(moves) + depth
            top, depth = max(top, int(running.max())), int(running[-1])
    return top


def _has_number_run(data: bytes | bytearray | memoryview, length: int) -> bool:
    """Whether ``length`` bytes in a row can all belong to a number (``-+0-9.eE``): in chunks of bounded
    temporaries, and linear time (a regular expression retries at every digit of base64 text)."""
    mv = memoryview(data)
    step = _RUN_CHUNK
    for start in range(0, len(mv), step):
        window = _NUMBER_BYTE[np.frombuffer(mv[max(start - length + 1, 0):start + step], dtype=np.uint8)]
        span = 1  # window[i] now says: bytes i .. i + span - 1 are all number bytes
        while span < length and window.size:
            grow = min(span, length - span)
            window = window[:-grow] & window[grow:] if window.size > grow else window[:0]
            span += grow
        if window.any():
            return True
    return False


def _no_duplicate_keys(name: str, kind: str = "session") -> Callable[[list[tuple[str, Any]]], dict[str, Any]]:
    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        d = dict(pairs)
        if len(d) != len(pairs):
            seen: set[str] = set()
            for k, _ in pairs:
                if k in seen:
                    raise FileFormatError(f"{name} holds {k!r} twice in one object, so which value is meant is "
                                          f"unclear; open an older copy or save the {kind} again.")
                seen.add(k)
        return d
    return hook


def _prescan(data: bytes | bytearray | memoryview, name: str, kind: str = "session") -> None:
    """What can be refused from the raw bytes, before they are decoded and parsed."""
    mv = memoryview(data)
    depth = _bracket_depth(mv)
    if depth > MAX_DEPTH:  # strings may hold brackets: count again without them
        depth = nesting_depth(str(mv, "utf-8", "replace"))
        if depth > MAX_DEPTH:
            raise FileFormatError(f"{name} nests {depth:,} levels deep, more than a {kind} file can ({MAX_DEPTH}); "
                                  f"it is not a valid MF Studio {kind}.")
    if _has_number_run(mv, MAX_NUMBER_CHARS + 1):  # perhaps in a string (a label of 70 digits): look again
        long_run = _LONG_NUMBER.search(_STRING.sub('""', str(mv, "utf-8", "replace")))
        if long_run:
            n = len(long_run.group(0))
            raise FileFormatError(f"{name} holds a number {n:,} characters long; numbers in a {kind} file have at "
                                  f"most {MAX_NUMBER_CHARS}, so the file is damaged.")
    # each null costs a list slot when parsed; a session needs them only in a small grid and in the history
    whole = mv.obj if isinstance(mv.obj, (bytes, bytearray)) else bytes(mv)  # no copy for bytes (a BOM aside: a bound)
    nulls = whole.count(b"null")
    if nulls > MAX_NULLS:
        raise FileFormatError(f"{name} holds {nulls:,} missing values (null), more than a {kind} can ({MAX_NULLS:,}: "
                              "MF Studio writes large ratings as a list of entries, not as a grid); it is not a valid "
                              f"MF Studio {kind}.")


def safe_json_loads(text: str, name: str = "The file", kind: str = "session") -> Any:
    """``json.loads`` with limits: nesting depth, number length, nulls; bare NaN/Infinity and
    duplicate keys refused."""
    _prescan(text.encode("utf-8", "surrogatepass"), name, kind)
    return _loads(text, name, kind)


def _loads(text: str, name: str, kind: str = "session") -> Any:
    def constant(s: str) -> Any:
        raise FileFormatError(f"{name} holds a bare {s}, which JSON does not allow; "
                              "write null for NaN and \"Infinity\" for infinity.")

    try:
        return json.loads(text, parse_constant=constant, object_pairs_hook=_no_duplicate_keys(name, kind))
    except FileFormatError:
        raise
    except json.JSONDecodeError as exc:
        stripped = text.strip()
        if not stripped.startswith(("{", "[")):
            raise FileFormatError(f"{name} is not JSON, so it cannot be an MF Studio {kind}; "
                                  + ("open it as ratings instead." if kind == "session"
                                     else f"choose a {kind} saved by MF Studio.")) from None
        cut = exc.pos >= len(stripped) - 32 or not stripped.endswith("}")  # a whole document ends with }
        what = ("ends too early (it is truncated)" if cut
                else f"is not valid JSON at line {exc.lineno}, column {exc.colno}")
        raise FileFormatError(f"{name} {what}; open an older copy or save the {kind} again.") from None
    except (RecursionError, ValueError) as exc:
        raise FileFormatError(f"{name} could not be read ({exc.__class__.__name__}); "
                              f"it is not a valid MF Studio {kind}.") from None


def unpack_limit(packed_bytes: int) -> int:
    """How much a gzip-compressed session of ``packed_bytes`` may unpack to."""
    return min(MAX_JSON_BYTES, max(UNPACK_FLOOR, MAX_UNPACK_RATIO * packed_bytes))


def _decompress(data: bytes, name: str, kind: str = "session") -> bytearray:
    """The unpacked document, streamed in bounded pieces and refused as soon as it passes
    :func:`unpack_limit` (a gzip bomb is refused after a moment and a few hundred MB at most),
    and refused when anything follows the one gzip member MF Studio writes."""
    limit = unpack_limit(len(data))
    d = zlib.decompressobj(wbits=31)
    out = bytearray()
    mv = memoryview(data)
    pos = 0
    try:
        while pos < len(mv) and not d.eof:
            piece: bytes | memoryview = mv[pos:pos + (1 << 16)]
            pos += len(piece)
            while piece:
                out += d.decompress(piece, 1 << 20)
                if len(out) > limit:
                    raise FileFormatError(
                        f"{name} unpacks to more than {limit / 1024**2:,.0f} MiB from {len(data) / 1024**2:,.1f} MiB, "
                        f"more than {MAX_UNPACK_RATIO} times its packed size (MF Studio's sessions pack about 6 to 10 "
                        f"times); it is damaged or not a {kind}, so MF Studio does not open it.")
                if d.eof:
                    break
                piece = d.unconsumed_tail
    except zlib.error:
        raise FileFormatError(f"{name} is damaged (the compressed data is corrupt); "
                              f"open an older copy or save the {kind} again.") from None
    if not d.eof:
        raise FileFormatError(f"{name} is truncated (the compressed data ends early); "
                              f"open an older copy or save the {kind} again.")
    if d.unused_data or pos < len(mv):
        raise FileFormatError(f"{name} holds data after its end (a second gzip member or other bytes), which MF Studio "
                              f"never writes; open an older copy or save the {kind} again.")
    return out


def document_from_bytes(data: bytes | bytearray, name: str, kind: str = "session") -> Any:
    """The parsed JSON document of a session file's bytes (gzip or plain, a UTF-8 BOM allowed),
    or a FileFormatError saying in one sentence why it cannot be one."""
    if data[:2] == b"\x1f\x8b":
        data = _decompress(bytes(data) if isinstance(data, bytearray) else data, name, kind)
    mv = memoryview(data)
    if mv[:3] == b"\xef\xbb\xbf":
        mv = mv[3:]
    if not _NOT_BLANK.search(mv):
        raise FileFormatError(f"{name} is empty; choose a {kind} saved by MF Studio.")
    _prescan(mv, name, kind)
    try:
        text = str(mv, "utf-8")
    except UnicodeDecodeError:
        raise FileFormatError(f"{name} is not a text {kind} file (it is not UTF-8); "
                              f"choose a {kind} saved by MF Studio.") from None
    del mv, data  # the unpacked bytes (when it was gzip) go before parsing
    return _loads(text, name, kind)
