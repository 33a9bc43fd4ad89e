"""Generate realistic, deterministic input files of any size (SPEC section 2).

    python benchmarks/generate_students.py --students N --seed S --output-dir DIR
                                        [--as-of-date 2026-06-15]

Writes the five input files into DIR: sis_students.csv, sis_student_majors.csv,
sis_class_levels.csv, handshake_users.csv and institution_email_domains.csv,
in exactly the formats the project reads. The same arguments always give
byte-identical files (one seeded random generator, consumed in a fixed order).

The students are made up and form a realistic mix for `--as-of-date` (the run
date the benchmark uses): enrolled and on-leave students, graduates of the last
lookback period and older alumni, degrees conferred in the future, overdue
students, returning students with two programme rows (a bachelor's, then a new
programme, while Handshake holds them as Alumni), withdrawn students, and a
small share of each kind of bad row of SPEC section 5. Handshake's state holds
most of them: some already Alumni, some missed transitions (graduated years ago,
Handshake still says Senior), some disabled, plus accounts with no SIS row.

Rows are written a batch at a time, so memory stays flat whatever N is
(10 million students need well under 100 MB).
"""

from __future__ import annotations

import argparse
import random
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import TextIO

EXIT_OK = 0
EXIT_USAGE = 2
BATCH_STUDENTS = 20_000
DEFAULT_AS_OF_DATE = "2026-06-15"
LOOKBACK_DAYS = 180

STUDENT_COLUMNS = (
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
)
MAJOR_COLUMNS = ("student_id", "major_name", "is_primary")
HANDSHAKE_COLUMNS = (
    "username",
    "email_address",
    "school_year_name",
    "primary_education:start_date",
    "primary_education:end_date",
    "primary_education:currently_attending",
    "disabled",
)
CLASS_LEVELS = (
    ("FR", "Freshman"),
    ("SO", "Sophomore"),
    ("JR", "Junior"),
    ("SR", "Senior"),
    ("GR", "Masters"),
    ("MBA", "Masters of Business Administration"),
    ("PHD", "Doctorate"),
    ("CERT", "Certificate Program"),
    ("AM", "Accelerated Masters"),
    ("PD", "Postdoctoral Studies"),
)
SCHOOL_YEAR = dict(CLASS_LEVELS)
DOMAINS = ("example.edu", "examplestate.edu")


def _words(text: str) -> tuple[str, ...]:
    """A word list written as one string (easier to read than a column of literals)."""
    return tuple(text.split())


