"""What the export reads: relations and headers from target/manifest.json,
the run's row of sync_runs, and one query per file.

Every decision is the warehouse's; a file's query selects its columns in its
order. On DuckDB the query renders each CSV line in SQL (rendered_select): at a
million rows, fetching every cell and Python's csv module cost most of the
export; other engines return the cells for Python's csv writer.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

from handshake_export import EXIT_BUILD, EXIT_DATA, ExportError, first_line
from handshake_export.warehouse import Database

MART_MODELS = (
    "sync_runs",
    "sync_users",
    "alumni_updates",
    "import_issues",
    "student_outcomes",
    "password_notices",
)
SETTINGS_COLUMNS = (
    "as_of_date",
    "campus_email_grace_days",
    "alumni_lookback_days",
    "disable_alumni_after_days",
)
# (mart column, Handshake header) in file order; colon headers appear only here.
HANDSHAKE_COLUMNS = (
    ("username", "username"),
    ("email_address", "email_address"),
    ("auth_identifier", "auth_identifier"),
    ("first_name", "first_name"),
    ("last_name", "last_name"),
    ("school_year_name", "school_year_name"),
    ("education_level_name", "primary_education:education_level_name"),
    ("cumulative_gpa", "primary_education:cumulative_gpa"),
    ("major_names", "primary_education:major_names"),
    ("primary_major_name", "primary_education:primary_major_name"),
    ("start_date", "primary_education:start_date"),
    ("end_date", "primary_education:end_date"),
    ("currently_attending", "primary_education:currently_attending"),
    ("disabled", "disabled"),
)
# The report files: (mart, columns, order columns), written with their column names.
REPORT_FILES = {
    "import_issues.csv": (
        "import_issues",
        ("severity", "code", "student_id", "username", "detail"),
        ("student_id", "code_order", "detail"),
    ),
    "student_outcomes.csv": (
        "student_outcomes",
        ("student_id", "username", "outcome", "reason"),
        ("student_id",),
    ),
    "alumni_password_notices.csv": (
        "password_notices",
        ("username", "email_address", "first_name"),
        ("username",),
    ),
}
# A report cell starting with one of these is a spreadsheet formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
MASS_DISABLE_SHARE = Fraction(1, 2)
EMAIL_CHANGE_SHARE = Fraction(1, 10)
TRANSITION_FLAGS = (
    "is_moved_to_alumni",
    "is_returning",
    "is_disabled_by_policy",
    "is_re_enabled",
    "is_end_date_cleared",
)


@dataclass
class Marts:
    """The relation of each mart and the Handshake files' (column, header) pairs."""

    relations: dict[str, str]
    handshake_columns: tuple[tuple[str, str], ...]


def read_marts(project_dir: Path) -> Marts:
    """The marts' relations from target/manifest.json."""
    path = project_dir / "target" / "manifest.json"
    if not path.is_file():
        raise ExportError(EXIT_BUILD, f"{path} not found: run dbt build first")
    try:
        nodes = json.loads(path.read_text(encoding="utf-8"))["nodes"]
        relations = {
            node["name"]: node["relation_name"]
            for node in nodes.values()
            if node.get("resource_type") == "model"
            and node.get("name") in MART_MODELS
            and node.get("relation_name")
        }
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise ExportError(
            EXIT_BUILD, f"cannot read {path} ({first_line(error)}): run dbt build"
        ) from error
    missing = [name for name in MART_MODELS if name not in relations]
    if missing:
        raise ExportError(
            EXIT_DATA,
            f"models missing from target/manifest.json: {', '.join(missing)}; run dbt build first",
        )
    return Marts(relations, HANDSHAKE_COLUMNS)


def check_relations(database: Database, marts: Marts) -> None:
    missing = [name for name in MART_MODELS if not database.has_relation(marts.relations[name])]
    if missing:
        raise ExportError(
            EXIT_DATA,
            f"mart tables missing in the database: {', '.join(missing)}; run dbt build first",
        )


