"""Backups: one ZIP file holding a consistent copy of the database and a manifest that proves it.

create_backup()   SQLite: the online backup API into a private copy. PostgreSQL: ``pg_dump -Fc``
                  inside an exported snapshot, so that the manifest and the dump describe the
                  same instant while the application keeps running.
verify_backup()   the file is ours, the manifest is well formed, the payload's SHA-256 matches;
                  a SQLite copy is also opened and every table is checksummed again.
restore_backup()  into an EMPTY database of the same dialect, then every table is checksummed
                  on the restored database and compared with the manifest.

Every function takes plain values (an Engine, paths); nothing here needs a Flask context.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

FORMAT = "recovery-backup"
FORMAT_VERSION = 1
MANIFEST_NAME = "manifest.json"
PAYLOAD_NAMES = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
ALEMBIC_TABLE = "alembic_version"
BATCH_SIZE = 5000
# A manifest is a few kilobytes per table; refuse anything absurd before reading it into memory.
MAX_MANIFEST_BYTES = 16 * 1024 * 1024
CHUNK = 1024 * 1024
SHA256_PATTERN = re.compile(r"^[0-9a-f]{64}$")
PG_TOOL_DIRS = "/usr/lib/postgresql/*/bin"


class BackupError(Exception):
    """A backup could not be made, checked or restored; the message says why in one line."""


class NotABackupError(BackupError):
    """The file is not one of our backups at all."""


class DamagedBackupError(BackupError):
    """The file claims to be our backup but its contents do not hold together."""


class RestoreRefusedError(BackupError):
    """The target cannot take this backup; nothing was changed."""


class RestoreMismatchError(BackupError):
    """The restore ran, but the restored tables differ from the manifest."""

    def __init__(self, mismatches: list[str]):
        self.mismatches = mismatches
        super().__init__(
            f"restored database does not match the manifest in {len(mismatches)} "
            f"table(s): {'; '.join(mismatches)} - do not put it into service"
        )


@dataclass(frozen=True)
class TableSum:
    """What the manifest records for one table: its layout, row count and row checksum."""

    columns: tuple[str, ...]
    primary_key: tuple[str, ...]
    rows: int
    sha256: str

    def to_dict(self) -> dict:
        return {
            "columns": list(self.columns),
            "primary_key": list(self.primary_key),
            "rows": self.rows,
            "sha256": self.sha256,
        }


@dataclass(frozen=True)
class Manifest:
    dialect: str
    created_at: str
    alembic_revision: str | None
    payload_name: str
    payload_sha256: str
    payload_size: int
    tables: dict[str, TableSum]
    created_by: str | None = None
    server_version: str | None = None

    @property
    def total_rows(self) -> int:
        return sum(table.rows for table in self.tables.values())

    def to_dict(self) -> dict:
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "dialect": self.dialect,
            "created_at": self.created_at,
            "created_by": self.created_by,
            "server_version": self.server_version,
            "alembic_revision": self.alembic_revision,
            "payload": {
                "name": self.payload_name,
                "sha256": self.payload_sha256,
                "size": self.payload_size,
            },
            "tables": {name: self.tables[name].to_dict() for name in sorted(self.tables)},
        }

    @classmethod
    def from_dict(cls, data) -> Manifest:
        """Parse a manifest, refusing anything that is not exactly our shape."""
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise NotABackupError("not a recovery backup: the manifest lacks the format marker")
        version = data.get("format_version")
        if version != FORMAT_VERSION:
            raise BackupError(
                f"backup format version {version!r} is not supported (this program reads "
                f"version {FORMAT_VERSION})"
            )
        dialect = _field(data, "dialect", str)
        if dialect not in PAYLOAD_NAMES:
            raise DamagedBackupError(f"manifest is malformed: unknown dialect {dialect!r}")
        created_at = _field(data, "created_at", str)
        try:
            datetime.fromisoformat(created_at)
        except ValueError:
            raise DamagedBackupError("manifest is malformed: created_at is not a date") from None
        payload = _field(data, "payload", dict)
        name = _field(payload, "name", str)
        if name != PAYLOAD_NAMES[dialect]:
            raise DamagedBackupError(f"manifest is malformed: unexpected payload name {name!r}")
        tables = _field(data, "tables", dict)
        if not tables:
            raise DamagedBackupError("manifest is malformed: it lists no tables")
        return cls(
            dialect=dialect,
            created_at=created_at,
            alembic_revision=_field(data, "alembic_revision", str, optional=True),
            payload_name=name,
            payload_sha256=_sha256_field(payload, "sha256"),
            payload_size=_count_field(payload, "size"),
            tables={str(table): _table_sum(table, entry) for table, entry in tables.items()},
            created_by=_field(data, "created_by", str, optional=True),
            server_version=_field(data, "server_version", str, optional=True),
        )


def _field(data: dict, key: str, kind: type, optional: bool = False):
    value = data.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, kind):
        raise DamagedBackupError(f"manifest is malformed: {key} is missing or not {kind.__name__}")
    return value


def _count_field(data: dict, key: str) -> int:
    value = data.get(key)
    # bool is an int in Python; a count of True is still malformed.
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise DamagedBackupError(f"manifest is malformed: {key} is not a count")
    return value


def _sha256_field(data: dict, key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not SHA256_PATTERN.match(value):
        raise DamagedBackupError(f"manifest is malformed: {key} is not a SHA-256 digest")
    return value


def _table_sum(name: str, entry) -> TableSum:
    if not isinstance(entry, dict):
        raise DamagedBackupError(f"manifest is malformed: table {name} is not an object")
    columns = entry.get("columns")
    primary_key = entry.get("primary_key")
    if (
        not isinstance(columns, list)
        or not columns
        or not all(isinstance(c, str) for c in columns)
        or not isinstance(primary_key, list)
        or not all(isinstance(c, str) and c in columns for c in primary_key)
    ):
        raise DamagedBackupError(f"manifest is malformed: table {name} has a bad column list")
    return TableSum(
        columns=tuple(columns),
        primary_key=tuple(primary_key),
        rows=_count_field(entry, "rows"),
        sha256=_sha256_field(entry, "sha256"),
    )


@dataclass(frozen=True)
class BackupResult:
    path: Path
    manifest: Manifest
    file_sha256: str


@dataclass(frozen=True)
class VerifyResult:
    path: Path
    manifest: Manifest
    file_sha256: str
    rows_checked: bool  # True when every table was checksummed again (SQLite payloads)


@dataclass(frozen=True)
class RestoreResult:
    manifest: Manifest
    tables: int
    rows: int


@dataclass(frozen=True)
class _Verified:
    manifest: Manifest
    payload: Path
    file_sha256: str
    rows_checked: bool


# --------------------------------------------------------------------------------------------
# Canonical rows and table checksums


def _canonical(value):
    """A JSON value that stands for ``value`` exactly, whatever the driver returned.

    Non-JSON types are tagged ({"decimal": "1.50"}) so that a string can never collide with a
    number or a date of the same spelling.
    """
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Decimal):
        return {"decimal": str(value)}
    if isinstance(value, datetime):
        # An aware timestamp comes back in the session's time zone; UTC makes it independent.
        if value.tzinfo is not None:
            value = value.astimezone(UTC)
        return {"datetime": value.isoformat()}
    if isinstance(value, date | time):
        return {type(value).__name__: value.isoformat()}
    if isinstance(value, timedelta):
        return {"timedelta": [value.days, value.seconds, value.microseconds]}
    if isinstance(value, bytes | bytearray | memoryview):
        return {"bytes": bytes(value).hex()}
    if isinstance(value, float):
        # Not used by this schema; float.hex() is exact where decimal text would round.
        return {"float": value.hex()}
    if isinstance(value, list | tuple):
        return [_canonical(item) for item in value]
    if isinstance(value, dict):
        return {"object": {str(key): _canonical(item) for key, item in value.items()}}
    return {type(value).__name__: str(value)}


# One encoder for all rows: json.dumps() with options builds a new encoder on every call.
_ROW_ENCODER = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))
_PLAIN_TYPES = frozenset({type(None), bool, int, str})


def canonical_row(row) -> bytes:
    """One line per row: compact JSON with sorted keys, UTF-8, newline-terminated."""
    # Most values are plain already; skipping the call for them halves the time per row.
    values = [value if type(value) in _PLAIN_TYPES else _canonical(value) for value in row]
    return _ROW_ENCODER.encode(values).encode("utf-8") + b"\n"


def _order_by(connection: Connection, table: str, columns: Iterable[str]) -> str:
    """ORDER BY text for ``columns``; text sorts bytewise so that the order never depends on
    the database's collation (a restore may land in a database with another locale)."""
    quote = connection.dialect.identifier_preparer.quote
    text_columns: set[str] = set()
    if connection.dialect.name == "postgresql":
        text_columns = {
            column["name"]
            for column in sa.inspect(connection).get_columns(table)
            if isinstance(column["type"], sa.String)
        }
    parts = []
    for column in columns:
        collate = ' COLLATE "C"' if column in text_columns else ""
        parts.append(f"{quote(column)}{collate}")
    return ", ".join(parts)


