"""What the ``mfstudio`` commands share: usage errors, flags built from the parameter declarations, checks of
values and folders, progress lines and reading a trained session."""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, TextIO

import numpy as np

from mfstudio.core import defaults
from mfstudio.core.errors import MFStudioError
from mfstudio.core.numbers import read_whole
from mfstudio.core.params import RUN_PARAMS, ParamSpec
from mfstudio.core.solvers import SOLVERS, Factors

EXIT_OK, EXIT_USAGE, EXIT_INTERRUPTED = 0, 2, 130
EXIT_BROKEN_PIPE = 1  # stdout closed by its reader (Python's own status for it)
FORMAT_CHOICES = ("auto", "matrix", "triples", "events", "npz", "session", "movielens")
DEFAULT_SOLVER = defaults.DEFAULT_SOLVER  # when neither --solver nor the session names one
IMPLICIT_SOLVER = defaults.IMPLICIT_SOLVER  # the default for implicit data (counts of events)
IMPLICIT_HELP = ("These are counts/events, not ratings: each line of triples is user, item, count (repeats summed, "
                 "0 = no interaction), a file of two columns is events user, item (one line per play, click or "
                 "purchase), and MovieLens counts each rating as one interaction; default solver "
                 f"{IMPLICIT_SOLVER} (which reads the data this way with or without the switch)")


class UsageError(MFStudioError):
    """A command-line mistake; the message is one sentence."""


class _Parser(argparse.ArgumentParser):
    """argparse that reports a mistake as an exception instead of printing usage and exiting."""

    def error(self, message: str) -> NoReturn:
        msg = message[:1].upper() + message[1:]
        raise UsageError(f"{msg.rstrip('.')}; run `{self.prog} --help` to see the options.")


# -- parameters from their declarations -----------------------------------------------------
RUN_METAVARS = {"holdout": "F", "patience": "P", "top_n": "N", "relevance": "R"}
FROM_SESSION = ("holdout", "patience", "relevance")  # left out, these are the session's (a session file's input)


def flag_name(spec: ParamSpec) -> str:
    """The command-line flag of a parameter: its own ``flag`` if it has one, else ``--`` and its name
    (``K`` is ``--k``)."""
    return spec.flag or "--" + spec.name.lower().replace("_", "-")


def param_specs() -> dict[str, list[tuple[str, ParamSpec]]]:
    """Every parameter name, with the (solver, spec) pairs that declare it, in solver order."""
    out: dict[str, list[tuple[str, ParamSpec]]] = {}
    for sname, cls in SOLVERS.items():
        for spec in cls.params:
            out.setdefault(spec.name, []).append((sname, spec))
    return out


def _range_help(spec: ParamSpec) -> str:
    """``Range 1 to 1,000``, ``Range above 0 to 10``, ``Range 0 to below 1``, ``Range 1 to 1,000,000,000, or off``."""
    lo = f"above {spec.show(spec.minimum)}" if spec.min_exclusive else spec.show(spec.minimum)
    hi = f"below {spec.show(spec.maximum)}" if spec.max_exclusive else spec.show(spec.maximum)
    return f"Range {lo} to {hi}" + (f", or {spec.off}" if spec.off else "")


def _default_help(spec: ParamSpec) -> str:
    return spec.off if spec.default is None else f"{spec.default:g}"


def _param_help(pairs: list[tuple[str, ParamSpec]]) -> str:
    spec = pairs[0][1]
    defaults = {_default_help(s) for _, s in pairs}
    if len(defaults) == 1:
        dflt = f"default {defaults.pop()}"
    else:
        dflt = "default " + ", ".join(f"{n} {_default_help(s)}" for n, s in pairs)
    used = "" if len(pairs) == len(SOLVERS) else f" Solvers: {', '.join(n for n, _ in pairs)}."
    return f"{spec.label}: {spec.help} {_range_help(spec)}; {dflt}.{used}".replace("%", "%%")


