"""Check that dbt can open the DuckDB database before `dbt build` runs.

    python scripts/check_database.py [--target T] [--project-dir .]

DuckDB lets one process write a database file at a time; when another holds
it (a running build or export, a notebook, the DuckDB CLI), dbt stops with a
long traceback. This says in one line which file is locked and by which
process. The path comes from the dbt profile, as dbt and the export read it;
other engines and a database not created yet pass.

Exit codes: 0 the database can be opened; 1 it is locked or cannot be opened;
2 usage or profile error.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from pathlib import Path

import duckdb
from handshake_export import ExportError
from handshake_export.warehouse import load_target

EXIT_OK = 0
EXIT_LOCKED = 1
EXIT_USAGE = 2
# DuckDB: 'Conflicting lock is held in /usr/bin/python3.11 (PID 4242)'.
LOCK_HOLDER = re.compile(r"lock is held in (?P<program>.+?) \(PID (?P<pid>\d+)\)")


def lock_problem(path: str) -> str | None:
    """None when the database file can be opened for writing, else a one-line message."""
    if path == ":memory:" or not Path(path).exists():
        return None
    try:
        duckdb.connect(path).close()
    except duckdb.Error as error:
        text = str(error)
        if "lock" not in text.lower():
            first_line = text.strip().splitlines()[0] if text.strip() else type(error).__name__
            return f"cannot open the database {path}: {first_line}"
        holder = LOCK_HOLDER.search(text)
        by = f" (PID {holder['pid']}, {holder['program']})" if holder else ""
        return (
            f"the database {path} is locked by another process{by}: wait for it to "
            "finish (a dbt build or export still running?) or stop it, then run again"
        )
    return None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="check_database.py",
        description="Check that the DuckDB database is not locked by another process.",
        epilog="exit codes: 0 fine; 1 locked or unreadable; 2 usage or profile error",
    )
    parser.add_argument(
        "--target", help="dbt target (default: $HANDSHAKE_TARGET, else the profile's)"
    )
    parser.add_argument("--project-dir", default=".", help="the dbt project directory (default: .)")
    args = parser.parse_args(argv)
    try:
        name, target = load_target(Path(args.project_dir), args.target)
    except ExportError as error:
        print(f"check_database: {error.message}", file=sys.stderr)
        return EXIT_USAGE
    if target.get("type") != "duckdb":
        return EXIT_OK
    problem = lock_problem(str(target.get("path", ":memory:")))
    if problem:
        print(f"check_database: {problem}", file=sys.stderr)
        return EXIT_LOCKED
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
