"""The sync report: one self-contained HTML page for the career office.

scripts/export_csv.py writes it as DIR/report.html beside the CSV files, from
the rows it already streams into them (ReportData keeps what the page needs)
and the manifest's counts (render). The page holds:

- counts per outcome (with a small inline SVG chart), per error and warning
  code (with what to do about each), and per file;
- the preflight results and the run's settings;
- the alumni transitions of this run: the rows of the alumni update file,
  shown as username, student_id and what changes in Handshake;
- the import issues table (the rows of import_issues.csv).

It never shows more personal data than the issue files hold: student_id,
username and the issue detail; no names, no email addresses. It loads
nothing: inline CSS and SVG, no script, and a Content-Security-Policy that
forbids any request. It holds no timestamp, so a re-run with the same inputs
writes the same bytes. Every value is HTML-escaped.
"""

from __future__ import annotations

import html
import json
import operator
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

REPORT_FILE = "report.html"
# Rows shown per table; the CSV files hold them all.
MAX_TABLE_ROWS = 1000

OUTCOMES = ("exported", "skipped", "rejected")
OUTCOME_MEANING = {
    "exported": "in the sync file (and in the alumni update file when the record changes)",
    "skipped": "not sent, nothing wrong: withdrawn, or older alumni whose record is right",
    "rejected": "not sent: an error below must be fixed in the SIS",
}
OUTCOME_COLOURS = {"exported": "#2e7d32", "skipped": "#757575", "rejected": "#c62828"}

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
SEVERITIES = ("error", "warning")

# (manifest key, label, is a share) of the preflight section, in page order;
# keys the manifest adds later are listed after these, as they come.
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
SETTINGS_ROWS = (
    ("as_of_date", "run date (as_of_date)"),
    ("campus_email_grace_days", "campus_email_grace_days"),
    ("alumni_lookback_days", "alumni_lookback_days"),
    ("disable_alumni_after_days", "disable_alumni_after_days (blank = never disable)"),
)