IMPLICIT_HOLDOUT_HELP = ("With --implicit (or --solver implicit-als) it is a share of the interactions, and the "
                         "held-out ones are judged by ranking (precision@k, recall@k, ndcg@k, map@k, mpr) and by "
                         "the error of the preferences, not by a rating RMSE.")


def _run_param_help(spec: ParamSpec) -> str:
    session = ", or the session's" if spec.name in FROM_SESSION else ""
    counts = f" {IMPLICIT_HOLDOUT_HELP}" if spec.name == "holdout" else ""
    return (f"{spec.label}: {spec.help} {_range_help(spec)}; default {_default_help(spec)}{session}."
            f"{counts}").replace("%", "%%")


RESULTS_HELP = ("a session file written by `mfstudio train` (DIR/session.mfstudio, or one saved by the window), "
                "or the --out folder that holds it")
LABEL_HOW = ("as its label is written (case and surrounding spaces aside when only one label fits), or its "
             "position counted from 1 when no {0} label is a whole number (with ids such as MovieLens's, a number "
             "is always an id)")



def add_data_arguments(p: argparse.ArgumentParser) -> None:
    """The flags that say what kind of data INPUT holds, on every command that reads data: --implicit."""
    p.add_argument("--implicit", action="store_true", help=IMPLICIT_HELP)


def default_solver(loaded: Any) -> str:
    """The solver to train without --solver, for a LoadResult: a session's (or lesson's) own, else implicit-als
    for counts of events and sgd for ratings. A session document that names no solver (the bundled examples'
    layout) has the data's default as its own (io.session_file)."""
    if loaded.fmt == "session":
        return loaded.session.solver
    return defaults.solver_for(DEFAULT_SOLVER, loaded.session.ratings.implicit)


# -- checking values ------------------------------------------------------------------------
def _whole(text: str, flag: str, minimum: int, what: str) -> int:
    try:
        v = read_whole(text)
    except ValueError:
        raise UsageError(f"{flag} must be a whole number {what}; got {text!r}.") from None
    if v < minimum:
        raise UsageError(f"{flag} must be a whole number {what}; got {v}.")
    return v


def run_flags(args: argparse.Namespace) -> dict[str, Any]:
    """The run's parameters given as flags (--holdout, --patience, --top, --relevance), each checked by its
    declaration; one not given is left out (the session's or the default applies)."""
    out: dict[str, Any] = {}
    for spec in RUN_PARAMS:
        given = getattr(args, f"run_{spec.name}", None)  # None: not given, or a command without the flag
        if given is None:
            continue
        try:
            out[spec.name] = spec.validate(given)
        except MFStudioError as exc:
            raise UsageError(f"Bad value for {flag_name(spec)}: {exc}") from None
    return out


def solver_params(args: argparse.Namespace, solver: str, base: dict[str, Any]) -> dict[str, Any]:
    """The solver's parameters: ``base`` overridden by the flags given, each value checked."""
    from mfstudio.core.solvers import get_solver

    cls = get_solver(solver)
    own = {s.name: s for s in cls.params}
    params = {k: v for k, v in base.items() if k in own}
    for name, pairs in param_specs().items():
        given = getattr(args, f"param_{name}")
        if given is None:
            continue
        flag = flag_name(pairs[0][1])
        if name not in own:
            others = ", ".join(n for n, _ in pairs)
            raise UsageError(f"The {solver} solver has no {pairs[0][1].label.lower()}; "
                             f"leave out {flag} or choose --solver {others}.")
        try:
            params[name] = own[name].validate(given)
        except MFStudioError as exc:
            raise UsageError(f"Bad value for {flag}: {exc}") from None
    return params


