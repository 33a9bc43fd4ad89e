"""End-to-end tests: the real pipeline on fixture inputs, in temporary copies.

Each scenario copies the project (dbt_project.yml, profiles.yml, macros,
models, tests, scripts and the project's own files of seeds/: its ymls and
the reference seeds such as issue_codes.csv; never .venv, target, data,
output or .git) into a temporary folder base/project, puts the five input CSV
files into its seeds/, and runs, with that copy as the working directory:

    python scripts/check_inputs.py seeds
    dbt build --vars '{"as_of_date": "2026-06-15", ...}'
    python scripts/export_csv.py --output-dir base/out

with DO_NOT_TRACK=1 and HANDSHAKE_DUCKDB_PATH=../db/test.duckdb (that is
base/db/test.duckdb, written relative to the copy so that every copy has the
same dbt profile), so that no test touches the real project's database,
target/ or output/.

Fixture data: pytests/fixtures/small (18 hand-made students covering the
rules of SPEC sections 4 and 5, with hand-derived expected files in
pytests/fixtures/small/expected) and pytests/fixtures/mass (older alumni that
the disable policy would disable all at once). The sample seeds shipped in
seeds/ are built too, for the counts README promises.

Speed. A dbt build of this project takes 15-25 s, so every dataset is built
once and reused by several tests, and the independent builds (the
"scenarios" below) start together in background threads as soon as the
first e2e test runs (E2E_WORKERS, default 2, at a time). The dbt unit tests
(the unit_tests of models/**/*.yml) mock every input, so their result does not
depend on the fixture data and they add about 30 s to a build: the Makefile
hand flow (test 8, with a non-default setting) runs the plain `dbt build`
with them, the other builds add `--exclude test_type:unit`
(UNIT_TESTS_EXCLUDED). `make test-dbt` runs every unit test anyway.

On Spark (HANDSHAKE_TEST_TARGET=spark or spark_thrift, make test-spark) the
tests whose meaning is the engine's (the models' files, the build log and its
refusals, the settings' effect, re-builds) run on Spark; the sample's build is
the one pytests/test_spark.py compares with DuckDB (conftest.py,
spark_samples), not a build of its own; and the tests of engine-independent
Python behaviour (check_inputs, file modes, the mass-disable stop's exit and
untouched folder, what the export prints) are skipped with the reason
ENGINE_INDEPENDENT: they run on DuckDB (make test) and PostgreSQL
(make test-postgres).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from conftest import KEPT_VARIABLES, SPARK_TARGETS, SparkSamples, is_thrift_session_close_fault

pytestmark = pytest.mark.e2e

PROJECT_ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SMALL = FIXTURES / "small"
MASS = FIXTURES / "mass"
SAMPLE = PROJECT_ROOT / "seeds"
BIN = Path(sys.executable).parent
DBT = str(BIN / "dbt")
PYTHON = sys.executable
# make test-postgres runs this suite against its throwaway server
# (HANDSHAKE_TEST_TARGET=postgres, PG* set by scripts/with_postgres.sh);
# make test-spark against the Spark Thrift server of scripts/with_spark_thrift.sh
# (HANDSHAKE_TEST_TARGET=spark_thrift: a schema per copy), or a local Spark
# session (HANDSHAKE_TEST_TARGET=spark: each copy keeps its warehouse and
# metastore in its own .spark/ folder).
TARGET = os.environ.get("HANDSHAKE_TEST_TARGET", "duckdb")
ON_SPARK = TARGET in SPARK_TARGETS
# Tests of Python behaviour that no engine changes: run on DuckDB and PostgreSQL.
ENGINE_INDEPENDENT = pytest.mark.skipif(
    ON_SPARK,
    reason="engine-independent Python behaviour: runs on DuckDB (make test) "
    "and PostgreSQL (make test-postgres)",
)

AS_OF_DATE = "2026-06-15"
YYYYMMDD = "20260615"
USERS_FILE = f"{YYYYMMDD}_users.csv"
UPDATE_FILE = f"alumni_update_{YYYYMMDD}.csv"
ISSUES_FILE = "import_issues.csv"
OUTCOMES_FILE = "student_outcomes.csv"
NOTICES_FILE = "alumni_password_notices.csv"
REPORT_FILE = "report.html"
MANIFEST_FILE = "manifest.json"
CSV_FILES = (USERS_FILE, UPDATE_FILE, ISSUES_FILE, OUTCOMES_FILE, NOTICES_FILE)
LISTED_FILES = frozenset({*CSV_FILES, REPORT_FILE})  # the manifest's "files"
ALL_FILES = frozenset({*LISTED_FILES, MANIFEST_FILE})

INPUT_FILES = (
    "sis_students.csv",
    "sis_student_majors.csv",
    "sis_class_levels.csv",
    "handshake_users.csv",
    "institution_email_domains.csv",
)
PROJECT_FILES = ("dbt_project.yml", "profiles.yml")
PROJECT_FOLDERS = ("macros", "models", "tests", "scripts")

# SPEC section 6, written out here rather than imported from the export.
HANDSHAKE_HEADER = (
    "username,email_address,auth_identifier,first_name,last_name,school_year_name,"
    "primary_education:education_level_name,primary_education:cumulative_gpa,"
    "primary_education:major_names,primary_education:primary_major_name,"
    "primary_education:start_date,primary_education:end_date,"
    "primary_education:currently_attending,disabled"
)
HEADERS = {
    USERS_FILE: HANDSHAKE_HEADER,
    UPDATE_FILE: HANDSHAKE_HEADER,
    ISSUES_FILE: "severity,code,student_id,username,detail",
    OUTCOMES_FILE: "student_id,username,outcome,reason",
    NOTICES_FILE: "username,email_address,first_name",
}
# Spark plans every query for about a second: its builds take minutes.
SUBPROCESS_TIMEOUT = 1800 if ON_SPARK else 600
# Data tests and models still run; only the input-independent unit tests are left out.
UNIT_TESTS_EXCLUDED = ("--exclude", "test_type:unit")
ANSI = re.compile(r"\x1b\[[0-9;]*m")

# dbt's parse cache (target/partial_parse.msgpack) per --vars value. A new
# copy starts from the cache of an earlier copy, and dbt re-parses only the
# files that differ (the seeds, an added test). dbt itself checks the vars,
# the profile and every file's checksum, and parses fully when anything else
# changed; seeds are read from the copy's own folder. The profile is the same
# for every copy because HANDSHAKE_DUCKDB_PATH is relative to the copy
# (../db/test.duckdb).
PARSE_CACHE: dict[str, bytes] = {}
PARSE_CACHE_LOCK = threading.Lock()
PARTIAL_PARSE_FILE = Path("target") / "partial_parse.msgpack"


# ---------------------------------------------------------------------------
# Running the pipeline in a copy of the project


@dataclass
class Project:
    """A copy of the dbt project (base/project) with its own DuckDB file
    (base/db/test.duckdb)."""

    root: Path
    database: Path

    def env(self) -> dict[str, str]:
        env = {
            name: value
            for name, value in os.environ.items()
            if not name.startswith(("DBT_", "HANDSHAKE_")) or name in KEPT_VARIABLES
        }
        env.update(
            # The same file as self.database, written relative to the copy.
            HANDSHAKE_DUCKDB_PATH=os.path.relpath(self.database, self.root),
            DO_NOT_TRACK="1",
            DBT_USE_COLORS="false",
            HANDSHAKE_TARGET=TARGET,
        )
        if TARGET == "postgres":
            # One schema per copy, so that parallel builds never share tables.
            digest = hashlib.sha256(str(self.root).encode()).hexdigest()[:16]
            env["HANDSHAKE_PG_SCHEMA"] = f"e2e_{digest}"
        if TARGET == "spark_thrift":
            # One schema per copy on the shared server.
            digest = hashlib.sha256(str(self.root).encode()).hexdigest()[:16]
            env["HANDSHAKE_SPARK_SCHEMA"] = f"e2e_{digest}"
        return env

    def run(self, *command: str, umask: int = -1) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            list(command),
            cwd=self.root,
            env=self.env(),
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            timeout=SUBPROCESS_TIMEOUT,
            umask=umask,
            check=False,
        )

    def check_inputs(self) -> subprocess.CompletedProcess[str]:
        return self.run(PYTHON, "scripts/check_inputs.py", "seeds")

    def dbt(self, *arguments: str) -> subprocess.CompletedProcess[str]:
        """dbt from sys.executable's bin folder, sharing the parse cache."""
        key = arguments[arguments.index("--vars") + 1] if "--vars" in arguments else ""
        cache = self.root / PARTIAL_PARSE_FILE
        with PARSE_CACHE_LOCK:
            cached = PARSE_CACHE.get(key)
        if cached is not None and not cache.exists():
            cache.parent.mkdir(exist_ok=True)
            cache.write_bytes(cached)
        result = self.run(DBT, *arguments)
        if "build" in arguments and is_thrift_session_close_fault(result):
            result = self.run(DBT, *arguments)  # conftest.THRIFT_SESSION_CLOSE_FAULT
        if result.returncode == 0 and cache.exists():
            with PARSE_CACHE_LOCK:
                PARSE_CACHE.setdefault(key, cache.read_bytes())
        return result

    def dbt_build(
        self, variables: dict[str, Any] | None = None, *options: str
    ) -> subprocess.CompletedProcess[str]:
        settings = {"as_of_date": AS_OF_DATE, **(variables or {})}
        return self.dbt("build", *options, "--vars", json.dumps(settings))

    def export(
        self, output_dir: Path, *options: str, umask: int = -1
    ) -> subprocess.CompletedProcess[str]:
        return self.run(
            PYTHON,
            "scripts/export_csv.py",
            "--output-dir",
            str(output_dir),
            *options,
            umask=umask,
        )

    def seed(self, name: str) -> Path:
        return self.root / "seeds" / name


