"""The solvers, by name: ``sgd`` (the notebook's), ``als``, ``biased-sgd``, ``nmf`` and ``implicit-als``."""

from __future__ import annotations

from mfstudio.core.errors import ParameterError
from mfstudio.core.params import ParamSpec  # public here too, as it always was
from mfstudio.core.solvers.als import ALSSolver
from mfstudio.core.solvers.base import Factors, Solver
from mfstudio.core.solvers.biased_sgd import BiasedSGDSolver
from mfstudio.core.solvers.implicit_als import ImplicitALSSolver
from mfstudio.core.solvers.nmf import NMFSolver
from mfstudio.core.solvers.sgd import SGDSolver

SOLVERS: dict[str, type[Solver]] = {
    s.name: s for s in (SGDSolver, ALSSolver, BiasedSGDSolver, NMFSolver, ImplicitALSSolver)
}


def get_solver(name: str) -> type[Solver]:
    """The solver class called ``name``; a clear error for an unknown name."""
    try:
        return SOLVERS[name]
    except KeyError:
        raise ParameterError(f"There is no solver called {name!r}; choose one of {', '.join(SOLVERS)}.") from None


__all__ = ["SOLVERS", "get_solver", "Solver", "Factors", "ParamSpec"]
