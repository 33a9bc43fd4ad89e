"""The files of a run, manifest.json, and the order they are published in.

Every file is staged (files.Staging) first; only when all are complete are
they renamed into place, the sync file's parts first, report.html and
manifest.json last, with Ctrl-C and SIGTERM held meanwhile.
"""

from __future__ import annotations

import json
from itertools import islice
from pathlib import Path
from typing import Any

from handshake_export import EXIT_DATA, EXIT_WRITE, ExportError, files, report
from handshake_export.marts import REPORT_FILES, Marts, Run, file_rows, report_rows
from handshake_export.warehouse import Database

MANIFEST_FILE = "manifest.json"


def _stage_csv_files(
    staging: files.Staging, database: Database, marts: Marts, run: Run
) -> list[files.StagedFile]:
    """The sync file (split at files.MAX_ROWS_PER_FILE), the alumni update file
    and the three report files, in code-point order."""
    rendered = database.renders_csv_lines
    columns = [column for column, _ in marts.handshake_columns]
    header = [header for _, header in marts.handshake_columns]
    rows = file_rows(database, marts.relations["sync_users"], columns, ["username"])
    expected = run.preflight["sync_rows"]
    staged = [
        staging.write_csv(name, header, islice(rows, files.MAX_ROWS_PER_FILE), rendered)
        for name in files.sync_file_names(run.yyyymmdd, expected)
    ]
    if next(rows, None) is not None or sum(item.rows for item in staged) != expected:
        raise ExportError(EXIT_DATA, "sync_users changed while it was read: run the export again")
    updates = file_rows(database, marts.relations["alumni_updates"], columns, ["username"])
    staged.append(staging.write_csv(f"alumni_update_{run.yyyymmdd}.csv", header, updates, rendered))
    for name, (model, columns, order) in REPORT_FILES.items():
        rows = file_rows(database, marts.relations[model], columns, order)
        staged.append(staging.write_csv(name, columns, rows, rendered))
    return staged


def build_manifest(run: Run, staged: list[files.StagedFile]) -> dict[str, Any]:
    """The manifest: no timestamps, so a re-run with the same inputs is identical."""
    return {
        "as_of_date": run.settings["as_of_date"],
        "files": {item.name: {"rows": item.rows, "sha256": item.sha256} for item in staged},
        "issues": run.issues,
        "outcomes": run.outcomes,
        "preflight": run.preflight,
        "settings": run.settings,
    }


def write_outputs(
    database: Database, marts: Marts, run: Run, directory: Path
) -> tuple[dict[str, Any], list[tuple[Path, int | None]]]:
    """Stage every file, then rename them into place, the report and the
    manifest last; the manifest and the paths written (with their rows)."""
    created = False
    try:
        created = files.prepare_directory(directory)
        with files.Staging(directory) as staging:
            staged = _stage_csv_files(staging, database, marts, run)
            manifest = build_manifest(run, staged)
            # The report shows the manifest's counts; the manifest lists the
            # report (rows = the import issue rows it shows).
            data = report_rows(database, marts, report.MAX_TABLE_ROWS)
            page = staging.write_text(report.REPORT_FILE, report.render(manifest, data))
            page.rows = len(data["issues"])
            manifest["files"][page.name] = {"rows": page.rows, "sha256": page.sha256}
            text = json.dumps(manifest, sort_keys=True, indent=2, ensure_ascii=False)
            manifest_file = staging.write_text(MANIFEST_FILE, text + "\n")
            written: list[tuple[Path, int | None]] = []
            with files.signals_deferred():
                for item in staged:
                    written.append((staging.publish(item), item.rows))
                names = {item.name for item in staged}
                for stale in files.stale_sync_files(directory, run.yyyymmdd, names):
                    stale.unlink()
                written.append((staging.publish(page), None))
                written.append((staging.publish(manifest_file), None))
                files.fsync_directory(directory)
    except OSError as error:
        files.remove_if_created(directory, created)
        where = f" ({error.filename})" if error.filename else ""
        raise ExportError(
            EXIT_WRITE, f"could not write the outputs: {error.strerror or error}{where}"
        ) from error
    except BaseException:
        files.remove_if_created(directory, created)
        raise
    return manifest, written
