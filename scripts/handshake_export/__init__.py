"""The export of the Handshake files from the dbt marts (scripts/export_csv.py).

One concern per module:

- cli: the command line, the order of the steps, the printed summary;
- build: whether the last dbt build is complete, passing and fresh;
- warehouse: the dbt profile and one connect function per connection method;
- marts: what is read from the marts and target/manifest.json;
- files: atomic writing (temporary files 0600, CSV, the split, the rename);
- outputs: the files of a run, manifest.json, and the order they are published in;
- report: report.html, from templates/report.html.j2.

The warehouse decides (every rule, count and verdict is a column of a mart);
the export checks that the build can be trusted, then writes bytes.
"""

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