def read_init(path: str, K: int | None, shape: tuple[int, int] | None = None) -> Factors:
    """Starting factors from an .npz with P (users x K), Q (K x items) and optional biases.

    Every shape is checked from the arrays' headers (against each other, against --k and, with
    ``shape``, against the data's users x items) before any array is read.
    """
    from mfstudio.core.params import K as K_SPEC
    from mfstudio.io.npz import read_npz

    name = Path(path).name

    def check(meta: dict[str, tuple[tuple[int, ...], np.dtype]]) -> None:
        for key in ("P", "Q"):
            if key not in meta:
                raise UsageError(f"{name} has no array {key!r}; --init needs arrays P (users x K) and Q (K x items).")
            a_shape, dtype = meta[key]
            if len(a_shape) != 2 or dtype.kind not in "biuf":
                raise UsageError(f"The array {key!r} in {name} must be a two-dimensional array of numbers.")
        (n, k), (kq, m) = meta["P"][0], meta["Q"][0]
        if k != kq:
            raise UsageError(f"In {name}, P has {k:,} columns but Q has {kq:,} rows; both must be K.")
        if not K_SPEC.minimum <= k <= K_SPEC.maximum:
            raise UsageError(f"The starting factors in {name} have K = {k:,}; K must be from {K_SPEC.minimum} up to "
                             f"{K_SPEC.maximum:,}, so give P and Q with that many columns and rows.")
        if K is not None and k != K:
            raise UsageError(f"The starting factors in {name} have K = {k} but --k is {K}; "
                             "make them agree or leave out --k.")
        if shape is not None and (n, m) != tuple(shape):
            raise UsageError(f"The starting factors in {name} are for {n:,} users x {m:,} items, but the data has "
                             f"{shape[0]:,} x {shape[1]:,}; P needs one row per user and Q one column per item.")
        for key, size in (("user_bias", n), ("item_bias", m), ("global_mean", 1)):
            if key not in meta:
                continue
            a_shape, dtype = meta[key]
            count = int(np.prod(a_shape))
            if key == "global_mean":
                if dtype.kind not in "biuf" or count != 1:
                    raise UsageError(f"The array {key!r} in {name} must be a single number.")
            elif dtype.kind not in "biuf" or len(a_shape) > 1 or count != size:
                raise UsageError(f"The array {key!r} in {name} must be a one-dimensional array of {size:,} numbers, "
                                 f"one per {'user' if key == 'user_bias' else 'item'}.")

    arrays = read_npz(path, ("P", "Q", "user_bias", "item_bias", "global_mean"), check)
    P, Q = arrays["P"].astype(np.float64), arrays["Q"].astype(np.float64)
    f = Factors(P, Q)
    if "user_bias" in arrays or "item_bias" in arrays:
        # the solver checks that the values are finite and that a biased solver gets both
        f.user_bias = arrays["user_bias"].astype(np.float64).ravel() if "user_bias" in arrays else None
        f.item_bias = arrays["item_bias"].astype(np.float64).ravel() if "item_bias" in arrays else None
        f.global_mean = float(arrays["global_mean"].reshape(())) if "global_mean" in arrays else 0.0
    return f


def _check_out_dir(out: str, check: Callable[[Path], Any] | None = None) -> Path:
    """The --out folder, refused with one sentence unless it can be written; ``check`` looks at the files the
    command will replace there (by default the result files of ``mfstudio train``)."""
    if not out.strip():
        raise UsageError("--out is empty; give the folder to write the results into, e.g. --out results.")
    d = Path(out)
    if d.exists() and not d.is_dir():
        raise UsageError(f"--out {out} is a file, not a folder; give a folder for the results.")
    probe = d
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir():
        raise UsageError(f"Cannot make the folder {out}: {probe} is a file; choose another --out folder.")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise UsageError(f"Cannot write into {probe} (no permission); choose another --out folder.")
    if check is None:
        from mfstudio.io.export import check_export_folder as check
    check(d)  # a read-only result file is refused now, not after a long training
    return d


def _check_script_path(text: str, out: Path) -> Path:
    """The --script file, checked before the training: a file name in a folder that exists (or is --out)."""
    if not text.strip():
        raise UsageError("--script is empty; give the file to write the script to, e.g. --script reproduce.py.")
    path = Path(text)
    if path.is_dir():
        raise UsageError(f"--script {text} is a folder; give a file name for the script, e.g. {path / 'reproduce.py'}.")
    folder = path.parent
    if os.path.abspath(folder) == os.path.abspath(out):
        return path  # --out is made (or checked) with the results
    if not folder.is_dir():
        raise UsageError(f"Cannot write the script to {text}: the folder {folder} does not exist; "
                         "create it or choose another --script file.")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UsageError(f"Cannot write the script into {folder} (no permission); choose another --script file.")
    from mfstudio.io.atomic import is_read_only

    if is_read_only(path):
        raise UsageError(f"{text} is read-only, so the script cannot replace it; make it writable or choose another "
                         "--script file.")
    return path


