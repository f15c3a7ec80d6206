"""Encrypted backup of the session Postgres to a second location, restored into a fresh container (A.8.13)."""

import os
import secrets
import stat

import pytest

from baseline import DATABASE
from components import backup_runtime
from tests.fixtures.docker_engine import remove_quietly, start_postgres, superuser_sql

pytestmark = pytest.mark.integration

TABLES = (DATABASE.audit_log_table, "memories")


def table_checksums(postgres, test_pki) -> dict[str, tuple[int, str]]:
    """Row count and md5 over every row (in id order) of each table, read as the superuser on the local socket
    (RLS bypassed)."""
    checksums = {}
    for table in TABLES:
        ((count, digest),) = superuser_sql(postgres.container, f"SELECT count(*), md5(coalesce(string_agg(t::text, "
                                                               f"'|' ORDER BY id), '')) FROM {table} t")
        checksums[table] = (int(count), digest)
    return checksums


@pytest.fixture(scope="module")
def backup_key(tmp_path_factory):
    path = tmp_path_factory.mktemp("backup-key") / "backup.key"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_urlsafe(48) + "\n")
    return path


@pytest.fixture(scope="module")
def backup(postgres, test_pki, backup_key, tmp_path_factory):
    """Rows in both tables, then an encrypted dump written to a second location."""
    superuser_sql(postgres.container, "SELECT memory_store('tenant-backup', 'memory ' || n) FROM generate_series(1, 200) n")
    second_location = tmp_path_factory.mktemp("offsite")
    return backup_runtime.backup(postgres.container.name, backup_key, second_location / "rae.dump.enc")


@pytest.fixture(scope="module")
def restored(docker_client, built_images, test_pki, secret_dir, backup, backup_key):
    """A fresh Postgres container from the same image, with the backup restored into it."""
    fresh = start_postgres(docker_client, built_images["postgres"], test_pki, secret_dir, "restore")
    try:
        backup_runtime.restore(fresh.container.name, backup_key, backup.path)
        yield fresh
    finally:
        remove_quietly(docker_client, fresh.container, fresh.volume)


def test_backup_is_encrypted_and_private(backup):
    content = backup.path.read_bytes()
    assert content.startswith(b"Salted__")  # openssl enc framing, not pg_dump's "PGDMP"
    assert b"PGDMP" not in content and b"memory 1" not in content
    assert stat.S_IMODE(backup.path.stat().st_mode) == 0o600
    assert not backup.path.with_name(backup.path.name + ".partial").exists()


def test_restore_gives_identical_rows(postgres, test_pki, backup, restored):
    original = table_checksums(postgres, test_pki)
    assert original["memories"][0] >= 200
    assert table_checksums(restored, test_pki) == original


def test_restore_keeps_the_audit_log_append_only_and_its_chain_intact(restored, test_pki):
    with pytest.raises(RuntimeError, match="append-only"):
        superuser_sql(restored.container, f"DELETE FROM {DATABASE.audit_log_table}")
    ((intact, rows, broken, _, _),) = superuser_sql(restored.container, "SELECT * FROM audit_log_verify()")
    assert (intact, broken) == ("t", "") and int(rows) >= 200


def test_restore_with_a_wrong_key_fails_and_changes_nothing(restored, test_pki, backup, tmp_path):
    wrong_key = tmp_path / "wrong.key"
    fd = os.open(wrong_key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write("not the key\n")
    before = table_checksums(restored, test_pki)
    with pytest.raises(RuntimeError, match="restore failed"):
        backup_runtime.restore(restored.container.name, wrong_key, backup.path)
    assert table_checksums(restored, test_pki) == before


def test_key_file_readable_by_others_is_refused(postgres, backup_key, tmp_path):
    loose_key = tmp_path / "loose.key"
    loose_key.write_text("key\n")
    loose_key.chmod(0o644)
    with pytest.raises(ValueError, match="A.8.24"):
        backup_runtime.backup(postgres.container.name, loose_key, tmp_path / "never.enc")
    assert not (tmp_path / "never.enc").exists()


def test_command_line_backup_writes_the_dump_and_reports_errors(postgres, backup_key, tmp_path, capsys):
    assert backup_runtime.main(["backup", "--container", postgres.container.name, "--key-file", str(backup_key),
                                "--output", str(tmp_path / "cli.dump.enc")]) == 0
    assert (tmp_path / "cli.dump.enc").read_bytes().startswith(b"Salted__")
    assert backup_runtime.main(["backup", "--container", postgres.container.name, "--key-file", str(backup_key)]) == 1
    assert "needs --output" in capsys.readouterr().err
