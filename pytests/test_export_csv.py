"""Tests of scripts/export_csv.py against a fake dbt project in tmp_path.

Each test builds a DuckDB file holding the six mart tables, a profiles.yml that
points at it, and target/manifest.json + target/run_results.json. No test
touches the real project's data/, output/ or target/.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import stat
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"
sys.path.insert(0, str(SCRIPTS))

import export_csv  # noqa: E402

DATE = "20260615"
USERS_FILE = f"{DATE}_users.csv"
UPDATE_FILE = f"alumni_update_{DATE}.csv"
REPORT_FILES = ("import_issues.csv", "student_outcomes.csv", "alumni_password_notices.csv")
HTML_REPORT = "report.html"
ALL_FILES = {USERS_FILE, UPDATE_FILE, *REPORT_FILES, HTML_REPORT, "manifest.json"}

HANDSHAKE_HEADER = (
    "username,email_address,auth_identifier,first_name,last_name,school_year_name,"
    "primary_education:education_level_name,primary_education:cumulative_gpa,"
    "primary_education:major_names,primary_education:primary_major_name,"
    "primary_education:start_date,primary_education:end_date,"
    "primary_education:currently_attending,disabled\n"
)
FILE_COLUMNS = [column for column, _ in export_csv.HANDSHAKE_COLUMNS]
# The build log row of the fake build (macros/record_build_start.sql, record_build_end.sql).
INVOCATION_ID = "00000000-0000-0000-0000-000000000001"
BUILD_LOG_COLUMNS = (
    "build_number integer, invocation_id varchar, command varchar, started_at timestamp,"
    " finished_at timestamp, failed_nodes integer, models_built integer, models_total integer"
)
FINISHED_BUILD = (
    1,
    INVOCATION_ID,
    "build",
    "2026-06-15 01:00:00",
    "2026-06-15 01:05:00",
    0,
    18,
    18,
)
USER_COLUMNS = [
    *FILE_COLUMNS,
    "student_id",
    "is_record_changed",
    "is_newly_disabled",
    "is_email_changed",
]


def user(username: str | None, email: str | None, student_id: str, **values: Any) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(USER_COLUMNS)
    row.update(
        username=username,
        email_address=email,
        student_id=student_id,
        is_record_changed=False,
        is_newly_disabled=False,
        is_email_changed=False,
    )
    row.update(values)
    return row


def default_users() -> list[dict[str, Any]]:
    # Inserted out of order: the file must be in code-point order Zed < alice < bob < émile.
    return [
        user(
            "émile",
            "emile@example.edu",
            "S3",
            first_name="Émile",
            last_name="Zoë",
            school_year_name="Senior",
            education_level_name="Bachelors",
            cumulative_gpa="3.50",
            major_names="History;Art",
            primary_major_name="History",
            start_date="2022-09-01",
            end_date="2026-05-30",
            currently_attending="TRUE",
            is_record_changed=True,
        ),
        user(
            "Zed",
            "zed@example.edu",
            "S1",
            auth_identifier="zed-sso",
            first_name="Zed",
            last_name="O'Brien, Jr.",
            school_year_name="Alumni",
            education_level_name="Masters",
            start_date="2024-09-01",
            end_date="2026-06-01",
            currently_attending="FALSE",
            is_record_changed=True,
        ),
        user(
            "alice",
            "alice.personal@gmail.com",
            "S2",
            auth_identifier="",
            first_name='Alice "Al"',
            last_name="Smith\nJones",
            school_year_name="Junior",
            education_level_name="Bachelors",
            major_names="Math",
            primary_major_name="Math",
            start_date="2025-01-10",
            end_date="**CLEAR**",
            currently_attending="TRUE",
            disabled="FALSE",
            is_record_changed=True,
        ),
        user(
            "bob",
            "bob@example.edu",
            "S4",
            first_name="Bob",
            last_name="Car\rter",
            school_year_name="Freshman",
            education_level_name="Bachelors",
            cumulative_gpa="4.00",
            major_names="Biology",
            primary_major_name="Biology",
            start_date="2025-09-01",
            end_date="2029-05-15",
            currently_attending="TRUE",
        ),
    ]


@dataclass
class Marts:
    users: list[dict[str, Any]] = field(default_factory=default_users)
    updates: list[str] = field(default_factory=lambda: ["Zed"])  # usernames taken from users
    issues: list[tuple[Any, ...]] = field(
        default_factory=lambda: [
            ("warning", "invalid_gpa", "S4", "bob", "=1+2", 18),
            ("error", "duplicate_email", "9", "-dash", "shared with 010, 011, 012 and 2 more", 14),
            ("error", "invalid_name", "9", "-dash", "first_name has a digit", 5),
            ("error", "missing_username", "010", None, "username is blank", 1),
            ("warning", "personal_email_unusable", "S1", "Zed", "\tmissing", 17),
            ("error", "unsafe_value", "011", "@handle", "+first_name starts badly", 16),
        ]
    )
    outcomes: list[tuple[Any, ...]] = field(
        default_factory=lambda: [
            ("S1", "Zed", "exported", None),
            ("S4", "bob", "exported", None),
            ("9", "-dash", "rejected", "invalid_name;duplicate_email"),
            ("S2", "alice", "exported", None),
            ("010", None, "rejected", "missing_username"),
            ("S3", "émile", "exported", None),
            ("011", "@handle", "rejected", "unsafe_value"),
        ]
    )
    notices: list[tuple[Any, ...]] = field(
        default_factory=lambda: [
            ("émile", "emile@example.edu", "\tÉmile", "S3"),
            ("Zed", "zed@example.edu", '=HYPERLINK("http://x","y")', "S1"),
        ]
    )
    as_of_date: date = date(2026, 6, 15)


EXPECTED_USERS = HANDSHAKE_HEADER + (
    'Zed,zed@example.edu,zed-sso,Zed,"O\'Brien, Jr.",Alumni,Masters,,,,'
    "2024-09-01,2026-06-01,FALSE,\n"
    'alice,alice.personal@gmail.com,,"Alice ""Al""","Smith\nJones",Junior,Bachelors,,'
    "Math,Math,2025-01-10,**CLEAR**,TRUE,FALSE\n"
    # A bare carriage return forces quotes on the whole row.
    '"bob","bob@example.edu","","Bob","Car\rter","Freshman","Bachelors","4.00",'
    '"Biology","Biology","2025-09-01","2029-05-15","TRUE",""\n'
    "émile,emile@example.edu,,Émile,Zoë,Senior,Bachelors,3.50,History;Art,History,"
    "2022-09-01,2026-05-30,TRUE,\n"
)
EXPECTED_UPDATE = HANDSHAKE_HEADER + (
    'Zed,zed@example.edu,zed-sso,Zed,"O\'Brien, Jr.",Alumni,Masters,,,,'
    "2024-09-01,2026-06-01,FALSE,\n"
)
EXPECTED_ISSUES = (
    "severity,code,student_id,username,detail\n"
    "error,missing_username,010,,username is blank\n"
    "error,unsafe_value,011,'@handle,'+first_name starts badly\n"
    "error,invalid_name,9,'-dash,first_name has a digit\n"
    'error,duplicate_email,9,\'-dash,"shared with 010, 011, 012 and 2 more"\n'
    "warning,personal_email_unusable,S1,Zed,'\tmissing\n"
    "warning,invalid_gpa,S4,bob,'=1+2\n"
)
EXPECTED_OUTCOMES = (
    "student_id,username,outcome,reason\n"
    "010,,rejected,missing_username\n"
    "011,'@handle,rejected,unsafe_value\n"
    "9,'-dash,rejected,invalid_name;duplicate_email\n"
    "S1,Zed,exported,\n"
    "S2,alice,exported,\n"
    "S3,émile,exported,\n"
    "S4,bob,exported,\n"
)
EXPECTED_NOTICES = (
    "username,email_address,first_name\n"
    'Zed,zed@example.edu,"\'=HYPERLINK(""http://x"",""y"")"\n'
    "émile,emile@example.edu,'\tÉmile\n"
)

