"""Robustness and the safety of student data, on the real pipeline.

Every scenario runs check_inputs.py, dbt build and export_csv.py in its own
copy of the project (dbt_project.yml, profiles.yml, macros, models, tests,
scripts and seeds; never .venv, target, data, output or .git), with its own
DuckDB file, so that nothing touches the project's data/, target/ or output/.
The builds exclude the dbt unit tests (they mock every input, so the data
cannot change their result; `make test-dbt` runs them); the builds whose
files are only compared with seeds_clean's exclude the data tests too. The
scenarios run side by side in threads, once per module:

- seeds_clean: 16 random populations drawn by hypothesis (pytests/populations.py)
  plus the formula-injection cases and one student per error and warning
  code, as clean seed files: build, export twice, build again (a re-run over
  the same database), export again.
- raw_variety: the same rows with every encoding variety at once (UTF-8 BOM,
  CRLF, every field quoted, columns reversed, extra columns, spaces around
  every cell, swapped case), read in place with raw_data_dir.
- seeds_variety: the same varieties (minimal quoting, columns rotated) as seeds.
- raw_first_sync: header-only handshake_users.csv and sis_student_majors.csv
  (a first sync) through raw_data_dir; then a build interrupted with Ctrl-C.
- seeds_empty: a header-only sis_students.csv; then a build killed (SIGKILL).
- not_utf8: a Latin-1 sis_students.csv through make build (seeds and
  raw_data_dir) and through plain dbt build.

The export of every scenario must pass populations.check_export; the variety
scenarios must write byte-identical files to seeds_clean. The tests after
them use the built copies for the faults of the export: a database locked by
another process, an export killed or failing mid-write, an export before
any build. Set ROBUSTNESS_SEED to draw other populations (the default is
fixed, so that `make test` is repeatable).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import populations as pop
import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PYTHON = sys.executable
AS_OF_DATE = pop.AS_OF_DATE.isoformat()
YYYYMMDD = pop.AS_OF_DATE.strftime("%Y%m%d")
USERS_FILE = f"{YYYYMMDD}_users.csv"
UPDATE_FILE = f"alumni_update_{YYYYMMDD}.csv"
OUTPUT_FILES = frozenset(
    {
        USERS_FILE,
        UPDATE_FILE,
        "import_issues.csv",
        "student_outcomes.csv",
        "alumni_password_notices.csv",
        "report.html",
        "manifest.json",
    }
)
SEED = int(os.environ.get("ROBUSTNESS_SEED", "20260615"))
POPULATIONS = 16
TIMEOUT = 900
UNIT_TESTS_EXCLUDED = ("--exclude", "test_type:unit")
COPIED_FILES = ("dbt_project.yml", "profiles.yml")
COPIED_FOLDERS = ("macros", "models", "tests", "scripts", "seeds")
# Relative to the copy, so that every copy has the same profile and vars and
# a later copy can start from an earlier copy's parse cache.
DATABASE = "../db/test.duckdb"
RAW_DIR = "../raw"
SEEDS_VARIETY = pop.Encoding(
    bom=True,
    newline="\r\n",
    column_order="rotated",
    extra_columns=True,
    padded=True,
    swapped_case=True,
)

# Runs a command with SIGINT and SIGTERM as a terminal would deliver them,
# even when the test run ignores SIGINT (a background job of a
# non-interactive shell does) or blocks it: both would be inherited.
DEFAULT_SIGNALS = (
    "import os, signal, sys; "
    "signal.signal(signal.SIGINT, signal.SIG_DFL); "
    "signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM}); "
    "os.execv(sys.argv[1], sys.argv[1:])"
)

# dbt's parse cache per --vars: parsing the project takes 10-20 s, a partial
# parse of a copy that differs only in its seed files a few.
PARSE_CACHE: dict[str, bytes] = {}
PARSE_CACHE_LOCK = threading.Lock()
PARTIAL_PARSE = Path("target") / "partial_parse.msgpack"


# ---------------------------------------------------------------------------
# Copies of the project


@dataclass
class Copy:
    """A copy of the project in base/project, its DuckDB file in base/db."""

    base: Path

    @property
    def root(self) -> Path:
        return self.base / "project"

    @property
    def database(self) -> Path:
        return self.base / "db" / "test.duckdb"

    @property
    def raw_dir(self) -> Path:
        return self.base / "raw"

    def env(self) -> dict[str, str]:
        env = {
            name: value
            for name, value in os.environ.items()
            if not name.startswith(("DBT_", "HANDSHAKE_"))
        }
        env.update(HANDSHAKE_DUCKDB_PATH=DATABASE, DO_NOT_TRACK="1", DBT_USE_COLORS="false")
        return env

    def run(self, *command: str | Path, timeout: int = TIMEOUT) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(part) for part in command],
            cwd=self.root,
            env=self.env(),
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            timeout=timeout,
            check=False,
        )

    def popen(self, *command: str | Path) -> subprocess.Popen[str]:
        """A process the test will interrupt, with Ctrl-C's default handling."""
        return subprocess.Popen(
            [PYTHON, "-c", DEFAULT_SIGNALS, *(str(part) for part in command)],
            cwd=self.root,
            env=self.env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            encoding="utf-8",
            errors="replace",
        )

    def build_arguments(self, raw: bool, data_tests: bool = True) -> list[str]:
        variables = {"as_of_date": AS_OF_DATE, **({"raw_data_dir": RAW_DIR} if raw else {})}
        excluded = [*UNIT_TESTS_EXCLUDED, *([] if data_tests else ["test_type:data"])]
        return ["build", *excluded, "--vars", json.dumps(variables)]

    def dbt_build(
        self, raw: bool = False, data_tests: bool = True
    ) -> subprocess.CompletedProcess[str]:
        arguments = self.build_arguments(raw, data_tests)
        key = arguments[-1]
        cache = self.root / PARTIAL_PARSE
        with PARSE_CACHE_LOCK:
            if key in PARSE_CACHE and not cache.exists():
                cache.parent.mkdir(exist_ok=True)
                cache.write_bytes(PARSE_CACHE[key])
        result = self.run(BIN / "dbt", *arguments)
        with PARSE_CACHE_LOCK:
            if key not in PARSE_CACHE and result.returncode == 0 and cache.exists():
                PARSE_CACHE[key] = cache.read_bytes()
        return result

    def check_inputs(self, raw: bool = False) -> subprocess.CompletedProcess[str]:
        arguments = ["--vars", json.dumps({"raw_data_dir": str(self.raw_dir)})] if raw else []
        return self.run(PYTHON, "scripts/check_inputs.py", "seeds", *arguments)

    def export(self, output_dir: Path, *options: str) -> subprocess.CompletedProcess[str]:
        return self.run(PYTHON, "scripts/export_csv.py", "--output-dir", output_dir, *options)

    def build_log(self) -> list[tuple[Any, ...]]:
        connection = duckdb.connect(str(self.database), read_only=True)
        try:
            return connection.execute(
                "select build_number, command, finished_at is not null, failed_nodes,"
                " models_built, models_total from main.build_log order by build_number"
            ).fetchall()
        finally:
            connection.close()


