"""Postgres: Cloud SQL private, CMEK, mTLS-only, backed up, audited; Docker: our image with the runtime flags."""

import pytest

from baseline import BACKUP, DATABASE, BaselineViolation
from components import postgres_runtime
from components.postgres import CloudSqlArgs, CloudSqlPostgres, DockerPostgres, DockerPostgresArgs, database_flags
from components.postgres_runtime import PostgresSecrets
from components.spec import Port
from tests.unit.components.harness import declare, is_secret, one

KEY = "projects/p/locations/europe-west4/keyRings/k/cryptoKeys/sql"
VPC = "projects/p/global/networks/rae-vpc"
IMAGE = "sha256:" + "b" * 64
SECRETS = PostgresSecrets("/srv/data/s/su", "/srv/data/s/app", "/srv/data/s/tls.crt", "/srv/data/s/tls.key",
                          "/srv/data/s/ca.crt")


def _cloud_sql(**overrides) -> list[dict]:
    args = dict(region="europe-west4", private_network=VPC, kms_key=KEY, admin_password="pw") | overrides
    return declare(lambda: CloudSqlPostgres("db", CloudSqlArgs(**args)))


@pytest.fixture(scope="module")
def cloud_sql() -> list[dict]:
    return _cloud_sql()


@pytest.fixture(scope="module")
def instance(cloud_sql) -> dict:
    return one(cloud_sql, "gcp:sql/databaseInstance:DatabaseInstance")


def test_cmek_and_engine_version(instance):
    assert instance["encryptionKeyName"] == KEY and instance["databaseVersion"] == DATABASE.engine_version


def test_private_ip_only_and_client_certificates_required(instance):
    ip = instance["settings"]["ipConfiguration"]
    assert ip == {"ipv4Enabled": False, "privateNetwork": VPC, "sslMode": DATABASE.gcp_ssl_mode,
                  "serverCaMode": "GOOGLE_MANAGED_CAS_CA"}


def test_clients_reach_the_certificate_name_inside_the_vpc_only(cloud_sql):
    """The server certificate (CAS CA) names the instance's DNS name; a private zone on the VPC resolves it to the
    private IP, so a client verifies the server by name (sslmode=verify-full). Under mocks: rendered, not resolved."""
    zone = one(cloud_sql, "gcp:dns/managedZone:ManagedZone")
    assert zone["visibility"] == "private" and zone["dnsName"] == "db.europe-west4.sql.goog."
    assert zone["privateVisibilityConfig"] == {"networks": [{"networkUrl": VPC}]}
    record = one(cloud_sql, "gcp:dns/recordSet:RecordSet")
    assert record["type"] == "A" and record["name"] == zone["dnsName"] and record["rrdatas"] == ["192.0.2.20"]


def test_backups_with_pitr_and_retention(instance):
    backup = instance["settings"]["backupConfiguration"]
    assert backup["enabled"] is True and backup["pointInTimeRecoveryEnabled"] is True
    assert backup["startTime"] == BACKUP.start_time
    assert backup["transactionLogRetentionDays"] == BACKUP.transaction_log_retention_days
    assert backup["backupRetentionSettings"] == {"retainedBackups": BACKUP.retained_backups, "retentionUnit": "COUNT"}


def test_logging_and_pgaudit_flags(instance):
    flags = {flag["name"]: flag["value"] for flag in instance["settings"]["databaseFlags"]}
    assert flags == {**DATABASE.log_flags, **DATABASE.gcp_extra_flags}


def test_deletion_protection_on_both_layers(instance):
    assert instance["deletionProtection"] is True
    assert instance["settings"]["deletionProtectionEnabled"] is True


def test_no_api_user_or_database_is_created(cloud_sql):
    # API-created users join cloudsqlsuperuser; the schema step creates the restricted application role instead.
    assert not [r for r in cloud_sql if r["type"] in ("gcp:sql/user:User", "gcp:sql/database:Database")]


def test_schema_command_applies_the_shared_sql_through_the_auth_proxy():
    commands = []
    declare(lambda: CloudSqlPostgres("db", CloudSqlArgs("europe-west4", VPC, KEY, "pw")).schema_command.apply(
        commands.append))
    (command,) = commands
    assert command.startswith("cloud-sql-proxy --private-ip")
    assert "--file=components/sql/003_audit_log.sql" in command and "--file=components/sql/004_memories.sql" in command
    assert "app_password_file=" in command and "pw" not in command.split()
    # The password reaches Cloud SQL only as its SCRAM verifier, computed client-side before psql runs.
    assert "-m components.scram .state/postgres-app-password > .state/postgres-app-password.scram" in command
    assert "--set=app_password_file=.state/postgres-app-password.scram" in command


def test_the_superuser_is_refused_over_the_network_before_any_password_rule():
    rules = [line.split() for line in postgres_runtime.pg_hba_conf().splitlines() if line and not line.startswith("#")]
    assert rules[0] == ["local", "all", postgres_runtime.SUPERUSER, "peer"]
    superuser_reject = rules.index(["hostssl", "all", postgres_runtime.SUPERUSER, "all", "reject"])
    scram = rules.index(["hostssl", "all", "all", "all", DATABASE.password_encryption])
    app = rules.index(["hostssl", "all", postgres_runtime.APP_ROLE, "all", DATABASE.password_encryption,
                       "clientcert=verify-full"])
    assert superuser_reject < scram and app < scram
    allowed_methods = ("reject", DATABASE.password_encryption)
    assert not [rule for rule in rules if rule[0].startswith("host") and rule[4] not in allowed_methods]