PROFILE = """\
handshake_alumni:
  target: "{{ env_var('HANDSHAKE_TARGET', 'duckdb') }}"
  outputs:
    duckdb:
      type: duckdb
      path: "{{ env_var('EXPORT_TEST_DB', 'warehouse.duckdb') }}"
      schema: main
    other:
      type: duckdb
      path: other.duckdb
      schema: main
    postgres:
      type: postgres
      host: "{{ env_var('PGHOST', 'localhost') }}"
      port: "{{ env_var('PGPORT', '5432') | as_number }}"
      user: "{{ env_var('PGUSER', 'postgres') }}"
      password: "{{ env_var('PGPASSWORD', '') }}"
      dbname: "{{ env_var('PGDATABASE', 'postgres') }}"
      schema: export_test
"""


@dataclass
class Project:
    """A fake dbt project: the current directory of the test (like dbt's)."""

    root: Path

    @property
    def database(self) -> Path:
        return self.root / "warehouse.duckdb"

    def write(
        self,
        marts: Marts,
        database: Path | None = None,
        statuses: list[tuple[str, str]] | None = None,
        catalog: str = "warehouse",
        schema: str = "main",
    ) -> None:
        write_database(database or self.database, marts)
        (self.root / "profiles.yml").write_text(PROFILE, encoding="utf-8")
        target = self.root / "target"
        target.mkdir(exist_ok=True)
        prefix = f'"{catalog}".' if catalog else ""
        nodes = {
            f"model.handshake_alumni.{name}": {
                "resource_type": "model",
                "name": name,
                "relation_name": f'{prefix}"{schema}"."{name}"',
            }
            for name in export_csv.MART_MODELS
        }
        nodes["seed.handshake_alumni.sis_students"] = {
            "resource_type": "seed",
            "name": "sis_students",
            "relation_name": f'{prefix}"{schema}"."sis_students"',
        }
        (target / "manifest.json").write_text(json.dumps({"nodes": nodes}), encoding="utf-8")
        self.write_run_results(statuses)

    def write_run_results(self, statuses: list[tuple[str, str]] | None = None) -> None:
        if statuses is None:
            statuses = [
                ("seed.handshake_alumni.sis_students", "success"),
                ("model.handshake_alumni.sync_users", "success"),
                ("test.handshake_alumni.unique_sync_users_username", "pass"),
                ("test.handshake_alumni.some_warning", "warn"),
            ]
        results = [{"unique_id": unique_id, "status": status} for unique_id, status in statuses]
        artifact = {"metadata": {"invocation_id": INVOCATION_ID}, "results": results}
        (self.root / "target" / "run_results.json").write_text(
            json.dumps(artifact), encoding="utf-8"
        )

    def log_build(self, *row: Any) -> None:
        """Add a row to the fake database's build log."""
        connection = duckdb.connect(str(self.database))
        try:
            insert_rows(connection, "build_log", [row])
        finally:
            connection.close()


