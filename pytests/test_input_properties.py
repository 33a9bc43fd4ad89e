"""Property-based tests (hypothesis) of the readers and writers, in process.

The pipeline tests (test_robustness.py) run a few populations through dbt;
these run hundreds of random files through the exact code on each side of
the pipeline, in milliseconds:

- the two input readers: DuckDB's read_csv with the options of
  macros/inputs/read_input_csv.sql (raw_data_dir) and dbt's own seed loader
  (dbt_common's agate_helper.from_csv, with every column typed text as
  seeds/_seeds.yml does), on any text written with any newline, BOM,
  quoting, column order and extra columns: both read back every cell;
- check_inputs.py: accepts all of those files, and names the file and the
  line of the first byte that is not UTF-8;
- the export's CSV writer (files.Staging.write_csv): any cell text round-trips
  through Python's csv reader and DuckDB's read_csv, and the lines DuckDB
  renders in SQL (marts.rendered_select) are the Python writer's bytes.
"""

from __future__ import annotations

import csv
import io
import re
import sys
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import duckdb
from dbt_common.clients.agate_helper import from_csv
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT / "scripts"))

import check_inputs  # noqa: E402
from handshake_export import files, marts  # noqa: E402

COLUMNS = check_inputs.REQUIRED_COLUMNS["sis_student_majors.csv"]
FAST = settings(
    max_examples=100,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

# Any text a cell can hold: letters of every script, quotes, commas, CR, LF,
# tabs, spaces, formula characters (no NUL: no CSV reader keeps it).
cell_text = st.text(
    alphabet=st.characters(exclude_categories=("Cs",), exclude_characters="\x00"),
    max_size=12,
)
LIKELY = st.sampled_from(['"', ",", "\r", "\n", "\r\n", " ", "\t", "=", "é", "", "NULL"])
cells = st.one_of(cell_text, LIKELY, st.lists(LIKELY, max_size=4).map("".join))


def read_input_csv_sql(path: Path) -> str:
    """The raw_data_dir reader of macros/inputs/read_input_csv.sql, for one file."""
    macro = (PROJECT_ROOT / "macros" / "inputs" / "read_input_csv.sql").read_text(encoding="utf-8")
    body = macro.split("macro duckdb__read_input_csv(path)", 1)[1]
    call = re.search(r"read_csv\((.*?)\n    \)", body, re.S)
    assert call, "read_csv(...) not found in macros/inputs/read_input_csv.sql"
    quoted = "'" + str(path).replace("'", "''") + "'"
    arguments = re.sub(r"'\{\{ path .*?\}\}'", lambda _: quoted, call[1])
    return f"select * from read_csv({arguments})"


@st.composite
def csv_files(draw: Any) -> tuple[bytes, list[str], list[list[str]]]:
    """(bytes, header, rows) of a majors file in some encoding of Excel or an SIS."""
    header = list(COLUMNS)
    if draw(st.booleans()):
        header.append(draw(st.sampled_from(["notes", "Extra column", "legacy id"])))
    header = draw(st.permutations(header))
    rows = draw(st.lists(st.lists(cells, min_size=len(header), max_size=len(header)), max_size=6))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    buffer = io.StringIO(newline="")
    minimal = csv.writer(buffer, lineterminator=newline)
    quote_all = csv.writer(buffer, lineterminator=newline, quoting=csv.QUOTE_ALL)
    everything_quoted = draw(st.booleans())
    (quote_all if everything_quoted else minimal).writerow(header)
    for row in rows:
        # csv.writer leaves a lone CR unquoted (before Python 3.13): quote such rows.
        needs_quotes = everything_quoted or any("\r" in cell for cell in row)
        (quote_all if needs_quotes else minimal).writerow(row)
    bom = b"\xef\xbb\xbf" if draw(st.booleans()) else b""
    return bom + buffer.getvalue().encode("utf-8"), header, rows


def universal_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def as_read(value: str | None) -> str:
    """A cell as staging sees it: NULL and empty are the same (clean_text)."""
    return value or ""


@FAST
@given(csv_files())
def test_raw_data_dir_reader_reads_back_every_cell(
    tmp_path: Path, file: tuple[bytes, list[str], list[list[str]]]
) -> None:
    data, header, rows = file
    with TemporaryDirectory(dir=tmp_path) as folder:
        path = Path(folder) / "sis_student_majors.csv"
        path.write_bytes(data)
        result = duckdb.sql(read_input_csv_sql(path))
        assert result.columns == header
        assert [[as_read(value) for value in row] for row in result.fetchall()] == rows


@FAST
@given(csv_files())
def test_dbt_seed_on_duckdb_reads_back_every_cell(
    tmp_path: Path, file: tuple[bytes, list[str], list[list[str]]]
) -> None:
    """dbt-duckdb loads a seed with COPY ... FROM the file (its `fast` seeds),
    into a table with the columns agate found, every one text."""
    data, header, rows = file
    with TemporaryDirectory(dir=tmp_path) as folder:
        path = Path(folder) / "sis_student_majors.csv"
        path.write_bytes(data)
        connection = duckdb.connect()
        columns = ", ".join(f'"{name}" varchar' for name in header)
        connection.execute(f"create table seed ({columns})")
        quoted = str(path).replace("'", "''")
        connection.execute(f"copy seed from '{quoted}' (format csv, header true, delimiter ',')")
        read = connection.execute("select * from seed").fetchall()
        assert [[as_read(value) for value in row] for row in read] == rows


@FAST
@given(csv_files())
def test_dbt_seed_reader_reads_back_every_cell_but_null(
    tmp_path: Path, file: tuple[bytes, list[str], list[list[str]]]
) -> None:
    """dbt's seed loader (agate): the column names everywhere, and the rows on
    PostgreSQL and Spark."""
    data, header, rows = file
    with TemporaryDirectory(dir=tmp_path) as folder:
        path = Path(folder) / "sis_student_majors.csv"
        path.write_bytes(data)
        table = from_csv(str(path), text_columns=header)
        assert list(table.column_names) == header
        # agate reads the file with universal newlines (a CR or CRLF inside a
        # quoted cell becomes LF), and loads a cell reading null (any case;
        # check_inputs warns about it) or holding only whitespace as NULL.
        expected = [
            [
                "" if cell.strip().lower() in ("null", "") else universal_newlines(cell)
                for cell in row
            ]
            for row in rows
        ]
        assert [[as_read(value) for value in row] for row in table.rows] == expected


@FAST
@given(csv_files())
def test_check_inputs_accepts_every_well_formed_encoding(
    tmp_path: Path, file: tuple[bytes, list[str], list[list[str]]]
) -> None:
    data, _, rows = file
    warnings: list[str] = []
    with TemporaryDirectory(dir=tmp_path) as folder:
        path = Path(folder) / "sis_student_majors.csv"
        path.write_bytes(data)
        assert check_inputs.check_file(path, COLUMNS, warnings) == []
    nulls = sum(any(cell.strip().lower() == "null" for cell in row) for row in rows)
    assert len(warnings) == min(nulls, check_inputs.MAX_ROWS_LISTED)


@FAST
@given(csv_files(), st.data())
def test_check_inputs_names_the_line_of_the_first_byte_not_utf8(
    tmp_path: Path, file: tuple[bytes, list[str], list[list[str]]], data: st.DataObject
) -> None:
    content = file[0]
    start = 3 if content.startswith(b"\xef\xbb\xbf") else 0
    # Between two characters (not inside one), after the BOM.
    boundaries = [
        index
        for index in range(start, len(content) + 1)
        if index == len(content) or not 0x80 <= content[index] <= 0xBF
    ]
    at = data.draw(st.sampled_from(boundaries))
    bad = data.draw(st.sampled_from([b"\xff", b"\xe9", b"\xc3(", b"\x80"]))
    spoiled = content[:at] + bad + content[at:]
    line = spoiled.count(b"\n", 0, at) + 1
    with TemporaryDirectory(dir=tmp_path) as folder:
        path = Path(folder) / "sis_student_majors.csv"
        path.write_bytes(spoiled)
        problems = check_inputs.check_file(path, COLUMNS)
    assert problems == [
        f"{path}: line {line}: not UTF-8 (byte 0x{bad[0]:02X}); save the file as UTF-8"
    ]


@FAST
@given(st.lists(st.lists(cells, min_size=3, max_size=3), max_size=8))
def test_export_writer_round_trips_any_cell(tmp_path: Path, rows: list[list[str]]) -> None:
    header = ["username", "email_address", "first_name"]
    with TemporaryDirectory(dir=tmp_path) as folder:
        with files.Staging(Path(folder)) as staging:
            staged = staging.write_csv("out.csv", header, rows, rendered=False)
            path = staging.publish(staged)
        data = path.read_bytes()
        assert not data.startswith(b"\xef\xbb\xbf")
        assert staged.rows == len(rows)
        read = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
        assert read == [header, *rows]
        by_duckdb = duckdb.sql(read_input_csv_sql(path)).fetchall()
        assert [[as_read(value) for value in row] for row in by_duckdb] == rows


@FAST
@given(st.lists(st.lists(st.one_of(st.none(), cells), min_size=3, max_size=3), max_size=8))
def test_lines_rendered_by_duckdb_are_the_python_writers_bytes(
    rows: list[list[str | None]],
) -> None:
    connection = duckdb.connect()
    connection.execute("create table cells (number integer, a text, b text, c text)")
    for number, row in enumerate(rows):
        connection.execute("insert into cells values (?, ?, ?, ?)", [number, *row])
    sql = marts.rendered_select("cells", ["a", "b", "c"], "number")
    lines = [row[0] for row in connection.execute(sql).fetchall()]
    connection.close()
    rendered = "".join(line + "\n" for line in lines)
    assert rendered.encode("utf-8") == files.csv_text(rows).encode("utf-8")


def test_rendered_lines_cover_every_quoting_case() -> None:
    # Each quoting rule at least once, whatever hypothesis draws.
    rows: list[list[str | None]] = [
        ["plain", None, ""],
        ["a,b", 'say "hi"', "line\nbreak"],
        ["carriage\rreturn", None, "x"],
        ["=SUM(A1)", "+1", "-2"],
        ["@x", "\tx", "'quoted"],
        ["#hash", " lead", "trail "],
        ["é", "NULL", '"'],
    ]
    test_lines_rendered_by_duckdb_are_the_python_writers_bytes.hypothesis.inner_test(rows)