def make_project(base: Path, inputs: Path) -> Project:
    """Copy the project into base/project with the five inputs from `inputs`."""
    root = base / "project"
    root.mkdir(parents=True)
    for name in PROJECT_FILES:
        shutil.copy2(PROJECT_ROOT / name, root / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in PROJECT_FOLDERS:
        shutil.copytree(PROJECT_ROOT / name, root / name, ignore=ignore)
    seeds = root / "seeds"
    seeds.mkdir()
    for path in (PROJECT_ROOT / "seeds").iterdir():
        if path.name not in INPUT_FILES:  # the ymls and the reference seeds
            shutil.copy2(path, seeds / path.name)
    for name in INPUT_FILES:
        shutil.copy2(inputs / name, seeds / name)
    database_dir = base / "db"
    database_dir.mkdir()
    return Project(root, database_dir / "test.duckdb")


def output_of(result: subprocess.CompletedProcess[str]) -> str:
    return ANSI.sub("", result.stdout + result.stderr)


def tail(result: subprocess.CompletedProcess[str], lines: int = 40) -> str:
    return "\n".join(output_of(result).splitlines()[-lines:])


def require_success(result: subprocess.CompletedProcess[str], what: str) -> None:
    if result.returncode != 0:
        pytest.fail(f"{what} exited {result.returncode}:\n{tail(result)}")


def read_files(directory: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(directory.iterdir())}


def file_states(directory: Path) -> dict[str, tuple[bytes, int, int]]:
    """Bytes, mtime and mode of every file: 'untouched' means all three are equal."""
    return {
        path.name: (
            path.read_bytes(),
            path.stat().st_mtime_ns,
            stat.S_IMODE(path.stat().st_mode),
        )
        for path in sorted(directory.iterdir())
    }


def copy_outputs(source: dict[str, bytes], directory: Path) -> None:
    """Earlier outputs, in a folder the export did not create."""
    directory.mkdir(mode=0o700)
    for name, data in source.items():
        path = directory / name
        path.write_bytes(data)
        path.chmod(0o600)


def csv_rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def replace_line(text: str, start: str, new_line: str | None) -> str:
    """Replace (or, with None, delete) the one line that starts with `start`."""
    lines = text.splitlines(keepends=True)
    matches = [index for index, line in enumerate(lines) if line.startswith(start)]
    assert len(matches) == 1, start
    if new_line is None:
        del lines[matches[0]]
    else:
        lines[matches[0]] = new_line
    return "".join(lines)


def assert_same_text(actual: bytes, expected: bytes, name: str) -> None:
    # As text first for a readable diff, then byte for byte.
    assert actual.decode("utf-8") == expected.decode("utf-8"), name
    assert actual == expected, name


@dataclass
class Run:
    """One dataset built and exported: the project and what each step printed."""

    project: Project
    output_dir: Path
    check: subprocess.CompletedProcess[str]
    build: subprocess.CompletedProcess[str]
    export: subprocess.CompletedProcess[str]
    files: dict[str, bytes] = field(default_factory=dict)

    @property
    def manifest(self) -> dict[str, Any]:
        return json.loads(self.files[MANIFEST_FILE])


def build_and_export(
    base: Path,
    inputs: Path,
    variables: dict[str, Any] | None = None,
    build_options: Sequence[str] = UNIT_TESTS_EXCLUDED,
) -> Run:
    project = make_project(base, inputs)
    check = project.check_inputs()
    require_success(check, "check_inputs.py")
    build = project.dbt_build(variables, *build_options)
    require_success(build, "dbt build")
    output_dir = base / "out"  # not created beforehand: the export creates it
    export = project.export(output_dir)
    require_success(export, "export_csv.py")
    return Run(project, output_dir, check, build, export, read_files(output_dir))


# ---------------------------------------------------------------------------
# Scenarios: the builds, started together in background threads


MASS_VARIABLES = {"disable_alumni_after_days": 365}
LOOKBACK_VARIABLES = {"alumni_lookback_days": 30}


@dataclass
class FailedBuild:
    """A copy whose dbt build is expected to fail, built but not exported."""

    project: Project
    check: subprocess.CompletedProcess[str]
    build: subprocess.CompletedProcess[str]


def scenario_small(base: Path) -> Run:
    return build_and_export(base, SMALL)


def scenario_sample(base: Path) -> Run:
    return build_and_export(base, SAMPLE)


def scenario_mass(base: Path) -> Project:
    project = make_project(base, MASS)
    require_success(project.check_inputs(), "check_inputs.py")
    require_success(project.dbt_build(MASS_VARIABLES, *UNIT_TESTS_EXCLUDED), "dbt build")
    return project


def scenario_failing_test(base: Path) -> FailedBuild:
    """The small dataset with a singular data test that always fails."""
    project = make_project(base, SMALL)
    (project.root / "tests" / "integrity" / "always_fails.sql").write_text(
        "select 1 as x\n", encoding="utf-8"
    )
    check = project.check_inputs()
    return FailedBuild(project, check, project.dbt_build(None, *UNIT_TESTS_EXCLUDED))


def rewrite_without_column(path: Path, column: str) -> None:
    rows = csv_rows(path.read_bytes())
    index = rows[0].index(column)
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    for row in rows:
        writer.writerow(row[:index] + row[index + 1 :])
    path.write_text(buffer.getvalue(), encoding="utf-8", newline="")


def scenario_missing_column(base: Path) -> FailedBuild:
    """The small dataset without handshake_users.csv's `disabled` column."""
    project = make_project(base, SMALL)
    rewrite_without_column(project.seed("handshake_users.csv"), "disabled")
    check = project.check_inputs()
    return FailedBuild(project, check, project.dbt_build(None, *UNIT_TESTS_EXCLUDED))


def scenario_lookback(base: Path) -> Run:
    """make run VARS='{"as_of_date": ..., "alumni_lookback_days": 30}' by hand:
    the plain commands of the Makefile's inputs, build and run targets, the
    unit tests included (on Spark without them: see below)."""
    project = make_project(base, SMALL)
    variables = json.dumps({"as_of_date": AS_OF_DATE, **LOOKBACK_VARIABLES})
    output_dir = base / "output"
    check = project.run(PYTHON, "scripts/check_inputs.py", "seeds")
    require_success(check, "check_inputs.py")
    # On Spark each unit test takes seconds: pytests/test_spark.py runs them
    # all once (make test-spark), this flow runs the models and data tests.
    unit_tests = UNIT_TESTS_EXCLUDED if ON_SPARK else ()
    build = project.dbt("build", "--target", TARGET, *unit_tests, "--vars", variables)
    require_success(build, "dbt build")
    export = project.run(
        PYTHON, "scripts/export_csv.py", "--output-dir", str(output_dir), "--target", TARGET
    )
    require_success(export, "export_csv.py")
    return Run(project, output_dir, check, build, export, read_files(output_dir))


# Fixture name -> the scenario that fixture waits for, in the order the
# builds start: the order the tests need them, the small dataset first (the
# next builds with the same vars then start from its parse cache).
SCENARIOS: dict[str, Callable[[Path], Any]] = {
    "small_run": scenario_small,
    "mass_project": scenario_mass,
    "sample_run": scenario_sample,
    "failing_test_build": scenario_failing_test,
    "missing_column_build": scenario_missing_column,
    "lookback_flow": scenario_lookback,
}


class ScenarioPool:
    """Runs the scenarios the selected tests need, a few at a time."""

    def __init__(self, factory: pytest.TempPathFactory, workers: int) -> None:
        self.factory = factory
        self.executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="e2e")
        self.futures: dict[str, Future[Any]] = {}

    def start(self, name: str) -> None:
        if name not in self.futures:
            base = self.factory.mktemp(f"e2e_{name}")
            self.futures[name] = self.executor.submit(SCENARIOS[name], base)

    def result(self, name: str) -> Any:
        self.start(name)
        return self.futures[name].result()

    def close(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=True)


