"""The scale benchmark at a smoke size: what `benchmarks/run.py` checks, on 2,000 students.

benchmarks/generate_students.py writes the inputs; the project (dbt build with
every model and data test, reading the CSV files in place, then the export)
and the floor (benchmarks/floor.sql, one DuckDB script) must write the same
sync rows. Timings are not asserted: they are benchmark figures
(benchmarks/RESULTS.md), not test conditions. The generated data, database and
outputs live in pytest's temporary folder; dbt's target and log folders too.
"""

from __future__ import annotations

import csv
import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import populations as pop
import pytest

pytestmark = pytest.mark.scale

PROJECT_ROOT = Path(__file__).resolve().parents[1]
GENERATOR = PROJECT_ROOT / "benchmarks" / "generate_students.py"
STUDENTS = "2000"
SEED = 1


def _load_benchmark() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "benchmark_run", PROJECT_ROOT / "benchmarks" / "run.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory: pytest.TempPathFactory):
    benchmark = _load_benchmark()
    work_dir = tmp_path_factory.mktemp("scale")
    result = benchmark.measure_size(STUDENTS, SEED, work_dir, repeat=1)
    return result, work_dir / "runs" / STUDENTS / "project-1" / "output"


def _generate(directory: Path, students: int, seed: int) -> None:
    subprocess.run(
        [sys.executable, str(GENERATOR), "--students", str(students), "--seed", str(seed)]
        + ["--output-dir", str(directory)],
        check=True,
        capture_output=True,
    )


def _read(directory: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(directory.glob("*.csv"))}


def test_project_and_floor_write_the_same_sync_rows(smoke_run) -> None:
    result, _ = smoke_run
    assert result.same_rows, result.difference
    assert result.sync_rows > int(STUDENTS) // 2
    assert [path.name for path in result.project.sync_files] == ["20260615_users.csv"]


def test_generated_population_has_every_issue_code(smoke_run) -> None:
    _, output_dir = smoke_run
    with (output_dir / "import_issues.csv").open(encoding="utf-8", newline="") as handle:
        codes = {row["code"] for row in csv.DictReader(handle)}
    # SPEC section 5: a generated population holds a few rows of every kind.
    assert codes == set(pop.SEVERITIES)


def test_every_outcome_occurs(smoke_run) -> None:
    _, output_dir = smoke_run
    with (output_dir / "student_outcomes.csv").open(encoding="utf-8", newline="") as handle:
        outcomes = [row["outcome"] for row in csv.DictReader(handle)]
    shares = {outcome: outcomes.count(outcome) / len(outcomes) for outcome in set(outcomes)}
    assert set(shares) == {"exported", "skipped", "rejected"}
    assert shares["exported"] > 0.75
    assert 0.01 < shares["rejected"] < 0.05


def test_generator_is_deterministic(tmp_path: Path) -> None:
    _generate(tmp_path / "first", 300, 5)
    _generate(tmp_path / "again", 300, 5)
    _generate(tmp_path / "other", 300, 6)
    first = _read(tmp_path / "first")
    assert set(first) == {
        "sis_students.csv",
        "sis_student_majors.csv",
        "sis_class_levels.csv",
        "handshake_users.csv",
        "institution_email_domains.csv",
    }
    assert first == _read(tmp_path / "again")
    assert first["sis_students.csv"] != _read(tmp_path / "other")["sis_students.csv"]


def test_generated_inputs_pass_the_input_checks(tmp_path: Path) -> None:
    _generate(tmp_path, 300, 5)
    checked = subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "scripts" / "check_inputs.py"), str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_replay_times_every_model_and_data_test_in_order(smoke_run) -> None:
    """benchmarks/replay_models.py on the smoke run: every model, in an order where each
    finds the models it reads (in memory only the run's non-model tables are copied),
    then every data test."""
    _, output_dir = smoke_run
    replayed = subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "benchmarks" / "replay_models.py")]
        + ["--run-dir", str(output_dir.parent), "--storage", "memory", "--tests"],
        capture_output=True,
        text=True,
    )
    assert replayed.returncode == 0, replayed.stderr[-2000:]
    lines = replayed.stdout.splitlines()
    models = [line.split()[1] for line in lines if line.startswith("model ")]
    tests = [line for line in lines if line.startswith("test ")]
    model_files = sorted(path.stem for path in (PROJECT_ROOT / "models").rglob("*.sql"))
    assert sorted(models) == model_files
    assert models.index("stg_sis__students") < models.index("int_students_identified")
    assert models.index("int_student_outcomes_decided") < models.index("sync_users")
    assert len(tests) > 50
    assert f"{len(models)} models (memory): wall" in replayed.stdout


def test_floor_timings_write_the_same_file(smoke_run, tmp_path: Path) -> None:
    """run_floor.py --timings runs floor.sql a statement at a time: same sync file."""
    _, output_dir = smoke_run
    run_dir = output_dir.parent.parent
    floor_file = run_dir / "floor-1" / "20260615_users.csv"
    timed_file = tmp_path / "floor.csv"
    timed = subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "benchmarks" / "run_floor.py")]
        + ["--raw-data-dir", str(run_dir.parents[1] / "data" / f"{STUDENTS}-seed{SEED}")]
        + ["--as-of-date", "2026-06-15", "--sync-file", str(timed_file), "--timings"],
        capture_output=True,
        text=True,
    )
    assert timed.returncode == 0, timed.stderr[-2000:]
    assert timed_file.read_bytes() == floor_file.read_bytes()
    statements = timed.stdout.splitlines()
    assert any(line.endswith("create temp table programs as") for line in statements)
    assert statements[-1].endswith("copy (")