def test_postgres_verifies_client_certificates_against_the_mounted_ca():
    spec = postgres_runtime.postgres_spec("sha256:" + "2" * 64, "pgdata", SECRETS)
    assert f"ssl_ca_file={postgres_runtime.CLIENT_CA_PATH}" in spec.command
    assert {s.target: s.source for s in spec.secret_files}[postgres_runtime.CLIENT_CA_PATH] == "/srv/data/s/ca.crt"


def test_pgaudit_is_preloaded_without_parameter_values():
    flags = postgres_runtime.server_flags()
    assert "shared_preload_libraries=pgaudit" in flags and f"pgaudit.log={DATABASE.pgaudit_log}" in flags
    assert "pgaudit.log_parameter=off" in flags
    assert DATABASE.gcp_extra_flags["pgaudit.log"] == DATABASE.pgaudit_log


def test_sql_bodies_and_baseline_name_the_same_table_column_and_setting():
    settings = postgres_runtime.sql_settings()
    for name, literal in postgres_runtime.SQL_BODY_NAMES.items():
        assert f"\\set {name} {literal}\n" in settings


def test_the_shipped_sql_must_compute_the_baselines_audit_chain(tmp_path, monkeypatch):
    shipped = postgres_runtime.AUDIT_CHAIN_SQL.read_text()
    assert f"SELECT {DATABASE.audit_chain}(prev_hash" in shipped
    other = tmp_path / "003_audit_log.sql"
    other.write_text(shipped.replace(f"SELECT {DATABASE.audit_chain}(prev_hash", "SELECT sha512(prev_hash"))
    monkeypatch.setattr(postgres_runtime, "AUDIT_CHAIN_SQL", other)
    with pytest.raises(BaselineViolation, match="audit_chain") as refused:
        postgres_runtime.sql_settings()
    assert refused.value.controls == DATABASE.controls("audit_chain")


WEAKENINGS = [
    ("no cmek", dict(kms_key=""), "A.8.24"),
    ("no private network", dict(private_network=None), "A.8.20"),
    ("fewer backups", dict(retained_backups=BACKUP.retained_backups - 1), "A.8.13"),
    ("logging weakened", dict(extra_flags={"log_connections": "off"}), "A.8.15"),
    ("pgaudit off", dict(extra_flags={"cloudsql.enable_pgaudit": "off"}), "A.8.15"),
    ("per-instance server CA", dict(server_ca_mode="GOOGLE_MANAGED_INTERNAL_CA"), "A.8.24"),
    ("customer CA without its pool", dict(server_ca_mode="CUSTOMER_MANAGED_CAS_CA"), "A.8.24"),
    ("a pool the mode does not use", dict(server_ca_pool="projects/p/locations/europe-west4/caPools/sql"), "A.8.24"),
]


@pytest.mark.parametrize("what, overrides, control", WEAKENINGS, ids=[w[0] for w in WEAKENINGS])
def test_weaker_cloud_sql_is_refused(what, overrides, control):
    with pytest.raises(BaselineViolation, match=control):
        _cloud_sql(**overrides)


def test_a_customer_managed_server_ca_names_its_pool():
    pool = "projects/p/locations/europe-west4/caPools/sql"
    instance = one(_cloud_sql(server_ca_mode="CUSTOMER_MANAGED_CAS_CA", server_ca_pool=pool),
                   "gcp:sql/databaseInstance:DatabaseInstance")
    ip = instance["settings"]["ipConfiguration"]
    assert ip["serverCaMode"] == "CUSTOMER_MANAGED_CAS_CA" and ip["serverCaPool"] == pool


def test_extra_flags_that_do_not_weaken_are_kept():
    assert database_flags({"log_lock_waits": "on", "work_mem": "16384"})["work_mem"] == "16384"


def _docker(port: Port, allowed=("127.0.0.1",)) -> list[dict]:
    return declare(lambda: DockerPostgres("postgres", DockerPostgresArgs(
        IMAGE, "rae-unit-pgdata", SECRETS, port, ["rae-unit-edge", "rae-unit-backend"], allowed)))


def test_docker_postgres_runs_the_shared_runtime():
    container = one(_docker(Port(5432, 15432)), "docker:index/container:Container")
    assert container["command"] == list(postgres_runtime.server_flags())
    assert "ssl_min_protocol_version=TLSv1.3" in container["command"]
    assert f"password_encryption={DATABASE.password_encryption}" in container["command"]
    secret_mounts = {m["target"]: m for m in container["mounts"] if m["type"] == "bind"}
    assert set(secret_mounts) == {postgres_runtime.SUPERUSER_PASSWORD_PATH, postgres_runtime.APP_PASSWORD_PATH,
                                  postgres_runtime.TLS_CERT_PATH, postgres_runtime.TLS_KEY_PATH,
                                  postgres_runtime.CLIENT_CA_PATH}
    assert all(m["readOnly"] for m in secret_mounts.values())
    assert not any("=" in env and not env.split("=")[0].endswith("_FILE") for env in container["envs"])


def test_docker_postgres_binds_a_declared_tailscale_address():
    container = one(_docker(Port(5432, 5432, "100.64.0.7"), ("127.0.0.1", "100.64.0.7")),
                    "docker:index/container:Container")
    assert container["ports"][0]["ip"] == "100.64.0.7"


def test_docker_postgres_refuses_an_undeclared_address():
    with pytest.raises(BaselineViolation, match="A.8.20"):
        _docker(Port(5432, 5432, "0.0.0.0"))