def checksum_table(
    connection: Connection,
    table: str,
    columns: Iterable[str],
    primary_key: Iterable[str],
    batch_size: int = BATCH_SIZE,
) -> tuple[int, str]:
    """Count the rows of ``table`` and hash them in primary-key order.

    The rows are streamed (a server-side cursor on PostgreSQL) and hashed batch by batch, so
    a table of millions of rows never sits in memory.
    """
    columns = list(columns)
    order = list(primary_key) or columns  # no primary key: every column, ties are identical
    quote = connection.dialect.identifier_preparer.quote
    # Identifiers come from the catalogue or a validated manifest and are quoted by the dialect.
    sql = (
        f"SELECT {', '.join(quote(c) for c in columns)} FROM {quote(table)} "  # noqa: S608
        f"ORDER BY {_order_by(connection, table, order)}"
    )
    digest = hashlib.sha256()
    count = 0
    for batch in stream_batches(connection, sql, batch_size):
        digest.update(b"".join([canonical_row(row) for row in batch]))
        count += len(batch)
    return count, digest.hexdigest()


def stream_batches(connection: Connection, sql: str, batch_size: int) -> Iterator[list]:
    """Run ``sql`` and yield its rows ``batch_size`` at a time, never all at once.

    stream_results gives a server-side cursor on PostgreSQL (SQLite steps its cursor
    anyway). Note: the ``yield_per`` option fetched everything for exec_driver_sql in
    SQLAlchemy 2.1, hence the explicit options and partition size.
    """
    result = connection.execution_options(
        stream_results=True, max_row_buffer=batch_size
    ).exec_driver_sql(sql)
    with contextlib.closing(result):
        yield from result.partitions(batch_size)


