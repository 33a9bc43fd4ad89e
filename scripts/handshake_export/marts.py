"""What the export reads: relations and Handshake headers from target/manifest.json,
the run's row of sync_runs, and one query per file.

Every decision is the warehouse's: the preflight figures and verdicts and the
counts are columns of sync_runs and sync_run_issue_counts, the header of each
Handshake column is its `meta: {handshake_header: ...}` in the marts' yml, and
the report marts hold their cells formula-escaped. A file's query selects its
columns in code-point order. On DuckDB it renders each CSV line in SQL
(rendered_select): at a million rows, fetching every cell and Python's csv
module cost most of the export; other engines return cells for csv_text.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from handshake_export import EXIT_BUILD, EXIT_DATA, ExportError, first_line
from handshake_export.warehouse import Database

MODELS = (
    "sync_runs",
    "sync_run_issue_counts",
    "sync_users",
    "alumni_updates",
    "import_issues",
    "student_outcomes",
    "password_notices",
)
SEEDS = ("issue_codes",)
SETTINGS = ("as_of_date", "campus_email_grace_days", "alumni_lookback_days")
SETTINGS += ("disable_alumni_after_days",)
# manifest.json's preflight key -> the column of sync_runs.
PREFLIGHT = {
    "changed_rows": "changed_row_count",
    "newly_disabled_rows": "newly_disabled_row_count",
    "newly_disabled_share": "newly_disabled_share",
    "sync_rows": "sync_row_count",
    "email_changes": "email_change_count",
    "email_change_share": "email_change_share",
    "email_change_warning": "is_email_change_warning",
}
OUTCOMES = {"exported": "exported_count", "rejected": "rejected_count"}
OUTCOMES |= {"skipped": "skipped_count"}
# The report files: (mart, columns, order), written with the column names as header.
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
TRANSITION_FLAGS = ("is_moved_to_alumni", "is_returning", "is_disabled_by_policy")
TRANSITION_FLAGS += ("is_re_enabled", "is_end_date_cleared")


@dataclass
class Marts:
    """The relation of each mart and seed, and the Handshake files' columns:
    (mart column, header) in file order."""

    relations: dict[str, str]
    handshake_columns: list[tuple[str, str]]


def _header(column: dict[str, Any]) -> str | None:
    meta = column.get("meta") or (column.get("config") or {}).get("meta") or {}
    return meta.get("handshake_header")


def read_marts(project_dir: Path) -> Marts:
    """The relations and the Handshake headers of sync_users from target/manifest.json."""
    path = project_dir / "target" / "manifest.json"
    if not path.is_file():
        raise ExportError(EXIT_BUILD, f"{path} not found: run dbt build first")
    try:
        nodes = json.loads(path.read_text(encoding="utf-8"))["nodes"]
        wanted = {("model", name) for name in MODELS} | {("seed", name) for name in SEEDS}
        found = {
            node["name"]: node
            for node in nodes.values()
            if (node.get("resource_type"), node.get("name")) in wanted and node.get("relation_name")
        }
        missing = [name for name in (*MODELS, *SEEDS) if name not in found]
        if missing:
            message = f"models missing from target/manifest.json: {', '.join(missing)}"
            raise ExportError(EXIT_DATA, message + "; run dbt build first")
        columns = (found["sync_users"].get("columns") or {}).values()
        headers = [(column["name"], header) for column in columns if (header := _header(column))]
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        message = f"cannot read {path} ({first_line(error)}): run dbt build"
        raise ExportError(EXIT_BUILD, message) from error
    if not headers:
        raise ExportError(
            EXIT_BUILD, f"{path} names no handshake_header of sync_users: run dbt build"
        )
    return Marts({name: node["relation_name"] for name, node in found.items()}, headers)


def check_relations(database: Database, marts: Marts) -> None:
    missing = [name for name in MODELS if not database.has_relation(marts.relations[name])]
    if missing:
        raise ExportError(
            EXIT_DATA,
            f"mart tables missing in the database: {', '.join(missing)}; run dbt build first",
        )


def _json(value: Any) -> Any:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


@dataclass
class Run:
    """The run's row of sync_runs, as manifest.json records it."""

    settings: dict[str, Any]
    preflight: dict[str, Any]
    outcomes: dict[str, int]
    issues: dict[str, dict[str, int]]
    is_mass_disable: bool

    @property
    def yyyymmdd(self) -> str:
        return str(self.settings["as_of_date"]).replace("-", "")


