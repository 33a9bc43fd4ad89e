"""Tests of scripts/check_inputs.py on input files written to tmp_path."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"
sys.path.insert(0, str(SCRIPTS))

import check_inputs  # noqa: E402

STUDENTS = "sis_students.csv"


def write_inputs(directory: Path) -> None:
    """Five valid files: each header is its required columns, one data row."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, columns in check_inputs.REQUIRED_COLUMNS.items():
        row = ",".join(f"v{number}" for number in range(len(columns)))
        (directory / name).write_text(",".join(columns) + "\n" + row + "\n", encoding="utf-8")


@pytest.fixture
def inputs(tmp_path: Path) -> Path:
    directory = tmp_path / "seeds"
    write_inputs(directory)
    return directory


def run(directory: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = check_inputs.main([str(directory)])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def set_students(directory: Path, text: str | bytes) -> None:
    path = directory / STUDENTS
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8", newline="")


def students_header() -> str:
    return ",".join(check_inputs.REQUIRED_COLUMNS[STUDENTS])


def students_row(value: str = "x") -> str:
    return ",".join([value] * len(check_inputs.REQUIRED_COLUMNS[STUDENTS]))


def test_required_columns_are_the_spec_lists() -> None:
    assert check_inputs.REQUIRED_COLUMNS == {
        "sis_students.csv": (
            "student_id",
            "username",
            "auth_identifier",
            "first_name",
            "last_name",
            "campus_email",
            "personal_email",
            "class_level",
            "education_level",
            "cumulative_gpa",
            "program_start_date",
            "expected_graduation_date",
            "graduation_date",
            "enrollment_status",
            "campus_email_expires_on",
            "sso_enabled",
        ),
        "sis_student_majors.csv": ("student_id", "major_name", "is_primary"),
        "sis_class_levels.csv": ("class_level", "school_year_name"),
        "handshake_users.csv": (
            "username",
            "email_address",
            "school_year_name",
            "primary_education:start_date",
            "primary_education:end_date",
            "primary_education:currently_attending",
            "disabled",
        ),
        "institution_email_domains.csv": ("domain",),
    }


def test_valid_inputs_pass(inputs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, output = run(inputs, capsys)
    assert code == 0
    assert "fine" in output


def test_default_directory_is_seeds(
    inputs: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(inputs.parent)
    assert check_inputs.main([]) == 0
    assert "seeds" in capsys.readouterr().out


def test_ragged_row_names_file_and_physical_line(
    inputs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Line 2-3 is one record with a quoted newline; line 4 is short by one field.
    quoted = students_row().replace("x", '"two\nlines"', 1)
    short = ",".join(["x"] * (len(check_inputs.REQUIRED_COLUMNS[STUDENTS]) - 1))
    set_students(inputs, "\n".join([students_header(), quoted, short, students_row()]) + "\n")
    code, output = run(inputs, capsys)
    assert code == 1
    assert f"{inputs / STUDENTS}: line 4: 15 fields, the header has 16" in output
    assert "line 2" not in output and "line 5" not in output


def test_blank_line_is_reported(inputs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    set_students(inputs, "\n".join([students_header(), students_row(), "", students_row()]) + "\n")
    code, output = run(inputs, capsys)
    assert code == 1
    assert f"{inputs / STUDENTS}: line 3: blank line" in output


def test_many_ragged_rows_are_summarised(inputs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    set_students(inputs, students_header() + "\n" + "a,b\n" * 13)
    code, output = run(inputs, capsys)
    assert code == 1
    assert "line 11:" in output and "line 12:" not in output
    assert "and 3 more rows" in output


def test_missing_column_names_file_and_column(
    inputs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (inputs / "sis_class_levels.csv").write_text("class_level,year_name\nFR,Freshman\n")
    code, output = run(inputs, capsys)
    assert code == 1
    path = inputs / "sis_class_levels.csv"
    assert f"{path}: missing required column 'school_year_name'" in output


def test_missing_column_with_a_near_miss_gets_a_hint(
    inputs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (inputs / "institution_email_domains.csv").write_text("Domain \nexample.edu\n")
    code, output = run(inputs, capsys)
    assert code == 1
    assert "missing required column 'domain' (found 'Domain '" in output


def test_not_utf8_names_file_and_line(inputs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    row = students_row().replace("x", "Ren\xe9e", 1).encode("latin-1")
    set_students(inputs, (students_header() + "\n" + students_row() + "\n").encode() + row + b"\n")
    code, output = run(inputs, capsys)
    assert code == 1
    assert f"{inputs / STUDENTS}: line 3: not UTF-8 (byte 0xE9)" in output
    assert "Ren" not in output  # no cell values in messages


def test_bom_is_accepted(inputs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Excel's "CSV UTF-8" starts with a BOM; dbt seed and DuckDB's read_csv skip it.
    text = students_header() + "\n" + students_row() + "\n"
    set_students(inputs, b"\xef\xbb\xbf" + text.encode())
    code, output = run(inputs, capsys)
    assert code == 0, output
    assert "are fine" in output


def test_bom_then_not_utf8_names_the_line(inputs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = (students_header() + "\n" + students_row() + "\n").encode()
    set_students(inputs, b"\xef\xbb\xbf" + text + b"\xff\n")
    code, output = run(inputs, capsys)
    assert code == 1
    assert f"{inputs / STUDENTS}: line 3: not UTF-8 (byte 0xFF)" in output


def test_repeated_required_column_is_an_error(
    inputs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    set_students(inputs, students_header() + ",username\n" + students_row() + ",x\n")
    code, output = run(inputs, capsys)
    assert code == 1
    assert f"{inputs / STUDENTS}: column 'username' appears 2 times in the header" in output


def test_cells_reading_null_are_warned_about_by_line_and_column(
    inputs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    columns = check_inputs.REQUIRED_COLUMNS[STUDENTS]
    row = ["x"] * len(columns)
    row[columns.index("last_name")] = " Null "
    row[columns.index("graduation_date")] = "NULL"
    rows = [",".join(row)] * 12
    set_students(inputs, students_header() + "\n" + "\n".join(rows) + "\n")
    code, output = run(inputs, capsys)
    assert code == 0, output  # a warning: the run goes on
    assert (
        f"{inputs / STUDENTS}: line 2: warning: last_name, graduation_date reads NULL, "
        "an empty cell for dbt seed on PostgreSQL and Spark but the text NULL on DuckDB"
    ) in output
    assert f"{inputs / STUDENTS}: line 11: warning" in output
    assert f"{inputs / STUDENTS}: line 12: warning" not in output
    assert f"{inputs / STUDENTS}: and 2 more rows with cells that read NULL" in output
    assert "Null " not in output.replace("reads NULL", "")


@pytest.mark.parametrize(
    "variables",
    ['{{"raw_data_dir": "{raw}"}}', "{{raw_data_dir: {raw}, as_of_date: 2026-06-15}}"],
    ids=["json", "yaml"],
)
def test_vars_with_raw_data_dir_check_that_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], variables: str
) -> None:
    raw = tmp_path / "raw"
    write_inputs(raw)
    (raw / "sis_student_majors.csv").unlink()
    code = check_inputs.main(["seeds-not-read", "--vars", variables.format(raw=raw)])
    output = capsys.readouterr().err
    assert code == 1
    assert f"{raw / 'sis_student_majors.csv'}: file not found" in output
    assert "seeds-not-read" not in output


def test_vars_without_raw_data_dir_check_the_folder(
    inputs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert check_inputs.main([str(inputs), "--vars", '{"as_of_date": "2026-06-15"}']) == 0
    assert check_inputs.main([str(inputs), "--vars", "{}"]) == 0
    assert check_inputs.main([str(inputs), "--vars", "{not yaml"]) == 2
    assert "--vars is not YAML or JSON" in capsys.readouterr().err


def test_extra_and_reordered_columns_are_fine(
    inputs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    columns = [*reversed(check_inputs.REQUIRED_COLUMNS[STUDENTS]), "notes"]
    row = ",".join(["x"] * len(columns))
    set_students(inputs, ",".join(columns) + "\n" + row + "\n")
    code, _ = run(inputs, capsys)
    assert code == 0


def test_quoted_newlines_commas_and_crlf_are_fine(
    inputs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    row = students_row().replace("x", '"Smith,\r\nJones ""Jr"""', 1)
    set_students(inputs, students_header() + "\r\n" + row + "\r\n")
    code, _ = run(inputs, capsys)
    assert code == 0


def test_header_only_file_is_fine(inputs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    columns = check_inputs.REQUIRED_COLUMNS["handshake_users.csv"]
    (inputs / "handshake_users.csv").write_text(",".join(columns) + "\n")
    code, _ = run(inputs, capsys)
    assert code == 0


def test_empty_missing_and_malformed_files_are_all_listed(
    inputs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (inputs / "sis_student_majors.csv").unlink()
    (inputs / "institution_email_domains.csv").write_text("")
    set_students(inputs, students_header() + "\n" + '"unclosed,' + students_row() + "\n")
    code, output = run(inputs, capsys)
    assert code == 1
    assert f"{inputs / 'sis_student_majors.csv'}: file not found" in output
    assert f"{inputs / 'institution_email_domains.csv'}: empty file" in output
    assert f"{inputs / STUDENTS}: line 2: malformed CSV" in output
    assert "3 problems" in output
