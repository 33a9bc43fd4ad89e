"""Tests of scripts/export_csv.py (the package handshake_export) against a
fake dbt project in tmp_path.

Each test builds a DuckDB file holding the mart tables as the build leaves
them (sync_runs with its preflight columns, sync_run_issue_counts, the report
marts formula-escaped, the issue_codes seed), a profiles.yml that points at
it, and target/manifest.json (with the Handshake headers as column meta) +
target/run_results.json. The fake warehouse decides; the tests check that the
export writes what it holds. No test touches the real project's data/,
output/ or target/.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import stat
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"
sys.path.insert(0, str(SCRIPTS))

import export_csv  # noqa: E402
from handshake_export import EXIT_BUILD, EXIT_MASS_DISABLE, cli, files, warehouse  # noqa: E402
from handshake_export import marts as mart_queries  # noqa: E402

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
# (mart column, Handshake header): the meta the marts' yml gives each column.
HANDSHAKE_COLUMNS = [(header.split(":")[-1], header) for header in HANDSHAKE_HEADER[:-1].split(",")]
FILE_COLUMNS = [column for column, _ in HANDSHAKE_COLUMNS]
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
TRANSITION_FLAGS = [
    "is_moved_to_alumni",
    "is_returning",
    "is_re_enabled",
    "is_disabled_by_policy",
    "is_end_date_cleared",
]
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
# macros/hooks/create_export_log.sql: the export appends its row.
EXPORT_LOG_COLUMNS = (
    "build_number integer, as_of_date date, event varchar, recorded_at timestamp,"
    " manifest_sha256 varchar"
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
        relation = f'{prefix}"{schema}"."{{}}"'.format
        nodes: dict[str, Any] = {
            f"model.handshake_alumni.{name}": {
                "resource_type": "model",
                "name": name,
                "relation_name": relation(name),
            }
            for name in mart_queries.MODELS
        }
        nodes["model.handshake_alumni.sync_users"]["columns"] = {
            column: {"name": column, "meta": {"handshake_header": header}}
            for column, header in [
                *HANDSHAKE_COLUMNS[:2],
                ("student_id", None),
                *HANDSHAKE_COLUMNS[2:],
            ]
            if header
        }
        for name in ("sis_students", "issue_codes"):
            nodes[f"seed.handshake_alumni.{name}"] = {
                "resource_type": "seed",
                "name": name,
                "relation_name": relation(name),
                "original_file_path": f"seeds/{name}.csv",
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


def escaped(row: Sequence[Any]) -> list[Any]:
    """A report mart's row as the build leaves it (macros/rendering/escape_formula.sql)."""
    return [
        "'" + value if isinstance(value, str) and value.startswith(FORMULA_PREFIXES) else value
        for value in row
    ]


def sync_runs_row(marts: Marts) -> list[Any]:
    """The run's row as sync_runs computes it (settings, counts, preflight)."""
    users = marts.users
    changed = [row for row in users if row["is_record_changed"]]
    disabled = sum(1 for row in changed if row["is_newly_disabled"])
    emails = sum(1 for row in users if row["is_email_changed"])
    outcomes = [row[2] for row in marts.outcomes]
    return [
        marts.as_of_date,
        30,
        180,
        None,
        *(outcomes.count(outcome) for outcome in ("exported", "skipped", "rejected")),
        len(users),
        len(changed),
        disabled,
        emails,
        round(disabled / len(changed), 4) if changed else 0.0,
        round(emails / len(users), 4) if users else 0.0,
        bool(changed) and disabled * 2 >= len(changed),
        bool(users) and emails * 10 >= len(users),
        0.5,
        0.1,
    ]


def update_row(row: dict[str, Any], marts: Marts) -> list[Any]:
    reasons = {outcome[1]: outcome[3] for outcome in marts.outcomes}
    flags = [
        row["school_year_name"] == "Alumni",
        row["school_year_name"] != "Alumni",
        row["disabled"] == "FALSE",
        row["disabled"] == "TRUE",
        row["end_date"] == "**CLEAR**",
    ]
    return [
        *(row[c] for c in FILE_COLUMNS),
        row["student_id"],
        reasons.get(row["username"]),
        *flags,
    ]


