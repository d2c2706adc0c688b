"""The ``mfstudio`` command: no sub-command opens the window; ``train`` runs headless; ``explain`` takes one
prediction of a trained model apart; ``recommend`` lists the best items for a new person (folded in from a few
ratings) or a user of the data; ``similar`` lists the items (users) most like one.

``mfstudio train`` builds its flags from the parameter declarations (mfstudio.core.params and
the solvers'), so a new parameter appears here (with its help text and range) without touching this file.
Errors a user can cause print one sentence to stderr and exit with status 2.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn, TextIO

import numpy as np

import mfstudio
from mfstudio.core.errors import MFStudioError
from mfstudio.core.numbers import read_whole
from mfstudio.core.params import HOLDOUT, PATIENCE, RUN_PARAMS, TOP_N, ParamSpec
from mfstudio.core.solvers import SOLVERS, Factors

EXIT_OK, EXIT_USAGE, EXIT_INTERRUPTED = 0, 2, 130
FORMAT_CHOICES = ("auto", "matrix", "triples", "npz", "session", "movielens")

EXAMPLES = """\
examples:
  mfstudio                                   open the window with Example 1
  mfstudio ratings.csv                       open the window with a file
  mfstudio ml-100k.zip                       open a MovieLens download (its folder or .zip) in the window
  mfstudio train ratings.csv --out results   train the notebook's method, write results
  mfstudio train ml-100k --solver biased-sgd --k 20 --steps 30 --holdout 0.2 --patience 3 --out ml100k
  mfstudio train results/session.mfstudio --steps 20000 --out rerun
  mfstudio train --help                      all training options
  mfstudio explain results --user u1 --item B   why the model predicts what it does for one cell
  mfstudio recommend results --rate "B=5" --rate "D=1"   recommendations for a new person from their ratings
  mfstudio recommend results --user u1 --top 3           the best items for a user of the data
  mfstudio similar results --item B --by dot             the items most like B
"""

TRAIN_EXAMPLES = """\
examples:
  mfstudio train ratings.csv --out results
  mfstudio train ratings.csv --solver als --k 3 --steps 50 --seed 1 --out results
  mfstudio train ml-100k --solver biased-sgd --k 20 --steps 30 --holdout 0.2 --patience 3 --out ml100k
  mfstudio train ml-latest-small.zip --solver als --k 10 --out latest
  mfstudio train matrix.csv --keep-zeros --init start.npz --out results --quiet
  mfstudio train ratings.csv --solver nmf --steps 100 --out results --script reproduce.py

DIR receives P.csv, Q.csv, R_hat.csv, history.csv, recommendations.csv, run.json,
results.npz and session.mfstudio (which the window opens as it was), user_bias.csv and
item_bias.csv for biased-sgd (R_hat.csv can be rebuilt from these CSVs and run.json's
global_mean), and last
mfstudio-export.json, which lists them with their sizes and SHA-256. Files are written
together at the end, all or nothing: on an error (bad input, divergence, a full disk)
DIR is left as it was, and not created if it was new; a read-only result file in DIR is
refused. Ctrl-C stops training and writes the results reached so far.

--script FILE also writes a Python script that needs only numpy (not MF Studio): it holds
the training ratings, the start factors in full, the parameters and the solver's update rule,
and `python FILE` makes the run's steps again, prints P and Q and writes them (and the
biases of biased-sgd) to reproduced.npz in the folder it is run from; they equal the
results to 1e-9. It is written after DIR's files.
"""

EXPLAIN_EXAMPLES = """\
examples:
  mfstudio explain results --user u1 --item B
  mfstudio explain results/session.mfstudio --user "User 1" --item "Item 3" --json
  mfstudio explain ml100k --user 196 --item "Star Wars (1977)"

