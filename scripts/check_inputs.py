"""Check the five input files (SPEC section 2) before dbt reads them.

    python scripts/check_inputs.py [DIR]        (default: seeds)

For each file: it exists; it is UTF-8 without a byte order mark; its header has
every required column (extra columns are fine, order is free); every row has as
many fields as the header. Messages name the file, the line and the column,
never a cell's value (the files hold personal data).

Exit codes: 0 all files are fine; 1 problems found (all are listed); 2 usage.
"""

from __future__ import annotations

import argparse
import codecs
import csv
import io
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

# The required columns of each input file; extra columns are ignored by the models.
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "sis_students.csv": (
        "student_id",
        "username",
        "auth_identifier",
        "first_name",
        "last_name",
        "campus_email",
        "personal_email",
        "class_level",
        "education_level",
        "cumulative_gpa",
        "program_start_date",
        "expected_graduation_date",
        "graduation_date",
        "enrollment_status",
        "campus_email_expires_on",
        "sso_enabled",
    ),
    "sis_student_majors.csv": ("student_id", "major_name", "is_primary"),
    "sis_class_levels.csv": ("class_level", "school_year_name"),
    "handshake_users.csv": (
        "username",
        "email_address",
        "school_year_name",
        "primary_education:start_date",
        "primary_education:end_date",
        "primary_education:currently_attending",
        "disabled",
    ),
    "institution_email_domains.csv": ("domain",),
}
DEFAULT_DIRECTORY = "seeds"
# Bad rows listed per file before "and N more".
MAX_ROWS_LISTED = 10


def _decode(path: Path, data: bytes) -> tuple[str | None, list[str]]:
    """The file's text without a BOM, or None when it is not UTF-8."""
    problems: list[str] = []
    if data.startswith(codecs.BOM_UTF8):
        problems.append(
            f"{path}: starts with a UTF-8 byte order mark (BOM), which dbt seed "
            "would read into the first column's name; save it as UTF-8 without BOM "
            "(or remove the first three bytes)"
        )
        data = data[len(codecs.BOM_UTF8) :]
    try:
        return data.decode("utf-8"), problems
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        problems.append(
            f"{path}: line {line}: not UTF-8 (byte 0x{data[error.start]:02X}); "
            "save the file as UTF-8"
        )
        return None, problems


def _missing_columns(path: Path, header: list[str], required: Sequence[str]) -> list[str]:
    problems: list[str] = []
    for column in required:
        if column in header:
            continue
        near = [name for name in header if name.strip().lower() == column]
        hint = f" (found {near[0]!r}: check case and spaces)" if near else ""
        problems.append(f"{path}: missing required column {column!r}{hint}")
    return problems


def _field_count_problem(path: Path, line: int, row: list[str], width: int) -> str:
    if not row:
        return (
            f"{path}: line {line}: blank line (dbt seed would load it as a row of "
            "empty values); delete it"
        )
    return f"{path}: line {line}: {len(row)} fields, the header has {width}"


def _row_problems(path: Path, reader: Any, width: int) -> list[str]:
    """Rows whose field count differs from the header's, by physical line."""
    bad_rows: list[str] = []
    line = reader.line_num + 1  # the line where the next record starts
    try:
        for row in reader:
            if len(row) != width:
                bad_rows.append(_field_count_problem(path, line, row, width))
            line = reader.line_num + 1
    except csv.Error as error:
        malformed = f"{path}: line {line}: malformed CSV ({error}); check its quotes"
    else:
        malformed = None
    problems = bad_rows[:MAX_ROWS_LISTED]
    if len(bad_rows) > MAX_ROWS_LISTED:
        problems.append(
            f"{path}: and {len(bad_rows) - MAX_ROWS_LISTED} more rows with the wrong "
            "number of fields"
        )
    return problems + ([malformed] if malformed else [])


def check_file(path: Path, required: Sequence[str]) -> list[str]:
    """All problems found in one input file (empty when it is fine)."""
    if not path.is_file():
        return [f"{path}: file not found"]
    try:
        data = path.read_bytes()
    except OSError as error:
        return [f"{path}: cannot read ({error.strerror})"]
    text, problems = _decode(path, data)
    if text is None:
        return problems
    # strict: an unclosed quote is an error, not a field running to the end.
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
    except csv.Error as error:
        return [*problems, f"{path}: line 1: malformed CSV header ({error})"]
    if header is None:
        return [*problems, f"{path}: empty file: the header row is missing"]
    problems += _missing_columns(path, header, required)
    return problems + _row_problems(path, reader, len(header))


def check_directory(directory: Path) -> list[str]:
    problems: list[str] = []
    for name, required in REQUIRED_COLUMNS.items():
        problems += check_file(directory / name, required)
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="check_inputs.py",
        description="Check the five input CSV files before dbt reads them.",
        epilog="exit codes: 0 all files fine; 1 problems found; 2 usage",
    )
    parser.add_argument("directory", nargs="?", default=DEFAULT_DIRECTORY, help="default: seeds")
    directory = Path(parser.parse_args(argv).directory)
    problems = check_directory(directory)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(f"check_inputs: {len(problems)} problems in {directory}", file=sys.stderr)
        return 1
    count = len(REQUIRED_COLUMNS)
    print(f"check_inputs: the {count} input files in {directory} are fine")
    return 0


if __name__ == "__main__":
    sys.exit(main())