def make_copy(base: Path, inputs: pop.Inputs, encoding: pop.Encoding, raw: bool) -> Copy:
    """A copy of the project whose inputs are `inputs` written with
    `encoding`, as its seeds or (raw) in base/raw with the sample seeds kept."""
    copy = Copy(base)
    copy.root.mkdir(parents=True)
    for name in COPIED_FILES:
        shutil.copy2(PROJECT_ROOT / name, copy.root / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in COPIED_FOLDERS:
        shutil.copytree(PROJECT_ROOT / name, copy.root / name, ignore=ignore)
    (base / "db").mkdir()
    pop.write_inputs(copy.raw_dir if raw else copy.root / "seeds", inputs, encoding)
    return copy


def output_of(result: subprocess.CompletedProcess[str]) -> str:
    return result.stdout + result.stderr


def tail(result: subprocess.CompletedProcess[str], lines: int = 30) -> str:
    return "\n".join(output_of(result).splitlines()[-lines:])


def require(result: subprocess.CompletedProcess[str], what: str) -> None:
    if result.returncode != 0:
        raise AssertionError(f"{what} exited {result.returncode}:\n{tail(result)}")


def read_files(directory: Path) -> dict[str, bytes]:
    """Every entry of the folder, hidden temporary files included."""
    if not directory.exists():
        return {}
    return {path.name: path.read_bytes() for path in sorted(directory.iterdir())}


def file_states(directory: Path) -> dict[str, tuple[bytes, int, int]]:
    """Bytes, mtime and mode of every file: 'untouched' means all three equal."""
    return {
        path.name: (path.read_bytes(), path.stat().st_mtime_ns, stat.S_IMODE(path.stat().st_mode))
        for path in sorted(directory.iterdir())
    }


def as_export(files: dict[str, bytes]) -> pop.Export:
    return pop.Export(files, USERS_FILE, UPDATE_FILE)


# ---------------------------------------------------------------------------
# The scenarios


@dataclass
class Scenario:
    copy: Copy
    inputs: pop.Inputs
    steps: dict[str, subprocess.CompletedProcess[str]] = field(default_factory=dict)
    outputs: dict[str, dict[str, bytes]] = field(default_factory=dict)

    def step(self, name: str, result: subprocess.CompletedProcess[str]) -> None:
        self.steps[name] = result
        require(result, name)

    def exported(self, name: str) -> Path:
        """Export into base/<name>; keep the files."""
        directory = self.copy.base / name
        self.step(f"export {name}", self.copy.export(directory))
        self.outputs[name] = read_files(directory)
        return directory


def random_inputs() -> pop.Inputs:
    inputs = pop.shared_inputs().add(pop.formula_cases()).add(pop.code_catalogue())
    for number, drawn in enumerate(pop.draw_populations(POPULATIONS, SEED)):
        inputs.add(pop.materialize(drawn, number))
    return inputs


def latin1(path: Path) -> None:
    path.write_bytes(path.read_text("utf-8").encode("latin-1", errors="replace"))


def run_not_utf8(base: Path) -> Scenario:
    """sis_students.csv in Latin-1 (line 5 holds a ü), as seeds and as
    raw_data_dir: make build, then plain dbt build and the export."""
    inputs = pop.shared_inputs().add(pop.code_catalogue())
    inputs.rows[pop.STUDENTS][3]["last_name"] = "Müller-Sentinel"
    seeds = make_copy(base / "seeds", inputs, pop.CLEAN, raw=False)
    latin1(seeds.root / "seeds" / pop.STUDENTS)
    raw = make_copy(base / "raw", inputs, pop.CLEAN, raw=True)
    latin1(raw.raw_dir / pop.STUDENTS)
    scenario = Scenario(seeds, inputs)
    scenario.steps["make build"] = make(seeds, "build", "VARS={}")
    variables = json.dumps({"raw_data_dir": str(raw.raw_dir)})
    scenario.steps["make build raw"] = make(raw, "build", f"VARS={variables}")
    scenario.steps["dbt build"] = seeds.dbt_build()
    scenario.steps["export"] = seeds.export(base / "out")
    return scenario


def first_sync_inputs() -> pop.Inputs:
    inputs = pop.shared_inputs().add(pop.formula_cases())
    inputs.rows[pop.MAJORS] = []
    inputs.rows[pop.HANDSHAKE] = []
    return inputs


def empty_sis_inputs() -> pop.Inputs:
    inputs = pop.shared_inputs()
    inputs.rows[pop.HANDSHAKE] = [
        {
            "username": "held",
            "email_address": "held@example.edu",
            "school_year_name": "Senior",
            "primary_education:start_date": "2022-09-01",
            "primary_education:end_date": "2026-05-15",
            "primary_education:currently_attending": "TRUE",
            "disabled": "FALSE",
        }
    ]
    return inputs


def run_seeds_clean(base: Path, inputs: pop.Inputs) -> Scenario:
    scenario = Scenario(make_copy(base, inputs, pop.CLEAN, raw=False), inputs)
    scenario.step("check_inputs", scenario.copy.check_inputs())
    scenario.step("dbt build", scenario.copy.dbt_build())
    scenario.exported("out")
    scenario.exported("out_again")
    scenario.step("dbt build (re-run)", scenario.copy.dbt_build())
    scenario.exported("out_rebuilt")
    return scenario


def run_variety(base: Path, inputs: pop.Inputs, encoding: pop.Encoding, raw: bool) -> Scenario:
    """The files must equal seeds_clean's, whose build ran every data test."""
    scenario = Scenario(make_copy(base, inputs, encoding, raw), inputs)
    scenario.step("check_inputs", scenario.copy.check_inputs(raw))
    scenario.step("dbt build", scenario.copy.dbt_build(raw, data_tests=False))
    scenario.exported("out")
    return scenario


def interrupted_build(
    copy: Copy, raw: bool, how: signal.Signals
) -> subprocess.CompletedProcess[str]:
    """dbt build, sent `how` once the intermediate models have started."""
    process = copy.popen(BIN / "dbt", *copy.build_arguments(raw))
    assert process.stdout is not None
    printed = []
    for line in process.stdout:
        printed.append(line)
        if re.search(r"START sql table model \S+\.int_", line):
            process.send_signal(how)
            break
    printed.append(process.stdout.read())
    process.wait(timeout=TIMEOUT)
    return subprocess.CompletedProcess(process.args, process.returncode, "".join(printed), "")


def run_interrupted(
    base: Path, inputs: pop.Inputs, raw: bool, how: signal.Signals, data_tests: bool
) -> Scenario:
    """Build and export; then a build interrupted by `how`, and an export."""
    scenario = Scenario(make_copy(base, inputs, pop.CLEAN, raw), inputs)
    scenario.step("check_inputs", scenario.copy.check_inputs(raw))
    scenario.step("dbt build", scenario.copy.dbt_build(raw, data_tests))
    output_dir = scenario.exported("out")
    scenario.outputs["states before"] = {
        name: repr(state).encode() for name, state in file_states(output_dir).items()
    }
    scenario.steps["interrupted build"] = interrupted_build(scenario.copy, raw, how)
    scenario.steps["export after"] = scenario.copy.export(output_dir)
    scenario.outputs["states after"] = {
        name: repr(state).encode() for name, state in file_states(output_dir).items()
    }
    return scenario


@pytest.fixture(scope="module")
def scenarios(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Future[Scenario]]]:
    """The scenarios, started side by side; each test waits for its own."""
    # pytest creates its base temporary folder on first use: not from several
    # threads at once (when these tests run alone, this fixture is the first).
    tmp_path_factory.getbasetemp()
    inputs = random_inputs()
    jobs: dict[str, Callable[[], Scenario]] = {
        "seeds_clean": lambda: run_seeds_clean(tmp_path_factory.mktemp("seeds_clean"), inputs),
        "raw_variety": lambda: run_variety(
            tmp_path_factory.mktemp("raw_variety"), inputs, pop.EVERY_VARIETY, raw=True
        ),
        "seeds_variety": lambda: run_variety(
            tmp_path_factory.mktemp("seeds_variety"), inputs, SEEDS_VARIETY, raw=False
        ),
        "raw_first_sync": lambda: run_interrupted(
            tmp_path_factory.mktemp("raw_first_sync"),
            first_sync_inputs(),
            raw=True,
            how=signal.SIGINT,
            data_tests=True,
        ),
        "seeds_empty": lambda: run_interrupted(
            tmp_path_factory.mktemp("seeds_empty"),
            empty_sis_inputs(),
            raw=False,
            how=signal.SIGKILL,
            data_tests=False,
        ),
        "not_utf8": lambda: run_not_utf8(tmp_path_factory.mktemp("not_utf8")),
    }
    with ThreadPoolExecutor(max_workers=3) as executor:
        yield {name: executor.submit(job) for name, job in jobs.items()}


