"""Tests of scripts/report.py: the HTML sync report, rendered from rows and a
manifest made up here (no database), then the report of a real export of the
sample seeds. The export's own suite checks that the page is written with
the other files; test_browser.py opens it in Chromium."""

from __future__ import annotations

import csv
import hashlib
import json
import re
import sys
from collections.abc import Iterable, Sequence
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from conftest import SampleBuild

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT / "scripts"))

import export_csv  # noqa: E402
import report  # noqa: E402

COLUMNS = tuple(column for column, _ in export_csv.HANDSHAKE_COLUMNS)


def handshake_row(username: str, email: str, **values: str) -> list[str]:
    row = dict.fromkeys(COLUMNS, "")
    row.update(username=username, email_address=email, first_name="Secret", **values)
    return [row[column] for column in COLUMNS]


UPDATES = [
    handshake_row("ada", "ada@example.edu", school_year_name="Alumni", end_date="2026-05-30"),
    handshake_row(
        "bo",
        "bo.private@gmail.com",
        school_year_name="Masters",
        end_date="**CLEAR**",
        disabled="FALSE",
    ),
    handshake_row("cy", "cy@example.edu", school_year_name="Alumni", disabled="TRUE"),
]
ISSUES = [
    ("error", "missing_username", "010", None, "username is blank"),
    ("error", "unsafe_value", "011", "<b>x</b>", '</td><script>alert("x")</script>'),
    ("warning", "invalid_gpa", "S4", "bob", "cumulative_gpa '5' is not a number\r\nfrom 0 to 4"),
]
OUTCOMES = [
    ("010", None, "rejected", "missing_username"),
    ("011", "<b>x</b>", "rejected", "unsafe_value"),
    ("S1", "ada", "exported", "recent_alumni"),
    ("S2", "bo", "exported", "returning_student"),
    ("S3", "cy", "exported", "alumni_record_outdated"),
    ("S4", "bob", "exported", "current_student"),
]


def make_manifest(**changes: Any) -> dict[str, Any]:
    manifest: dict[str, Any] = {
        "as_of_date": "2026-06-15",
        "files": {
            "20260615_users.csv": {"rows": 4, "sha256": "a" * 64},
            "alumni_update_20260615.csv": {"rows": 3, "sha256": "b" * 64},
            "import_issues.csv": {"rows": 3, "sha256": "c" * 64},
            "student_outcomes.csv": {"rows": 6, "sha256": "d" * 64},
            "alumni_password_notices.csv": {"rows": 1, "sha256": "e" * 64},
        },
        "issues": {
            "error": {"missing_username": 1, "unsafe_value": 1},
            "warning": {"invalid_gpa": 1},
        },
        "outcomes": {"exported": 1234, "rejected": 2, "skipped": 0},
        "preflight": {
            "build_tests": "passed",
            "changed_rows": 3,
            "newly_disabled_rows": 1,
            "newly_disabled_share": 0.3333,
            "mass_disable": "ok",
            "sync_rows": 4,
            "email_changes": 1,
            "email_change_share": 0.25,
            "email_change_warning": True,
        },
        "settings": {
            "as_of_date": "2026-06-15",
            "campus_email_grace_days": 30,
            "alumni_lookback_days": 180,
            "disable_alumni_after_days": None,
        },
    }
    manifest.update(changes)
    return manifest


def collect(
    updates: Iterable[Sequence[Any]] = UPDATES,
    issues: Iterable[Sequence[Any]] = ISSUES,
    outcomes: Iterable[Sequence[Any]] = OUTCOMES,
    max_rows: int = report.MAX_TABLE_ROWS,
) -> report.ReportData:
    """Stream the rows through ReportData in the export's order."""
    data = report.ReportData(COLUMNS, max_rows=max_rows)
    for stream in (data.updates(updates), data.issues(issues), data.outcomes(outcomes)):
        for _ in stream:
            pass
    return data