FIRST_NAMES = _words(
    "Aaliyah Aarav Abigail Ada Adrian Aisha Alejandro Alex Alice Amara Amir Ana Andre "
    "Angela Anika Arjun Ava Ben Bianca Caleb Camila Carlos Chen Chloe Chris Clara Daniel "
    "Darius Dev Diego Dmitri Elena Eli Emeka Emily Emma Ethan Fatima Felix Fiona Gabriel "
    "Grace Hana Hannah Hassan Ibrahim Imani Isaac Isabel Ivan Jamal James Javier Jin Jonah "
    "Jordan Joseph Julia Kai Kaito Keisha Kenji Kiara Kofi Laila Lara Layla Leo Liam Lina "
    "Lucas Luis Maya Mei Mia Miguel Mohammed Nadia Naomi Nia Noah Nora Olivia Omar Owen "
    "Priya Rafael Ravi Rosa Ryan Sam Sara Sebastian Sofia Tariq Theo Uma Victor Wei Yara "
    "Yusuf Zainab Zoe"
)
LAST_NAMES = _words(
    "Abara Adams Ahmed Alvarez Anderson Bailey Baker Banerjee Becker Bennett Brooks Brown "
    "Campbell Castillo Chang Chen Clark Cohen Cruz Das Davis Diaz Dubois Edwards Evans "
    "Fernandez Fischer Flores Garcia Gomez Gonzalez Green Gupta Hall Harris Hernandez Hill "
    "Hoang Ibrahim Ito Jackson Jensen Johnson Jones Kaur Khan Kim Kowalski Kumar Lee Lewis "
    "Lopez Martin Martinez Mensah Miller Mitchell Moore Morales Murphy Nakamura Nguyen "
    "Novak Okafor Olsen Ortiz Park Patel Perez Petrov Phillips Quinn Ramirez Reyes Rivera "
    "Roberts Robinson Rodriguez Rossi Sanchez Sato Schmidt Scott Shah Silva Singh Smith "
    "Suzuki Tanaka Taylor Thomas Torres Tran Turner Walker Wang Williams Wilson Wong Wright "
    "Xu Yamamoto Young Zhang"
)
MAJORS = (
    "Accounting",
    "Anthropology",
    "Architecture",
    "Art History",
    "Biochemistry",
    "Biology",
    "Business",
    "Chemistry",
    "Civil Engineering",
    "Classics",
    "Computer Science",
    "Dance",
    "Data Science",
    "Economics",
    "Education",
    "English",
    "Environmental Science",
    "Finance",
    "French",
    "Geology",
    "History",
    "Journalism",
    "Linguistics",
    "Marketing",
    "Mathematics",
    "Mechanical Engineering",
    "Music",
    "Neuroscience",
    "Nursing",
    "Philosophy",
    "Physics",
    "Political Science",
    "Psychology",
    "Public Health",
    "Sociology",
    "Spanish",
    "Statistics",
    "Theatre",
)
FREE_MAIL = ("gmail.com", "yahoo.com", "outlook.com", "icloud.com", "proton.me", "hotmail.com")
OTHER_INSTITUTIONS = ("stateu.edu", "student.unimelb.edu.au", "ox.ac.uk", "mit.edu")

# The population: (kind, share). The bad kinds (one defect each, SPEC section
# 5) share the rest, about 3 % of the students, taking turns.
GOOD_KINDS = (
    ("enrolled", 0.620),
    ("on_leave", 0.030),
    ("future_conferral", 0.010),
    ("overdue", 0.015),
    ("recent_alumni", 0.120),
    ("older_alumni", 0.100),
    ("returning", 0.035),
    ("changed_programme", 0.010),
    ("withdrawn", 0.030),
)
BAD_KINDS = (
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
    "invalid_gpa",
    "personal_email_unusable",
    "blank_student_id",
)


def _good_thresholds() -> list[tuple[float, str]]:
    """Cumulative shares of the good kinds; a draw above the last is a bad row."""
    thresholds = []
    total = 0.0
    for kind, share in GOOD_KINDS:
        total += share
        thresholds.append((total, kind))
    return thresholds


GOOD_THRESHOLDS = _good_thresholds()


@dataclass
class Programme:
    """One programme: a row of sis_students before rendering."""

    class_level: str
    education_level: str
    start: date
    expected: date | None
    graduated: date | None
    status: str


@dataclass
class Student:
    student_id: str
    username: str
    first_name: str
    last_name: str
    campus_email: str
    personal_email: str
    auth_identifier: str
    gpa: str
    sso_enabled: str
    campus_expires: date | None
    programmes: list[Programme] = field(default_factory=list)
    # Overrides of rendered cells for bad rows: column -> text.
    overrides: dict[str, str] = field(default_factory=dict)
    majors: list[str] = field(default_factory=list)
    has_primary_major: bool = True
    # What Handshake holds: None = not held.
    handshake: tuple[str, ...] | None = None
    # Extra Handshake accounts with no SIS row (e.g. an address in use).
    extra_accounts: list[tuple[str, ...]] = field(default_factory=list)


