"""Whether the last dbt build can be trusted: complete, passing and fresh.

- the build log (a table beside the marts, written by the on-run-start and
  on-run-end hooks, macros/hooks/record_build_*.sql) names the last dbt command
  that changed the tables: it must be a finished `dbt build` of every model
  without failing nodes (target/run_results.json names them);
- logs/dbt.log: no dbt build, run, seed, snapshot, retry or clone failed after
  it (a failure while parsing, e.g. a seed that is not UTF-8, runs no hook and
  leaves target/ as it was; dbt.log is the one trace it leaves);
- build_inputs (beside the build log, macros/hooks/record_build_inputs.sql):
  each input file the build read has the same size and checksum today, and
  each warehouse source relation the same row count.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any

from handshake_export import EXIT_BUILD, ExportError
from handshake_export.warehouse import Database

# dbt run_results statuses that mean the build did not fully succeed.
FAILED_STATUSES = frozenset({"error", "fail", "runtime error", "skipped", "partial success"})
MAX_NAMED_FAILURES = 10
AGAIN = "run dbt build again (nothing was written)"
# dbt commands whose failure leaves the tables (or target/) unlike a passing build.
TABLE_COMMANDS = frozenset({"build", "run", "seed", "snapshot", "retry", "clone"})
RESOURCE_REPORT = re.compile(r"Resource report: (\{.*\})")
ARGUMENTS = re.compile(r"running dbt with arguments .*'target_path': '([^']*)'")


def beside(sync_runs_relation: str, table: str) -> str:
    """A table beside sync_runs, quoted alike (macros/hooks/build_log_relation.sql)."""
    schema, dot, name = sync_runs_relation.rpartition(".")
    quote = name[0] if name[:1] in ('"', "`") else ""
    return f"{schema}{dot}{quote}{table}{quote}"


def _failing_in_run_results(project_dir: Path, invocation_id: str) -> list[str]:
    """The failing nodes that target/run_results.json names, when it is the
    record of this dbt invocation (`dbt docs generate`, `dbt compile` and
    Ctrl-C'd commands rewrite it too); else none."""
    try:
        artifact = json.loads((project_dir / "target" / "run_results.json").read_text("utf-8"))
        if artifact["metadata"]["invocation_id"] != invocation_id:
            return []
        results = list(artifact["results"])
    except (OSError, ValueError, KeyError, TypeError):
        return []
    return [
        str(result.get("unique_id", "?"))
        for result in results
        if str(result.get("status", "")).lower() in FAILED_STATUSES
    ]


def check_build(project_dir: Path, database: Database, relations: dict[str, str]) -> None:
    """Refuse (exit 3, nothing written) unless the last build is complete,
    passing and fresh (this module's docstring says how each is known)."""
    log = beside(relations["sync_runs"], "build_log")
    rows: list[tuple[Any, ...]] = []
    if database.has_relation(log):
        rows = database.query(
            "select build_number, invocation_id, command, finished_at is not null,"
            f" coalesce(failed_nodes, 0), models_built, models_total from {log}"
            " order by build_number desc limit 1"
        )
    if not rows:
        raise ExportError(
            EXIT_BUILD, "no dbt build is recorded in the database: run dbt build first"
        )
    number, invocation_id, command, finished, failed, built, total = rows[0]
    if command != "build":
        _refuse(
            f"the tables were last changed by dbt {command} (build log #{number}), "
            f"which runs no tests: {AGAIN}"
        )
    if not finished:
        _refuse(
            f"the last dbt build (build log #{number}) did not finish: it was "
            f"interrupted, or is still running; {AGAIN}"
        )
    failing = _failing_in_run_results(project_dir, str(invocation_id))
    if failed or failing:
        named = ", ".join(failing[:MAX_NAMED_FAILURES])
        if len(failing) > MAX_NAMED_FAILURES:
            named += f" and {len(failing) - MAX_NAMED_FAILURES} more"
        _refuse(
            f"the last dbt build had {max(int(failed), len(failing))} failing or skipped "
            f"nodes{': ' + named if named else ''}; fix them and {AGAIN}"
        )
    if total is None or built is None or built < total:
        _refuse(
            f"the last dbt build built {built} of the {total} models (a build with "
            "--select): run a full dbt build (nothing was written)"
        )
    _check_inputs(project_dir, database, beside(relations["sync_runs"], "build_inputs"), number)
    _check_later_failures(project_dir, str(invocation_id), number)


def _refuse(message: str) -> None:
    raise ExportError(EXIT_BUILD, message)


def _check_later_failures(project_dir: Path, invocation_id: str, number: int) -> None:
    """Refuse when logs/dbt.log ($DBT_LOG_PATH/dbt.log) records a dbt command of
    TABLE_COMMANDS, writing to the default target/, that failed after the
    build (after the last line naming its invocation id, which the build log
    hooks' SQL holds). Each dbt invocation logs its arguments first and its
    `Resource report` (command_name, command_success) last."""
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
                command, success = (
                    json.loads(report.group(1))[key] for key in ("command_name", "command_success")
                )
            except (ValueError, KeyError, TypeError):
                continue
            if command in TABLE_COMMANDS and success is False:
                _refuse(
                    f"dbt {command} failed after the last complete build (build log "
                    f"#{number}; {path}), so the tables may not match today's project or "
                    f"inputs: fix it and {AGAIN}"
                )


def _checksum(path: Path, method: str | None) -> str:
    """sha256 of the file's bytes, or (dbt_seed_checksum) dbt's checksum of a
    seed: sha256 of its UTF-8 text with surrounding whitespace stripped."""
    if method == "dbt_seed_checksum":
        text = path.read_bytes().decode("utf-8", errors="replace").strip()
        return hashlib.sha256(text.encode("utf-8")).hexdigest()
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _changed(project_dir: Path, database: Database, row: tuple[Any, ...]) -> bool:
    """Whether an input differs from the build's record of it: a file's size
    and checksum, or a warehouse relation's row count."""
    name, where, size, sha256, method, row_count = row
    path = project_dir / str(where)
    if size is None and method is None:  # a relation of sis_schema / handshake_schema
        if row_count is None or path.exists():
            return False
        return int(database.query(f"select count(*) from {where}")[0][0]) != int(row_count)
    if not path.is_file():
        _refuse(f"the input {name} that the last build read is missing ({path}): {AGAIN}")
    if size is not None and path.stat().st_size != int(size):
        return True
    return sha256 is not None and _checksum(path, method) != str(sha256)


def _check_inputs(project_dir: Path, database: Database, relation: str, number: int) -> None:
    """Refuse when an input the build read (build_inputs) is missing or differs today."""
    if not database.has_relation(relation):
        return
    rows = database.query(
        "select input_name, path, size_bytes, sha256, checksum_method, row_count"
        f" from {relation} where build_number = {int(number)} order by input_name"
    )
    for row in rows:
        if row[1] and _changed(project_dir, database, row):
            _refuse(
                f"the input {row[0]} changed since the last build (build log #{number}) "
                f"read it: {AGAIN}"
            )
