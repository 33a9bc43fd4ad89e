"""Put the export's sync file into Handshake's S3 folder (SPEC section 8; README "Running it
every night" says what it checks and logs, and its exit codes)."""

from __future__ import annotations

import argparse
import base64
import csv
import fcntl
import hashlib
import html
import io
import json
import os
import re
import signal
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import botocore.session
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from handshake_export import ExportError, build, files, first_line, marts, warehouse
from handshake_export.cli import interrupt

EXIT_OK, EXIT_USAGE, EXIT_STALE, EXIT_PREFLIGHT = 0, 2, 3, 4
EXIT_EXPORT, EXIT_S3, EXIT_DELIVERED, EXIT_INTERRUPTED = 5, 6, 7, 130
LOG_FILE, SECTION_FILE = "delivery_log.csv", "delivery.html"
LOG_COLUMNS = ("delivered_at", "as_of_date", "trial", "key", "bytes", "sha256", "etag")
LOG_COLUMNS += ("version_id", "outcome")
HEADER = dict(zip(LOG_COLUMNS, LOG_COLUMNS, strict=True))  # the log's header row
DEFAULT_ATTEMPTS = 5
S3_URI = re.compile(r"s3://([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])/(\S+?)/?")  # bucket, folder
CHANGED = "{} is missing or changed since the export: export again"
REGION = "the bucket is in another region: set AWS_DEFAULT_REGION (Handshake's: us-east-1)"
S3_ADVICE = {
    "AccessDenied": "the key may write only into its folder: check --s3-uri",
    "InvalidAccessKeyId": "unknown access key: check AWS_ACCESS_KEY_ID or AWS_PROFILE",
    "SignatureDoesNotMatch": "the secret key does not match the access key",
    "ExpiredToken": "the credentials have expired: renew them",
    "NoSuchBucket": "the bucket does not exist: check --s3-uri",
    "PermanentRedirect": REGION,
    "AuthorizationHeaderMalformed": REGION,
    "HeadBucket": REGION,  # botocore's region redirect, when S3 did not name the region
    "NoCredentialsError": "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE",
}


DeliveryError = ExportError  # a problem that stops the delivery: one line and an exit code
Checked = tuple[dict[str, Any], marts.Marts, int]  # target, marts, the build number exported


def read_export(directory: Path, force: bool) -> tuple[str, dict[str, Any], list[str]]:
    """as_of_date, files and sync file names of the export, once checked; else refuse."""
    try:
        manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
        as_of_date, files = str(manifest["as_of_date"]), dict(manifest["files"])
        preflight = dict(manifest["preflight"])
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise DeliveryError(EXIT_EXPORT, f"cannot read {directory}/manifest.json") from error
    stem = as_of_date.replace("-", "") + "_users"
    names = sorted(name for name in files if re.fullmatch(rf"{stem}(_part\d{{2,}})?\.csv", name))
    parts = [f"{stem}_part{n:02d}.csv" for n in range(1, len(names) + 1)]
    if not names or names not in ([f"{stem}.csv"], parts):
        raise DeliveryError(EXIT_EXPORT, f"manifest.json lists no single, complete {stem}*.csv")
    for name, entry in sorted(files.items()):
        path = directory / name
        if not path.is_file() or entry.get("sha256") != build.sha256_of(path):
            raise DeliveryError(EXIT_EXPORT, CHANGED.format(name))
    if preflight.get("build_tests") != "passed":
        raise DeliveryError(EXIT_PREFLIGHT, "the export's build tests did not pass")
    if preflight.get("mass_disable") != "ok" and not force:
        raise DeliveryError(EXIT_PREFLIGHT, "exported with --allow-mass-disable: review, --force")
    return as_of_date, files, names