def _table_layouts(connection: Connection) -> dict[str, tuple[list[str], list[str]]]:
    """Every user table of the database with its columns (in order) and primary key."""
    inspector = sa.inspect(connection)
    layouts = {}
    for table in inspector.get_table_names():
        if table.startswith("sqlite_"):
            continue
        columns = [column["name"] for column in inspector.get_columns(table)]
        primary_key = inspector.get_pk_constraint(table).get("constrained_columns") or []
        layouts[table] = (columns, list(primary_key))
    return layouts


def summarise_database(
    connection: Connection, required_tables: Iterable[str] = (), batch_size: int = BATCH_SIZE
) -> dict[str, TableSum]:
    """Count and checksum every table; a required table that is missing is an error."""
    layouts = _table_layouts(connection)
    missing = sorted(set(required_tables) - set(layouts))
    if missing:
        raise BackupError(
            f"the database lacks table(s) {', '.join(missing)}; is it migrated "
            "(flask --app recovery db upgrade)?"
        )
    sums = {}
    for table in sorted(layouts):
        columns, primary_key = layouts[table]
        rows, digest = checksum_table(connection, table, columns, primary_key, batch_size)
        sums[table] = TableSum(tuple(columns), tuple(primary_key), rows, digest)
    return sums


def _alembic_revision(connection: Connection) -> str | None:
    if ALEMBIC_TABLE not in sa.inspect(connection).get_table_names():
        return None
    revisions = connection.exec_driver_sql(
        f"SELECT version_num FROM {ALEMBIC_TABLE} ORDER BY version_num"  # noqa: S608
    ).scalars()
    return ",".join(revisions) or None


