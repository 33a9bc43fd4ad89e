"""report.html: the sync report for the career office, from templates/report.html.j2.

One self-contained page: counts per outcome (with an inline SVG chart), per
error and warning code (with what to do), the alumni transitions of this run,
the preflight, the files, the settings and the first import issues. It shows
the manifest's counts and rows the marts hold, never more personal data than
the issue files (student_id, username, detail: no names, no addresses), loads
nothing (inline CSS and SVG, no script, a Content-Security-Policy that forbids
any request) and holds no timestamp. Every value is HTML-escaped.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from handshake_export import marts as mart_queries
from handshake_export.warehouse import Database

REPORT_FILE = "report.html"
# Rows shown per table; the CSV files hold them all.
MAX_TABLE_ROWS = 1000
OUTCOMES = ("exported", "skipped", "rejected")
SEVERITIES = ("error", "warning")
CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
# The codes of SPEC section 5 in the order of its table, with what to do.
CODE_ADVICE = {
    "missing_username": "Fill the username in the SIS.",
    "duplicate_username": "Correct the SIS so each username belongs to one student.",
    "missing_first_name": "Fill the first name.",
    "invalid_name": "Correct the name (at most 50 characters, no digit).",
    "invalid_date": "Write the date (named in the detail) as YYYY-MM-DD or MM/DD/YYYY.",
    "unknown_enrollment_status": "Map the SIS status to enrolled, on_leave, graduated, withdrawn.",
    "unknown_education_level": "Use a Handshake level (Bachelors, Masters, Doctorate, ...).",
    "end_before_start": "Correct the programme dates.",
    "missing_graduation_date": "Record the conferral date.",
    "ambiguous_primary_program": "Correct one of the programme start dates.",
    "unknown_class_level": "Add the class-level code to sis_class_levels.csv.",
    "invalid_email": "Correct the address.",
    "other_institution_email": "Give the student a campus address.",
    "duplicate_email": "Correct the SIS addresses so no two students share one.",
    "email_in_use": "Merge or correct the accounts in Handshake.",
    "unsafe_value": "Remove the leading = + - @ tab or CR (spreadsheet formula).",
    "personal_email_unusable": "Collect a personal address; until then the current one is kept.",
    "invalid_gpa": "Correct the GPA (a number in 0-4); it was sent blank.",
    "expected_graduation_past": "Update the expected graduation; no end date is sent meanwhile.",
}
# (manifest key, label, is a share) of the preflight table, in page order;
# keys the manifest adds later follow, as they come.
PREFLIGHT_ROWS = (
    ("build_tests", "dbt build tests", False),
    ("sync_rows", "rows in the sync file", False),
    ("changed_rows", "rows that change a Handshake record (new accounts included)", False),
    ("newly_disabled_rows", "rows that newly disable an account", False),
    ("newly_disabled_share", "share of changed rows that newly disable (stop at 50 %)", True),
    ("mass_disable", "mass-disable check", False),
    ("email_changes", "rows that change an existing account's email", False),
    ("email_change_share", "share of sync rows that change an email (warn at 10 %)", True),
    ("email_change_warning", "email-change warning", False),
)
# alumni_updates' flag -> the kind (data-transitions) and label the page shows.
TRANSITION_KINDS = (
    ("is_moved_to_alumni", "to_alumni", "moved to Alumni"),
    ("is_returning", "returning", "returning students (Alumni to a current school year)"),
    ("is_disabled_by_policy", "disabled", "disabled by the disable_alumni_after_days policy"),
    ("is_re_enabled", "re_enabled", "re-enabled"),
    ("is_end_date_cleared", "end_date_cleared", "end date cleared (**CLEAR**)"),
)
REASON_LABELS = {
    "recent_alumni": "graduated",
    "alumni_record_outdated": "missed transition corrected",
    "returning_student": "returning student",
}


@dataclass(frozen=True)
class Transition:
    """One row of the alumni update file, as the report shows it."""

    username: str
    student_id: str
    change: str


@dataclass
class ReportData:
    """What the page shows beyond the manifest: the first rows of two tables,
    the count of each kind of transition, and the advice and order of the codes."""

    issue_rows: list[tuple[Any, ...]]
    transitions: list[Transition]
    transition_counts: dict[str, int]
    advice: Mapping[str, str]

    @property
    def issues_shown(self) -> int:
        return len(self.issue_rows)


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def describe(row: tuple[Any, ...]) -> Transition:
    """username, student_id, outcome_reason, school_year_name and the flags."""
    username, student_id, reason, school_year, to_alumni, _, disabled, re_enabled, cleared = row
    parts = ["school year: Alumni" if to_alumni else f"school year: Alumni to {_text(school_year)}"]
    parts += ["disabled"] if disabled else ["re-enabled"] if re_enabled else []
    parts += ["end date cleared"] if cleared else []
    label = REASON_LABELS.get(_text(reason))
    change = "; ".join(parts) + (f" ({label})" if label else "")
    return Transition(_text(username), _text(student_id), change)


def collect(
    database: Database, marts: mart_queries.Marts, max_rows: int = MAX_TABLE_ROWS
) -> ReportData:
    rows, counts = mart_queries.transitions(database, marts, max_rows)
    kinds = {kind: counts[flag] for flag, kind, _ in TRANSITION_KINDS}
    kinds["total"] = counts["total"]
    issues = mart_queries.issue_rows(database, marts, max_rows)
    return ReportData(issues, [describe(row) for row in rows], kinds, CODE_ADVICE)


def _escape(value: Any) -> str:
    """HTML-escaped text; a carriage return becomes a character reference, so
    the page has "\\n" line ends only, whatever the cells hold."""
    if isinstance(value, Markup):
        return value
    return html.escape(_text(value), quote=True).replace("\r", "&#13;")


def _pointer(*keys: str) -> str:
    """The JSON pointer (RFC 6901) of a value in manifest.json."""
    return "".join("/" + key.replace("~", "~0").replace("/", "~1") for key in keys)


def _chart(outcomes: Mapping[str, int]) -> list[dict[str, Any]]:
    """The bars of the outcome chart (integer geometry)."""
    largest = max([outcomes.get(name, 0) for name in OUTCOMES] + [1])
    bars = []
    for position, name in enumerate(OUTCOMES):
        count = outcomes.get(name, 0)
        top = 8 + position * 30
        bar = (count * 300 + largest // 2) // largest
        bars.append(
            {
                "name": name,
                "count": count,
                "top": top,
                "middle": top + 16,
                "width": bar or (1 if count else 0),
            }
        )
    return bars


_ENVIRONMENT = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=False,  # finalize escapes every value with _escape (html.escape's bytes)
    finalize=_escape,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
    undefined=jinja2.StrictUndefined,
)
_ENVIRONMENT.filters.update(
    number=lambda value: f"{value:,}",
    percent=lambda share: f"{float(share) * 100:.1f} %",
    json=json.dumps,
)
_ENVIRONMENT.globals.update(pointer=_pointer)


def render(manifest: Mapping[str, Any], data: ReportData) -> str:
    """The whole page: deterministic for the same manifest and rows."""
    issues = manifest.get("issues", {})
    order = {code: position for position, code in enumerate(data.advice)}
    codes = [
        (
            severity,
            code,
            int(issues[severity][code]),
            data.advice.get(code, "See the error codes in README.md."),
        )
        for severity in [*SEVERITIES, *sorted(set(issues) - set(SEVERITIES))]
        for code in sorted(
            issues.get(severity, {}), key=lambda name: (order.get(name, len(order)), name)
        )
    ]
    outcomes = manifest.get("outcomes", {})
    names = [*OUTCOMES, *sorted(set(outcomes) - set(OUTCOMES))]
    preflight = manifest.get("preflight", {})
    known = [key for key, _, _ in PREFLIGHT_ROWS]
    preflight_rows = [row for row in PREFLIGHT_ROWS if row[0] in preflight]
    preflight_rows += [(key, key, False) for key in sorted(set(preflight) - set(known))]
    as_of_date = _text(manifest.get("as_of_date", ""))
    return _ENVIRONMENT.get_template("report.html.j2").render(
        manifest=manifest,
        as_of_date=as_of_date,
        update_file=f"alumni_update_{as_of_date.replace('-', '')}.csv",
        csp=Markup(CONTENT_SECURITY_POLICY),
        outcome_names=names,
        outcome_total=sum(int(outcomes.get(name, 0)) for name in names),
        preflight=preflight,
        preflight_rows=preflight_rows,
        outcomes=outcomes,
        bars=_chart(outcomes),
        codes=codes,
        issue_total=sum(sum(counts.values()) for counts in issues.values()),
        data=data,
        kinds=TRANSITION_KINDS,
    )