# -- progress -------------------------------------------------------------------------------
def _duration(seconds: float) -> str:
    """1.3 ms, 0.42 s, 12.5 s: enough digits to be useful at any size."""
    if seconds < 0.1:
        return f"{seconds * 1000:.2g} ms"
    return f"{seconds:.3g} s"


class ProgressPrinter:
    """Prints progress on stderr: a bar redrawn in place on a terminal, else a line about every second."""

    def __init__(self, stream: TextIO, quiet: bool) -> None:
        self.stream = stream
        self.quiet = quiet
        self.tty = bool(getattr(stream, "isatty", lambda: False)())
        self.every = 0.2 if self.tty else 1.0
        self.last = -math.inf
        self.t0 = time.perf_counter()
        self.drawn = False
        self.last_step = -1

    def update(self, snap: Any, force: bool = False) -> None:
        if self.quiet:
            return
        now = time.perf_counter()
        if not force and now - self.last < self.every:
            return
        if snap.step == self.last_step:  # the final snapshot repeats the last chunk's state
            return
        self.last = now
        self.last_step = snap.step
        if self.tty:
            frac = min(snap.step / max(snap.budget, 1), 1.0)
            bar = "#" * int(frac * 24)
            self.stream.write(f"\r[{bar:<24}] {frac:4.0%}  {snap.status_line()}\x1b[K")
            self.drawn = True
        else:
            self.stream.write(snap.status_line() + "\n")
        self.stream.flush()

    def done(self) -> None:
        if self.drawn and not self.quiet:
            self.stream.write("\n")
            self.stream.flush()


# -- commands -------------------------------------------------------------------------------
def _say(quiet: bool, text: str, stream: TextIO | None = None) -> None:
    if not quiet:
        print(text, file=stream or sys.stdout)



def _session_path(text: str) -> Path:
    """RESULTS as a file: the path itself, or the session.mfstudio in a results folder."""
    p = Path(text)
    if p.is_dir():
        if not (p / "session.mfstudio").is_file():
            raise UsageError(f"{text} holds no session.mfstudio; give the folder that `mfstudio train --out` "
                             "wrote, or a session file.")
        return p / "session.mfstudio"
    return p


def trained_session(results: str, command: str) -> Any:
    """The session RESULTS names (a file or a results folder), its notices said on stderr; it must hold a model."""
    from mfstudio import io as mio

    loaded = mio.load(_session_path(results))
    for note in loaded.notices:
        print(f"Note: {note}", file=sys.stderr)
    s = loaded.session
    if s.result is None:
        raise UsageError(f"{results} has no trained model; run `mfstudio train {results} --out DIR` "
                         f"first, then {command} DIR.")
    return s


def _json_safe(x: Any) -> Any:
    """JSON data with any NaN or infinity as null (JSON has neither)."""
    if isinstance(x, float):
        return x if math.isfinite(x) else None
    if isinstance(x, dict):
        return {k: _json_safe(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_json_safe(v) for v in x]
    return x



def _model_words(r: Any) -> str:
    """``als, K = 2, after 50 steps``: which model answers."""
    steps = f", after {r.steps_done:,} step{'s' if r.steps_done != 1 else ''}" if r.steps_done else ""
    return f"{r.solver}, K = {r.factors.K}{steps}"


def _table(rows: list[tuple[str, ...]], right: tuple[bool, ...]) -> list[str]:
    """Rows of text as aligned lines, two spaces in from the left; ``right`` says which columns align right."""
    w = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
    return ["  " + "  ".join(f"{t:>{w[c]}}" if right[c] else f"{t:<{w[c]}}" for c, t in enumerate(r)).rstrip()
            for r in rows]


