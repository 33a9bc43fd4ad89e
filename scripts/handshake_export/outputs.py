"""The files of a run: all staged, then renamed into place (the sync file's parts first,
report.html and manifest.json last) with Ctrl-C and SIGTERM held."""

from __future__ import annotations

import contextlib
import json
import re
from itertools import islice
from pathlib import Path
from typing import Any

from handshake_export import EXIT_DATA, EXIT_WRITE, ExportError, files, report
from handshake_export.marts import REPORT_FILES, REPORT_ORDER, Marts, file_rows, report_rows
from handshake_export.warehouse import Database


def _stage_csv_files(
    staging: files.Staging, database: Database, marts: Marts, run: dict[str, Any]
) -> list[files.StagedFile]:
    """The sync file (split at files.MAX_ROWS_PER_FILE), the alumni update and report files."""
    rendered, day = database.renders_csv_lines, run["as_of_date"].replace("-", "")
    columns, header = zip(*marts.handshake_columns, strict=True)
    rows = file_rows(database, marts.relations["sync_users"], columns, "username")
    expected = run["preflight"]["sync_rows"]
    staged = [
        staging.write_csv(name, header, islice(rows, files.MAX_ROWS_PER_FILE), rendered)
        for name in files.sync_file_names(day, expected)
    ]
    if next(rows, None) is not None or sum(item.rows for item in staged) != expected:
        raise ExportError(EXIT_DATA, "sync_users changed while it was read: run the export again")
    rows = file_rows(database, marts.relations["alumni_updates"], columns, "username")
    staged.append(staging.write_csv(f"alumni_update_{day}.csv", header, rows, rendered))
    for name, (mart, names) in REPORT_FILES.items():
        order = REPORT_ORDER.get(mart, "username")
        rows = file_rows(database, marts.relations[mart], names.split(), order)
        staged.append(staging.write_csv(name, names.split(), rows, rendered))
    return staged


def write_outputs(
    database: Database, marts: Marts, run: dict[str, Any], directory: Path
) -> tuple[dict[str, Any], list[tuple[Path, int | None]]]:
    """The manifest (no timestamp: a re-run with the same inputs is identical) and the paths
    written (with their rows)."""
    created = False
    try:
        created = files.prepare_directory(directory)
        with files.Staging(directory) as staging:
            staged = _stage_csv_files(staging, database, marts, run)
            manifest = {**run, "files": {item.name: item.listed for item in staged}}
            # The report shows the manifest's counts; the manifest lists it (its issue rows).
            data = report_rows(database, marts, report.MAX_TABLE_ROWS)
            page = staging.write(report.REPORT_FILE, [(report.render(manifest, data), 0)])
            page.rows = len(data["issues"])
            manifest["files"][page.name] = page.listed
            text = json.dumps(manifest, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
            manifest_file = staging.write("manifest.json", [(text, 0)])
            written: list[tuple[Path, int | None]] = []
            with files.signals_deferred():
                for item in staged:
                    written.append((staging.publish(item), item.rows))
                # The sync files of the same date that an earlier run wrote and this one did not.
                stale = re.compile(rf"{run['as_of_date'].replace('-', '')}_users(_part\d+)?\.csv")
                for path in sorted(directory.iterdir()):
                    written_now = path.name in manifest["files"]
                    if stale.fullmatch(path.name) and not written_now and path.is_file():
                        path.unlink()
                written += [(staging.publish(page), None), (staging.publish(manifest_file), None)]
                files.fsync_directory(directory)
    except BaseException as error:
        if created:
            with contextlib.suppress(OSError):
                directory.rmdir()  # only when empty
        if isinstance(error, OSError):
            where = f" ({error.filename})" if error.filename else ""
            message = f"could not write the outputs: {error.strerror or error}{where}"
            raise ExportError(EXIT_WRITE, message) from error
        raise
    return manifest, written