@pytest.fixture(scope="session")
def scenarios(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ScenarioPool]:
    pool = ScenarioPool(tmp_path_factory, int(os.environ.get("E2E_WORKERS", "2")))
    needed = {name for item in request.session.items for name in item.fixturenames}
    for name in SCENARIOS:
        if name in needed and not (ON_SPARK and name == "sample_run"):
            pool.start(name)
    yield pool
    pool.close()


@pytest.fixture(scope="module")
def small_run(scenarios: ScenarioPool) -> Run:
    return scenarios.result("small_run")


@pytest.fixture(scope="module")
def sample_run(scenarios: ScenarioPool, spark_samples: SparkSamples) -> Run:
    if ON_SPARK:
        # The sample build that pytests/test_spark.py compares with DuckDB's.
        spark = spark_samples.get(TARGET)
        project = Project(spark.root, spark.root.parent / "db" / "test.duckdb")
        return Run(project, spark.output_dir, spark.check, spark.build, spark.export, spark.files())
    return scenarios.result("sample_run")


@pytest.fixture(scope="module")
def mass_project(scenarios: ScenarioPool) -> Project:
    return scenarios.result("mass_project")


@pytest.fixture(scope="module")
def failing_test_build(scenarios: ScenarioPool) -> FailedBuild:
    return scenarios.result("failing_test_build")


