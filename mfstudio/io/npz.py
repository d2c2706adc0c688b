"""NumPy ``.npz`` files, read safely: never with pickle, opened only when a regular file, every
array's dtype, shape and size checked from its header (against the memory there is), and the
shapes checked against each other (labels against R, P against Q), before any array is read.

Ratings come in one of two forms: ``R``, the users x items matrix (NaN, and 0 unless zeros are
kept, = not rated), or the entries ``R_rows``, ``R_cols``, ``R_vals`` with ``R_shape`` = (users,
items), which results.npz holds for data too large to write whole (see export.results_npz)."""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import BinaryIO

import numpy as np

from mfstudio.core import memory
from mfstudio.core.ratings import Ratings
from mfstudio.io.errors import FileFormatError, describe_os_error
from mfstudio.io.files import open_input, zip_member_count

SPARSE_R = ("R_rows", "R_cols", "R_vals", "R_shape")  # the ratings as entries: row, column, value, and the shape
MAX_NPZ_MEMBERS = 10_000  # numpy.savez writes one member per array; far more is not our kind of file
NPZ_LEVEL = 1  # deflate level of the .npz files written
MAX_LABEL_CHARS = 10_000  # a label array with longer strings is refused


Meta = dict[str, tuple[tuple[int, ...], np.dtype]]


def _open_zip(p: Path) -> tuple[BinaryIO, zipfile.ZipFile]:
    fh = open_input(p)
    try:
        n = zip_member_count(fh)
        if n is not None and n > MAX_NPZ_MEMBERS:
            raise FileFormatError(f"{p.name} holds {n:,} files, far more than an .npz of ratings or factors "
                                  f"(at most {MAX_NPZ_MEMBERS:,}); save the arrays again with numpy.savez.")
        fh.seek(0)
        return fh, zipfile.ZipFile(fh)
    except FileFormatError:
        fh.close()
        raise
    except (zipfile.BadZipFile, EOFError, ValueError, NotImplementedError):
        fh.close()
        raise FileFormatError(
            f"{p.name} is not a valid .npz file (it may be truncated); save the arrays again with numpy.savez."
        ) from None
    except OSError as exc:
        fh.close()
        raise FileFormatError(describe_os_error(exc, p, "read")) from exc
    except BaseException:
        fh.close()
        raise


def _headers(zf: zipfile.ZipFile, p: Path) -> tuple[Meta, dict[str, zipfile.ZipInfo]]:
    meta: Meta = {}
    infos: dict[str, zipfile.ZipInfo] = {}
    for info in zf.infolist():
        if not info.filename.endswith(".npy"):
            continue
        name = info.filename[:-4]
        if name in infos:
            raise FileFormatError(f"{p.name} holds the array {name!r} twice, so which one is meant is unclear; "
                                  "save the arrays again with numpy.savez.")
        try:
            with zf.open(info) as fh:
                version = np.lib.format.read_magic(fh)
                if version == (1, 0):
                    shape, fortran, dtype = np.lib.format.read_array_header_1_0(fh, max_header_size=10_000)
                else:
                    shape, fortran, dtype = np.lib.format.read_array_header_2_0(fh, max_header_size=10_000)
        except (ValueError, OSError, EOFError, zipfile.BadZipFile, NotImplementedError, RuntimeError, SyntaxError):
            raise FileFormatError(
                f"The array {name!r} in {p.name} is damaged; save the arrays again with numpy.savez."
            ) from None
        if dtype.hasobject:
            raise FileFormatError(
                f"The array {name!r} in {p.name} holds Python objects, which MF Studio never loads "
                "(it would run code); save it as numbers or strings."
            )
        n = 1
        for d in shape:
            n *= int(d)
        need = n * max(dtype.itemsize, 8)  # read, then held as float64 or int64
        if need >= memory.CHECK_ABOVE and need > memory.usable_bytes():
            dims = " x ".join(f"{int(d):,}" for d in shape)
            raise FileFormatError(
                f"The array {name!r} in {p.name} claims {dims} entries, which need about {memory.human(need)} of "
                f"memory, more than the {memory.human(memory.usable_bytes())} available; use a smaller data set."
            )
        if info.file_size < n * dtype.itemsize:
            raise FileFormatError(
                f"The array {name!r} in {p.name} is shorter than its header says; the file is damaged."
            )
        meta[name] = (tuple(int(d) for d in shape), dtype)
        infos[name] = info
    return meta, infos


def inspect_npz(path: str | os.PathLike[str]) -> Meta:
    """Names, shapes and dtypes of the arrays in an ``.npz``, from headers only."""
    p = Path(path)
    fh, zf = _open_zip(p)
    with fh, zf:
        return _headers(zf, p)[0]