def write_database(path: Path, marts: Marts) -> None:
    path.unlink(missing_ok=True)
    connection = duckdb.connect(str(path))
    try:
        text_columns = ", ".join(f"{column} varchar" for column in FILE_COLUMNS)
        connection.execute(
            f"create table sync_users ({text_columns}, student_id varchar,"
            " is_record_changed boolean, is_newly_disabled boolean, is_email_changed boolean)"
        )
        connection.execute(f"create table alumni_updates ({text_columns}, student_id varchar)")
        connection.execute(
            "create table import_issues (severity varchar, code varchar, student_id varchar,"
            " username varchar, detail varchar, code_order integer)"
        )
        connection.execute(
            "create table student_outcomes (student_id varchar, username varchar,"
            " outcome varchar, reason varchar)"
        )
        connection.execute(
            "create table password_notices (username varchar, email_address varchar,"
            " first_name varchar, student_id varchar)"
        )
        connection.execute(
            "create table sync_runs (as_of_date date, campus_email_grace_days integer,"
            " alumni_lookback_days integer, disable_alumni_after_days integer,"
            " student_count integer)"
        )
        connection.execute(
            "insert into sync_runs values (?, 30, 180, null, ?)",
            [marts.as_of_date, len(marts.outcomes)],
        )
        users = [[row[c] for c in USER_COLUMNS] for row in marts.users]
        insert_rows(connection, "sync_users", users)
        updates = [row for row in marts.users if row["username"] in marts.updates]
        insert_rows(
            connection,
            "alumni_updates",
            [[row[c] for c in [*FILE_COLUMNS, "student_id"]] for row in updates],
        )
        insert_rows(connection, "import_issues", as_written(marts.issues, 5))
        insert_rows(connection, "student_outcomes", as_written(marts.outcomes, 4))
        insert_rows(connection, "password_notices", as_written(marts.notices, 3))
        connection.execute(f"create table build_log ({BUILD_LOG_COLUMNS})")
        insert_rows(connection, "build_log", [FINISHED_BUILD])
    finally:
        connection.close()


def as_written(rows: list[tuple[Any, ...]], cells: int) -> list[tuple[Any, ...]]:
    """Rows of a report mart as the build writes them: its first `cells` text
    cells escaped like macros/rendering/escape_formula.sql (a leading
    apostrophe before = + - @ tab CR); the export writes them verbatim."""
    prefixes = ("=", "+", "-", "@", "\t", "\r")
    return [
        tuple(
            "'" + value
            if index < cells and isinstance(value, str) and value.startswith(prefixes)
            else value
            for index, value in enumerate(row)
        )
        for row in rows
    ]


def insert_rows(connection: duckdb.DuckDBPyConnection, table: str, rows: list[Any]) -> None:
    if rows:
        marks = ", ".join("?" * len(rows[0]))
        sql = f"insert into {table} values ({marks})"
        connection.executemany(sql, [list(row) for row in rows])


@dataclass
class Run:
    code: int
    out: str
    err: str


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    for name in ("HANDSHAKE_TARGET", "HANDSHAKE_DUCKDB_PATH", "EXPORT_TEST_DB"):
        monkeypatch.delenv(name, raising=False)
    root = tmp_path / "project"
    root.mkdir()
    monkeypatch.chdir(root)
    created = Project(root)
    created.write(Marts())
    return created


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    return tmp_path / "out"


@pytest.fixture
def run(out_dir: Path, capsys: pytest.CaptureFixture[str]):  # noqa: ANN201
    def run_export(*args: str, output: Path | None = None) -> Run:
        code = export_csv.main(["--output-dir", str(output or out_dir), *args])
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return run_export


def snapshot(directory: Path) -> dict[str, bytes]:
    """Every entry of the directory, hidden temp files included."""
    if not directory.exists():
        return {}
    return {path.name: path.read_bytes() for path in sorted(directory.iterdir())}


def read(directory: Path, name: str) -> str:
    return (directory / name).read_bytes().decode("utf-8")


def manifest(directory: Path) -> dict[str, Any]:
    return json.loads(read(directory, "manifest.json"))


# ---------------------------------------------------------------------------
# Files and manifest


def test_files_have_the_exact_expected_bytes(project: Project, run, out_dir: Path) -> None:
    result = run()
    assert result.code == 0, result.err
    assert set(snapshot(out_dir)) == ALL_FILES
    assert read(out_dir, USERS_FILE) == EXPECTED_USERS
    assert read(out_dir, UPDATE_FILE) == EXPECTED_UPDATE
    assert read(out_dir, "import_issues.csv") == EXPECTED_ISSUES
    assert read(out_dir, "student_outcomes.csv") == EXPECTED_OUTCOMES
    assert read(out_dir, "alumni_password_notices.csv") == EXPECTED_NOTICES
    for name in ALL_FILES:
        data = (out_dir / name).read_bytes()
        assert not data.startswith(b"\xef\xbb\xbf")
        assert b"\r\n" not in data


