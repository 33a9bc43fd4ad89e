"""Write the Handshake upload files and their reports from the dbt marts.

Run after `dbt build`:

    python scripts/export_csv.py --output-dir DIR [--target T]
                                 [--allow-mass-disable] [--project-dir .]

Writes into DIR (SPEC section 6): <YYYYMMDD>_users.csv (split into
<YYYYMMDD>_users_part01.csv, ... over 199,999 rows), alumni_update_<YYYYMMDD>.csv,
import_issues.csv, student_outcomes.csv, alumni_password_notices.csv,
report.html (the career office's one-page summary, scripts/report.py) and
manifest.json. Every file goes to a temporary file first (mode 0600); they are
renamed into place only when all of them are complete, the manifest last.

The connection comes from the dbt profile `handshake_alumni` in
<project>/profiles.yml; the target is --target, else $HANDSHAKE_TARGET, else the
profile's default. The summary printed at the end holds counts only, never
names, usernames or email addresses.

Exit codes:
    0    the files were written
    2    usage error (bad arguments, unknown target)
    3    no dbt build found, or the last build had failing nodes or tests, was
         interrupted, built only some models, or dbt run / dbt seed changed
         tables after it (the build log, macros/build_log_relation.sql)
    4    stopped: 50 % or more of the changed rows would disable an account
         (re-run with --allow-mass-disable to write the files anyway)
    5    database or data problem: cannot connect, database locked, mart tables
         missing, sync rows out of order, blank or repeated
    6    the output files could not be written
    130  interrupted (Ctrl-C or SIGTERM); no temporary file is left behind
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import hashlib
import io
import json
import logging
import os
import re
import secrets
import signal
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction
from itertools import islice
from math import ceil
from pathlib import Path
from typing import Any, BinaryIO

import duckdb
import jinja2
import report
import yaml

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_BUILD = 3
EXIT_MASS_DISABLE = 4
EXIT_DATA = 5
EXIT_WRITE = 6
EXIT_INTERRUPTED = 130

PROFILE_NAME = "handshake_alumni"
# Handshake accepts at most 199,999 rows per file.
MAX_ROWS_PER_FILE = 199_999
FETCH_SIZE = 10_000
# Rows written to a CSV file per csv.writer call.
WRITE_BATCH_ROWS = 5_000
# dbt run_results statuses that mean the build did not fully succeed.
FAILED_STATUSES = frozenset({"error", "fail", "runtime error", "skipped", "partial success"})
MAX_NAMED_FAILURES = 10
# The build log the on-run-start / on-run-end hooks keep beside the marts.
BUILD_LOG_TABLE = "build_log"
# Handshake's safety valves of automated runs.
MASS_DISABLE_SHARE = Fraction(1, 2)
EMAIL_CHANGE_SHARE = Fraction(1, 10)
EMAIL_CHANGE_WARNING = (
    "an automated sync will apply none of the email changes; upload the alumni update file manually"
)
# A report cell starting with one of these is a spreadsheet formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

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
HANDSHAKE_HEADER = tuple(header for _, header in HANDSHAKE_COLUMNS)
ISSUES_COLUMNS = ("severity", "code", "student_id", "username", "detail")
OUTCOMES_COLUMNS = ("student_id", "username", "outcome", "reason")
NOTICES_COLUMNS = ("username", "email_address", "first_name")
OUTCOMES = ("exported", "rejected", "skipped")
SEVERITIES = ("error", "warning")

ISSUES_FILE = "import_issues.csv"
OUTCOMES_FILE = "student_outcomes.csv"
NOTICES_FILE = "alumni_password_notices.csv"
MANIFEST_FILE = "manifest.json"


class ExportError(Exception):
    """A problem that stops the export: a one-line message and an exit code."""

    def __init__(self, exit_code: int, message: str) -> None:
        super().__init__(message)
        self.exit_code = exit_code
        self.message = message


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


# ---------------------------------------------------------------------------
# Build check and dbt artifacts


def _read_artifact(path: Path, key: str) -> Any:
    if not path.is_file():
        raise ExportError(EXIT_BUILD, f"{path} not found: run dbt build first")
    try:
        return json.loads(path.read_text(encoding="utf-8"))[key]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ExportError(
            EXIT_BUILD, f"cannot read {path} ({_first_line(error)}): run dbt build"
        ) from error


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


def build_log_relation(sync_runs_relation: str) -> str:
    """The build log's relation: a table beside sync_runs (macros/build_log_relation.sql)."""
    schema, dot, name = sync_runs_relation.rpartition(".")
    quote = name[0] if name[:1] in ('"', "`") else ""
    return f"{schema}{dot}{quote}{BUILD_LOG_TABLE}{quote}"


def check_build(project_dir: Path, database: Database, relations: dict[str, str]) -> None:
    """Refuse unless the latest dbt command that changed the tables, as the
    build log in the database records it (on-run-start / on-run-end hooks),
    is a finished `dbt build` of every model without failing nodes.

    A build that was interrupted (Ctrl-C, killed, a crash) never finishes its
    row; `dbt run` or `dbt seed` after a build leaves untested tables; a build
    with --select leaves some models as an earlier run made them."""
    log = build_log_relation(relations["sync_runs"])
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
    again = "run dbt build again (nothing was written)"
    if command != "build":
        raise ExportError(
            EXIT_BUILD,
            f"the tables were last changed by dbt {command} (build log #{number}), "
            f"which runs no tests: {again}",
        )
    if not finished:
        raise ExportError(
            EXIT_BUILD,
            f"the last dbt build (build log #{number}) did not finish: it was "
            f"interrupted, or is still running; {again}",
        )
    failing = _failing_in_run_results(project_dir, str(invocation_id))
    if failed or failing:
        named = ", ".join(failing[:MAX_NAMED_FAILURES])
        if len(failing) > MAX_NAMED_FAILURES:
            named += f" and {len(failing) - MAX_NAMED_FAILURES} more"
        raise ExportError(
            EXIT_BUILD,
            f"the last dbt build had {max(int(failed), len(failing))} failing or skipped "
            f"nodes{': ' + named if named else ''}; fix them and {again}",
        )
    if total is None or built is None or built < total:
        raise ExportError(
            EXIT_BUILD,
            f"the last dbt build built {built} of the {total} models (a build with "
            "--select): run a full dbt build (nothing was written)",
        )