def read_npz(path: str | os.PathLike[str], wanted: Iterable[str] | None = None,
             check: Callable[[Meta], None] | None = None) -> dict[str, np.ndarray]:
    """The arrays of an ``.npz`` (only ``wanted`` ones if given), loaded without pickle after
    every header was checked, and after ``check(headers)`` (which raises to refuse the file
    from shapes and dtypes alone, before anything large is read)."""
    p = Path(path)
    fh, zf = _open_zip(p)
    with fh, zf:
        meta, infos = _headers(zf, p)
        if check is not None:
            check(meta)
        keep = set(wanted) if wanted is not None else set(meta)
        out: dict[str, np.ndarray] = {}
        for name in meta:
            if name not in keep:
                continue
            try:
                with zf.open(infos[name]) as member:
                    out[name] = np.lib.format.read_array(member, allow_pickle=False, max_header_size=10_000)
            except (
                ValueError, OSError, EOFError, zipfile.BadZipFile, NotImplementedError, RuntimeError, SyntaxError
            ) as exc:
                raise FileFormatError(f"{p.name} could not be read as .npz ({exc.__class__.__name__}); "
                                      "save the arrays again with numpy.savez.") from None
        return out


def _bad_labels(n: int, what: str, name: str) -> FileFormatError:
    return FileFormatError(
        f"The {what} labels in {name} must be {n:,} strings, one per {what[:-1]}; fix or remove the {what!r} array."
    )


def _bad_scale(name: str) -> FileFormatError:
    return FileFormatError(f"The array 'scale' in {name} must hold two numbers, minimum below maximum.")


def _labels(arr: np.ndarray | None, n: int, what: str, name: str) -> list[str] | None:
    if arr is None:
        return None
    if arr.dtype.kind not in "US" or arr.ndim != 1 or arr.shape[0] != n:
        raise _bad_labels(n, what, name)
    if arr.dtype.kind == "S":
        return [x.decode("utf-8", "replace") for x in arr.tolist()]
    return [str(x) for x in arr.tolist()]


def ratings_from_npz(path: str | os.PathLike[str], *, keep_zeros: bool = False,
                     scale: tuple[float, float] | None = None) -> tuple[Ratings, list[str]]:
    """Ratings from array ``R`` (NaN, and 0 unless ``keep_zeros``, = not rated) or from the entries
    ``R_rows``, ``R_cols``, ``R_vals`` and ``R_shape`` (every entry a rating, 0 included), with
    optional ``users``, ``items`` label arrays and ``scale``. An array ``implicit`` that is true (results.npz
    of implicit data) says the values are counts of events: the Ratings are then implicit (io.interactions)."""
    from mfstudio.io.tables import choose_scale

    p = Path(path)
    sparse = [False]

    def check(meta: Meta) -> None:
        # everything a shape or dtype can tell is checked before the arrays are read
        sparse[0] = "R" not in meta and any(k in meta for k in SPARSE_R)
        if "R" in meta and any(k in meta for k in SPARSE_R):
            raise FileFormatError(f"{p.name} holds both a matrix 'R' and the entries 'R_rows', 'R_cols', 'R_vals', "
                                  "so which one is meant is unclear; save one of them.")
        if sparse[0]:
            shape = _check_entries(meta, p.name)
        elif "R" not in meta:
            have = ", ".join(sorted(meta)) or "no arrays"
            raise FileFormatError(
                f"{p.name} has no array named 'R' (it has {have}); save the ratings as R, e.g. numpy.savez(file, R=R)."
            )
        else:
            shape, dtype = meta["R"]
            if len(shape) != 2 or dtype.kind not in "biuf":
                raise FileFormatError(
                    f"The array 'R' in {p.name} must be a two-dimensional array of numbers (users x items)."
                )
        for lab, n in (("users", shape[0]), ("items", shape[1])):
            if lab not in meta:
                continue
            lshape, ldtype = meta[lab]
            if ldtype.kind not in "US" or len(lshape) != 1 or (n >= 0 and lshape != (n,)):
                raise _bad_labels(max(n, 0), lab, p.name)
            if ldtype.itemsize > 4 * MAX_LABEL_CHARS:
                raise FileFormatError(
                    f"The {lab} labels in {p.name} are longer than {MAX_LABEL_CHARS:,} characters; shorten them."
                )
        if "scale" in meta and (meta["scale"][1].kind not in "biuf" or int(np.prod(meta["scale"][0])) != 2):
            raise _bad_scale(p.name)
        if "implicit" in meta and (meta["implicit"][1].kind not in "biu" or int(np.prod(meta["implicit"][0])) != 1):
            raise FileFormatError(f"The array 'implicit' in {p.name} must be one true or false value.")

    arrays = read_npz(p, ("R", *SPARSE_R, "users", "items", "scale", "implicit"), check)
    if sparse[0]:
        shape = tuple(int(x) for x in arrays["R_shape"].ravel())
        rows, cols = arrays["R_rows"].astype(np.int64), arrays["R_cols"].astype(np.int64)
        vals = np.asarray(arrays["R_vals"], dtype=np.float64)
        if not np.all(np.isfinite(vals)):
            raise FileFormatError(f"The array 'R_vals' in {p.name} holds NaN or infinite values; "
                                  "every listed rating must be a finite number.")
    else:
        R = np.asarray(arrays["R"], dtype=np.float64)
        if np.any(np.isinf(R)):
            raise FileFormatError(f"The array 'R' in {p.name} holds infinite values; use NaN for 'not rated' and "
                                  "finite numbers for ratings.")
        shape = R.shape
        mask = ~np.isnan(R)
        if not keep_zeros:
            mask &= R != 0
        rows, cols = np.nonzero(mask)
        vals = R[rows, cols]
        del R, mask
    users = _labels(arrays.get("users"), shape[0], "users", p.name)
    items = _labels(arrays.get("items"), shape[1], "items", p.name)
    if "scale" in arrays:
        s = (
            np.asarray(arrays["scale"], dtype=np.float64).ravel()
            if arrays["scale"].dtype.kind in "biuf"
            else np.zeros(0)
        )
        if s.shape != (2,) or not np.all(np.isfinite(s)) or s[0] >= s[1]:
            raise _bad_scale(p.name)
        scale = (float(s[0]), float(s[1]))
    if vals.size == 0:
        what = "no entries are listed" if sparse[0] else f"every entry of R is NaN{'' if keep_zeros else ' or 0'}"
        raise FileFormatError(f"{p.name} holds no ratings: {what}; enter some ratings.")
    if "implicit" in arrays and bool(arrays["implicit"].ravel()[0]):
        from mfstudio.io.interactions import interactions

        return interactions(rows, cols, vals, (shape[0], shape[1]), users, items, name=p.name, scale=scale,
                            where=lambda k: f"The entry ({rows[k]}, {cols[k]}) in {p.name}")
    sc, notices = choose_scale(vals, scale)
    return Ratings(rows, cols, vals, (shape[0], shape[1]), users, items, sc), notices


