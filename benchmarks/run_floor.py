"""Run benchmarks/floor.sql: the sync file by one DuckDB script, no dbt.

    python benchmarks/run_floor.py --raw-data-dir DIR --as-of-date YYYY-MM-DD
                                   --sync-file FILE [--memory-limit 12GB] [--timings]

benchmarks/run.py starts this as a child process to measure its wall time and
peak memory; it is also handy on its own. DuckDB works in memory; with
--memory-limit it spills past that amount to a folder beside the sync file
(as the project does with the var duckdb_memory_limit). With --timings it runs
the script a statement at a time and prints each statement's wall time (the
inputs read into tables, then the query that decides and writes the file).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import duckdb

FLOOR_SQL = Path(__file__).resolve().parent / "floor.sql"


def run_floor(
    raw_data_dir: str,
    as_of_date: str,
    sync_file: str,
    memory_limit: str | None,
    timings: bool = False,
) -> None:
    connection = duckdb.connect(":memory:")
    try:
        connection.execute("set enable_progress_bar = false")
        connection.execute("set temp_directory = ?", [str(Path(sync_file).parent / "spill")])
        if memory_limit:
            connection.execute("set memory_limit = ?", [memory_limit])
        for name, value in (
            ("raw_data_dir", raw_data_dir),
            ("as_of_date", as_of_date),
            ("sync_file", sync_file),
        ):
            connection.execute(f"set variable {name} = ?", [value])
        script = FLOOR_SQL.read_text(encoding="utf-8")
        if not timings:
            connection.execute(script)
            return
        for statement in duckdb.extract_statements(script):
            started = time.perf_counter()
            connection.execute(statement)
            print(f"{time.perf_counter() - started:7.2f} s  {_first_line(statement.query)}")
    finally:
        connection.close()


def _first_line(query: str) -> str:
    lines = [line.strip() for line in query.splitlines()]
    return next((line for line in lines if line and not line.startswith("--")), "")[:70]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="run_floor.py", description=__doc__.splitlines()[0])
    parser.add_argument("--raw-data-dir", required=True)
    parser.add_argument("--as-of-date", required=True)
    parser.add_argument("--sync-file", required=True)
    parser.add_argument(
        "--memory-limit", help="DuckDB's memory_limit, e.g. 12GB (default: 80%% of memory)"
    )
    parser.add_argument("--timings", action="store_true", help="print each statement's wall time")
    args = parser.parse_args(argv)
    run_floor(
        str(Path(args.raw_data_dir).resolve()),
        args.as_of_date,
        str(Path(args.sync_file).resolve()),
        args.memory_limit,
        args.timings,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
