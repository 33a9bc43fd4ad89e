"""Whether the last dbt build can be trusted, else exit 3 (README "Layout", "Robustness"):
build_log, target/run_results.json, build_inputs, logs/dbt.log. Also export_log."""

from __future__ import annotations

import hashlib
import json
import os
import re
from datetime import date
from pathlib import Path
from typing import Any

from handshake_export import EXIT_BUILD, ExportError, warehouse
from handshake_export.marts import Marts
from handshake_export.warehouse import Database

# dbt run_results statuses that mean the build did not fully succeed.
FAILED_STATUSES = {"error", "fail", "runtime error", "skipped", "partial success"}
MAX_NAMED_FAILURES = 10
AGAIN = "run dbt build again (nothing was written)"
NO_TESTS = f"which runs no tests: {AGAIN}"
MISMATCH = f"so the tables may not match today's project or inputs: fix it and {AGAIN}"
SELECT = "(a build with --select): run a full dbt build (nothing was written)"
UNFINISHED = f"it was interrupted, or is still running; {AGAIN}"
# dbt commands whose failure leaves the tables (or target/) unlike a passing build.
TABLE_COMMANDS = {"build", "run", "seed", "snapshot", "retry", "clone"}
RESOURCE_REPORT = re.compile(r"Resource report: (\{.*\})")
ARGUMENTS = re.compile(r"running dbt with arguments .*'target_path': '([^']*)'")


def _refuse(message: str) -> None:
    raise ExportError(EXIT_BUILD, message)


def beside(sync_runs_relation: str, table: str) -> str:
    """A table beside sync_runs, quoted alike (macros/hooks/build_log_relation.sql)."""
    schema, dot, name = sync_runs_relation.rpartition(".")
    quote = name[0] if name[:1] in ('"', "`") else ""
    return f"{schema}{dot}{quote}{table}{quote}"


def check_build(project_dir: Path, database: Database, marts: Marts) -> int:
    """The number of the last build (build_log) once it is trusted; else exit 3."""
    log = beside(marts.relations["sync_runs"], "build_log")
    rows = database.has_relation(log) and database.query(
        "select build_number, invocation_id, command, finished_at is not null,"
        f" coalesce(failed_nodes, 0), models_built, models_total from {log}"
        " order by build_number desc limit 1"
    )
    if not rows:
        _refuse("no dbt build is recorded in the database: run dbt build first")
    number, invocation_id, command, finished, failed, built, total = rows[0]
    if command != "build":
        _refuse(f"the tables were last changed by dbt {command} (build log #{number}), {NO_TESTS}")
    if not finished:
        _refuse(f"the last dbt build (build log #{number}) did not finish: {UNFINISHED}")
    failing = _failing_in_run_results(project_dir, str(invocation_id))
    if failed or failing:
        named = ", ".join(failing[:MAX_NAMED_FAILURES])
        if len(failing) > MAX_NAMED_FAILURES:
            named += f" and {len(failing) - MAX_NAMED_FAILURES} more"
        count, named = max(int(failed), len(failing)), f": {named}" if named else ""
        _refuse(
            f"the last dbt build had {count} failing or skipped nodes{named}; fix them and {AGAIN}"
        )
    if total is None or built is None or built < total:
        _refuse(f"the last dbt build built {built} of the {total} models {SELECT}")
    _check_inputs(project_dir, database, marts, number)
    _check_later_failures(project_dir, str(invocation_id), number)
    return int(number)


def _failing_in_run_results(project_dir: Path, invocation_id: str) -> list[str]:
    """The failing nodes run_results.json names when it is this build's (dbt docs generate,
    dbt compile and Ctrl-C'd commands rewrite it too)."""
    try:
        artifact = json.loads((project_dir / "target" / "run_results.json").read_text("utf-8"))
        if artifact["metadata"]["invocation_id"] != invocation_id:
            return []
        statuses = [(str(r.get("unique_id", "?")), r.get("status")) for r in artifact["results"]]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return []
    return [node for node, status in statuses if str(status).lower() in FAILED_STATUSES]


def _checksum(path: Path, method: str | None) -> str:
    """sha256 of the file, or (dbt_seed_checksum) of its UTF-8 text stripped, as dbt's."""
    if method == "dbt_seed_checksum":
        text = path.read_bytes().decode("utf-8", errors="replace").strip()
        return hashlib.sha256(text.encode("utf-8")).hexdigest()
    return sha256_of(path)


def sha256_of(path: Path) -> str:
    with path.open("rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


def record(
    database: Database | None, target: dict[str, Any], marts: Marts, row: tuple[int, str, str, Path]
) -> None:
    """Append to export_log (macros/hooks/create_export_log.sql) the build number, as_of_date,
    event (exported, delivered) and the sha256 of manifest.json, which deliver.py compares."""
    log = beside(marts.relations["sync_runs"], "export_log")
    number, as_of_date, event, manifest = row
    values = f"{int(number)}, date '{date.fromisoformat(as_of_date)}'"
    values += f", '{event}', current_timestamp, '{sha256_of(manifest)}'"
    warehouse.append(database, target, f"insert into {log} select {values}")


def _check_inputs(project_dir: Path, database: Database, marts: Marts, number: int) -> None:
    """Each input unchanged. A seed is this project's file when it has one (dbt records an
    absolute path, maybe of a copy of the project), else the recorded one (benchmarks/run.py)."""
    relation = beside(marts.relations["sync_runs"], "build_inputs")
    if not database.has_relation(relation):
        return
    for name, where, size, sha256, method, row_count in database.query(
        "select input_name, path, size_bytes, sha256, checksum_method, row_count"
        f" from {relation} where build_number = {int(number)} order by input_name"
    ):
        if not where:
            continue
        seed = marts.seed_files.get(name)
        path = project_dir / seed if seed and str(where).endswith(seed) else None
        path = path if path is not None and path.exists() else project_dir / str(where)
        if size is None and method is None:  # a relation of sis_schema / handshake_schema
            count = None if path.exists() or row_count is None else int(row_count)
            changed = (
                count is not None and database.query(f"select count(*) from {where}")[0][0] != count
            )
        elif not path.is_file():
            _refuse(f"the input {name} that the last build read is missing ({path}): {AGAIN}")
        else:
            changed = (size is not None and path.stat().st_size != int(size)) or (
                sha256 is not None and _checksum(path, method) != str(sha256)
            )
        if changed:
            _refuse(f"the input {name} changed since the last build (build log #{number}): {AGAIN}")


def _check_later_failures(project_dir: Path, invocation_id: str, number: int) -> None:
    """dbt.log after the last line naming the build's invocation id (in its hooks' SQL): each
    invocation logs its arguments first (only target/ counts) and its Resource report last."""
    path = Path(os.environ.get("DBT_LOG_PATH") or project_dir / "logs") / "dbt.log"
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return
    target_path = "None"
    for line in text[max(text.rfind(invocation_id), 0) :].splitlines():
        if arguments := ARGUMENTS.search(line):
            target_path = arguments.group(1)
        elif (report := RESOURCE_REPORT.search(line)) and target_path in ("None", "target"):
            try:
                result = json.loads(report.group(1))
            except ValueError:
                continue
            command = result.get("command_name")
            if command in TABLE_COMMANDS and result.get("command_success") is False:
                where = f"(build log #{number}; {path})"
                _refuse(f"dbt {command} failed after the last complete build {where}, {MISMATCH}")