def _json_value(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return str(value)


@dataclass
class Run:
    """The run's row of sync_runs: settings, preflight, counts per outcome and code."""

    settings: dict[str, Any]
    preflight: dict[str, Any]
    outcomes: dict[str, int]
    issues: dict[str, dict[str, int]]
    is_mass_disable: bool

    @property
    def yyyymmdd(self) -> str:
        return str(self.settings["as_of_date"]).replace("-", "")


def _share(part: int, whole: int) -> Fraction:
    return Fraction(part, whole) if whole else Fraction(0)


def read_run(database: Database, marts: Marts) -> Run:
    """The run's settings (dbt vars), preflight and counts."""
    relations = marts.relations
    rows = database.query(f"select {', '.join(SETTINGS_COLUMNS)} from {relations['sync_runs']}")
    if len(rows) != 1:
        raise ExportError(
            EXIT_DATA, f"sync_runs has {len(rows)} rows instead of one: run dbt build"
        )
    settings = {
        name: _json_value(value) for name, value in zip(SETTINGS_COLUMNS, rows[0], strict=True)
    }
    try:
        settings["as_of_date"] = date.fromisoformat(str(settings["as_of_date"])[:10]).isoformat()
    except ValueError as error:
        raise ExportError(EXIT_DATA, "sync_runs.as_of_date is not a date") from error
    sync, changed, disabled, emails = (
        int(count)
        for count in database.query(
            "select count(*),"
            " count(case when is_record_changed then 1 end),"
            " count(case when is_record_changed and is_newly_disabled then 1 end),"
            " count(case when is_email_changed then 1 end)"
            f" from {relations['sync_users']}"
        )[0]
    )
    disabled_share, email_share = _share(disabled, changed), _share(emails, sync)
    mass_disable = changed > 0 and disabled_share >= MASS_DISABLE_SHARE
    preflight = {
        "build_tests": "passed",
        "changed_rows": changed,
        "newly_disabled_rows": disabled,
        "newly_disabled_share": round(float(disabled_share), 4),
        "mass_disable": "allowed" if mass_disable else "ok",
        "sync_rows": sync,
        "email_changes": emails,
        "email_change_share": round(float(email_share), 4),
        "email_change_warning": sync > 0 and email_share >= EMAIL_CHANGE_SHARE,
    }
    outcomes = dict.fromkeys(("exported", "rejected", "skipped"), 0)
    for outcome, count in database.query(
        f"select outcome, count(*) from {relations['student_outcomes']} group by outcome"
    ):
        outcomes[str(outcome)] = int(count)
    issues: dict[str, dict[str, int]] = {"error": {}, "warning": {}}
    for severity, code, count in database.query(
        f"select severity, code, count(*) from {relations['import_issues']} group by severity, code"
    ):
        issues.setdefault(str(severity), {})[str(code)] = int(count)
    return Run(settings, preflight, outcomes, issues, mass_disable)


# ---------------------------------------------------------------------------
# File queries


def _sql_quoted(cell: str) -> str:
    return "('\"' || replace(" + cell + ", '\"', '\"\"') || '\"')"


def csv_line_sql(cells: Sequence[str]) -> str:
    """DuckDB SQL for one CSV line of the text expressions `cells` (no line
    end), byte for byte what files.CsvRowWriter writes for the same cells: a
    cell holding a comma, a double quote or a line feed is quoted; a row with a
    carriage return anywhere is quoted whole. (pytests compare the two.)"""
    if len(cells) < 2:
        raise ValueError("csv_line_sql needs two cells or more (csv quotes a lone empty cell)")
    minimal = [
        f"case when strpos({cell}, ',') > 0 or strpos({cell}, '\"') > 0"
        f" or strpos({cell}, chr(10)) > 0 then {_sql_quoted(cell)} else {cell} end"
        for cell in cells
    ]
    carriage_return = " or ".join(f"strpos({cell}, chr(13)) > 0" for cell in cells)
    separator = " || ',' || "
    quoted_row = separator.join(_sql_quoted(cell) for cell in cells)
    return f"case when {carriage_return} then {quoted_row} else {separator.join(minimal)} end"


def csv_cell_sql(column: str, escape_formulas: bool) -> str:
    """DuckDB SQL for one cell: null as empty text and, in the human reports
    (escape_formulas), report_rows' leading apostrophe."""
    text = f"coalesce(cast({column} as varchar), '')"
    if not escape_formulas:
        return text
    prefixes = ", ".join(f"chr({ord(prefix)})" for prefix in FORMULA_PREFIXES)
    return f"case when left({text}, 1) in ({prefixes}) then '''' || {text} else {text} end"


def report_rows(rows: Iterable[Sequence[Any]]) -> Iterator[list[str]]:
    """Rows of a human report: formula-like cells get a leading apostrophe."""
    prefixes = FORMULA_PREFIXES
    for row in rows:
        cells = ["" if value is None else str(value) for value in row]
        yield [("'" + cell if cell.startswith(prefixes) else cell) for cell in cells]


def rendered_select(
    relation: str, columns: Sequence[str], escape_formulas: bool, order_by: str
) -> str:
    """A query of `relation` whose one column is the CSV line of `columns`."""
    cells = [f"_csv_cell_{number}" for number in range(len(columns))]
    inner = ", ".join(
        f"{csv_cell_sql(column, escape_formulas)} as {cell}"
        for column, cell in zip(columns, cells, strict=True)
    )
    return (
        f"select {csv_line_sql(cells)} from (select *, {inner} from {relation}) as cells"
        f" order by {order_by}"
    )


def file_rows(
    database: Database, relation: str, columns: Sequence[str], order: Sequence[str], report: bool
) -> Iterator[Sequence[Any]]:
    """The rows of a file in code-point order: CSV lines on DuckDB, else cells."""
    order_by = ", ".join(
        column if column == "code_order" else database.byte_order(column) for column in order
    )
    if database.renders_csv_lines:
        return database.stream(rendered_select(relation, columns, report, order_by))
    rows = database.stream(f"select {', '.join(columns)} from {relation} order by {order_by}")
    return report_rows(rows) if report else rows


# ---------------------------------------------------------------------------
# What report.html shows beyond the manifest's counts


def _transitions_sql(marts: Marts) -> str:
    """The alumni update rows with what changes (before the marts carried it)."""
    return (
        "select updates.username, outcomes.student_id, outcomes.reason as outcome_reason,"
        " updates.school_year_name,"
        " coalesce(lower(updates.school_year_name) = 'alumni', false) as is_moved_to_alumni,"
        " coalesce(lower(updates.school_year_name) <> 'alumni', true) as is_returning,"
        " coalesce(updates.disabled = 'TRUE', false) as is_disabled_by_policy,"
        " coalesce(updates.disabled = 'FALSE', false) as is_re_enabled,"
        " coalesce(updates.end_date = '**CLEAR**', false) as is_end_date_cleared"
        f" from {marts.relations['alumni_updates']} as updates"
        f" left join {marts.relations['student_outcomes']} as outcomes"
        " on outcomes.username = updates.username and outcomes.outcome = 'exported'"
    )


def transitions(
    database: Database, marts: Marts, limit: int
) -> tuple[list[tuple[Any, ...]], dict[str, int]]:
    """The first `limit` alumni update rows (username, student_id, outcome_reason,
    school_year_name, TRANSITION_FLAGS) and the count of each flag and of all."""
    source = f"({_transitions_sql(marts)}) as transitions"
    rows = database.query(
        f"select username, student_id, outcome_reason, school_year_name,"
        f" {', '.join(TRANSITION_FLAGS)} from {source}"
        f" order by {database.byte_order('username')} limit {int(limit)}"
    )
    counted = ", ".join(f"count(case when {flag} then 1 end)" for flag in TRANSITION_FLAGS)
    totals = database.query(f"select count(*), {counted} from {source}")[0]
    return rows, dict(zip(("total", *TRANSITION_FLAGS), map(int, totals), strict=True))


def issue_rows(database: Database, marts: Marts, limit: int) -> list[tuple[Any, ...]]:
    """The first `limit` rows of import_issues.csv, as the mart holds them."""
    relation, columns, order = REPORT_FILES["import_issues.csv"]
    order_by = ", ".join(c if c == "code_order" else database.byte_order(c) for c in order)
    return database.query(
        f"select {', '.join(columns)} from {marts.relations[relation]}"
        f" order by {order_by} limit {int(limit)}"
    )
