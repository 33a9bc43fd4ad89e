"""The dbt profile `handshake_alumni` (rendered as dbt renders it) and one connect function
per connection method, each returning a Database (README "Layout")."""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import jinja2
import yaml

from handshake_export import EXIT_DATA, EXIT_USAGE, ExportError, first_line

PROFILE_NAME = "handshake_alumni"
FETCH_SIZE = 10_000
# DuckDB: 'Conflicting lock is held in /usr/bin/python3.11 (PID 4242)'.
LOCKED = "finish (a dbt build or export still running?) or stop it, then run again"
LOCK_HOLDER = re.compile(r"lock is held in (?P<program>.+?) \(PID (?P<pid>\d+)\)")


def _env_var(name: str, default: Any = None) -> Any:
    """dbt's env_var(): the variable, else the default, else an error."""
    if name in os.environ or default is not None:
        return os.environ.get(name, default)
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
            targets = ", ".join(sorted(outputs))
            raise ExportError(EXIT_USAGE, f"target {name!r} is not in {path} (targets: {targets})")
        return name, _render(outputs[name], environment)
    except (OSError, yaml.YAMLError, jinja2.TemplateError, KeyError, TypeError) as err:
        message = f"cannot read profile {PROFILE_NAME} from {path}: {first_line(err)}"
        raise ExportError(EXIT_DATA, message) from err


@dataclass
class Database:
    """rows(sql, streaming) yields a query's rows (streaming: a large result, fetched as it is
    written); errors: the driver's. DuckDB and PostgreSQL are read-only unless write=True."""

    rows: Callable[[str, bool], Iterator[tuple[Any, ...]]]
    close_connection: Callable[[], None]
    errors: tuple[type[Exception], ...]
    rollback: Callable[[], None] = lambda: None
    collate: str = ""  # what makes text compare by code point, whatever the collation
    renders_csv_lines: bool = False  # each CSV line rendered in SQL (marts.rendered_select)
    read_only: bool = False
    commit: Callable[[], None] = lambda: None

    def byte_order(self, column: str) -> str:
        return f"{column}{self.collate} nulls last"

    def stream(self, sql: str, streaming: bool = True) -> Iterator[tuple[Any, ...]]:
        """The rows of a query; a database error is an ExportError (exit 5)."""
        try:
            yield from self.rows(sql, streaming)
        except self.errors as error:
            raise ExportError(EXIT_DATA, f"database error: {first_line(error)}") from error

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        """All rows of a query with a small result."""
        return list(self.stream(sql, streaming=False))

    def has_relation(self, relation: str) -> bool:
        try:
            self.query(f"select * from {relation} where 1 = 0")
        except ExportError:
            self.rollback()
            return False
        return True

    def close(self) -> None:
        with contextlib.suppress(*self.errors):
            self.close_connection()


def append(database: Database | None, target: dict[str, Any], sql: str) -> None:
    """Run and commit one insert on `database`, else (read-only: closed first, DuckDB opens a
    file one way per process) on a new connection; closed either way."""
    if database is None or database.read_only:
        if database is not None:
            database.close()
        database = connect(target, write=True)
    try:
        database.query(sql)
        try:
            database.commit()
        except database.errors as error:
            raise ExportError(EXIT_DATA, f"database error: {first_line(error)}") from error
    finally:
        database.close()


def _batches(cursor: Any, sql: str, named: bool = False) -> Iterator[tuple[Any, ...]]:
    """A DB-API cursor's rows, FETCH_SIZE at a time; none for an insert (no description; a
    PostgreSQL named cursor's comes with its first fetch: it only runs selects)."""
    try:
        cursor.execute(sql)
        while (named or cursor.description is not None) and (batch := cursor.fetchmany(FETCH_SIZE)):
            yield from batch
    finally:
        cursor.close()


def lock_message(path: str, error: Exception) -> str:
    """One line for a DuckDB file that cannot be opened: locked (by which process) or not."""
    text = str(error)
    if "lock" not in text.lower():
        return f"cannot open the database {path}: {first_line(error)}"
    holder = LOCK_HOLDER.search(text)
    by = f" (PID {holder['pid']}, {holder['program']})" if holder else ""
    return f"the database {path} is locked by another process{by}: wait for it to {LOCKED}"


def _connect_duckdb(target: dict[str, Any], write: bool = False) -> Database:
    path = str(target.get("path", ":memory:"))  # relative to the working directory, as dbt's
    try:
        connection = duckdb.connect(path, read_only=not write)
        connection.execute("set enable_progress_bar = false")
    except duckdb.Error as error:
        if "does not exist" in str(error).lower():
            message = f"the database {path} does not exist: run dbt build first"
        else:
            message = lock_message(path, error)
        raise ExportError(EXIT_DATA, message) from error
    # Each CSV line rendered in SQL: at a million rows, fetching cells and csv cost the most.
    return Database(
        lambda sql, streaming: _batches(connection.cursor(), sql),
        connection.close,
        (duckdb.Error,),
        renders_csv_lines=True,
        read_only=not write,
    )


