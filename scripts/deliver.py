"""Put the export's sync file into Handshake's S3 folder (SPEC section 8).

Run after scripts/export_csv.py:

    python scripts/deliver.py --output-dir DIR --s3-uri s3://BUCKET/FOLDER
                              [--trial] [--force] [--target T] [--project-dir .]

Sends DIR's sync file (<YYYYMMDD>_users.csv, or every part <YYYYMMDD>_users_partNN.csv
in order) to s3://BUCKET/FOLDER/<same name> with s3:PutObject only (Handshake's key
may not list, get or head), a SHA-256 checksum that S3 verifies, and AES256
server-side encryption. --trial sends the same bytes as <YYYYMMDD>_users_test.csv
(Handshake analyses a "test" file and applies nothing); a trial is not the night's
delivery. AWS settings come only from the standard environment and config files
(AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_PROFILE, AWS_DEFAULT_REGION,
AWS_ENDPOINT_URL, AWS_MAX_ATTEMPTS: 5 by default; transient errors are retried
with botocore's standard backoff).

Nothing is sent unless, against DIR/manifest.json: every file's sha256 is unchanged;
the preflight passed; and, where the warehouse is reachable (the export's dbt profile),
no dbt command started after the export wrote manifest.json. That last check compares
two ages, each read on one clock (the latest build log row's, by the warehouse's clock;
manifest.json's, by this machine's), so an offset between the clocks cancels out.

DIR/delivery_log.csv (mode 0600, one row per object tried, appended under a lock)
records every upload and decides whether this as_of_date was delivered (--force sends
again). DIR/delivery.html shows this as_of_date's rows: report.html is sealed by the
manifest's sha256, so the delivery section is a page of its own.

Exit codes:
    0    sent
    2    usage error (bad arguments or --s3-uri, unknown target)
    3    a dbt command ran after the export, or one is running: export again
    4    the export's preflight did not pass (written with --allow-mass-disable:
         review it, then deliver with --force)
    5    the export cannot be delivered: manifest.json missing or unreadable, no sync
         file, a file missing or changed since the export; unreadable delivery log;
         a database error during the check
    6    S3 refused or could not be reached (access denied, wrong region, bad or
         expired credentials, no such bucket, endpoint unreachable after the retries)
    7    this as_of_date was already delivered (--force sends again), or another
         deliver.py is running on DIR
    130  interrupted
"""

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
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import botocore.session
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_STALE = 3
EXIT_PREFLIGHT = 4
EXIT_EXPORT = 5
EXIT_S3 = 6
EXIT_DELIVERED = 7
EXIT_INTERRUPTED = 130

LOG_FILE = "delivery_log.csv"
SECTION_FILE = "delivery.html"
LOG_COLUMNS = (
    "delivered_at",
    "as_of_date",
    "trial",
    "key",
    "bytes",
    "sha256",
    "etag",
    "version_id",
    "outcome",
)
DEFAULT_ATTEMPTS = 5
REGION = "the bucket is in another region: set AWS_DEFAULT_REGION (Handshake's is us-east-1)"
S3_ADVICE = {
    "AccessDenied": "access denied: the key may write only into its folder; check --s3-uri",
    "InvalidAccessKeyId": "the access key is unknown: check AWS_ACCESS_KEY_ID or AWS_PROFILE",
    "SignatureDoesNotMatch": "the secret key does not match the access key",
    "ExpiredToken": "the credentials have expired: renew them",
    "NoSuchBucket": "the bucket does not exist: check --s3-uri",
    "PermanentRedirect": REGION,
    "AuthorizationHeaderMalformed": REGION,
    "HeadBucket": REGION,  # botocore's region redirect, when S3 did not name the region
}


class DeliveryError(Exception):
    """A problem that stops the delivery: a one-line message and an exit code."""

    def __init__(self, exit_code: int, message: str) -> None:
        super().__init__(message)
        self.exit_code = exit_code
        self.message = message


def parse_s3_uri(uri: str) -> tuple[str, str]:
    match = re.fullmatch(r"s3://([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])/([^\s]+?)/?", uri)
    if not match:
        raise DeliveryError(EXIT_USAGE, f"--s3-uri {uri!r} is not s3://BUCKET/FOLDER")
    return match.group(1), match.group(2)


def read_manifest(path: Path) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """as_of_date, files and preflight of the export's manifest.json."""
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        return str(manifest["as_of_date"]), dict(manifest["files"]), dict(manifest["preflight"])
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise DeliveryError(EXIT_EXPORT, f"cannot read {path}: {error}: export first") from error