class Cells(HTMLParser):
    """The page's cells: (attributes, text) of every td and th, by table id."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: dict[str, list[tuple[dict[str, str], str]]] = {}
        self.table = ""
        self.cell: dict[str, str] | None = None
        self.text = ""
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag == "table":
            self.table = dict(attrs).get("id") or ""
        elif tag in ("td", "th"):
            self.cell = {name: value or "" for name, value in attrs}
            self.text = ""

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self.cell is not None:
            self.tables.setdefault(self.table, []).append((self.cell, self.text))
            self.cell = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.text += data


def cells(page: str) -> Cells:
    parser = Cells()
    parser.feed(page)
    parser.close()
    return parser


def resolve(manifest: dict[str, Any], pointer: str) -> Any:
    value: Any = manifest
    for key in pointer.split("/")[1:]:
        value = value[key.replace("~1", "/").replace("~0", "~")]
    return value


def manifest_cells(page: str) -> dict[str, tuple[Any, str]]:
    shown = {}
    for table in cells(page).tables.values():
        for attributes, text in table:
            if "data-manifest" in attributes:
                value = json.loads(attributes["data-value"])
                shown[attributes["data-manifest"]] = (value, text)
    return shown


def every_count_pointer(manifest: dict[str, Any]) -> set[str]:
    pointers = {f"/outcomes/{name}" for name in manifest["outcomes"]}
    pointers |= {
        f"/issues/{severity}/{code}"
        for severity, codes in manifest["issues"].items()
        for code in codes
    }
    pointers |= {f"/files/{name}/rows" for name in manifest["files"]}
    pointers |= {f"/preflight/{key}" for key in manifest["preflight"]}
    return pointers


def test_every_count_of_the_manifest_is_shown_as_it_is() -> None:
    manifest = make_manifest()
    page = report.render(manifest, collect())
    shown = manifest_cells(page)
    assert set(shown) == every_count_pointer(manifest)
    for pointer, (value, text) in shown.items():
        assert value == resolve(manifest, pointer), pointer
        if isinstance(value, bool):
            assert text == ("yes" if value else "no")
        elif isinstance(value, int):
            assert text.replace(",", "") == str(value), pointer
        elif isinstance(value, float):
            assert text == f"{value * 100:.1f} %"
        else:
            assert text == value
    assert shown["/outcomes/exported"][1] == "1,234"


def test_the_chart_is_inline_svg_scaled_to_the_largest_outcome() -> None:
    page = report.render(make_manifest(), collect())
    svg = page[page.index("<svg") : page.index("</svg>")]
    bars = dict(re.findall(r'width="(\d+)" height="22" fill="#\w+" data-outcome="(\w+)"', svg))
    assert {name: int(width) for width, name in bars.items()} == {
        "exported": 300,
        "rejected": 1,
        "skipped": 0,
    }
    assert "1,234" in svg


def test_page_loads_nothing_and_runs_no_script() -> None:
    page = report.render(make_manifest(), collect())
    lowered = page.lower()
    for forbidden in ("<script", "src=", "href=", "url(", "@import", "<link", "<iframe"):
        assert forbidden not in lowered, forbidden
    assert re.findall(r"https?://[^\"' ]+", page) == ["http://www.w3.org/2000/svg"]
    assert f'content="{report.CONTENT_SECURITY_POLICY}"' in page
    assert "default-src 'none'" in report.CONTENT_SECURITY_POLICY


def test_cells_are_escaped() -> None:
    page = report.render(make_manifest(), collect())
    assert "<b>x</b>" not in page
    assert "&lt;b&gt;x&lt;/b&gt;" in page
    assert "&lt;/td&gt;&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    # A carriage return in a cell is a character reference: "\n" line ends only.
    assert "\r" not in page
    assert "number\r\nfrom" in "".join(text for _, text in cells(page).tables["issue-table"])


def test_rendering_is_deterministic() -> None:
    first = report.render(make_manifest(), collect())
    assert report.render(make_manifest(), collect()) == first
    assert first.endswith("</html>\n")


def test_transitions_show_username_student_id_and_the_change_only() -> None:
    data = collect()
    assert data.update_total == 3
    assert data.transitions() == [
        report.Transition("ada", "S1", "school year: Alumni (graduated)"),
        report.Transition(
            "bo",
            "S2",
            "school year: Alumni to Masters; re-enabled; end date cleared (returning student)",
        ),
        report.Transition(
            "cy", "S3", "school year: Alumni; disabled (missed transition corrected)"
        ),
    ]
    assert dict(data.transition_counts) == {
        "to_alumni": 2,
        "returning": 1,
        "disabled": 1,
        "re_enabled": 1,
        "end_date_cleared": 1,
    }
    page = report.render(make_manifest(), data)
    table = cells(page).tables["transition-table"]
    assert [text for _, text in table[:3]] == ["username", "student_id", "what changes"]
    # No email address and no name of the Handshake rows reaches the page.
    for hidden in ("ada@example.edu", "bo.private@gmail.com", "cy@example.edu", "Secret"):
        assert hidden not in page


def test_transition_counts_include_the_rows_past_the_table() -> None:
    """Only max_rows rows are described on the page; every row is counted, and
    a repeated combination of cells counts each time."""
    updates = [*UPDATES, *UPDATES]
    data = collect(updates=updates, max_rows=1)
    assert data.update_total == 6
    assert [transition.username for transition in data.transitions()] == ["ada"]
    assert dict(data.transition_counts) == {
        "to_alumni": 4,
        "returning": 2,
        "disabled": 2,
        "re_enabled": 2,
        "end_date_cleared": 2,
    }


def test_only_students_of_the_issue_files_are_named() -> None:
    data = collect()
    page = report.render(make_manifest(), data)
    known = {(student_id, username or "") for student_id, username, _, _ in OUTCOMES}
    parsed = cells(page).tables
    for table_id, id_column, name_column, width in (
        ("transition-table", 1, 0, 3),
        ("issue-table", 2, 3, 5),
    ):
        body = [text for _, text in parsed[table_id][width:]]
        rows = [body[index : index + width] for index in range(0, len(body), width)]
        assert rows
        for row in rows:
            assert (row[id_column], row[name_column]) in known, row


def test_tables_are_capped_with_a_note() -> None:
    issues = [("error", "invalid_name", f"S{number}", f"u{number}", "x") for number in range(5)]
    data = collect(issues=issues, max_rows=2)
    assert (data.issues_shown, data.issue_total) == (2, 5)
    page = report.render(make_manifest(), data)
    assert "The first 2 of 5 rows are shown" in page
    assert "u1" in page and "u2" not in page


def test_an_empty_run_says_so() -> None:
    manifest = make_manifest(
        issues={"error": {}, "warning": {}}, outcomes={"exported": 0, "rejected": 0, "skipped": 0}
    )
    page = report.render(manifest, collect(updates=[], issues=[], outcomes=[]))
    assert "No errors and no warnings in this run." in page
    assert "No record changes in this run." in page
    assert "No import issues." in page
    assert 'width="0" height="22"' in page


def test_mass_disable_and_email_warnings_are_highlighted() -> None:
    manifest = make_manifest()
    manifest["preflight"]["mass_disable"] = "allowed"
    page = report.render(manifest, collect())
    assert "upload the alumni update file manually" in page.lower()
    assert "--allow-mass-disable" in page


def test_advice_covers_every_code_in_the_spec_order() -> None:
    macro = (PROJECT_ROOT / "macros" / "rules" / "issue_codes.sql").read_text(encoding="utf-8")
    codes = re.findall(r"\('(\w+)', '(?:error|warning)'\)", macro)
    assert list(report.CODE_ADVICE) == codes


@pytest.mark.parametrize("severity", report.SEVERITIES)
def test_issue_codes_are_listed_in_the_spec_order(severity: str) -> None:
    codes = [code for code in reversed(report.CODE_ADVICE)][:3]
    manifest = make_manifest(issues={severity: dict.fromkeys(codes, 1)})
    page = report.render(manifest, collect())
    shown = [
        attributes["data-manifest"].rsplit("/", 1)[1]
        for attributes, _ in cells(page).tables["code-table"]
        if "data-manifest" in attributes
    ]
    assert shown == list(reversed(codes))


# ---------------------------------------------------------------------------
# The report of a real export (the sample seeds, conftest.sample_build)


def export_csv_cell(cell: str) -> str:
    """A report cell of a CSV file as the database held it."""
    if cell.startswith("'") and cell[1:].startswith(export_csv.FORMULA_PREFIXES):
        return cell[1:]
    return cell


def test_report_of_the_sample_is_byte_identical_on_a_rerun(sample_build: SampleBuild) -> None:
    first = (sample_build.output_dir / "report.html").read_bytes()
    assert (sample_build.rerun_dir / "report.html").read_bytes() == first
    manifest = sample_build.manifest()
    entry = manifest["files"]["report.html"]
    assert entry["sha256"] == hashlib.sha256(first).hexdigest()
    assert entry["rows"] == manifest["files"]["import_issues.csv"]["rows"]
    mode = (sample_build.output_dir / "report.html").stat().st_mode & 0o777
    assert mode == 0o600


def test_report_of_the_sample_holds_no_more_personal_data_than_the_issue_files(
    sample_build: SampleBuild,
) -> None:
    page = (sample_build.output_dir / "report.html").read_text(encoding="utf-8")
    with (sample_build.output_dir / "student_outcomes.csv").open(encoding="utf-8") as file:
        # The CSV file puts an apostrophe before formula-like cells; the page does not.
        known = {
            (row["student_id"], export_csv_cell(row["username"])) for row in csv.DictReader(file)
        }
    parsed = cells(page).tables
    for table_id, id_column, name_column, width in (
        ("transition-table", 1, 0, 3),
        ("issue-table", 2, 3, 5),
    ):
        body = [text for _, text in parsed[table_id][width:]]
        rows = [body[index : index + width] for index in range(0, len(body), width)]
        assert rows, table_id
        for row in rows:
            assert (row[id_column], row[name_column]) in known, row
    with (sample_build.root / "seeds" / "sis_students.csv").open(encoding="utf-8") as file:
        students = list(csv.DictReader(file))
    addresses = {
        student[column].strip().lower()
        for student in students
        for column in ("campus_email", "personal_email")
        if "@" in student[column]
    }
    assert addresses
    lowered = page.lower()
    assert not [address for address in addresses if address in lowered]
    text = " ".join(text for table in parsed.values() for _, text in table)
    names = {
        student[column].strip()
        for student in students
        for column in ("first_name", "last_name")
        if len(student[column].strip()) >= 3
    }
    assert not [name for name in names if re.search(rf"(?<![\w.]){re.escape(name)}(?!\w)", text)]
