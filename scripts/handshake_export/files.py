"""Atomic writing: files staged under hidden temporary names (0600), hashed as written,
renamed into place together; leaving Staging removes the rest (error, Ctrl-C, SIGTERM)."""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import os
import re
import secrets
import signal
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from math import ceil
from pathlib import Path
from typing import Any, BinaryIO

MAX_ROWS_PER_FILE = 199_999  # Handshake's limit per file
WRITE_BATCH_ROWS = 5_000  # rows per csv.writer call
# Staging's temporary names: "." + the file's name + 12 hex digits + ".tmp".
TEMPORARY_NAME = re.compile(r"\..+\.[0-9a-f]{12}\.tmp")


def csv_text(rows: Sequence[Sequence[Any]]) -> str:
    """Rows as CSV text: minimal quoting, "\\n" line ends, None as empty; a row holding a bare
    carriage return (csv before 3.13 leaves it unquoted) is quoted whole, as marts.csv_line_sql."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    if "\r" not in buffer.getvalue():
        return buffer.getvalue()
    buffer = io.StringIO()
    minimal = csv.writer(buffer, lineterminator="\n")
    quote_all = csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_ALL)
    for cells in rows:
        carriage_return = any("\r" in ("" if cell is None else str(cell)) for cell in cells)
        (quote_all if carriage_return else minimal).writerow(cells)
    return buffer.getvalue()


def write_chunk(raw: BinaryIO, digest: Any, text: str) -> None:
    """Encode, hash and write one chunk of a file."""
    data = text.encode("utf-8")
    digest.update(data)
    raw.write(data)


@dataclass
class StagedFile:
    name: str
    temp_path: Path
    rows: int = 0
    sha256: str = ""
    published: bool = False

    @property
    def listed(self) -> dict[str, Any]:  # the file's entry in manifest.json
        return {"rows": self.rows, "sha256": self.sha256}


@dataclass
class Staging:
    """Temporary files in the output directory, renamed into place together."""

    directory: Path
    files: list[StagedFile] = field(default_factory=list)

    def __enter__(self) -> Staging:
        return self

    def __exit__(self, *exc_info: object) -> None:
        for staged in self.files:
            if not staged.published:
                with contextlib.suppress(FileNotFoundError):
                    staged.temp_path.unlink()

    def write_csv(
        self, name: str, header: Sequence[str], rows: Iterable[Sequence[Any]], rendered: bool
    ) -> StagedFile:
        """The header, then the rows: their cells, or (rendered) the CSV line each holds."""

        def chunks() -> Iterator[tuple[str, int]]:
            yield csv_text([header]), 0
            iterator = iter(rows)
            while batch := list(islice(iterator, WRITE_BATCH_ROWS)):
                text = "".join([row[0] + "\n" for row in batch]) if rendered else csv_text(batch)
                yield text, len(batch)

        return self.write(name, chunks())

    def write(self, name: str, chunks: Iterable[tuple[str, int]]) -> StagedFile:
        """A file of (text, rows) chunks: hashed, synced to disk, 0600 whatever the umask."""
        staged = StagedFile(name, self.directory / f".{name}.{secrets.token_hex(6)}.tmp")
        descriptor = os.open(staged.temp_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        self.files.append(staged)
        os.fchmod(descriptor, 0o600)
        digest = hashlib.sha256()
        with os.fdopen(descriptor, "wb") as raw:
            for text, rows in chunks:
                write_chunk(raw, digest, text)
                staged.rows += rows
            raw.flush()
            os.fsync(raw.fileno())
        staged.sha256 = digest.hexdigest()
        return staged

    def publish(self, staged: StagedFile) -> Path:
        os.replace(staged.temp_path, self.directory / staged.name)
        staged.published = True
        return self.directory / staged.name


def sync_file_names(yyyymmdd: str, rows: int) -> list[str]:
    """The sync file's name, or its parts' names when it is over the row limit."""
    if rows <= MAX_ROWS_PER_FILE:
        return [f"{yyyymmdd}_users.csv"]
    parts = ceil(rows / MAX_ROWS_PER_FILE)
    return [f"{yyyymmdd}_users_part{number:02d}.csv" for number in range(1, parts + 1)]


def prepare_directory(directory: Path) -> bool:
    """Create the directory (0700) if missing (True then); remove the temporary files, holding
    student data, of an export killed outright (SIGKILL, power loss: no cleanup ran)."""
    created = not directory.is_dir()
    if created:
        directory.mkdir(parents=True, mode=0o700)
        os.chmod(directory, 0o700)  # whatever the umask
    for path in directory.iterdir():
        if TEMPORARY_NAME.fullmatch(path.name) and path.is_file():
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
    return created


@contextlib.contextmanager
def signals_deferred() -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM while the files are renamed into place."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def fsync_directory(directory: Path) -> None:
    with contextlib.suppress(OSError):
        descriptor = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