def _connect_postgres(target: dict[str, Any], write: bool = False) -> Database:
    try:
        import psycopg2
    except ImportError as error:
        message = "psycopg2 is not installed: pip install -r requirements.txt"
        raise ExportError(EXIT_DATA, message) from error
    keys = ("host", "port", "user", "password", "dbname", "sslmode")
    settings = {key: target[key] for key in keys if target.get(key) not in (None, "")}
    try:
        connection = psycopg2.connect(**settings)
        # One snapshot for every query of the export.
        connection.set_session(isolation_level="REPEATABLE READ", readonly=not write)
    except psycopg2.Error as error:
        message = f"cannot connect to PostgreSQL: {first_line(error)}"
        raise ExportError(EXIT_DATA, message) from error
    names = (f"export_csv_{number}" for number in itertools.count(1))

    def rows(sql: str, streaming: bool) -> Iterator[tuple[Any, ...]]:
        # A named cursor is server-side: rows travel as they are fetched.
        if streaming:
            return _batches(connection.cursor(name=next(names)), sql, named=True)
        return _batches(connection.cursor(), sql)

    return Database(
        rows,
        connection.close,
        (psycopg2.Error,),
        connection.rollback,
        ' collate "C"',
        read_only=not write,
        commit=connection.commit,
    )


def _connect_spark_session(target: dict[str, Any], write: bool = False) -> Database:
    """A local Spark session as dbt-spark's `method: session` opens it (same metastore)."""
    try:
        from py4j.protocol import Py4JError
        from pyspark.errors import PySparkException
        from pyspark.sql import SparkSession
    except ImportError as error:
        message = "pyspark is not installed: pip install -r requirements-spark.txt"
        raise ExportError(EXIT_DATA, message) from error
    builder = SparkSession.builder.enableHiveSupport()
    for key, value in (target.get("server_side_parameters") or {}).items():
        builder = builder.config(str(key), str(value))
    try:
        session = builder.getOrCreate()
        session.sparkContext.setLogLevel("ERROR")
    except (PySparkException, Py4JError, OSError) as error:
        message = f"cannot start Spark (Java 17 is required): {first_line(error)}"
        raise ExportError(EXIT_DATA, message) from error

    def rows(sql: str, streaming: bool) -> Iterator[tuple[Any, ...]]:
        return (tuple(row) for row in session.sql(sql).toLocalIterator())

    return Database(rows, session.stop, (PySparkException, Py4JError))


def _connect_spark_thrift(target: dict[str, Any], write: bool = False) -> Database:
    """A Spark Thrift server (HiveServer2), reached with PyHive as dbt-spark's `method: thrift`."""
    try:
        from pyhive import exc as hive_errors
        from pyhive import hive
        from thrift.Thrift import TException
    except ImportError as error:
        message = (
            "PyHive is not installed: pip install -r requirements.txt -r requirements-spark.txt"
        )
        raise ExportError(EXIT_DATA, message) from error
    logging.getLogger("thrift").disabled = True  # the ExportError below says it in one line
    host, port = target.get("host"), int(target.get("port") or 10000)
    settings = {key: target.get(key) for key in ("auth", "kerberos_service_name", "password")}
    settings["username"] = target.get("user")
    parameters = target.get("server_side_parameters") or {}
    configuration = {str(k): str(v) for k, v in parameters.items()}
    where = f"the Spark Thrift server at {host}:{port}"
    errors = (hive_errors.Error, TException, OSError, EOFError)
    try:
        if target.get("use_ssl"):
            from dbt.adapters.spark.connections import build_ssl_transport

            transport = build_ssl_transport(host=host, port=port, **settings)
            connection = hive.connect(thrift_transport=transport, configuration=configuration)
        else:
            connection = hive.connect(host=host, port=port, configuration=configuration, **settings)
    except ValueError as error:  # PyHive: auth, password and kerberos_service_name disagree
        message = f"profile settings for {where}: {first_line(error)}"
        raise ExportError(EXIT_USAGE, message) from error
    except errors as error:
        inner = getattr(error, "inner", None)  # thrift_sasl wraps the socket's error
        text = first_line(error) + (f": {first_line(inner)}" if inner is not None else "")
        if "Could not connect" in text or isinstance(error, ConnectionRefusedError):
            hint = "is it running, and are host and port right?"
        elif any(words in text for words in ("read 0 bytes", "reset by peer", "Broken pipe")):
            hint = "it closed the connection (not Thrift, or auth or use_ssl unlike the server's)"
        elif any(word in text.lower() for word in ("login", "auth", "sasl")):
            hint = "authentication refused: check user, password and auth"
        else:
            hint = "check host, port, auth and use_ssl"
        raise ExportError(EXIT_DATA, f"cannot connect to {where}: {hint} ({text})") from error
    return Database(lambda sql, _: _batches(connection.cursor(), sql), connection.close, errors)


# One function per (type, connection method) of a dbt target.
CONNECTORS: dict[tuple[str, str | None], Callable[[dict[str, Any], bool], Database]] = {
    ("duckdb", None): _connect_duckdb,
    ("postgres", None): _connect_postgres,
    ("spark", "session"): _connect_spark_session,
    ("spark", "thrift"): _connect_spark_thrift,
}


def connect(target: dict[str, Any], write: bool = False) -> Database:
    """A read-only connection to the target (write: one that may insert)."""
    engine = str(target.get("type", ""))
    method = target.get("method") if engine == "spark" else None
    if connector := CONNECTORS.get((engine, method)):
        return connector(target, write)
    if engine == "spark":
        methods = ", ".join(str(m) for e, m in CONNECTORS if e == "spark")
        raise ExportError(
            EXIT_USAGE,
            f"the export reaches Spark with method: {methods} only, not {method!r}: point a"
            " target with method: thrift at the cluster's Thrift server (README: Running on Spark)",
        )
    message = f"target type {engine!r} is not supported (duckdb, postgres, spark)"
    raise ExportError(EXIT_USAGE, message)
