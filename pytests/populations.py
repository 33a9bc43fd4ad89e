"""Random student populations and Handshake states, the five input files
written in many encodings, and the checks every export must pass.

Used by pytests/test_robustness.py. Three parts:

1. Hypothesis strategies (`population()`): a few students with one or two
   programme rows, their majors and some Handshake accounts, drawn from
   small pools so that collisions happen (shared usernames and addresses,
   tied programme starts, accounts holding another student's address), with
   valid and invalid values of every kind of SPEC section 5: unparseable and
   impossible dates, unknown statuses and levels, malformed and
   other-institution addresses, GPAs out of range, names too long or with
   digits, formula-like cells. `draw_populations()` draws several and
   `materialize()` gives each its own namespace (student_ids, usernames and
   the local part of every address), so that they share one dbt build
   without meeting. Cells that read `null` are drawn too: on DuckDB both
   input paths keep the text (dbt seed on PostgreSQL and Spark would load
   them as empty; check_inputs.py warns).

2. `write_inputs()`: the same rows as five CSV files, with or without a
   UTF-8 BOM, CRLF line ends, every field quoted, another column order,
   extra columns, spaces around every cell and the case of case-insensitive
   values swapped. The files mean the same whatever the encoding, so the
   export must be byte-identical.

3. `check_export()`: what must hold of any export, computed from the inputs
   independently of the models: every student exactly one outcome; the sync
   file holds exactly the exported students; no row would fail Handshake's
   checks once applied to its current record (end >= start, no currently
   attending with a past end date, presets only, valid dates and booleans);
   no username or address twice in a file; no address of another
   institution; no refused student in any file; no formula-like cell in the
   Handshake files, and none left unescaped in the reports.
"""

from __future__ import annotations

import csv
import io
import re
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

import check_inputs  # noqa: E402

AS_OF_DATE = date(2026, 6, 15)
LOOKBACK_DAYS = 180  # the alumni_lookback_days default
INPUT_FILES = tuple(check_inputs.REQUIRED_COLUMNS)
STUDENTS = "sis_students.csv"
MAJORS = "sis_student_majors.csv"
CLASS_LEVELS = "sis_class_levels.csv"
HANDSHAKE = "handshake_users.csv"
DOMAINS = "institution_email_domains.csv"
COLUMNS = check_inputs.REQUIRED_COLUMNS
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

# Handshake's preset lists (reference/handshake-import-format.md), written out
# here rather than read from the macro.
SCHOOL_YEARS = (
    "Freshman",
    "Sophomore",
    "Junior",
    "Senior",
    "First Year Community / Technical College",
    "Second Year Community / Technical College",
    "Certificate Program",
    "Masters",
    "Masters of Business Administration",
    "Accelerated Masters",
    "Doctorate",
    "Postdoctoral Studies",
    "Alumni",
)
EDUCATION_LEVELS = (
    "Associates",
    "Certificate",
    "Advanced Certificate",
    "Bachelors",
    "Masters",
    "Doctorate",
    "Postdoctoral Studies",
    "Non-Degree Seeking",
    "Technical Diploma",
)

# The school's own domains (each covers its subdomains) and the class-level
# mapping, shared by every population. "@" before a domain is accepted; XX
# maps to a school year Handshake does not know; jr repeats JR.
OWN_DOMAINS = ("example.edu", "@State.Example.org")
CLASS_LEVEL_ROWS = (
    ("FR", "Freshman"),
    ("SO", "Sophomore"),
    ("JR", "Junior"),
    ("jr", "Junior"),
    ("SR", "Senior"),
    ("GR", "masters"),
    ("MBA", "Masters of Business Administration"),
    ("PHD", "Doctorate"),
    ("XX", "Senior Year"),
)

# ---------------------------------------------------------------------------
# 1. Strategies. "{ns}" is replaced by the population's namespace, "{id}"
# by its two-digit number. Most values are valid: each field goes wrong
# now and then (`faulty`), so that every outcome and code shows up.

ONE_IN = 25  # a field is faulty about once in ONE_IN draws