@pytest.fixture(scope="module")
def missing_column_build(scenarios: ScenarioPool) -> FailedBuild:
    return scenarios.result("missing_column_build")


@pytest.fixture(scope="module")
def lookback_flow(scenarios: ScenarioPool) -> Run:
    return scenarios.result("lookback_flow")


def expected_bytes(name: str) -> bytes:
    return (SMALL / "expected" / name).read_bytes()


# ---------------------------------------------------------------------------
# 1. The small hand-made dataset against hand-derived expected files


def test_small_inputs_pass_the_input_check(small_run: Run) -> None:
    assert small_run.check.returncode == 0
    assert "are fine" in small_run.check.stdout


@pytest.mark.parametrize("name", CSV_FILES)
def test_small_export_matches_the_expected_file(small_run: Run, name: str) -> None:
    assert name in small_run.files, sorted(small_run.files)
    assert_same_text(small_run.files[name], expected_bytes(name), name)


def test_small_export_writes_exactly_the_expected_files(small_run: Run) -> None:
    # The five CSV files, the report page and the manifest; no temporary file.
    assert set(small_run.files) == ALL_FILES
    assert {path.name for path in small_run.output_dir.iterdir()} == ALL_FILES


def test_small_files_are_utf8_without_bom_with_lf_line_ends(small_run: Run) -> None:
    for name in CSV_FILES:
        data = small_run.files[name]
        assert not data.startswith(b"\xef\xbb\xbf"), name
        assert b"\r" not in data, name
        assert data.endswith(b"\n"), name
        assert data.decode("utf-8").split("\n", 1)[0] == HEADERS[name], name


