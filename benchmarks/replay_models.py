"""Replay a benchmark run's models one after the other in one DuckDB process, timed.

    python benchmarks/replay_models.py --run-dir benchmarks/.work/runs/1m/project-1
                                       [--storage file|memory|memory-compressed] [--tests]

Where does DuckDB's own time go, without dbt and without threads competing for
the cores? This takes the SQL dbt compiled for a finished project run of
benchmarks/run.py (its target/ folder) and runs every model's SQL in dependency
order as `create or replace table`, then, with --tests, every data test's SQL as
a count, and prints each one's wall and CPU time (CPU time of this process: both
cores count).

--storage says where the tables go:
  file               a copy of the run's database file (as dbt writes them;
                     DuckDB compresses every table it writes to a file)
  memory             an in-memory database (DuckDB does not compress it)
  memory-compressed  an in-memory database that compresses like a file
The difference between the first two is what writing tables to the file costs.
The copy (or the in-memory database) is deleted afterwards; the run's own
database is only read.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import duckdb

STORAGES = ("file", "memory", "memory-compressed")


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def load_nodes(target: Path) -> tuple[list[dict], list[dict]]:
    """The run's models in dependency order, and its data tests."""
    manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    nodes = manifest["nodes"]
    models = {uid: node for uid, node in nodes.items() if node["resource_type"] == "model"}
    ordered: list[dict] = []
    done: set[str] = set()

    def visit(uid: str) -> None:
        if uid in done:
            return
        done.add(uid)
        for parent in models[uid]["depends_on"]["nodes"]:
            if parent in models:
                visit(parent)
        ordered.append(models[uid])

    for uid in sorted(models):
        visit(uid)
    tests = [
        node
        for uid, node in sorted(nodes.items())
        if node["resource_type"] == "test" and node.get("compiled_path")
    ]
    return ordered, tests


def compiled_sql(target: Path, node: dict) -> str:
    path = target.parent / node["compiled_path"]
    if not path.is_file():
        raise SystemExit(f"replay_models: {path} is missing: was the run finished?")
    return path.read_text(encoding="utf-8")


def connect(database: Path, storage: str, scratch: Path) -> duckdb.DuckDBPyConnection:
    """A connection whose current database has the run database's name (the
    compiled SQL names it), holding the run's tables that are not models."""
    name = database.stem
    if storage == "file":
        copy = scratch / database.name
        shutil.copyfile(database, copy)
        return duckdb.connect(str(copy))
    connection = duckdb.connect(":memory:")
    connection.execute("set temp_directory = ?", [str(scratch / "spill")])
    option = " (compress)" if storage == "memory-compressed" else ""
    connection.execute(f"attach ':memory:' as \"{name}\"{option}")
    path = str(database).replace("'", "''")
    connection.execute(f"attach '{path}' as run_database (read_only)")
    connection.execute(f'use "{name}"')
    return connection


def copy_other_tables(connection: duckdb.DuckDBPyConnection, name: str, models: set[str]) -> None:
    tables = connection.execute(
        "select schema_name, table_name from duckdb_tables() where database_name = 'run_database'"
    ).fetchall()
    for schema, table in tables:
        if table in models:
            continue
        connection.execute(f'create schema if not exists "{name}"."{schema}"')
        connection.execute(
            f'create table "{name}"."{schema}"."{table}" as '
            f'select * from run_database."{schema}"."{table}"'
        )
    connection.execute("detach run_database")


def timed(connection: duckdb.DuckDBPyConnection, sql: str) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), cpu_seconds()
    connection.execute(sql).fetchall()
    return time.perf_counter() - wall, cpu_seconds() - cpu


def replay(run_dir: Path, storage: str, with_tests: bool) -> int:
    target = run_dir / "target"
    database = run_dir / "handshake.duckdb"
    if not (target / "manifest.json").is_file() or not database.is_file():
        raise SystemExit(
            f"replay_models: {run_dir} is not a finished project run of benchmarks/run.py"
        )
    models, tests = load_nodes(target)
    with tempfile.TemporaryDirectory(prefix="replay-", dir=run_dir.parent) as scratch:
        connection = connect(database, storage, Path(scratch))
        try:
            if storage != "file":
                copy_other_tables(connection, database.stem, {node["alias"] for node in models})
            connection.execute("set preserve_insertion_order = false")
            rows: list[tuple[str, str, float, float]] = []
            for node in models:
                schema, alias = node["schema"], node["alias"]
                sql = compiled_sql(target, node)
                wall, cpu = timed(
                    connection, f'create or replace table "{schema}"."{alias}" as (\n{sql}\n)'
                )
                rows.append(("model", node["name"], wall, cpu))
                print(f"model {node['name']:<48} {wall:7.2f} s  cpu {cpu:7.2f} s", flush=True)
            for node in tests if with_tests else []:
                sql = compiled_sql(target, node)
                wall, cpu = timed(connection, f"select count(*) from (\n{sql}\n) as failures")
                rows.append(("test", node["name"], wall, cpu))
                print(f"test  {node['name'][:48]:<48} {wall:7.2f} s  cpu {cpu:7.2f} s", flush=True)
        finally:
            connection.close()
    for kind in ("model", "test"):
        chosen = [row for row in rows if row[0] == kind]
        if chosen:
            print(
                f"{len(chosen)} {kind}s ({storage}): wall {sum(r[2] for r in chosen):.1f} s, "
                f"cpu {sum(r[3] for r in chosen):.1f} s"
            )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="replay_models.py", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--run-dir", required=True, type=Path, help="a project run of benchmarks/run.py"
    )
    parser.add_argument("--storage", choices=STORAGES, default="file")
    parser.add_argument("--tests", action="store_true", help="also time every data test")
    args = parser.parse_args(argv)
    return replay(args.run_dir.resolve(), args.storage, args.tests)


if __name__ == "__main__":
    sys.exit(main())