def test_handshake_files_are_not_apostrophe_escaped(project: Project, run, out_dir: Path) -> None:
    marts = Marts()
    # The models reject such rows; the export writes the Handshake files verbatim.
    marts.users[0]["first_name"] = "-Émile"
    project.write(marts)
    assert run().code == 0
    assert ",-Émile," in read(out_dir, USERS_FILE)


def test_manifest_records_files_counts_preflight_and_settings(
    project: Project, run, out_dir: Path
) -> None:
    assert run().code == 0
    text = read(out_dir, "manifest.json")
    data = json.loads(text)
    assert text == json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    assert data["as_of_date"] == "2026-06-15"
    rows = {
        USERS_FILE: 4,
        UPDATE_FILE: 1,
        "import_issues.csv": 6,
        "student_outcomes.csv": 7,
        "alumni_password_notices.csv": 2,
        HTML_REPORT: 6,  # the import issue rows it shows
    }
    assert data["files"] == {
        name: {"rows": count, "sha256": hashlib.sha256((out_dir / name).read_bytes()).hexdigest()}
        for name, count in rows.items()
    }
    assert data["outcomes"] == {"exported": 4, "rejected": 3, "skipped": 0}
    assert data["issues"] == {
        "error": {
            "duplicate_email": 1,
            "invalid_name": 1,
            "missing_username": 1,
            "unsafe_value": 1,
        },
        "warning": {"invalid_gpa": 1, "personal_email_unusable": 1},
    }
    assert data["preflight"] == {
        "build_tests": "passed",
        "changed_rows": 3,
        "newly_disabled_rows": 0,
        "newly_disabled_share": 0.0,
        "mass_disable": "ok",
        "sync_rows": 4,
        "email_changes": 0,
        "email_change_share": 0.0,
        "email_change_warning": False,
    }
    assert data["settings"] == {
        "as_of_date": "2026-06-15",
        "campus_email_grace_days": 30,
        "alumni_lookback_days": 180,
        "disable_alumni_after_days": None,
    }


def test_rerun_is_byte_identical(project: Project, run, out_dir: Path, tmp_path: Path) -> None:
    assert run().code == 0
    first = snapshot(out_dir)
    assert run().code == 0
    assert snapshot(out_dir) == first
    assert run(output=tmp_path / "elsewhere").code == 0
    assert snapshot(tmp_path / "elsewhere") == first


def test_empty_marts_give_header_only_files(project: Project, run, out_dir: Path) -> None:
    project.write(Marts(users=[], updates=[], issues=[], outcomes=[], notices=[]))
    assert run().code == 0
    assert read(out_dir, USERS_FILE) == HANDSHAKE_HEADER
    assert read(out_dir, UPDATE_FILE) == HANDSHAKE_HEADER
    assert read(out_dir, "import_issues.csv") == "severity,code,student_id,username,detail\n"
    assert read(out_dir, "student_outcomes.csv") == "student_id,username,outcome,reason\n"
    assert read(out_dir, "alumni_password_notices.csv") == "username,email_address,first_name\n"
    data = manifest(out_dir)
    assert data["outcomes"] == {"exported": 0, "rejected": 0, "skipped": 0}
    assert data["issues"] == {"error": {}, "warning": {}}
    assert data["preflight"]["sync_rows"] == 0


# ---------------------------------------------------------------------------
# Splitting at Handshake's row limit


def test_sync_file_names_split_only_over_the_limit() -> None:
    limit = export_csv.MAX_ROWS_PER_FILE
    assert limit == 199_999
    assert export_csv.sync_file_names(DATE, 0) == [USERS_FILE]
    assert export_csv.sync_file_names(DATE, limit) == [USERS_FILE]
    assert export_csv.sync_file_names(DATE, limit + 1) == [
        f"{DATE}_users_part01.csv",
        f"{DATE}_users_part02.csv",
    ]


