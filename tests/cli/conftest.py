"""Helpers for the command-line tests."""

from __future__ import annotations

from mfstudio import cli


def run(argv: list[str], capsys) -> tuple[int, str, str]:
    """``mfstudio ARGV`` in this process: (exit status, stdout, stderr)."""
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, out, err
