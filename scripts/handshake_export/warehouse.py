"""The warehouse: the dbt profile, and one connect function per connection method.

The connection comes from the dbt profile `handshake_alumni` in
<project>/profiles.yml; the target is --target, else $HANDSHAKE_TARGET, else the
profile's default. Database is the little the export needs of a connection:
small queries, streamed queries, whether a relation exists.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

import duckdb
import jinja2
import yaml

from handshake_export import EXIT_DATA, EXIT_USAGE, ExportError, first_line

PROFILE_NAME = "handshake_alumni"
FETCH_SIZE = 10_000


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
            f"cannot read profile {PROFILE_NAME} from {path}: {first_line(err)}",
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
            raise ExportError(EXIT_DATA, f"database error: {first_line(error)}") from error

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
            raise ExportError(EXIT_DATA, f"database error: {first_line(error)}") from error

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


def _connect_duckdb(target: dict[str, Any]) -> Database:
    path = str(target.get("path", ":memory:"))
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
            message = f"cannot open the database {path}: {first_line(error)}"
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
            EXIT_DATA, f"cannot connect to PostgreSQL: {first_line(error)}"
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
    `method: session` opens it (same warehouse folder and metastore)."""
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
            EXIT_DATA, f"cannot start Spark (Java 17 is required): {first_line(error)}"
        ) from error
    return Database("spark", _SparkConnection(session), (PySparkException, Py4JError))


# One function per (type, connection method) of a dbt target.
CONNECTORS = {
    ("duckdb", None): _connect_duckdb,
    ("postgres", None): _connect_postgres,
    ("spark", "session"): _connect_spark,
}


def connect(target: dict[str, Any]) -> Database:
    engine = str(target.get("type", ""))
    method = target.get("method") if engine == "spark" else None
    connector = CONNECTORS.get((engine, method))
    if connector is not None:
        return connector(target)
    if engine == "spark":
        methods = ", ".join(str(m) for e, m in CONNECTORS if e == "spark")
        raise ExportError(
            EXIT_USAGE,
            f"the export reaches Spark with method: {methods} only, not {method!r}"
            " (README: Running on Spark)",
        )
    raise ExportError(
        EXIT_USAGE, f"target type {engine!r} is not supported (duckdb, postgres, spark)"
    )
