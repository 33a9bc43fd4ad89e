"""Shared fixtures: the sample project built once per session in a copy.

`sample_build` copies the project (dbt_project.yml, profiles.yml, macros,
models, tests, scripts and seeds; never .venv, target, data, output or
.git) into a temporary folder and, with that copy as working directory and
its own DuckDB file (HANDSHAKE_DUCKDB_PATH), runs:

    dbt build --exclude test_type:unit --vars '{"as_of_date": "2026-06-15"}'
    python scripts/export_csv.py --output-dir <tmp>/out
    python scripts/export_csv.py --output-dir <tmp>/rerun
    dbt docs generate --vars '{"as_of_date": "2026-06-15"}'

so that the description, report and browser tests read a real manifest,
catalog, docs site and export without touching the project's own data/,
target/ or output/. (The unit tests mock every input; `make test-dbt` runs
them.)
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
AS_OF_DATE = "2026-06-15"
VARS = json.dumps({"as_of_date": AS_OF_DATE})
COPIED_FILES = ("dbt_project.yml", "profiles.yml")
COPIED_FOLDERS = ("macros", "models", "tests", "scripts", "seeds")
TIMEOUT = 900


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "browser: tests that open pages in headless Chromium (make browser)"
    )
    config.addinivalue_line(
        "markers", "spark: DuckDB and Spark write the same files (make test-spark)"
    )


@dataclass(frozen=True)
class SampleBuild:
    """The sample project, built, exported twice and documented."""

    root: Path
    output_dir: Path
    rerun_dir: Path

    @property
    def target_dir(self) -> Path:
        return self.root / "target"

    def artifact(self, name: str) -> dict[str, Any]:
        return json.loads((self.target_dir / name).read_text(encoding="utf-8"))

    def manifest(self) -> dict[str, Any]:
        """The export's manifest.json (not dbt's)."""
        return json.loads((self.output_dir / "manifest.json").read_text(encoding="utf-8"))


def _run(command: list[str], cwd: Path, env: dict[str, str]) -> None:
    result = subprocess.run(
        command,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        timeout=TIMEOUT,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(
            f"{' '.join(command)} failed ({result.returncode}):\n"
            f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
        )


@pytest.fixture(scope="session")
def sample_build(tmp_path_factory: pytest.TempPathFactory) -> SampleBuild:
    base = tmp_path_factory.mktemp("sample_build")
    root = base / "project"
    root.mkdir()
    for name in COPIED_FILES:
        shutil.copy2(PROJECT_ROOT / name, root / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in COPIED_FOLDERS:
        shutil.copytree(PROJECT_ROOT / name, root / name, ignore=ignore)
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("DBT_", "HANDSHAKE_"))
    }
    env.update(
        HANDSHAKE_DUCKDB_PATH=str(base / "db" / "sample.duckdb"),
        HANDSHAKE_TARGET="duckdb",
        DO_NOT_TRACK="1",
        DBT_USE_COLORS="false",
    )
    (base / "db").mkdir()
    dbt, python = str(BIN / "dbt"), sys.executable
    _run([dbt, "build", "--exclude", "test_type:unit", "--vars", VARS], root, env)
    build = SampleBuild(root, base / "out", base / "rerun")
    for output_dir in (build.output_dir, build.rerun_dir):
        _run([python, "scripts/export_csv.py", "--output-dir", str(output_dir)], root, env)
    _run([dbt, "docs", "generate", "--vars", VARS], root, env)
    return build
