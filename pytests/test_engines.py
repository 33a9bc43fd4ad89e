"""DuckDB and PostgreSQL write byte-identical files for the same inputs.

Runs only where a PostgreSQL server is reachable through the libpq variables
(`make test-postgres` starts one: scripts/with_postgres.sh). The sample seeds
are built twice in one temporary copy of the project, once per engine, each
followed by the export; every file written, manifest included, must be equal
byte for byte. The server's ICU en-US collation sorts 'Zed' after 'alice',
so equal files also prove that every ordering is in code-point order.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

pytestmark = pytest.mark.engines

PROJECT_ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
VARS = json.dumps({"as_of_date": "2026-06-15"})
COPIED = ("dbt_project.yml", "profiles.yml", "macros", "models", "tests", "scripts", "seeds")


def postgres_available() -> bool:
    return os.environ.get("HANDSHAKE_TEST_TARGET") == "postgres" or bool(os.environ.get("PGHOST"))


def copy_project(destination: Path) -> Path:
    project = destination / "project"
    project.mkdir(parents=True)
    for name in COPIED:
        source = PROJECT_ROOT / name
        if source.is_dir():
            shutil.copytree(source, project / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, project / name)
    return project


def run(command: list[str], project: Path, env: dict[str, str]) -> None:
    result = subprocess.run(
        command, cwd=project, env=env, capture_output=True, text=True, timeout=900, check=False
    )
    assert result.returncode == 0, (
        f"{command[:2]} failed:\n{result.stdout[-4000:]}\n{result.stderr}"
    )


def build_and_export(project: Path, target: str, output: Path, env: dict[str, str]) -> None:
    run(
        [
            str(BIN / "dbt"),
            "build",
            "--target",
            target,
            "--exclude",
            "test_type:unit",
            "--vars",
            VARS,
        ],
        project,
        env,
    )
    run(
        [sys.executable, "scripts/export_csv.py", "--target", target, "--output-dir", str(output)],
        project,
        env,
    )


@pytest.mark.skipif(not postgres_available(), reason="no PostgreSQL server (make test-postgres)")
def test_duckdb_and_postgres_write_byte_identical_files(tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    (tmp_path / "db").mkdir()
    env = {
        **os.environ,
        "DO_NOT_TRACK": "1",
        "HANDSHAKE_DUCKDB_PATH": str(tmp_path / "db" / "engines.duckdb"),
        "HANDSHAKE_PG_SCHEMA": f"engines_{uuid.uuid4().hex[:12]}",
    }
    build_and_export(project, "duckdb", tmp_path / "duckdb", env)
    build_and_export(project, "postgres", tmp_path / "postgres", env)

    duckdb_files = sorted(path.name for path in (tmp_path / "duckdb").iterdir())
    postgres_files = sorted(path.name for path in (tmp_path / "postgres").iterdir())
    assert duckdb_files == postgres_files
    assert "20260615_users.csv" in duckdb_files
    for name in duckdb_files:
        duckdb_bytes = (tmp_path / "duckdb" / name).read_bytes()
        postgres_bytes = (tmp_path / "postgres" / name).read_bytes()
        assert duckdb_bytes == postgres_bytes, f"{name} differs between DuckDB and PostgreSQL"