def sync_file_names(as_of_date: str, files: dict[str, Any]) -> list[str]:
    """The sync file, or its parts in order (the names export_csv.py writes)."""
    stem = as_of_date.replace("-", "") + "_users"
    if f"{stem}.csv" in files:
        return [f"{stem}.csv"]
    parts = sorted(name for name in files if re.fullmatch(rf"{stem}_part\d{{2,}}\.csv", name))
    if not parts or parts != [f"{stem}_part{n:02d}.csv" for n in range(1, len(parts) + 1)]:
        raise DeliveryError(EXIT_EXPORT, f"manifest.json lists no complete sync file {stem}*.csv")
    return parts


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def changed(name: str) -> DeliveryError:
    return DeliveryError(
        EXIT_EXPORT, f"{name} is missing or changed since the export: export again (nothing sent)"
    )


def check_files(directory: Path, files: dict[str, Any]) -> None:
    for name, entry in sorted(files.items()):
        path = directory / name
        if not path.is_file() or sha256_of(path) != entry.get("sha256"):
            raise changed(name)


def check_preflight(preflight: dict[str, Any], force: bool) -> None:
    if preflight.get("build_tests") != "passed":
        raise DeliveryError(EXIT_PREFLIGHT, "the export's build tests did not pass (nothing sent)")
    if preflight.get("mass_disable") != "ok" and not force:
        raise DeliveryError(
            EXIT_PREFLIGHT,
            "the export was written with --allow-mass-disable: review it, then deliver "
            "with --force (nothing sent)",
        )


def check_no_newer_build(project_dir: Path, target: str | None, manifest: Path) -> None:
    """Refuse when a dbt command started after the export wrote manifest.json, or is running."""
    # The one import from the export; re-point it when the export becomes a package.
    from export_csv import ExportError, build_log_relation, connect, load_target, mart_relations

    try:
        settings = load_target(project_dir, target)[1]
        build_log = build_log_relation(mart_relations(project_dir)["sync_runs"])
        database = connect(settings)
    except ExportError as error:
        if error.exit_code == EXIT_USAGE or "locked" in error.message:
            code = EXIT_USAGE if error.exit_code == EXIT_USAGE else EXIT_STALE
            raise DeliveryError(code, error.message) from error
        print(f"deliver: warning: newer-build check skipped: {error.message}", file=sys.stderr)
        return
    try:
        rows = database.query(
            "select build_number, started_at, finished_at, current_timestamp"
            f" from {build_log} order by build_number desc limit 1"
        )
    except ExportError as error:
        raise DeliveryError(EXIT_EXPORT, error.message) from error
    finally:
        database.close()
    if not rows:
        raise DeliveryError(EXIT_EXPORT, "the build log is empty: run dbt build and export")
    number, started, finished, now = rows[0]
    build_age = (now.replace(tzinfo=None) - started).total_seconds()
    if finished is None or build_age < time.time() - manifest.stat().st_mtime:
        raise DeliveryError(
            EXIT_STALE,
            f"dbt command #{number} of the build log started after the export"
            f"{'' if finished else ' and has not finished'}: export again (nothing sent)",
        )


