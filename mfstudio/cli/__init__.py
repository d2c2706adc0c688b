"""The ``mfstudio`` command: no sub-command opens the window; ``train`` runs headless; ``explain`` takes one
prediction of a trained model apart; ``recommend`` lists the best items for a new person (folded in from a few
ratings) or a user of the data; ``similar`` lists the items (users) most like one; ``sweep`` trains one model per
combination of one or two parameters' values, in parallel, and charts their validation errors.

``mfstudio train`` builds its flags from the parameter declarations (mfstudio.core.params and
the solvers'), so a new parameter appears here (with its help text and range) without touching this file.
Errors a user can cause print one sentence to stderr and exit with status 2.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import mfstudio
from mfstudio.cli.common import (  # noqa: F401  (the names the package has always offered)
    EXIT_BROKEN_PIPE,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    UsageError,
    _Parser,
    flag_name,
    param_specs,
    read_init,
    run_flags,
    solver_params,
)
from mfstudio.cli.explain_command import explain, explain_parser  # noqa: F401
from mfstudio.cli.recommend_command import recommend, recommend_parser  # noqa: F401
from mfstudio.cli.similar_command import similar, similar_parser  # noqa: F401
from mfstudio.cli.sweep_command import sweep, sweep_parser  # noqa: F401
from mfstudio.cli.train_command import train, train_parser  # noqa: F401
from mfstudio.core.errors import MFStudioError

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
  mfstudio sweep ratings.csv --param K=1,2,5,10 --param beta=0.01:1:5log --holdout 0.2 --out sweep
                                             train every combination in parallel, chart the validation RMSE
"""


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
    commands = {"train": train, "explain": explain, "recommend": recommend, "similar": similar, "sweep": sweep}
    try:
        if argv and argv[0] in commands:
            code = commands[argv[0]](argv[1:])
            sys.stdout.flush()  # here, so that a reader gone away (`| head`) is caught below, not at exit
            return code
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
    except BrokenPipeError:  # the reader of stdout went away (`... | head`): stop quietly, as other tools do
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # the interpreter's last flush of stdout must not fail again
        return EXIT_BROKEN_PIPE


if __name__ == "__main__":
    sys.exit(main())