class Generator:
    """Students one at a time from one seeded random generator."""

    def __init__(self, seed: int, as_of: date) -> None:
        self.rng = random.Random(seed)
        self.as_of = as_of
        self.previous_username = "jdoe0"
        self.previous_campus_email = "jdoe0@example.edu"
        self.bad_rows = 0
        self.builders: dict[str, Callable[[Student], None]] = {
            "enrolled": self._enrolled,
            "on_leave": self._on_leave,
            "future_conferral": self._future_conferral,
            "overdue": self._overdue,
            "recent_alumni": self._recent_alumni,
            "older_alumni": self._older_alumni,
            "returning": self._returning,
            "changed_programme": self._changed_programme,
            "withdrawn": self._withdrawn,
        }

    # -- helpers -------------------------------------------------------------

    def date_text(self, day: date | None) -> str:
        if day is None:
            return ""
        if self.rng.random() < 0.12:
            return f"{day.month:02d}/{day.day:02d}/{day.year}"
        return day.isoformat()

    def _term_start(self, year: int) -> date:
        return date(year, 8, 20 + self.rng.randrange(8))

    def _commencement(self, year: int) -> date:
        return date(year, 5, 10 + self.rng.randrange(10))

    def _kind(self) -> str:
        draw = self.rng.random()
        for threshold, kind in GOOD_THRESHOLDS:
            if draw < threshold:
                return kind
        # The bad kinds take turns, so that even a small population has each.
        self.bad_rows += 1
        return BAD_KINDS[(self.bad_rows - 1) % len(BAD_KINDS)]

    def _gpa(self) -> str:
        draw = self.rng.random()
        if draw < 0.08:
            return ""
        return f"{1.8 + self.rng.random() * 2.2:.2f}"

    def _education(self) -> tuple[str, int, str]:
        """(education level as the SIS spells it, programme years, graduate class level)."""
        draw = self.rng.random()
        if draw < 0.74:
            level, years, grad_class = "Bachelors", 4, ""
        elif draw < 0.88:
            level, years, grad_class = "Masters", 2, self.rng.choice(("GR", "GR", "MBA", "AM"))
        elif draw < 0.94:
            level, years, grad_class = "Doctorate", 5, "PHD"
        elif draw < 0.98:
            level, years, grad_class = "Certificate", 1, "CERT"
        else:
            level, years, grad_class = "Postdoctoral Studies", 2, "PD"
        spelling = self.rng.random()
        if spelling < 0.05:
            level = level.lower()
        elif spelling < 0.07:
            level = level.upper()
        return level, years, grad_class

    def _current_programme(self, status: str) -> Programme:
        level, years, grad_class = self._education()
        year_in = self.rng.randrange(years)  # 0 = first year
        start_year = self.as_of.year - year_in - (0 if self.as_of.month >= 9 else 1)
        start = self._term_start(start_year)
        expected = self._commencement(start_year + years)
        if expected <= self.as_of:  # a fifth year: graduates next spring
            expected = self._commencement(self.as_of.year + 1)
        if self.rng.random() < 0.05:
            expected = None
        class_level = grad_class or ("FR", "SO", "JR", "SR")[min(year_in, 3)]
        return Programme(class_level, level, start, expected, None, status)

    def _graduated_programme(self, graduated: date) -> Programme:
        level, years, grad_class = self._education()
        start = self._term_start(graduated.year - years)
        class_level = grad_class or "SR"
        return Programme(class_level, level, start, graduated, graduated, "graduated")

    def _held_current(self, student: Student, programme: Programme) -> None:
        """Handshake holds a current student, usually as the SIS has them."""
        if self.rng.random() < 0.08:  # new this term: not in Handshake yet
            return
        school_year = SCHOOL_YEAR[programme.class_level]
        if school_year == "Senior" and self.rng.random() < 0.25:
            school_year = "Junior"  # Handshake is a year behind
        disabled = "TRUE" if self.rng.random() < 0.01 else "FALSE"
        end = programme.expected.isoformat() if programme.expected else ""
        student.handshake = (
            student.username,
            student.campus_email,
            school_year,
            programme.start.isoformat(),
            end,
            "TRUE",
            disabled,
        )

    def _email_after_graduation(self, student: Student) -> str:
        """The address Handshake settled on for a graduate (what the rules send)."""
        grace_end = self.as_of + timedelta(days=30)
        expiring = student.campus_expires is not None and student.campus_expires <= grace_end
        if expiring and student.personal_email:
            return student.personal_email
        return student.campus_email

    # -- the good kinds -------------------------------------------------------

    def _enrolled(self, student: Student) -> None:
        programme = self._current_programme("enrolled")
        student.programmes.append(programme)
        self._held_current(student, programme)

    def _on_leave(self, student: Student) -> None:
        programme = self._current_programme("on_leave")
        student.programmes.append(programme)
        self._held_current(student, programme)

    def _future_conferral(self, student: Student) -> None:
        graduated = self.as_of + timedelta(days=1 + self.rng.randrange(75))
        programme = self._graduated_programme(graduated)
        student.programmes.append(programme)
        self._held_current(student, programme)

    def _overdue(self, student: Student) -> None:
        programme = self._current_programme("enrolled")
        programme.expected = self.as_of - timedelta(days=1 + self.rng.randrange(300))
        programme.start = min(programme.start, programme.expected - timedelta(days=700))
        student.programmes.append(programme)
        self._held_current(student, programme)

    def _graduate(self, student: Student, graduated: date) -> Programme:
        programme = self._graduated_programme(graduated)
        student.programmes.append(programme)
        if self.rng.random() < 0.55:
            student.campus_expires = graduated + timedelta(days=self.rng.choice((45, 90, 365)))
        student.sso_enabled = "false" if self.rng.random() < 0.5 else "true"
        return programme

    def _recent_alumni(self, student: Student) -> None:
        graduated = self.as_of - timedelta(days=self.rng.randrange(LOOKBACK_DAYS + 1))
        programme = self._graduate(student, graduated)
        draw = self.rng.random()
        if draw < 0.05:
            return  # not in Handshake: a new Alumni account
        if draw < 0.65:  # the transition this run makes
            school_year = (
                "Senior" if programme.class_level == "SR" else SCHOOL_YEAR[programme.class_level]
            )
            student.handshake = (
                student.username,
                student.campus_email,
                school_year,
                programme.start.isoformat(),
                graduated.isoformat(),
                "TRUE",
                "FALSE",
            )
            return
        student.handshake = (  # an earlier run already made them Alumni
            student.username,
            self._email_after_graduation(student),
            "Alumni",
            programme.start.isoformat(),
            graduated.isoformat(),
            "FALSE",
            "FALSE",
        )

    def _older_alumni(self, student: Student) -> None:
        graduated = self.as_of - timedelta(days=LOOKBACK_DAYS + 1 + self.rng.randrange(3000))
        programme = self._graduate(student, graduated)
        draw = self.rng.random()
        if draw < 0.12:
            return  # not in Handshake: not created
        if draw < 0.20:  # missed transition: Handshake still has a student
            student.handshake = (
                student.username,
                student.campus_email,
                "Senior" if programme.class_level == "SR" else SCHOOL_YEAR[programme.class_level],
                programme.start.isoformat(),
                graduated.isoformat(),
                "TRUE",
                "FALSE",
            )
            return
        disabled = "TRUE" if self.rng.random() < 0.04 else self.rng.choice(("FALSE", ""))
        student.handshake = (  # already correct: skipped
            student.username,
            self._email_after_graduation(student),
            "Alumni",
            programme.start.isoformat(),
            graduated.isoformat(),
            "FALSE",
            disabled,
        )

    def _returning(self, student: Student) -> None:
        """A bachelor's, then a new programme; Handshake holds Alumni."""
        bachelor_end = self._commencement(self.as_of.year - 1 - self.rng.randrange(4))
        bachelor = Programme(
            "SR",
            "Bachelors",
            self._term_start(bachelor_end.year - 4),
            bachelor_end,
            bachelor_end,
            "graduated",
        )
        level, years, grad_class = self._education()
        if not grad_class:
            level, years, grad_class = "Masters", 2, "GR"
        start = self._term_start(self.as_of.year - 1)
        # One in five has no end date to send: **CLEAR** the held one.
        expected = self._commencement(start.year + years) if self.rng.random() < 0.8 else None
        student.programmes.append(bachelor)
        student.programmes.append(Programme(grad_class, level, start, expected, None, "enrolled"))
        disabled = "TRUE" if self.rng.random() < 0.1 else "FALSE"
        student.handshake = (
            student.username,
            student.campus_email,
            "Alumni",
            bachelor.start.isoformat(),
            bachelor_end.isoformat(),
            "FALSE",
            disabled,
        )

    def _changed_programme(self, student: Student) -> None:
        """Withdrew from one programme and enrolled in another."""
        current = self._current_programme("enrolled")
        earlier = Programme(
            current.class_level,
            current.education_level,
            current.start - timedelta(days=365),
            None,
            None,
            "withdrawn",
        )
        student.programmes.append(earlier)
        student.programmes.append(current)
        self._held_current(student, current)

    def _withdrawn(self, student: Student) -> None:
        programme = self._current_programme("withdrawn")
        if self.rng.random() < 0.2:
            programme.status = "Withdrawn"
        student.programmes.append(programme)
        self._held_current(student, programme)

    # -- the bad kinds ---------------------------------------------------------

    def _bad(self, student: Student, kind: str) -> None:
        """An enrolled student (or graduate) with one defect of SPEC section 5."""
        rng = self.rng
        if kind in ("missing_graduation_date", "personal_email_unusable"):
            graduated = self.as_of - timedelta(days=5 + rng.randrange(150))
            self._graduate(student, graduated)
        else:
            self._enrolled(student)
        programme = student.programmes[0]
        if kind == "missing_username":
            student.overrides["username"] = ""
            student.handshake = None
        elif kind == "duplicate_username":
            student.overrides["username"] = self.previous_username
            student.handshake = None
        elif kind == "missing_first_name":
            student.overrides["first_name"] = ""
            student.handshake = None
        elif kind == "invalid_name":
            if rng.random() < 0.5:
                student.overrides["last_name"] = student.last_name + str(rng.randrange(2, 9))
            else:
                student.overrides["last_name"] = "-".join([student.last_name] * 9)[:60]
        elif kind == "invalid_date":
            column = rng.choice(("program_start_date", "expected_graduation_date"))
            student.overrides[column] = rng.choice(
                ("2026-02-30", "31/12/2026", "TBD", "2025-13-01")
            )
        elif kind == "unknown_enrollment_status":
            student.overrides["enrollment_status"] = rng.choice(("enroled", "active", "admitted"))
        elif kind == "unknown_education_level":
            student.overrides["education_level"] = rng.choice(("Bachelor of Arts", "BA", ""))
        elif kind == "end_before_start":
            expected = programme.start - timedelta(days=1 + rng.randrange(400))
            student.overrides["expected_graduation_date"] = expected.isoformat()
        elif kind == "missing_graduation_date":
            student.overrides["graduation_date"] = ""
        elif kind == "ambiguous_primary_program":
            student.programmes.append(
                Programme("GR", "Masters", programme.start, programme.expected, None, "enrolled")
            )
        elif kind == "unknown_class_level":
            student.overrides["class_level"] = rng.choice(("XX", "5TH", ""))
        elif kind == "invalid_email":
            student.overrides["campus_email"] = student.username + "@@example"
            student.handshake = None
        elif kind == "other_institution_email":
            student.overrides["campus_email"] = ""
            student.personal_email = f"{student.username}@{rng.choice(OTHER_INSTITUTIONS)}"
            student.handshake = None
        elif kind == "duplicate_email":
            student.overrides["campus_email"] = self.previous_campus_email
            student.handshake = None
        elif kind == "email_in_use":
            student.handshake = None
            student.extra_accounts.append(
                (f"zz{student.username}", student.campus_email, "Alumni", "", "", "FALSE", "FALSE")
            )
        elif kind == "unsafe_value":
            column = rng.choice(("first_name", "last_name", "auth_identifier"))
            student.overrides[column] = rng.choice(("=HYPERLINK(1)", "+Ava", "@sum", "-x"))
        elif kind == "invalid_gpa":
            student.gpa = rng.choice(("4.7", "abc", "-1", "3,5", "4.0000001"))
        elif kind == "personal_email_unusable":
            student.campus_expires = self.as_of - timedelta(days=rng.randrange(30))
            student.personal_email = rng.choice(
                ("", "", f"{student.username}.gmail.com", f"{student.username}@ox.ac.uk")
            )
        elif kind == "blank_student_id":
            student.student_id = ""
            student.handshake = None

    # -- one student -----------------------------------------------------------

    def student(self, number: int) -> Student:
        rng = self.rng
        first = rng.choice(FIRST_NAMES)
        last = rng.choice(LAST_NAMES)
        username = f"{first[0].lower()}{last.lower()}{number}"
        domain = DOMAINS[0] if rng.random() < 0.85 else DOMAINS[1]
        campus_email = f"{username}@{domain}"
        personal = ""
        if rng.random() < 0.75:
            personal = f"{first.lower()}.{last.lower()}{number}@{rng.choice(FREE_MAIL)}"
        student = Student(
            student_id=f"{number:08d}",
            username=username,
            first_name=first,
            last_name=last,
            campus_email=campus_email,
            personal_email=personal,
            auth_identifier=campus_email if rng.random() < 0.8 else "",
            gpa=self._gpa(),
            sso_enabled="true",
            campus_expires=None,
        )
        kind = self._kind()
        builder = self.builders.get(kind)
        if builder is not None:
            builder(student)
        else:
            self._bad(student, kind)
        major_count = rng.choice((0, 1, 1, 1, 1, 1, 1, 2, 2, 3))
        student.majors = rng.sample(MAJORS, major_count)
        student.has_primary_major = rng.random() < 0.97
        self.previous_username = student.overrides.get("username") or username
        self.previous_campus_email = campus_email
        return student

    def other_account(self, number: int) -> tuple[str, ...]:
        """A Handshake account with no SIS row (staff, or a student the SIS purged)."""
        rng = self.rng
        first = rng.choice(FIRST_NAMES)
        last = rng.choice(LAST_NAMES)
        username = f"hs{first[0].lower()}{last.lower()}{number}"
        start = self._term_start(self.as_of.year - 8 - rng.randrange(6))
        end = self._commencement(start.year + 4)
        return (
            username,
            f"{username}@{rng.choice(FREE_MAIL)}",
            "Alumni",
            start.isoformat(),
            end.isoformat(),
            "FALSE",
            "FALSE",
        )