def test_split_parts_and_stale_files(
    project: Project, run, out_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run().code == 0
    unsplit_rows = read(out_dir, USERS_FILE).splitlines(keepends=True)[1:]
    (out_dir / f"{DATE}_users_part03.csv").write_text("stale part\n")
    (out_dir / "20260101_users.csv").write_text("another day\n")

    monkeypatch.setattr(export_csv, "MAX_ROWS_PER_FILE", 3)
    assert run().code == 0
    names = set(snapshot(out_dir))
    part1, part2 = f"{DATE}_users_part01.csv", f"{DATE}_users_part02.csv"
    assert names == ALL_FILES - {USERS_FILE} | {part1, part2, "20260101_users.csv"}
    first, second = read(out_dir, part1), read(out_dir, part2)
    assert first.startswith(HANDSHAKE_HEADER) and second.startswith(HANDSHAKE_HEADER)
    assert first[len(HANDSHAKE_HEADER) :] + second[len(HANDSHAKE_HEADER) :] == "".join(unsplit_rows)
    assert first.count("@") == 3 and second.count("@") == 1
    files = manifest(out_dir)["files"]
    assert files[part1]["rows"] == 3 and files[part2]["rows"] == 1
    assert USERS_FILE not in files

    monkeypatch.setattr(export_csv, "MAX_ROWS_PER_FILE", 199_999)
    assert run().code == 0
    assert set(snapshot(out_dir)) == ALL_FILES | {"20260101_users.csv"}
    assert read(out_dir, "20260101_users.csv") == "another day\n"


# ---------------------------------------------------------------------------
# Preflight


def with_flags(count: int, changed: int, newly_disabled: int, email_changes: int) -> Marts:
    users = [
        user(
            f"user{number:03d}",
            f"user{number:03d}@example.edu",
            f"S{number:03d}",
            first_name="Pat",
            is_record_changed=number < changed,
            is_newly_disabled=number < newly_disabled,
            is_email_changed=number < email_changes,
        )
        for number in range(count)
    ]
    return Marts(users=users, updates=[], notices=[])


def test_mass_disable_stops_and_writes_nothing(project: Project, run, out_dir: Path) -> None:
    project.write(with_flags(count=6, changed=4, newly_disabled=2, email_changes=0))
    result = run()
    assert result.code == export_csv.EXIT_MASS_DISABLE == 4
    assert "--allow-mass-disable" in result.err and "2 of 4" in result.err
    assert not out_dir.exists()


def test_mass_disable_stop_leaves_previous_files(project: Project, run, out_dir: Path) -> None:
    assert run().code == 0
    before = snapshot(out_dir)
    project.write(with_flags(count=6, changed=4, newly_disabled=2, email_changes=0))
    assert run().code == 4
    assert snapshot(out_dir) == before


def test_allow_mass_disable_writes_and_records_it(project: Project, run, out_dir: Path) -> None:
    project.write(with_flags(count=6, changed=4, newly_disabled=3, email_changes=0))
    result = run("--allow-mass-disable")
    assert result.code == 0, result.err
    preflight = manifest(out_dir)["preflight"]
    assert preflight["mass_disable"] == "allowed"
    assert preflight["newly_disabled_rows"] == 3 and preflight["newly_disabled_share"] == 0.75


def test_below_half_newly_disabled_is_ok(project: Project, run, out_dir: Path) -> None:
    # Disabled rows that change nothing do not count.
    project.write(with_flags(count=6, changed=3, newly_disabled=1, email_changes=0))
    assert run().code == 0
    preflight = manifest(out_dir)["preflight"]
    assert preflight["mass_disable"] == "ok"
    assert preflight["newly_disabled_share"] == 0.3333


@pytest.mark.parametrize(("count", "warned"), [(10, True), (11, False)])
def test_email_change_warning_at_ten_percent(
    project: Project, run, out_dir: Path, count: int, warned: bool
) -> None:
    project.write(with_flags(count=count, changed=1, newly_disabled=0, email_changes=1))
    result = run()
    assert result.code == 0
    assert (export_csv.EMAIL_CHANGE_WARNING in result.err) is warned
    assert ("WARNING" in result.out) is warned
    preflight = manifest(out_dir)["preflight"]
    assert preflight["email_change_warning"] is warned
    assert preflight["email_changes"] == 1 and preflight["sync_rows"] == count


# ---------------------------------------------------------------------------
# Build check


def test_refuses_without_a_build_log(project: Project, run, out_dir: Path) -> None:
    assert run().code == 0
    before = snapshot(out_dir)
    connection = duckdb.connect(str(project.database))
    connection.execute("delete from build_log")
    connection.close()
    result = run()
    assert result.code == export_csv.EXIT_BUILD == 3
    assert "no dbt build is recorded in the database: run dbt build first" in result.err
    connection = duckdb.connect(str(project.database))
    connection.execute("drop table build_log")
    connection.close()
    assert run().code == 3
    assert snapshot(out_dir) == before


def test_run_results_of_another_command_are_ignored(project: Project, run) -> None:
    # dbt docs generate (or compile, or a Ctrl-C'd command) rewrites
    # run_results.json; the build log decides.
    (project.root / "target" / "run_results.json").unlink()
    assert run().code == 0
    project.write_run_results([("test.handshake_alumni.broken", "fail")])
    artifact = json.loads((project.root / "target" / "run_results.json").read_text())
    artifact["metadata"]["invocation_id"] = "docs-generate-afterwards"
    (project.root / "target" / "run_results.json").write_text(json.dumps(artifact))
    assert run().code == 0


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (
            (2, "i2", "build", "2026-06-16 01:00:00", None, None, None, None),
            "the last dbt build (build log #2) did not finish: it was interrupted",
        ),
        (
            (2, "i2", "build", "2026-06-16 01:00:00", "2026-06-16 01:05:00", 3, 18, 18),
            "the last dbt build had 3 failing or skipped nodes; fix them",
        ),
        (
            (2, "i2", "build", "2026-06-16 01:00:00", "2026-06-16 01:01:00", 0, 2, 18),
            "the last dbt build built 2 of the 18 models (a build with --select)",
        ),
        (
            (2, "i2", "run", "2026-06-16 01:00:00", "2026-06-16 01:01:00", 0, 18, 18),
            "the tables were last changed by dbt run (build log #2), which runs no tests",
        ),
        (
            (2, "i2", "seed", "2026-06-16 01:00:00", "2026-06-16 01:01:00", 0, 0, 18),
            "the tables were last changed by dbt seed (build log #2)",
        ),
    ],
    ids=["interrupted", "failed", "partial", "dbt_run_after", "dbt_seed_after"],
)
def test_refuses_unless_the_latest_logged_command_is_a_clean_build(
    project: Project, run, out_dir: Path, row: tuple[Any, ...], message: str
) -> None:
    assert run().code == 0
    before = snapshot(out_dir)
    project.log_build(*row)
    result = run()
    assert result.code == 3, result.err
    assert message in result.err
    assert "nothing was written" in result.err
    assert result.err.count("\n") == 1 and "Traceback" not in result.err
    assert snapshot(out_dir) == before
    # A finished build after it makes the export write again.
    project.log_build(3, "i3", "build", "2026-06-16 02:00:00", "2026-06-16 02:05:00", 0, 18, 18)
    assert run().code == 0


