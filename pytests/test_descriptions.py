"""Every model, column, seed, source, macro, exposure and var is described.

Reads dbt's manifest.json and catalog.json from `dbt docs generate` in a
built copy of the project (conftest.sample_build), so that the columns a
model really has (the catalog) are checked too, not only those its yml
lists. A failure lists every undescribed item.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    from conftest import SampleBuild

PROJECT_ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "handshake_alumni"
DESCRIBED_NODES = ("model", "seed", "snapshot", "analysis")


def _blank(text: Any) -> bool:
    return not str(text or "").strip()


def undescribed_nodes(manifest: dict[str, Any]) -> list[str]:
    """Models, seeds, sources and their tables, exposures and macros (with
    their arguments) of the project that have no description."""
    missing = []
    for unique_id, node in manifest["nodes"].items():
        if (
            node.get("package_name") == PACKAGE
            and node["resource_type"] in DESCRIBED_NODES
            and _blank(node.get("description"))
        ):
            missing.append(unique_id)
    for unique_id, source in manifest["sources"].items():
        if source.get("package_name") != PACKAGE:
            continue
        if _blank(source.get("source_description")):
            missing.append(f"source {source['source_name']}")
        if _blank(source.get("description")):
            missing.append(unique_id)
    for unique_id, exposure in manifest.get("exposures", {}).items():
        if _blank(exposure.get("description")) or not exposure.get("owner"):
            missing.append(unique_id)
    for unique_id, macro in manifest["macros"].items():
        if macro.get("package_name") != PACKAGE:
            continue
        if _blank(macro.get("description")):
            missing.append(unique_id)
        missing += [
            f"{unique_id} argument {argument['name']}"
            for argument in macro.get("arguments", [])
            if _blank(argument.get("description"))
        ]
    return sorted(set(missing))


def undescribed_columns(manifest: dict[str, Any], catalog: dict[str, Any] | None) -> list[str]:
    """Columns without a description: those listed in yml with a blank one,
    and those the catalog shows that the yml does not list."""
    missing = []
    for section in ("nodes", "sources"):
        for unique_id, node in manifest[section].items():
            if node.get("package_name") != PACKAGE:
                continue
            if section == "nodes" and node["resource_type"] not in DESCRIBED_NODES:
                continue
            documented = {
                name.lower(): column for name, column in (node.get("columns") or {}).items()
            }
            missing += [
                f"{unique_id}.{name}"
                for name, column in documented.items()
                if _blank(column.get("description"))
            ]
            if catalog is None:
                continue
            entry = catalog[section].get(unique_id)
            if entry is None:
                continue
            missing += [
                f"{unique_id}.{name} (in the database, not in yml)"
                for name in entry["columns"]
                if name.lower() not in documented
            ]
    return sorted(set(missing))


def models_without_grain_first(manifest: dict[str, Any]) -> list[str]:
    return sorted(
        unique_id
        for unique_id, node in manifest["nodes"].items()
        if node.get("package_name") == PACKAGE
        and node["resource_type"] == "model"
        and not str(node.get("description", "")).lstrip().startswith("One row per")
    )


def project_vars() -> set[str]:
    """Vars declared in dbt_project.yml or read with var('...') anywhere."""
    declared = yaml.safe_load((PROJECT_ROOT / "dbt_project.yml").read_text(encoding="utf-8"))
    names = set(declared.get("vars") or {})
    pattern = re.compile(r"""\bvar\(\s*['"](\w+)['"]""")
    for folder in ("models", "macros", "tests"):
        for path in (PROJECT_ROOT / folder).rglob("*"):
            if path.suffix in (".sql", ".yml", ".md"):
                names |= set(pattern.findall(path.read_text(encoding="utf-8")))
    # source_name ~ '_schema' in macros/inputs/input_relation.sql
    names |= {f"{source}_schema" for source in ("sis", "handshake")}
    return names


# ---------------------------------------------------------------------------
# The checks on the real project


def test_every_model_seed_source_exposure_and_macro_is_described(
    sample_build: SampleBuild,
) -> None:
    manifest = sample_build.artifact("manifest.json")
    missing = undescribed_nodes(manifest)
    assert not missing, "without a description:\n  " + "\n  ".join(missing)


def test_every_column_is_described(sample_build: SampleBuild) -> None:
    manifest = sample_build.artifact("manifest.json")
    catalog = sample_build.artifact("catalog.json")
    assert catalog["nodes"], "the catalog is empty: the build did not run"
    missing = undescribed_columns(manifest, catalog)
    assert not missing, "columns without a description:\n  " + "\n  ".join(missing)


def test_every_model_states_its_grain_first(sample_build: SampleBuild) -> None:
    missing = models_without_grain_first(sample_build.artifact("manifest.json"))
    assert not missing, "descriptions not starting with 'One row per':\n  " + "\n  ".join(missing)


def test_the_files_that_leave_the_warehouse_are_exposures(sample_build: SampleBuild) -> None:
    exposures = sample_build.artifact("manifest.json")["exposures"].values()
    reads = {
        exposure["name"]: {node.rsplit(".", 1)[1] for node in exposure["depends_on"]["nodes"]}
        for exposure in exposures
    }
    assert "sync_users" in reads["student_sync_file"]
    assert "alumni_updates" in reads["alumni_update_file"]
    assert "password_notices" in reads["alumni_password_notices"]
    assert {"import_issues", "student_outcomes"} <= reads["sync_report"]
    assert all(exposure["owner"].get("name") for exposure in exposures)


def test_every_var_is_described_on_the_docs_site_and_in_the_readme(
    sample_build: SampleBuild,
) -> None:
    overview = sample_build.artifact("manifest.json")["docs"][f"doc.{PACKAGE}.__overview__"]
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    names = project_vars()
    assert {"as_of_date", "raw_data_dir", "sis_schema"} <= names
    missing = [
        name
        for name in sorted(names)
        if f"`{name}`" not in overview["block_contents"] or f"`{name}`" not in readme
    ]
    assert not missing, f"vars not described in the __overview__ doc block and README: {missing}"


def test_readme_code_table_is_the_issue_codes_seed() -> None:
    """README's table of codes is seeds/issue_codes.csv: same codes, order,
    severities, descriptions and advice (the seed is the one definition)."""
    with (PROJECT_ROOT / "seeds" / "issue_codes.csv").open(encoding="utf-8", newline="") as file:
        seed = sorted(csv.DictReader(file), key=lambda row: int(row["sort_order"]))
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Error and warning codes", 1)[1].split("\n## ", 1)[0]
    table = [
        [cell.strip() for cell in line.strip().strip("|").split(" | ")]
        for line in section.splitlines()
        if line.startswith("| `")
    ]
    assert table == [
        [f"`{row['code']}`", row["severity"], row["description"], row["advice"]] for row in seed
    ]
    assert [int(row["sort_order"]) for row in seed] == list(range(1, len(seed) + 1))


def test_docs_site_sends_no_usage_statistics(sample_build: SampleBuild) -> None:
    # dbt docs loads a tracker from the internet only when this is true.
    metadata = sample_build.artifact("manifest.json")["metadata"]
    assert metadata["send_anonymous_usage_stats"] is False


# ---------------------------------------------------------------------------
# The checks themselves


def _manifest(**parts: Any) -> dict[str, Any]:
    return {"nodes": {}, "sources": {}, "macros": {}, "exposures": {}, **parts}


def test_the_checks_catch_a_missing_model_or_column_description() -> None:
    model = {
        "package_name": PACKAGE,
        "resource_type": "model",
        "description": "",
        "columns": {"a": {"description": "An A."}, "b": {"description": " "}},
    }
    manifest = _manifest(nodes={"model.x.m": model})
    catalog = {"nodes": {"model.x.m": {"columns": {"A": {}, "B": {}, "c": {}}}}, "sources": {}}
    assert undescribed_nodes(manifest) == ["model.x.m"]
    assert undescribed_columns(manifest, catalog) == [
        "model.x.m.b",
        "model.x.m.c (in the database, not in yml)",
    ]
    assert models_without_grain_first(manifest) == ["model.x.m"]


def test_the_checks_catch_sources_macros_and_arguments() -> None:
    manifest = _manifest(
        sources={
            "source.x.s.t": {
                "package_name": PACKAGE,
                "source_name": "s",
                "source_description": "",
                "description": "",
                "columns": {},
            }
        },
        macros={
            "macro.x.m": {
                "package_name": PACKAGE,
                "description": "Does m.",
                "arguments": [{"name": "a", "description": ""}],
            },
            "macro.dbt.other": {"package_name": "dbt", "description": ""},
        },
    )
    assert undescribed_nodes(manifest) == [
        "macro.x.m argument a",
        "source s",
        "source.x.s.t",
    ]


def test_unit_test_names_fit_postgres_identifiers() -> None:
    """dbt names a unit test's relation after the test; PostgreSQL refuses an
    identifier over 63 characters, so a longer name fails only there."""
    long_names = [
        unit_test["name"]
        for path in sorted(PROJECT_ROOT.glob("models/**/*.yml"))
        for unit_test in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get(
            "unit_tests", []
        )
        or []
        if len(unit_test["name"]) > 63
    ]
    assert not long_names
