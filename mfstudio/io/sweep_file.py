"""A sweep's files: sweep.csv (one row per point, see :func:`mfstudio.core.sweep.columns`) and the chart,
written together into a folder, all or nothing (as ``mfstudio train`` writes its results)."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from mfstudio.core.sweep import PointResult, columns, rows
from mfstudio.core.sweep_grid import Axis, value_text
from mfstudio.io import atomic, csvsafe
from mfstudio.io.errors import FileFormatError, describe_os_error
from mfstudio.io.export import SIGNIFICANT_DIGITS, check_output_folder

SWEEP_CSV, SWEEP_PNG = "sweep.csv", "sweep.png"
SWEEP_FILES = (SWEEP_CSV, SWEEP_PNG)
WHOLE_COLUMNS = ("best_step", "folds")


def _cell(value: Any, full_precision: bool) -> Any:
    if isinstance(value, str):
        return csvsafe.label(value)
    if isinstance(value, bool) or value is None:
        return ""
    if isinstance(value, int):
        return str(value)
    x = float(value)
    if math.isnan(x):
        return ""
    return repr(x) if full_precision else f"{x:.{SIGNIFICANT_DIGITS}g}"


def sweep_csv(axes: Sequence[Axis], results: Sequence[PointResult], full_precision: bool = False) -> str:
    """sweep.csv's text: a header, then one row per finished point in grid order. Swept values are written
    exactly (they read back as the values trained); errors with 6 significant digits unless ``full_precision``;
    an error that does not exist (a diverged point) is an empty cell."""
    cols = columns(axes, results)
    labels = {a.label for a in axes}
    out: list[list[Any]] = [[csvsafe.label(c) for c in cols]]
    for row in rows(axes, results):
        line = []
        for c in cols:
            v = row.get(c, math.nan)
            if c in labels:
                line.append(value_text(v))
            elif c in WHOLE_COLUMNS:
                line.append(str(int(v)))
            else:
                line.append(_cell(v, full_precision))
        out.append(line)
    return csvsafe.rows_csv(out)


def check_sweep_folder(folder: str | os.PathLike[str]) -> Path:
    """Refuse, with one sentence, a folder the sweep's files cannot go into: a file, a read-only folder, or one
    whose sweep.csv or sweep.png is read-only or a folder. Returns the folder to write (a symlink's end)."""
    return check_output_folder(folder, SWEEP_FILES, "the sweep's files", "the sweep")


def write_sweep(folder: str | os.PathLike[str], files: Mapping[str, bytes | str]) -> list[Path]:
    """Write ``files`` (sweep.csv, sweep.png) into ``folder``, creating it and its parents when missing; all or
    nothing: on an error the files there are as they were and folders this made are removed again."""
    d = Path(os.path.abspath(check_sweep_folder(folder)))
    missing = [p for p in (d, *d.parents) if not p.exists()][::-1]
    made: list[Path] = []
    try:
        for p in missing:
            try:
                p.mkdir()
            except OSError as exc:
                raise FileFormatError(describe_os_error(exc, p, "create")) from exc
            made.append(p)
        atomic.write_files({d / name: data for name, data in files.items()})
    except BaseException:
        for p in reversed(made):
            try:
                p.rmdir()
            except OSError:
                pass
        raise
    return [d / name for name in files]
