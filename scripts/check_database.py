"""Say in one line which process holds the DuckDB database before `dbt build` opens it
(README "Robustness"; exit codes in --help)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import duckdb
from handshake_export import ExportError
from handshake_export.warehouse import load_target, lock_message

EXIT_OK, EXIT_LOCKED, EXIT_USAGE = 0, 1, 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="check_database.py",
        description="Check that the DuckDB database is not locked by another process.",
        epilog="exit codes: 0 fine; 1 locked or unreadable; 2 usage or profile error",
    )
    parser.add_argument("--target", help="dbt target (default: $HANDSHAKE_TARGET, the profile's)")
    parser.add_argument("--project-dir", default=".", help="the dbt project directory (default: .)")
    args = parser.parse_args(argv)
    try:
        target = load_target(Path(args.project_dir), args.target)[1]
    except ExportError as error:
        print(f"check_database: {error.message}", file=sys.stderr)
        return EXIT_USAGE
    path = str(target.get("path", ":memory:"))
    if target.get("type") != "duckdb" or path == ":memory:" or not Path(path).exists():
        return EXIT_OK
    try:
        duckdb.connect(path).close()  # for writing, as dbt opens it
    except duckdb.Error as error:
        print(f"check_database: {lock_message(path, error)}", file=sys.stderr)
        return EXIT_LOCKED
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
