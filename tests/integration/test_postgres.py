"""Postgres from our image: TLS 1.3 + scram only, append-only audit log, tenant isolation, secrets kept out of sight."""

import json
import os
import uuid

import psycopg
import pytest
from psycopg import errors, sql

from baseline import CONTAINER, DATABASE, TLS
from components.postgres_runtime import (APP_PASSWORD_PATH, APP_ROLE, DATABASE_NAME, SUPERUSER, TENANT_SETTING,
                                         PostgresSecrets, postgres_spec)
from components.spec import docker_api_kwargs
from tests.fixtures.docker_engine import new_password, remove_quietly

pytestmark = pytest.mark.integration


def connect(postgres, test_pki, user=APP_ROLE, password=None, **overrides):
    """A libpq connection to the session's Postgres over TLS with the test CA (verify-full)."""
    params = {
        "host": "127.0.0.1", "port": postgres.port, "dbname": DATABASE_NAME, "user": user,
        "password": password or (postgres.app_password if user == APP_ROLE else postgres.superuser_password),
        "sslmode": "verify-full", "sslrootcert": str(test_pki.ca_cert), "connect_timeout": 10,
    }
    return psycopg.connect(**(params | overrides))


def as_tenant(connection, tenant: str):
    connection.execute("SELECT set_config(%s, %s, false)", (TENANT_SETTING, tenant))
    return connection


def test_accepts_tls13_with_scram(postgres, test_pki):
    with connect(postgres, test_pki) as connection:
        version, cipher = connection.execute(
            "SELECT version, cipher FROM pg_stat_ssl WHERE pid = pg_backend_pid()").fetchone()
        assert version == TLS.min_version
        assert cipher in TLS.cipher_suites
        stored = connect(postgres, test_pki, user=SUPERUSER).execute(
            "SELECT rolpassword FROM pg_authid WHERE rolname = %s", (APP_ROLE,)).fetchone()[0]
    assert stored.startswith("SCRAM-SHA-256$")


def test_server_runs_with_the_baseline_settings(postgres, test_pki):
    expected = {**DATABASE.log_flags, "ssl": "on", "ssl_min_protocol_version": DATABASE.ssl_min_protocol_version,
                "password_encryption": DATABASE.password_encryption}
    with connect(postgres, test_pki, user=SUPERUSER) as connection:
        actual = {name: connection.execute("SELECT current_setting(%s)", (name,)).fetchone()[0] for name in expected}
    assert actual == expected


def test_refuses_a_wrong_password(postgres, test_pki):
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        connect(postgres, test_pki, password="not-the-password")  # checkov:skip=CKV_SECRET_6:a deliberately wrong password [owner=platform-security expires=2027-05-29]


def test_refuses_tls12(postgres, test_pki):
    with pytest.raises(psycopg.OperationalError) as refused:
        connect(postgres, test_pki, ssl_max_protocol_version="TLSv1.2")
    assert "protocol version" in str(refused.value) or "unsupported protocol" in str(refused.value)


def test_refuses_connections_without_tls(postgres, test_pki):
    with pytest.raises(psycopg.OperationalError, match="no encryption"):
        connect(postgres, test_pki, sslmode="disable")


def test_app_role_is_not_owner_superuser_or_bypassrls(postgres, test_pki):
    with connect(postgres, test_pki, user=SUPERUSER) as connection:
        superuser, bypassrls = connection.execute(
            "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = %s", (APP_ROLE,)).fetchone()
        owned = connection.execute(
            "SELECT count(*) FROM pg_tables WHERE tableowner = %s", (APP_ROLE,)).fetchone()[0]
    assert (superuser, bypassrls, owned) == (False, False, 0)


AUDIT_CHANGES = {
    "UPDATE": sql.SQL("UPDATE {} SET action = 'rewritten'"),
    "DELETE": sql.SQL("DELETE FROM {}"),
    "TRUNCATE": sql.SQL("TRUNCATE {}"),
}


@pytest.fixture(scope="module")
def audit_row(postgres, test_pki):
    """One audit record written by the application role (INSERT is allowed)."""
    with connect(postgres, test_pki) as connection:
        connection.execute(sql.SQL("INSERT INTO {} ({}, actor, action) VALUES ('tenant-a', 'tests', 'login')")
                           .format(sql.Identifier(DATABASE.audit_log_table), sql.Identifier(DATABASE.tenant_column)))
    return DATABASE.audit_log_table


@pytest.mark.parametrize("change", AUDIT_CHANGES)
def test_audit_log_refuses_change_by_app_role(postgres, test_pki, audit_row, change):
    with connect(postgres, test_pki) as connection, pytest.raises(errors.InsufficientPrivilege, match="permission denied"):
        connection.execute(AUDIT_CHANGES[change].format(sql.Identifier(audit_row)))


@pytest.mark.parametrize("change", AUDIT_CHANGES)
def test_audit_log_trigger_refuses_change_even_by_owner(postgres, test_pki, audit_row, change):
    with connect(postgres, test_pki, user=SUPERUSER) as connection, \
            pytest.raises(errors.InsufficientPrivilege, match="append-only"):
        connection.execute(AUDIT_CHANGES[change].format(sql.Identifier(audit_row)))
    with connect(postgres, test_pki) as connection:
        count = connection.execute(sql.SQL("SELECT count(*) FROM {} WHERE action = 'login'")
                                   .format(sql.Identifier(audit_row))).fetchone()[0]
    assert count >= 1