def scenario(scenarios: dict[str, Future[Scenario]], name: str) -> Scenario:
    return scenarios[name].result(timeout=TIMEOUT * 3)


# ---------------------------------------------------------------------------
# Properties of random populations


def test_random_populations_pass_every_check(scenarios: dict[str, Future[Scenario]]) -> None:
    run = scenario(scenarios, "seeds_clean")
    files = run.outputs["out"]
    assert set(files) == OUTPUT_FILES
    problems = pop.check_export(run.inputs, as_export(files))
    assert not problems, "\n".join(problems[:40])
    # The random students (not the hand-made F and C cases) reach every outcome.
    random_outcomes = Counter(
        row["outcome"]
        for row in pop.records(files["student_outcomes.csv"])
        if row["student_id"][0].isdigit()
    )
    assert min(random_outcomes[name] for name in ("exported", "rejected", "skipped")) >= 5, (
        random_outcomes
    )


def test_every_error_and_warning_code_is_raised_where_expected(
    scenarios: dict[str, Future[Scenario]],
) -> None:
    files = scenario(scenarios, "seeds_clean").outputs["out"]
    outcomes = {row["student_id"]: row for row in pop.records(files["student_outcomes.csv"])}
    issues = {(row["student_id"], row["code"]) for row in pop.records(files["import_issues.csv"])}
    for student_id, (code, _) in pop.CATALOGUE.items():
        assert (student_id, code) in issues, (student_id, code)
        if pop.SEVERITIES[code] == "error":
            assert outcomes[student_id]["outcome"] == "rejected", (student_id, code)
            assert code in outcomes[student_id]["reason"].split(";"), (student_id, code)
        else:
            assert outcomes[student_id]["outcome"] == "exported", (student_id, code)
    details = {
        row["student_id"]: row["detail"]
        for row in pop.records(files["import_issues.csv"])
        if row["code"] == "duplicate_username"
    }
    assert details["C21"] == "username also used by student_id C02, C03, C22 and 1 more"
    manifest = json.loads(files["manifest.json"])
    raised = {code for codes in manifest["issues"].values() for code in codes}
    assert raised >= set(pop.SEVERITIES), sorted(set(pop.SEVERITIES) - raised)