def tables(marts: Marts, text: str = "varchar") -> dict[str, tuple[str, list[Any]]]:
    """Each table of the fake build: its columns and rows."""
    handshake = ", ".join(f"{column} {text}" for column in FILE_COLUMNS)
    flags = ", ".join(f"{flag} boolean" for flag in TRANSITION_FLAGS)
    counts: dict[tuple[str, str], list[int]] = {}
    for severity, code, *_, order in marts.issues:
        counts.setdefault((severity, code), [order, 0])[1] += 1
    return {
        "sync_users": (
            f"{handshake}, student_id {text}, is_record_changed boolean,"
            " is_newly_disabled boolean, is_email_changed boolean",
            [[row[c] for c in USER_COLUMNS] for row in marts.users],
        ),
        "alumni_updates": (
            f"{handshake}, student_id {text}, outcome_reason text, {flags}",
            [update_row(row, marts) for row in marts.users if row["username"] in marts.updates],
        ),
        "import_issues": (
            f"severity text, code text, student_id {text}, username {text}, detail {text},"
            " code_order integer",
            [[*escaped(row[:5]), row[5]] for row in marts.issues],
        ),
        "student_outcomes": (
            f"student_id {text}, username {text}, outcome text, reason text",
            [escaped(row) for row in marts.outcomes],
        ),
        "password_notices": (
            f"username {text}, email_address text, first_name text, student_id text",
            [escaped(row) for row in marts.notices],
        ),
        "sync_runs": (
            "as_of_date date, campus_email_grace_days integer, alumni_lookback_days integer,"
            " disable_alumni_after_days integer, exported_count bigint, skipped_count bigint,"
            " rejected_count bigint, sync_row_count bigint, changed_row_count bigint,"
            " newly_disabled_row_count bigint, email_change_count bigint,"
            " newly_disabled_share double precision, email_change_share double precision,"
            " is_mass_disable boolean, is_email_change_warning boolean,"
            " mass_disable_threshold decimal(5, 4), email_change_threshold decimal(5, 4)",
            [sync_runs_row(marts)],
        ),
        "sync_run_issue_counts": (
            "severity text, code text, sort_order integer, issue_count bigint",
            [[severity, code, *value] for (severity, code), value in counts.items()],
        ),
        "issue_codes": (
            "code text, severity text, sort_order integer, advice text, description text",
            [
                [code, severity, value[0], f"Advice on {code}.", code]
                for (severity, code), value in counts.items()
            ],
        ),
        "sync_run_changes": (  # a first run: no previous run to compare with
            "as_of_date date, previous_build_number integer, previous_as_of_date date,"
            " moved_to_alumni_count bigint, newly_rejected_count bigint, fixed_count bigint,"
            " email_changed_count bigint",
            [[marts.as_of_date, None, None, None, None, None, None]],
        ),
        "build_log": (BUILD_LOG_COLUMNS, [FINISHED_BUILD]),
        "export_log": (EXPORT_LOG_COLUMNS, []),
    }


def write_database(path: Path, marts: Marts) -> None:
    path.unlink(missing_ok=True)
    connection = duckdb.connect(str(path))
    try:
        for table, (columns, rows) in tables(marts).items():
            connection.execute(f"create table {table} ({columns})")
            insert_rows(connection, table, rows)
    finally:
        connection.close()


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


def export_log(project: Project) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(project.database), read_only=True) as connection:
        return connection.execute(
            "select build_number, as_of_date, event, manifest_sha256, recorded_at is not null"
            " from export_log order by recorded_at"
        ).fetchall()


def test_export_records_its_build_and_manifest_in_the_export_log(
    project: Project, run, out_dir: Path
) -> None:
    """dbt (not_applied_by_handshake) and deliver.py learn from export_log which
    build was exported, and which manifest.json that export wrote."""
    assert export_log(project) == []
    assert run().code == 0
    digest = hashlib.sha256((out_dir / "manifest.json").read_bytes()).hexdigest()
    assert export_log(project) == [(1, date(2026, 6, 15), "exported", digest, True)]
    assert "build_number" not in read(out_dir, "manifest.json")  # the manifest is unchanged


