"""The scale benchmark: the project end to end against the floor, at growing sizes.

    python benchmarks/run.py [--sizes 100k,1m] [--with-10m] [--repeat N]
                             [--seed S] [--work-dir DIR] [--results FILE]

For each size (100k and 1M students; 10M with --with-10m) it generates the
inputs once (benchmarks/generate_students.py, reused while the generator, the seed
and the size are unchanged), then measures, in the same run:

1. the project end to end: `dbt build` of every model and every data test
   (the unit tests are size-independent and are timed once, separately),
   reading the CSV files in place (var raw_data_dir), then
   `python scripts/export_csv.py`; each in a fresh database and target folder;
2. the floor: benchmarks/floor.sql, one DuckDB script that reads the same
   files and writes the sync file with the same rules (no dbt, no tests).

Each is a child process: wall time from the clock, CPU time and peak memory
(ru_maxrss) from os.wait4. It checks that both write the same sync rows and
writes the results, with a breakdown of where the time goes (dbt's own startup
and parsing, each model, each test, from target/run_results.json), to
benchmarks/RESULTS.md. With --repeat N each measurement is taken N times and
the fastest kept (the machine may be shared). Exit code 0 when both sides wrote
the same rows at every size, 1 otherwise, 2 on a usage error.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import importlib.metadata
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = PROJECT_ROOT / "benchmarks"
BIN = Path(sys.executable).parent
PYTHON = sys.executable
DBT = str(BIN / "dbt")

AS_OF_DATE = "2026-06-15"
YYYYMMDD = AS_OF_DATE.replace("-", "")
SIZES = {"100k": 100_000, "1m": 1_000_000, "10m": 10_000_000}
DEFAULT_SIZES = ("100k", "1m")
# DuckDB's memory cap for the project and the floor alike: its default (80 % of
# memory, 19 GB here) would let 10M students pass the 16 GB target; past the cap
# DuckDB spills to disk.
DEFAULT_MEMORY_LIMIT = "12GB"
GIB = 1024**3

# The targets of the scale issue: (size, wall seconds, peak bytes, times the floor).
TARGETS = {
    "1m": (30.0, 3 * GIB, 5.0),
    "10m": (300.0, 16 * GIB, 2.0),
}
# 10 times the students may cost at most this many times the time.
LINEAR_FACTOR = 12.0
TOP_NODES = 8


# ---------------------------------------------------------------------------
# Measuring a child process


@dataclass
class Measurement:
    """One child process: wall seconds, CPU seconds and peak resident memory."""

    wall: float
    cpu: float
    peak_rss: int
    load_before: float
    started: float  # the clock (time.time()) when the process started

    @staticmethod
    def combine(parts: Sequence[Measurement]) -> Measurement:
        """Steps run one after the other: times add up, the peak is the highest."""
        return Measurement(
            wall=sum(part.wall for part in parts),
            cpu=sum(part.cpu for part in parts),
            peak_rss=max(part.peak_rss for part in parts),
            load_before=parts[0].load_before,
            started=parts[0].started,
        )


class StepFailed(Exception):
    pass


def run_measured(
    command: Sequence[str], log_path: Path, env: dict[str, str] | None = None
) -> Measurement:
    """Run a command to completion and measure it (os.wait4's rusage of the child)."""
    load_before = os.getloadavg()[0]
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as log:
        started = time.time()
        start = time.perf_counter()
        process = subprocess.Popen(
            list(command), cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise StepFailed(f"{Path(command[1]).name} exited {process.returncode}: see {log_path}")
    return Measurement(
        wall=wall,
        cpu=usage.ru_utime + usage.ru_stime,
        peak_rss=usage.ru_maxrss * 1024,  # Linux reports kilobytes
        load_before=load_before,
        started=started,
    )


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without the caller's dbt and project settings."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("DBT_", "HANDSHAKE_"))
    }
    env.update(DO_NOT_TRACK="1", DBT_SEND_ANONYMOUS_USAGE_STATS="false", **extra)
    return env


# ---------------------------------------------------------------------------
# Inputs


def generate_inputs(students: int, seed: int, data_dir: Path) -> tuple[float, dict[str, int]]:
    """Generate the five input files once; reuse them while nothing changed."""
    generator = PROJECT_ROOT / "benchmarks" / "generate_students.py"
    stamp = hashlib.sha256(generator.read_bytes()).hexdigest() + f" {students} {seed}\n"
    stamp_file = data_dir / ".stamp"
    seconds = 0.0
    if not (stamp_file.is_file() and stamp_file.read_text() == stamp):
        shutil.rmtree(data_dir, ignore_errors=True)
        data_dir.mkdir(parents=True)
        start = time.perf_counter()
        subprocess.run(
            [PYTHON, str(generator), "--students", str(students), "--seed", str(seed)]
            + ["--output-dir", str(data_dir), "--as-of-date", AS_OF_DATE],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        seconds = time.perf_counter() - start
        stamp_file.write_text(stamp)
    rows = {path.name: count_lines(path) - 1 for path in sorted(data_dir.glob("*.csv"))}
    return seconds, rows


def count_lines(path: Path) -> int:
    lines = 0
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 24):
            lines += chunk.count(b"\n")
    return lines


# ---------------------------------------------------------------------------
# The two contenders


@dataclass
class ProjectRun:
    parse: Measurement  # before the timer: a nightly run finds dbt's parse state
    build: Measurement
    export: Measurement
    sync_files: list[Path]
    run_results: Path

    @property
    def total(self) -> Measurement:
        return Measurement.combine([self.build, self.export])


def run_project(data_dir: Path, run_dir: Path, memory_limit: str) -> ProjectRun:
    """dbt build (every model and data test) on the CSV files in place, then the export."""
    shutil.rmtree(run_dir, ignore_errors=True)
    target_path = run_dir / "target"
    # The export reads <project-dir>/profiles.yml and <project-dir>/target:
    # a small folder that points at the project's profile and this run's target.
    export_project = run_dir / "export-project"
    export_project.mkdir(parents=True)
    (export_project / "profiles.yml").symlink_to(PROJECT_ROOT / "profiles.yml")
    (export_project / "target").symlink_to(target_path)
    env = clean_env(
        HANDSHAKE_TARGET="duckdb", HANDSHAKE_DUCKDB_PATH=str(run_dir / "handshake.duckdb")
    )
    variables = json.dumps(
        {
            "as_of_date": AS_OF_DATE,
            "raw_data_dir": str(data_dir),
            "duckdb_memory_limit": memory_limit,
        }
    )
    dbt_options = ["--target", "duckdb", "--target-path", str(target_path)]
    dbt_options += ["--log-path", str(run_dir / "logs"), "--vars", variables]
    # Untimed: dbt parses the project in full once per checkout or change of
    # settings and keeps target/partial_parse.msgpack; each nightly build after
    # that starts from it. RESULTS.md gives this parse's time beside the table.
    parse = run_measured([DBT, "parse", *dbt_options], run_dir / "parse.log", env)
    build = run_measured(
        [DBT, "build", *dbt_options, "--exclude-resource-type", "unit_test"],
        run_dir / "build.log",
        env,
    )
    output_dir = run_dir / "output"
    export = run_measured(
        [PYTHON, "scripts/export_csv.py", "--target", "duckdb"]
        + ["--project-dir", str(export_project), "--output-dir", str(output_dir)],
        run_dir / "export.log",
        env,
    )
    sync_files = sorted(output_dir.glob(f"{YYYYMMDD}_users*.csv"))
    return ProjectRun(parse, build, export, sync_files, target_path / "run_results.json")


def run_floor(data_dir: Path, run_dir: Path, memory_limit: str) -> tuple[Measurement, Path]:
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir(parents=True)
    sync_file = run_dir / f"{YYYYMMDD}_users.csv"
    measurement = run_measured(
        [PYTHON, "benchmarks/run_floor.py", "--raw-data-dir", str(data_dir)]
        + ["--as-of-date", AS_OF_DATE, "--sync-file", str(sync_file)]
        + ["--memory-limit", memory_limit],
        run_dir / "floor.log",
        clean_env(),
    )
    return measurement, sync_file


def run_unit_tests(run_dir: Path) -> Measurement:
    """The 75 unit tests (mocked inputs, independent of the data size), timed once
    on the database of a finished run: dbt test does not touch the tables."""
    env = clean_env(
        HANDSHAKE_TARGET="duckdb", HANDSHAKE_DUCKDB_PATH=str(run_dir / "handshake.duckdb")
    )
    return run_measured(
        [DBT, "test", "--target", "duckdb", "--select", "test_type:unit"]
        + ["--target-path", str(run_dir / "target-unit"), "--log-path", str(run_dir / "logs")]
        + ["--vars", json.dumps({"as_of_date": AS_OF_DATE})],
        run_dir / "unit-tests.log",
        env,
    )


# ---------------------------------------------------------------------------
# Same rows?


def csv_rows(paths: Sequence[Path]) -> Iterator[tuple[str, ...]]:
    """The data rows of one or more CSV files with the same header, in order."""
    for path in paths:
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.reader(handle)
            next(reader, None)
            for row in reader:
                yield tuple(row)


def header(path: Path) -> list[str]:
    with path.open(encoding="utf-8", newline="") as handle:
        return next(csv.reader(handle), [])


def compare_sync_rows(project_files: Sequence[Path], floor_file: Path) -> tuple[bool, int, str]:
    """(same rows?, number of rows, what differs)."""
    if not project_files:
        return False, 0, "the project wrote no sync file"
    if any(header(path) != header(floor_file) for path in project_files):
        return False, 0, "the headers differ"
    count = 0
    missing = object()
    for count, (ours, floor) in enumerate(
        _zip_longest(csv_rows(project_files), csv_rows([floor_file]), missing), start=1
    ):
        if ours != floor:
            side = "project" if floor is missing else "floor" if ours is missing else "both"
            return False, count, f"row {count} differs ({side})"
    return True, count, ""


def _zip_longest(
    left: Iterator[tuple[str, ...]], right: Iterator[tuple[str, ...]], fill: object
) -> Iterator[tuple[object, object]]:
    while True:
        a, b = next(left, fill), next(right, fill)
        if a is fill and b is fill:
            return
        yield a, b


# ---------------------------------------------------------------------------
# Where the time goes (target/run_results.json)


@dataclass
class Breakdown:
    """dbt's phases and node timings of one build."""

    before_first_node: float  # startup, parse, on-run-start hooks
    nodes_elapsed: float
    node_seconds: dict[str, float] = field(default_factory=dict)  # per resource type
    node_counts: dict[str, int] = field(default_factory=dict)
    top_models: list[tuple[str, float]] = field(default_factory=list)
    top_tests: list[tuple[str, float]] = field(default_factory=list)


def _timestamp(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def read_breakdown(run_results: Path, build: Measurement) -> Breakdown:
    artifact = json.loads(run_results.read_text(encoding="utf-8"))
    results = artifact["results"]
    starts = [
        _timestamp(step["started_at"])
        for result in results
        for step in result.get("timing", [])
        if step.get("started_at")
    ]
    first_node = min(starts) if starts else build.started
    breakdown = Breakdown(
        before_first_node=max(0.0, first_node - build.started),
        nodes_elapsed=float(artifact.get("elapsed_time", 0.0)),
    )
    models, tests = [], []
    for result in results:
        kind = result["unique_id"].split(".")[0]
        seconds = float(result.get("execution_time") or 0.0)
        breakdown.node_seconds[kind] = breakdown.node_seconds.get(kind, 0.0) + seconds
        breakdown.node_counts[kind] = breakdown.node_counts.get(kind, 0) + 1
        name = result["unique_id"].split(".")[-1] if kind == "model" else _test_name(result)
        (models if kind == "model" else tests if kind == "test" else []).append((name, seconds))
    breakdown.top_models = sorted(models, key=lambda item: -item[1])[:TOP_NODES]
    breakdown.top_tests = sorted(tests, key=lambda item: -item[1])[:TOP_NODES]
    return breakdown


def _test_name(result: dict) -> str:
    parts = result["unique_id"].split(".")
    name = parts[2] if len(parts) > 2 else result["unique_id"]
    return name if len(name) <= 60 else name[:57] + "..."


# ---------------------------------------------------------------------------
# One size


@dataclass
class SizeResult:
    label: str
    students: int
    input_rows: dict[str, int]
    generate_seconds: float
    project: ProjectRun
    floor: Measurement
    same_rows: bool
    sync_rows: int
    difference: str
    breakdown: Breakdown

    @property
    def ratio(self) -> float:
        return self.project.total.wall / self.floor.wall if self.floor.wall else float("inf")


def students_of(label: str) -> int:
    """100k, 1m, 10m, or any number with an optional k or m suffix (2000, 2k)."""
    if label in SIZES:
        return SIZES[label]
    factor = {"k": 1_000, "m": 1_000_000}.get(label[-1:], 1)
    digits = label[:-1] if factor > 1 else label
    if not digits.isdigit() or int(digits) < 1:
        raise ValueError(label)
    return int(digits) * factor


def measure_size(
    label: str, seed: int, work_dir: Path, repeat: int, memory_limit: str = "12GB"
) -> SizeResult:
    students = students_of(label)
    data_dir = work_dir / "data" / f"{label}-seed{seed}"
    print(f"[{label}] inputs for {students:,} students in {data_dir}", flush=True)
    generate_seconds, input_rows = generate_inputs(students, seed, data_dir)
    best_project: ProjectRun | None = None
    best_floor: tuple[Measurement, Path] | None = None
    for attempt in range(1, repeat + 1):
        print(f"[{label}] floor, run {attempt} of {repeat}", flush=True)
        floor = run_floor(data_dir, work_dir / "runs" / label / f"floor-{attempt}", memory_limit)
        print(f"[{label}]   {floor[0].wall:.1f} s", flush=True)
        if best_floor is None or floor[0].wall < best_floor[0].wall:
            best_floor = floor
        print(f"[{label}] project (dbt build + export), run {attempt} of {repeat}", flush=True)
        project = run_project(
            data_dir, work_dir / "runs" / label / f"project-{attempt}", memory_limit
        )
        print(
            f"[{label}]   build {project.build.wall:.1f} s + export {project.export.wall:.1f} s",
            flush=True,
        )
        if best_project is None or project.total.wall < best_project.total.wall:
            best_project = project
    assert best_project is not None and best_floor is not None
    project = best_project
    same, rows, difference = compare_sync_rows(project.sync_files, best_floor[1])
    print(f"[{label}] same sync rows: {same} ({rows:,} rows) {difference}", flush=True)
    return SizeResult(
        label=label,
        students=students,
        input_rows=input_rows,
        generate_seconds=generate_seconds,
        project=project,
        floor=best_floor[0],
        same_rows=same,
        sync_rows=rows if same else 0,
        difference=difference,
        breakdown=read_breakdown(project.run_results, project.build),
    )


# ---------------------------------------------------------------------------
# RESULTS.md


def machine_summary() -> list[str]:
    memory = "?"
    with open("/proc/meminfo", encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / 1024**2:.1f} GiB"
    model = platform.processor() or "?"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            model = next(
                (line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")),
                model,
            )
    except OSError:
        pass
    import duckdb  # the project's pinned DuckDB

    return [
        f"- cores: {os.cpu_count()} ({model}); memory: {memory}",
        f"- {platform.system()} {platform.release()}; Python {platform.python_version()}; "
        f"DuckDB {duckdb.__version__}; {dbt_version()}",
    ]


def dbt_version() -> str:
    versions = []
    for package in ("dbt-core", "dbt-duckdb"):
        try:
            versions.append(f"{package} {importlib.metadata.version(package)}")
        except importlib.metadata.PackageNotFoundError:
            versions.append(f"{package} ?")
    return ", ".join(versions)


def _gib(size: int) -> str:
    return f"{size / GIB:.2f} GiB"


def _seconds(value: float) -> str:
    return f"{value:.1f} s"


def results_table(results: Sequence[SizeResult]) -> list[str]:
    lines = [
        "| students | SIS rows | sync rows (files) | project: build + export | "
        "project peak memory | floor | floor peak memory | project / floor | same rows |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|:---:|",
    ]
    for result in results:
        total = result.project.total
        lines.append(
            f"| {result.students:,} | {result.input_rows.get('sis_students.csv', 0):,} "
            f"| {result.sync_rows:,} ({len(result.project.sync_files)}) "
            f"| **{_seconds(total.wall)}** = {_seconds(result.project.build.wall)} + "
            f"{_seconds(result.project.export.wall)} "
            f"| {_gib(total.peak_rss)} | {_seconds(result.floor.wall)} "
            f"| {_gib(result.floor.peak_rss)} | **{result.ratio:.1f}×** "
            f"| {'yes' if result.same_rows else 'NO'} |"
        )
    return lines


def targets_table(results: Sequence[SizeResult]) -> list[str]:
    by_label = {result.label: result for result in results}
    lines = ["| target | measured | met |", "|---|---:|:---:|"]

    def row(target: str, measured: str, met: bool) -> None:
        lines.append(f"| {target} | {measured} | {'yes' if met else '**no**'} |")

    for label, (seconds, memory, factor) in TARGETS.items():
        result = by_label.get(label)
        if result is None:
            lines.append(f"| {label}: not measured in this run | | |")
            continue
        total = result.project.total
        name = f"{result.students:,} students"
        row(
            f"{name}: end to end within {seconds:.0f} s",
            _seconds(total.wall),
            total.wall <= seconds,
        )
        row(
            f"{name}: peak memory under {_gib(memory)}",
            _gib(total.peak_rss),
            total.peak_rss < memory,
        )
        row(
            f"{name}: at most {factor:g}× the floor", f"{result.ratio:.1f}×", result.ratio <= factor
        )
    ordered = sorted(results, key=lambda result: result.students)
    for smaller, larger in zip(ordered, ordered[1:], strict=False):
        growth = larger.project.total.wall / smaller.project.total.wall
        students = larger.students / smaller.students
        row(
            f"{smaller.students:,} → {larger.students:,} students ({students:g}× the students): "
            f"time at most {LINEAR_FACTOR * students / 10:g}×",
            f"{growth:.1f}×",
            growth <= LINEAR_FACTOR * students / 10,
        )
    return lines


def breakdown_section(result: SizeResult) -> list[str]:
    breakdown = result.breakdown
    build = result.project.build
    counts = breakdown.node_counts
    seconds = breakdown.node_seconds
    after_nodes = max(0.0, build.wall - breakdown.before_first_node - breakdown.nodes_elapsed)
    lines = [
        f"### {result.students:,} students",
        "",
        "| step | wall time |",
        "|---|---:|",
        f"| dbt startup, parse state check, on-run-start hooks "
        f"| {_seconds(breakdown.before_first_node)} |",
        f"| dbt nodes: {counts.get('seed', 0)} seeds, {counts.get('model', 0)} models, "
        f"{counts.get('test', 0)} data tests (4 threads) | {_seconds(breakdown.nodes_elapsed)} |",
        f"| dbt on-run-end hooks, artifacts, exit | {_seconds(after_nodes)} |",
        f"| export (every file and the manifest) | {_seconds(result.project.export.wall)} |",
        f"| **end to end** | **{_seconds(result.project.total.wall)}** |",
        "",
        f"Before the timer, `dbt parse` (the full parse of a first run after a checkout "
        f"or a change of settings): {_seconds(result.project.parse.wall)}.",
        "",
        f"Node time summed over threads: models {_seconds(seconds.get('model', 0.0))}, "
        f"data tests {_seconds(seconds.get('test', 0.0))}, "
        f"seeds {_seconds(seconds.get('seed', 0.0))}. "
        f"CPU time of the build {_seconds(build.cpu)}, of the export "
        f"{_seconds(result.project.export.cpu)}, of the floor {_seconds(result.floor.cpu)}.",
        "",
        "| slowest models | s | slowest data tests | s |",
        "|---|---:|---|---:|",
    ]
    for index in range(max(len(breakdown.top_models), len(breakdown.top_tests))):
        model = breakdown.top_models[index] if index < len(breakdown.top_models) else ("", 0.0)
        test = breakdown.top_tests[index] if index < len(breakdown.top_tests) else ("", 0.0)
        lines.append(
            f"| {model[0]} | {model[1]:.2f} | {test[0]} | {test[1]:.2f} |"
            if model[0] and test[0]
            else f"| {model[0]} | {model[1]:.2f} | {test[0]} | |"
        )
    lines.append("")
    return lines


def write_results(
    path: Path,
    results: Sequence[SizeResult],
    unit_tests: Measurement | None,
    arguments: str,
    memory_limit: str,
) -> None:
    lines = [
        "# Scale benchmark results",
        "",
        "Written by `python benchmarks/run.py"
        + (f" {arguments}" if arguments else "")
        + f"` on {datetime.now(UTC):%Y-%m-%d} (UTC). How to read and reproduce it: "
        "[benchmarks/README.md](README.md).",
        "",
        "Machine:",
        "",
        *machine_summary(),
        "- load average (1 min) when each measurement started: "
        + ", ".join(
            f"{result.students:,}: project {result.project.build.load_before:.1f}, "
            f"floor {result.floor.load_before:.1f}"
            for result in results
        ),
        "",
        "**Project** = `dbt build --exclude-resource-type unit_test` (every model, every data "
        "test, the seeds) reading the five CSV files in place (var `raw_data_dir`), with "
        "dbt's parse state from a `dbt parse` before the timer as a nightly run finds it "
        "(the full parse's time is under each size below), then "
        "`python scripts/export_csv.py` (sync file parts, alumni update file, reports, "
        "manifest). **Floor** = `benchmarks/floor.sql`: one DuckDB script, same files, same "
        "rules, writes only the sync file. Wall time; peak memory = the largest resident "
        "set of the steps (os.wait4). `as_of_date` "
        f"{AS_OF_DATE}, default settings; DuckDB's memory capped at {memory_limit} on both "
        "sides (var `duckdb_memory_limit`), past which it spills to disk.",
        "",
        *results_table(results),
        "",
        "## Targets",
        "",
        *targets_table(results),
        "",
    ]
    if unit_tests is not None:
        lines += [
            f"The 75 unit tests (mocked inputs, the same at every size) take "
            f"{_seconds(unit_tests.wall)} on their own (`dbt test --select test_type:unit`); "
            "`make test` runs them. They are left out of the production build above, as dbt "
            "recommends.",
            "",
        ]
    lines += ["## Where the time goes", ""]
    for result in results:
        lines += breakdown_section(result)
    lines += [
        "Inputs (rows per file): "
        + "; ".join(
            f"{result.students:,} students: "
            + ", ".join(f"{name} {count:,}" for name, count in result.input_rows.items())
            for result in results
        ),
        "",
    ]
    notes = BENCHMARKS / "analysis.md"
    if notes.is_file():
        lines += [notes.read_text(encoding="utf-8").rstrip(), ""]
    path.write_text("\n".join(lines), encoding="utf-8")


# ---------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="run.py", description="Time the project end to end against the floor."
    )
    parser.add_argument(
        "--sizes",
        default=",".join(DEFAULT_SIZES),
        help="comma-separated sizes: 100k, 1m, 10m or a number such as 2000 or 50k "
        "(default: %(default)s)",
    )
    parser.add_argument("--with-10m", action="store_true", help="also measure 10M students")
    parser.add_argument("--repeat", type=int, default=1, help="runs per measurement, best kept")
    parser.add_argument("--seed", type=int, default=1, help="generator seed (default 1)")
    parser.add_argument(
        "--work-dir",
        default=str(BENCHMARKS / ".work"),
        help="generated inputs, databases and outputs (default: benchmarks/.work, git-ignored)",
    )
    parser.add_argument(
        "--results", default=str(BENCHMARKS / "RESULTS.md"), help="the report to write"
    )
    parser.add_argument(
        "--memory-limit",
        default=DEFAULT_MEMORY_LIMIT,
        help="DuckDB's memory cap on both sides (var duckdb_memory_limit; default: %(default)s)",
    )
    parser.add_argument("--skip-unit-tests", action="store_true", help="do not time the unit tests")
    args = parser.parse_args(argv)
    labels = [label.strip().lower() for label in args.sizes.split(",") if label.strip()]
    if args.with_10m and "10m" not in labels:
        labels.append("10m")
    unknown = []
    for label in labels:
        try:
            students_of(label)
        except ValueError:
            unknown.append(label)
    if unknown or not labels:
        parser.error(f"unknown size(s): {', '.join(unknown) or '(none)'}")
    if args.repeat < 1:
        parser.error("--repeat must be 1 or more")
    args.labels = sorted(labels, key=students_of)
    return args


def use_project_venv() -> None:
    """Re-run under the project's .venv (dbt, DuckDB) when started with another Python."""
    venv_python = PROJECT_ROOT / ".venv" / "bin" / "python"
    if venv_python.is_file() and Path(sys.prefix).resolve() != venv_python.parents[1].resolve():
        os.execv(str(venv_python), [str(venv_python), str(Path(__file__).resolve()), *sys.argv[1:]])


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    work_dir = Path(args.work_dir).resolve()
    results: list[SizeResult] = []
    try:
        for label in args.labels:
            results.append(measure_size(label, args.seed, work_dir, args.repeat, args.memory_limit))
        unit_tests = None
        if not args.skip_unit_tests:
            print("unit tests (size-independent), once", flush=True)
            unit_tests = run_unit_tests(work_dir / "runs" / args.labels[0] / "project-1")
    except StepFailed as error:
        print(f"run.py: {error}", file=sys.stderr)
        return 1
    arguments = " ".join(sys.argv[1:]) if argv is None else " ".join(argv)
    write_results(Path(args.results), results, unit_tests, arguments, args.memory_limit)
    print(f"wrote {args.results}")
    for result in results:
        print(
            f"{result.students:>10,} students: project {result.project.total.wall:6.1f} s "
            f"(peak {_gib(result.project.total.peak_rss)}), floor {result.floor.wall:6.1f} s, "
            f"ratio {result.ratio:.1f}x, same rows: {result.same_rows}"
        )
    return 0 if all(result.same_rows for result in results) else 1


if __name__ == "__main__":
    use_project_venv()
    sys.exit(main())