def check_latest_export(project_dir: Path, target: str | None, manifest: Path) -> Checked | None:
    """Refuse unless the newest build finished and export_log holds its 'exported' row with
    this manifest.json's sha256; None: no warehouse here."""
    try:
        settings = warehouse.load_target(project_dir, target)[1]
        found = marts.read_marts(project_dir)
        database = warehouse.connect(settings)
    except ExportError as error:
        if error.exit_code == EXIT_USAGE or "locked" in error.message:
            raise DeliveryError(min(error.exit_code, EXIT_STALE), error.message) from error
        print(f"deliver: warning: newer-build check skipped: {error.message}", file=sys.stderr)
        return None
    sync_runs, digest = found.relations["sync_runs"], build.sha256_of(manifest)
    build_log, export_log = (build.beside(sync_runs, log) for log in ("build_log", "export_log"))
    try:  # a database error is exit 5
        rows = database.query(
            f"select build_number, finished_at is not null from {build_log}"
            " order by build_number desc limit 1"
        )
        exported = rows and database.query(
            f"select count(*) from {export_log} where build_number = {int(rows[0][0])}"
            f" and event = 'exported' and manifest_sha256 = '{digest}'"
        )
    finally:
        database.close()
    if not rows:
        raise DeliveryError(EXIT_EXPORT, "the build log is empty: run dbt build and export")
    (number, finished), exported = rows[0], exported and exported[0][0]
    if not finished:
        message = f"dbt command #{number} (build log) is running or did not finish: export again"
        raise DeliveryError(EXIT_STALE, message)
    if not exported:
        message = f"a newer build exists (build log #{number}) or this folder was not exported"
        raise DeliveryError(EXIT_STALE, message + " from the latest build: export again")
    return settings, found, int(number)


class DeliveryLog:
    """DIR/delivery_log.csv, mode 0600, under an exclusive lock while open."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / LOG_FILE
        self.fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
        os.fchmod(self.fd, 0o600)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            self.rows = list(csv.DictReader(io.StringIO(self.path.read_text("utf-8"))))
            if any(set(row) != set(LOG_COLUMNS) for row in self.rows):
                raise DeliveryError(EXIT_EXPORT, f"{self.path} is not a delivery log")
        except BlockingIOError as error:
            self.close()
            raise DeliveryError(EXIT_DELIVERED, f"another deliver.py holds {self.path}") from error
        except BaseException:
            self.close()
            raise

    def delivered(self, as_of_date: str) -> bool:
        wanted = {"as_of_date": as_of_date, "trial": "false", "outcome": "sent"}
        return any(wanted.items() <= row.items() for row in self.rows)

    def append(self, row: dict[str, str]) -> None:
        """One O_APPEND write per row (the header first in a new log), then fsync."""
        buffer = io.StringIO()
        rows = [row] if os.fstat(self.fd).st_size else [HEADER, row]
        csv.DictWriter(buffer, LOG_COLUMNS, lineterminator="\n").writerows(rows)
        os.write(self.fd, buffer.getvalue().encode("utf-8"))
        os.fsync(self.fd)
        self.rows.append(row)

    def write_section(self, as_of_date: str) -> None:
        """DIR/delivery.html: this as_of_date's rows of the log, replaced atomically."""
        rows = [HEADER, *(row for row in self.rows if row["as_of_date"] == as_of_date)]
        cells = ("".join(f"<td>{html.escape(row[c])}</td>" for c in LOG_COLUMNS) for row in rows)
        table = "".join(f"<tr>{row}</tr>\n" for row in cells)
        title = f"Delivery to Handshake, as of {as_of_date}"
        page = f'<!doctype html>\n<html lang="en"><meta charset="utf-8"><title>{title}</title>'
        page += f"\n<h1>{title}</h1>\n<table>\n{table}</table>\n</html>\n"
        with files.Staging(self.path.parent) as staging:
            staging.publish(staging.write(SECTION_FILE, [(page, 0)]))

    def close(self) -> None:
        os.close(self.fd)  # and the lock with it


def _write_only(model: Any, **_: Any) -> None:
    """Any S3 call but PutObject fails (botocore's region redirect may HEAD the bucket)."""
    if model.name != "PutObject":
        raise DeliveryError(EXIT_S3, S3_ADVICE.get(model.name, f"refused S3 {model.name}"))


def s3_client() -> Any:
    core = botocore.session.get_session()
    attempts = int(core.get_config_variable("max_attempts") or DEFAULT_ATTEMPTS)
    retries = {"mode": "standard", "total_max_attempts": attempts}
    config = Config(retries=retries, connect_timeout=10, read_timeout=120)
    client = boto3.session.Session(botocore_session=core).client("s3", config=config)
    client.meta.events.register("before-call.s3", _write_only)
    return client


def describe(error: BaseException) -> str:
    """One line: never the server's message (it may name the account) or credentials."""
    if isinstance(error, DeliveryError):
        return error.message
    if isinstance(error, ClientError):
        code = str(error.response.get("Error", {}).get("Code", "?"))
        return f"{code}: {S3_ADVICE.get(code, 'S3 refused the upload')}"
    return f"{type(error).__name__}: {S3_ADVICE.get(type(error).__name__, first_line(error))}"