def read_run(database: Database, marts: Marts) -> Run:
    """Settings, preflight and counts: the one row of sync_runs, the codes raised."""
    columns = [*SETTINGS, *PREFLIGHT.values(), *OUTCOMES.values(), "is_mass_disable"]
    rows = database.query(f"select {', '.join(columns)} from {marts.relations['sync_runs']}")
    if len(rows) != 1:
        raise ExportError(
            EXIT_DATA, f"sync_runs has {len(rows)} rows instead of one: run dbt build"
        )
    row = dict(zip(columns, map(_json, rows[0]), strict=True))
    settings = {name: row[name] for name in SETTINGS}
    try:
        settings["as_of_date"] = date.fromisoformat(str(settings["as_of_date"])[:10]).isoformat()
    except ValueError as error:
        raise ExportError(EXIT_DATA, "sync_runs.as_of_date is not a date") from error
    preflight: dict[str, Any] = {key: row[column] for key, column in PREFLIGHT.items()}
    for key in ("newly_disabled_share", "email_change_share"):
        preflight[key] = float(preflight[key])
    preflight["build_tests"] = "passed"
    preflight["mass_disable"] = "allowed" if row["is_mass_disable"] else "ok"
    issues: dict[str, dict[str, int]] = {"error": {}, "warning": {}}
    for severity, code, count in database.query(
        f"select severity, code, issue_count from {marts.relations['sync_run_issue_counts']}"
    ):
        issues.setdefault(str(severity), {})[str(code)] = int(count)
    outcomes = {key: int(row[column]) for key, column in OUTCOMES.items()}
    return Run(settings, preflight, outcomes, issues, bool(row["is_mass_disable"]))


def _sql_quoted(cell: str) -> str:
    return "('\"' || replace(" + cell + ", '\"', '\"\"') || '\"')"


def csv_line_sql(cells: Sequence[str]) -> str:
    """DuckDB SQL for one CSV line of the text expressions `cells` (no line
    end), byte for byte what files.csv_text writes for the same cells: a cell
    holding a comma, a double quote or a line feed is quoted; a row with a
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


def rendered_select(relation: str, columns: Sequence[str], order_by: str) -> str:
    """A query of `relation` whose one column is the CSV line of `columns`."""
    cells = [f"_csv_cell_{number}" for number in range(len(columns))]
    inner = ", ".join(
        f"coalesce(cast({column} as varchar), '') as {cell}"
        for column, cell in zip(columns, cells, strict=True)
    )
    return (
        f"select {csv_line_sql(cells)} from (select *, {inner} from {relation}) as cells"
        f" order by {order_by}"
    )


def _order_by(database: Database, order: Sequence[str]) -> str:
    return ", ".join(c if c == "code_order" else database.byte_order(c) for c in order)


def file_rows(
    database: Database, relation: str, columns: Sequence[str], order: Sequence[str]
) -> Iterator[Sequence[Any]]:
    """The rows of a file in code-point order: CSV lines on DuckDB, else cells."""
    order_by = _order_by(database, order)
    if database.renders_csv_lines:
        return database.stream(rendered_select(relation, columns, order_by))
    return database.stream(f"select {', '.join(columns)} from {relation} order by {order_by}")


def report_rows(database: Database, marts: Marts, limit: int) -> dict[str, Any]:
    """What report.html shows beyond the manifest: the codes raised (in the
    spec's order) with their advice, the first `limit` alumni updates and
    import issues, and the count of each kind of transition."""
    relations = marts.relations
    updates = relations["alumni_updates"]
    relation, columns, order = REPORT_FILES["import_issues.csv"]
    counted = ", ".join(f"count(case when {flag} then 1 end)" for flag in TRANSITION_FLAGS)
    totals = database.query(f"select count(*), {counted} from {updates}")[0]
    return {
        "codes": database.query(
            "select counts.severity, counts.code, counts.issue_count, codes.advice"
            f" from {relations['sync_run_issue_counts']} as counts"
            f" left join {relations['issue_codes']} as codes on codes.code = counts.code"
            f" order by counts.sort_order, {database.byte_order('counts.code')}"
        ),
        "transitions": database.query(
            "select username, student_id, outcome_reason, school_year_name,"
            f" {', '.join(TRANSITION_FLAGS)} from {updates}"
            f" order by {database.byte_order('username')} limit {int(limit)}"
        ),
        "transition_counts": dict(zip(("total", *TRANSITION_FLAGS), map(int, totals), strict=True)),
        "issues": database.query(
            f"select {', '.join(columns)} from {relations[relation]}"
            f" order by {_order_by(database, order)} limit {int(limit)}"
        ),
    }