def test_an_export_log_that_cannot_be_written_keeps_the_files_and_exits_5(
    project: Project, run, out_dir: Path
) -> None:
    with duckdb.connect(str(project.database)) as connection:
        connection.execute("drop table export_log")
    result = run()
    assert result.code == 5
    assert result.err.startswith("export_csv: the files were written, but the export log was not")
    assert result.err.count("\n") == 1 and "run the export again" in result.err
    assert set(snapshot(out_dir)) == ALL_FILES  # published whole, nothing half-written


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
    limit = files.MAX_ROWS_PER_FILE
    assert limit == 199_999
    assert files.sync_file_names(DATE, 0) == [USERS_FILE]
    assert files.sync_file_names(DATE, limit) == [USERS_FILE]
    assert files.sync_file_names(DATE, limit + 1) == [
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

    monkeypatch.setattr(files, "MAX_ROWS_PER_FILE", 3)
    assert run().code == 0
    names = set(snapshot(out_dir))
    part1, part2 = f"{DATE}_users_part01.csv", f"{DATE}_users_part02.csv"
    assert names == ALL_FILES - {USERS_FILE} | {part1, part2, "20260101_users.csv"}
    first, second = read(out_dir, part1), read(out_dir, part2)
    assert first.startswith(HANDSHAKE_HEADER) and second.startswith(HANDSHAKE_HEADER)
    assert first[len(HANDSHAKE_HEADER) :] + second[len(HANDSHAKE_HEADER) :] == "".join(unsplit_rows)
    assert first.count("@") == 3 and second.count("@") == 1
    listed = manifest(out_dir)["files"]
    assert listed[part1]["rows"] == 3 and listed[part2]["rows"] == 1
    assert USERS_FILE not in listed

    monkeypatch.setattr(files, "MAX_ROWS_PER_FILE", 199_999)
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
    assert result.code == EXIT_MASS_DISABLE == 4
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
    assert (cli.EMAIL_CHANGE_WARNING in result.err) is warned
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
    assert result.code == EXIT_BUILD == 3
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
# A stale build: a later dbt invocation failed, or an input changed


def failed_invocation_log(command: str, success: bool, target_path: str = "None") -> str:
    """The lines logs/dbt.log holds for a dbt invocation (dbt 1.11's text format)."""
    report = json.dumps({"command_name": command, "command_success": success})
    return (
        "[0m01:00:00.0 [debug] [MainThread]: running dbt with arguments {'log_cache_events':"
        f" 'False', 'target_path': '{target_path}', 'log_path': 'logs'}}\n"
        f"[0m01:00:01.0 [debug] [MainThread]: Resource report: {report}\n"
    )


@pytest.mark.parametrize(
    ("log", "refused"),
    [
        (failed_invocation_log("build", False), True),
        (failed_invocation_log("seed", False), True),
        (failed_invocation_log("build", True), False),
        (failed_invocation_log("docs", False), False),
        (failed_invocation_log("build", False, "target/make-test"), False),
        # A failure before the build's own lines (they name its invocation id).
        (
            failed_invocation_log("build", False) + f"where invocation_id = '{INVOCATION_ID}'\n",
            False,
        ),
    ],
    ids=["build_failed", "seed_failed", "build_passed", "docs_failed", "other_target", "before"],
)
def test_refuses_after_a_later_failed_dbt_invocation(
    project: Project, run, out_dir: Path, log: str, refused: bool
) -> None:
    # e.g. dbt build stopping while it parses a seed that is not UTF-8: no
    # hook runs and target/ stays as it was; logs/dbt.log records the failure.
    (project.root / "logs").mkdir()
    (project.root / "logs" / "dbt.log").write_text(log, encoding="utf-8")
    result = run()
    assert result.code == (EXIT_BUILD if refused else 0), result.err
    if refused:
        assert "failed after the last complete build" in result.err
        assert "logs/dbt.log" in result.err and "nothing was written" in result.err
        assert not out_dir.exists()


def record_inputs(project: Project, rows: list[tuple[Any, ...]]) -> None:
    connection = duckdb.connect(str(project.database))
    connection.execute(
        "create table build_inputs (build_number integer, input_name varchar, path varchar,"
        " size_bytes bigint, sha256 varchar, checksum_method varchar, row_count bigint)"
    )
    insert_rows(connection, "build_inputs", rows)
    connection.close()


def test_refuses_when_an_input_changed_since_the_build(
    project: Project, run, out_dir: Path
) -> None:
    seed = project.root / "seeds" / "sis_students.csv"
    seed.parent.mkdir()
    seed.write_bytes(b"student_id\n001\n")
    digest = hashlib.sha256(seed.read_bytes()).hexdigest()
    stripped = hashlib.sha256(b"student_id\n001").hexdigest()
    record_inputs(
        project,
        [
            (1, "sis_students.csv", str(seed), 15, digest, "sha256", 1),
            (
                1,
                "handshake_users.csv",
                "seeds/handshake_users.csv",
                None,
                None,
                "dbt_seed_checksum",
                0,
            ),
            (1, "sis_class_levels.csv", "main.sync_runs", None, None, None, 1),  # a source table
        ],
    )
    (project.root / "seeds" / "handshake_users.csv").write_bytes(b"username\n\n")
    connection = duckdb.connect(str(project.database))
    connection.execute(
        "update build_inputs set sha256 = ? where input_name = 'handshake_users.csv'",
        [hashlib.sha256(b"username").hexdigest()],
    )
    connection.close()
    assert run().code == 0
    before = snapshot(out_dir)

    seed.write_bytes("student_id\n\xe9\n".encode("latin-1") + b"0")  # same size, other bytes
    result = run()
    assert result.code == EXIT_BUILD
    assert "the input sis_students.csv changed since the last build" in result.err
    assert snapshot(out_dir) == before

    # dbt records a seed by an absolute path, of another folder when its parse
    # cache came from a copy of the project: the export checks its own file.
    connection = duckdb.connect(str(project.database))
    connection.execute(
        "update build_inputs set path = '/elsewhere/seeds/sis_students.csv',"
        " sha256 = ? where input_name = 'sis_students.csv'",
        [digest],
    )
    connection.close()
    result = run()
    assert result.code == EXIT_BUILD and "the input sis_students.csv changed" in result.err

    seed.unlink()
    result = run()
    assert (
        result.code == EXIT_BUILD and "sis_students.csv" in result.err and "missing" in result.err
    )
    assert snapshot(out_dir) == before
    assert stripped  # (dbt's seed checksum: the text stripped, as handshake_users.csv above)


def test_refuses_when_a_source_table_changed_since_the_build(
    project: Project, run, out_dir: Path
) -> None:
    record_inputs(project, [(1, "sis_students.csv", "main.student_outcomes", None, None, None, 7)])
    assert run().code == 0
    connection = duckdb.connect(str(project.database))
    connection.execute("delete from student_outcomes where student_id = 'S4'")
    connection.close()
    result = run()
    assert result.code == EXIT_BUILD and "the input sis_students.csv changed" in result.err


def test_headers_come_from_the_manifest(project: Project, run, out_dir: Path) -> None:
    path = project.root / "target" / "manifest.json"
    data = json.loads(path.read_text())
    columns = data["nodes"]["model.handshake_alumni.sync_users"]["columns"]
    columns["disabled"]["meta"]["handshake_header"] = "disabled_renamed"
    path.write_text(json.dumps(data))
    assert run().code == 0
    header = HANDSHAKE_HEADER.replace(",disabled\n", ",disabled_renamed\n")
    assert read(out_dir, USERS_FILE).startswith(header)
    assert read(out_dir, UPDATE_FILE).startswith(header)


def test_report_counts_every_transition_past_its_table(project: Project) -> None:
    marts = Marts(updates=["Zed", "alice", "bob", "émile"])
    project.write(marts)
    database = warehouse.connect({"type": "duckdb", "path": str(project.database)})
    try:
        rows = mart_queries.report_rows(database, mart_queries.read_marts(project.root), 1)
    finally:
        database.close()
    assert [row[0] for row in rows["transitions"]] == ["Zed"]
    assert rows["transition_counts"] == {
        "total": 4,
        "is_moved_to_alumni": 1,
        "is_returning": 3,
        "is_disabled_by_policy": 0,
        "is_re_enabled": 1,
        "is_end_date_cleared": 1,
    }
    assert len(rows["issues"]) == 1
    assert [code for _, code, _, _ in rows["codes"]][:2] == ["missing_username", "invalid_name"]


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
    """A replacement for files.write_chunk that fails on its Nth call."""
    original = files.write_chunk
    calls = 0

    def write(raw: Any, digest: Any, text: str) -> None:
        nonlocal calls
        calls += 1
        if calls == after:
            raise error
        original(raw, digest, text)

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
    monkeypatch.setattr(files, "write_chunk", exploding_write(8, error))
    result = run()
    assert result.code == code
    assert snapshot(out_dir) == before  # no temp file, nothing replaced


def test_sigterm_mid_write_leaves_no_temp_file(
    project: Project, run, out_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run().code == 0
    before = snapshot(out_dir)

    def terminate(raw: Any, digest: Any, text: str) -> None:
        os.kill(os.getpid(), signal.SIGTERM)

    monkeypatch.setattr(files, "write_chunk", terminate)
    result = run()
    assert result.code == 130
    assert snapshot(out_dir) == before
    assert signal.getsignal(signal.SIGTERM) is not cli.interrupt


def test_failure_in_a_new_directory_removes_it(
    project: Project, run, out_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    failing = exploding_write(3, OSError(5, "I/O error"))
    monkeypatch.setattr(files, "write_chunk", failing)
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


# ---------------------------------------------------------------------------
# PostgreSQL (opt-in: needs a server)


def write_postgres(connection: Any, schema: str, marts: Marts) -> None:
    """The marts in PostgreSQL, text columns with a non-bytewise (ICU) collation."""
    with connection.cursor() as cursor:
        cursor.execute(f"create schema {schema}")
        cursor.execute(f"set search_path to {schema}")
        for table, (columns, rows) in tables(marts, 'text collate "und-x-icu"').items():
            cursor.execute(f"create table {table} ({columns.replace('varchar', 'text')})")
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
