"""The export of the Handshake files (scripts/export_csv.py): the warehouse decides,
the export checks that the build can be trusted and writes bytes. One concern per
module: cli (command line), build (is the build complete, passing, fresh),
warehouse (profile, connections), marts (what is read), files (atomic writing),
outputs (the files of a run, the manifest), report (report.html); README "Layout"."""

from __future__ import annotations

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_BUILD = 3
EXIT_MASS_DISABLE = 4
EXIT_DATA = 5
EXIT_WRITE = 6
EXIT_INTERRUPTED = 130


class ExportError(Exception):
    """A problem that stops the export: a one-line message and an exit code."""

    def __init__(self, exit_code: int, message: str) -> None:
        super().__init__(message)
        self.exit_code = exit_code
        self.message = message


def first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__