# ---------------------------------------------------------------------------
# Rendering and writing


def _csv_cell(value: str) -> str:
    if any(character in value for character in ',"\n\r'):
        return '"' + value.replace('"', '""') + '"'
    return value


def _csv_line(cells: tuple[str, ...] | list[str]) -> str:
    line = ",".join(cells)
    # Fast path: no cell holds a comma, a quote or a line break.
    if (
        line.count(",") == len(cells) - 1
        and '"' not in line
        and "\n" not in line
        and "\r" not in line
    ):
        return line + "\n"
    return ",".join(_csv_cell(cell) for cell in cells) + "\n"


STUDENT_COLUMN_INDEX = {column: index for index, column in enumerate(STUDENT_COLUMNS)}


def student_rows(generator: Generator, student: Student) -> list[str]:
    lines = []
    for programme in student.programmes:
        cells = [
            student.student_id,
            student.username,
            student.auth_identifier,
            student.first_name,
            student.last_name,
            student.campus_email,
            student.personal_email,
            programme.class_level,
            programme.education_level,
            student.gpa,
            generator.date_text(programme.start),
            generator.date_text(programme.expected),
            generator.date_text(programme.graduated),
            programme.status,
            generator.date_text(student.campus_expires),
            student.sso_enabled,
        ]
        for column, value in student.overrides.items():
            cells[STUDENT_COLUMN_INDEX[column]] = value
        lines.append(_csv_line(cells))
    return lines