def test_rerun_is_byte_identical(scenarios: dict[str, Future[Scenario]]) -> None:
    run = scenario(scenarios, "seeds_clean")
    assert run.outputs["out_again"] == run.outputs["out"]
    assert run.outputs["out_rebuilt"] == run.outputs["out"]
    # The re-run added a finished build to the log.
    assert [row[:3] for row in run.copy.build_log()] == [(1, "build", True), (2, "build", True)]


def test_every_text_column_is_covered_against_formula_injection(
    scenarios: dict[str, Future[Scenario]],
) -> None:
    files = scenario(scenarios, "seeds_clean").outputs["out"]
    outcomes = {row["student_id"]: row for row in pop.records(files["student_outcomes.csv"])}
    issues = pop.records(files["import_issues.csv"])
    cases = [sid for sid in outcomes if pop.formula_case(sid)]
    assert len(cases) == len(pop.FORMULA_COLUMNS) * len(pop.FORMULA_PREFIXES)
    for student_id in cases:
        column, prefix = pop.formula_case(student_id) or ("", "")
        assert outcomes[student_id]["outcome"] == "rejected", (column, prefix)
        assert "unsafe_value" in outcomes[student_id]["reason"].split(";"), (column, prefix)
        detail = next(
            row["detail"]
            for row in issues
            if row["student_id"] == student_id and row["code"] == "unsafe_value"
        )
        assert pop.FORMULA_DETAIL_NAMES.get(column, column) in detail, (column, prefix, detail)
        if column == "username":
            # In the reports the username is kept, with a leading apostrophe.
            assert outcomes[student_id]["username"] == "'" + prefix + student_id.replace("F", "fx")
    assert outcomes["F99"]["outcome"] == "exported"
    # Nothing formula-like in either Handshake file (they are never escaped).
    for name in (USERS_FILE, UPDATE_FILE):
        for row in pop.csv_rows(files[name]):
            assert not any(cell.startswith(pop.FORMULA_PREFIXES) for cell in row), name
    # The HTML report escapes what it shows.
    html = files["report.html"].decode("utf-8")
    assert "<xss-probe>" not in html and "<script>" not in html