TRANSITION_KINDS = (
    ("to_alumni", "moved to Alumni"),
    ("returning", "returning students (Alumni to a current school year)"),
    ("disabled", "disabled by the disable_alumni_after_days policy"),
    ("re_enabled", "re-enabled"),
    ("end_date_cleared", "end date cleared (**CLEAR**)"),
)
REASON_LABELS = {
    "recent_alumni": "graduated",
    "alumni_record_outdated": "missed transition corrected",
    "returning_student": "returning student",
}

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  margin: 2rem auto; max-width: 72rem; padding: 0 1rem; color: #1b1b1b; line-height: 1.4; }
h1 { font-size: 1.6rem; margin-bottom: 0.2rem; }
h2 { font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid #ddd; }
p.lead { color: #444; margin-top: 0; }
table { border-collapse: collapse; margin: 0.5rem 0; }
th, td { border: 1px solid #ddd; padding: 0.25rem 0.6rem; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
td.number { text-align: right; font-variant-numeric: tabular-nums; }
td.detail { white-space: pre-wrap; }
tr.error td.severity { color: #c62828; font-weight: 600; }
tr.warning td.severity { color: #8a5a00; font-weight: 600; }
.notice { background: #fff4e5; border-left: 4px solid #ef6c00; padding: 0.5rem 0.8rem; }
.ok { color: #2e7d32; }
.note { color: #555; font-size: 0.9rem; }
code { background: #f3f3f3; padding: 0 0.2rem; }
""".strip()

CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _escape(value: Any) -> str:
    """HTML-escaped text; a carriage return becomes a character reference, so
    the page has "\n" line ends only, whatever the cells hold."""
    return html.escape(_text(value), quote=True).replace("\r", "&#13;")


def _number(value: int) -> str:
    return f"{value:,}"


def _percent(share: Any) -> str:
    return f"{float(share) * 100:.1f} %"


# The cells of an alumni update row that decide its change (_describe_update).
DESCRIBED_UPDATE_COLUMNS = ("school_year_name", "disabled", "end_date")


@dataclass(frozen=True)
class Transition:
    """One row of the alumni update file, as the report shows it."""

    username: str
    student_id: str
    change: str


@dataclass
class ReportData:
    """What the report needs of the rows the export streams into the files.

    Wrap each stream with issues(), updates() and outcomes() (in the export's
    order: updates before outcomes); rows pass through unchanged. At most
    `max_rows` rows are kept per table; every row is counted.
    """

    update_columns: Sequence[str]
    max_rows: int = MAX_TABLE_ROWS
    issue_rows: list[tuple[str, ...]] = field(default_factory=list)
    issue_total: int = 0
    update_rows: list[tuple[str, str]] = field(default_factory=list)
    update_total: int = 0
    transition_counts: Counter[str] = field(default_factory=Counter)
    student_ids: dict[str, tuple[str, str]] = field(default_factory=dict)

    @property
    def issues_shown(self) -> int:
        return len(self.issue_rows)

    def issues(self, rows: Iterable[Sequence[Any]]) -> Iterator[Sequence[Any]]:
        """import_issues rows: severity, code, student_id, username, detail."""
        for row in rows:
            self.issue_total += 1
            if len(self.issue_rows) < self.max_rows:
                self.issue_rows.append(tuple(_text(value) for value in row[:5]))
            yield row

    def updates(self, rows: Iterable[Sequence[Any]]) -> Iterator[Sequence[Any]]:
        """Alumni update file rows whose first columns are `update_columns` (more may
        follow: the export's rendered line).

        A row's change depends only on its school year, disabled and end date
        cells, which take a handful of values: each combination is described
        once and counted, and the counts become transition counts when the
        stream ends (a million rows cost a dictionary lookup each, not a
        description)."""
        columns = list(self.update_columns)
        username = columns.index("username")
        cells = operator.itemgetter(*(columns.index(name) for name in DESCRIBED_UPDATE_COLUMNS))
        changes: dict[tuple[Any, ...], tuple[list[str], str]] = {}
        counts: dict[tuple[Any, ...], int] = {}
        try:
            for row in rows:
                key = cells(row)
                counts[key] = counts.get(key, 0) + 1
                if len(self.update_rows) < self.max_rows:
                    if key not in changes:
                        changes[key] = _describe_update(_update_values(key))
                    self.update_rows.append((_text(row[username]), changes[key][1]))
                yield row
        finally:
            for key, count in counts.items():
                kinds, _ = changes.get(key) or _describe_update(_update_values(key))
                for kind in kinds:
                    self.transition_counts[kind] += count
                self.update_total += count

    def outcomes(self, rows: Iterable[Sequence[Any]]) -> Iterator[Sequence[Any]]:
        """student_outcomes rows: keep student_id and reason of the updated usernames."""
        wanted = {username for username, _ in self.update_rows}
        for row in rows:
            username = _text(row[1])
            if username in wanted:
                self.student_ids[username] = (_text(row[0]), _text(row[3]))
            yield row

    def transitions(self) -> list[Transition]:
        shown = []
        for username, change in self.update_rows:
            student_id, reason = self.student_ids.get(username, ("", ""))
            label = REASON_LABELS.get(reason)
            shown.append(
                Transition(username, student_id, f"{change} ({label})" if label else change)
            )
        return shown


def _update_values(key: Sequence[Any]) -> dict[str, str]:
    """The cells _describe_update reads, from their values in DESCRIBED_UPDATE_COLUMNS order."""
    return {name: _text(value) for name, value in zip(DESCRIBED_UPDATE_COLUMNS, key, strict=True)}


def _describe_update(values: Mapping[str, str]) -> tuple[list[str], str]:
    """The kinds of change of one alumni update row and a short description."""
    kinds: list[str] = []
    if values.get("school_year_name", "").lower() == "alumni":
        kinds.append("to_alumni")
        parts = ["school year: Alumni"]
    else:
        kinds.append("returning")
        parts = [f"school year: Alumni to {values.get('school_year_name', '')}"]
    disabled = values.get("disabled", "")
    if disabled == "TRUE":
        kinds.append("disabled")
        parts.append("disabled")
    elif disabled == "FALSE":
        kinds.append("re_enabled")
        parts.append("re-enabled")
    if values.get("end_date", "") == "**CLEAR**":
        kinds.append("end_date_cleared")
        parts.append("end date cleared")
    return kinds, "; ".join(parts)


# ---------------------------------------------------------------------------
# Rendering


def _pointer(*keys: str) -> str:
    """The JSON pointer (RFC 6901) of a value in manifest.json."""
    return "".join("/" + key.replace("~", "~0").replace("/", "~1") for key in keys)


def _manifest_cell(value: Any, pointer: str, shown: str, css_class: str = "") -> str:
    """A table cell showing a manifest value; `data-manifest` is its JSON
    pointer in manifest.json and `data-value` its JSON, for machine checks."""
    attributes = f' class="{css_class}"' if css_class else ""
    return (
        f'<td{attributes} data-manifest="{_escape(pointer)}" '
        f'data-value="{_escape(json.dumps(value))}">{_escape(shown)}</td>'
    )


def _count_cell(value: int, pointer: str) -> str:
    return _manifest_cell(value, pointer, _number(value), "number")


def _table(header: Sequence[str], rows: Iterable[str], attributes: str = "") -> str:
    head = "".join(f"<th>{_escape(name)}</th>" for name in header)
    body = "\n".join(rows)
    return (
        f"<table{attributes}>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody>\n</table>"
    )


def outcome_chart(outcomes: Mapping[str, int]) -> str:
    """A horizontal bar chart of the outcomes as inline SVG (integer geometry)."""
    label_width, bar_space, count_width, bar_height, gap = 90, 300, 70, 22, 8
    width = label_width + bar_space + count_width
    height = len(OUTCOMES) * (bar_height + gap) + gap
    largest = max([outcomes.get(name, 0) for name in OUTCOMES] + [1])
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-labelledby="chart-title" '
        'id="outcome-chart">',
        '<title id="chart-title">Students per outcome</title>',
    ]
    for position, name in enumerate(OUTCOMES):
        count = outcomes.get(name, 0)
        top = gap + position * (bar_height + gap)
        bar = (count * bar_space + largest // 2) // largest
        if count and not bar:
            bar = 1
        middle = top + bar_height // 2 + 5
        parts.append(
            f'<text x="0" y="{middle}" font-size="14">{_escape(name)}</text>'
            f'<rect x="{label_width}" y="{top}" width="{bar}" height="{bar_height}" '
            f'fill="{OUTCOME_COLOURS[name]}" data-outcome="{_escape(name)}"/>'
            f'<text x="{label_width + bar + 6}" y="{middle}" font-size="14">'
            f"{_number(count)}</text>"
        )
    parts.append("</svg>")
    return "\n".join(parts)


def _outcomes_section(manifest: Mapping[str, Any]) -> str:
    outcomes = manifest.get("outcomes", {})
    names = [*OUTCOMES, *sorted(set(outcomes) - set(OUTCOMES))]
    rows = [
        f"<tr><td>{_escape(name)}</td>"
        f"{_count_cell(int(outcomes.get(name, 0)), _pointer('outcomes', name))}"
        f"<td>{_escape(OUTCOME_MEANING.get(name, ''))}</td></tr>"
        for name in names
    ]
    total = sum(int(outcomes.get(name, 0)) for name in names)
    rows.append(
        f'<tr><th>students</th><td class="number" data-total="outcomes">{_number(total)}</td>'
        "<td>every student of the SIS extract has exactly one outcome</td></tr>"
    )
    return (
        '<h2 id="outcomes">Students per outcome</h2>\n'
        + outcome_chart(outcomes)
        + "\n"
        + _table(("outcome", "students", "meaning"), rows, ' id="outcome-table"')
    )


def _issues_summary_section(manifest: Mapping[str, Any]) -> str:
    issues = manifest.get("issues", {})
    rows = []
    order = {code: position for position, code in enumerate(CODE_ADVICE)}
    for severity in [*SEVERITIES, *sorted(set(issues) - set(SEVERITIES))]:
        codes = issues.get(severity, {})
        for code in sorted(codes, key=lambda name: (order.get(name, len(order)), name)):
            advice = CODE_ADVICE.get(code, "See the error codes in README.md.")
            rows.append(
                f'<tr class="{_escape(severity)}"><td class="severity">{_escape(severity)}</td>'
                f"<td><code>{_escape(code)}</code></td>"
                f"{_count_cell(int(codes[code]), _pointer('issues', severity, code))}"
                f"<td>{_escape(advice)}</td></tr>"
            )
    heading = '<h2 id="codes">Errors and warnings per code</h2>\n'
    if not rows:
        return heading + '<p class="ok">No errors and no warnings in this run.</p>'
    intro = (
        "<p>An <strong>error</strong> keeps the student out of both Handshake files; a "
        "<strong>warning</strong> marks a row that was sent with something kept back.</p>\n"
    )
    return (
        heading
        + intro
        + _table(("severity", "code", "rows", "what to do"), rows, ' id="code-table"')
    )


def _files_section(manifest: Mapping[str, Any]) -> str:
    files = manifest.get("files", {})
    rows = [
        f"<tr><td><code>{_escape(name)}</code></td>"
        f"{_count_cell(int(files[name]['rows']), _pointer('files', name, 'rows'))}</tr>"
        for name in sorted(files)
    ]
    return (
        '<h2 id="files">Files of this run</h2>\n'
        "<p>In the same folder as this page (rows without the header).</p>\n"
        + _table(("file", "rows"), rows, ' id="file-table"')
    )


def _preflight_value(key: str, value: Any, is_share: bool) -> str:
    pointer = _pointer("preflight", key)
    if isinstance(value, bool):
        return _manifest_cell(value, pointer, "yes" if value else "no")
    if isinstance(value, int):
        return _count_cell(value, pointer)
    if is_share:
        return _manifest_cell(value, pointer, _percent(value), "number")
    return _manifest_cell(value, pointer, _text(value))


def _preflight_section(manifest: Mapping[str, Any]) -> str:
    preflight = manifest.get("preflight", {})
    known = {key for key, _, _ in PREFLIGHT_ROWS}
    listed = [(key, label, share) for key, label, share in PREFLIGHT_ROWS if key in preflight]
    listed += [(key, key, False) for key in sorted(set(preflight) - known)]
    rows = [
        f"<tr><td>{_escape(label)}</td>{_preflight_value(key, preflight[key], share)}</tr>"
        for key, label, share in listed
    ]
    notices = []
    if preflight.get("email_change_warning"):
        notices.append(
            '<p class="notice">Many rows change an email address: an automated sync will '
            "apply none of the email changes. Upload the alumni update file manually.</p>"
        )
    if preflight.get("mass_disable") == "allowed":
        notices.append(
            '<p class="notice">Half or more of the changed rows disable an account; the files '
            "were written only because --allow-mass-disable was given.</p>"
        )
    return (
        '<h2 id="preflight">Preflight</h2>\n'
        "<p>Handshake's safety valves, checked before anything was written.</p>\n"
        + "\n".join(notices)
        + ("\n" if notices else "")
        + _table(("check", "result"), rows, ' id="preflight-table"')
    )


def _settings_section(manifest: Mapping[str, Any]) -> str:
    settings = manifest.get("settings", {})
    rows = [
        f'<tr><td>{_escape(label)}</td><td data-setting="{_escape(key)}">'
        f"{_escape(settings.get(key))}</td></tr>"
        for key, label in SETTINGS_ROWS
        if key in settings
    ]
    return '<h2 id="settings">Settings</h2>\n' + _table(("setting", "value"), rows)


def _shown_note(shown: int, total: int, file_name: str) -> str:
    if shown >= total:
        return ""
    return (
        f'<p class="note">The first {_number(shown)} of {_number(total)} rows are shown; '
        f"<code>{_escape(file_name)}</code> holds them all.</p>\n"
    )


def _transitions_section(data: ReportData, update_file: str) -> str:
    counts = [
        f"<tr><td>{_escape(label)}</td>"
        f'<td class="number" data-transitions="{kind}">'
        f"{_number(data.transition_counts.get(kind, 0))}</td></tr>"
        for kind, label in TRANSITION_KINDS
    ]
    counts.append(
        f'<tr><th>rows in the alumni update file</th><td class="number" '
        f'data-transitions="total">{_number(data.update_total)}</td></tr>'
    )
    heading = '<h2 id="transitions">Alumni transitions of this run</h2>\n'
    intro = (
        f"<p>The students whose Handshake record changes in <code>{_escape(update_file)}</code>"
        " (upload it by hand when the preflight warns about email changes).</p>\n"
    )
    summary = _table(("change", "students"), counts, ' id="transition-counts"')
    if not data.update_total:
        return heading + intro + summary + '\n<p class="ok">No record changes in this run.</p>'
    rows = [
        f"<tr><td>{_escape(item.username)}</td><td>{_escape(item.student_id)}</td>"
        f"<td>{_escape(item.change)}</td></tr>"
        for item in data.transitions()
    ]
    return (
        heading
        + intro
        + summary
        + "\n"
        + _shown_note(len(rows), data.update_total, update_file)
        + _table(("username", "student_id", "what changes"), rows, ' id="transition-table"')
    )


def _issues_section(data: ReportData) -> str:
    heading = '<h2 id="issues">Import issues</h2>\n'
    if not data.issue_total:
        return heading + '<p class="ok">No import issues.</p>'
    rows = [
        f'<tr class="{_escape(severity)}"><td class="severity">{_escape(severity)}</td>'
        f"<td><code>{_escape(code)}</code></td><td>{_escape(student_id)}</td>"
        f'<td>{_escape(username)}</td><td class="detail">{_escape(detail)}</td></tr>'
        for severity, code, student_id, username, detail in data.issue_rows
    ]
    return (
        heading
        + "<p>The rows of <code>import_issues.csv</code>, by student_id.</p>\n"
        + _shown_note(len(rows), data.issue_total, "import_issues.csv")
        + _table(
            ("severity", "code", "student_id", "username", "detail"), rows, ' id="issue-table"'
        )
    )


def render(manifest: Mapping[str, Any], data: ReportData) -> str:
    """The whole page: deterministic for the same manifest and rows."""
    as_of_date = _escape(manifest.get("as_of_date", ""))
    update_file = f"alumni_update_{_text(manifest.get('as_of_date', '')).replace('-', '')}.csv"
    sections = [
        _outcomes_section(manifest),
        _issues_summary_section(manifest),
        _transitions_section(data, update_file),
        _preflight_section(manifest),
        _files_section(manifest),
        _settings_section(manifest),
        _issues_section(data),
    ]
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">\n'
        '<meta name="referrer" content="no-referrer">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>Handshake sync report {as_of_date}</title>\n"
        f"<style>\n{STYLE}\n</style>\n</head>\n<body>\n"
        f'<h1>Handshake sync report <span id="as-of-date">{as_of_date}</span></h1>\n'
        '<p class="lead">What the nightly alumni sync did, and what needs a person. '
        "It names students by student_id and username only; keep it with the other "
        "files of this folder, readable by the career office only.</p>\n"
        + "\n".join(sections)
        + "\n</body>\n</html>\n"
    )