def deliver(args: argparse.Namespace) -> list[str]:
    """Check the export, then put each sync file; every try is logged. The names sent."""
    if not (match := S3_URI.fullmatch(args.s3_uri)):
        raise DeliveryError(EXIT_USAGE, f"--s3-uri {args.s3_uri!r} is not s3://BUCKET/FOLDER")
    bucket, folder = match.groups()
    directory = Path(args.output_dir)
    as_of_date, files, names = read_export(directory, args.force)
    log = DeliveryLog(directory)
    try:
        if not args.trial and not args.force and log.delivered(as_of_date):
            raise DeliveryError(EXIT_DELIVERED, f"{as_of_date} was already delivered ({LOG_FILE})")
        manifest = directory / "manifest.json"
        checked = check_latest_export(Path(args.project_dir), args.target, manifest)
        client = s3_client()
        for name in names:
            body = (directory / name).read_bytes()  # the bytes checked are the bytes sent
            digest = hashlib.sha256(body)
            if digest.hexdigest() != files[name]["sha256"]:
                raise DeliveryError(EXIT_EXPORT, CHANGED.format(name))
            key = f"{folder}/{name.replace('_users', '_users_test') if args.trial else name}"
            row = dict.fromkeys(LOG_COLUMNS, "")
            row.update(as_of_date=as_of_date, trial=str(args.trial).lower(), bytes=str(len(body)))
            row.update(key=f"s3://{bucket}/{key}", sha256=digest.hexdigest())
            row["delivered_at"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            checksum = base64.b64encode(digest.digest()).decode("ascii")
            put = {"ServerSideEncryption": "AES256", "ChecksumAlgorithm": "SHA256"}
            try:
                response = client.put_object(
                    Bucket=bucket, Key=key, Body=body, ChecksumSHA256=checksum, **put
                )
            except BaseException as error:  # logged, an interrupt too
                log.append({**row, "outcome": "failed " + describe(error).split(":")[0]})
                if not isinstance(error, BotoCoreError | ClientError | DeliveryError):
                    raise
                raise DeliveryError(EXIT_S3, f"{row['key']} not sent: {describe(error)}") from error
            row.update(etag=str(response.get("ETag", "")).strip('"'), outcome="sent")
            log.append({**row, "version_id": str(response.get("VersionId", ""))})
            print(f"deliver: sent {row['key']} ({row['bytes']} bytes, sha256 {row['sha256']})")
        if checked and not args.trial:  # export_log's 'delivered' row: a failure only warns
            settings, found, number = checked
            try:
                build.record(None, settings, found, (number, as_of_date, "delivered", manifest))
            except ExportError as error:
                message = f"sent, but export_log not written: {error.message}"
                print(f"deliver: warning: {message}", file=sys.stderr)
    finally:
        if log.rows:
            log.write_section(as_of_date)
        log.close()
    return names


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="deliver.py",
        description="Put the export's sync file into Handshake's S3 folder (write-only).",
        epilog="exit codes: 0 sent; 2 usage; 3 not the latest build's export; 4 preflight; "
        "5 export missing or changed; 6 S3 refused or unreachable; 7 already delivered; "
        "130 interrupted",
    )
    parser.add_argument("--output-dir", required=True, help="the export's folder")
    parser.add_argument("--s3-uri", required=True, help="s3://BUCKET/FOLDER, from Handshake")
    parser.add_argument("--trial", action="store_true", help="send as <date>_users_test.csv")
    parser.add_argument("--force", action="store_true", help="deliver this as_of_date again")
    parser.add_argument("--target", help="dbt target (default: $HANDSHAKE_TARGET, the profile's)")
    parser.add_argument("--project-dir", default=".", help="the dbt project (default: .)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, interrupt)
    directory = Path(args.output_dir)
    try:
        names = deliver(args)
    except DeliveryError as error:
        print(f"deliver: {error.message} (nothing more sent)", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print(f"deliver: interrupted; see {directory / LOG_FILE}", file=sys.stderr)
        return EXIT_INTERRUPTED
    kind = "trial (analysed by Handshake, not applied)" if args.trial else "delivery"
    print(f"deliver: {kind} of {len(names)} file(s) done; see {directory / SECTION_FILE}")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