@pytest.fixture(scope="module")
def tenant_rows(postgres, test_pki):
    """One memory per tenant, each written in its own tenant's session."""
    for tenant in ("tenant-a", "tenant-b"):
        with connect(postgres, test_pki) as connection:
            as_tenant(connection, tenant).execute(
                sql.SQL("INSERT INTO memories ({}, content) VALUES (%s, %s)").format(
                    sql.Identifier(DATABASE.tenant_column)), (tenant, f"secret of {tenant}"))


def test_tenant_reads_only_its_rows(postgres, test_pki, tenant_rows):
    with connect(postgres, test_pki) as connection:
        contents = {row[0] for row in as_tenant(connection, "tenant-a").execute("SELECT content FROM memories")}
    assert contents == {"secret of tenant-a"}


def test_session_without_tenant_reads_nothing(postgres, test_pki, tenant_rows):
    with connect(postgres, test_pki) as connection:
        assert connection.execute("SELECT count(*) FROM memories").fetchone()[0] == 0


def test_tenant_cannot_write_rows_of_another_tenant(postgres, test_pki, tenant_rows):
    with connect(postgres, test_pki) as connection, pytest.raises(errors.InsufficientPrivilege, match="row-level security"):
        as_tenant(connection, "tenant-a").execute(
            sql.SQL("INSERT INTO memories ({}, content) VALUES ('tenant-b', 'planted')").format(
                sql.Identifier(DATABASE.tenant_column)))


def test_tenant_cannot_change_or_delete_rows_of_another_tenant(postgres, test_pki, tenant_rows):
    with connect(postgres, test_pki) as connection:
        as_tenant(connection, "tenant-a")
        tenant_b = sql.SQL("{} = 'tenant-b'").format(sql.Identifier(DATABASE.tenant_column))
        updated = connection.execute(sql.SQL("UPDATE memories SET content = 'overwritten' WHERE {}").format(tenant_b))
        assert updated.rowcount == 0
        deleted = connection.execute(sql.SQL("DELETE FROM memories WHERE {}").format(tenant_b))
        assert deleted.rowcount == 0
    with connect(postgres, test_pki) as connection:
        contents = [row[0] for row in as_tenant(connection, "tenant-b").execute("SELECT content FROM memories")]
    assert contents == ["secret of tenant-b"]


def test_secrets_absent_from_docker_inspect(postgres):
    postgres.container.reload()
    inspected = json.dumps(postgres.container.attrs).encode()
    for secret in postgres.secret_values:
        assert secret.strip() not in inspected


def test_secrets_absent_from_container_logs(postgres, tenant_rows):
    logs = postgres.container.logs()
    assert b"connection authorized" in logs  # the logs are real and include the log_connections lines
    for secret in postgres.secret_values:
        assert secret.strip() not in logs


def run_until_exit(docker_client, built_images, test_pki, secret_dir, label, drop_mount=None, environment=None,
                   data_volume=None):
    """Run the Postgres spec once (no restart) until it exits; returns (exit code, logs, data volume listing)."""
    suffix = uuid.uuid4().hex[:8]
    superuser_file, _ = new_password(secret_dir, f"{label}-superuser-{suffix}")
    app_file, _ = new_password(secret_dir, f"{label}-app-{suffix}")
    spec = postgres_spec(built_images["postgres"], data_volume or f"rae-test-{label}-{suffix}",
                         PostgresSecrets(str(superuser_file), str(app_file), str(test_pki.server_cert),
                                         str(test_pki.server_key)),
                         name=f"rae-test-{label}-{suffix}", host_roots=(str(secret_dir.parent),))
    kwargs = docker_api_kwargs(spec)
    kwargs["volumes"] = {source: bind for source, bind in kwargs["volumes"].items() if bind["bind"] != drop_mount}
    kwargs["environment"] |= environment or {}
    kwargs["restart_policy"] = {"Name": "no"}  # observe the one failure instead of a restart loop
    container = docker_client.containers.run(**kwargs)
    try:
        exit_code = container.wait(timeout=120)["StatusCode"]
        listing = docker_client.containers.run(built_images["base"], ["ls", "-A", "/data"], remove=True,
                                               volumes={spec.mounts[0].source: {"bind": "/data", "mode": "ro"}})
        return exit_code, container.logs().decode(), listing.decode().split()
    finally:
        remove_quietly(docker_client, container, None if data_volume else spec.mounts[0].source)


def test_refuses_to_start_without_its_secret_files(docker_client, built_images, test_pki, secret_dir):
    exit_code, logs, data = run_until_exit(docker_client, built_images, test_pki, secret_dir, "no-secret",
                                           drop_mount=APP_PASSWORD_PATH)
    assert exit_code != 0
    assert "RAE_APP_PASSWORD_FILE" in logs and "A.5.17" in logs
    assert data == []


def test_failed_first_start_leaves_no_half_initialised_data(docker_client, built_images, test_pki, secret_dir):
    # Point the schema step at a directory of non-SQL files, so initialisation fails after initdb.
    exit_code, logs, data = run_until_exit(docker_client, built_images, test_pki, secret_dir, "bad-schema",
                                           environment={"RAE_SQL_DIR": "/etc/rae"})
    assert exit_code != 0
    assert "initialisation failed; data volume emptied" in logs
    assert data == []


def test_refuses_to_initialise_over_foreign_files(docker_client, built_images, test_pki, secret_dir, tmp_path):
    foreign = tmp_path / "not-a-database"
    foreign.mkdir()
    (foreign / "keep-me").write_text("someone's data\n")
    os.chown(foreign, CONTAINER.uid, CONTAINER.gid)
    exit_code, logs, data = run_until_exit(docker_client, built_images, test_pki, secret_dir, "foreign",
                                           data_volume=str(foreign))
    assert exit_code != 0
    assert "refusing to initialise over them" in logs
    assert data == ["keep-me"]
