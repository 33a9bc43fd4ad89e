"""What the export reads from target/manifest.json and the marts (README "Layout"); on
DuckDB each CSV line is rendered in SQL, the fastest way at a million rows."""

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

MODELS = ["sync_runs", "sync_run_issue_counts", "sync_run_changes", "sync_users", "alumni_updates"]
MODELS += ["import_issues", "student_outcomes", "password_notices"]
SEEDS = ["issue_codes"]
SETTINGS = "as_of_date campus_email_grace_days alumni_lookback_days disable_alumni_after_days"
# manifest.json's preflight key: the column of sync_runs.
PREFLIGHT = {
    "changed_rows": "changed_row_count",
    "newly_disabled_rows": "newly_disabled_row_count",
    "newly_disabled_share": "newly_disabled_share",
    "sync_rows": "sync_row_count",
    "email_changes": "email_change_count",
    "email_change_share": "email_change_share",
    "email_change_warning": "is_email_change_warning",
}
OUTCOMES = {"exported": "exported_count", "rejected": "rejected_count", "skipped": "skipped_count"}
# The report files: mart, columns (the file's header); their order (else by username).
REPORT_FILES = {
    "import_issues.csv": ("import_issues", "severity code student_id username detail"),
    "student_outcomes.csv": ("student_outcomes", "student_id username outcome reason"),
    "alumni_password_notices.csv": ("password_notices", "username email_address first_name"),
}
REPORT_ORDER = {"import_issues": "student_id code_order detail", "student_outcomes": "student_id"}
TRANSITION_FLAGS = "is_moved_to_alumni is_returning is_disabled_by_policy is_re_enabled"
TRANSITION_FLAGS += " is_end_date_cleared"
CHANGES = "previous_as_of_date previous_build_number moved_to_alumni_count newly_rejected_count"
CHANGES += " fixed_count email_changed_count"
NOT_APPLIED = "not_applied_by_handshake"


@dataclass
class Marts:
    """Each mart's and seed's relation; the Handshake files' (column, header) pairs."""

    relations: dict[str, str]
    handshake_columns: list[tuple[str, str]]
    seed_files: dict[str, str]  # file name: its path in the project (original_file_path)


def read_marts(project_dir: Path) -> Marts:
    """The relations, and the headers of sync_users' columns, from target/manifest.json."""
    path = project_dir / "target" / "manifest.json"
    if not path.is_file():
        raise ExportError(EXIT_BUILD, f"{path} not found: run dbt build first")
    try:
        nodes = json.loads(path.read_text(encoding="utf-8"))["nodes"].values()
        seeds = [node["original_file_path"] for node in nodes if node["resource_type"] == "seed"]
        found = {
            node["name"]: node
            for node in nodes
            if node.get("relation_name")
            and node["name"] in (SEEDS if node["resource_type"] == "seed" else MODELS)
        }
        metas = [
            (c, c.get("meta") or c.get("config", {}).get("meta") or {})
            for c in found.get("sync_users", {}).get("columns", {}).values()
        ]
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        message = f"cannot read {path} ({first_line(error)}): run dbt build"
        raise ExportError(EXIT_BUILD, message) from error
    if missing := ", ".join(name for name in (*MODELS, *SEEDS) if name not in found):
        message = f"models missing from target/manifest.json: {missing}; run dbt build first"
        raise ExportError(EXIT_DATA, message)
    headers = [
        (c["name"], meta["handshake_header"]) for c, meta in metas if "handshake_header" in meta
    ]
    if not headers:
        raise ExportError(EXIT_BUILD, f"{path} gives sync_users no handshake_header: run dbt build")
    relations = {name: node["relation_name"] for name, node in found.items()}
    return Marts(relations, headers, {Path(seed).name: seed for seed in seeds})


def check_relations(database: Database, marts: Marts) -> None:
    if missing := [name for name in MODELS if not database.has_relation(marts.relations[name])]:
        message = f"mart tables missing in the database: {', '.join(missing)}; run dbt build first"
        raise ExportError(EXIT_DATA, message)


