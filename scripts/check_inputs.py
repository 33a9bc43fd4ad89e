"""Check the five input files (SPEC section 2) before dbt reads them: README "Input files"
(exit codes in --help)."""

from __future__ import annotations

import argparse
import codecs
import csv
import io
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

# The required columns of each input file; extra columns are ignored by the models.
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    name: tuple(columns.split())
    for name, columns in {
        "sis_students.csv": "student_id username auth_identifier first_name last_name"
        " campus_email personal_email class_level education_level cumulative_gpa"
        " program_start_date expected_graduation_date graduation_date enrollment_status"
        " campus_email_expires_on sso_enabled",
        "sis_student_majors.csv": "student_id major_name is_primary",
        "sis_class_levels.csv": "class_level school_year_name",
        "handshake_users.csv": "username email_address school_year_name"
        " primary_education:start_date primary_education:end_date"
        " primary_education:currently_attending disabled",
        "institution_email_domains.csv": "domain",
    }.items()
}
DEFAULT_DIRECTORY = "seeds"
MAX_ROWS_LISTED = 10  # bad rows (and warnings) listed per file before "and N more"
# dbt seed's agate loader (PostgreSQL, Spark) loads a text cell that reads null (trimmed,
# any case) as NULL; DuckDB (dbt-duckdb's seed COPY and raw_data_dir's read_csv) keeps it.
SEED_NULL_TEXTS = frozenset({"null"})
NULL_WARNING = "an empty cell for dbt seed on PostgreSQL and Spark but the text NULL on DuckDB;"
NULL_WARNING += " leave blank cells empty"


def _decode(path: Path, data: bytes) -> tuple[str | None, list[str]]:
    """The file's text without a BOM (Excel's "CSV UTF-8" writes one; dbt seed and
    DuckDB skip it), or None and the problem when it is not UTF-8."""
    data = data.removeprefix(codecs.BOM_UTF8)
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        byte = f"byte 0x{data[error.start]:02X}"
        return None, [f"{path}: line {line}: not UTF-8 ({byte}); save the file as UTF-8"]


def _missing_columns(path: Path, header: list[str], required: Sequence[str]) -> list[str]:
    problems = [
        f"{path}: column {name!r} appears {count} times in the header; keep one"
        for name, count in Counter(header).items()
        if count > 1 and name in required
    ]
    for column in [column for column in required if column not in header]:
        near = [name for name in header if name.strip().lower() == column]
        hint = f" (found {near[0]!r}: check case and spaces)" if near else ""
        problems.append(f"{path}: missing required column {column!r}{hint}")
    return problems


def _listed(path: Path, lines: list[str], what: str) -> list[str]:
    """At most MAX_ROWS_LISTED lines, then a count of the rest."""
    if len(lines) <= MAX_ROWS_LISTED:
        return lines
    return [*lines[:MAX_ROWS_LISTED], f"{path}: and {len(lines) - MAX_ROWS_LISTED} more {what}"]


def _row_problems(
    path: Path, reader: Any, header: list[str], warnings: list[str] | None = None
) -> list[str]:
    """Rows whose field count differs from the header's; cells that read null: `warnings`."""
    width, bad_rows, null_rows, malformed = len(header), [], [], []
    line = reader.line_num + 1  # the line where the next record starts
    try:
        for row in reader:
            if not row:
                blank = "blank line (dbt seed would load it as a row of empty values); delete it"
                bad_rows.append(f"{path}: line {line}: {blank}")
            elif len(row) != width:
                bad_rows.append(f"{path}: line {line}: {len(row)} fields, the header has {width}")
            cells = zip(header, row, strict=False)
            if nulls := ", ".join(
                n for n, cell in cells if cell.strip().lower() in SEED_NULL_TEXTS
            ):
                null_rows.append(
                    f"{path}: line {line}: warning: {nulls} reads NULL, {NULL_WARNING}"
                )
            line = reader.line_num + 1
    except csv.Error as error:
        malformed = [f"{path}: line {line}: malformed CSV ({error}); check its quotes"]
    if warnings is not None:
        warnings += _listed(path, null_rows, "rows with cells that read NULL")
    return _listed(path, bad_rows, "rows with the wrong number of fields") + malformed


def check_file(path: Path, required: Sequence[str], warnings: list[str] | None = None) -> list[str]:
    """The problems of one input file (none when it is fine); warnings go to `warnings`."""
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
    return problems + _row_problems(path, reader, header, warnings)


def raw_data_dir(variables: str | None) -> str | None:
    """The raw_data_dir of dbt's --vars (YAML or JSON), if it sets one."""
    if not variables:
        return None
    try:
        parsed = yaml.safe_load(variables)
    except yaml.YAMLError as error:
        raise ValueError(f"--vars is not YAML or JSON ({error.__class__.__name__})") from error
    if not isinstance(parsed, dict) or not parsed.get("raw_data_dir"):
        return None
    return str(parsed["raw_data_dir"])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="check_inputs.py",
        description="Check the five input CSV files before dbt reads them.",
        epilog="exit codes: 0 all files fine (warnings allowed); 1 problems found; 2 usage",
    )
    parser.add_argument("directory", nargs="?", default=DEFAULT_DIRECTORY, help="default: seeds")
    parser.add_argument(
        "--vars",
        help="dbt's --vars; when they set raw_data_dir, that folder is checked instead",
    )
    args = parser.parse_args(argv)
    try:
        directory = Path(raw_data_dir(args.vars) or args.directory)
    except ValueError as error:
        print(f"check_inputs: {error}", file=sys.stderr)
        return 2
    warnings: list[str] = []
    problems = [
        problem
        for name, required in REQUIRED_COLUMNS.items()
        for problem in check_file(directory / name, required, warnings)
    ]
    for line in warnings + problems:
        print(line, file=sys.stderr)
    if problems:
        print(f"check_inputs: {len(problems)} problems in {directory}", file=sys.stderr)
        return 1
    print(f"check_inputs: the {len(REQUIRED_COLUMNS)} input files in {directory} are fine")
    return 0


if __name__ == "__main__":
    sys.exit(main())