def mart_relations(project_dir: Path) -> dict[str, str]:
    """Map each mart model name to its relation name from target/manifest.json."""
    nodes = _read_artifact(project_dir / "target" / "manifest.json", "nodes")
    relations = {
        node["name"]: node["relation_name"]
        for node in nodes.values()
        if node.get("resource_type") == "model"
        and node.get("name") in MART_MODELS
        and node.get("relation_name")
    }
    missing = [name for name in MART_MODELS if name not in relations]
    if missing:
        raise ExportError(
            EXIT_DATA,
            f"models missing from target/manifest.json: {', '.join(missing)}; run dbt build first",
        )
    return relations


# ---------------------------------------------------------------------------
# Profile and connection


def _env_var(name: str, default: Any = None) -> Any:
    """dbt's env_var(): the variable, else the default, else an error."""
    if name in os.environ:
        return os.environ[name]
    if default is not None:
        return default
    raise ExportError(EXIT_USAGE, f"profiles.yml needs the environment variable {name}")


def _render(value: Any, environment: jinja2.Environment) -> Any:
    """Render every string of a parsed profile, as dbt does."""
    if isinstance(value, dict):
        return {key: _render(item, environment) for key, item in value.items()}
    if isinstance(value, list):
        return [_render(item, environment) for item in value]
    if isinstance(value, str) and ("{{" in value or "{%" in value):
        return environment.from_string(value).render()
    return value


def load_target(project_dir: Path, target: str | None) -> tuple[str, dict[str, Any]]:
    """The chosen target's name and rendered settings from profiles.yml."""
    path = project_dir / "profiles.yml"
    environment = jinja2.Environment(undefined=jinja2.StrictUndefined)
    environment.globals["env_var"] = _env_var
    for name in ("as_number", "as_bool", "as_native", "as_text"):
        environment.filters[name] = lambda value: value
    try:
        profile = yaml.safe_load(path.read_text(encoding="utf-8"))[PROFILE_NAME]
        outputs = profile["outputs"]
        name = target or os.environ.get("HANDSHAKE_TARGET") or profile["target"]
        name = str(_render(name, environment))
        if name not in outputs:
            raise ExportError(
                EXIT_USAGE,
                f"target {name!r} is not in {path} (targets: {', '.join(sorted(outputs))})",
            )
        return name, _render(outputs[name], environment)
    except (OSError, yaml.YAMLError, jinja2.TemplateError, KeyError, TypeError) as err:
        raise ExportError(
            EXIT_DATA,
            f"cannot read profile {PROFILE_NAME} from {path}: {_first_line(err)}",
        ) from err


@dataclass
class Database:
    """A read-only connection to the warehouse that holds the marts."""

    engine: str
    connection: Any
    errors: tuple[type[Exception], ...]
    cursors_opened: int = 0

    @property
    def renders_csv_lines(self) -> bool:
        """DuckDB writes each CSV line in SQL (rendered_select): at a million
        rows, fetching every cell and Python's csv module cost most of the export."""
        return self.engine == "duckdb"

    def byte_order(self, column: str) -> str:
        """An ORDER BY term comparing text by code point, whatever the collation."""
        if self.engine == "postgres":
            return f'{column} collate "C" nulls last'
        return f"{column} nulls last"

    def query(self, sql: str, parameters: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """All rows of a query with a small result (parameters: DuckDB's `?`)."""
        try:
            cursor = self.connection.cursor()
            try:
                if parameters:
                    cursor.execute(sql, parameters)
                else:
                    cursor.execute(sql)
                return list(cursor.fetchall())
            finally:
                cursor.close()
        except self.errors as error:
            raise ExportError(EXIT_DATA, f"database error: {_first_line(error)}") from error

    def stream(self, sql: str) -> Iterator[tuple[Any, ...]]:
        """The rows of a query, fetched a batch at a time, never all at once."""
        try:
            cursor = self._streaming_cursor()
            try:
                cursor.execute(sql)
                while batch := cursor.fetchmany(FETCH_SIZE):
                    yield from batch
            finally:
                cursor.close()
        except self.errors as error:
            raise ExportError(EXIT_DATA, f"database error: {_first_line(error)}") from error

    def has_relation(self, relation: str) -> bool:
        try:
            self.query(f"select * from {relation} where 1 = 0")
        except ExportError:
            if self.engine == "postgres":
                self.connection.rollback()
            return False
        return True

    def close(self) -> None:
        with contextlib.suppress(*self.errors):
            self.connection.close()

    def _streaming_cursor(self) -> Any:
        self.cursors_opened += 1
        if self.engine == "postgres":
            # A named cursor is server-side: rows travel as they are fetched.
            return self.connection.cursor(name=f"export_csv_{self.cursors_opened}")
        return self.connection.cursor()


def connect(target: dict[str, Any]) -> Database:
    engine = str(target.get("type", ""))
    if engine == "duckdb":
        return _connect_duckdb(str(target.get("path", ":memory:")))
    if engine == "postgres":
        return _connect_postgres(target)
    if engine == "spark" and target.get("method") == "thrift":
        return _connect_spark_thrift(target)
    if engine == "spark":
        return _connect_spark(target)
    raise ExportError(
        EXIT_USAGE, f"target type {engine!r} is not supported (duckdb, postgres, spark)"
    )


def _connect_duckdb(path: str) -> Database:
    # Like dbt, a relative path is relative to the current working directory.
    try:
        connection = duckdb.connect(path, read_only=True)
        connection.execute("set enable_progress_bar = false")
    except duckdb.Error as error:
        text = str(error).lower()
        if "lock" in text:
            message = (
                f"the database {path} is locked by another process (is dbt still "
                "running?); wait for it to finish, then run the export again"
            )
        elif "does not exist" in text:
            message = f"the database {path} does not exist: run dbt build first"
        else:
            message = f"cannot open the database {path}: {_first_line(error)}"
        raise ExportError(EXIT_DATA, message) from error
    return Database("duckdb", connection, (duckdb.Error,))


def _connect_postgres(target: dict[str, Any]) -> Database:
    try:
        import psycopg2
    except ImportError as error:
        raise ExportError(
            EXIT_DATA, "psycopg2 is not installed: pip install -r requirements.txt"
        ) from error
    keys = ("host", "port", "user", "password", "dbname", "sslmode")
    settings = {key: target[key] for key in keys if target.get(key) not in (None, "")}
    try:
        connection = psycopg2.connect(**settings)
        # One snapshot for the preflight counts and every file.
        connection.set_session(isolation_level="REPEATABLE READ", readonly=True)
    except psycopg2.Error as error:
        raise ExportError(
            EXIT_DATA, f"cannot connect to PostgreSQL: {_first_line(error)}"
        ) from error
    return Database("postgres", connection, (psycopg2.Error,))


class _SparkCursor:
    """The little of a DB-API cursor the export uses, over a Spark session."""

    def __init__(self, session: Any) -> None:
        self._session = session
        self._rows: Iterator[Any] = iter(())

    def execute(self, sql: str) -> None:
        self._rows = self._session.sql(sql).toLocalIterator()

    def fetchall(self) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in self._rows]

    def fetchmany(self, size: int) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in islice(self._rows, size)]

    def close(self) -> None:
        self._rows = iter(())