The terms are the global mean, the user's and the item's bias (biased-sgd only) and one term
P[u,k]*Q[k,i] per latent feature k1..kK; they add up to the prediction, the cell of R_hat.csv.
What R-hat shows is that prediction clipped to the rating scale. With --json, stdout is one JSON
object: {"user", "item", "prediction" (unclipped), "shown" (clipped), "actual" (null if not rated),
"terms": [{"name", "value"}, ...], "error", "held_out", "fallback", "sentence"}, with term names
"mean", "user bias", "item bias", "k1" ... "kK". A user or item without training ratings gets the
fallback: the mean (and the other side's bias) and no factor terms.
"""


RECOMMEND_EXAMPLES = """\
examples:
  mfstudio recommend results --rate "Starfall=5" --rate "Laugh Track=1" --rate "Deep Orbit=4"
  mfstudio recommend results --user u1 --top 3
  mfstudio recommend ml100k --rate "Star Wars (1977)=5" --rate "Fargo (1996)=4" --top 10 --json

With --rate the new person is folded in: their taste vector (and bias, for biased-sgd) is the exact
minimiser of the trained solver's own objective for their ratings, with every item fixed. Items nobody
rated in training play no part; with no usable rating the predictions are the fallback (the mean
rating, plus each item's bias for biased-sgd). With --user the user's trained row is used, as
recommendations.csv does. Items the person rated are never recommended (for --user: those rated in
training). The order follows the unclipped score; "predicted" is clipped to the rating scale. With
--json, stdout is one JSON object: {"user_factors": [...], "user_bias" (null without biases),
"recommendations": [{"item", "score" (unclipped), "ratings" (the item's training ratings)}, ...]}.
"""

SIMILAR_EXAMPLES = """\
examples:
  mfstudio similar results --item Starfall
  mfstudio similar results --item Starfall --by dot --top 5
  mfstudio similar results --user u1 --json

Cosine compares the direction of two taste vectors (columns of Q for items, rows of P for users);
the dot product also multiplies by their lengths, so it favours long vectors (often the popular
items). The table ends with a sentence on why the two lists differ here. An item or user without
training ratings has no learned vector: it scores 0 and comes last. With --json, stdout is one JSON
object: {"item", "by", "similar": [{"item", "score"}, ...]} (with --user: {"user", "by", "similar":
[{"user", "score"}, ...]}), best first, the item (user) itself left out.
"""


class UsageError(MFStudioError):
    """A command-line mistake; the message is one sentence."""


class _Parser(argparse.ArgumentParser):
    """argparse that reports a mistake as an exception instead of printing usage and exiting."""

    def error(self, message: str) -> NoReturn:
        msg = message[:1].upper() + message[1:]
        raise UsageError(f"{msg.rstrip('.')}; run `{self.prog} --help` to see the options.")


# -- parameters from their declarations -----------------------------------------------------
RUN_METAVARS = {"holdout": "F", "patience": "P", "top_n": "N"}
FROM_SESSION = ("holdout", "patience")  # left out, these are the session's (a session file's input)


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


def _run_param_help(spec: ParamSpec) -> str:
    session = ", or the session's" if spec.name in FROM_SESSION else ""
    return f"{spec.label}: {spec.help} {_range_help(spec)}; default {_default_help(spec)}{session}.".replace("%", "%%")


def train_parser() -> _Parser:
    """The parser of ``mfstudio train``."""
    p = _Parser(
        prog="mfstudio train",
        description="Train a matrix factorization R ≈ P·Q without the window and write the results to a folder.",
        epilog=TRAIN_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("input", metavar="INPUT",
                   help="ratings: a matrix or user,item,rating CSV/TSV, an .npz with array R, a .mfstudio session, "
                        "or a MovieLens download (its folder, .zip or ratings file; films are labelled by title)")
    solvers = ", ".join(f"{n} ({c.title.lower()})" for n, c in SOLVERS.items())
    p.add_argument("--solver", metavar="NAME", help=f"the method: {solvers}; default sgd, or the session's")
    for name, pairs in param_specs().items():
        spec = pairs[0][1]
        metavar = {"K": "K", "steps": "N", "alpha": "A", "beta": "B", "tol": "T", "seed": "S"}.get(name, name.upper())
        p.add_argument(flag_name(spec), dest=f"param_{name}", metavar=metavar, help=_param_help(pairs))
    for spec in (HOLDOUT, PATIENCE):
        p.add_argument(flag_name(spec), dest=f"run_{spec.name}", metavar=RUN_METAVARS[spec.name],
                       help=_run_param_help(spec))
    p.add_argument("--init", metavar="INIT.npz",
                   help="start from arrays P (users x K) and Q (K x items) in this .npz instead of random ones")
    p.add_argument("--keep-zeros", action="store_true",
                   help="in a matrix file, 0 is a rating (by default 0 means not rated, as in the notebook)")
    p.add_argument("--format", choices=FORMAT_CHOICES, default="auto", metavar="FMT",
                   help=f"the input format: {', '.join(FORMAT_CHOICES)}; default auto (detected)")
    p.add_argument(flag_name(TOP_N), dest=f"run_{TOP_N.name}", metavar=RUN_METAVARS[TOP_N.name],
                   help=_run_param_help(TOP_N))
    p.add_argument("--min-ratings", metavar="M", default="auto",
                   help="recommend only items with at least M training ratings; default auto "
                        "(10, or half the median item's count when that is smaller)")
    p.add_argument("--full-precision", action="store_true",
                   help="write CSV numbers in full (they read back bit for bit); by default 6 significant digits")
    p.add_argument("--out", metavar="DIR", required=True, help="folder for the result files (created if missing)")
    p.add_argument("--script", metavar="FILE",
                   help="also write a standalone Python script (numpy only) that replays this run and reproduces "
                        "its P and Q, e.g. reproduce.py (relative to the current folder)")
    p.add_argument("--quiet", action="store_true", help="print nothing but errors")
    return p


def explain_parser() -> _Parser:
    """The parser of ``mfstudio explain``."""
    p = _Parser(
        prog="mfstudio explain",
        description="Why this number? Take one prediction of a trained model apart: the mean, the biases and "
                    "each latent feature's P[u,k]*Q[k,i], what is shown after clipping, and the actual rating.",
        epilog=EXPLAIN_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("results", metavar="RESULTS", help=RESULTS_HELP)
    p.add_argument("--user", metavar="U", required=True, help="the user (row), " + LABEL_HOW.format("user"))
    p.add_argument("--item", metavar="I", required=True, help="the item (column), " + LABEL_HOW.format("item"))
    p.add_argument("--json", action="store_true",
                   help="print the breakdown as one JSON object (exact numbers) instead of a table")
    return p


RESULTS_HELP = ("a session file written by `mfstudio train` (DIR/session.mfstudio, or one saved by the window), "
                "or the --out folder that holds it")
LABEL_HOW = ("as its label is written (case and surrounding spaces aside when only one label fits), or its "
             "position counted from 1 when no {0} label is a whole number (with ids such as MovieLens's, a number "
             "is always an id)")


def recommend_parser() -> _Parser:
    """The parser of ``mfstudio recommend``."""
    p = _Parser(
        prog="mfstudio recommend",
        description="Recommend items with a trained model: to a new person, from a few ratings (--rate, folded in "
                    "without retraining), or to a user of the data (--user).",
        epilog=RECOMMEND_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("results", metavar="RESULTS", help=RESULTS_HELP)
    p.add_argument("--rate", metavar="ITEM=RATING", action="append", default=[],
                   help="a new person's rating of an item, e.g. --rate \"Starfall=4\"; give it once per item. ITEM "
                        "is named " + LABEL_HOW.format("item") + "; RATING is a number on the data's rating scale")
    p.add_argument("--user", metavar="U",
                   help="a user of the data instead of a new person, " + LABEL_HOW.format("user"))
    p.add_argument(flag_name(TOP_N), dest="top", metavar="N",
                   help="how many items to recommend, 0 to 1,000; default the session's (5 unless it says otherwise)")
    p.add_argument("--min-ratings", metavar="M", default="auto",
                   help="recommend only items with at least M training ratings; default auto "
                        "(10, or half the median item's count when that is smaller)")
    p.add_argument("--json", action="store_true",
                   help="print the person's factors and the recommendations as one JSON object (exact numbers)")
    return p


def similar_parser() -> _Parser:
    """The parser of ``mfstudio similar``."""
    p = _Parser(
        prog="mfstudio similar",
        description="The items (or users) most like one in a trained model, by the cosine or the dot product of "
                    "their taste vectors.",
        epilog=SIMILAR_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("results", metavar="RESULTS", help=RESULTS_HELP)
    p.add_argument("--item", metavar="I", help="the item to find similar items for, " + LABEL_HOW.format("item"))
    p.add_argument("--user", metavar="U", help="or the user to find similar users for, " + LABEL_HOW.format("user"))
    p.add_argument("--by", choices=("cosine", "dot"), default="cosine", metavar="HOW",
                   help="cosine (the direction of the vectors only) or dot (also their lengths); default cosine")
    p.add_argument("--top", metavar="N", default="10", help="how many to list, at least 1; default 10")
    p.add_argument("--json", action="store_true", help="print the list as one JSON object (exact numbers)")
    return p


def main_parser() -> _Parser:
    """The parser of plain ``mfstudio`` (open the window)."""
    p = _Parser(
        prog="mfstudio",
        description="MF Studio: see, teach and experiment with matrix factorization of rating matrices (R ≈ P·Q).\n"
                    "Without a command it opens the window; `mfstudio train` runs training without it.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("file", nargs="?", metavar="FILE",
                   help="a rating file, a .mfstudio session, or a MovieLens folder or .zip to open in the window")
    p.add_argument("--version", action="version", version=f"MF Studio {mfstudio.__version__}")
    return p


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
    """The run's parameters given as flags (--holdout, --patience, --top), each checked by its
    declaration; one not given is left out (the session's or the default applies)."""
    out: dict[str, Any] = {}
    for spec in RUN_PARAMS:
        given = getattr(args, f"run_{spec.name}")
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


def _check_out_dir(out: str) -> Path:
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
    from mfstudio.io.export import check_export_folder

    check_export_folder(d)  # a read-only result file is refused now, not after a long training
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


def train(argv: Sequence[str]) -> int:
    """``mfstudio train``: load, check, train, then write every result file at once."""
    from mfstudio import io as mio
    from mfstudio.core.session import RunResult, Session
    from mfstudio.core.solvers import get_solver
    from mfstudio.core.training import Control, StopReason, Training

    args = train_parser().parse_args(list(argv))
    quiet = args.quiet
    t_start = time.perf_counter()
    # everything a user can get wrong is checked before the (possibly long) training
    if args.solver is not None:
        get_solver(args.solver)
    run = run_flags(args)
    holdout: float | None = run.get("holdout")  # None: not given, the session's applies
    patience: int | None = run.get("patience")  # None: not given (the session's applies), or off
    top = run.get("top_n")  # None: not given, the session's applies
    min_ratings = 0 if args.min_ratings.strip().lower() == "auto" else \
        _whole(args.min_ratings, "--min-ratings", 1, "of training ratings of at least 1, or auto")
    out = _check_out_dir(args.out)
    script = None if args.script is None else _check_script_path(args.script, out)
    fmt = None if args.format == "auto" else args.format
    loaded = mio.load(args.input, keep_zeros=args.keep_zeros, fmt=fmt)
    t_loaded = time.perf_counter()
    for note in loaded.notices:
        _say(quiet, f"Note: {note}", sys.stderr)
    src = loaded.session
    ratings = src.ratings
    if top is None:
        top = src.top_n
    solver = args.solver or src.solver or "sgd"
    base = dict(src.params) if solver == src.solver else {}
    params = solver_params(args, solver, base)
    init = None
    if args.init is not None:
        init = read_init(args.init, params.get("K") if args.param_K is not None else None, ratings.shape)
        params.setdefault("K", init.K)
        if args.param_K is None:
            params["K"] = init.K
    split_arg = src.split_source(holdout)  # the flag, else the session's cells, else its share
    if "patience" not in run and src.patience is not None:
        if split_arg is None:
            # the session's setting, not a flag the user gave: say so and train without it
            _say(quiet, f"Note: {Path(args.input).name} sets a patience of {src.patience} steps but holds out no "
                        "ratings to watch, so training runs without it; add --holdout (e.g. 0.2) to use it.",
                 sys.stderr)
        else:
            patience = src.patience
    if patience is not None and split_arg is None:
        raise UsageError("--patience needs a hold-out to watch; add --holdout (e.g. 0.2) or leave out --patience.")
    training = Training(ratings, solver, params, holdout=split_arg, init=init, patience=patience)
    # the result files hold R_hat (users x items): known to fit before the training, not after
    from mfstudio.core.memory import check_dense_export

    check_dense_export(ratings.n_users, ratings.n_items, advice="train on fewer users and items")
    for w in training.split.warnings:
        _say(quiet, f"Note: {w}", sys.stderr)
    o = ratings.observed
    _say(quiet, f"Training {solver} on {ratings.n_users:,} users x {ratings.n_items:,} items, "
                f"{ratings.nnz:,} ratings ({len(training.split.val):,} held out), K = {training.params['K']}.",
         sys.stderr)

    control = Control()
    progress = ProgressPrinter(sys.stderr, quiet)
    old_handler = None
    try:
        old_handler = signal.signal(signal.SIGINT, lambda *_: control.stop())
    except ValueError:  # not the main thread: Ctrl-C keeps its default meaning
        pass
    snap = None
    try:
        for snap in training.run(control, chunk_seconds=0.05):
            progress.update(snap, force=snap.finished)
    finally:
        if old_handler is not None:
            signal.signal(signal.SIGINT, old_handler)
        progress.done()
    assert snap is not None
    if snap.failed:
        # the core adds that the last good factors are kept; here nothing is written
        msg = (snap.message or "Training diverged; try a smaller learning rate.").split(" The last good factors")[0]
        raise UsageError(msg)
    t_trained = time.perf_counter()

    m = training.split.held_out_flags
    result = RunResult.from_snapshot(solver, training.params, snap, training.history)
    session = Session(
        ratings=ratings, held_out_cells=np.stack([o.rows[m], o.cols[m]], axis=1).astype(np.int64),
        solver=solver, params=dict(training.params), holdout=float(src.holdout if holdout is None else holdout),
        patience=patience, result=result, top_n=top,
    )
    timings = {"load_s": t_loaded - t_start, "wall_s": t_trained - t_start}
    written = mio.export_results(out, session, top_n=top, min_ratings=min_ratings, full_precision=args.full_precision,
                                 timings=timings, include_session=True)
    also = ""
    if script is not None:
        from mfstudio.io.script import write_script

        try:
            write_script(script, training)
        except mio.FileFormatError as exc:
            msg = str(exc)
            if msg.startswith("Could not "):  # describe_os_error's sentence; others start with the path
                msg = "c" + msg[1:]
            raise UsageError(f"The results are in {out}, but the script was not written: {msg}") from None
        also = f"; `python {script}` reproduces the run"
    reason = StopReason(training.reason).describe() if training.reason else "finished"
    val = "" if math.isnan(snap.val_rmse) else f", validation RMSE {snap.val_rmse:.4g}"
    _say(quiet, f"Done ({reason}) after {training.step:,} steps in {_duration(training.elapsed)}: "
                f"objective {snap.objective:.6g}, training RMSE {snap.train_rmse:.4g}{val}. "
                f"Wrote {len(written)} files to {out}{also}.")
    if training.reason is StopReason.CANCELLED:
        return EXIT_INTERRUPTED
    return EXIT_OK


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


def explanation_text(e: Any, heading: str) -> str:
    """A breakdown as the readable table of ``mfstudio explain``, then its sentence and the rotation note."""
    import textwrap

    from mfstudio.core.explain import rotation_note

    rows = [("part", "P[u,k]", "Q[k,i]", "value"), *e.rows()]
    w = [max(len(r[c]) for r in rows) for c in range(4)]
    lines = [heading, ""]
    for r in rows:
        lines.append(f"  {r[0]:<{w[0]}}  {r[1]:>{w[1]}}  {r[2]:>{w[2]}}  {r[3]:>{w[3]}}".rstrip())
    lines += ["", textwrap.fill(e.sentence, 88), textwrap.fill(rotation_note(e.biased), 88)]
    return "\n".join(lines)


def explain(argv: Sequence[str]) -> int:
    """``mfstudio explain``: one cell of a trained model's R_hat, term by term."""
    from mfstudio.core.explain import explain as explain_cell
    from mfstudio.core.explain import find_label

    args = explain_parser().parse_args(list(argv))
    s = trained_session(args.results, "explain")
    where = f"in {args.results}"
    u = find_label(s.ratings.users, args.user, "user", where)
    i = find_label(s.ratings.items, args.item, "item", where)
    r = s.result
    e = explain_cell(s.ratings, r.factors, u, i, s.held_out_cells)
    if args.json:
        print(json.dumps(_json_safe(e.to_json()), ensure_ascii=False, indent=2))
    else:
        steps = f", after {r.steps_done:,} step{'s' if r.steps_done != 1 else ''}" if r.steps_done else ""
        print(explanation_text(e, f"{e.user_label} and {e.item_label} ({r.solver}, K = {r.factors.K}{steps})"))
    return EXIT_OK


def _model_words(r: Any) -> str:
    """``als, K = 2, after 50 steps``: which model answers."""
    steps = f", after {r.steps_done:,} step{'s' if r.steps_done != 1 else ''}" if r.steps_done else ""
    return f"{r.solver}, K = {r.factors.K}{steps}"


def _table(rows: list[tuple[str, ...]], right: tuple[bool, ...]) -> list[str]:
    """Rows of text as aligned lines, two spaces in from the left; ``right`` says which columns align right."""
    w = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
    return ["  " + "  ".join(f"{t:>{w[c]}}" if right[c] else f"{t:<{w[c]}}" for c, t in enumerate(r)).rstrip()
            for r in rows]


def rated_flags(texts: Sequence[str], ratings: Any, where: str) -> list[tuple[int, float]]:
    """The --rate ITEM=RATING flags as (item index, rating) pairs; the item by its label, the rating a number.

    The last ``=`` separates the two (a label may hold one, a number never does). The scale, a finite
    value and one rating per item are checked by the fold-in itself.
    """
    from mfstudio.core.explain import find_label
    from mfstudio.core.numbers import NumberError, read_number

    lo, hi = ratings.scale
    out = []
    for text in texts:
        item, eq, value = text.rpartition("=")
        if not eq or not item.strip():
            example = ratings.items[0] if ratings.items else "ITEM"
            raise UsageError(f"--rate {text!r} is not ITEM=RATING; give the item's name, = and a number, e.g. "
                             f"--rate \"{example}={hi:g}\".")
        i = find_label(ratings.items, item, "item", where)
        try:
            v = read_number(value)
            reason = "is blank" if v is None else ""
        except NumberError as exc:
            reason = str(exc)
        if reason:
            raise UsageError(f"The rating in --rate {text!r} {reason}; give a number from {lo:g} to {hi:g}.")
        assert v is not None
        out.append((i, v))
    return out


def recommend(argv: Sequence[str]) -> int:
    """``mfstudio recommend``: the best items for a new person (folded in from --rate) or a user (--user)."""
    from mfstudio.core.explain import find_label
    from mfstudio.core.foldin import fold_in, trained_user

    args = recommend_parser().parse_args(list(argv))
    if args.rate and args.user is not None:
        raise UsageError("Give --rate (a new person's ratings) or --user (a user of the data), not both.")
    if not args.rate and args.user is None:
        raise UsageError("Say who the recommendations are for: --rate ITEM=RATING once per item for a new person, "
                         "or --user U for a user of the data.")
    try:
        top = None if args.top is None else int(TOP_N.validate(args.top))
    except MFStudioError as exc:
        raise UsageError(f"Bad value for --top: {exc}") from None
    if top == 0:
        raise UsageError("Bad value for --top: recommend lists at least 1 item; give --top 1 or more.")
    min_ratings = 0 if args.min_ratings.strip().lower() == "auto" else \
        _whole(args.min_ratings, "--min-ratings", 1, "of training ratings of at least 1, or auto")
    s = trained_session(args.results, "recommend")
    where = f"in {args.results}"
    r, ratings = s.result, s.ratings
    train = s.train_entries()
    if args.user is not None:
        u = find_label(ratings.users, args.user, "user", where)
        row = trained_user(ratings, r.factors, train, u)
        who = ratings.users[u]
    else:
        row = fold_in(ratings, r.factors, train, r.solver, r.params, rated_flags(args.rate, ratings, where))
        n = len(row.rated)
        who = f"a new person who rated {n:,} item{'s' if n != 1 else ''}"
    rec = row.recommendations(s.top_n if top is None else top, min_ratings=min_ratings)
    if args.json:
        if row.note:
            print(f"Note: {row.note}", file=sys.stderr)
        doc = {"user_factors": [float(x) for x in row.p],
               "user_bias": None if row.user_bias is None else float(row.user_bias),
               "recommendations": [{"item": ratings.items[i], "score": float(v), "ratings": int(c)}
                                   for i, v, c in zip(rec.item, rec.score, rec.item_ratings)]}
        print(json.dumps(_json_safe(doc), ensure_ascii=False, indent=2))
        return EXIT_OK
    import textwrap

    from mfstudio.core.numbers import short_text, table_text

    lines = [f"Recommendations for {who} ({_model_words(r)})", ""]
    if len(rec):
        rows = [("rank", "item", "predicted", "score", "ratings")]
        rows += [(str(k), label, table_text(p, 2), table_text(v), f"{c:,}") for k, label, p, v, c in rec.rows(ratings)]
        lines += _table(rows, (True, False, True, True, True))
    else:
        lines.append(f"Nothing to recommend: every item is rated or has fewer than {rec.min_ratings:,} training "
                     f"rating{'s' if rec.min_ratings != 1 else ''}.")
    tastes = ", ".join(f"k{k + 1} {short_text(float(x), True)}" for k, x in enumerate(row.p))
    bias = "" if row.user_bias is None else f"; bias {short_text(row.user_bias, True)}"
    lines += ["", textwrap.fill(f"Tastes: {tastes}{bias}.", 88)]
    if row.note:
        lines.append(textwrap.fill(row.note, 88))
    print("\n".join(lines))
    return EXIT_OK


def similar(argv: Sequence[str]) -> int:
    """``mfstudio similar``: the items (or users) most like one, by cosine or dot product."""
    from mfstudio.core.explain import find_label
    from mfstudio.core.similar import compare

    args = similar_parser().parse_args(list(argv))
    if (args.item is None) == (args.user is None):
        raise UsageError("Give --item I (for similar items) or --user U (for similar users)"
                         + (", not both." if args.item is not None else "."))
    top = _whole(args.top, "--top", 1, "of at least 1")
    s = trained_session(args.results, "similar")
    kind = "item" if args.item is not None else "user"
    labels = s.ratings.items if kind == "item" else s.ratings.users
    k = find_label(labels, args.item if kind == "item" else args.user, kind, f"in {args.results}")
    c = compare(s.result.factors, s.train_entries(), kind, k, top)
    found = c.cosine if args.by == "cosine" else c.dot
    if args.json:
        doc = {kind: labels[k], "by": args.by,
               "similar": [{kind: labels[j], "score": float(v)} for j, v in zip(found.others, found.scores)]}
        print(json.dumps(_json_safe(doc), ensure_ascii=False, indent=2))
        return EXIT_OK
    import textwrap

    from mfstudio.core.numbers import table_text

    lines = [f"{kind.capitalize()}s most like {labels[k]} by {args.by} ({_model_words(s.result)})", ""]
    if len(found):
        rows = [("rank", kind, args.by + "  ")]
        rows += [(str(n + 1), labels[j], table_text(v) + ("  " if known else " *"))  # the numbers stay aligned
                 for n, (j, v, known) in enumerate(zip(found.others, found.scores, found.known))]
        lines += _table(rows, (True, False, True))
    else:
        lines.append(f"There is no other {kind}.")
    if not found.known.all() and found.query_known:
        lines.append("  * no taste vector (no training ratings, or all zeros): it scores 0 and comes last")
    lines += ["", textwrap.fill(c.sentence, 88)]
    print("\n".join(lines))
    return EXIT_OK


def _has_display() -> bool:
    if sys.platform in ("win32", "darwin") or sys.platform.startswith("cygwin"):
        return True
    return any(os.environ.get(v) for v in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"))


def open_window(argv: Sequence[str]) -> int:
    """Plain ``mfstudio [FILE]``: check the file and the display, then start the window.

    A file that cannot be opened is said on stderr and, when there is a display, again in a
    dialog over a window with Example 1 (a desktop launcher shows no stderr). A bare word that
    is no file (``mfstudio trian``) is a mistyped command, refused without a window.
    """
    args = main_parser().parse_args(list(argv))
    path = args.file
    file_problem = None
    if path is not None:
        p = Path(path)
        if not p.exists():
            if not p.suffix and os.sep not in path and "/" not in path:
                raise UsageError(f"There is no file at {path} (to train without the window, run "
                                 "`mfstudio train INPUT --out DIR`); check the name and the folder.")
            file_problem = f"There is no file at {path}; check the name and the folder."
        elif p.is_dir():
            from mfstudio.io.movielens import describe

            try:
                describe(p)  # a folder must be a MovieLens download
            except MFStudioError as exc:
                file_problem = str(exc)
    if not _has_display():
        if file_problem:
            raise UsageError(file_problem)
        raise UsageError("There is no display to open the window on (DISPLAY and WAYLAND_DISPLAY are not set); "
                         "run `mfstudio train INPUT --out DIR` to train without the window.")
    try:
        from mfstudio.gui.app import run
    except ImportError as exc:
        if "PySide6" in str(exc) or "Qt" in str(exc):
            raise UsageError("The window needs PySide6, which cannot be loaded here; install PySide6-Essentials "
                             "or run `mfstudio train INPUT --out DIR` instead.") from None
        raise
    if file_problem:
        print(file_problem, file=sys.stderr)  # and the window's dialog says it over Example 1
    return int(run(path) or 0)


def main(argv: list[str] | None = None) -> int:
    """The ``mfstudio`` entry point; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv and argv[0] == "train":
            return train(argv[1:])
        if argv and argv[0] == "explain":
            return explain(argv[1:])
        if argv and argv[0] == "recommend":
            return recommend(argv[1:])
        if argv and argv[0] == "similar":
            return similar(argv[1:])
        return open_window(argv)
    except SystemExit as exc:  # --help and --version print and stop
        return exc.code if isinstance(exc.code, int) else EXIT_OK
    except MFStudioError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_USAGE
    except MemoryError:
        print("MF Studio ran out of memory; use a smaller K or fewer users and items (nothing was written).",
              file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
