"""Spark writes the same files as DuckDB for the sample (make test-spark).

(The last two tests, of the export's Spark connection, need no Spark.)

Runs only with the Spark requirements (requirements-spark.txt: dbt-spark's
local session and PySpark) and Java 17; a bare `pytest` in .venv skips it.
The sample seeds are built in one temporary copy of the project, once per
engine, each followed by the export: on DuckDB the data tests only (make
test-dbt runs its unit tests), on Spark every data and unit test. Every file
written, manifest included, must be equal byte for byte.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
VARS = json.dumps({"as_of_date": "2026-06-15"})
COPIED = ("dbt_project.yml", "profiles.yml", "macros", "models", "tests", "scripts", "seeds")
TIMEOUT = 2400


def spark_missing() -> str:
    """Why Spark cannot run here ('' when it can)."""
    if importlib.util.find_spec("pyspark") is None or shutil.which("dbt", path=str(BIN)) is None:
        return "no PySpark in this venv (make test-spark installs requirements-spark.txt)"
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        return "no Java (Spark needs Java 17)"
    return ""


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
        command, cwd=project, env=env, capture_output=True, text=True, timeout=TIMEOUT, check=False
    )
    assert result.returncode == 0, (
        f"{command[:4]} failed:\n{result.stdout[-6000:]}\n{result.stderr[-3000:]}"
    )


def build_and_export(
    project: Path, target: str, output: Path, env: dict[str, str], *dbt_options: str
) -> None:
    dbt = str(BIN / "dbt")
    run([dbt, "build", "--target", target, "--vars", VARS, *dbt_options], project, env)
    run(
        [sys.executable, "scripts/export_csv.py", "--target", target, "--output-dir", str(output)],
        project,
        env,
    )


@pytest.mark.spark
@pytest.mark.skipif(bool(spark_missing()), reason=spark_missing() or "Spark is available")
def test_duckdb_and_spark_write_byte_identical_files(tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    (tmp_path / "db").mkdir()
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("DBT_", "HANDSHAKE_"))
    }
    env.update(
        DO_NOT_TRACK="1",
        DBT_USE_COLORS="false",
        HANDSHAKE_DUCKDB_PATH=str(tmp_path / "db" / "engines.duckdb"),
        HANDSHAKE_SPARK_DIR=str(tmp_path / "spark"),
    )
    build_and_export(project, "duckdb", tmp_path / "duckdb", env, "--exclude", "test_type:unit")
    build_and_export(project, "spark", tmp_path / "spark_output", env)

    duckdb_files = sorted(path.name for path in (tmp_path / "duckdb").iterdir())
    spark_files = sorted(path.name for path in (tmp_path / "spark_output").iterdir())
    assert duckdb_files == spark_files
    assert "20260615_users.csv" in duckdb_files
    for name in duckdb_files:
        duckdb_bytes = (tmp_path / "duckdb" / name).read_bytes()
        spark_bytes = (tmp_path / "spark_output" / name).read_bytes()
        assert duckdb_bytes == spark_bytes, f"{name} differs between DuckDB and Spark"
    assert not (project / "spark-warehouse").exists(), "Spark wrote outside HANDSHAKE_SPARK_DIR"
    assert not (project / "metastore_db").exists(), "Spark wrote outside HANDSHAKE_SPARK_DIR"


def load_package(name: str) -> Any:
    sys.path.insert(0, str(PROJECT_ROOT / "scripts"))
    try:
        return importlib.import_module(f"handshake_export.{name}")
    finally:
        sys.path.pop(0)


def test_build_log_is_quoted_as_the_engine_quotes_sync_runs() -> None:
    beside = load_package("build").beside
    assert beside('"db"."main"."sync_runs"', "build_log") == '"db"."main"."build_log"'
    assert beside("handshake_alumni.sync_runs", "build_log") == "handshake_alumni.build_log"
    assert beside("`handshake_alumni`.`sync_runs`", "build_inputs") == (
        "`handshake_alumni`.`build_inputs`"
    )


def test_export_reaches_spark_through_session_and_thrift_only() -> None:
    """Thrift is a connector since the thrift branch: another method is a usage error."""
    warehouse = load_package("warehouse")
    with pytest.raises(warehouse.ExportError) as raised:
        warehouse.connect({"type": "spark", "method": "http", "host": "example.edu"})
    assert raised.value.exit_code == warehouse.EXIT_USAGE
    assert "method: session" in raised.value.message