def test_small_handshake_files_are_in_username_byte_order(small_run: Run) -> None:
    for name in (USERS_FILE, UPDATE_FILE):
        rows = csv_rows(small_run.files[name])[1:]
        usernames = [row[0] for row in rows]
        assert usernames == sorted(usernames, key=lambda text: text.encode("utf-8")), name
        assert len(set(usernames)) == len(usernames), name
        emails = [row[1] for row in rows]
        assert len(set(emails)) == len(emails), name


def test_small_manifest_describes_the_written_files(small_run: Run) -> None:
    manifest = small_run.manifest
    assert manifest["as_of_date"] == AS_OF_DATE
    assert set(manifest["files"]) == LISTED_FILES
    for name in LISTED_FILES:
        data = (small_run.output_dir / name).read_bytes()
        assert manifest["files"][name]["sha256"] == sha256(data), name
    for name in CSV_FILES:
        data = (small_run.output_dir / name).read_bytes()
        assert manifest["files"][name]["rows"] == len(csv_rows(data)) - 1, name

    expected_outcomes = Counter(row[2] for row in csv_rows(expected_bytes(OUTCOMES_FILE))[1:])
    assert manifest["outcomes"] == {"exported": 11, "rejected": 4, "skipped": 3}
    assert manifest["outcomes"] == dict(expected_outcomes)

    expected_issues: dict[str, dict[str, int]] = {"error": {}, "warning": {}}
    for severity, code, *_ in csv_rows(expected_bytes(ISSUES_FILE))[1:]:
        expected_issues[severity][code] = expected_issues[severity].get(code, 0) + 1
    assert manifest["issues"] == expected_issues

    assert manifest["preflight"] == {
        "build_tests": "passed",
        "sync_rows": 11,
        # Every sync row but acurrent's and qsettled's changes Handshake's record.
        "changed_rows": 9,
        "newly_disabled_rows": 0,
        "newly_disabled_share": 0.0,
        "mass_disable": "ok",
        # dswitch moves to the personal address: 1 of 11 rows, under 10 %.
        "email_changes": 1,
        "email_change_share": round(1 / 11, 4),
        "email_change_warning": False,
    }
    assert manifest["settings"] == {
        "as_of_date": AS_OF_DATE,
        "campus_email_grace_days": 30,
        "alumni_lookback_days": 180,
        "disable_alumni_after_days": None,
    }


def test_small_every_student_has_one_outcome(small_run: Run) -> None:
    students = csv_rows((SMALL / "sis_students.csv").read_bytes())[1:]
    outcomes = csv_rows(small_run.files[OUTCOMES_FILE])[1:]
    assert sorted(row[0] for row in outcomes) == sorted({row[0] for row in students})


# ---------------------------------------------------------------------------
# 2. Re-runs are byte-identical


def test_rerun_of_export_and_build_is_byte_identical(small_run: Run, tmp_path: Path) -> None:
    project = small_run.project

    again = project.export(small_run.output_dir)
    require_success(again, "export_csv.py (same folder)")
    assert read_files(small_run.output_dir) == small_run.files

    second = tmp_path / "second"
    require_success(project.export(second), "export_csv.py (second folder)")
    assert read_files(second) == small_run.files

    require_success(project.dbt_build(None, *UNIT_TESTS_EXCLUDED), "dbt build (again)")
    rebuilt = tmp_path / "rebuilt"
    require_success(project.export(rebuilt), "export_csv.py (after the second build)")
    assert read_files(rebuilt) == small_run.files


# ---------------------------------------------------------------------------
# 3. The shipped sample seeds


def test_sample_seeds_give_the_documented_counts(sample_run: Run) -> None:
    manifest = sample_run.manifest
    assert manifest["outcomes"] == {"exported": 107, "skipped": 10, "rejected": 22}
    rows = {name: len(csv_rows(sample_run.files[name])) - 1 for name in CSV_FILES}
    assert rows == {
        USERS_FILE: 107,
        UPDATE_FILE: 18,
        NOTICES_FILE: 3,
        ISSUES_FILE: 32,
        OUTCOMES_FILE: 139,
    }
    for name in CSV_FILES:
        assert manifest["files"][name] == {
            "rows": rows[name],
            "sha256": sha256(sample_run.files[name]),
        }
    assert manifest["preflight"]["sync_rows"] == 107


def test_sample_files_have_the_spec_headers(sample_run: Run) -> None:
    assert set(sample_run.files) == ALL_FILES
    for name in CSV_FILES:
        first_line = sample_run.files[name].split(b"\n", 1)[0]
        assert first_line == HEADERS[name].encode("utf-8"), name


def test_sample_outcomes_cover_every_student(sample_run: Run) -> None:
    students = csv_rows((SAMPLE / "sis_students.csv").read_bytes())[1:]
    student_ids = {row[0].strip() for row in students if row[0].strip()}
    outcomes = [row[0] for row in csv_rows(sample_run.files[OUTCOMES_FILE])[1:]]
    assert len(outcomes) == len(set(outcomes))
    assert set(outcomes) == student_ids


# ---------------------------------------------------------------------------
# 4. Mass-disable stop (disable_alumni_after_days 365)

