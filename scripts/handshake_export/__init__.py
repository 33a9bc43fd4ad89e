"""The export of the Handshake files (scripts/export_csv.py), one concern per module:
README "Layout"."""

from __future__ import annotations

EXIT_OK, EXIT_USAGE, EXIT_BUILD, EXIT_MASS_DISABLE = 0, 2, 3, 4
EXIT_DATA, EXIT_WRITE, EXIT_INTERRUPTED = 5, 6, 130


class ExportError(Exception):
    """A problem that stops the export: a one-line message and an exit code."""

    def __init__(self, exit_code: int, message: str) -> None:
        super().__init__(message)
        self.exit_code, self.message = exit_code, message


def first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__