def major_rows(student: Student) -> list[str]:
    return [
        _csv_line(
            (
                student.student_id,
                major,
                "true" if rank == 0 and student.has_primary_major else "false",
            )
        )
        for rank, major in enumerate(student.majors)
        if student.student_id
    ]


@dataclass
class Counts:
    students: int = 0
    student_rows: int = 0
    major_rows: int = 0
    handshake_rows: int = 0


def generate(students: int, seed: int, output_dir: Path, as_of: date) -> Counts:
    """Write the five files; rows go out a batch of students at a time."""
    output_dir.mkdir(parents=True, exist_ok=True)
    (output_dir / "sis_class_levels.csv").write_text(
        _csv_line(("class_level", "school_year_name"))
        + "".join(_csv_line(pair) for pair in CLASS_LEVELS),
        encoding="utf-8",
    )
    (output_dir / "institution_email_domains.csv").write_text(
        "domain\n" + "".join(f"{domain}\n" for domain in DOMAINS), encoding="utf-8"
    )
    generator = Generator(seed, as_of)
    counts = Counts()
    with (
        _open(output_dir / "sis_students.csv") as student_file,
        _open(output_dir / "sis_student_majors.csv") as major_file,
        _open(output_dir / "handshake_users.csv") as handshake_file,
    ):
        student_file.write(_csv_line(STUDENT_COLUMNS))
        major_file.write(_csv_line(MAJOR_COLUMNS))
        handshake_file.write(_csv_line(HANDSHAKE_COLUMNS))
        for batch_start in range(1, students + 1, BATCH_STUDENTS):
            batch_end = min(batch_start + BATCH_STUDENTS, students + 1)
            student_lines: list[str] = []
            major_lines: list[str] = []
            handshake_lines: list[str] = []
            for number in range(batch_start, batch_end):
                student = generator.student(number)
                student_lines.extend(student_rows(generator, student))
                major_lines.extend(major_rows(student))
                if student.handshake is not None:
                    handshake_lines.append(_csv_line(student.handshake))
                handshake_lines.extend(_csv_line(account) for account in student.extra_accounts)
                if generator.rng.random() < 0.02:
                    handshake_lines.append(_csv_line(generator.other_account(number)))
            student_file.write("".join(student_lines))
            major_file.write("".join(major_lines))
            handshake_file.write("".join(handshake_lines))
            counts.students += batch_end - batch_start
            counts.student_rows += len(student_lines)
            counts.major_rows += len(major_lines)
            counts.handshake_rows += len(handshake_lines)
    return counts


def _open(path: Path) -> TextIO:
    return path.open("w", encoding="utf-8", newline="", buffering=1 << 20)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="generate_students.py",
        description="Write the five input CSV files for N made-up students (deterministic).",
    )
    parser.add_argument("--students", type=int, required=True, help="number of students (N >= 1)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--output-dir", required=True, help="folder for the five CSV files")
    parser.add_argument(
        "--as-of-date",
        default=DEFAULT_AS_OF_DATE,
        help=f"the run date the data is written for (default {DEFAULT_AS_OF_DATE})",
    )
    args = parser.parse_args(argv)
    if args.students < 1:
        parser.error("--students must be 1 or more")
    try:
        args.as_of = date.fromisoformat(args.as_of_date)
    except ValueError:
        parser.error("--as-of-date must be a date written YYYY-MM-DD")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    counts = generate(args.students, args.seed, Path(args.output_dir), args.as_of)
    print(
        f"generate_students: {counts.students} students, {counts.student_rows} SIS rows, "
        f"{counts.major_rows} major rows, {counts.handshake_rows} Handshake rows "
        f"in {args.output_dir}"
    )
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
