"""The project's own error types: each carries one sentence a user can act on."""


class MFStudioError(Exception):
    """Base of every error a user can cause; ``str(err)`` is the message to show."""


class DataError(MFStudioError, ValueError):
    """The ratings are unusable as given (empty, wrong shape, not numbers, ...)."""


class ParameterError(MFStudioError, ValueError):
    """A solver parameter is missing, of the wrong type or out of range."""


class TrainingError(MFStudioError, RuntimeError):
    """Training could not go on (for example it diverged)."""


class LessonError(MFStudioError, ValueError):
    """A lesson is unusable as given (no pages, a control that cannot be hidden, an unknown view, ...)."""
