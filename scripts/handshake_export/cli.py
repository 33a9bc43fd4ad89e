"""The command line: arguments, the order of the steps, the printed summary (counts and
paths only, never names, usernames or email addresses)."""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from handshake_export import (
    EXIT_INTERRUPTED,
    EXIT_MASS_DISABLE,
    EXIT_OK,
    ExportError,
    build,
    marts,
    outputs,
    warehouse,
)

EMAIL_CHANGE_WARNING = (
    "an automated sync will apply none of the email changes; upload the alumni update file manually"
)
PREFLIGHT_SUMMARY = """preflight: build tests {build_tests}
preflight: {changed_rows} of {sync_rows} sync rows change a record, {newly_disabled_rows} newly \
disabled ({newly_disabled_share} of changed): mass disable {mass_disable}
preflight: {email_changes} email changes ({email_change_share} of sync rows){warning}"""
UNRECORDED = "deliver.py refuses them until an export is recorded; run the export again"


def _percent(share: float) -> str:
    return f"{float(share) * 100:.1f}%"


def export(args: argparse.Namespace) -> int:
    project_dir = Path(args.project_dir)
    found = marts.read_marts(project_dir)
    target_name, target = warehouse.load_target(project_dir, args.target)
    database = warehouse.connect(target)
    try:
        number = build.check_build(project_dir, database, found)
        marts.check_relations(database, found)
        run = marts.read_run(database, found)
        flight = run["preflight"]
        if flight["mass_disable"] == "allowed" and not args.allow_mass_disable:
            raise ExportError(
                EXIT_MASS_DISABLE,
                f"stopped: {flight['newly_disabled_rows']} of {flight['changed_rows']} changed"
                f" rows ({_percent(flight['newly_disabled_share'])}) would disable an account,"
                " and Handshake holds such a sync for manual approval. Check"
                " disable_alumni_after_days, or re-run with --allow-mass-disable to write the"
                " files anyway (nothing was written)",
            )
        if flight["email_change_warning"]:
            print(
                f"export_csv: warning: {flight['email_changes']} of {flight['sync_rows']} sync"
                f" rows ({_percent(flight['email_change_share'])}) change an email address:"
                f" {EMAIL_CHANGE_WARNING}",
                file=sys.stderr,
            )
        manifest, written = outputs.write_outputs(database, found, run, Path(args.output_dir))
        print_summary(manifest, written, target_name)
        # export_log tells dbt and deliver.py; the files stay when this fails (the exit code says).
        row = (number, run["as_of_date"], "exported", Path(args.output_dir) / "manifest.json")
        try:
            build.record(database, target, found, row)
        except ExportError as error:
            message = f"the files were written, but the export log was not ({error.message}): "
            raise ExportError(error.exit_code, message + UNRECORDED) from error
    finally:
        database.close()
    return EXIT_OK


def print_summary(manifest: dict[str, Any], written: list[Any], target_name: str) -> None:
    flight = manifest["preflight"]
    outcomes = ", ".join(f"{name} {n}" for name, n in sorted(manifest["outcomes"].items()))
    issues = ", ".join(
        f"{severity} {code} {n}"
        for severity, codes in sorted(manifest["issues"].items())
        for code, n in sorted(codes.items())
    )
    warning = f": WARNING {EMAIL_CHANGE_WARNING}" if flight["email_change_warning"] else ""
    print(f"export_csv: as_of_date {manifest['as_of_date']}, target {target_name}")
    print(f"outcomes: {outcomes}\nissues: {issues or 'none'}")
    shares = {key: _percent(flight[key]) for key in ("newly_disabled_share", "email_change_share")}
    print(PREFLIGHT_SUMMARY.format_map({**flight, **shares, "warning": warning}))
    print("files:")
    for path, rows in written:
        print(f"  {path}" + ("" if rows is None else f": {rows} rows"))


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="export_csv.py",
        description="Write the Handshake sync and alumni update files and their reports "
        "from the dbt marts (run dbt build first).",
        epilog="exit codes: 0 written; 2 usage; 3 dbt build missing, stale or had failing "
        "tests; 4 mass-disable stop; 5 database or data problem (cannot connect, locked, "
        "tables missing; or export_log not written after the files); 6 could not write outputs; "
        "130 interrupted",
    )
    add = parser.add_argument
    add("--output-dir", required=True, help="directory for the files (0700)")
    add("--target", help="dbt target (default: $HANDSHAKE_TARGET, else the profile's)")
    mass_disable = "write the files even when the share of changed rows that would disable an"
    mass_disable += " account reaches the build's mass_disable_threshold (50%% by default)"
    add("--allow-mass-disable", action="store_true", help=mass_disable)
    add("--project-dir", default=".", help="the dbt project directory (default: .)")
    return parser.parse_args(argv)


def interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        previous_handler = signal.signal(signal.SIGTERM, interrupt)
    except ValueError:  # not the main thread: leave SIGTERM alone
        previous_handler = None
    try:
        return export(args)
    except ExportError as error:
        print(f"export_csv: {error.message}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("export_csv: interrupted; no temporary file left behind", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        if previous_handler is not None:
            signal.signal(signal.SIGTERM, previous_handler)