def compare_with_manifest(
    connection: Connection, manifest: Manifest, batch_size: int = BATCH_SIZE
) -> list[str]:
    """Checksum the manifest's tables in ``connection``; one line per table that differs."""
    inspector = sa.inspect(connection)
    present = set(inspector.get_table_names())
    mismatches = []
    for table, expected in sorted(manifest.tables.items()):
        if table not in present:
            mismatches.append(f"{table}: missing")
            continue
        have = {column["name"] for column in inspector.get_columns(table)}
        lacking = [c for c in expected.columns if c not in have]
        if lacking:
            mismatches.append(f"{table}: lacks column(s) {', '.join(lacking)}")
            continue
        rows, digest = checksum_table(
            connection, table, expected.columns, expected.primary_key, batch_size
        )
        if rows != expected.rows:
            mismatches.append(f"{table}: {rows} rows, manifest says {expected.rows}")
        elif digest != expected.sha256:
            mismatches.append(f"{table}: row checksum differs from the manifest")
    return mismatches


# --------------------------------------------------------------------------------------------
# Files


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _utc_stamp(moment: datetime) -> str:
    return moment.strftime("%Y%m%dT%H%M%SZ")


def default_backup_name(moment: datetime) -> str:
    return f"recovery-{_utc_stamp(moment)}.zip"


def _sqlite_path(engine: Engine) -> Path:
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        raise BackupError(f"only SQLite database files are supported, not {database!r}")
    return Path(database).resolve()


def _sqlite_uri(path: Path, mode: str) -> str:
    # as_uri() escapes characters such as '?' and '#' that would end a hand-made URI.
    return f"{path.resolve().as_uri()}?mode={mode}"


def _sqlite_readonly_engine(path: Path) -> Engine:
    # NullPool: every connection is closed when released, none lingers after dispose().
    return sa.create_engine(
        "sqlite://",
        creator=lambda: sqlite3.connect(_sqlite_uri(path, "ro"), uri=True),
        poolclass=sa.pool.NullPool,
    )


def _write_archive(output: Path, manifest: Manifest, payload: Path) -> str:
    """Write the ZIP next to ``output`` under a temporary name, then move it into place, so
    that a half-written backup never carries the final name. Returns the file's SHA-256."""
    output.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    partial = output.with_name(f".{output.name}.partial")
    # The backup holds password hashes: readable by the owner only.
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with (
            os.fdopen(fd, "wb") as handle,
            zipfile.ZipFile(handle, "w", allowZip64=True) as archive,
        ):
            text = json.dumps(manifest.to_dict(), ensure_ascii=False, indent=2)
            archive.writestr(MANIFEST_NAME, text.encode("utf-8"), zipfile.ZIP_DEFLATED)
            # pg_dump -Fc is compressed already; a SQLite file compresses well.
            method = zipfile.ZIP_DEFLATED if manifest.dialect == "sqlite" else zipfile.ZIP_STORED
            archive.write(payload, manifest.payload_name, compress_type=method)
        os.replace(partial, output)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return _sha256_file(output)


# --------------------------------------------------------------------------------------------
# PostgreSQL client tools


