"""scripts/deliver.py against a real S3 server on 127.0.0.1: moto's server mode.

The `s3` fixture starts `moto_server` on a free loopback port, creates the bucket
(versioned), an IAM user whose only permission is s3:PutObject on
importer-production-test/* (Handshake's write-only key) and an admin user, then
switches moto's IAM checks on (POST /moto-api/reset-auth with 0). deliver.py runs
as a subprocess with the writer's keys and AWS_ENDPOINT_URL, so that any list, get
or head it made would fail; the admin reads back what landed.

Export folders are made by hand (a few files and a manifest.json with their
sha256), and so is the warehouse of the freshness check: a DuckDB file with a
build log and an export log (the export's 'exported' row of the latest build, with
the manifest's sha256) and a target/manifest.json naming the marts, in a project
folder with the real profiles.yml. No network beyond 127.0.0.1, no AWS config of
the machine.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import http.client
import http.server
import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import duckdb
import pytest
from botocore.exceptions import ClientError

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DELIVER = PROJECT_ROOT / "scripts" / "deliver.py"
BUCKET = "handshake-importer-uploads"
FOLDER = "importer-production-test"
AS_OF_DATE = "2026-06-15"
SYNC = "20260615_users.csv"
HEADER = b"username,email_address,auth_identifier\n"
MARTS = (
    "sync_runs",
    "sync_run_issue_counts",
    "sync_run_changes",
    "sync_users",
    "alumni_updates",
    "import_issues",
    "student_outcomes",
    "password_notices",
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _post(url: str, body: bytes) -> None:
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": "text/plain"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200


@dataclass
class S3Server:
    url: str
    writer: tuple[str, str]
    admin: Any  # boto3 S3 client with the admin user's keys

    def keys(self, prefix: str) -> list[str]:
        listing = self.admin.list_objects_v2(Bucket=BUCKET, Prefix=prefix + "/")
        return sorted(item["Key"] for item in listing.get("Contents", []))


@pytest.fixture(scope="module")
def s3() -> Iterator[S3Server]:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(200):
            with contextlib.suppress(OSError):
                urllib.request.urlopen(url + "/moto-api/data.json", timeout=1).close()
                break
            time.sleep(0.05)
        root = {"aws_access_key_id": "root", "aws_secret_access_key": "root"}
        iam = boto3.client("iam", endpoint_url=url, region_name="us-east-1", **root)
        s3_root = boto3.client("s3", endpoint_url=url, region_name="us-east-1", **root)
        s3_root.create_bucket(Bucket=BUCKET)
        s3_root.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})

        def user(name: str, action: str, resource: str) -> tuple[str, str]:
            iam.create_user(UserName=name)
            statement = {"Effect": "Allow", "Action": action, "Resource": resource}
            iam.put_user_policy(
                UserName=name,
                PolicyName="only",
                PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [statement]}),
            )
            key = iam.create_access_key(UserName=name)["AccessKey"]
            return key["AccessKeyId"], key["SecretAccessKey"]

        writer = user("handshake-writer", "s3:PutObject", f"arn:aws:s3:::{BUCKET}/{FOLDER}/*")
        admin_id, admin_secret = user("admin", "*", "*")
        _post(url + "/moto-api/reset-auth", b"0")  # IAM checks on from here
        admin = boto3.client(
            "s3",
            endpoint_url=url,
            region_name="us-east-1",
            aws_access_key_id=admin_id,
            aws_secret_access_key=admin_secret,
        )
        yield S3Server(url, writer, admin)
    finally:
        server.terminate()
        server.wait(timeout=10)


def _make_export(directory: Path, sync_files: dict[str, bytes], **preflight: Any) -> Path:
    """An export folder: the sync file(s), two reports and a consistent manifest.json;
    recorded as the latest build's export in the warehouse beside it (the env fixture's)."""
    directory.mkdir(mode=0o700)
    contents = {**sync_files, "import_issues.csv": b"severity,code\n", "report.html": b"<p>r</p>\n"}
    for name, data in contents.items():
        (directory / name).write_bytes(data)
    manifest = {
        "as_of_date": AS_OF_DATE,
        "files": {
            name: {"rows": data.count(b"\n") - 1, "sha256": hashlib.sha256(data).hexdigest()}
            for name, data in contents.items()
        },
        "preflight": {"build_tests": "passed", "mass_disable": "ok", **preflight},
    }
    (directory / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    if (directory.parent / "project" / "warehouse.duckdb").exists():
        _record(directory.parent / "project", directory)
    return directory


def _record(project: Path, output: Path, event: str = "exported") -> None:
    """What the export does once it wrote the files: export_log's row for the latest build."""
    digest = hashlib.sha256((output / "manifest.json").read_bytes()).hexdigest()
    with duckdb.connect(str(project / "warehouse.duckdb")) as connection:
        connection.execute(
            f"insert into export_log select max(build_number), date '{AS_OF_DATE}', '{event}',"
            f" current_timestamp, '{digest}' from build_log"
        )


