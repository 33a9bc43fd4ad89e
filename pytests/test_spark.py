"""Spark writes the same files as DuckDB for the sample (make test-spark).

Both Spark methods the project supports, each built once (conftest.py,
`spark_samples`) and followed by the export:

- `spark`: dbt-spark's local session (in the dbt process);
- `spark_thrift`: a Spark Thrift server, the one scripts/with_spark_thrift.sh
  starts on 127.0.0.1 (make test-spark runs pytest under it).

On DuckDB the sample is built with its data tests (conftest.py,
`sample_build`; make test-dbt runs its unit tests), on each Spark method with
every data test, and the unit tests once, on one of the two
(UNIT_TEST_SPARK_TARGET). Every file written, manifest included, must be equal
byte for byte.

Runs only with the Spark requirements (requirements-spark.txt) and Java 17,
the Thrift tests only under scripts/with_spark_thrift.sh; a bare `pytest` in
.venv skips them, and HANDSHAKE_REQUIRE_SPARK=1 (CI) fails instead of skipping.
The last tests, of the export's connections, need no Spark.
"""

from __future__ import annotations

import importlib
import json
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import (
    PROJECT_ROOT,
    SPARK_TARGETS,
    UNIT_TEST_SPARK_TARGET,
    SampleBuild,
    SparkSamples,
    require_spark,
)


@pytest.mark.spark
@pytest.mark.parametrize("target", SPARK_TARGETS)
def test_duckdb_and_spark_write_byte_identical_files(
    target: str, spark_samples: SparkSamples, request: pytest.FixtureRequest
) -> None:
    spark = spark_samples.get(target)
    # DuckDB's build only once Spark is known to run here.
    sample_build: SampleBuild = request.getfixturevalue("sample_build")

    duckdb_files = {path.name: path.read_bytes() for path in sample_build.output_dir.iterdir()}
    spark_files = spark.files()
    assert sorted(duckdb_files) == sorted(spark_files)
    assert "20260615_users.csv" in duckdb_files
    for name, duckdb_bytes in duckdb_files.items():
        assert duckdb_bytes == spark_files[name], f"{name} differs between DuckDB and {target}"
    if target == "spark":
        for name in ("spark-warehouse", "metastore_db"):
            assert not (spark.root / name).exists(), f"Spark wrote {name} outside its folder"


@pytest.mark.spark
def test_spark_unit_tests_ran_once(spark_samples: SparkSamples) -> None:
    spark = spark_samples.get(UNIT_TEST_SPARK_TARGET)
    assert spark.with_unit_tests
    results = json.loads((spark.root / "target" / "run_results.json").read_text("utf-8"))
    unit_tests = [
        result for result in results["results"] if result["unique_id"].startswith("unit_test.")
    ]
    assert len(unit_tests) > 50
    assert {result["status"] for result in unit_tests} == {"pass"}


# ---------------------------------------------------------------------------
# The export's Spark connections


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


@pytest.mark.parametrize("method", ["http", "odbc"])
def test_export_refuses_spark_methods_it_cannot_reach(method: str) -> None:
    warehouse = load_package("warehouse")
    with pytest.raises(warehouse.ExportError) as raised:
        warehouse.connect({"type": "spark", "method": method, "host": "example.edu"})
    assert raised.value.exit_code == warehouse.EXIT_USAGE
    assert "method: thrift" in raised.value.message
    assert "README" in raised.value.message


def thrift_target(port: int, **settings: Any) -> dict[str, Any]:
    return {"type": "spark", "method": "thrift", "host": "127.0.0.1", "port": port, **settings}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def not_a_thrift_server() -> Iterator[int]:
    """A port that accepts connections and closes them at once."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except OSError:
                continue
            connection.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join()
    listener.close()


@pytest.mark.spark
def test_export_names_a_thrift_server_that_is_not_running() -> None:
    require_spark("spark")  # PyHive comes with the Spark requirements
    warehouse = load_package("warehouse")
    port = free_port()
    with pytest.raises(warehouse.ExportError) as raised:
        warehouse.connect(thrift_target(port, user="dbt"))
    assert raised.value.exit_code == warehouse.EXIT_DATA
    assert f"127.0.0.1:{port}: is it running" in raised.value.message
    assert "\n" not in raised.value.message


@pytest.mark.spark
def test_export_names_a_port_that_is_not_a_thrift_server(not_a_thrift_server: int) -> None:
    require_spark("spark")
    warehouse = load_package("warehouse")
    with pytest.raises(warehouse.ExportError) as raised:
        warehouse.connect(thrift_target(not_a_thrift_server, user="dbt"))
    assert raised.value.exit_code == warehouse.EXIT_DATA
    assert "closed the connection" in raised.value.message


@pytest.mark.spark
def test_export_says_when_profile_auth_settings_disagree() -> None:
    require_spark("spark")
    warehouse = load_package("warehouse")
    with pytest.raises(warehouse.ExportError) as raised:
        warehouse.connect(thrift_target(free_port(), user="dbt", password="secret"))
    assert raised.value.exit_code == warehouse.EXIT_USAGE
    assert "secret" not in raised.value.message


@pytest.mark.spark
def test_export_over_thrift_is_one_line_when_authentication_is_refused(tmp_path: Path) -> None:
    """A server of its own that checks passwords against an LDAP server
    that is not there: every login is refused."""
    require_spark("spark_thrift")
    script = (
        "import sys; sys.path.insert(0, 'scripts'); from handshake_export import warehouse\n"
        "target = {'type': 'spark', 'method': 'thrift', 'host': '127.0.0.1',"
        " 'port': int(__import__('os').environ['HANDSHAKE_SPARK_THRIFT_PORT']),"
        " 'user': 'dbt', 'auth': 'LDAP', 'password': 'wrong'}\n"
        "try:\n"
        "    warehouse.connect(target)\n"
        "except warehouse.ExportError as error:\n"
        "    print(error.exit_code, error.message)\n"
    )
    result = subprocess.run(
        ["bash", "scripts/with_spark_thrift.sh", sys.executable, "-c", script],
        cwd=PROJECT_ROOT,
        env={
            **__import__("os").environ,
            "SPARK_VENV": str(Path(sys.executable).parents[1]),
            "SPARK_THRIFT_DRIVER_MEMORY": "512m",
            "SPARK_THRIFT_HIVECONF": "hive.server2.authentication=LDAP "
            "hive.server2.authentication.ldap.url=ldap://127.0.0.1:1",
        },
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.splitlines()
    assert len(lines) == 1, result.stdout
    assert lines[0].startswith("5 cannot connect to the Spark Thrift server"), lines[0]
    assert "authentication refused" in lines[0], lines[0]
    assert "wrong" not in lines[0]