def _check_entries(meta: Meta, name: str) -> tuple[int, int]:
    """The checks of ratings saved as entries (SPARSE_R), from the headers; the shape is read later,
    so (0, 0) stands for it here (the labels are checked against it after reading)."""
    missing = [k for k in SPARSE_R if k not in meta]
    if missing:
        raise FileFormatError(f"{name} holds ratings as entries but has no {', '.join(map(repr, missing))}; save "
                              "R_rows, R_cols, R_vals and R_shape together (or the matrix as R).")
    lengths = {meta[k][0] for k in SPARSE_R[:3]}
    if len(lengths) != 1 or len(next(iter(lengths))) != 1:
        raise FileFormatError(f"The arrays 'R_rows', 'R_cols' and 'R_vals' in {name} must be one-dimensional and "
                              "of the same length (one entry per rating).")
    if meta["R_rows"][1].kind not in "iu" or meta["R_cols"][1].kind not in "iu" or meta["R_vals"][1].kind not in "biuf":
        raise FileFormatError(f"In {name}, 'R_rows' and 'R_cols' must be whole numbers and 'R_vals' numbers.")
    if meta["R_shape"][0] != (2,) or meta["R_shape"][1].kind not in "iu":
        raise FileFormatError(f"The array 'R_shape' in {name} must be two whole numbers: users and items.")
    return (-1, -1)


def npz_bytes(arrays: Mapping[str, np.ndarray]) -> bytes:
    """A compressed ``.npz`` in memory (to write atomically); no object arrays."""
    buf = io.BytesIO()
    for k, a in arrays.items():
        if np.asarray(a).dtype.hasobject:
            raise TypeError(f"array {k!r} has dtype object")
    # what np.savez_compressed writes, at deflate level 1: its default level 6 took 31 s at 25 M ratings for
    # a file about a tenth smaller (factors are random floats; the entries' sorted rows pack well either way)
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=NPZ_LEVEL, allowZip64=True) as zf:
        for k, v in arrays.items():
            with zf.open(f"{k}.npy", "w", force_zip64=True) as fh:
                np.lib.format.write_array(fh, np.asanyarray(v), allow_pickle=False)
    return buf.getvalue()