def _tool_major(path: str) -> int | None:
    try:
        completed = subprocess.run(  # noqa: S603 - a fixed argument list, no shell
            [path, "--version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r"\(PostgreSQL\)\s+(\d+)", completed.stdout)
    return int(match.group(1)) if match else None


def find_pg_tool(name: str, server_major: int | None = None) -> str:
    """The pg_dump/pg_restore to use: PATH or /usr/lib/postgresql/*/bin, preferring the
    server's major version, else the nearest newer one (an older client cannot read a newer
    server or archive)."""
    candidates = []
    on_path = shutil.which(name)
    if on_path:
        candidates.append(on_path)
    candidates += sorted(glob.glob(f"{PG_TOOL_DIRS}/{name}"))
    versions = {}
    for path in candidates:
        major = _tool_major(path)
        if major is not None:
            versions.setdefault(path, major)
    if not versions:
        raise BackupError(f"{name} not found on PATH or in {PG_TOOL_DIRS}; install the client")
    if server_major is None:
        return max(versions, key=versions.get)
    usable = [(major, path) for path, major in versions.items() if major >= server_major]
    if not usable:
        raise BackupError(
            f"{name} {max(versions.values())} is older than PostgreSQL {server_major}; "
            f"install postgresql-client-{server_major}"
        )
    # Exact match first; min() keeps PATH order among equal versions (candidates are ordered).
    return min(usable, key=lambda item: item[0])[1]


def _libpq(url: sa.URL) -> tuple[str, dict]:
    """The libpq URL for pg_dump/pg_restore (the SQLAlchemy URL without the driver part).

    The password travels in PGPASSWORD, not on the command line where ps(1) would show it.
    """
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


@contextlib.contextmanager
def _database_errors(what: str) -> Iterator[None]:
    """Turn a driver error (no such database, refused connection, ...) into one clear line."""
    try:
        yield
    except sa.exc.DBAPIError as error:
        detail = str(error.orig).strip().splitlines()
        raise BackupError(f"{what}: {detail[0] if detail else type(error.orig).__name__}") from None


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "no message"


def _first_error(text: str) -> str:
    for line in text.splitlines():
        if "error" in line.lower():
            return line.strip()
    return _last_line(text)


# --------------------------------------------------------------------------------------------
# Create


def create_backup(
    engine: Engine,
    output: Path | None,
    *,
    backup_dir: Path,
    required_tables: Iterable[str] = (),
    created_by: str | None = None,
) -> BackupResult:
    """Back up the database behind ``engine`` to ``output`` (default: backup_dir/recovery-…zip).

    ``required_tables`` are the application's tables: a database without them is not ours.
    """
    moment = datetime.now(UTC).replace(microsecond=0)
    output = Path(output) if output is not None else backup_dir / default_backup_name(moment)
    if output.exists():
        raise BackupError(f"{output} already exists; choose another --output")
    required = set(required_tables) | {ALEMBIC_TABLE}
    dialect = engine.dialect.name
    if dialect not in PAYLOAD_NAMES:
        raise BackupError(f"cannot back up a {dialect} database")
    output.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    # Work next to the output: the payload can be large and /tmp may be a small tmpfs.
    with (
        tempfile.TemporaryDirectory(prefix=".recovery-backup-", dir=output.parent) as work,
        _database_errors("cannot read the database"),
    ):
        payload = Path(work) / PAYLOAD_NAMES[dialect]
        if dialect == "sqlite":
            tables, revision, server = _dump_sqlite(engine, payload, required)
        else:
            tables, revision, server = _dump_postgresql(engine, payload, Path(work), required)
        manifest = Manifest(
            dialect=dialect,
            created_at=moment.isoformat().replace("+00:00", "Z"),
            alembic_revision=revision,
            payload_name=PAYLOAD_NAMES[dialect],
            payload_sha256=_sha256_file(payload),
            payload_size=payload.stat().st_size,
            tables=tables,
            created_by=created_by,
            server_version=server,
        )
        file_sha256 = _write_archive(output, manifest, payload)
    return BackupResult(output, manifest, file_sha256)


def _dump_sqlite(engine: Engine, payload: Path, required: set[str]):
    source_path = _sqlite_path(engine)
    if not source_path.exists():
        raise BackupError(f"database file {source_path} does not exist")
    # mode=rw: never create a missing file. The backup API copies one consistent snapshot
    # (in WAL mode without blocking the application's writers).
    with (
        contextlib.closing(sqlite3.connect(_sqlite_uri(source_path, "rw"), uri=True)) as source,
        contextlib.closing(sqlite3.connect(payload)) as copy,
    ):
        source.backup(copy)
        # A rollback-journal file can be opened read-only later without -wal/-shm companions.
        copy.execute("PRAGMA journal_mode=DELETE").fetchall()
    # The manifest is computed on the copy itself, so it describes exactly what is shipped.
    copy_engine = _sqlite_readonly_engine(payload)
    try:
        with copy_engine.connect() as connection:
            tables = summarise_database(connection, required)
            revision = _alembic_revision(connection)
    finally:
        copy_engine.dispose()
    return tables, revision, sqlite3.sqlite_version


def _dump_postgresql(engine: Engine, payload: Path, work: Path, required: set[str]):
    with engine.connect() as connection:
        connection = connection.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            # The exported snapshot is this transaction's: pg_dump adopts it, so the dump and
            # the manifest computed below see the same committed rows. It stays valid only
            # while this transaction is open, hence pg_dump runs inside the `with`.
            snapshot = connection.exec_driver_sql("SELECT pg_export_snapshot()").scalar_one()
            server = connection.exec_driver_sql("SHOW server_version").scalar_one()
            major = int(connection.exec_driver_sql("SHOW server_version_num").scalar_one())
            pg_dump = find_pg_tool("pg_dump", major // 10000)
            url, env = _libpq(engine.url)
            log_path = work / "pg_dump.log"
            command = [
                pg_dump,
                "--format=custom",
                f"--snapshot={snapshot}",
                f"--file={payload}",
                f"--dbname={url}",
            ]
            # stderr goes to a file: a pipe nobody reads could fill up and stall pg_dump.
            with open(log_path, "wb") as log:
                process = subprocess.Popen(  # noqa: S603 - a fixed argument list, no shell
                    command, stdout=subprocess.DEVNULL, stderr=log, env=env
                )
                try:
                    # Checksumming runs while pg_dump copies: both read the same snapshot.
                    tables = summarise_database(connection, required)
                    revision = _alembic_revision(connection)
                except BaseException:
                    process.kill()
                    process.wait()
                    raise
                returncode = process.wait()
    if returncode != 0:
        message = _last_line(log_path.read_text(errors="replace"))
        raise BackupError(f"pg_dump failed (exit {returncode}): {message}")
    return tables, revision, server


# --------------------------------------------------------------------------------------------
# Verify


def read_manifest(path: Path) -> Manifest:
    """Open the archive and parse its manifest; says "not a recovery backup" for foreign files."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"{path} is not a file")
    try:
        with zipfile.ZipFile(path) as archive:
            try:
                info = archive.getinfo(MANIFEST_NAME)
            except KeyError:
                raise NotABackupError(
                    f"not a recovery backup: {path.name} has no {MANIFEST_NAME}"
                ) from None
            if info.file_size > MAX_MANIFEST_BYTES:
                raise DamagedBackupError(f"{MANIFEST_NAME} is implausibly large")
            raw = archive.read(info)
    except (zipfile.BadZipFile, zlib.error, EOFError) as error:
        raise NotABackupError(
            f"not a recovery backup: {path.name} is not a readable ZIP archive "
            f"(foreign, truncated or damaged: {error})"
        ) from None
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise DamagedBackupError(f"{MANIFEST_NAME} is not valid JSON") from None
    return Manifest.from_dict(data)


def _extract_payload(path: Path, manifest: Manifest, work: Path) -> Path:
    """Copy the payload out of the archive, hashing as it streams; refuse any difference."""
    target = work / manifest.payload_name
    digest = hashlib.sha256()
    size = 0
    try:
        with (
            zipfile.ZipFile(path) as archive,
            archive.open(manifest.payload_name) as source,
            open(target, "wb") as sink,
        ):
            while chunk := source.read(CHUNK):
                digest.update(chunk)
                size += len(chunk)
                sink.write(chunk)
    except KeyError:
        raise DamagedBackupError(f"the archive lacks its payload {manifest.payload_name}") from None
    except (zipfile.BadZipFile, zlib.error, EOFError) as error:
        raise DamagedBackupError(f"the payload is damaged: {error}") from None
    if size != manifest.payload_size or digest.hexdigest() != manifest.payload_sha256:
        raise DamagedBackupError(
            "the payload's SHA-256 does not match the manifest: the backup was altered or damaged"
        )
    return target


def _check_sqlite_payload(payload: Path, manifest: Manifest) -> None:
    engine = _sqlite_readonly_engine(payload)
    try:
        with engine.connect() as connection:
            integrity = connection.exec_driver_sql("PRAGMA quick_check").scalar()
            if integrity != "ok":
                raise DamagedBackupError(f"the database copy fails SQLite's check: {integrity}")
            mismatches = compare_with_manifest(connection, manifest)
    except sa.exc.DBAPIError as error:
        raise DamagedBackupError(f"the database copy cannot be read: {error.orig}") from None
    finally:
        engine.dispose()
    if mismatches:
        raise DamagedBackupError(
            f"the database copy does not match the manifest: {'; '.join(mismatches)}"
        )


def _check_pg_archive(payload: Path) -> None:
    # pg_restore --list reads the archive's table of contents without a server.
    pg_restore = find_pg_tool("pg_restore")
    completed = subprocess.run(  # noqa: S603 - a fixed argument list, no shell
        [pg_restore, "--list", str(payload)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise DamagedBackupError(
            f"the payload is not a readable pg_dump archive: {_last_line(completed.stderr)}"
        )


@contextlib.contextmanager
def open_verified(path: Path) -> Iterator[_Verified]:
    """Check the whole file and yield its extracted payload (in a temporary directory that is
    removed afterwards). What is restored is exactly what was checked."""
    path = Path(path)
    manifest = read_manifest(path)
    file_sha256 = _sha256_file(path)
    with tempfile.TemporaryDirectory(prefix="recovery-verify-") as work:
        payload = _extract_payload(path, manifest, Path(work))
        if manifest.dialect == "sqlite":
            _check_sqlite_payload(payload, manifest)
            rows_checked = True
        else:
            _check_pg_archive(payload)
            rows_checked = False  # rows can only be counted once restored into a server
        yield _Verified(manifest, payload, file_sha256, rows_checked)


def verify_backup(path: Path) -> VerifyResult:
    with open_verified(path) as verified:
        return VerifyResult(
            Path(path), verified.manifest, verified.file_sha256, verified.rows_checked
        )


# --------------------------------------------------------------------------------------------
# Restore


def existing_tables(engine: Engine) -> list[str]:
    """Tables (and other relations) already in the target database."""
    if engine.dialect.name == "sqlite" and not _sqlite_path(engine).exists():
        return []  # connecting would create the file; a missing file is an empty database
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            rows = connection.exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') ORDER BY name"
            )
        else:
            rows = connection.exec_driver_sql(
                "SELECT n.nspname || '.' || c.relname FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S') "
                # Schema names starting with pg_ are reserved for the system (catalog, toast,
                # temporary schemas); everything else belongs to someone.
                "AND left(n.nspname, 3) <> 'pg_' AND n.nspname <> 'information_schema' "
                "ORDER BY 1"
            )
        return list(rows.scalars())


def restore_backup(path: Path, engine: Engine) -> RestoreResult:
    """Restore ``path`` into the empty database behind ``engine`` and prove the result.

    Order matters: the cheap refusals (foreign file, other dialect, target not empty) and
    the full verification all happen before the target is touched.
    """
    path = Path(path)
    manifest = read_manifest(path)
    target = engine.dialect.name
    if manifest.dialect != target:
        raise RestoreRefusedError(
            f"the backup is of a {manifest.dialect} database but the target is {target}; "
            "nothing was restored"
        )
    with _database_errors("cannot open the target database"):
        tables = existing_tables(engine)
    if tables:
        shown = ", ".join(tables[:5]) + (", ..." if len(tables) > 5 else "")
        raise RestoreRefusedError(
            f"the target database is not empty ({len(tables)} tables: {shown}); "
            "restore only into a new, empty database - nothing was restored"
        )
    with open_verified(path) as verified:
        # Use the manifest read together with the checked payload (the file could have been
        # replaced since the first look).
        manifest = verified.manifest
        if manifest.dialect != target:
            raise RestoreRefusedError("the backup file changed while it was being checked")
        # No pooled connection may outlive the switch from empty to restored.
        engine.dispose()
        if target == "sqlite":
            _sqlite_path(engine).parent.mkdir(parents=True, exist_ok=True)
            _restore_sqlite(verified.payload, _sqlite_path(engine))
        else:
            _restore_postgresql(verified.payload, engine)
        engine.dispose()
    with _database_errors("cannot read the restored database"), engine.connect() as connection:
        if target == "postgresql":
            connection = connection.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            mismatches = compare_with_manifest(connection, manifest)
    if mismatches:
        raise RestoreMismatchError(mismatches)
    return RestoreResult(manifest, len(manifest.tables), manifest.total_rows)


def _restore_sqlite(payload: Path, target: Path) -> None:
    with (
        contextlib.closing(sqlite3.connect(_sqlite_uri(payload, "ro"), uri=True)) as source,
        contextlib.closing(sqlite3.connect(target)) as sink,
    ):
        # A WAL-mode target refuses a copy with another page size; the empty file can switch.
        sink.execute("PRAGMA journal_mode=DELETE").fetchall()
        source.backup(sink)


def _restore_postgresql(payload: Path, engine: Engine) -> None:
    with engine.connect() as connection:
        major = int(connection.exec_driver_sql("SHOW server_version_num").scalar_one())
    pg_restore = find_pg_tool("pg_restore", major // 10000)
    url, env = _libpq(engine.url)
    # One transaction: a failure part-way leaves the target as empty as it was.
    completed = subprocess.run(  # noqa: S603 - a fixed argument list, no shell
        [
            pg_restore,
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            f"--dbname={url}",
            str(payload),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        check=False,
    )
    if completed.returncode != 0:
        raise BackupError(
            f"pg_restore failed, nothing was restored: {_first_error(completed.stderr)}"
        )
