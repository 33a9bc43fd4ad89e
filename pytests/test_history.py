"""History across runs and "did Handshake apply the last run?" (issue 13,
sections 2 and 3), end to end in a temporary copy of the project.

Night 1 (as_of_date 2026-06-15) is built and exported from the sample seeds,
and its export recorded in the export log; night 2 (2026-06-16) is built
with the same handshake_users, i.e. Handshake applied none of night 1's
changes but one: for one student moved to Alumni on night 1, handshake_users
holds night 1's row (Handshake applied it). Then night 2 is built again. The tests check the warning
not_applied_by_handshake, the history rows (changes only; a rebuild of the
same night adds none) and that the rebuild writes the same files.

Runs on DuckDB, and on PostgreSQL under `make test-postgres`
(HANDSHAKE_TEST_TARGET=postgres). Not on Spark, which keeps no student history.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from test_end_to_end import (
    ISSUES_FILE,
    MANIFEST_FILE,
    SAMPLE,
    TARGET,
    UNIT_TESTS_EXCLUDED,
    Project,
    make_project,
    read_files,
    require_success,
)

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(TARGET.startswith("spark"), reason="Spark keeps no student history"),
]

NIGHT_1 = "2026-06-15"
NIGHT_2 = "2026-06-16"
CODE = "not_applied_by_handshake"


def query(project: Project, sql: str) -> list[tuple[Any, ...]]:
    """Rows of one statement in the copy's warehouse (DuckDB file or PostgreSQL schema)."""
    if TARGET == "postgres":
        import psycopg2

        connection = psycopg2.connect("")
        try:
            with connection, connection.cursor() as cursor:
                cursor.execute(f"set search_path to {project.env()['HANDSHAKE_PG_SCHEMA']}")
                cursor.execute(sql)
                return cursor.fetchall() if cursor.description else []
        finally:
            connection.close()
    import duckdb

    with duckdb.connect(str(project.database)) as connection:
        result = connection.execute(sql)
        return result.fetchall() if result.description else []


def latest_build(project: Project) -> int:
    return int(query(project, "select max(build_number) from build_log")[0][0])