MASS_CURRENT = (
    "rkeep,rkeep@example.edu,,Rosalind,Keepwell,Junior,Bachelors,3.10,History,History,"
    "2023-08-28,2027-05-14,TRUE,\n"
    "rnew,rnew@example.edu,,Rupert,Newcombe,Freshman,Bachelors,3.20,Biology,Biology,"
    "2025-08-25,2029-05-11,TRUE,\n"
)
MASS_DISABLED = (
    "sold1,sold1@example.edu,,Seraphina,Oldfield,Alumni,Bachelors,3.30,,,"
    "2016-08-22,2020-05-15,FALSE,TRUE\n"
    "sold2,sold2@example.edu,,Sebastian,Oldroyd,Alumni,Bachelors,3.40,,,"
    "2017-08-28,2021-05-15,FALSE,TRUE\n"
    "sold3,sold3@example.edu,,Saoirse,Oldenburg,Alumni,Bachelors,3.50,,,"
    "2018-08-27,2022-05-15,FALSE,TRUE\n"
    # Graduated exactly 365 days before as_of_date: "at least N days" includes it.
    "sold4,sold4@example.edu,,Silvester,Oldknow,Alumni,Bachelors,3.60,,,"
    "2021-08-23,2025-06-15,FALSE,TRUE\n"
)
MASS_OUTCOMES = (
    "student_id,username,outcome,reason\n"
    "0201,rkeep,exported,current_student\n"
    "0202,rnew,exported,current_student\n"
    "0203,sold1,exported,alumni_record_outdated\n"
    "0204,sold2,exported,alumni_record_outdated\n"
    "0205,sold3,exported,alumni_record_outdated\n"
    "0206,sold4,exported,alumni_record_outdated\n"
    # 364 days: not disabled, an older alumnus already up to date.
    "0207,sold5,skipped,older_alumni_up_to_date\n"
)


@ENGINE_INDEPENDENT
def test_mass_disable_stops_the_export_and_writes_nothing(
    mass_project: Project, tmp_path: Path
) -> None:
    output_dir = tmp_path / "out"
    output_dir.mkdir(mode=0o700)
    (output_dir / USERS_FILE).write_bytes(b"the previous run's sync file\n")
    (output_dir / MANIFEST_FILE).write_bytes(b'{"previous": true}\n')
    before = file_states(output_dir)

    stopped = mass_project.export(output_dir)

    assert stopped.returncode == 4, tail(stopped)
    message = output_of(stopped)
    assert "4 of 5 changed rows" in message
    assert "--allow-mass-disable" in message
    assert file_states(output_dir) == before


@ENGINE_INDEPENDENT
def test_mass_disable_stop_creates_no_output_folder(mass_project: Project, tmp_path: Path) -> None:
    stopped = mass_project.export(tmp_path / "out")
    assert stopped.returncode == 4, tail(stopped)
    assert not (tmp_path / "out").exists()


def test_mass_disable_is_written_with_allow_mass_disable(
    mass_project: Project, tmp_path: Path
) -> None:
    output_dir = tmp_path / "out"
    allowed = mass_project.export(output_dir, "--allow-mass-disable")
    require_success(allowed, "export_csv.py --allow-mass-disable")
    files = read_files(output_dir)
    assert set(files) == ALL_FILES
    assert (
        files[USERS_FILE].decode("utf-8") == HANDSHAKE_HEADER + "\n" + MASS_CURRENT + MASS_DISABLED
    )
    assert files[UPDATE_FILE].decode("utf-8") == HANDSHAKE_HEADER + "\n" + MASS_DISABLED
    assert files[OUTCOMES_FILE].decode("utf-8") == MASS_OUTCOMES
    # sold1 has sso_enabled false but is disabled: no password notice.
    assert files[NOTICES_FILE].decode("utf-8") == HEADERS[NOTICES_FILE] + "\n"
    assert files[ISSUES_FILE].decode("utf-8") == HEADERS[ISSUES_FILE] + "\n"
    manifest = json.loads(files[MANIFEST_FILE])
    assert manifest["preflight"]["changed_rows"] == 5
    assert manifest["preflight"]["newly_disabled_rows"] == 4
    assert manifest["preflight"]["newly_disabled_share"] == 0.8
    assert manifest["preflight"]["mass_disable"] == "allowed"
    assert manifest["settings"]["disable_alumni_after_days"] == 365


# ---------------------------------------------------------------------------
# 5. Refusal after a failing data test


def test_failing_data_test_fails_the_build(failing_test_build: FailedBuild) -> None:
    assert failing_test_build.check.returncode == 0
    assert failing_test_build.build.returncode != 0, tail(failing_test_build.build)
    assert "always_fails" in output_of(failing_test_build.build)


def test_export_refuses_after_a_failing_data_test(
    failing_test_build: FailedBuild, small_run: Run, tmp_path: Path
) -> None:
    output_dir = tmp_path / "out"
    copy_outputs(small_run.files, output_dir)
    before = file_states(output_dir)

    refused = failing_test_build.project.export(output_dir)

    assert refused.returncode == 3, tail(refused)
    message = output_of(refused)
    assert "always_fails" in message
    assert "nothing was written" in message
    assert file_states(output_dir) == before