def _export_log(project: Path) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(project / "warehouse.duckdb")) as connection:
        return connection.execute(
            "select build_number, event, manifest_sha256 from export_log order by recorded_at"
        ).fetchall()


def _make_warehouse(root: Path) -> Path:
    """A project folder whose DuckDB warehouse holds a build log, as dbt leaves it."""
    root.mkdir()
    shutil.copy2(PROJECT_ROOT / "profiles.yml", root / "profiles.yml")
    (root / "target").mkdir()
    nodes = {
        f"model.handshake_alumni.{name}": {
            "name": name,
            "resource_type": "model",
            "relation_name": f'"warehouse"."main"."{name}"',
        }
        for name in MARTS
    }
    nodes["model.handshake_alumni.sync_users"]["columns"] = {
        "username": {"name": "username", "meta": {"handshake_header": "username"}}
    }
    nodes["seed.handshake_alumni.issue_codes"] = {
        "name": "issue_codes",
        "resource_type": "seed",
        "relation_name": '"warehouse"."main"."issue_codes"',
        "original_file_path": "seeds/issue_codes.csv",
    }
    (root / "target" / "manifest.json").write_text(json.dumps({"nodes": nodes}))
    with duckdb.connect(str(root / "warehouse.duckdb")) as connection:
        connection.execute(
            "create table build_log (build_number integer, invocation_id varchar,"
            " command varchar, started_at timestamp, finished_at timestamp,"
            " failed_nodes integer, models_built integer, models_total integer)"
        )
        connection.execute(
            "create table export_log (build_number integer, as_of_date date, event varchar,"
            " recorded_at timestamp, manifest_sha256 varchar)"
        )
    _log_build(root)
    return root


def _log_build(project: Path, finished: bool = True) -> None:
    """Add a build log row: a newer build (finished, or still running)."""
    with duckdb.connect(str(project / "warehouse.duckdb")) as connection:
        connection.execute(
            "insert into build_log select coalesce(max(build_number), 0) + 1, 'id', 'build',"
            f" current_timestamp, {'current_timestamp' if finished else 'null'}, 0, 6, 6"
            " from build_log"
        )


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str