@dataclass
class _SparkConnection:
    session: Any

    def cursor(self) -> _SparkCursor:
        return _SparkCursor(self.session)

    def close(self) -> None:
        self.session.stop()


def _connect_spark(target: dict[str, Any]) -> Database:
    """A local Spark session with the profile's settings, as dbt-spark's
    `method: session` opens it (same warehouse folder and metastore). A
    Thrift server is reached by _connect_spark_thrift; http and odbc are not
    reached from here: see the README."""
    if target.get("method") != "session":
        raise ExportError(
            EXIT_USAGE,
            f"the export reaches Spark with method: session or thrift, not "
            f"{target.get('method')!r}: point a target with method: thrift at the "
            "cluster's Thrift server (README: Running on Spark)",
        )
    try:
        from py4j.protocol import Py4JError
        from pyspark.errors import PySparkException
        from pyspark.sql import SparkSession
    except ImportError as error:
        raise ExportError(
            EXIT_DATA, "pyspark is not installed: pip install -r requirements-spark.txt"
        ) from error
    builder = SparkSession.builder.enableHiveSupport()
    for key, value in (target.get("server_side_parameters") or {}).items():
        builder = builder.config(str(key), str(value))
    try:
        session = builder.getOrCreate()
        session.sparkContext.setLogLevel("ERROR")
    except (PySparkException, Py4JError, OSError) as error:
        raise ExportError(
            EXIT_DATA, f"cannot start Spark (Java 17 is required): {_first_line(error)}"
        ) from error
    return Database("spark", _SparkConnection(session), (PySparkException, Py4JError))


def _connect_spark_thrift(target: dict[str, Any]) -> Database:
    """A Spark Thrift server (HiveServer2), reached with PyHive as dbt-spark's
    `method: thrift` reaches it: the same host, port, user, auth, password,
    kerberos_service_name, use_ssl and server_side_parameters."""
    try:
        from pyhive import exc as hive_errors
        from pyhive import hive
        from thrift.Thrift import TException
    except ImportError as error:
        raise ExportError(
            EXIT_DATA,
            "PyHive is not installed: pip install -r requirements.txt -r requirements-spark.txt",
        ) from error
    # Thrift logs a failed connect itself; the ExportError below says it in one line.
    logging.getLogger("thrift").addHandler(logging.NullHandler())
    logging.getLogger("thrift").propagate = False
    host, port = target.get("host"), int(target.get("port") or 10000)
    where = f"the Spark Thrift server at {host}:{port}"
    configuration = {
        str(key): str(value) for key, value in (target.get("server_side_parameters") or {}).items()
    }
    try:
        if target.get("use_ssl"):
            from dbt.adapters.spark.connections import build_ssl_transport

            transport = build_ssl_transport(
                host=host,
                port=port,
                username=target.get("user"),
                auth=target.get("auth"),
                kerberos_service_name=target.get("kerberos_service_name"),
                password=target.get("password"),
            )
            connection = hive.connect(thrift_transport=transport, configuration=configuration)
        else:
            connection = hive.connect(
                host=host,
                port=port,
                username=target.get("user"),
                auth=target.get("auth"),
                kerberos_service_name=target.get("kerberos_service_name"),
                password=target.get("password"),
                configuration=configuration,
            )
    except ValueError as error:  # PyHive: auth, password and kerberos_service_name disagree
        raise ExportError(
            EXIT_USAGE, f"profile settings for {where}: {_first_line(error)}"
        ) from error
    except (TException, hive_errors.Error, OSError, EOFError) as error:
        text = _first_line(error) or type(error).__name__
        inner = getattr(error, "inner", None)  # thrift_sasl wraps the socket's error
        if inner is not None:
            text = f"{text}: {_first_line(inner)}"
        if "Could not connect" in text or isinstance(error, ConnectionRefusedError):
            hint = "is it running, and are host and port right?"
        elif any(words in text for words in ("read 0 bytes", "reset by peer", "Broken pipe")):
            hint = (
                "it closed the connection (not a Thrift server, or auth or use_ssl "
                "unlike the server's)"
            )
        elif "login" in text.lower() or "auth" in text.lower() or "sasl" in text.lower():
            hint = "authentication refused: check user, password and auth"
        else:
            hint = "check host, port, auth and use_ssl"
        raise ExportError(EXIT_DATA, f"cannot connect to {where}: {hint} ({text})") from error
    return Database("spark", connection, (hive_errors.Error, TException, OSError, EOFError))


