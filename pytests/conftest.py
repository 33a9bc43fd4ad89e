"""Shared fixtures: the sample project built once per session in a copy.

`sample_build` copies the project (dbt_project.yml, profiles.yml, macros,
models, tests, scripts and seeds; never .venv, target, data, output or
.git) into a temporary folder and, with that copy as working directory and
its own DuckDB file (HANDSHAKE_DUCKDB_PATH), runs:

    dbt build --exclude test_type:unit --vars '{"as_of_date": "2026-06-15"}'
    python scripts/export_csv.py --output-dir <tmp>/out
    python scripts/export_csv.py --output-dir <tmp>/rerun
    dbt docs generate --vars '{"as_of_date": "2026-06-15"}'

so that the description, report and browser tests read a real manifest,
catalog, docs site and export without touching the project's own data/,
target/ or output/. (The unit tests mock every input; `make test-dbt` runs
them.)

`spark_samples` builds and exports the same sample once per Spark target
(`spark`: dbt-spark's local session; `spark_thrift`: the Thrift server that
scripts/with_spark_thrift.sh starts) for every test that only reads it:
pytests/test_spark.py compares it with `sample_build`, byte for byte, and the
end-to-end suite's sample tests read it on Spark. The dbt unit tests run in
one of the two builds (UNIT_TEST_SPARK_TARGET). Spark that cannot run here
skips those tests, unless HANDSHAKE_REQUIRE_SPARK=1 (make test-spark in CI),
which turns the skip into a failure.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
AS_OF_DATE = "2026-06-15"
VARS = json.dumps({"as_of_date": AS_OF_DATE})
COPIED_FILES = ("dbt_project.yml", "profiles.yml")
COPIED_FOLDERS = ("macros", "models", "tests", "scripts", "seeds")
TIMEOUT = 900
SPARK_TIMEOUT = 2400
SPARK_TARGETS = ("spark", "spark_thrift")
# Kept when a test copies the environment without DBT_* and HANDSHAKE_*:
# where scripts/with_spark_thrift.sh's server listens.
KEPT_VARIABLES = ("HANDSHAKE_SPARK_THRIFT_HOST", "HANDSHAKE_SPARK_THRIFT_PORT")


def clean_env() -> dict[str, str]:
    """os.environ without DBT_* and HANDSHAKE_* (but the Thrift server's address)."""
    return {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("DBT_", "HANDSHAKE_")) or name in KEPT_VARIABLES
    }


def spark_missing(target: str) -> str:
    """Why this Spark target cannot run here ('' when it can)."""
    if importlib.util.find_spec("pyspark") is None or shutil.which("dbt", path=str(BIN)) is None:
        return "no PySpark in this venv (make test-spark installs requirements-spark.txt)"
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        return "no Java (Spark needs Java 17)"
    if target == "spark_thrift":
        if importlib.util.find_spec("pyhive") is None:
            return "no PyHive in this venv (requirements-spark.txt)"
        if not os.environ.get("HANDSHAKE_SPARK_THRIFT_PORT"):
            return (
                "no Spark Thrift server: run under scripts/with_spark_thrift.sh (make test-spark)"
            )
    return ""


def require_spark(target: str) -> None:
    """Skip when the target cannot run, or fail with HANDSHAKE_REQUIRE_SPARK=1."""
    reason = spark_missing(target)
    if reason:
        if os.environ.get("HANDSHAKE_REQUIRE_SPARK") == "1":
            pytest.fail(f"HANDSHAKE_REQUIRE_SPARK=1 but {target} cannot run: {reason}")
        pytest.skip(reason)


# The dbt unit tests mock every input: they run once, in the build of the
# Thrift server when there is one (warm, so faster), else the local session's.
UNIT_TEST_SPARK_TARGET = "spark" if spark_missing("spark_thrift") else "spark_thrift"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "browser: tests that open pages in headless Chromium (make browser)"
    )
    config.addinivalue_line(
        "markers", "spark: DuckDB and Spark write the same files (make test-spark)"
    )


@dataclass(frozen=True)
class SampleBuild:
    """The sample project, built, exported twice and documented."""

    root: Path
    output_dir: Path
    rerun_dir: Path

    @property
    def target_dir(self) -> Path:
        return self.root / "target"

    def artifact(self, name: str) -> dict[str, Any]:
        return json.loads((self.target_dir / name).read_text(encoding="utf-8"))

    def manifest(self) -> dict[str, Any]:
        """The export's manifest.json (not dbt's)."""
        return json.loads((self.output_dir / "manifest.json").read_text(encoding="utf-8"))