# ---------------------------------------------------------------------------
# Input variety


@pytest.mark.parametrize("name", ["raw_variety", "seeds_variety"])
def test_every_input_variety_gives_the_same_files(
    scenarios: dict[str, Future[Scenario]], name: str
) -> None:
    """BOM, CRLF, quoting, column order, extra columns, spaces and case change nothing."""
    clean = scenario(scenarios, "seeds_clean").outputs["out"]
    varied = scenario(scenarios, name).outputs["out"]
    assert set(varied) == set(clean)
    for file_name in sorted(clean):
        assert varied[file_name].decode("utf-8") == clean[file_name].decode("utf-8"), file_name


def test_header_only_handshake_and_majors_are_a_first_sync(
    scenarios: dict[str, Future[Scenario]],
) -> None:
    run = scenario(scenarios, "raw_first_sync")
    files = run.outputs["out"]
    assert not pop.check_export(run.inputs, as_export(files))
    sync = pop.records(files[USERS_FILE])
    # Without majors the major_name formula cases are clean: exported.
    major_cases = [f"fx{pop.FORMULA_COLUMNS.index('major_name')}{n}" for n in range(6)]
    assert [row["username"] for row in sync] == [*major_cases, "fxcontrol", "fxsentinel"]
    assert all(row["primary_education:major_names"] == "" for row in sync)
    # Every exported alumnus is new to Handshake: in the alumni update file.
    assert [row["username"] for row in pop.records(files[UPDATE_FILE])] == ["fxsentinel"]