USERNAME_FORMS = (
    "{ns}s{i}",
    "{ns}s{i}",
    "{ns}s{i}",
    "{ns}S{i}",
    " {ns}s{i} ",
    "{ns}s{i}é",
    "{ns}s{i},x",
    '{ns}"s{i}"',
    "{ns}s {i}",
    "{ns}<xss-probe>{i}",
)
FAULTY_USERNAMES = ("{ns}s0", "{ns}s1", "", "={ns}s{i}", "@{ns}s{i}", "-{ns}s{i}", "\t{ns}s{i}")
GOOD_NAMES = (
    "Ana",
    "José",
    "Zoë",
    "Anne-Marie",
    "O'Brien",
    "Mary Jane",
    "Nguyễn",
    "李",
    "Comma, Jr.",
    "Line\nBreak",
    '"Quoted"',
    "  Spaced  ",
    "A" * 50,
    "<script>alert(1)</script>",
    "Null",
)
FAULTY_NAMES = ("", "R2D2", "A" * 51, '=HYPERLINK("http://x","y")', "+1", "-dash", "@at", "\tTab")
OTHER_DOMAINS = ("other.edu", "notexample.edu", "example.edu.au", "ox.ac.uk", "mail.unimelb.edu.au")
PERSONAL_DOMAINS = ("gmail.com", "Gmail.com", "example.com", "outlook.co.uk")
OWN_DOMAINS_DRAWN = ("example.edu", "Example.EDU", "alumni.example.edu", "state.example.org")
FAULTY_ADDRESSES = (
    "{ns}s0@example.edu",
    "{ns}s1.p@gmail.com",
    "{ns}s{i}@",
    "{ns}s{i}.example.edu",
    "{ns}s{i}@@example.edu",
    "{ns} s{i}@example.edu",
    "={ns}s{i}@example.edu",
    "",
)
AUTH_IDENTIFIERS = ("", "sso-{ns}{i}", "SSO|{ns}{i}", "{ns}{i}@idp.example.edu")
FAULTY_AUTH_IDENTIFIERS = ("@sso", "-1", "\tsso", "=1+1")
CLASS_LEVELS_DRAWN = ("FR", "so", "JR", "SR", "Sr", "GR", "MBA", "PHD")
FAULTY_CLASS_LEVELS = ("XX", "ZZ", "")
EDUCATION_LEVELS_DRAWN = ("Bachelors", "bachelors", "MASTERS", "Doctorate", "Certificate")
FAULTY_EDUCATION_LEVELS = ("", "Bachelor of Arts", "BSc")
GPAS = ("", "3.5", "4", "4.0", "0", "3.14159", ".5", "2.999")
FAULTY_GPAS = ("4.0000001", "-1", "abc", "2,5", "5")
BOOLEANS = ("true", "false", "TRUE", "False", "yes", "0", "")
FAULTY_BOOLEANS = ("maybe",)
SCHOOL_YEARS_HELD = ("Senior", "Junior", "Alumni", "Freshman", "Masters", "alumni", "")
MAJOR_NAMES = ("History", "Art", "Biology", "Math, Applied", "Économie", "History ")
FAULTY_MAJOR_NAMES = ("=SUM(A1)", "-Minor", "@x")
INVALID_DATES = ("2026-02-30", "13/45/2026", "2026/06/01", "15.06.2026", "soon", "NULL", "")