# The Thrift server of pyspark's wheel lacks Hive's hive-llap-common jar, so a
# session close that reaches Hive's FunctionRegistry now and then fails with
# NoClassDefFoundError LlapSigner (SPARK-51041; a cluster's server ships the
# jar). dbt reports it as the failure of whichever model closed its session;
# the tests build once more when, and only when, that is the failure.
THRIFT_SESSION_CLOSE_FAULT = "org/apache/hadoop/hive/llap/security/LlapSigner"


def is_thrift_session_close_fault(result: subprocess.CompletedProcess[str]) -> bool:
    return result.returncode != 0 and THRIFT_SESSION_CLOSE_FAULT in result.stdout


def _run(
    command: list[str], cwd: Path, env: dict[str, str], timeout: int = TIMEOUT
) -> subprocess.CompletedProcess[str]:
    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            command,
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            timeout=timeout,
            check=False,
        )

    result = run()
    if "build" in command and is_thrift_session_close_fault(result):
        result = run()
    if result.returncode != 0:
        pytest.fail(
            f"{' '.join(command)} failed ({result.returncode}):\n"
            f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
        )
    return result


@pytest.fixture(scope="session")
def sample_build(tmp_path_factory: pytest.TempPathFactory) -> SampleBuild:
    base = tmp_path_factory.mktemp("sample_build")
    root = base / "project"
    root.mkdir()
    for name in COPIED_FILES:
        shutil.copy2(PROJECT_ROOT / name, root / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in COPIED_FOLDERS:
        shutil.copytree(PROJECT_ROOT / name, root / name, ignore=ignore)
    env = clean_env()
    env.update(
        HANDSHAKE_DUCKDB_PATH=str(base / "db" / "sample.duckdb"),
        HANDSHAKE_TARGET="duckdb",
        DO_NOT_TRACK="1",
        DBT_USE_COLORS="false",
    )
    (base / "db").mkdir()
    dbt, python = str(BIN / "dbt"), sys.executable
    _run([dbt, "build", "--exclude", "test_type:unit", "--vars", VARS], root, env)
    build = SampleBuild(root, base / "out", base / "rerun")
    for output_dir in (build.output_dir, build.rerun_dir):
        _run([python, "scripts/export_csv.py", "--output-dir", str(output_dir)], root, env)
    _run([dbt, "docs", "generate", "--vars", VARS], root, env)
    return build


@dataclass(frozen=True)
class SparkSample:
    """The sample project built and exported on one Spark target."""

    target: str
    root: Path
    output_dir: Path
    check: subprocess.CompletedProcess[str]
    build: subprocess.CompletedProcess[str]
    export: subprocess.CompletedProcess[str]
    with_unit_tests: bool

    def files(self) -> dict[str, bytes]:
        return {path.name: path.read_bytes() for path in sorted(self.output_dir.iterdir())}


class SparkSamples:
    """Builds each Spark target's sample once, on first use."""

    def __init__(self, factory: pytest.TempPathFactory) -> None:
        self.factory = factory
        self.built: dict[str, SparkSample] = {}

    def get(self, target: str) -> SparkSample:
        require_spark(target)
        if target not in self.built:
            self.built[target] = self._build(target)
        return self.built[target]

    def _build(self, target: str) -> SparkSample:
        base = self.factory.mktemp(f"sample_{target}")
        root = base / "project"
        root.mkdir()
        for name in COPIED_FILES:
            shutil.copy2(PROJECT_ROOT / name, root / name)
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
        for name in COPIED_FOLDERS:
            shutil.copytree(PROJECT_ROOT / name, root / name, ignore=ignore)
        env = clean_env()
        digest = hashlib.sha256(str(root).encode()).hexdigest()[:12]
        env.update(
            HANDSHAKE_TARGET=target,
            # session: its warehouse and metastore; thrift: a schema of its own.
            HANDSHAKE_SPARK_DIR=str(base / "spark"),
            HANDSHAKE_SPARK_SCHEMA=f"sample_{digest}",
            DO_NOT_TRACK="1",
            DBT_USE_COLORS="false",
        )
        with_unit_tests = target == UNIT_TEST_SPARK_TARGET
        unit_tests = [] if with_unit_tests else ["--exclude", "test_type:unit"]
        python = sys.executable
        check = _run([python, "scripts/check_inputs.py", "seeds"], root, env)
        build = _run(
            [str(BIN / "dbt"), "build", "--target", target, *unit_tests, "--vars", VARS],
            root,
            env,
            SPARK_TIMEOUT,
        )
        output_dir = base / "out"
        command = [python, "scripts/export_csv.py", "--target", target]
        export = _run([*command, "--output-dir", str(output_dir)], root, env, SPARK_TIMEOUT)
        return SparkSample(target, root, output_dir, check, build, export, with_unit_tests)


@pytest.fixture(scope="session")
def spark_samples(tmp_path_factory: pytest.TempPathFactory) -> SparkSamples:
    return SparkSamples(tmp_path_factory)