def test_header_only_sis_file_exports_nothing(scenarios: dict[str, Future[Scenario]]) -> None:
    files = scenario(scenarios, "seeds_empty").outputs["out"]
    for name in OUTPUT_FILES - {"report.html", "manifest.json"}:
        assert files[name].count(b"\n") == 1, name  # the header only
    assert json.loads(files["manifest.json"])["outcomes"] == {
        "exported": 0,
        "rejected": 0,
        "skipped": 0,
    }


# ---------------------------------------------------------------------------
# Interrupted builds


@pytest.mark.parametrize(
    ("name", "signal_name"), [("raw_first_sync", "SIGINT"), ("seeds_empty", "SIGKILL")]
)
def test_export_refuses_after_an_interrupted_build(
    scenarios: dict[str, Future[Scenario]], name: str, signal_name: str
) -> None:
    run = scenario(scenarios, name)
    assert run.steps["interrupted build"].returncode != 0, signal_name
    refused = run.steps["export after"]
    assert refused.returncode == 3, tail(refused)
    assert "the last dbt build (build log #2) did not finish" in refused.stderr
    assert "nothing was written" in refused.stderr
    assert refused.stderr.count("\n") == 1 and "Traceback" not in refused.stderr
    assert run.outputs["states after"] == run.outputs["states before"]
    log = run.copy.build_log()
    assert [row[:3] for row in log] == [(1, "build", True), (2, "build", False)]


# ---------------------------------------------------------------------------
# Faults of the export, on the built seeds_clean copy

# Runs the export with a pause (or a failure) injected mid-write: the sync
# file's temporary file holds its header and the first row has been read
# (the first rows the export streams are the sync file's), then `ready` is
# created and the process waits to be signalled; with "fail", the writes hit
# a full disk instead.
MID_WRITE = r"""
import os, sys, time
sys.path.insert(0, "scripts")
import export_csv
from handshake_export.warehouse import Database

ready, mode = sys.argv[1], sys.argv[2]
original = Database.stream


def paused(database, sql, streaming=True):
    for number, row in enumerate(original(database, sql, streaming)):
        yield row
        if streaming and number == 0 and mode == "pause":
            open(ready, "w").close()
            time.sleep(600)
        if streaming and number == 0 and mode == "fail":
            raise OSError(28, "No space left on device")


Database.stream = paused
sys.exit(export_csv.main(sys.argv[3:]))
"""


def previous_outputs(run: Scenario, directory: Path) -> dict[str, tuple[bytes, int, int]]:
    """The files of the earlier export, 0600 in a 0700 folder, as a later run finds them."""
    directory.mkdir(mode=0o700)
    for name, data in run.outputs["out"].items():
        path = directory / name
        path.write_bytes(data)
        path.chmod(0o600)
    return file_states(directory)


def wait_for(path: Path, process: subprocess.Popen[str], seconds: float = 300) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f"the export never reached mid-write:\n{process.communicate()}")
        time.sleep(0.05)


def temporary_files(directory: Path) -> list[str]:
    return sorted(path.name for path in directory.iterdir() if path.name.endswith(".tmp"))