def _json(value: Any) -> Any:
    if isinstance(value, (date, datetime)):
        return value.isoformat()[:10]
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def read_run(database: Database, marts: Marts) -> dict[str, Any]:
    """manifest.json but its files, from the one row of sync_runs and the issue counts."""
    columns = [*SETTINGS.split(), *PREFLIGHT.values(), *OUTCOMES.values(), "is_mass_disable"]
    rows = database.query(f"select {', '.join(columns)} from {marts.relations['sync_runs']}")
    if len(rows) != 1:
        raise ExportError(
            EXIT_DATA, f"sync_runs has {len(rows)} rows instead of one: run dbt build"
        )
    row = dict(zip(columns, map(_json, rows[0]), strict=True))
    preflight = {key: row[column] for key, column in PREFLIGHT.items()}
    for share in ("newly_disabled_share", "email_change_share"):
        preflight[share] = float(preflight[share])
    preflight["build_tests"] = "passed"
    preflight["mass_disable"] = "allowed" if row["is_mass_disable"] else "ok"
    issues: dict[str, dict[str, int]] = {"error": {}, "warning": {}}
    counts = f"select severity, code, issue_count from {marts.relations['sync_run_issue_counts']}"
    for severity, code, count in database.query(counts):
        issues.setdefault(severity, {})[code] = int(count)
    return {
        "as_of_date": row["as_of_date"],
        "issues": issues,
        "outcomes": {key: int(row[column]) for key, column in OUTCOMES.items()},
        "preflight": preflight,
        "settings": {name: row[name] for name in SETTINGS.split()},
    }


def _quoted(cell: str) -> str:
    return "('\"' || replace(" + cell + ", '\"', '\"\"') || '\"')"


def csv_line_sql(cells: Sequence[str]) -> str:
    """DuckDB SQL for one CSV line (no line end) of the text expressions `cells`, byte for byte
    files.csv_text's (pytests compare the two)."""
    if len(cells) < 2:
        raise ValueError("csv_line_sql needs two cells or more (csv quotes a lone empty cell)")
    minimal = [
        f"case when strpos({cell}, ',') > 0 or strpos({cell}, '\"') > 0"
        f" or strpos({cell}, chr(10)) > 0 then {_quoted(cell)} else {cell} end"
        for cell in cells
    ]
    carriage_return = " or ".join(f"strpos({cell}, chr(13)) > 0" for cell in cells)
    separator = " || ',' || "
    quoted = separator.join(_quoted(cell) for cell in cells)
    return f"case when {carriage_return} then {quoted} else {separator.join(minimal)} end"


def rendered_select(relation: str, columns: Sequence[str], order_by: str) -> str:
    """A query of `relation` whose one column is the CSV line of `columns`."""
    cells = [f"_csv_cell_{number}" for number in range(len(columns))]
    inner = ", ".join(
        f"coalesce(cast({column} as varchar), '') as {cell}"
        for column, cell in zip(columns, cells, strict=True)
    )
    return (
        f"select {csv_line_sql(cells)} from (select *, {inner} from {relation}) order by {order_by}"
    )


def file_rows(
    database: Database, relation: str, columns: Sequence[str], order: str
) -> Iterator[Any]:
    """A file's rows in code-point order: CSV lines on a database that renders them, else cells."""
    order_by = ", ".join(c if c == "code_order" else database.byte_order(c) for c in order.split())
    if database.renders_csv_lines:
        return database.stream(rendered_select(relation, columns, order_by))
    return database.stream(f"select {', '.join(columns)} from {relation} order by {order_by}")


def report_rows(database: Database, marts: Marts, limit: int) -> dict[str, Any]:
    """What report.html shows beyond the manifest (the first `limit` rows of each table;
    changes: None before a previous run)."""
    relations, flags, by = marts.relations, TRANSITION_FLAGS.split(), database.byte_order
    updates, limit, columns = relations["alumni_updates"], int(limit), CHANGES.split()
    counted = ", ".join(f"count(case when {flag} then 1 end)" for flag in flags)
    totals = database.query(f"select count(*), {counted} from {updates}")[0]
    transitions = f"username, student_id, outcome_reason, school_year_name, {', '.join(flags)}"
    issues = ", ".join(REPORT_FILES["import_issues.csv"][1].split())
    thresholds = "mass_disable_threshold, email_change_threshold"
    changes = database.query(f"select {', '.join(columns)} from {relations['sync_run_changes']}")
    issue_order = f"{by('student_id')}, code_order, {by('detail')}"
    previous = len(changes) == 1 and changes[0][2] is not None
    return {
        "changes": dict(zip(columns, map(_json, changes[0]), strict=True)) if previous else None,
        "not_applied": database.query(
            f"select student_id, username, detail from {relations['import_issues']}"
            f" where code = '{NOT_APPLIED}' order by {issue_order} limit {limit}"
        ),
        "thresholds": database.query(f"select {thresholds} from {relations['sync_runs']}")[0],
        "codes": database.query(
            "select counts.severity, counts.code, counts.issue_count, codes.advice"
            f" from {relations['sync_run_issue_counts']} as counts"
            f" left join {relations['issue_codes']} as codes on codes.code = counts.code"
            f" order by counts.sort_order, {by('counts.code')}"
        ),
        "transitions": database.query(
            f"select {transitions} from {updates} order by {by('username')} limit {limit}"
        ),
        "transition_counts": dict(zip(("total", *flags), map(int, totals), strict=True)),
        "issues": database.query(
            f"select {issues} from {relations['import_issues']} order by {issue_order}"
            f" limit {limit}"
        ),
    }