def faulty(valid: st.SearchStrategy[Any], fault: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly `valid`, about once in ONE_IN draws `fault`."""
    return st.sampled_from((False,) * (ONE_IN - 1) + (True,)).flatmap(
        lambda is_faulty: fault if is_faulty else valid
    )


def day(offset: int, style: str = "iso") -> str:
    when = AS_OF_DATE + timedelta(days=offset)
    return when.isoformat() if style == "iso" else when.strftime("%m/%d/%Y")


@st.composite
def dates(draw: Callable[..., Any], low: int, high: int) -> str:
    """A valid date cell (ISO or US) between AS_OF_DATE + low and + high days;
    sometimes an invalid or blank one."""
    style = draw(st.sampled_from(("iso", "iso", "us")))
    valid = st.integers(low, high).map(lambda offset: day(offset, style))
    return draw(faulty(valid, st.sampled_from(INVALID_DATES)))


def pick(choices: Sequence[str], faults: Sequence[str]) -> st.SearchStrategy[str]:
    return faulty(st.sampled_from(choices), st.sampled_from(faults))


@st.composite
def address(draw: Callable[..., Any], local: str, domains: Sequence[str]) -> str:
    text = f"{local}@{draw(st.sampled_from(domains))}"
    # Upper case around the placeholders, which materialize() fills in.
    shouted = text.upper().replace("{NS}", "{ns}").replace("{I}", "{i}")
    text = draw(st.sampled_from((text, text, shouted, f" {text} ")))
    return draw(faulty(st.just(text), st.sampled_from(FAULTY_ADDRESSES)))


@st.composite
def programme_rows(draw: Callable[..., Any], index: int) -> list[dict[str, str]]:
    """A student's programme rows: one, or an earlier programme and a newer one
    (a returning student), sometimes starting the same day."""
    username = draw(faulty(st.sampled_from(USERNAME_FORMS), st.sampled_from(FAULTY_USERNAMES)))
    common = {
        "student_id": f"{{id}}{index:03d}",
        "username": username.replace("{i}", str(index)),
        "auth_identifier": draw(pick(AUTH_IDENTIFIERS, FAULTY_AUTH_IDENTIFIERS)),
        "first_name": draw(pick(GOOD_NAMES, FAULTY_NAMES)),
        "last_name": draw(pick(GOOD_NAMES, FAULTY_NAMES)),
        "campus_email": draw(
            faulty(address("{ns}s{i}", OWN_DOMAINS_DRAWN), address("{ns}s{i}", OTHER_DOMAINS))
        ),
        "personal_email": draw(
            st.one_of(st.just(""), address("{ns}s{i}.p", PERSONAL_DOMAINS + OTHER_DOMAINS[:1]))
        ),
        "sso_enabled": draw(pick(BOOLEANS, FAULTY_BOOLEANS)),
    }
    programmes = draw(st.sampled_from((1, 1, 1, 2)))
    rows = []
    for number in range(programmes):
        newest = number == programmes - 1
        start = draw(dates(-3000, -400) if not newest or programmes == 1 else dates(-300, 30))
        if programmes == 1:
            start = draw(dates(-3000, 30))
        if number == 1 and draw(st.sampled_from((False,) * 5 + (True,))):
            start = rows[0]["program_start_date"]  # a tie: ambiguous_primary_program
        status = draw(
            st.sampled_from(("enrolled", "graduated", "graduated") if newest else ("graduated",))
            if draw(st.sampled_from((True,) * 3 + (False,)))
            else st.sampled_from(("on_leave", "withdrawn", "withdrawn", "Enrolled ", "GRADUATED"))
        )
        status = draw(faulty(st.just(status), st.sampled_from(("expelled", ""))))
        graduated_on = draw(
            st.one_of(dates(-170, 0), dates(-3000, -185), dates(1, 300))
            if "graduat" in status.lower()
            else st.just("")
        )
        rows.append(
            {
                **common,
                "class_level": draw(pick(CLASS_LEVELS_DRAWN, FAULTY_CLASS_LEVELS)),
                "education_level": draw(pick(EDUCATION_LEVELS_DRAWN, FAULTY_EDUCATION_LEVELS)),
                "cumulative_gpa": draw(pick(GPAS, FAULTY_GPAS)),
                "program_start_date": start,
                "expected_graduation_date": draw(
                    st.one_of(st.just(graduated_on), dates(-200, 1500), st.just(""))
                ),
                "graduation_date": graduated_on,
                "enrollment_status": status,
                "campus_email_expires_on": draw(st.one_of(st.just(""), dates(-300, 400))),
            }
        )
    return [{key: value.replace("{i}", str(index)) for key, value in row.items()} for row in rows]


@st.composite
def held_record(draw: Callable[..., Any], username: str, *emails: str) -> dict[str, str]:
    """Handshake's record for a username: mostly plausible, sometimes stale or odd.
    `emails`: the student's own addresses (campus, personal)."""
    others = ("{ns}s0@example.edu", "{ns}h@gmail.com", "+{ns}h@gmail.com", "{ns}h@other.edu", "")
    return {
        "username": username,
        "email_address": draw(st.sampled_from((*emails, *emails, *others))),
        "school_year_name": draw(st.sampled_from(SCHOOL_YEARS_HELD)),
        "primary_education:start_date": draw(dates(-3000, 30)),
        "primary_education:end_date": draw(st.one_of(st.just(""), dates(-3000, 1500))),
        "primary_education:currently_attending": draw(
            st.sampled_from(("TRUE", "FALSE", "", "true"))
        ),
        "disabled": draw(st.sampled_from(("FALSE", "", "TRUE", "FALSE"))),
    }


@dataclass
class Population:
    """Rows of the SIS and Handshake files, with "{ns}" and "{id}" placeholders."""

    students: list[dict[str, str]]
    majors: list[dict[str, str]]
    handshake: list[dict[str, str]]


@st.composite
def population(draw: Callable[..., Any]) -> Population:
    count = draw(st.integers(2, 9))
    students = [row for index in range(count) for row in draw(programme_rows(index))]
    majors = [
        {
            "student_id": f"{{id}}{draw(st.integers(0, count)):03d}",
            "major_name": draw(pick(MAJOR_NAMES, FAULTY_MAJOR_NAMES)),
            "is_primary": draw(st.sampled_from(("true", "false", "", "TRUE", "yes"))),
        }
        for _ in range(draw(st.integers(0, count * 2)))
    ]
    handshake: dict[str, dict[str, str]] = {}
    for row in students:
        username = row["username"].strip(" ")
        if username and username not in handshake and draw(st.booleans()):
            emails = [
                row[column].strip(" ").lower() for column in ("campus_email", "personal_email")
            ]
            handshake[username] = draw(held_record(username, *filter(None, emails)))
    for number in range(draw(st.integers(0, 2))):  # accounts with no SIS row
        username = f"{{ns}}h{number}"
        email = draw(st.sampled_from(("{ns}s2@example.edu", "{ns}s3.p@gmail.com", "{ns}h@x.com")))
        handshake[username] = draw(held_record(username, email))
    return Population(students, majors, list(handshake.values()))


def draw_populations(count: int, seed: int) -> list[Population]:
    """`count` populations drawn by hypothesis from `seed` (no shrinking: the
    build that checks them runs once for all)."""
    drawn: list[Population] = []

    @hypothesis_seed(seed)
    @settings(
        max_examples=count,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(population())
    def collect(drawn_population: Population) -> None:
        drawn.append(drawn_population)

    collect()
    return drawn[:count]


# ---------------------------------------------------------------------------
# Inputs: the rows of the five files


@dataclass
class Inputs:
    """The rows of the five input files (header = the required columns)."""

    rows: dict[str, list[dict[str, str]]] = field(
        default_factory=lambda: {name: [] for name in INPUT_FILES}
    )

    def add(self, other: Inputs) -> Inputs:
        for name in INPUT_FILES:
            self.rows[name] += other.rows[name]
        return self


def shared_inputs() -> Inputs:
    inputs = Inputs()
    inputs.rows[CLASS_LEVELS] = [
        {"class_level": code, "school_year_name": year} for code, year in CLASS_LEVEL_ROWS
    ]
    inputs.rows[DOMAINS] = [{"domain": domain} for domain in OWN_DOMAINS]
    return inputs


def materialize(population: Population, number: int) -> Inputs:
    """The population's rows with its namespace: usernames and local parts
    start with p<number>, student_ids with <number> (two digits)."""

    def fill(row: dict[str, str]) -> dict[str, str]:
        return {
            key: value.replace("{ns}", f"p{number}").replace("{id}", f"{number:02d}")
            for key, value in row.items()
        }

    inputs = Inputs()
    inputs.rows[STUDENTS] = [fill(row) for row in population.students]
    inputs.rows[MAJORS] = [fill(row) for row in population.majors]
    inputs.rows[HANDSHAKE] = [fill(row) for row in population.handshake]
    return inputs


def student(student_id: str, username: str, /, **values: str) -> dict[str, str]:
    """A valid enrolled student (for hand-made cases); `values` override."""
    row = {
        "student_id": student_id,
        "username": username,
        "auth_identifier": f"{username}-sso",
        "first_name": "Robin",
        "last_name": "Fixture",
        "campus_email": f"{username}@example.edu",
        "personal_email": "",
        "class_level": "JR",
        "education_level": "Bachelors",
        "cumulative_gpa": "3.2",
        "program_start_date": "2024-09-01",
        "expected_graduation_date": "2028-05-15",
        "graduation_date": "",
        "enrollment_status": "enrolled",
        "campus_email_expires_on": "",
        "sso_enabled": "true",
    }
    row.update(values)
    return row


# Formula injection: each text column the files carry, with each prefix.
FORMULA_COLUMNS = (
    "username",
    "campus_email",
    "auth_identifier",
    "first_name",
    "last_name",
    "major_name",
)
# The column each case is named by in the unsafe_value detail.
FORMULA_DETAIL_NAMES = {"campus_email": "email_address"}
SENTINELS = ("Sentinelfirstname", "Sentinellastname", "sentinel.mailbox@example.edu")


def formula_cases() -> Inputs:
    """One student per (column, prefix), everything else valid: each must be
    rejected with unsafe_value; F99 is the control, exported. F98 carries the
    sentinel name and address that no log or report may print."""
    inputs = Inputs()
    for column_number, column in enumerate(FORMULA_COLUMNS):
        for prefix_number, prefix in enumerate(FORMULA_PREFIXES):
            student_id = f"F{column_number}{prefix_number}"
            username = f"fx{column_number}{prefix_number}"
            row = student(student_id, username)
            if column == "username":
                row["username"] = prefix + username
            elif column == "campus_email":
                row["campus_email"] = f"{prefix}{username}@example.edu"
            elif column != "major_name":
                row[column] = prefix + "Value"
            inputs.rows[STUDENTS].append(row)
            major = prefix + "History" if column == "major_name" else "History"
            inputs.rows[MAJORS].append(
                {"student_id": student_id, "major_name": major, "is_primary": "true"}
            )
    inputs.rows[STUDENTS].append(student("F99", "fxcontrol"))
    first, last, address = SENTINELS
    inputs.rows[STUDENTS].append(
        student(
            "F98",
            "fxsentinel",
            first_name=first,
            last_name=last,
            campus_email=address,
            enrollment_status="graduated",
            graduation_date="2026-06-01",
            expected_graduation_date="2026-06-01",
            campus_email_expires_on="2026-06-20",
            personal_email="sentinel.personal@gmail.com",
            sso_enabled="false",
        )
    )
    return inputs


# The codes of SPEC section 5 and their severity.
SEVERITIES = {
    **dict.fromkeys(
        (
            "missing_username",
            "duplicate_username",
            "missing_first_name",
            "invalid_name",
            "invalid_date",
            "unknown_enrollment_status",
            "unknown_education_level",
            "end_before_start",
            "missing_graduation_date",
            "ambiguous_primary_program",
            "unknown_class_level",
            "invalid_email",
            "other_institution_email",
            "duplicate_email",
            "email_in_use",
            "unsafe_value",
        ),
        "error",
    ),
    **dict.fromkeys(
        ("personal_email_unusable", "invalid_gpa", "expected_graduation_past"), "warning"
    ),
}
# One hand-made student per code of SPEC section 5 (unsafe_value: the
# formula cases): student_id -> (the code it must raise, overrides).
CATALOGUE: dict[str, tuple[str, dict[str, str]]] = {
    "C01": ("missing_username", {"username": ""}),
    "C02": ("duplicate_username", {"username": "catshared"}),
    "C03": ("duplicate_username", {"username": "catshared"}),
    "C04": ("missing_first_name", {"first_name": ""}),
    "C05": ("invalid_name", {"last_name": "Smith3"}),
    "C06": ("invalid_date", {"expected_graduation_date": "2027-02-30"}),
    "C07": ("unknown_enrollment_status", {"enrollment_status": "suspended"}),
    "C08": ("unknown_education_level", {"education_level": "Bachelor of Arts"}),
    "C09": ("end_before_start", {"expected_graduation_date": "05/01/2023"}),
    "C10": ("missing_graduation_date", {"enrollment_status": "graduated"}),
    "C11": ("ambiguous_primary_program", {}),
    "C12": ("unknown_class_level", {"class_level": "ZZ"}),
    "C13": ("invalid_email", {"campus_email": "cat13@"}),
    "C14": ("other_institution_email", {"campus_email": "cat14@other.edu"}),
    "C15": ("duplicate_email", {"campus_email": "catshared@example.edu"}),
    "C16": ("duplicate_email", {"campus_email": "CatShared@Example.edu"}),
    "C17": ("email_in_use", {}),
    "C18": (
        "personal_email_unusable",
        {
            "enrollment_status": "graduated",
            "graduation_date": "2026-06-01",
            "expected_graduation_date": "2026-06-01",
            "campus_email_expires_on": "2026-06-20",
        },
    ),
    "C19": ("invalid_gpa", {"cumulative_gpa": "5"}),
    "C20": ("expected_graduation_past", {"expected_graduation_date": "2026-01-15"}),
    # Five students on one username: each detail names three others "and 1 more".
    "C21": ("duplicate_username", {"username": "catshared"}),
    "C22": ("duplicate_username", {"username": "catshared"}),
    "C23": ("duplicate_username", {"username": "catshared"}),
}


def code_catalogue() -> Inputs:
    """CATALOGUE as rows: C11 has two programmes starting the same day; C17's
    address is held by another Handshake account."""
    inputs = Inputs()
    for student_id, (_, values) in CATALOGUE.items():
        username = "cat" + student_id[1:]
        inputs.rows[STUDENTS].append(student(student_id, username, **values))
    inputs.rows[STUDENTS].append(
        student("C11", "cat11", education_level="Masters", class_level="GR")
    )
    inputs.rows[HANDSHAKE].append(
        {
            "username": "catholder",
            "email_address": "cat17@example.edu",
            "school_year_name": "Alumni",
            "primary_education:start_date": "2018-09-01",
            "primary_education:end_date": "2022-05-15",
            "primary_education:currently_attending": "FALSE",
            "disabled": "",
        }
    )
    return inputs


def formula_case(student_id: str) -> tuple[str, str] | None:
    """(column, prefix) of a formula case's student_id, else None."""
    match = re.fullmatch(r"F(\d)(\d)", student_id)
    if not match or int(match[1]) >= len(FORMULA_COLUMNS):
        return None
    return FORMULA_COLUMNS[int(match[1])], FORMULA_PREFIXES[int(match[2])]


# ---------------------------------------------------------------------------
# 2. Writing the files


@dataclass(frozen=True)
class Encoding:
    """How the five files are written; every choice means the same rows."""

    bom: bool = False
    newline: str = "\n"
    quote_all: bool = False
    column_order: str = "as-is"  # as-is, reversed, rotated
    extra_columns: bool = False
    padded: bool = False  # spaces around every cell (staging trims them)
    swapped_case: bool = False  # of values matched case-insensitively


CLEAN = Encoding()
EVERY_VARIETY = Encoding(
    bom=True,
    newline="\r\n",
    quote_all=True,
    column_order="reversed",
    extra_columns=True,
    padded=True,
    swapped_case=True,
)
EXTRA_COLUMNS = {
    "notes": ('free text, with "quotes"', "line one\nline two", "=cmd|' /C calc'!A0", ""),
    "legacy id": ("00017", "17", "", "1e5"),
}

# Columns whose values are compared case-insensitively, so swapping case
# changes nothing; some only when valid (an invalid one is quoted in details).
ANY_CASE_COLUMNS = {
    STUDENTS: ("campus_email", "personal_email", "enrollment_status", "sso_enabled"),
    MAJORS: ("is_primary",),
    CLASS_LEVELS: ("class_level",),
    HANDSHAKE: (
        "email_address",
        "primary_education:currently_attending",
        "disabled",
    ),
    DOMAINS: ("domain",),
}


def _known_class_levels() -> set[str]:
    return {code.lower() for code, year in CLASS_LEVEL_ROWS if canonical(year, SCHOOL_YEARS)}


def _swapped(name: str, column: str, value: str) -> str:
    if column in ANY_CASE_COLUMNS.get(name, ()):
        return value.swapcase()
    valid = (
        (name == STUDENTS and column == "education_level" and canonical(value, EDUCATION_LEVELS))
        or (name == STUDENTS and column == "class_level" and clean(value) in _known_class_levels())
        or (
            name == CLASS_LEVELS and column == "school_year_name" and canonical(value, SCHOOL_YEARS)
        )
    )
    return value.swapcase() if valid else value


def _ordered(columns: Sequence[str], order: str) -> list[str]:
    if order == "reversed":
        return list(reversed(columns))
    if order == "rotated":
        return [*columns[len(columns) // 2 :], *columns[: len(columns) // 2]]
    return list(columns)


def render(name: str, rows: Sequence[dict[str, str]], encoding: Encoding = CLEAN) -> bytes:
    """One input file's bytes."""
    columns = _ordered(COLUMNS[name], encoding.column_order)
    extra = list(EXTRA_COLUMNS) if encoding.extra_columns else []
    header = [*columns[:1], *extra[:1], *columns[1:], *extra[1:]]
    buffer = io.StringIO(newline="")
    minimal = csv.writer(buffer, lineterminator=encoding.newline)
    quote_all = csv.writer(buffer, lineterminator=encoding.newline, quoting=csv.QUOTE_ALL)
    writer = quote_all if encoding.quote_all else minimal
    writer.writerow(header)
    for number, row in enumerate(rows):
        cells = []
        for column in header:
            if column in EXTRA_COLUMNS:
                values = EXTRA_COLUMNS[column]
                cells.append(values[number % len(values)])
                continue
            value = row[column]
            if encoding.swapped_case:
                value = _swapped(name, column, value)
            if encoding.padded:
                value = f"  {value} "
            cells.append(value)
        # csv.writer (before Python 3.13) leaves a lone CR unquoted with "\n"
        # line ends; such rows are written fully quoted.
        (quote_all if any("\r" in cell for cell in cells) else writer).writerow(cells)
    return (b"\xef\xbb\xbf" if encoding.bom else b"") + buffer.getvalue().encode("utf-8")


def write_inputs(directory: Path, inputs: Inputs, encoding: Encoding = CLEAN) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for name in INPUT_FILES:
        (directory / name).write_bytes(render(name, inputs.rows[name], encoding))


# ---------------------------------------------------------------------------
# 3. The checks of an export


def clean(value: str | None) -> str:
    """As staging reads a cell: spaces (not tabs) trimmed."""
    return (value or "").strip(" ")


def canonical(value: str, presets: Iterable[str]) -> str | None:
    lowered = clean(value).lower()
    return next((preset for preset in presets if preset.lower() == lowered), None)


def parse_date(value: str | None) -> date | None:
    """YYYY-MM-DD or MM/DD/YYYY, strictly, a real calendar day; else None."""
    text = clean(value)
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return date(int(text[:4]), int(text[5:7]), int(text[8:10]))
        if re.fullmatch(r"\d{2}/\d{2}/\d{4}", text):
            return date(int(text[6:10]), int(text[:2]), int(text[3:5]))
    except ValueError:
        return None
    return None


def parse_boolean(value: str | None) -> bool | None:
    text = clean(value).lower()
    if text in ("true", "t", "yes", "y", "1"):
        return True
    if text in ("false", "f", "no", "n", "0"):
        return False
    return None


def own_domains(inputs: Inputs) -> set[str]:
    return {clean(row["domain"]).lower().lstrip("@") for row in inputs.rows[DOMAINS]} - {""}


def is_valid_address(address: str) -> bool:
    return re.fullmatch(r"[a-z0-9._%+-]+@[a-z0-9-]+([.][a-z0-9-]+)+", address) is not None


def is_other_institution(address: str, own: set[str]) -> bool:
    domain = address.rpartition("@")[2]
    academic = re.search(r"(^|[.])edu$", domain) or re.search(
        r"(^|[.])(edu|ac)[.][a-z]{2}$", domain
    )
    is_own = any(domain == mine or domain.endswith("." + mine) for mine in own)
    return bool(academic) and not is_own


@dataclass
class HeldRecord:
    start: date | None
    end: date | None
    attending: bool | None
    email: str = ""
    is_alumni: bool = False
    is_disabled: bool = False


def handshake_records(inputs: Inputs) -> dict[str, HeldRecord]:
    records = {}
    for row in inputs.rows[HANDSHAKE]:
        username = clean(row["username"])
        if username:
            records[username] = HeldRecord(
                parse_date(row["primary_education:start_date"]),
                parse_date(row["primary_education:end_date"]),
                parse_boolean(row["primary_education:currently_attending"]),
                clean(row["email_address"]).lower(),
                clean(row["school_year_name"]).lower() == "alumni",
                parse_boolean(row["disabled"]) is True,
            )
    return records


def csv_rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))


def records(data: bytes) -> list[dict[str, str]]:
    rows = csv_rows(data)
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def _applied(sent: str, held: date | None) -> date | None:
    if sent == "**CLEAR**":
        return None
    return date.fromisoformat(sent) if sent else held


def handshake_row_problems(
    row: dict[str, str], held: HeldRecord | None, own: set[str]
) -> list[str]:
    """Why Handshake would reject this row once applied to its record."""
    problems = []
    for column in ("primary_education:start_date", "primary_education:end_date"):
        if row[column] not in ("", "**CLEAR**") and not re.fullmatch(
            r"\d{4}-\d{2}-\d{2}", row[column]
        ):
            return [f"{column} is not YYYY-MM-DD"]
    empty = HeldRecord(None, None, None)
    start = _applied(row["primary_education:start_date"], (held or empty).start)
    end = _applied(row["primary_education:end_date"], (held or empty).end)
    attending_cell = row["primary_education:currently_attending"]
    attending = (held or empty).attending if attending_cell == "" else attending_cell == "TRUE"
    if start and end and end < start:
        problems.append("end_date before start_date once applied")
    if attending and end and end < AS_OF_DATE:
        problems.append("currently attending with an end date before as_of_date once applied")
    if row["school_year_name"] not in SCHOOL_YEARS:
        problems.append("school_year_name is not a preset")
    if row["primary_education:education_level_name"] not in EDUCATION_LEVELS:
        problems.append("education_level_name is not a preset")
    if attending_cell not in ("TRUE", "FALSE", ""):
        problems.append("currently_attending is not TRUE/FALSE")
    if row["disabled"] not in ("TRUE", "FALSE", ""):
        problems.append("disabled is not TRUE/FALSE/blank")
    gpa = row["primary_education:cumulative_gpa"]
    if gpa and not (re.fullmatch(r"\d\.\d\d", gpa) and 0 <= float(gpa) <= 4):
        problems.append("cumulative_gpa is not a 0-4 number with 2 decimals")
    address = row["email_address"]
    if address != address.lower() or not is_valid_address(address):
        problems.append("email_address is not a valid lower-case address")
    elif is_other_institution(address, own):
        problems.append("email_address belongs to another institution")
    unsafe = [column for column, cell in row.items() if cell.startswith(FORMULA_PREFIXES)]
    if unsafe:
        problems.append(f"formula-like cells: {', '.join(unsafe)}")
    return problems


@dataclass
class Export:
    """The files of one export, read back."""

    files: dict[str, bytes]
    users_file: str
    update_file: str


def check_export(inputs: Inputs, export: Export) -> list[str]:
    """Every property of SPEC sections 4-6 that must hold of any export; an
    empty list when all hold. Messages name students by student_id."""
    problems: list[str] = []
    own = own_domains(inputs)
    held = handshake_records(inputs)
    sync = records(export.files[export.users_file])
    update = records(export.files[export.update_file])
    issues = records(export.files["import_issues.csv"])
    outcomes = records(export.files["student_outcomes.csv"])
    notices = records(export.files["alumni_password_notices.csv"])

    # Conservation: every distinct student_id exactly one outcome, with a reason.
    student_ids = {clean(row["student_id"]) for row in inputs.rows[STUDENTS]} - {""}
    counted = Counter(row["student_id"] for row in outcomes)
    if set(counted) != student_ids:
        lost = sorted(student_ids - set(counted))[:5]
        extra = sorted(set(counted) - student_ids)[:5]
        problems.append(f"conservation: students without an outcome {lost}, unknown {extra}")
    problems += [f"{sid}: {n} outcomes" for sid, n in counted.items() if n > 1]
    for row in outcomes:
        if row["outcome"] not in ("exported", "skipped", "rejected") or not row["reason"]:
            problems.append(f"{row['student_id']}: outcome {row['outcome']!r} without a reason")

    # Errors never reach the files; warnings only for exported rows.
    outcome_of = {row["student_id"]: row["outcome"] for row in outcomes}
    errors = {row["student_id"] for row in issues if row["severity"] == "error"}
    warned = {row["student_id"] for row in issues if row["severity"] == "warning"}
    for student_id in sorted(errors):
        if outcome_of.get(student_id) != "rejected":
            problems.append(f"{student_id}: has an error but outcome {outcome_of.get(student_id)}")
    for student_id, outcome in outcome_of.items():
        if outcome == "rejected" and student_id not in errors:
            problems.append(f"{student_id}: rejected without an error issue")
    for student_id in sorted(warned):
        if outcome_of.get(student_id) != "exported":
            problems.append(f"{student_id}: warning on a row that is not exported")

    # The sync file holds exactly the exported students; the update file and
    # the password notices only rows of the sync file.
    exported = sorted(
        unescaped(row["username"]) for row in outcomes if row["outcome"] == "exported"
    )
    refused = {unescaped(row["username"]) for row in outcomes if row["outcome"] != "exported"} - {
        ""
    }
    sent = sorted(row["username"] for row in sync)
    if sent != exported:
        problems.append(
            f"sync file usernames differ from the exported students' "
            f"({len(sent)} rows, {len(exported)} exported)"
        )
    sync_by_username = {row["username"]: row for row in sync}
    for row in update:
        if sync_by_username.get(row["username"]) != row:
            problems.append(f"alumni update row {row['username']!r} differs from its sync row")
    update_usernames = {row["username"] for row in update}
    for row in notices:
        if unescaped(row["username"]) not in update_usernames:
            problems.append("a password notice for someone not in the alumni update file")

    # Every Handshake file: valid once applied, unique, byte-ordered, no
    # refused student, no formula-like cell.
    for label, rows in (("sync file", sync), ("alumni update file", update)):
        usernames = [row["username"] for row in rows]
        if usernames != sorted(usernames, key=lambda text: text.encode("utf-8")):
            problems.append(f"{label}: not in username byte order")
        for what, values in (
            ("username", usernames),
            ("email_address", [row["email_address"].lower() for row in rows]),
        ):
            repeated = [value for value, n in Counter(values).items() if n > 1]
            if repeated:
                problems.append(f"{label}: {len(repeated)} repeated {what}")
        for row in rows:
            if row["username"] in refused:
                problems.append(f"{label}: a refused student's username is in the file")
            for problem in handshake_row_problems(row, held.get(row["username"]), own):
                problems.append(f"{label}: row {row['username']!r}: {problem}")

    # Students with one programme row: a blank or invalid start, or (unless
    # withdrawn) any other date that does not parse, or a graduate without a
    # conferral date, is rejected.
    rows_of: dict[str, list[dict[str, str]]] = {}
    for row in inputs.rows[STUDENTS]:
        rows_of.setdefault(clean(row["student_id"]), []).append(row)
    for student_id, rows in rows_of.items():
        if not student_id or len(rows) != 1:
            continue
        row, status = rows[0], clean(rows[0]["enrollment_status"]).lower()
        dates_invalid = [
            column
            for column in ("expected_graduation_date", "graduation_date", "campus_email_expires_on")
            if clean(row[column]) and parse_date(row[column]) is None
        ]
        must_reject = parse_date(row["program_start_date"]) is None or (
            status != "withdrawn"
            and (dates_invalid or (status == "graduated" and not clean(row["graduation_date"])))
        )
        if must_reject and outcome_of.get(student_id) != "rejected":
            problems.append(f"{student_id}: a date error but outcome {outcome_of.get(student_id)}")

    # Details that name other students name at most three, then "and N more".
    for row in issues:
        if row["code"] in ("duplicate_username", "duplicate_email"):
            named = row["detail"].rpartition("student_id ")[2].split(" and ")[0].split(", ")
            if len(named) > 3 or row["student_id"] in named or not set(named) <= student_ids:
                problems.append(f"{row['student_id']}: {row['code']} detail names {named}")

    # Handshake's own rules across accounts (no disable policy is set here).
    holders = {record.email: name for name, record in held.items() if record.email}
    lookback_start = AS_OF_DATE - timedelta(days=LOOKBACK_DAYS)
    for row in sync:
        username, record = row["username"], held.get(row["username"])
        holder = holders.get(row["email_address"].lower())
        if holder is not None and holder != username:
            problems.append(f"sync file: row {username!r} sends an address another account holds")
        if row["disabled"] == "TRUE" or (row["disabled"] == "FALSE" and not record):
            problems.append(f"sync file: row {username!r} sets disabled {row['disabled']}")
        is_alumni_row = row["school_year_name"] == "Alumni"
        if is_alumni_row != (row["primary_education:currently_attending"] == "FALSE"):
            problems.append(f"sync file: row {username!r}: Alumni iff not currently attending")
        if is_alumni_row and row["primary_education:end_date"] > AS_OF_DATE.isoformat():
            problems.append(f"sync file: row {username!r}: an alumnus who graduates later")
        if (
            is_alumni_row
            and record is None
            and row["primary_education:end_date"] < str(lookback_start)
        ):
            problems.append(f"sync file: row {username!r}: an older alumnus created")
    for row in notices:
        record = held.get(unescaped(row["username"]))
        if record is not None and record.is_alumni:
            problems.append("a password notice for someone Handshake holds as Alumni already")
        if sync_by_username.get(unescaped(row["username"]), {}).get("disabled") == "TRUE":
            problems.append("a password notice for a disabled account")

    # Reports: nothing a spreadsheet would run.
    for name in ("import_issues.csv", "student_outcomes.csv", "alumni_password_notices.csv"):
        for row in csv_rows(export.files[name])[1:]:
            if any(cell.startswith(FORMULA_PREFIXES) for cell in row):
                problems.append(f"{name}: a formula-like cell is not escaped")
    return problems


def unescaped(cell: str) -> str:
    """A report cell as the model wrote it (the export adds ' before a formula)."""
    if cell.startswith("'") and cell[1:].startswith(FORMULA_PREFIXES):
        return cell[1:]
    return cell
