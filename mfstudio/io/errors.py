"""The error type of file reading and writing: one sentence saying what is wrong and what to do."""

from __future__ import annotations

from mfstudio.core.errors import MFStudioError


class FileFormatError(MFStudioError, ValueError):
    """A file cannot be read or written as asked; ``str(err)`` is the message to show."""


def describe_os_error(exc: OSError, path: object, doing: str) -> str:
    """One sentence for an OSError met while ``doing`` ("read", "write") ``path``."""
    reason = exc.strerror or exc.__class__.__name__
    hint = {
        "read": "check the path and that you may read the file",
        "write": "choose another folder, check its permissions or free some space",
    }.get(doing, "check the path")
    return f"Could not {doing} {path} ({reason}); {hint}."