def apply_sync_row(project: Project, night_1: dict[str, bytes], username: str) -> None:
    """Make handshake_users hold night 1's sync row of `username`, as if
    Handshake had applied it (a blank cell keeps Handshake's value,
    **CLEAR** wipes it)."""
    [sent] = [
        row
        for row in csv.DictReader(
            io.StringIO(night_1[f"{NIGHT_1.replace('-', '')}_users.csv"].decode())
        )
        if row["username"] == username
    ]
    path = project.seed("handshake_users.csv")
    with path.open(encoding="utf-8", newline="") as file:
        reader = csv.DictReader(file)
        header = list(reader.fieldnames or [])
        rows = list(reader)
    for row in rows:
        if row["username"] == username:
            for column in header:
                value = sent.get(column, "")
                if value == "**CLEAR**":
                    row[column] = ""
                elif value:
                    row[column] = value
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.DictWriter(file, header, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def issue_rows(files: dict[str, bytes], code: str) -> list[dict[str, str]]:
    rows = csv.DictReader(io.StringIO(files[ISSUES_FILE].decode("utf-8")))
    return [row for row in rows if row["code"] == code]


@dataclass
class Nights:
    project: Project
    night_1: dict[str, bytes]
    night_1_build: int
    applied_student_id: str
    night_2: dict[str, bytes]
    night_2_build: int
    history_after_night_1: int
    history_after_night_2: int
    rebuilt: dict[str, bytes]
    history_after_rebuild: int
    run_history: list[tuple[Any, ...]]
    changes: list[tuple[Any, ...]]


def build_and_export(project: Project, as_of_date: str, output_dir: Path) -> dict[str, bytes]:
    build = project.dbt_build({"as_of_date": as_of_date}, *UNIT_TESTS_EXCLUDED)
    require_success(build, f"dbt build ({as_of_date})")
    require_success(project.export(output_dir), f"export_csv.py ({as_of_date})")
    return read_files(output_dir)


def history_count(project: Project) -> int:
    return int(query(project, "select count(*) from student_state_history")[0][0])


@pytest.fixture(scope="module")
def nights(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nights]:
    base = tmp_path_factory.mktemp("history")
    project = make_project(base, SAMPLE)
    require_success(project.check_inputs(), "check_inputs.py")

    night_1 = build_and_export(project, NIGHT_1, base / "night1")
    night_1_build = latest_build(project)
    history_after_night_1 = history_count(project)

    # One student moved to Alumni on night 1 whom Handshake already held:
    # Handshake applies night 1's row for this student only.
    applied_student_id, username = query(
        project,
        "select moves.student_id, moves.username from student_alumni_moves as moves "
        "inner join stg_handshake__users as users on moves.username = users.username "
        "order by moves.student_id limit 1",
    )[0]
    apply_sync_row(project, night_1, username)

    night_2 = build_and_export(project, NIGHT_2, base / "night2")
    night_2_build = latest_build(project)
    history_after_night_2 = history_count(project)

    rebuilt = build_and_export(project, NIGHT_2, base / "night2-again")
    yield Nights(
        project=project,
        night_1=night_1,
        night_1_build=night_1_build,
        applied_student_id=applied_student_id,
        night_2=night_2,
        night_2_build=night_2_build,
        history_after_night_1=history_after_night_1,
        history_after_night_2=history_after_night_2,
        rebuilt=rebuilt,
        history_after_rebuild=history_count(project),
        run_history=query(
            project, "select build_number, as_of_date from sync_run_history order by build_number"
        ),
        changes=query(
            project,
            "select previous_build_number, moved_to_alumni_count, newly_rejected_count, "
            "fixed_count, email_changed_count from sync_run_changes",
        ),
    )


def test_first_night_raises_no_not_applied_warning(nights: Nights) -> None:
    assert issue_rows(nights.night_1, CODE) == []


def test_second_night_warns_for_changes_handshake_did_not_apply(nights: Nights) -> None:
    warnings = issue_rows(nights.night_2, CODE)
    assert warnings, "night 2 raised no not_applied_by_handshake"
    assert {row["severity"] for row in warnings} == {"warning"}
    run = f"the run of {NIGHT_1} (build {nights.night_1_build}) sent "
    assert all(row["detail"].startswith(run) for row in warnings)
    # Night 1 moved students to Alumni that handshake_users still lacks.
    assert any("school_year_name" in row["detail"] for row in warnings)


def test_a_change_handshake_applied_raises_no_warning(nights: Nights) -> None:
    warned = {row["student_id"] for row in issue_rows(nights.night_2, CODE)}
    assert nights.applied_student_id not in warned


def test_not_applied_warnings_are_counted_in_the_manifest(nights: Nights) -> None:
    manifest = json.loads(nights.night_2[MANIFEST_FILE])
    assert manifest["issues"]["warning"][CODE] == len(issue_rows(nights.night_2, CODE))


def test_only_exported_students_are_warned(nights: Nights) -> None:
    warned = {row["student_id"] for row in issue_rows(nights.night_2, CODE)}
    outcomes = csv.DictReader(io.StringIO(nights.night_2["student_outcomes.csv"].decode("utf-8")))
    assert warned <= {row["student_id"] for row in outcomes if row["outcome"] == "exported"}


def test_history_keeps_changes_not_a_copy_per_night(nights: Nights) -> None:
    students = len(
        {
            row["student_id"]
            for row in csv.DictReader(
                io.StringIO(nights.night_1["student_outcomes.csv"].decode("utf-8"))
            )
        }
    )
    assert nights.history_after_night_1 == students
    added = nights.history_after_night_2 - nights.history_after_night_1
    # Only the student whose change Handshake applied changes state.
    assert 0 < added < students
    applied = query(
        nights.project,
        "select count(*) from student_state_history "
        f"where student_id = '{nights.applied_student_id}'",
    )
    assert applied[0][0] == 2
    rows = query(
        nights.project,
        f"select count(*) from student_state_history where build_number = {nights.night_2_build}",
    )
    assert rows[0][0] == added


def test_rebuild_of_the_same_night_adds_no_history_and_writes_the_same_files(
    nights: Nights,
) -> None:
    assert nights.history_after_rebuild == nights.history_after_night_2
    assert nights.rebuilt == nights.night_2


def test_sync_run_history_keeps_one_row_per_build(nights: Nights) -> None:
    dates = [str(as_of_date) for _, as_of_date in nights.run_history]
    assert dates == [NIGHT_1, NIGHT_2, NIGHT_2]
    assert len({build for build, _ in nights.run_history}) == 3
    assert query(nights.project, "select count(*) from sync_runs")[0][0] == 1


def test_since_previous_run_compares_with_the_earlier_night(nights: Nights) -> None:
    [(previous_build, moved, newly_rejected, fixed, email_changed)] = nights.changes
    assert previous_build == nights.night_1_build
    assert min(moved, newly_rejected, fixed, email_changed) >= 0


def test_alumni_moves_name_the_run_that_sent_them(nights: Nights) -> None:
    rows = query(
        nights.project,
        "select moved_to_alumni_on, decided_by_build_number, exported_build_number "
        "from student_alumni_moves",
    )
    assert rows
    first_night = [row for row in rows if str(row[0]) == NIGHT_1]
    assert first_night
    assert {(row[1], row[2]) for row in first_night} == {
        (nights.night_1_build, nights.night_1_build)
    }


def test_the_export_records_each_night_in_the_export_log(nights: Nights) -> None:
    """The export (not the test) appends 'exported' for the build it wrote files from."""
    rows = query(nights.project, "select build_number, event from export_log order by 1")
    assert rows[:2] == [(nights.night_1_build, "exported"), (nights.night_2_build, "exported")]
    assert len(rows) == 3 and rows[2][1] == "exported"  # the rebuild of night 2


def test_report_shows_since_previous_run_and_not_applied_only_after_a_first_night(
    nights: Nights,
) -> None:
    first = nights.night_1["report.html"].decode("utf-8")
    assert 'id="since-previous"' not in first and 'id="not-applied"' not in first
    page = nights.night_2["report.html"].decode("utf-8")
    previous, moved, rejected, fixed, emails = nights.changes[0]
    assert f"previous run of {NIGHT_1} (build {previous})" in page
    for key, count in [
        ("moved_to_alumni_count", moved),
        ("newly_rejected_count", rejected),
        ("fixed_count", fixed),
        ("email_changed_count", emails),
    ]:
        assert f'data-since-previous="{key}">{count:,}</td>' in page
    warnings = issue_rows(nights.night_2, CODE)
    assert '<h2 id="not-applied">' in page and f"{len(warnings):,} students still lack" in page
    assert all(f"<td>{row['student_id']}</td>" in page for row in warnings)
