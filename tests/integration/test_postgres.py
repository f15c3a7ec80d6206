"""Postgres from our image: TLS 1.3 + scram only, the superuser on the local socket only, memories reached only
through the tenant-enforcing functions that append a hash-chained audit row, pgaudit on, secrets kept out of sight."""

import json
import os
import time
import uuid

import psycopg
import pytest
from psycopg import errors, sql

from baseline import DATABASE, TLS
from components.engine_ids import host_ids
from components.postgres_runtime import (APP_PASSWORD_PATH, APP_ROLE, DATABASE_NAME, OWNER_ROLE, SUPERUSER,
                                         TENANT_SETTING, PostgresSecrets, postgres_spec)
from components import postgres_runtime
from components.scram import verifier
from components.spec import docker_api_kwargs
from posture.container import service_user
from tests.fixtures.docker_engine import new_password, own_copies, remove_quietly, start_postgres, superuser_sql

pytestmark = pytest.mark.integration

AUDIT = sql.Identifier(DATABASE.audit_log_table)
TENANT = sql.Identifier(DATABASE.tenant_column)


def connect(postgres, test_pki, user=APP_ROLE, password=None, **overrides):
    """A libpq connection to the session's Postgres over TLS with the test CA (verify-full); as the application
    role it presents that role's client certificate."""
    params = {
        "host": "127.0.0.1", "port": postgres.port, "dbname": DATABASE_NAME, "user": user,
        "password": password or (postgres.app_password if user == APP_ROLE else postgres.superuser_password),
        "sslmode": "verify-full", "sslrootcert": str(test_pki.ca_cert), "connect_timeout": 10, "autocommit": True,
        **(postgres.app_client_settings if user == APP_ROLE else {}),
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
    (stored,), = superuser_sql(postgres.container, f"SELECT rolpassword FROM pg_authid WHERE rolname = '{APP_ROLE}'")
    assert stored.startswith("SCRAM-SHA-256$")


def test_server_runs_with_the_baseline_settings(postgres):
    expected = {**DATABASE.log_flags, "ssl": "on", "ssl_min_protocol_version": DATABASE.ssl_min_protocol_version,
                "password_encryption": DATABASE.password_encryption, "shared_preload_libraries": "pgaudit",
                "pgaudit.log": DATABASE.pgaudit_log, "pgaudit.log_parameter": "off"}
    names = list(expected)
    rows = superuser_sql(postgres.container, "SELECT " + ", ".join(f"current_setting('{name}')" for name in names))
    assert dict(zip(names, rows[0])) == expected
    assert superuser_sql(postgres.container, "SELECT extname FROM pg_extension WHERE extname = 'pgaudit'") == [["pgaudit"]]


def test_refuses_a_wrong_password(postgres, test_pki):
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        connect(postgres, test_pki, password="not-the-password")  # checkov:skip=CKV_SECRET_6:a deliberately wrong password [owner=platform-security expires=2027-05-29]


def test_the_app_role_without_a_client_certificate_is_refused_even_with_its_password(postgres, test_pki):
    with pytest.raises(psycopg.OperationalError, match="connection requires a valid client certificate"):
        connect(postgres, test_pki, sslcert="", sslkey="")


def test_the_app_role_with_a_certificate_naming_another_identity_is_refused(postgres, test_pki, secret_dir):
    cert, key = test_pki.issue_client(secret_dir, f"not-the-app-{uuid.uuid4().hex[:8]}", common_name="rae-proxy",
                                      owner=(os.getuid(), os.getgid()))
    # The right password with a certificate of our CA for another identity: refused, and the server says why.
    with pytest.raises(psycopg.OperationalError, match=f'authentication failed for user "{APP_ROLE}"'):
        connect(postgres, test_pki, sslcert=str(cert), sslkey=str(key))
    assert "clientcert=verify-full" in postgres.container.logs(tail=50).decode()


def test_refuses_the_superuser_over_the_network_even_with_its_password(postgres, test_pki):
    with pytest.raises(psycopg.OperationalError, match="pg_hba.conf rejects connection"):
        connect(postgres, test_pki, user=SUPERUSER)


def test_refuses_tls12(postgres, test_pki):
    with pytest.raises(psycopg.OperationalError) as refused:
        connect(postgres, test_pki, ssl_max_protocol_version="TLSv1.2")
    assert "protocol version" in str(refused.value) or "unsupported protocol" in str(refused.value)


def test_refuses_connections_without_tls(postgres, test_pki):
    with pytest.raises(psycopg.OperationalError, match="no encryption"):
        connect(postgres, test_pki, sslmode="disable")


def test_app_role_is_not_owner_superuser_or_bypassrls(postgres):
    rows = superuser_sql(postgres.container, f"""
        SELECT r.rolsuper, r.rolbypassrls, (SELECT count(*) FROM pg_tables WHERE tableowner = r.rolname)
        FROM pg_roles r WHERE r.rolname = '{APP_ROLE}'""")
    assert rows == [["f", "f", "0"]]
    owner = superuser_sql(postgres.container, f"SELECT rolcanlogin, rolsuper FROM pg_roles WHERE rolname = '{OWNER_ROLE}'")
    assert owner == [["f", "f"]]


def test_a_password_set_as_a_client_side_scram_verifier_logs_in(postgres, test_pki):
    """What the Cloud SQL schema step does: the role gets a verifier, never the password, and logs in with it."""
    password = uuid.uuid4().hex + uuid.uuid4().hex
    role = f"rae_verifier_{uuid.uuid4().hex[:8]}"
    superuser_sql(postgres.container, f"CREATE ROLE {role} LOGIN PASSWORD '{verifier(password)}'; "
                                      f"GRANT CONNECT ON DATABASE {DATABASE_NAME} TO {role}")
    try:
        with connect(postgres, test_pki, user=role, password=password) as connection:
            assert connection.execute("SELECT current_user").fetchone()[0] == role
        with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
            connect(postgres, test_pki, user=role, password=password[:-1])
        logs = postgres.container.logs()
        assert b"AUDIT: SESSION" in logs and b"ROLE,CREATE ROLE" in logs  # pgaudit logged the statement...
        assert password.encode() not in logs  # ...which never held the password
    finally:
        superuser_sql(postgres.container, f"REVOKE CONNECT ON DATABASE {DATABASE_NAME} FROM {role}; DROP ROLE {role}")


DIRECT_ACCESS = {
    "select memories": sql.SQL("SELECT * FROM memories"),
    "insert memories": sql.SQL("INSERT INTO memories ({}, content) VALUES ('tenant-a', 'planted')").format(TENANT),
    "update memories": sql.SQL("UPDATE memories SET content = 'overwritten'"),
    "delete memories": sql.SQL("DELETE FROM memories"),
    "insert audit": sql.SQL("INSERT INTO {} ({}, actor, action) VALUES ('tenant-a', 'forged', 'login')").format(
        AUDIT, TENANT),
    "insert audit overriding": sql.SQL(
        "INSERT INTO {} (id, seq, occurred_at, {}, actor, action, prev_hash, row_hash) OVERRIDING SYSTEM VALUE "
        "VALUES (1, 1, '2000-01-01', 'tenant-a', 'forged', 'login', '\\x00', '\\x00')").format(AUDIT, TENANT),
    "update audit": sql.SQL("UPDATE {} SET action = 'rewritten'").format(AUDIT),
    "delete audit": sql.SQL("DELETE FROM {}").format(AUDIT),
    "truncate audit": sql.SQL("TRUNCATE {}").format(AUDIT),
    "call the internal tenant check": sql.SQL("SELECT memory_tenant('tenant-a')"),
}


@pytest.mark.parametrize("statement", DIRECT_ACCESS)
def test_app_role_has_no_direct_way_to_memories_or_audit_rows(postgres, test_pki, statement):
    with connect(postgres, test_pki) as connection, pytest.raises(errors.InsufficientPrivilege, match="permission denied"):
        as_tenant(connection, "tenant-a").execute(DIRECT_ACCESS[statement])


@pytest.fixture(scope="module")
def stored(postgres, test_pki) -> dict[str, int]:
    """One memory per tenant, stored through memory_store (tenant -> memory id)."""
    with connect(postgres, test_pki) as connection:
        return {tenant: connection.execute("SELECT memory_store(%s, %s)", (tenant, f"secret of {tenant}")).fetchone()[0]
                for tenant in ("tenant-a", "tenant-b")}


def recall(connection, tenant, ids=None):
    return connection.execute("SELECT memory_id, content FROM memory_recall(%s, %s)", (tenant, ids)).fetchall()


def test_recall_returns_only_the_tenants_memories(postgres, test_pki, stored):
    with connect(postgres, test_pki) as connection:
        assert recall(connection, "tenant-a") == [(stored["tenant-a"], "secret of tenant-a")]
        assert recall(connection, "tenant-a", [stored["tenant-b"]]) == []
        assert recall(connection, "tenant-b", [stored["tenant-a"], stored["tenant-b"]]) == [
            (stored["tenant-b"], "secret of tenant-b")]


def test_a_tenant_cannot_forget_another_tenants_memory(postgres, test_pki, stored):
    with connect(postgres, test_pki) as connection:
        assert connection.execute("SELECT memory_forget('tenant-a', %s)", (stored["tenant-b"],)).fetchone()[0] is False
        assert recall(connection, "tenant-b") == [(stored["tenant-b"], "secret of tenant-b")]


def test_a_transaction_acting_for_one_tenant_cannot_act_for_another(postgres, test_pki, stored):
    with connect(postgres, test_pki, autocommit=False) as connection, \
            pytest.raises(errors.InsufficientPrivilege, match="acts for tenant tenant-a"):
        recall(connection, "tenant-a")
        recall(connection, "tenant-b")


@pytest.mark.parametrize("call", ["SELECT memory_store('tenant-b', 'planted')", "SELECT * FROM memory_recall('tenant-b')",
                                  "SELECT memory_forget('tenant-b', 1)"])
def test_a_session_declared_for_one_tenant_cannot_call_for_another(postgres, test_pki, stored, call):
    with connect(postgres, test_pki) as connection, pytest.raises(errors.InsufficientPrivilege, match="A.5.15"):
        as_tenant(connection, "tenant-a").execute(call)
    with connect(postgres, test_pki) as connection:
        assert recall(connection, "tenant-b") == [(stored["tenant-b"], "secret of tenant-b")]


@pytest.mark.parametrize("tenant", ["", "tenant a", "x" * 64, "'; DROP TABLE memories; --"])
def test_malformed_tenants_are_refused(postgres, test_pki, tenant):
    with connect(postgres, test_pki) as connection, pytest.raises(errors.InvalidParameterValue, match="A.5.15"):
        connection.execute("SELECT memory_store(%s, 'x')", (tenant,))


def test_every_call_appends_an_audit_row_with_actor_tenant_ids_and_server_time(postgres, test_pki, stored):
    with connect(postgres, test_pki) as connection:
        before = connection.execute("SELECT now()").fetchone()[0]
        recall(connection, "tenant-a", [stored["tenant-a"], stored["tenant-b"]])
        rows = as_tenant(connection, "tenant-a").execute(sql.SQL(
            "SELECT actor, {}, action, memory_ids, detail, occurred_at FROM {} ORDER BY seq DESC LIMIT 1").format(
            TENANT, AUDIT)).fetchall()
    ((actor, tenant, action, ids, detail, occurred_at),) = rows
    assert (actor, tenant, action, ids, detail) == (APP_ROLE, "tenant-a", "memory.read", [stored["tenant-a"]],
                                                    {"not_returned": 1})
    assert occurred_at >= before


def test_audit_rows_are_read_only_for_their_own_tenant(postgres, test_pki, stored):
    with connect(postgres, test_pki) as connection:
        assert connection.execute(sql.SQL("SELECT count(*) FROM {}").format(AUDIT)).fetchone()[0] == 0
        tenants = {row[0] for row in as_tenant(connection, "tenant-b").execute(
            sql.SQL("SELECT DISTINCT {} FROM {}").format(TENANT, AUDIT))}
    assert tenants == {"tenant-b"}
    stores = superuser_sql(postgres.container,
                           "SELECT tenant_id, memory_ids[1] FROM audit_log WHERE action = 'memory.store' ORDER BY seq")
    assert [row for row in stores if row[0] in stored][:2] == [[tenant, str(stored[tenant])] for tenant in stored]


@pytest.mark.parametrize("change", ["UPDATE audit_log SET action = 'rewritten'", "DELETE FROM audit_log",
                                    "TRUNCATE audit_log"])
def test_audit_log_trigger_refuses_change_even_by_the_superuser(postgres, stored, change):
    with pytest.raises(RuntimeError, match="append-only"):
        superuser_sql(postgres.container, change)


def test_the_audit_chain_verifies(postgres, test_pki, stored):
    with connect(postgres, test_pki) as connection:
        intact, rows, broken, head_seq, head_hash = connection.execute("SELECT * FROM audit_log_verify()").fetchone()
    assert intact is True and broken is None and rows == head_seq and rows >= 2 and len(head_hash) == 64


def test_a_stored_memorys_content_stays_out_of_the_server_log(postgres, test_pki):
    marker = f"pii-marker-{uuid.uuid4().hex}"
    with connect(postgres, test_pki) as connection:
        connection.execute("SELECT memory_store('tenant-a', %s)", (marker,))
        with pytest.raises(errors.InvalidParameterValue):  # a failing call logs its statement, not its parameters
            connection.execute("SELECT memory_store('not a tenant', %s)", (marker,))
    statement = b"SELECT memory_store('not a tenant', $1)"
    deadline = time.monotonic() + 30  # the server's stderr reaches `docker logs` a moment after the error returns
    logs = postgres.container.logs()
    while statement not in logs and time.monotonic() < deadline:
        time.sleep(0.5)
        logs = postgres.container.logs()
    assert statement in logs
    assert marker.encode() not in logs


@pytest.fixture
def chain_postgres(docker_client, built_images, test_pki, secret_dir):
    """A Postgres of its own for tampering (the session's chain stays intact), with five audited stores."""
    running = start_postgres(docker_client, built_images["postgres"], test_pki, secret_dir, "chain")
    try:
        with connect(running, test_pki) as connection:
            for n in range(5):
                connection.execute("SELECT memory_store('tenant-a', %s)", (f"memory {n}",))
        yield running
    finally:
        remove_quietly(docker_client, running.container, running.volume)


def verify(running) -> tuple[str, ...]:
    ((intact, rows, broken, head_seq, head_hash),) = superuser_sql(running.container, "SELECT * FROM audit_log_verify()")
    return intact, rows, broken, head_seq, head_hash


DISABLE, ENABLE = ("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only",
                   "ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only")


def test_a_row_deleted_by_the_superuser_on_the_local_socket_is_detected(chain_postgres):
    assert verify(chain_postgres)[:3] == ("t", "5", "")
    superuser_sql(chain_postgres.container, f"{DISABLE}; DELETE FROM audit_log WHERE seq = 2; {ENABLE}")
    assert verify(chain_postgres)[:3] == ("f", "4", "3")
    # pgaudit put the tampering itself into the server log (shipped off the host by the log pipeline).
    logs = chain_postgres.container.logs()
    assert b"AUDIT: SESSION,1,1,DDL,ALTER TABLE,TABLE,public.audit_log,ALTER TABLE audit_log DISABLE TRIGGER" in logs
    assert b"AUDIT: SESSION,2,1,WRITE,DELETE,,," in logs


def test_a_row_rewritten_by_the_superuser_is_detected(chain_postgres):
    superuser_sql(chain_postgres.container, f"{DISABLE}; UPDATE audit_log SET actor = 'someone-else' WHERE seq = 4; "
                                            f"{ENABLE}")
    assert verify(chain_postgres)[:3] == ("f", "5", "4")


def test_rows_cut_from_the_end_show_as_an_older_head(chain_postgres):
    """The chain alone cannot see its last rows removed: the head recorded earlier (the audit report's) does."""
    recorded_head = verify(chain_postgres)[3:]
    superuser_sql(chain_postgres.container, f"{DISABLE}; DELETE FROM audit_log WHERE seq = 5; {ENABLE}")
    intact, rows, _, head_seq, head_hash = verify(chain_postgres)
    assert (intact, rows) == ("t", "4")
    assert (head_seq, head_hash) != recorded_head and int(head_seq) < int(recorded_head[0])


def test_secrets_absent_from_docker_inspect(postgres):
    postgres.container.reload()
    inspected = json.dumps(postgres.container.attrs).encode()
    for secret in postgres.secret_values:
        assert secret.strip() not in inspected


def test_secrets_absent_from_container_logs(postgres, stored):
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
                                         str(test_pki.server_key), str(test_pki.ca_cert)),
                         name=f"rae-test-{label}-{suffix}", host_roots=(str(secret_dir.parent),))
    kwargs = docker_api_kwargs(own_copies(spec, secret_dir))
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
    os.chown(foreign, *host_ids(*service_user(postgres_runtime.SERVICE)))
    exit_code, logs, data = run_until_exit(docker_client, built_images, test_pki, secret_dir, "foreign",
                                           data_volume=str(foreign))
    assert exit_code != 0
    assert "refusing to initialise over them" in logs
    assert data == ["keep-me"]