def check_relations(database: Database, relations: dict[str, str]) -> None:
    missing = [name for name in MART_MODELS if not database.has_relation(relations[name])]
    if missing:
        raise ExportError(
            EXIT_DATA,
            f"mart tables missing in the database: {', '.join(missing)}; run dbt build first",
        )


# ---------------------------------------------------------------------------
# Settings and preflight


def _json_value(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return str(value)


def read_settings(database: Database, relation: str) -> dict[str, Any]:
    """The run's settings (dbt vars) from the one row of sync_runs."""
    rows = database.query(f"select {', '.join(SETTINGS_COLUMNS)} from {relation}")
    if len(rows) != 1:
        raise ExportError(
            EXIT_DATA, f"sync_runs has {len(rows)} rows instead of one: run dbt build"
        )
    settings = {
        name: _json_value(value) for name, value in zip(SETTINGS_COLUMNS, rows[0], strict=True)
    }
    try:
        as_of_date = date.fromisoformat(str(settings["as_of_date"])[:10])
    except ValueError as error:
        raise ExportError(EXIT_DATA, "sync_runs.as_of_date is not a date") from error
    settings["as_of_date"] = as_of_date.isoformat()
    return settings


@dataclass(frozen=True)
class Preflight:
    """Handshake's safety valves, counted on the sync file's rows."""

    sync_rows: int
    changed_rows: int
    newly_disabled_rows: int
    email_changes: int

    @property
    def newly_disabled_share(self) -> Fraction:
        if not self.changed_rows:
            return Fraction(0)
        return Fraction(self.newly_disabled_rows, self.changed_rows)

    @property
    def email_change_share(self) -> Fraction:
        if not self.sync_rows:
            return Fraction(0)
        return Fraction(self.email_changes, self.sync_rows)

    @property
    def is_mass_disable(self) -> bool:
        return self.changed_rows > 0 and self.newly_disabled_share >= MASS_DISABLE_SHARE

    @property
    def email_change_warning(self) -> bool:
        return self.sync_rows > 0 and self.email_change_share >= EMAIL_CHANGE_SHARE

    def as_json(self) -> dict[str, Any]:
        return {
            "build_tests": "passed",
            "changed_rows": self.changed_rows,
            "newly_disabled_rows": self.newly_disabled_rows,
            "newly_disabled_share": round(float(self.newly_disabled_share), 4),
            "mass_disable": "allowed" if self.is_mass_disable else "ok",
            "sync_rows": self.sync_rows,
            "email_changes": self.email_changes,
            "email_change_share": round(float(self.email_change_share), 4),
            "email_change_warning": self.email_change_warning,
        }


def run_preflight(database: Database, relation: str, allow_mass_disable: bool) -> Preflight:
    """Count the safety valves before anything is written; stop on a mass disable."""
    counts = database.query(
        "select count(*),"
        " count(case when is_record_changed then 1 end),"
        " count(case when is_record_changed and is_newly_disabled then 1 end),"
        " count(case when is_email_changed then 1 end)"
        f" from {relation}"
    )[0]
    preflight = Preflight(*(int(count) for count in counts))
    if preflight.is_mass_disable and not allow_mass_disable:
        raise ExportError(
            EXIT_MASS_DISABLE,
            f"stopped: {preflight.newly_disabled_rows} of {preflight.changed_rows} "
            f"changed rows ({_percent(preflight.newly_disabled_share)}) would disable "
            "an account, and Handshake holds such a sync for manual approval. Check "
            "disable_alumni_after_days, or re-run with --allow-mass-disable to write "
            "the files anyway (nothing was written)",
        )
    return preflight


def _percent(share: Fraction | float) -> str:
    return f"{float(share) * 100:.1f}%"


# ---------------------------------------------------------------------------
# Rows


def _cell(value: Any) -> str:
    return "" if value is None else str(value)


BLANK_USERNAME = "has a blank username"
OUT_OF_ORDER_USERNAME = "is a repeated or out-of-order username (code-point order)"
BLANK_EMAIL = "has a blank email address"
REPEATED_EMAIL = "repeats an email address"
# In the order of the checks; first_bad_handshake_row_sql numbers them from 1.
HANDSHAKE_ROW_PROBLEMS = (BLANK_USERNAME, OUT_OF_ORDER_USERNAME, BLANK_EMAIL, REPEATED_EMAIL)
# What str.strip() removes: every character str.isspace() is true of.
WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004"
    "\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)


def checked_handshake_rows(rows: Iterable[Sequence[Any]], label: str) -> Iterator[list[Any]]:
    """Pass rows through; stop at a blank, repeated or out-of-order username
    (code-point order, column 1) or a blank or repeated email (column 2).
    A blank cell stays None: the CSV writer writes it empty."""
    previous: str | None = None
    emails: set[str] = set()
    for number, row in enumerate(rows, start=1):
        username, email = _cell(row[0]), _cell(row[1]).strip().lower()
        if not username.strip():
            problem = BLANK_USERNAME
        elif previous is not None and not previous < username:
            problem = OUT_OF_ORDER_USERNAME
        elif not email:
            problem = BLANK_EMAIL
        elif email in emails:
            problem = REPEATED_EMAIL
        else:
            emails.add(email)
            previous = username
            yield list(row)
            continue
        raise ExportError(EXIT_DATA, f"{label}: row {number} {problem}")


def _stripped(text: str) -> str:
    """DuckDB SQL for str.strip() of `text` (parameter $1: WHITESPACE); trimming
    by a set of characters is slow, so only text with a blank end is trimmed."""
    return (
        f"case when strpos($1, left({text}, 1)) > 0 or strpos($1, right({text}, 1)) > 0"
        f" then trim({text}, $1) else {text} end"
    )


def first_bad_handshake_row_sql(relation: str, order_by: str) -> str:
    """DuckDB SQL for the row checked_handshake_rows would stop at, when the
    rows of `relation` come in `order_by`: its number and its problem (1 to
    4, HANDSHAKE_ROW_PROBLEMS), or no row. Parameter $1: WHITESPACE.
    (For a million rows, one query instead of a Python loop; lower case is
    DuckDB's, the same as Python's but for a few letters no valid email holds.)"""
    return f"""
        with numbered as (
            select
                row_number() over (order by {order_by}) as row_number,
                coalesce(username, '') as username,
                lower({_stripped("coalesce(email_address, '')")}) as email_address
            from {relation}
        ),

        checked as (
            select
                row_number,
                case
                    when {_stripped("username")} = '' then 1
                    when row_number > 1
                        and not lag(username) over (order by row_number) < username then 2
                    when email_address = '' then 3
                    when row_number() over (
                        partition by email_address order by row_number
                    ) > 1 then 4
                end as problem
            from numbered
        )

        select row_number, problem
        from checked
        where problem is not null
        order by row_number
        limit 1
    """


def check_handshake_rows(database: Database, relation: str, label: str) -> None:
    """checked_handshake_rows' checks, in the database, before the file is written."""
    sql = first_bad_handshake_row_sql(relation, database.byte_order("username"))
    for number, problem in database.query(sql, [WHITESPACE]):
        raise ExportError(EXIT_DATA, f"{label}: row {number} {HANDSHAKE_ROW_PROBLEMS[problem - 1]}")


def _checked_rows(database: Database, relation: str, sql: str, label: str) -> Iterator[Any]:
    """The rows of a Handshake file's query, checked: in one query before the
    first row where the database renders the lines, else row by row."""
    if database.renders_csv_lines:
        check_handshake_rows(database, relation, label)
        return iter(database.stream(sql))
    return checked_handshake_rows(database.stream(sql), label)


def report_rows(rows: Iterable[Sequence[Any]]) -> Iterator[list[str]]:
    """Rows of a human report: formula-like cells get a leading apostrophe.
    (Inlined rather than a function per cell: a million rows are four million cells.)"""
    prefixes = FORMULA_PREFIXES
    for row in rows:
        cells = ["" if value is None else str(value) for value in row]
        yield [("'" + cell if cell.startswith(prefixes) else cell) for cell in cells]


def _sql_quoted(cell: str) -> str:
    return "('\"' || replace(" + cell + ", '\"', '\"\"') || '\"')"


def csv_line_sql(cells: Sequence[str]) -> str:
    """DuckDB SQL for one CSV line of the text expressions `cells` (no line
    end), byte for byte what _CsvRowWriter writes for the same cells: a cell
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


def csv_cell_sql(column: str, escape_formulas: bool) -> str:
    """DuckDB SQL for one cell as the export writes it: null as empty text and,
    in the human reports (escape_formulas), report_rows' leading apostrophe."""
    text = f"coalesce(cast({column} as varchar), '')"
    if not escape_formulas:
        return text
    prefixes = ", ".join(f"chr({ord(prefix)})" for prefix in FORMULA_PREFIXES)
    return f"case when left({text}, 1) in ({prefixes}) then '''' || {text} else {text} end"


def rendered_select(
    relation: str,
    keys: Sequence[str],
    columns: Sequence[str],
    escape_formulas: bool,
    order_by: str,
) -> str:
    """A query of `relation` whose rows are the `keys` columns (what the report
    reads, and the order) and, last, the CSV line of `columns` (what the file holds)."""
    cells = [f"_csv_cell_{number}" for number in range(len(columns))]
    inner = [
        *keys,
        *(
            f"{csv_cell_sql(column, escape_formulas)} as {cell}"
            for column, cell in zip(columns, cells, strict=True)
        ),
    ]
    return (
        f"select {', '.join([*keys, csv_line_sql(cells)])}"
        f" from (select {', '.join(inner)} from {relation}) as cells order by {order_by}"
    )


def counted(
    rows: Iterable[Sequence[Any]],
    counter: Counter[Any],
    key: Callable[[Sequence[Any]], Any],
) -> Iterator[Sequence[Any]]:
    for row in rows:
        counter[key(row)] += 1
        yield row


# ---------------------------------------------------------------------------
# Files


class _HashingSink:
    """A text sink for csv.writer: encodes UTF-8, hashes and writes the bytes."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.digest = hashlib.sha256()

    def write(self, text: str) -> int:
        data = text.encode("utf-8")
        self.digest.update(data)
        self.raw.write(data)
        return len(text)


class _CsvRowWriter:
    """csv.writer with minimal quoting and "\\n" line ends.

    Python's csv module (before 3.13) does not quote a field holding a bare
    carriage return when the line terminator is "\\n"; such rare rows are
    written fully quoted instead, so that every reader sees the same cells.
    """

    def __init__(self, sink: _HashingSink) -> None:
        self.sink = sink
        self.minimal = csv.writer(sink, lineterminator="\n")
        self.quote_all = csv.writer(sink, lineterminator="\n", quoting=csv.QUOTE_ALL)

    def writerow(self, cells: Sequence[Any]) -> None:
        if any("\r" in _cell(cell) for cell in cells):
            self.quote_all.writerow(cells)
        else:
            self.minimal.writerow(cells)

    def writerows(self, rows: Sequence[Sequence[Any]]) -> None:
        """A batch of rows: one csv call, one encode, hash and write for all of
        them (row by row, a million rows cost seconds of Python). The same
        bytes as writerow: a batch holding a carriage return goes row by row."""
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerows(rows)
        text = buffer.getvalue()
        if "\r" in text:
            for cells in rows:
                self.writerow(cells)
        else:
            self.sink.write(text)


@dataclass
class StagedFile:
    name: str
    temp_path: Path
    rows: int = 0
    sha256: str = ""
    published: bool = False


@dataclass
class Staging:
    """Temporary files in the output directory, renamed into place together.

    Leaving the `with` block removes every temporary file not yet renamed,
    whatever stopped the export (an error, Ctrl-C, SIGTERM).
    """

    directory: Path
    files: list[StagedFile] = field(default_factory=list)

    def __enter__(self) -> Staging:
        return self

    def __exit__(self, *exc_info: object) -> None:
        for staged in self.files:
            if not staged.published:
                with contextlib.suppress(FileNotFoundError):
                    staged.temp_path.unlink()

    def write_csv(
        self,
        name: str,
        header: Sequence[str],
        rows: Iterable[Sequence[Any]],
        rendered: bool = False,
    ) -> StagedFile:
        """Write the header, then the rows: their cells, or, when `rendered`,
        the CSV line each row holds last (rendered_select)."""
        staged, raw = self._create(name)
        with raw:
            sink = _HashingSink(raw)
            writer = _CsvRowWriter(sink)
            writer.writerow(header)
            iterator = iter(rows)
            while batch := list(islice(iterator, WRITE_BATCH_ROWS)):
                if rendered:
                    sink.write("".join([row[-1] + "\n" for row in batch]))
                else:
                    writer.writerows(batch)
                staged.rows += len(batch)
            raw.flush()
            os.fsync(raw.fileno())
        staged.sha256 = sink.digest.hexdigest()
        return staged

    def write_text(self, name: str, text: str) -> StagedFile:
        staged, raw = self._create(name)
        data = text.encode("utf-8")
        with raw:
            raw.write(data)
            raw.flush()
            os.fsync(raw.fileno())
        staged.sha256 = hashlib.sha256(data).hexdigest()
        return staged

    def publish(self, staged: StagedFile) -> Path:
        final_path = self.directory / staged.name
        os.replace(staged.temp_path, final_path)
        staged.published = True
        return final_path

    def _create(self, name: str) -> tuple[StagedFile, BinaryIO]:
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
        while True:
            temp_path = self.directory / f".{name}.{secrets.token_hex(6)}.tmp"
            try:
                descriptor = os.open(temp_path, flags, 0o600)
            except FileExistsError:
                continue
            staged = StagedFile(name, temp_path)
            self.files.append(staged)
            raw = os.fdopen(descriptor, "wb")
            os.chmod(temp_path, 0o600)  # whatever the umask
            return staged, raw


@contextlib.contextmanager
def _signals_deferred() -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM while the files are renamed into place."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    blocked = {signal.SIGINT, signal.SIGTERM}
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, blocked)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _fsync_directory(directory: Path) -> None:
    with contextlib.suppress(OSError):
        descriptor = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def sync_file_names(yyyymmdd: str, rows: int) -> list[str]:
    """The sync file's name, or its parts' names when it is over the row limit."""
    if rows <= MAX_ROWS_PER_FILE:
        return [f"{yyyymmdd}_users.csv"]
    parts = ceil(rows / MAX_ROWS_PER_FILE)
    return [f"{yyyymmdd}_users_part{number:02d}.csv" for number in range(1, parts + 1)]


def stale_sync_files(directory: Path, yyyymmdd: str, written: set[str]) -> list[Path]:
    """Sync files of the same date from an earlier run that this run did not write."""
    pattern = re.compile(rf"{yyyymmdd}_users(_part\d+)?\.csv")
    return sorted(
        path
        for path in directory.iterdir()
        if pattern.fullmatch(path.name) and path.name not in written and path.is_file()
    )


# ---------------------------------------------------------------------------
# The export


@dataclass
class ExportResult:
    manifest: dict[str, Any]
    written: list[tuple[Path, int | None]]


# What the report reads of an alumni update row (ReportData.updates): on a
# database that renders the lines, the only columns its query returns besides
# the line (the file's checks are a query of their own).
REPORT_UPDATE_COLUMNS = ("username", *report.DESCRIBED_UPDATE_COLUMNS)


def _queries(database: Database, relations: dict[str, str]) -> dict[str, str]:
    """The query of each CSV file. A row holds the file's cells or, on a
    database that renders CSV lines, the columns the report reads and then
    the line (rendered_select; the checks are then queries of their own)."""
    order = database.byte_order
    handshake = [column for column, _ in HANDSHAKE_COLUMNS]
    issues_order = f"{order('student_id')}, code_order, {order('detail')}"
    files = {
        # name: (model, file columns, key columns, report escaping, order)
        "sync": ("sync_users", handshake, ["username"], False, order("username")),
        "update": (
            "alumni_updates",
            handshake,
            list(REPORT_UPDATE_COLUMNS),
            False,
            order("username"),
        ),
        "issues": (
            "import_issues",
            ISSUES_COLUMNS,
            [*ISSUES_COLUMNS, "code_order"],
            True,
            issues_order,
        ),
        # A million rows: the report's counts and lookups are queries of their own.
        "outcomes": (
            "student_outcomes",
            OUTCOMES_COLUMNS,
            ["student_id"],
            True,
            order("student_id"),
        ),
        "notices": ("password_notices", NOTICES_COLUMNS, ["username"], True, order("username")),
    }
    queries = {}
    for name, (model, columns, keys, escape_formulas, order_by) in files.items():
        if database.renders_csv_lines:
            queries[name] = rendered_select(
                relations[model], keys, columns, escape_formulas, order_by
            )
        else:
            queries[name] = (
                f"select {', '.join(columns)} from {relations[model]} order by {order_by}"
            )
    return queries


def _stage_sync_files(
    staging: Staging,
    database: Database,
    relation: str,
    sql: str,
    yyyymmdd: str,
    expected_rows: int,
) -> list[StagedFile]:
    rendered = database.renders_csv_lines
    rows = _checked_rows(database, relation, sql, "sync file")
    files = [
        staging.write_csv(name, HANDSHAKE_HEADER, islice(rows, MAX_ROWS_PER_FILE), rendered)
        for name in sync_file_names(yyyymmdd, expected_rows)
    ]
    leftover = next(rows, None)
    if leftover is not None or sum(staged.rows for staged in files) != expected_rows:
        raise ExportError(EXIT_DATA, "sync_users changed while it was read: run the export again")
    return files


def _collect_outcomes(
    database: Database,
    relation: str,
    outcome_counts: Counter[str],
    collected: report.ReportData,
) -> None:
    """What the export counts and keeps of student_outcomes when the file's rows
    carry only their lines: the count of each outcome, and the rows of the
    usernames the report shows (after the alumni update file was read)."""
    for outcome, count in database.query(
        f"select outcome, count(*) from {relation} group by outcome"
    ):
        outcome_counts[outcome] += count
    usernames = sorted({username for username, _ in collected.update_rows})
    if usernames:
        wanted = ", ".join("?" for _ in usernames)
        rows = database.query(
            f"select {', '.join(OUTCOMES_COLUMNS)} from {relation} where username in ({wanted})"
            f" order by {database.byte_order('student_id')}",
            usernames,
        )
        for _ in collected.outcomes(rows):
            pass


def _stage_files(
    staging: Staging,
    database: Database,
    relations: dict[str, str],
    yyyymmdd: str,
    preflight: Preflight,
    collected: report.ReportData,
) -> tuple[list[StagedFile], Counter[str], Counter[tuple[str, str]]]:
    """Write every CSV file to a temporary file; count outcomes and issues;
    keep in `collected` what the report shows."""
    queries = _queries(database, relations)
    rendered = database.renders_csv_lines
    # Report cells are escaped by the query when it renders the lines.
    escaped: Callable[[Iterable[Sequence[Any]]], Iterable[Sequence[Any]]] = (
        (lambda rows: rows) if rendered else report_rows
    )
    outcome_counts: Counter[str] = Counter()
    issue_counts: Counter[tuple[str, str]] = Counter()
    files = _stage_sync_files(
        staging,
        database,
        relations["sync_users"],
        queries["sync"],
        yyyymmdd,
        preflight.sync_rows,
    )
    updates = _checked_rows(
        database, relations["alumni_updates"], queries["update"], "alumni update file"
    )
    files.append(
        staging.write_csv(
            f"alumni_update_{yyyymmdd}.csv", HANDSHAKE_HEADER, collected.updates(updates), rendered
        )
    )
    issues = counted(database.stream(queries["issues"]), issue_counts, lambda row: (row[0], row[1]))
    files.append(
        staging.write_csv(ISSUES_FILE, ISSUES_COLUMNS, escaped(collected.issues(issues)), rendered)
    )
    if rendered:
        outcomes = database.stream(queries["outcomes"])
        _collect_outcomes(database, relations["student_outcomes"], outcome_counts, collected)
    else:
        outcomes = counted(database.stream(queries["outcomes"]), outcome_counts, lambda row: row[2])
        outcomes = collected.outcomes(outcomes)
    files.append(staging.write_csv(OUTCOMES_FILE, OUTCOMES_COLUMNS, escaped(outcomes), rendered))
    notices = database.stream(queries["notices"])
    files.append(staging.write_csv(NOTICES_FILE, NOTICES_COLUMNS, escaped(notices), rendered))
    return files, outcome_counts, issue_counts


def build_manifest(
    settings: dict[str, Any],
    files: list[StagedFile],
    outcome_counts: Counter[str],
    issue_counts: Counter[tuple[str, str]],
    preflight: Preflight,
) -> dict[str, Any]:
    """The manifest: no timestamps, so a re-run with the same inputs is identical."""
    issues: dict[str, dict[str, int]] = {severity: {} for severity in SEVERITIES}
    for (severity, code), count in issue_counts.items():
        issues.setdefault(_cell(severity), {})[_cell(code)] = count
    outcomes = dict.fromkeys(OUTCOMES, 0)
    for outcome, count in outcome_counts.items():
        outcomes[_cell(outcome)] = count
    return {
        "as_of_date": settings["as_of_date"],
        "files": {staged.name: {"rows": staged.rows, "sha256": staged.sha256} for staged in files},
        "issues": issues,
        "outcomes": outcomes,
        "preflight": preflight.as_json(),
        "settings": settings,
    }


def _prepare_directory(directory: Path) -> bool:
    """Create the output directory (mode 0700) if missing; True if created."""
    if directory.is_dir():
        return False
    directory.mkdir(parents=True, mode=0o700)
    os.chmod(directory, 0o700)  # whatever the umask
    return True


# Staging's temporary names: "." + the file's name + 12 hex digits + ".tmp".
TEMPORARY_NAME = re.compile(r"\..+\.[0-9a-f]{12}\.tmp")


def remove_leftover_temporary_files(directory: Path) -> None:
    """Remove the temporary files of an export that was killed outright
    (SIGKILL, power loss: no cleanup ran); they hold partial student data."""
    for path in directory.iterdir():
        if TEMPORARY_NAME.fullmatch(path.name) and path.is_file():
            with contextlib.suppress(FileNotFoundError):
                path.unlink()


def write_outputs(
    database: Database,
    relations: dict[str, str],
    settings: dict[str, Any],
    preflight: Preflight,
    directory: Path,
) -> ExportResult:
    """Stage every file, then rename them into place, the report and the manifest last."""
    yyyymmdd = settings["as_of_date"].replace("-", "")
    created = False
    try:
        created = _prepare_directory(directory)
        remove_leftover_temporary_files(directory)
        with Staging(directory) as staging:
            collected = report.ReportData(
                REPORT_UPDATE_COLUMNS
                if database.renders_csv_lines
                else tuple(column for column, _ in HANDSHAKE_COLUMNS)
            )
            files, outcome_counts, issue_counts = _stage_files(
                staging, database, relations, yyyymmdd, preflight, collected
            )
            manifest = build_manifest(settings, files, outcome_counts, issue_counts, preflight)
            # The report shows the manifest's counts; the manifest lists the report
            # (rows = the import issue rows it shows).
            report_file = staging.write_text(report.REPORT_FILE, report.render(manifest, collected))
            report_file.rows = collected.issues_shown
            manifest["files"][report_file.name] = {
                "rows": report_file.rows,
                "sha256": report_file.sha256,
            }
            text = json.dumps(manifest, sort_keys=True, indent=2, ensure_ascii=False)
            manifest_file = staging.write_text(MANIFEST_FILE, text + "\n")
            written: list[tuple[Path, int | None]] = []
            with _signals_deferred():
                for staged in files:
                    written.append((staging.publish(staged), staged.rows))
                names = {staged.name for staged in files}
                for stale in stale_sync_files(directory, yyyymmdd, names):
                    stale.unlink()
                written.append((staging.publish(report_file), None))
                written.append((staging.publish(manifest_file), None))
                _fsync_directory(directory)
    except OSError as error:
        _remove_if_created(directory, created)
        where = f" ({error.filename})" if error.filename else ""
        raise ExportError(
            EXIT_WRITE, f"could not write the outputs: {error.strerror or error}{where}"
        ) from error
    except BaseException:
        _remove_if_created(directory, created)
        raise
    return ExportResult(manifest, written)


def _remove_if_created(directory: Path, created: bool) -> None:
    if created:
        with contextlib.suppress(OSError):
            directory.rmdir()  # only when empty


def print_summary(result: ExportResult, target_name: str) -> None:
    """Counts and file paths only: never names, usernames or email addresses."""
    manifest = result.manifest
    preflight = manifest["preflight"]
    outcomes = ", ".join(f"{name} {n}" for name, n in sorted(manifest["outcomes"].items()))
    issues = ", ".join(
        f"{severity} {code} {n}"
        for severity, codes in sorted(manifest["issues"].items())
        for code, n in sorted(codes.items())
    )
    email_warning = f": WARNING {EMAIL_CHANGE_WARNING}"
    print(f"export_csv: as_of_date {manifest['as_of_date']}, target {target_name}")
    print(f"outcomes: {outcomes}")
    print(f"issues: {issues or 'none'}")
    print(f"preflight: build tests {preflight['build_tests']}")
    print(
        f"preflight: {preflight['changed_rows']} of {preflight['sync_rows']} sync rows "
        f"change a record, {preflight['newly_disabled_rows']} newly disabled "
        f"({_percent(preflight['newly_disabled_share'])} of changed): "
        f"mass disable {preflight['mass_disable']}"
    )
    print(
        f"preflight: {preflight['email_changes']} email changes "
        f"({_percent(preflight['email_change_share'])} of sync rows)"
        + (email_warning if preflight["email_change_warning"] else "")
    )
    print("files:")
    for path, rows in result.written:
        print(f"  {path}" + ("" if rows is None else f": {rows} rows"))


def export(args: argparse.Namespace) -> int:
    project_dir = Path(args.project_dir)
    relations = mart_relations(project_dir)
    target_name, target = load_target(project_dir, args.target)
    database = connect(target)
    try:
        check_build(project_dir, database, relations)
        check_relations(database, relations)
        settings = read_settings(database, relations["sync_runs"])
        preflight = run_preflight(database, relations["sync_users"], args.allow_mass_disable)
        if preflight.email_change_warning:
            print(
                f"export_csv: warning: {preflight.email_changes} of "
                f"{preflight.sync_rows} sync rows "
                f"({_percent(preflight.email_change_share)}) change an email "
                f"address: {EMAIL_CHANGE_WARNING}",
                file=sys.stderr,
            )
        output_dir = Path(args.output_dir)
        result = write_outputs(database, relations, settings, preflight, output_dir)
    finally:
        database.close()
    print_summary(result, target_name)
    return EXIT_OK


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="export_csv.py",
        description="Write the Handshake sync and alumni update files and their "
        "reports from the dbt marts (run dbt build first).",
        epilog="exit codes: 0 written; 2 usage; 3 dbt build missing or had failing "
        "tests; 4 mass-disable stop; 5 database or data problem (cannot connect, "
        "locked, tables missing, order or uniqueness violated); 6 could not write "
        "outputs; 130 interrupted",
    )
    parser.add_argument(
        "--output-dir", required=True, help="directory for the files (created 0700)"
    )
    parser.add_argument(
        "--target", help="dbt target (default: $HANDSHAKE_TARGET, else the profile's)"
    )
    parser.add_argument(
        "--allow-mass-disable",
        action="store_true",
        help="write the files even when 50%% or more of the changed rows would disable an account",
    )
    parser.add_argument("--project-dir", default=".", help="the dbt project directory (default: .)")
    return parser.parse_args(argv)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        previous_handler = signal.signal(signal.SIGTERM, _interrupt)
    except ValueError:  # not the main thread: leave SIGTERM alone
        previous_handler = None
    try:
        return export(args)
    except ExportError as error:
        print(f"export_csv: {error.message}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("export_csv: interrupted; no temporary file left behind", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        if previous_handler is not None:
            signal.signal(signal.SIGTERM, previous_handler)


if __name__ == "__main__":
    sys.exit(main())