@pytest.mark.parametrize(
    "how", [signal.SIGTERM, signal.SIGINT, signal.SIGKILL], ids=lambda how: how.name
)
def test_export_killed_mid_write_keeps_the_previous_files(
    scenarios: dict[str, Future[Scenario]], tmp_path: Path, how: signal.Signals
) -> None:
    run = scenario(scenarios, "seeds_clean")
    output_dir = tmp_path / "out"
    before = previous_outputs(run, output_dir)
    ready = tmp_path / "ready"
    process = run.copy.popen(PYTHON, "-c", MID_WRITE, ready, "pause", "--output-dir", output_dir)
    wait_for(ready, process)
    assert temporary_files(output_dir), "the sync file was being written"
    process.send_signal(how)
    try:
        printed, _ = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()

    finals = {name: state for name, state in file_states(output_dir).items() if name[0] != "."}
    assert finals == before, "a previous file was changed or a partial file published"
    if how == signal.SIGKILL:
        assert process.returncode == -signal.SIGKILL
        # No cleanup can run; the next export removes the leftovers.
        assert temporary_files(output_dir)
        require(run.copy.export(output_dir), "export after the killed one")
        assert read_files(output_dir) == run.outputs["out"]
    else:
        assert process.returncode == 130, printed
        assert "interrupted; no temporary file left behind" in printed
        assert "Traceback" not in printed
        assert file_states(output_dir) == before


def test_disk_full_mid_write_keeps_the_previous_files(
    scenarios: dict[str, Future[Scenario]], tmp_path: Path
) -> None:
    run = scenario(scenarios, "seeds_clean")
    output_dir = tmp_path / "out"
    before = previous_outputs(run, output_dir)
    result = run.copy.run(
        PYTHON, "-c", MID_WRITE, tmp_path / "ready", "fail", "--output-dir", output_dir
    )
    assert result.returncode == 6, tail(result)
    last_line = result.stderr.splitlines()[-1]
    assert last_line == "export_csv: could not write the outputs: No space left on device"
    assert "Traceback" not in result.stderr
    assert file_states(output_dir) == before