@pytest.fixture
def env(s3: S3Server, tmp_path: Path) -> dict[str, str]:
    """Only the standard AWS variables: the writer's keys and the local endpoint."""
    project = _make_warehouse(tmp_path / "project")
    return {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "AWS_CONFIG_FILE": str(tmp_path / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_ACCESS_KEY_ID": s3.writer[0],
        "AWS_SECRET_ACCESS_KEY": s3.writer[1],
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": s3.url,
        "AWS_MAX_ATTEMPTS": "3",
        "HANDSHAKE_DUCKDB_PATH": str(project / "warehouse.duckdb"),
        "DELIVER_PROJECT": str(project),
    }


def deliver(env: dict[str, str], output: Path, folder: str, *extra: str) -> Run:
    command = [sys.executable, str(DELIVER), "--output-dir", str(output)]
    command += ["--s3-uri", f"s3://{BUCKET}/{folder}", "--project-dir", env["DELIVER_PROJECT"]]
    result = subprocess.run(
        command + list(extra), env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert "Traceback" not in result.stderr, result.stderr
    return Run(result.returncode, result.stdout, result.stderr)


def _log_rows(output: Path) -> list[dict[str, str]]:
    import csv

    with (output / "delivery_log.csv").open(encoding="utf-8", newline="") as file:
        return list(csv.DictReader(file))


@pytest.fixture
def folder(request: pytest.FixtureRequest) -> str:
    return f"{FOLDER}/{request.node.name.replace('[', '-').rstrip(']')}"


def test_the_writer_key_may_only_put(s3: S3Server, folder: str) -> None:
    """The fixture's premise: the writer's key cannot get, head or list anything."""
    writer = boto3.client(
        "s3",
        endpoint_url=s3.url,
        region_name="us-east-1",
        aws_access_key_id=s3.writer[0],
        aws_secret_access_key=s3.writer[1],
    )
    writer.put_object(Bucket=BUCKET, Key=f"{folder}/x.csv", Body=b"x\n")
    for call in (
        lambda: writer.get_object(Bucket=BUCKET, Key=f"{folder}/x.csv"),
        lambda: writer.head_object(Bucket=BUCKET, Key=f"{folder}/x.csv"),
        lambda: writer.list_objects_v2(Bucket=BUCKET, Prefix=FOLDER),
        lambda: writer.head_bucket(Bucket=BUCKET),
        lambda: writer.put_object(Bucket=BUCKET, Key="importer-production-other/x.csv", Body=b""),
    ):
        with pytest.raises(ClientError) as error:
            call()
        assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_delivers_the_bytes_with_checksum_and_encryption(
    s3: S3Server, env: dict[str, str], tmp_path: Path, folder: str
) -> None:
    body = HEADER + b"a1,a1@example.edu,a1\n"
    output = _make_export(tmp_path / "out", {SYNC: body})
    run = deliver(env, output, folder)
    assert (run.code, run.stderr) == (0, "")  # the newer-build check ran and passed
    assert s3.keys(folder) == [f"{folder}/{SYNC}"]
    landed = s3.admin.get_object(Bucket=BUCKET, Key=f"{folder}/{SYNC}", ChecksumMode="ENABLED")
    assert landed["Body"].read() == body
    assert landed["ChecksumSHA256"] == base64.b64encode(hashlib.sha256(body).digest()).decode()
    assert landed["ServerSideEncryption"] == "AES256"
    (row,) = _log_rows(output)
    assert row["key"] == f"s3://{BUCKET}/{folder}/{SYNC}"
    assert row["bytes"] == str(len(body))
    assert row["sha256"] == hashlib.sha256(body).hexdigest()
    assert row["etag"] == landed["ETag"].strip('"')
    assert row["version_id"] == landed["VersionId"]
    assert (row["trial"], row["outcome"], row["as_of_date"]) == ("false", "sent", AS_OF_DATE)
    assert row["delivered_at"].endswith("Z")
    assert stat.S_IMODE((output / "delivery_log.csv").stat().st_mode) == 0o600
    section = (output / "delivery.html").read_text(encoding="utf-8")
    assert f"{folder}/{SYNC}" in section and row["etag"] in section
    assert s3.writer[0] not in run.stdout + run.stderr + section
    assert s3.writer[0] not in (output / "delivery_log.csv").read_text(encoding="utf-8")


def test_split_sync_file_sends_every_part_in_order(
    s3: S3Server, env: dict[str, str], tmp_path: Path, folder: str
) -> None:
    parts = {f"20260615_users_part{n:02d}.csv": HEADER + b"p%d,,\n" % n for n in (1, 2, 3)}
    output = _make_export(tmp_path / "out", parts)
    run = deliver(env, output, folder)
    assert run.code == 0, run.stderr
    assert s3.keys(folder) == [f"{folder}/{name}" for name in sorted(parts)]
    assert [row["key"].rsplit("/", 1)[1] for row in _log_rows(output)] == sorted(parts)
    for name, body in parts.items():
        assert s3.admin.get_object(Bucket=BUCKET, Key=f"{folder}/{name}")["Body"].read() == body


@pytest.mark.parametrize("changed", [SYNC, "import_issues.csv", "report.html"])
def test_a_file_changed_since_the_export_is_refused(
    s3: S3Server, env: dict[str, str], tmp_path: Path, folder: str, changed: str
) -> None:
    output = _make_export(tmp_path / "out", {SYNC: HEADER + b"a,b,c\n"})
    with (output / changed).open("ab") as file:
        file.write(b"x")
    run = deliver(env, output, folder)
    assert run.code == 5
    assert changed in run.stderr and len(run.stderr.strip().splitlines()) == 1
    assert s3.keys(folder) == []


def test_second_delivery_refused_unless_forced(
    s3: S3Server, env: dict[str, str], tmp_path: Path, folder: str
) -> None:
    output = _make_export(tmp_path / "out", {SYNC: HEADER})
    assert deliver(env, output, folder).code == 0
    again = deliver(env, output, folder)
    assert again.code == 7 and "already delivered" in again.stderr
    assert len(_log_rows(output)) == 1
    forced = deliver(env, output, folder, "--force")
    assert forced.code == 0, forced.stderr
    assert [row["outcome"] for row in _log_rows(output)] == ["sent", "sent"]
    versions = s3.admin.list_object_versions(Bucket=BUCKET, Prefix=folder + "/")["Versions"]
    assert len(versions) == 2


def test_trial_uses_a_test_name_and_does_not_count(
    s3: S3Server, env: dict[str, str], tmp_path: Path, folder: str
) -> None:
    output = _make_export(tmp_path / "out", {SYNC: HEADER})
    trial = deliver(env, output, folder, "--trial")
    assert trial.code == 0, trial.stderr
    assert s3.keys(folder) == [f"{folder}/20260615_users_test.csv"]
    assert _log_rows(output)[0]["trial"] == "true"
    real = deliver(env, output, folder)  # the trial was not the night's delivery
    assert real.code == 0, real.stderr
    assert s3.keys(folder) == [f"{folder}/{SYNC}", f"{folder}/20260615_users_test.csv"]


def test_access_denied_is_one_line_and_not_a_delivery(
    s3: S3Server, env: dict[str, str], tmp_path: Path, folder: str
) -> None:
    output = _make_export(tmp_path / "out", {SYNC: HEADER})
    denied = deliver(env, output, "importer-production-other")
    assert denied.code == 6
    assert "AccessDenied" in denied.stderr and len(denied.stderr.strip().splitlines()) == 1
    assert [row["outcome"] for row in _log_rows(output)] == ["failed AccessDenied"]
    assert deliver(env, output, folder).code == 0  # nothing counted as delivered


def test_unknown_key_is_one_line(
    s3: S3Server, env: dict[str, str], tmp_path: Path, folder: str
) -> None:
    output = _make_export(tmp_path / "out", {SYNC: HEADER})
    run = deliver({**env, "AWS_ACCESS_KEY_ID": "AKIAUNKNOWN0000000000"}, output, folder)
    assert run.code == 6 and "InvalidAccessKeyId" in run.stderr
    assert "AKIAUNKNOWN" not in run.stderr and s3.keys(folder) == []


def test_stopped_server_is_one_line_and_not_a_delivery(
    env: dict[str, str], tmp_path: Path, folder: str
) -> None:
    output = _make_export(tmp_path / "out", {SYNC: HEADER})
    stopped = {**env, "AWS_ENDPOINT_URL": f"http://127.0.0.1:{_free_port()}"}
    run = deliver(stopped, output, folder)
    assert run.code == 6 and "EndpointConnectionError" in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1
    assert [row["outcome"] for row in _log_rows(output)] == ["failed EndpointConnectionError"]


class _FlakyProxy(http.server.BaseHTTPRequestHandler):
    """Answers the first PUT with 503, forwards every later one to moto as it came."""

    protocol_version = "HTTP/1.1"
    upstream = ""
    puts = 0

    def do_PUT(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        type(self).puts += 1
        if type(self).puts == 1:
            self.send_response(503)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        connection = http.client.HTTPConnection(self.upstream, timeout=10)
        connection.request("PUT", self.path, body, dict(self.headers))
        response = connection.getresponse()
        data = response.read()
        self.send_response(response.status)
        for name, value in response.getheaders():
            if name.lower() not in ("content-length", "server", "date", "connection"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


def test_a_transient_5xx_is_retried(
    s3: S3Server, env: dict[str, str], tmp_path: Path, folder: str
) -> None:
    _FlakyProxy.upstream, _FlakyProxy.puts = s3.url.removeprefix("http://"), 0
    proxy = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _FlakyProxy)
    thread = threading.Thread(target=proxy.serve_forever, daemon=True)
    thread.start()
    try:
        output = _make_export(tmp_path / "out", {SYNC: HEADER})
        proxied = {**env, "AWS_ENDPOINT_URL": f"http://127.0.0.1:{proxy.server_address[1]}"}
        run = deliver(proxied, output, folder)
    finally:
        proxy.shutdown()
        proxy.server_close()
    assert run.code == 0, run.stderr
    assert _FlakyProxy.puts == 2
    assert s3.keys(folder) == [f"{folder}/{SYNC}"]


def test_an_export_written_with_allow_mass_disable_needs_force(
    s3: S3Server, env: dict[str, str], tmp_path: Path, folder: str
) -> None:
    output = _make_export(tmp_path / "out", {SYNC: HEADER}, mass_disable="allowed")
    run = deliver(env, output, folder)
    assert run.code == 4 and s3.keys(folder) == []
    assert deliver(env, output, folder, "--force").code == 0


@pytest.mark.parametrize("case", ["newer-build", "running-build", "not-recorded", "other-export"])
def test_only_the_latest_builds_export_is_sent(
    s3: S3Server, env: dict[str, str], tmp_path: Path, folder: str, case: str
) -> None:
    """Clock-free: the newest build must be finished and export_log must hold its
    'exported' row with this folder's manifest.json sha256."""
    project = Path(env["DELIVER_PROJECT"])
    output = _make_export(tmp_path / "out", {SYNC: HEADER})
    if case == "newer-build":
        _log_build(project)
    elif case == "running-build":
        _log_build(project, finished=False)
    elif case == "not-recorded":
        with duckdb.connect(str(project / "warehouse.duckdb")) as connection:
            connection.execute("delete from export_log")
    else:  # the latest build was exported into another folder since
        other = output.parent / "other"
        other.mkdir()
        (other / "manifest.json").write_text('{"another": "export"}\n')
        with duckdb.connect(str(project / "warehouse.duckdb")) as connection:
            connection.execute("delete from export_log")
        _record(project, other)
    run = deliver(env, output, folder)
    assert run.code == 3 and "export again" in run.stderr
    assert s3.keys(folder) == [] and not (output / "delivery.html").exists()


def test_a_delivery_is_recorded_in_the_export_log_but_a_trial_is_not(
    s3: S3Server, env: dict[str, str], tmp_path: Path, folder: str
) -> None:
    project = Path(env["DELIVER_PROJECT"])
    output = _make_export(tmp_path / "out", {SYNC: HEADER})
    digest = hashlib.sha256((output / "manifest.json").read_bytes()).hexdigest()
    assert deliver(env, output, folder, "--trial").code == 0
    assert _export_log(project) == [(1, "exported", digest)]
    assert deliver(env, output, folder).code == 0
    assert _export_log(project) == [(1, "exported", digest), (1, "delivered", digest)]


def test_a_locked_warehouse_is_refused(
    s3: S3Server, env: dict[str, str], tmp_path: Path, folder: str
) -> None:
    output = _make_export(tmp_path / "out", {SYNC: HEADER})
    held = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys; c = duckdb.connect(sys.argv[1]);"
            " print(flush=True); sys.stdin.read()",
            env["HANDSHAKE_DUCKDB_PATH"],
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    try:
        assert held.stdout is not None
        held.stdout.readline()  # the lock is held
        run = deliver(env, output, folder)
    finally:
        held.communicate(timeout=10)
    assert run.code == 3 and "locked" in run.stderr
    assert s3.keys(folder) == []


def test_no_warehouse_here_skips_the_build_check(
    s3: S3Server, env: dict[str, str], tmp_path: Path, folder: str
) -> None:
    output = _make_export(tmp_path / "out", {SYNC: HEADER})
    (tmp_path / "elsewhere").mkdir()
    run = deliver({**env, "DELIVER_PROJECT": str(tmp_path / "elsewhere")}, output, folder)
    assert run.code == 0, run.stderr
    assert "newer-build check skipped" in run.stderr


def test_no_credentials_is_one_line(env: dict[str, str], tmp_path: Path, folder: str) -> None:
    output = _make_export(tmp_path / "out", {SYNC: HEADER})
    bare = {k: v for k, v in env.items() if k not in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
    run = deliver(bare, output, folder)
    assert run.code == 6 and "NoCredentialsError" in run.stderr


def test_the_real_export_of_the_sample(
    s3: S3Server, env: dict[str, str], tmp_path: Path, folder: str, sample_build: Any
) -> None:
    """The sample's export (conftest's build): its manifest, and the build log dbt wrote."""
    output = tmp_path / "out"
    shutil.copytree(sample_build.output_dir, output)  # the export recorded its manifest
    database = sample_build.root.parent / "db" / "sample.duckdb"
    real = {
        **env,
        "DELIVER_PROJECT": str(sample_build.root),
        "HANDSHAKE_DUCKDB_PATH": str(database),
    }
    run = deliver(real, output, folder)
    assert (run.code, run.stderr) == (0, "")
    landed = s3.admin.get_object(Bucket=BUCKET, Key=f"{folder}/{SYNC}")["Body"].read()
    assert landed == (output / SYNC).read_bytes()
    assert s3.keys(folder) == [f"{folder}/{SYNC}"]


@pytest.mark.parametrize(
    "sync_files", [{}, {"20260615_users_part02.csv": HEADER}], ids=["none", "part01-missing"]
)
def test_an_export_without_a_whole_sync_file_is_refused(
    env: dict[str, str], tmp_path: Path, folder: str, sync_files: dict[str, bytes]
) -> None:
    output = _make_export(tmp_path / "out", sync_files)
    run = deliver(env, output, folder)
    assert run.code == 5 and "no single, complete 20260615_users" in run.stderr
    (output / "manifest.json").unlink()
    assert deliver(env, output, folder).code == 5
    assert not (output / "delivery_log.csv").exists()


def test_usage_errors_exit_2(env: dict[str, str], tmp_path: Path, folder: str) -> None:
    output = _make_export(tmp_path / "out", {SYNC: HEADER})
    assert deliver(env, output, folder, "--target", "no_such_target").code == 2
    bad_uri = [sys.executable, str(DELIVER), "--output-dir", str(output), "--s3-uri", "s3://x"]
    assert subprocess.run(bad_uri, env=env, capture_output=True, check=False).returncode == 2
