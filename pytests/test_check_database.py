"""Tests of scripts/check_database.py: a DuckDB file locked by another process."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"
sys.path.insert(0, str(SCRIPTS))

import check_database  # noqa: E402

PROFILE = """\
handshake_alumni:
  target: duckdb
  outputs:
    duckdb:
      type: duckdb
      path: "{{ env_var('CHECK_DATABASE_TEST_DB', 'data/test.duckdb') }}"
      schema: main
    postgres:
      type: postgres
      host: localhost
      port: 1
      user: nobody
      password: ""
      dbname: nothing
      schema: main
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("HANDSHAKE_TARGET", "CHECK_DATABASE_TEST_DB"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "profiles.yml").write_text(PROFILE, encoding="utf-8")
    (tmp_path / "data").mkdir()
    monkeypatch.chdir(tmp_path)
    return tmp_path


def lock_holder(path: Path) -> subprocess.Popen[str]:
    """Another process with the database open for writing (like a dbt build)."""
    code = (
        "import sys, duckdb; c = duckdb.connect(sys.argv[1]); print('ready', flush=True); "
        "sys.stdin.read()"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", code, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
    return holder


@pytest.fixture
def locked(project: Path) -> Iterator[subprocess.Popen[str]]:
    duckdb.connect(str(project / "data" / "test.duckdb")).close()
    holder = lock_holder(project / "data" / "test.duckdb")
    try:
        yield holder
    finally:
        holder.communicate("")


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = check_database.main(list(args))
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_free_or_missing_database_passes(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys) == (0, "")  # not created yet: dbt will create it
    duckdb.connect(str(project / "data" / "test.duckdb")).close()
    assert run(capsys) == (0, "")


def test_locked_database_names_file_and_process_in_one_line(
    locked: subprocess.Popen[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, output = run(capsys)
    assert code == check_database.EXIT_LOCKED == 1
    assert output.startswith(
        "check_database: the database data/test.duckdb is locked by another process "
        f"(PID {locked.pid}, "
    )
    assert "wait for it to finish" in output
    assert output.count("\n") == 1 and "Traceback" not in output


def test_path_comes_from_the_profile_and_its_environment(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    other = project / "elsewhere.duckdb"
    duckdb.connect(str(other)).close()
    holder = lock_holder(other)
    try:
        assert run(capsys)[0] == 0  # data/test.duckdb is free
        monkeypatch.setenv("CHECK_DATABASE_TEST_DB", str(other))
        code, output = run(capsys)
        assert code == 1 and str(other) in output
    finally:
        holder.communicate("")


def test_other_engines_and_bad_targets(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # PostgreSQL takes no file lock: nothing to check, and no connection tried.
    assert run(capsys, "--target", "postgres") == (0, "")
    code, output = run(capsys, "--target", "nope")
    assert code == 2 and "target 'nope' is not in" in output


def test_a_file_that_is_not_a_database(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "data" / "test.duckdb").write_bytes(b"not a database at all" * 1000)
    code, output = run(capsys)
    assert code == 1
    assert output.startswith("check_database: cannot open the database data/test.duckdb: ")
    assert output.count("\n") == 1
