"""Backups: create, verify and restore into a new empty database, and every refusal.

Runs on SQLite by default and on PostgreSQL when RECOVERY_TEST_DATABASE_URL is set; the
restore target is then a fresh database created on the same server.
"""

from __future__ import annotations

import json
import os
import re
import struct
import uuid
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from recovery import create_app
from recovery.audit.context import acting_as, cli_actor
from recovery.auth import services as auth_services
from recovery.backup import services
from recovery.extensions import db
from recovery.settings.models import Setting
from tests.conftest import base_config


@pytest.fixture
def dialect(migrated_database) -> str:
    return migrated_database[0]


@pytest.fixture
def sample_data(app, make_user):
    """A few rows in every business table, with non-ASCII text and text primary keys."""
    with app.app_context(), acting_as(cli_actor()):
        head_office = auth_services.create_department("总部", "company", None)
        auth_services.create_department("Legal", "department", head_office)
        for key, value in (("B-key", "1"), ("a-key", "2"), ("中文", "三")):
            db.session.add(Setting(key=key, value=value))
        db.session.commit()
    make_user("alice", "finance", display_name="王小明", department="总部")
    make_user("bob", "sales", "supervisor", email="bob@example.com")


@pytest.fixture
def empty_target(migrated_database, tmp_path):
    """The URL of a new, empty database of the same kind as the test database."""
    kind, location = migrated_database
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'restored' / 'restored.sqlite3'}"
        return
    name = f"recovery_restore_{uuid.uuid4().hex[:12]}"
    server = sa.create_engine(location, isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        yield sa.make_url(location).set(database=name).render_as_string(hide_password=False)
        with server.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        server.dispose()


@pytest.fixture
def target_app(empty_target, tmp_path):
    """A second application configured for the empty target database."""
    app = create_app(base_config(tmp_path / "target", empty_target))
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def backup_file(app, runner, sample_data, tmp_path):
    path = tmp_path / "backup.zip"
    result = runner.invoke(args=["backup", "create", "--output", str(path)])
    assert result.exit_code == 0, result.output
    return path


def invoke(app, *args):
    return app.test_cli_runner().invoke(args=[str(arg) for arg in args])


def snapshot(app) -> dict[str, list[tuple]]:
    """Every row of every table of the app's database, in primary-key order."""
    with app.app_context():
        metadata = sa.MetaData()
        metadata.reflect(db.engine)
        rows = {}
        with db.engine.connect() as connection:
            for table in metadata.sorted_tables:
                query = sa.select(table).order_by(*table.primary_key.columns)
                rows[table.name] = [tuple(row) for row in connection.execute(query)]
    return rows


def target_tables(app) -> list[str]:
    with app.app_context():
        tables = services.existing_tables(db.engine)
        db.engine.dispose()
    return tables


def rewrite(source: Path, destination: Path, manifest=None, payload=None, dialect=None) -> Path:
    """Copy a backup, letting the caller change the manifest, the payload or the dialect."""
    with zipfile.ZipFile(source) as archive:
        data = json.loads(archive.read(services.MANIFEST_NAME))
        content = archive.read(data["payload"]["name"])
    if manifest:
        manifest(data)
    if payload:
        content = payload(content)
    if dialect:
        data["dialect"] = dialect
        data["payload"]["name"] = services.PAYLOAD_NAMES[dialect]
    with zipfile.ZipFile(destination, "w") as archive:
        archive.writestr(services.MANIFEST_NAME, json.dumps(data))
        archive.writestr(data["payload"]["name"], content)
    return destination


# --------------------------------------------------------------------------------------------
# The round trip


def test_create_verify_restore_round_trip(app, backup_file, target_app):
    original = snapshot(app)
    assert set(original) == set(db.metadata.tables) | {"alembic_version"}
    assert len(original["users"]) == 2 and len(original["settings"]) == 3

    verified = invoke(app, "backup", "verify", backup_file)
    assert verified.exit_code == 0, verified.output
    assert "backup OK" in verified.output

    restored = invoke(target_app, "backup", "restore", backup_file)
    assert restored.exit_code == 0, restored.output
    total = sum(len(rows) for rows in original.values())
    tables = len(db.metadata.tables) + 1  # plus alembic_version
    assert f"restore complete: {tables} tables, {total} rows match the manifest" in restored.output

    assert snapshot(target_app) == original
    # The restored audit trail is whole, append-only triggers included.
    audit = invoke(target_app, "audit", "verify")
    assert audit.exit_code == 0, audit.output
    assert "audit trail intact" in audit.output


def test_manifest_describes_the_database(app, dialect, backup_file):
    with zipfile.ZipFile(backup_file) as archive:
        names = set(archive.namelist())
        data = json.loads(archive.read("manifest.json"))
    manifest = services.Manifest.from_dict(data)
    assert names == {"manifest.json", manifest.payload_name}
    assert data["format"] == "recovery-backup" and data["format_version"] == 1
    assert manifest.dialect == dialect
    assert snapshot(app)["alembic_version"] == [(manifest.alembic_revision,)]
    assert manifest.created_at.endswith("Z")
    assert set(manifest.tables) == set(db.metadata.tables) | {"alembic_version"}
    assert manifest.tables["users"].rows == 2
    assert manifest.tables["settings"].primary_key == ("key",)
    assert manifest.tables["user_roles"].primary_key == ("user_id", "role")
    assert manifest.created_by.startswith("cli:")


def test_create_writes_to_instance_backups_by_default(app, runner, sample_data):
    result = runner.invoke(args=["backup", "create"])
    assert result.exit_code == 0, result.output
    match = re.search(r"backup written: (\S+)", result.output)
    path = Path(match.group(1))
    try:
        assert path.parent == Path(app.instance_path) / "backups"
        assert re.fullmatch(r"recovery-\d{8}T\d{6}Z\.zip", path.name)
        assert path.stat().st_mode & 0o077 == 0  # password hashes inside: owner only
        assert f"{len(db.metadata.tables) + 1} tables" in result.output
    finally:
        path.unlink()


def test_create_refuses_to_overwrite(app, runner, backup_file):
    before = backup_file.read_bytes()
    result = runner.invoke(args=["backup", "create", "--output", str(backup_file)])
    assert result.exit_code != 0
    assert "already exists" in result.output
    assert backup_file.read_bytes() == before


def test_rows_committed_during_a_backup_are_in_neither_dump_nor_manifest(
    app, sample_data, target_app, tmp_path, monkeypatch
):
    """Manifest and payload describe one instant even while the application keeps writing."""
    summarise = services.summarise_database

    def write_then_summarise(connection, *args, **kwargs):
        with db.engine.begin() as other:
            other.execute(
                Setting.__table__.insert().values(key="late", value="x", updated_at=sa.func.now())
            )
        return summarise(connection, *args, **kwargs)

    monkeypatch.setattr(services, "summarise_database", write_then_summarise)
    path = tmp_path / "during.zip"
    created = invoke(app, "backup", "create", "--output", path)
    assert created.exit_code == 0, created.output
    assert any(row[0] == "late" for row in snapshot(app)["settings"])

    restored = invoke(target_app, "backup", "restore", path)
    assert restored.exit_code == 0, restored.output
    keys = [row[0] for row in snapshot(target_app)["settings"]]
    assert "late" not in keys and len(keys) == 3


# --------------------------------------------------------------------------------------------
# Refusals


def test_restore_refuses_a_database_that_is_not_empty(app, backup_file):
    before = snapshot(app)
    result = invoke(app, "backup", "restore", backup_file)
    assert result.exit_code != 0
    assert "not empty" in result.output and "nothing was restored" in result.output
    assert snapshot(app) == before


def test_foreign_file_is_refused(app, target_app, tmp_path):
    path = tmp_path / "random.zip"
    path.write_bytes(os.urandom(4096))
    for command in ("verify", "restore"):
        result = invoke(target_app, "backup", command, path)
        assert result.exit_code != 0
        assert "not a recovery backup" in result.output
    assert target_tables(target_app) == []


def test_zip_without_manifest_is_refused(app, target_app, tmp_path):
    path = tmp_path / "other.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("notes.txt", "hello")
    for command in ("verify", "restore"):
        result = invoke(target_app, "backup", command, path)
        assert result.exit_code != 0
        assert "not a recovery backup" in result.output and "manifest.json" in result.output
    assert target_tables(target_app) == []


def test_manifest_of_another_kind_is_refused(app, target_app, tmp_path):
    path = tmp_path / "other.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("manifest.json", json.dumps({"format": "something-else"}))
    result = invoke(app, "backup", "verify", path)
    assert result.exit_code != 0
    assert "not a recovery backup" in result.output


def test_malformed_manifest_is_refused(app, backup_file, tmp_path):
    def break_count(data):
        data["tables"]["users"]["rows"] = "two"

    path = rewrite(backup_file, tmp_path / "malformed.zip", manifest=break_count)
    result = invoke(app, "backup", "verify", path)
    assert result.exit_code != 0
    assert "manifest is malformed" in result.output


def test_truncated_backup_is_refused(app, backup_file, target_app, tmp_path):
    content = backup_file.read_bytes()
    path = tmp_path / "truncated.zip"
    path.write_bytes(content[: len(content) // 2])
    for command in ("verify", "restore"):
        result = invoke(target_app, "backup", command, path)
        assert result.exit_code != 0
        assert "truncated" in result.output
    assert target_tables(target_app) == []


def test_damaged_payload_bytes_are_refused(app, backup_file, target_app, tmp_path):
    """Bit rot inside the archive: the ZIP's own CRC (or inflate) catches it."""
    content = bytearray(backup_file.read_bytes())
    with zipfile.ZipFile(backup_file) as archive:
        info = next(i for i in archive.infolist() if i.filename != "manifest.json")
    # The payload's data starts after its 30-byte local header, name and extra field (the
    # lengths of both are little-endian 16-bit numbers at offsets 26 and 28 of the header).
    header = info.header_offset
    name_length, extra_length = struct.unpack("<HH", bytes(content[header + 26 : header + 30]))
    start = header + 30 + name_length + extra_length
    middle = start + info.compress_size // 2
    content[middle] ^= 0xFF
    path = tmp_path / "rotten.zip"
    path.write_bytes(bytes(content))
    for command in ("verify", "restore"):
        result = invoke(target_app, "backup", command, path)
        assert result.exit_code != 0
        assert "damaged" in result.output or "does not match" in result.output
    assert target_tables(target_app) == []


def test_tampered_payload_is_refused(app, backup_file, target_app, tmp_path):
    def tamper(content: bytes) -> bytes:
        middle = len(content) // 2
        return content[:middle] + bytes([content[middle] ^ 0x01]) + content[middle + 1 :]

    path = rewrite(backup_file, tmp_path / "tampered.zip", payload=tamper)
    for command in ("verify", "restore"):
        result = invoke(target_app, "backup", command, path)
        assert result.exit_code != 0
        assert "SHA-256 does not match the manifest" in result.output
    assert target_tables(target_app) == []


def test_manifest_with_wrong_checksums_is_refused(app, dialect, backup_file, target_app, tmp_path):
    def claim_another_user(data):
        data["tables"]["users"]["rows"] += 1

    path = rewrite(backup_file, tmp_path / "lying.zip", manifest=claim_another_user)
    if dialect == "sqlite":
        # The SQLite copy is checksummed on verify: refused before anything is touched.
        for command in ("verify", "restore"):
            result = invoke(target_app, "backup", command, path)
            assert result.exit_code != 0
            assert "does not match the manifest" in result.output and "users" in result.output
        assert target_tables(target_app) == []
    else:
        # A pg_dump archive can only be counted inside a server: the restore says so loudly.
        result = invoke(target_app, "backup", "restore", path)
        assert result.exit_code != 0
        assert "does not match the manifest" in result.output
        assert "users: 2 rows, manifest says 3" in result.output
        assert "restore complete" not in result.output


def test_backup_of_another_dialect_is_refused(app, dialect, backup_file, target_app, tmp_path):
    other = "postgresql" if dialect == "sqlite" else "sqlite"
    path = rewrite(backup_file, tmp_path / "other-dialect.zip", dialect=other)
    result = invoke(target_app, "backup", "restore", path)
    assert result.exit_code != 0
    assert f"the backup is of a {other} database" in result.output
    assert target_tables(target_app) == []


# --------------------------------------------------------------------------------------------
# Checksums


def test_checksum_does_not_depend_on_the_batch_size(app, sample_data):
    with app.app_context(), db.engine.connect() as connection:
        whole = services.summarise_database(connection, batch_size=1000)
        in_twos = services.summarise_database(connection, batch_size=2)
    assert whole == in_twos
    assert whole["settings"].rows == 3


def test_rows_are_streamed_in_batches(app, sample_data):
    """A million-row table must never be fetched whole: rows arrive batch by batch."""
    with app.app_context(), db.engine.connect() as connection:
        batches = services.stream_batches(connection, "SELECT key FROM settings", 2)
        sizes = [len(batch) for batch in batches]
    assert sizes == [2, 1]


def test_canonical_rows_keep_types_apart():
    rows = [
        [1],
        ["1"],
        [Decimal("1")],
        [Decimal("1.0")],
        [True],
        [None],
        ["null"],
        [b"1"],
    ]
    encoded = {services.canonical_row(row) for row in rows}
    assert len(encoded) == len(rows)
    assert services.canonical_row(["a\nb"]).count(b"\n") == 1  # one line per row
