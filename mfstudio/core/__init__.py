"""The compute core: numpy, numba and the standard library only (no Qt, no matplotlib)."""

from mfstudio.core.errors import DataError, MFStudioError, ParameterError, TrainingError
from mfstudio.core.examples import EXAMPLES, load_example
from mfstudio.core.history import HISTORY_COLUMNS, History
from mfstudio.core.params import RUN_PARAMS, ParamSpec, resolve_run_params
from mfstudio.core.ratings import Observed, Ratings, Split
from mfstudio.core.recommend import Recommendations, recommend
from mfstudio.core.session import RunResult, Session
from mfstudio.core.solvers import SOLVERS, Factors, Solver, get_solver
from mfstudio.core.training import Control, Snapshot, StopReason, Training

__all__ = [
    "DataError", "MFStudioError", "ParameterError", "TrainingError", "EXAMPLES", "load_example",
    "RUN_PARAMS", "resolve_run_params", "Observed", "Ratings", "Split", "Recommendations", "recommend",
    "RunResult", "Session", "SOLVERS", "Factors", "ParamSpec", "Solver", "get_solver", "HISTORY_COLUMNS", "Control",
    "History", "Snapshot", "StopReason", "Training",
]