class DeliveryLog:
    """DIR/delivery_log.csv, mode 0600, held under an exclusive lock while open."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / LOG_FILE
        self.fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
        os.fchmod(self.fd, 0o600)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as error:
            os.close(self.fd)
            raise DeliveryError(EXIT_DELIVERED, f"another deliver.py holds {self.path}") from error
        text = self.path.read_text(encoding="utf-8")
        self.rows = list(csv.DictReader(io.StringIO(text)))
        if text and text.splitlines()[0] != ",".join(LOG_COLUMNS):
            os.close(self.fd)
            raise DeliveryError(EXIT_EXPORT, f"{self.path} is not a delivery log")

    def delivered(self, as_of_date: str) -> bool:
        return any(
            row["as_of_date"] == as_of_date and row["trial"] == "false" and row["outcome"] == "sent"
            for row in self.rows
        )

    def append(self, row: dict[str, str]) -> None:
        """One write per row (O_APPEND), the header first in a new log; fsync'd."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        if os.fstat(self.fd).st_size == 0:
            writer.writerow(LOG_COLUMNS)
        writer.writerow([row[column] for column in LOG_COLUMNS])
        os.write(self.fd, buffer.getvalue().encode("utf-8"))
        os.fsync(self.fd)
        self.rows.append(row)

    def write_section(self, as_of_date: str) -> None:
        """DIR/delivery.html: this as_of_date's deliveries, replaced atomically."""
        cells = "".join(
            "<tr>" + "".join(f"<td>{html.escape(row[c])}</td>" for c in LOG_COLUMNS) + "</tr>\n"
            for row in self.rows
            if row["as_of_date"] == as_of_date
        )
        header = "".join(f"<th>{column}</th>" for column in LOG_COLUMNS)
        page = (
            f'<!doctype html>\n<html lang="en"><meta charset="utf-8">'
            f"<title>Delivery {as_of_date}</title>\n<h1>Delivery to Handshake, as of "
            f"{as_of_date}</h1>\n<table>\n<tr>{header}</tr>\n{cells}</table>\n</html>\n"
        )
        temporary = self.path.with_name(f".{SECTION_FILE}.tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with open(descriptor, "w", encoding="utf-8") as file:
            file.write(page)
        os.replace(temporary, self.path.with_name(SECTION_FILE))

    def close(self) -> None:
        os.close(self.fd)  # releases the lock


def _write_only(model: Any, **_: Any) -> None:
    """Any S3 call but PutObject (botocore's region redirect HEADs the bucket) fails."""
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


def describe(error: Exception) -> str:
    """One line without the server's message (it may name the account) or credentials."""
    if isinstance(error, ClientError):
        code = str(error.response.get("Error", {}).get("Code", "?"))
        return f"{code}: {S3_ADVICE.get(code, 'S3 refused the upload')}"
    if isinstance(error, NoCredentialsError):
        return "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE"
    return f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"


def deliver(args: argparse.Namespace) -> int:
    bucket, folder = parse_s3_uri(args.s3_uri)
    directory = Path(args.output_dir)
    as_of_date, files, preflight = read_manifest(directory / "manifest.json")
    names = sync_file_names(as_of_date, files)
    check_files(directory, files)
    check_preflight(preflight, args.force)
    log = DeliveryLog(directory)
    try:
        if not args.trial and not args.force and log.delivered(as_of_date):
            raise DeliveryError(
                EXIT_DELIVERED,
                f"{as_of_date} was already delivered ({LOG_FILE}); --force sends again",
            )
        check_no_newer_build(Path(args.project_dir), args.target, directory / "manifest.json")
        client = s3_client()
        for name in names:
            body = (directory / name).read_bytes()
            digest = hashlib.sha256(body)
            if digest.hexdigest() != files[name]["sha256"]:
                raise changed(name)
            key = f"{folder}/{name.replace('_users', '_users_test', 1) if args.trial else name}"
            row = {
                "delivered_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "as_of_date": as_of_date,
                "trial": str(args.trial).lower(),
                "key": f"s3://{bucket}/{key}",
                "bytes": str(len(body)),
                "sha256": digest.hexdigest(),
                "etag": "",
                "version_id": "",
            }
            try:
                response = client.put_object(
                    Bucket=bucket,
                    Key=key,
                    Body=body,
                    ChecksumAlgorithm="SHA256",
                    ChecksumSHA256=base64.b64encode(digest.digest()).decode("ascii"),
                    ServerSideEncryption="AES256",
                )
            except (BotoCoreError, ClientError, DeliveryError) as error:
                reason = error.message if isinstance(error, DeliveryError) else describe(error)
                log.append({**row, "outcome": f"failed {reason.split(':')[0]}"})
                raise DeliveryError(EXIT_S3, f"{row['key']} not sent: {reason}") from error
            row.update(etag=str(response.get("ETag", "")).strip('"'), outcome="sent")
            row["version_id"] = str(response.get("VersionId", ""))
            log.append(row)
            print(f"deliver: sent {row['key']} ({row['bytes']} bytes, sha256 {row['sha256']})")
    finally:
        if log.rows:
            log.write_section(as_of_date)
        log.close()
    kind = "trial (Handshake analyses it, applies nothing)" if args.trial else "delivery"
    print(f"deliver: {as_of_date} {kind}: {len(names)} file(s); see {directory / SECTION_FILE}")
    return EXIT_OK


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="deliver.py",
        description="Put the export's sync file into Handshake's S3 folder (write-only).",
        epilog="exit codes: 0 sent; 2 usage; 3 a dbt command ran after the export; "
        "4 preflight did not pass; 5 export missing or changed; 6 S3 refused or "
        "unreachable; 7 already delivered or another delivery running; 130 interrupted",
    )
    parser.add_argument("--output-dir", required=True, help="the export's directory")
    parser.add_argument("--s3-uri", required=True, help="s3://BUCKET/FOLDER from Handshake")
    parser.add_argument("--trial", action="store_true", help="send as <date>_users_test.csv")
    parser.add_argument("--force", action="store_true", help="deliver this as_of_date again")
    parser.add_argument(
        "--target", help="dbt target (default: $HANDSHAKE_TARGET, else the profile's)"
    )
    parser.add_argument("--project-dir", default=".", help="the dbt project directory (default: .)")
    return parser.parse_args(argv)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        return deliver(args)
    except DeliveryError as error:
        print(f"deliver: {error.message}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("deliver: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
