"""Encrypted backup of a Postgres of its own to a second location, restored into a fresh container (A.8.13).

The module starts its own source container instead of borrowing the session's: a backup must not depend
on another test's container lifecycle.
"""

import datetime
import os
import re
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
def source(docker_client, built_images, test_pki, secret_dir):
    """A fresh hardened Postgres for this module alone (schema applied, healthy)."""
    running = start_postgres(docker_client, built_images["postgres"], test_pki, secret_dir, "backup-source")
    yield running
    remove_quietly(docker_client, running.container, running.volume)


@pytest.fixture(scope="module")
def backup_key(tmp_path_factory):
    path = tmp_path_factory.mktemp("backup-key") / "backup.key"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_urlsafe(48) + "\n")
    return path


@pytest.fixture(scope="module")
def backup(source, test_pki, backup_key, tmp_path_factory):
    """Rows in both tables, then an encrypted dump written to a second location."""
    superuser_sql(source.container, "SELECT memory_store('tenant-backup', 'memory ' || n) FROM generate_series(1, 200) n")
    second_location = tmp_path_factory.mktemp("offsite")
    return backup_runtime.backup(source.container.name, backup_key, second_location / "rae.dump.enc")


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


def test_restore_gives_identical_rows(source, test_pki, backup, restored):
    original = table_checksums(source, test_pki)
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


def test_key_file_readable_by_others_is_refused(source, backup_key, tmp_path):
    loose_key = tmp_path / "loose.key"
    loose_key.write_text("key\n")
    loose_key.chmod(0o644)
    with pytest.raises(ValueError, match="A.8.24"):
        backup_runtime.backup(source.container.name, loose_key, tmp_path / "never.enc")
    assert not (tmp_path / "never.enc").exists()


def test_command_line_backup_writes_the_dump_and_reports_errors(source, backup_key, tmp_path, capsys):
    assert backup_runtime.main(["backup", "--container", source.container.name, "--key-file", str(backup_key),
                                "--output", str(tmp_path / "cli.dump.enc")]) == 0
    assert (tmp_path / "cli.dump.enc").read_bytes().startswith(b"Salted__")
    assert backup_runtime.main(["backup", "--container", source.container.name, "--key-file", str(backup_key)]) == 1
    assert "needs --output" in capsys.readouterr().err


def test_command_line_backup_reports_its_readiness_wait(source, backup_key, tmp_path, capsys):
    assert backup_runtime.main(["backup", "--container", source.container.name, "--key-file", str(backup_key),
                                "--output", str(tmp_path / "ready.dump.enc")]) == 0
    assert f"{source.container.name}: server ready after" in capsys.readouterr().out


def test_a_server_that_never_answers_is_an_error_naming_the_control(docker_client, built_images, tmp_path):
    silent = docker_client.containers.run(built_images["postgres"], entrypoint=["sleep", "60"], detach=True,
                                          name=f"rae-test-silent-{secrets.token_hex(4)}", network_mode="none")
    try:
        with pytest.raises(RuntimeError, match=r"did not accept connections within 3 s.*A\.8\.13"):
            backup_runtime.wait_ready(silent.name, timeout_s=3)
    finally:
        remove_quietly(docker_client, silent)


def test_the_source_became_healthy_only_after_its_schema_was_applied(source):
    """The first-start server runs on a port of its own, so the healthcheck cannot pass before it stops."""
    source.container.reload()
    applied = [line for line in source.container.logs(timestamps=True).decode(errors="replace").splitlines()
               if "entrypoint: schema applied" in line]
    assert applied, "the entrypoint did not log that the schema was applied"
    applied_at = _docker_time(applied[0].split(" ", 1)[0])
    successes = [_docker_time(probe["Start"]) for probe in source.container.attrs["State"]["Health"]["Log"]
                 if probe["ExitCode"] == 0]
    assert successes and min(successes) > applied_at


def _docker_time(text: str) -> datetime.datetime:
    """Docker's RFC 3339 times carry nanoseconds (Python parses microseconds) and a `Z` or an offset."""
    match = re.fullmatch(r"(\S+?T[\d:]+)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)", text.strip())
    assert match, f"not a Docker timestamp: {text!r}"
    head, fraction, zone = match.groups()
    zone = "+00:00" if zone == "Z" else zone
    return datetime.datetime.fromisoformat(f"{head}.{(fraction or '0')[:6].ljust(6, '0')}{zone}")
