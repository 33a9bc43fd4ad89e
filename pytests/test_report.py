"""Tests of report.html (scripts/handshake_export/report.py and its template):
the page rendered from rows and a manifest made up here (no database), then the
report of a real export of the sample seeds. The export's own suite checks that
the page is written with the other files; test_browser.py opens it in Chromium."""

from __future__ import annotations

import csv
import hashlib
import json
import re
import sys
from collections.abc import Sequence
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from conftest import SampleBuild

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT / "scripts"))

from handshake_export import report  # noqa: E402

# alumni_updates rows as marts.report_rows reads them: username, student_id,
# outcome_reason, school_year_name and the flags is_moved_to_alumni,
# is_returning, is_disabled_by_policy, is_re_enabled, is_end_date_cleared.
TRANSITIONS = [
    ("ada", "S1", "recent_alumni", "Alumni", True, False, False, False, False),
    ("bo", "S2", "returning_student", "Masters", False, True, False, True, True),
    ("cy", "S3", "alumni_record_outdated", "Alumni", True, False, True, False, False),
]
ISSUES = [
    ("error", "missing_username", "010", None, "username is blank"),
    ("error", "unsafe_value", "011", "<b>x</b>", '</td><script>alert("x")</script>'),
    ("warning", "invalid_gpa", "S4", "bob", "cumulative_gpa '5' is not a number\r\nfrom 0 to 4"),
]
CODES = [
    ("error", "missing_username", 1, "Fill the username in the SIS."),
    ("error", "unsafe_value", 1, "Remove the leading = + - @ tab or CR (spreadsheet formula)."),
    ("warning", "invalid_gpa", 1, "Correct the GPA (a number in 0-4); it was sent blank."),
]
# The students of the issue files: (student_id, username).
KNOWN = {("010", ""), ("011", "<b>x</b>"), ("S1", "ada"), ("S2", "bo"), ("S3", "cy"), ("S4", "bob")}


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
    transitions: Sequence[Sequence[Any]] = TRANSITIONS,
    issues: Sequence[Sequence[Any]] = ISSUES,
    codes: Sequence[Sequence[Any]] = CODES,
    max_rows: int = report.MAX_TABLE_ROWS,
    counts: dict[str, int] | None = None,
) -> dict[str, Any]:
    """The rows marts.report_rows returns for the page."""
    flags = ["is_moved_to_alumni", "is_returning", "is_disabled_by_policy", "is_re_enabled"]
    flags.append("is_end_date_cleared")
    totals = {
        flag: sum(1 for row in transitions if row[4 + index]) for index, flag in enumerate(flags)
    }
    return {
        "thresholds": (0.5, 0.1),
        "codes": list(codes),
        "transitions": list(transitions[:max_rows]),
        "transition_counts": counts or {"total": len(transitions), **totals},
        "issues": list(issues[:max_rows]),
    }


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
    page = report.render(make_manifest(), collect())
    table = cells(page).tables["transition-table"]
    assert [text for _, text in table] == [
        "username",
        "student_id",
        "what changes",
        *("ada", "S1", "school year: Alumni (graduated)"),
        *(
            "bo",
            "S2",
            "school year: Alumni to Masters; re-enabled; end date cleared (returning student)",
        ),
        *("cy", "S3", "school year: Alumni; disabled (missed transition corrected)"),
    ]
    counts = {
        attributes["data-transitions"]: text
        for attributes, text in cells(page).tables["transition-counts"]
        if "data-transitions" in attributes
    }
    assert counts == {
        "to_alumni": "2",
        "returning": "1",
        "disabled": "1",
        "re_enabled": "1",
        "end_date_cleared": "1",
        "total": "3",
    }


def test_transition_counts_are_the_warehouse_counts_past_the_table() -> None:
    counts = {"total": 1234, "is_moved_to_alumni": 1200, "is_returning": 34}
    counts |= {"is_disabled_by_policy": 0, "is_re_enabled": 3, "is_end_date_cleared": 5}
    page = report.render(make_manifest(), collect(max_rows=1, counts=counts))
    assert "The first 1 of 1,234 rows are shown" in page
    assert 'data-transitions="to_alumni">1,200<' in page
    assert [text for _, text in cells(page).tables["transition-table"][3:]][:1] == ["ada"]


def test_only_students_of_the_issue_files_are_named() -> None:
    page = report.render(make_manifest(), collect())
    parsed = cells(page).tables
    for table_id, id_column, name_column, width in (
        ("transition-table", 1, 0, 3),
        ("issue-table", 2, 3, 5),
    ):
        body = [text for _, text in parsed[table_id][width:]]
        rows = [body[index : index + width] for index in range(0, len(body), width)]
        assert rows
        for row in rows:
            assert (row[id_column], row[name_column]) in KNOWN, row


def test_tables_are_capped_with_a_note() -> None:
    issues = [("error", "invalid_name", f"S{number}", f"u{number}", "x") for number in range(5)]
    manifest = make_manifest(issues={"error": {"invalid_name": 5}})
    page = report.render(manifest, collect(issues=issues, max_rows=2))
    assert "The first 2 of 5 rows are shown" in page
    assert "u1" in page and "u2" not in page


def test_an_empty_run_says_so() -> None:
    manifest = make_manifest(
        issues={"error": {}, "warning": {}}, outcomes={"exported": 0, "rejected": 0, "skipped": 0}
    )
    page = report.render(manifest, collect(transitions=[], issues=[], codes=[]))
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


def test_codes_are_listed_in_the_warehouse_order_with_their_advice() -> None:
    # sync_run_issue_counts orders them (issue_codes.sort_order: the spec's table).
    codes = [
        ("warning", "invalid_gpa", 1, "Correct the GPA."),
        ("error", "missing_username", 1, None),
    ]
    page = report.render(make_manifest(), collect(codes=codes))
    table = cells(page).tables["code-table"]
    shown = [
        attributes["data-manifest"] for attributes, _ in table if "data-manifest" in attributes
    ]
    assert shown == ["/issues/warning/invalid_gpa", "/issues/error/missing_username"]
    texts = [text for _, text in table]
    assert "Correct the GPA." in texts and "See the error codes in README.md." in texts


# ---------------------------------------------------------------------------
# The report of a real export (the sample seeds, conftest.sample_build)


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
        # The page shows the cells as the files hold them (formula-escaped by the marts).
        known = {(row["student_id"], row["username"]) for row in csv.DictReader(file)}
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


def test_preflight_labels_show_the_builds_thresholds() -> None:
    page = report.render(make_manifest(), collect() | {"thresholds": (0.3, 0.25)})
    assert "newly disable (stop at 30 %)" in page and "change an email (warn at 25 %)" in page
    default = report.render(make_manifest(), collect())
    assert "(stop at 50 %)" in default and "(warn at 10 %)" in default