def lock_holder(database: Path) -> subprocess.Popen[str]:
    """Another process with the database open for writing (a notebook, the CLI)."""
    code = (
        "import sys, duckdb; c = duckdb.connect(sys.argv[1]); print('ready', flush=True); "
        "sys.stdin.read()"
    )
    holder = subprocess.Popen(
        [PYTHON, "-c", code, str(database)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
    return holder


def make(copy: Copy, *arguments: str) -> subprocess.CompletedProcess[str]:
    """The project's Makefile in the copy, with the project's venv (never reinstalled)."""
    installed = str(BIN / ".installed")
    return copy.run(
        "make",
        "--no-print-directory",
        "-f",
        PROJECT_ROOT / "Makefile",
        f"BIN={BIN}",
        "-o",
        installed,
        *arguments,
    )


def test_locked_database_gives_one_clear_line(
    scenarios: dict[str, Future[Scenario]], tmp_path: Path
) -> None:
    run = scenario(scenarios, "seeds_clean")
    output_dir = tmp_path / "out"
    before = previous_outputs(run, output_dir)
    builds = run.copy.build_log()
    holder = lock_holder(run.copy.database)
    try:
        exported = run.copy.export(output_dir)
        built = make(run.copy, "build")
    finally:
        holder.communicate("")
    assert exported.returncode == 5, tail(exported)
    assert f"the database {DATABASE} is locked by another process" in exported.stderr
    assert exported.stderr.count("\n") == 1 and "Traceback" not in exported.stderr
    assert file_states(output_dir) == before

    assert built.returncode != 0
    message = (
        f"check_database: the database {DATABASE} is locked by another process (PID {holder.pid}, "
    )
    assert message in built.stderr, tail(built)
    assert "Traceback" not in output_of(built)
    assert "dbt build" not in built.stdout  # stopped before dbt started
    assert run.copy.build_log() == builds
    # Released: the export writes again.
    require(run.copy.export(output_dir), "export after the lock is released")


def test_export_before_any_build_refuses(tmp_path: Path) -> None:
    inputs = pop.shared_inputs().add(pop.code_catalogue())
    copy = make_copy(tmp_path, inputs, pop.CLEAN, raw=False)
    refused = copy.export(tmp_path / "out")
    assert refused.returncode == 3, tail(refused)
    assert "target/manifest.json not found: run dbt build first" in refused.stderr
    assert refused.stderr.count("\n") == 1 and "Traceback" not in refused.stderr
    assert not (tmp_path / "out").exists()


# ---------------------------------------------------------------------------
# A file that is not UTF-8, through make (check_inputs) and through plain dbt


def test_file_not_utf8_is_refused_naming_file_and_line(
    scenarios: dict[str, Future[Scenario]],
) -> None:
    run = scenario(scenarios, "not_utf8")
    raw = Copy(run.copy.base.parent / "raw")
    # make build checks the files first: seeds, or raw_data_dir when VARS set it.
    for step, path in (
        ("make build", Path("seeds") / pop.STUDENTS),
        ("make build raw", raw.raw_dir / pop.STUDENTS),
    ):
        result = run.steps[step]
        assert result.returncode != 0
        assert f"{path}: line 5: not UTF-8 (byte 0xFC); save the file as UTF-8" in result.stderr
        assert "Sentinel" not in output_of(result) and "Traceback" not in output_of(result)
        assert "dbt build" not in result.stdout, step
    # Plain dbt build on the seeds stops while parsing (dbt's own traceback,
    # without the file's name: hence check_inputs); nothing can be exported.
    build = run.steps["dbt build"]
    assert build.returncode != 0 and "UnicodeDecodeError" in output_of(build)
    assert run.steps["export"].returncode == 3


# ---------------------------------------------------------------------------
# Data handling


def personal_values(inputs: pop.Inputs) -> set[str]:
    """The sentinel's names and every address of the inputs (as sent: lower case)."""
    values = set(pop.SENTINELS) | {"sentinel.personal@gmail.com"}
    for row in inputs.rows[pop.STUDENTS]:
        for column in ("campus_email", "personal_email"):
            address = pop.clean(row[column]).lower()
            if pop.is_valid_address(address):
                values.add(address)
    return values


def test_no_names_or_addresses_in_logs_artifacts_or_reports(
    scenarios: dict[str, Future[Scenario]],
) -> None:
    runs = [scenario(scenarios, name) for name in ("seeds_clean", "raw_variety")]
    values = personal_values(runs[0].inputs)
    assert len(values) > 100
    files = runs[0].outputs["out"]
    # The sentinel is exported: the values reach the Handshake files ...
    assert pop.SENTINELS[0].encode() in files[USERS_FILE]
    # ... but neither the report nor anything printed, logged or compiled.
    places: dict[str, str] = {"report.html": files["report.html"].decode("utf-8")}
    for run in runs:
        for name, step in run.steps.items():
            places[f"{run.copy.base.name}: {name}"] = output_of(step)
        for folder in ("logs", "target"):
            for path in sorted((run.copy.root / folder).rglob("*")):
                if path.is_file() and path.suffix in (".log", ".json", ".sql", ".txt"):
                    places[str(path)] = path.read_text("utf-8", errors="replace")
    leaks = {
        place: sorted(value for value in values if value in text) for place, text in places.items()
    }
    assert not {place: found for place, found in leaks.items() if found}


def test_output_files_are_0600_in_a_0700_folder(scenarios: dict[str, Future[Scenario]]) -> None:
    run = scenario(scenarios, "seeds_clean")
    for name in ("out", "out_again", "out_rebuilt"):
        folder = run.copy.base / name
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        for path in folder.iterdir():
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_outputs_databases_and_dbt_artefacts_are_git_ignored() -> None:
    if shutil.which("git") is None or not (PROJECT_ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    paths = [
        "output/20260615_users.csv",
        "output/report.html",
        "data/handshake_alumni.duckdb",
        "data/handshake_alumni.duckdb.wal",
        "elsewhere/copy.duckdb",
        "target/run_results.json",
        "target/make-test/compiled/x.sql",
        "logs/dbt.log",
    ]
    result = subprocess.run(
        ["git", "-C", str(PROJECT_ROOT), "check-ignore", "--no-index", *paths],
        capture_output=True,
        text=True,
        check=False,
    )
    assert sorted(result.stdout.split()) == sorted(paths)


def test_readme_lists_the_inputs_faults_and_files() -> None:
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    robustness = readme.index("\n## Robustness\n")
    data_handling = readme.index("\n## Data handling\n")
    assert robustness < data_handling
    table = readme[robustness:data_handling]
    for case in (
        "CRLF",
        "BOM",
        "extra columns",
        "another order",
        "header only",
        "not UTF-8",
        "`NULL`",
        "Random populations",
        "`=` `+` `-` `@`",
        "killed mid-write",
        "SIGKILL",
        "Disk full",
        "held by another process",
        "before any build",
        "interrupted",
    ):
        assert case in table, case
    handling = readme[data_handling:]
    for name in ("_users.csv", "alumni_update_", "alumni_password_notices.csv", "manifest.json"):
        assert name in handling, name
    assert "how long to keep it" in handling