def test_export_refuses_a_stale_build(tmp_path: Path) -> None:
    """Issue 12, as a new user tried it: after a successful build and export,
    sis_students.csv is replaced by a Latin-1 file and dbt build fails while
    parsing it (before any hook runs, so the build log and target/ stay as
    they were). The export refuses (exit 3), naming the input, and writes
    nothing; the same without the failed build (an input changed and nobody
    rebuilt); and after a later dbt invocation that failed while parsing."""
    project = make_project(tmp_path, SMALL)
    require_success(project.dbt_build(None, *UNIT_TESTS_EXCLUDED), "dbt build")
    output_dir = tmp_path / "out"
    require_success(project.export(output_dir), "export_csv.py")
    before = file_states(output_dir)
    seed = project.seed("sis_students.csv")
    original = seed.read_bytes()
    seed.write_bytes(original.decode("utf-8").encode("latin-1"))
    assert original != seed.read_bytes()

    rebuilt = project.dbt_build(None, *UNIT_TESTS_EXCLUDED)
    assert rebuilt.returncode != 0
    for attempt in ("after the failed build", "after the input changed"):
        refused = project.export(output_dir)
        assert refused.returncode == 3, (attempt, tail(refused))
        message = output_of(refused)
        assert "the input sis_students.csv changed since the last build" in message, attempt
        assert "nothing was written" in message and "Traceback" not in message
        assert file_states(output_dir) == before
        shutil.rmtree(project.root / "logs", ignore_errors=True)

    seed.write_bytes(original)
    require_success(project.export(output_dir), "export_csv.py with the inputs of the build")
    (project.root / "models" / "broken.yml").write_text("version: 2\nmodels: [\n")
    assert project.dbt_build(None, *UNIT_TESTS_EXCLUDED).returncode != 0
    refused = project.export(output_dir)
    assert refused.returncode == 3, tail(refused)
    assert "dbt build failed after the last complete build" in output_of(refused)
    assert "logs/dbt.log" in output_of(refused)


# ---------------------------------------------------------------------------
# 6. Malformed inputs


def make_ragged(project: Project) -> list[str]:
    path = project.seed("sis_students.csv")
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    # Line 4 (the third data row) loses its last field.
    lines[3] = lines[3].rstrip("\n").rsplit(",", 1)[0] + "\n"
    path.write_text("".join(lines), encoding="utf-8", newline="")
    return ["sis_students.csv", "line 4", "15 fields, the header has 16"]


def make_missing_column(project: Project) -> list[str]:
    rewrite_without_column(project.seed("handshake_users.csv"), "disabled")
    return ["handshake_users.csv", "missing required column 'disabled'"]


def make_not_utf8(project: Project) -> list[str]:
    path = project.seed("sis_students.csv")
    # Line 3 holds "Béatrice": written in Latin-1, not UTF-8.
    path.write_bytes(path.read_text(encoding="utf-8").encode("latin-1"))
    return ["sis_students.csv", "line 3", "not UTF-8"]


@ENGINE_INDEPENDENT
@pytest.mark.parametrize(
    "spoil",
    [make_ragged, make_missing_column, make_not_utf8],
    ids=["ragged_row", "missing_column", "not_utf8"],
)
def test_check_inputs_names_the_malformed_file(
    tmp_path: Path, spoil: Callable[[Project], list[str]]
) -> None:
    project = make_project(tmp_path, SMALL)
    expected_words = spoil(project)
    result = project.check_inputs()
    assert result.returncode != 0
    message = output_of(result)
    for words in expected_words:
        assert words in message, message
    # The message names the file and the place, never a cell's value.
    assert "Béatrice" not in message and "B\ufffdatrice" not in message


def test_check_inputs_stops_the_missing_column_before_dbt(
    missing_column_build: FailedBuild,
) -> None:
    assert missing_column_build.check.returncode != 0
    assert "handshake_users.csv" in output_of(missing_column_build.check)
    assert "'disabled'" in output_of(missing_column_build.check)


def test_dbt_build_on_a_missing_column_names_file_and_column(
    missing_column_build: FailedBuild,
) -> None:
    build = missing_column_build.build
    message = "Input file handshake_users.csv is missing required column(s): disabled"
    assert build.returncode != 0
    assert message in output_of(build), tail(build)


def test_export_refuses_after_the_missing_column_build(
    missing_column_build: FailedBuild, small_run: Run, tmp_path: Path
) -> None:
    output_dir = tmp_path / "out"
    copy_outputs(small_run.files, output_dir)
    before = file_states(output_dir)

    refused = missing_column_build.project.export(output_dir)

    assert refused.returncode == 3, tail(refused)
    assert file_states(output_dir) == before


# ---------------------------------------------------------------------------
# 7. File modes


@ENGINE_INDEPENDENT
def test_written_files_are_0600_in_a_created_0700_folder(small_run: Run, tmp_path: Path) -> None:
    # The first export created its folder, under the default umask.
    assert stat.S_IMODE(small_run.output_dir.stat().st_mode) == 0o700
    for path in small_run.output_dir.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name

    # Whatever the umask: under umask 000 the export still writes 0600 in 0700.
    output_dir = tmp_path / "nested" / "out"
    result = small_run.project.export(output_dir, umask=0)
    require_success(result, "export_csv.py under umask 000")
    assert stat.S_IMODE(output_dir.stat().st_mode) == 0o700
    assert {path.name for path in output_dir.iterdir()} == ALL_FILES
    for path in output_dir.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name