@pytest.mark.parametrize("status", ["fail", "error", "skipped", "runtime error"])
def test_refuses_after_failing_build(project: Project, run, out_dir: Path, status: str) -> None:
    assert run().code == 0
    before = snapshot(out_dir)
    project.write_run_results(
        [
            ("model.handshake_alumni.sync_users", "success"),
            ("test.handshake_alumni.broken", status),
        ]
    )
    result = run()
    assert result.code == 3
    assert "test.handshake_alumni.broken" in result.err
    assert snapshot(out_dir) == before


def test_failing_nodes_are_named_up_to_ten(project: Project, run, out_dir: Path) -> None:
    project.write_run_results([(f"test.handshake_alumni.t{n:02d}", "fail") for n in range(12)])
    result = run()
    assert result.code == 3
    assert "t09" in result.err and "t10" not in result.err and "and 2 more" in result.err
    assert not out_dir.exists()


# ---------------------------------------------------------------------------
# Safety of the writes


def test_file_and_directory_modes(project: Project, run, tmp_path: Path) -> None:
    output = tmp_path / "new" / "out"
    previous_umask = os.umask(0)
    try:
        assert run(output=output).code == 0
    finally:
        os.umask(previous_umask)
    assert stat.S_IMODE(output.stat().st_mode) == 0o700
    for path in output.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name


def exploding_write(after: int, error: BaseException):  # noqa: ANN201
    """A replacement for _HashingSink.write that fails on its Nth call."""
    original = export_csv._HashingSink.write
    calls = 0

    def write(sink: Any, text: str) -> int:
        nonlocal calls
        calls += 1
        if calls == after:
            raise error
        return original(sink, text)

    return write


@pytest.mark.parametrize(
    ("error", "code"),
    [(OSError(28, "No space left on device"), 6), (KeyboardInterrupt(), 130)],
)
def test_failure_mid_write_keeps_previous_files(
    project: Project,
    run,
    out_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    error: BaseException,
    code: int,
) -> None:
    assert run().code == 0
    before = snapshot(out_dir)
    marts = Marts()
    marts.users[0]["first_name"] = "Emile"
    project.write(marts)
    monkeypatch.setattr(export_csv._HashingSink, "write", exploding_write(8, error))
    result = run()
    assert result.code == code
    assert snapshot(out_dir) == before  # no temp file, nothing replaced


def test_sigterm_mid_write_leaves_no_temp_file(
    project: Project, run, out_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run().code == 0
    before = snapshot(out_dir)

    def terminate(sink: Any, text: str) -> int:
        os.kill(os.getpid(), signal.SIGTERM)
        return 0

    monkeypatch.setattr(export_csv._HashingSink, "write", terminate)
    result = run()
    assert result.code == 130
    assert snapshot(out_dir) == before
    assert signal.getsignal(signal.SIGTERM) is not export_csv._interrupt


def test_failure_in_a_new_directory_removes_it(
    project: Project, run, out_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    failing = exploding_write(3, OSError(5, "I/O error"))
    monkeypatch.setattr(export_csv._HashingSink, "write", failing)
    assert run().code == 6
    assert not out_dir.exists()


def test_leftovers_of_a_killed_export_are_removed(project: Project, run, out_dir: Path) -> None:
    # A SIGKILL (or a power loss) leaves the temporary files of the staging.
    out_dir.mkdir(mode=0o700)
    leftovers = [f".{USERS_FILE}.0123456789ab.tmp", ".import_issues.csv.ffffffffffff.tmp"]
    for name in leftovers:
        (out_dir / name).write_bytes(b"partial student data")
    kept = [".keep", ".notes.tmp", "mine.0123456789ab.tmp"]
    for name in kept:
        (out_dir / name).write_bytes(b"not the export's")
    assert run().code == 0
    assert set(snapshot(out_dir)) == ALL_FILES | set(kept)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"username": "alice"}, "repeated or out-of-order username"),
        ({"username": "  "}, "blank username"),
        ({"email_address": "Bob@Example.edu"}, "repeats an email address"),
        ({"email_address": None}, "blank email address"),
    ],
)
def test_bad_sync_rows_abort_before_any_rename(
    project: Project, run, out_dir: Path, change: dict[str, Any], message: str
) -> None:
    assert run().code == 0
    before = snapshot(out_dir)
    marts = Marts()
    marts.users.append(user("zoe", "zoe@example.edu", "S9"))
    marts.users[-1].update(change)
    project.write(marts)
    result = run()
    assert result.code == export_csv.EXIT_DATA == 5
    assert message in result.err
    assert snapshot(out_dir) == before


def test_repeated_username_in_the_alumni_update_file(project: Project, run, out_dir: Path) -> None:
    project.write(Marts())
    connection = duckdb.connect(str(project.database))
    connection.execute("insert into alumni_updates select * from alumni_updates")
    connection.close()
    result = run()
    assert result.code == 5 and "alumni update file" in result.err
    assert not out_dir.exists()


# ---------------------------------------------------------------------------
# Connection and messages