# ---------------------------------------------------------------------------
# 8. The hand flow of the Makefile, with a setting passed as --vars


def expected_with_lookback_30() -> dict[str, bytes]:
    """The small dataset's files with alumni_lookback_days 30 instead of 180.

    Recent graduates are now those of 2026-05-16 or later. cgrad (2026-05-10)
    becomes an older alumnus whose Handshake record is not yet right: still
    exported, as an outdated record. qsettled (2026-05-01) is older and
    already right in Handshake: skipped, out of the sync file. dswitch
    (2026-05-20) stays recent. Nothing else changes.
    """
    outcomes = expected_bytes(OUTCOMES_FILE).decode("utf-8")
    outcomes = replace_line(outcomes, "0103,", "0103,cgrad,exported,alumni_record_outdated\n")
    outcomes = replace_line(outcomes, "0118,", "0118,qsettled,skipped,older_alumni_up_to_date\n")
    users = replace_line(expected_bytes(USERS_FILE).decode("utf-8"), "qsettled,", None)
    return {
        USERS_FILE: users.encode("utf-8"),
        UPDATE_FILE: expected_bytes(UPDATE_FILE),
        ISSUES_FILE: expected_bytes(ISSUES_FILE),
        OUTCOMES_FILE: outcomes.encode("utf-8"),
        NOTICES_FILE: expected_bytes(NOTICES_FILE),
    }


@ENGINE_INDEPENDENT
def test_makefile_run_is_the_three_plain_commands() -> None:
    makefile = (PROJECT_ROOT / "Makefile").read_text(encoding="utf-8")
    assert "scripts/check_inputs.py $(INPUT_DIR)" in makefile
    # The production build: every model and data test (the unit tests run in make test).
    assert "dbt build --target $(TARGET) --exclude-resource-type unit_test --vars '$(VARS)'" in (
        makefile
    )
    assert "scripts/export_csv.py --output-dir $(OUTPUT_DIR) --target $(TARGET)" in makefile


def test_hand_flow_with_a_shorter_alumni_lookback(lookback_flow: Run) -> None:
    """alumni_lookback_days 30 changes which alumni are skipped."""
    assert "are fine" in lookback_flow.check.stdout
    files = lookback_flow.files
    assert set(files) == ALL_FILES
    for name, expected in expected_with_lookback_30().items():
        assert_same_text(files[name], expected, name)
    manifest = json.loads(files[MANIFEST_FILE])
    assert manifest["settings"]["alumni_lookback_days"] == 30
    assert manifest["outcomes"] == {"exported": 10, "rejected": 4, "skipped": 4}


# ---------------------------------------------------------------------------
# 9. No personal data in what the export prints


def personal_values(inputs: Path) -> set[str]:
    """Every first name, last name and email address of a fixture's inputs."""
    values: set[str] = set()
    students = csv.DictReader(io.StringIO((inputs / "sis_students.csv").read_text("utf-8")))
    for row in students:
        for column in ("first_name", "last_name", "campus_email", "personal_email"):
            value = (row[column] or "").strip()
            if value:
                values.add(value)
                if "@" in value:
                    values.add(value.lower())
    handshake = csv.DictReader(io.StringIO((inputs / "handshake_users.csv").read_text("utf-8")))
    for row in handshake:
        if (row["email_address"] or "").strip():
            values.add(row["email_address"].strip().lower())
    return values


def usernames(inputs: Path) -> set[str]:
    """README: the export prints counts, never usernames either."""
    values: set[str] = set()
    for name in ("sis_students.csv", "handshake_users.csv"):
        for row in csv.DictReader(io.StringIO((inputs / name).read_text("utf-8"))):
            if (row["username"] or "").strip():
                values.add(row["username"].strip())
    return values


def assert_no_personal_data(printed: str, values: set[str]) -> None:
    leaked = sorted(value for value in values if value in printed)
    assert not leaked, f"personal data printed: {leaked}"


def test_export_prints_no_names_usernames_or_email_addresses(small_run: Run) -> None:
    values = personal_values(SMALL) | usernames(SMALL)
    assert len(values) > 50
    assert_no_personal_data(output_of(small_run.export), values)
    # It does print the counts.
    assert "outcomes: exported 11, rejected 4, skipped 3" in small_run.export.stdout


@ENGINE_INDEPENDENT
def test_export_messages_print_no_personal_data(
    mass_project: Project, failing_test_build: FailedBuild, tmp_path: Path
) -> None:
    stopped = mass_project.export(tmp_path / "stopped")
    assert stopped.returncode == 4
    allowed = mass_project.export(tmp_path / "allowed", "--allow-mass-disable")
    require_success(allowed, "export_csv.py --allow-mass-disable")
    assert_no_personal_data(
        output_of(stopped) + output_of(allowed), personal_values(MASS) | usernames(MASS)
    )
    refused = failing_test_build.project.export(tmp_path / "refused")
    assert refused.returncode == 3
    assert_no_personal_data(output_of(refused), personal_values(SMALL) | usernames(SMALL))


def test_report_page_holds_no_names_or_email_addresses(small_run: Run) -> None:
    # The report shows student_id and username only (handshake_export's template).
    page = small_run.files[REPORT_FILE].decode("utf-8")
    assert_no_personal_data(page, personal_values(SMALL))