def test_locked_database_gives_a_one_line_message(project: Project, run, out_dir: Path) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time\n"
            "connection = duckdb.connect(sys.argv[1])\n"
            "print('locked', flush=True)\n"
            "time.sleep(60)\n",
            str(project.database),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        result = run()
    finally:
        holder.kill()
        holder.wait()
    assert result.code == 5
    assert "locked" in result.err and "Traceback" not in result.err
    assert result.err.count("\n") == 1
    assert not out_dir.exists()


def test_missing_database_and_tables(project: Project, run, out_dir: Path) -> None:
    connection = duckdb.connect(str(project.database))
    connection.execute("drop table password_notices")
    connection.close()
    result = run()
    assert result.code == 5
    assert "password_notices" in result.err and "run dbt build first" in result.err

    project.database.unlink()
    result = run()
    assert result.code == 5 and "run dbt build first" in result.err
    assert not out_dir.exists()


def test_missing_manifest_is_a_missing_build(project: Project, run) -> None:
    (project.root / "target" / "manifest.json").unlink()
    result = run()
    assert result.code == 3 and "run dbt build first" in result.err


def test_target_from_env_option_and_profile(
    project: Project, run, out_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project.write(Marts(), catalog="")
    write_database(project.root / "other.duckdb", Marts(as_of_date=date(2026, 1, 2)))

    monkeypatch.setenv("HANDSHAKE_TARGET", "other")
    assert run().code == 0
    assert manifest(out_dir)["as_of_date"] == "2026-01-02"
    assert (out_dir / "20260102_users.csv").exists()

    assert run("--target", "duckdb").code == 0
    assert manifest(out_dir)["as_of_date"] == "2026-06-15"

    monkeypatch.delenv("HANDSHAKE_TARGET")
    monkeypatch.setenv("EXPORT_TEST_DB", "other.duckdb")  # env_var() in the profile
    assert run().code == 0
    assert manifest(out_dir)["as_of_date"] == "2026-01-02"

    result = run("--target", "nowhere")
    assert result.code == 2 and "nowhere" in result.err


def test_summary_holds_counts_but_no_personal_data(project: Project, run, out_dir: Path) -> None:
    result = run()
    assert result.code == 0
    output = result.out + result.err
    assert "exported 4" in output and "rejected 3" in output and "skipped 0" in output
    assert "error duplicate_email 1" in output and "warning invalid_gpa 1" in output
    assert "build tests passed" in output and "mass disable ok" in output
    assert f"{out_dir / USERS_FILE}: 4 rows" in output
    assert str(out_dir / "manifest.json") in output
    marts = Marts()
    personal = {
        str(value)
        for row in marts.users
        for key in ("username", "email_address", "first_name", "last_name", "auth_identifier")
        if (value := row[key])
    }
    personal |= {str(value) for row in marts.notices for value in row[:3]}
    personal |= {str(row[1]) for row in marts.outcomes if row[1]}
    for value in personal:
        assert value not in output, value


def test_help_documents_exit_codes(tmp_path: Path) -> None:
    script = str(SCRIPTS / "export_csv.py")
    result = subprocess.run(
        [sys.executable, script, "--help"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 0
    for text in (
        "0 written",
        "2 usage",
        "3 dbt build",
        "4 mass-disable",
        "5 database",
        "6 could not write",
    ):
        assert text in " ".join(result.stdout.split())
    assert "Exit codes:" in (export_csv.__doc__ or "")
    usage = subprocess.run(
        [sys.executable, script], capture_output=True, text=True, cwd=tmp_path, check=False
    )
    assert usage.returncode == 2


def streamed(rows: int) -> Iterator[tuple[str, str]]:
    for number in range(rows):
        yield (f"u{number:05d}", f"u{number:05d}@example.edu")


def test_checked_rows_stream_lazily() -> None:
    # The check is a generator: it never needs the whole table in a list.
    rows = export_csv.checked_handshake_rows(streamed(10**9), "sync file")
    assert list(next(rows)) == ["u00000", "u00000@example.edu"]
    assert list(next(rows)) == ["u00001", "u00001@example.edu"]


ORDER = "is a repeated or out-of-order username (code-point order)"


# (row number, column, bad value, the message's problem) in 12,000 good rows.
BAD_ROWS = [
    (1, 0, " ", "has a blank username"),
    (5_001, 0, "u04999", ORDER),
    (7_001, 1, "U00003@example.edu ", "repeats an email address"),
    (7_002, 1, "u07000@example.edu", "repeats an email address"),
    (11_999, 1, None, "has a blank email address"),
    (12_000, 0, "u11998", ORDER),
]


@pytest.mark.parametrize(("number", "column", "value", "problem"), BAD_ROWS)
def test_checked_rows_name_the_first_bad_row_across_batches(
    number: int, column: int, value: str | None, problem: str
) -> None:
    # The message names the row (counted from 1 over the whole file), and
    # every row before it passes.
    rows = [list(row) for row in streamed(12_000)]
    rows[number - 1][column] = value
    passed = []
    with pytest.raises(export_csv.ExportError) as raised:
        passed.extend(export_csv.checked_handshake_rows(rows, "sync file"))
    assert raised.value.message == f"sync file: row {number} {problem}"
    assert [list(row) for row in passed] == rows[: number - 1]


def checked_in_duckdb(tmp_path: Path, rows: list[list[str | None]]) -> None:
    """check_handshake_rows (the export's checks on DuckDB) on a sync_users of `rows`."""
    path = tmp_path / "rows.duckdb"
    connection = duckdb.connect(str(path))

    def literal(value: str | None) -> str:
        return "null" if value is None else "'" + value.replace("'", "''") + "'"

    values = ", ".join(f"({literal(row[0])}, {literal(row[1])})" for row in rows)
    connection.execute(
        f"create table sync_users as select * from (values {values}) as v(username, email_address)"
    )
    connection.close()
    database = export_csv._connect_duckdb(str(path))
    try:
        export_csv.check_handshake_rows(database, "sync_users", "sync file")
    finally:
        database.close()


@pytest.mark.parametrize(("number", "column", "value", "problem"), BAD_ROWS)
def test_checks_in_duckdb_name_the_same_first_bad_row(
    tmp_path: Path, number: int, column: int, value: str | None, problem: str
) -> None:
    # On DuckDB the export checks the rows of a file in one query.
    rows: list[list[str | None]] = [list(row) for row in streamed(12_000)]
    rows[number - 1][column] = value
    with pytest.raises(export_csv.ExportError) as raised:
        checked_in_duckdb(tmp_path, rows)
    assert raised.value.message == f"sync file: row {number} {problem}"
    assert raised.value.exit_code == export_csv.EXIT_DATA


def test_checks_in_duckdb_pass_every_good_row(tmp_path: Path) -> None:
    checked_in_duckdb(tmp_path, [list(row) for row in streamed(12_000)])


def test_checked_rows_pass_every_good_row_in_order() -> None:
    rows = list(streamed(12_345))
    checked = export_csv.checked_handshake_rows(iter(rows), "sync file")
    assert [list(row) for row in checked] == [list(row) for row in rows]


# ---------------------------------------------------------------------------
# PostgreSQL (opt-in: needs a server)


def write_postgres(connection: Any, schema: str, marts: Marts) -> None:
    """The marts in PostgreSQL, text columns with a non-bytewise (ICU) collation."""
    text = 'text collate "und-x-icu"'
    columns = ", ".join(f"{column} {text}" for column in FILE_COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute(f"create schema {schema}")
        cursor.execute(f"set search_path to {schema}")
        cursor.execute(
            f"create table sync_users ({columns}, student_id {text},"
            " is_record_changed boolean, is_newly_disabled boolean,"
            " is_email_changed boolean)"
        )
        cursor.execute(f"create table alumni_updates ({columns}, student_id {text})")
        cursor.execute(
            f"create table import_issues (severity text, code text, student_id {text},"
            f" username {text}, detail {text}, code_order integer)"
        )
        cursor.execute(
            f"create table student_outcomes (student_id {text}, username {text},"
            " outcome text, reason text)"
        )
        cursor.execute(
            f"create table password_notices (username {text}, email_address text,"
            " first_name text, student_id text)"
        )
        cursor.execute(
            "create table sync_runs (as_of_date date, campus_email_grace_days integer,"
            " alumni_lookback_days integer, disable_alumni_after_days integer)"
        )
        cursor.execute("insert into sync_runs values (%s, 30, 180, null)", [marts.as_of_date])
        cursor.execute(f"create table build_log ({BUILD_LOG_COLUMNS})")
        cursor.execute(f"insert into build_log values ({', '.join(['%s'] * 8)})", FINISHED_BUILD)
        updates = [row for row in marts.users if row["username"] in marts.updates]
        tables = {
            "sync_users": [[row[c] for c in USER_COLUMNS] for row in marts.users],
            "alumni_updates": [[row[c] for c in [*FILE_COLUMNS, "student_id"]] for row in updates],
            "import_issues": as_written(marts.issues, 5),
            "student_outcomes": as_written(marts.outcomes, 4),
            "password_notices": as_written(marts.notices, 3),
        }
        for table, rows in tables.items():
            for row in rows:
                marks = ", ".join(["%s"] * len(row))
                cursor.execute(f"insert into {table} values ({marks})", list(row))
    connection.commit()


@pytest.mark.skipif(
    not os.environ.get("HANDSHAKE_TEST_POSTGRES"),
    reason="set HANDSHAKE_TEST_POSTGRES=1 and the PG* variables to test PostgreSQL",
)
def test_postgres_export_is_byte_identical_to_duckdb(
    project: Project, run, out_dir: Path, tmp_path: Path
) -> None:
    import psycopg2

    assert run().code == 0
    expected = snapshot(out_dir)
    schema = f"export_csv_test_{os.getpid()}"
    connection = psycopg2.connect("")
    try:
        write_postgres(connection, schema, Marts())
        project.write(Marts(), catalog="", schema=schema)
        result = run("--target", "postgres", output=tmp_path / "from_postgres")
        assert result.code == 0, result.err
        assert snapshot(tmp_path / "from_postgres") == expected
    finally:
        connection.rollback()
        with connection.cursor() as cursor:
            cursor.execute(f"drop schema if exists {schema} cascade")
        connection.commit()
        connection.close()


def test_report_cells_starting_like_a_formula_get_an_apostrophe() -> None:
    cells = ["=1", "+1", "-1", "@a", "\tx", "\rx", "a=1", "", None, "O'Brien"]
    assert list(export_csv.report_rows([cells])) == [
        ["'=1", "'+1", "'-1", "'@a", "'\tx", "'\rx", "a=1", "", "", "O'Brien"]
    ]
