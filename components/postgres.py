"""Postgres: the memory store, hardened on either target.

- docker: our Postgres image (components.postgres_runtime gives its flags, pg_hba and ContainerSpec)
  as a HardenedContainer, data on an EncryptedVolume, TLS 1.3 with a server certificate from the
  private CA, passwords as host secret files. The audit_log + row-level-security schema is baked
  into the image (components/sql) and applied on first start.
- gcp: Cloud SQL with CMEK, private IP only, client certificates required, backups + PITR, the CIS
  logging flags plus pgaudit, deletion protection. Its server certificate comes from a Certificate Authority Service
  pool (baseline DATABASE.gcp_server_ca_mode) and names the instance's DNS name, which a private Cloud DNS zone on the
  VPC resolves to its private IP: the API connects to that
  name with sslmode=verify-full against the instance's server CA, presenting a client certificate Cloud SQL issued
  (`client_certificate`). The database, the application role and the same
  components/sql schema are NOT created by this program (a Cloud SQL API user would join
  cloudsqlsuperuser, with CREATEROLE): an operator or the CI identity applies them once with the
  exported `schema_command` through the Cloud SQL Auth Proxy. Mocks cannot verify that step.
"""

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

import pulumi
import pulumi_gcp as gcp

import posture.database as database_posture
from baseline import BACKUP, CONTAINER, DATABASE, NETWORK, require
from components import postgres_runtime
from components.container import HardenedContainer, HardenedContainerArgs
from components.spec import Port
from posture.model import require_holds


AUTH_PROXY_PORT = 6432
# The instance's server certificate is signed by a CAS-hosted CA and carries the instance's DNS name (`dns_name`), so
# a client verifies it by name (sslmode=verify-full). The default per-instance CA's certificates name no host a client
# connects to: only verify-ca would pass with them. The baseline's first mode (Google's regional pool) unless the
# caller brings a pool of its own, which this mode names (the database posture model refuses it without the pool).
CUSTOMER_CA_MODE = database_posture.CUSTOMER_CA_MODE
RetentionSettings = gcp.sql.DatabaseInstanceSettingsBackupConfigurationBackupRetentionSettingsArgs
PROJECT_DIR = Path(__file__).resolve().parents[1]


def database_flags(extra: Mapping[str, str]) -> dict[str, str]:
    """The Cloud SQL flags: baseline logging + pgaudit, plus extras that do not override either."""
    required = {**DATABASE.log_flags, **DATABASE.gcp_extra_flags}
    overridden = sorted(key for key, value in extra.items() if key in required and required[key] != value)
    require(not overridden, f"database flags {overridden} would override the baseline's logging/pgaudit flags",
            DATABASE.controls("log_flags"))
    return {**required, **extra}


@dataclass
class CloudSqlArgs:
    """+ region, tier: where and how large
    + private_network: self link of the VPC (private IP only)
    + kms_key: customer-managed key id (required)
    + admin_password: the built-in `postgres` user's password (a Pulumi secret), used to apply the schema
    + extra_flags: more database flags; baseline flags cannot be overridden
    + retained_backups: at least baseline.BACKUP.retained_backups
    + server_ca_mode: one of baseline DATABASE.gcp_server_ca_mode; CUSTOMER_MANAGED_CAS_CA needs server_ca_pool
    + server_ca_pool: our own CAS pool (projects/.../locations/.../caPools/...) that issues the server certificate
    """

    region: str
    private_network: pulumi.Input[str]
    kms_key: pulumi.Input[str]
    admin_password: pulumi.Input[str]
    tier: str = "db-custom-2-7680"
    extra_flags: Mapping[str, str] = field(default_factory=dict)
    retained_backups: int = BACKUP.retained_backups
    server_ca_mode: str = DATABASE.gcp_server_ca_mode[0]
    server_ca_pool: pulumi.Input[str] | None = None
    depends_on: Sequence[pulumi.Resource] = field(default_factory=tuple)
    project: str | None = None


class CloudSqlPostgres(pulumi.ComponentResource):
    """Cloud SQL for PostgreSQL that can only be private, CMEK-encrypted, mTLS-only, backed up and audited.

    Example: CloudSqlPostgres("db", CloudSqlArgs("europe-west4", vpc.self_link, keys.keys["sql"].id, pw))
    """

    def __init__(self, name: str, args: CloudSqlArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("rae:hardening:Postgres", name, None, opts)
        require(bool(args.private_network), f"Cloud SQL {name}: a private network is required (no public IP)",
                NETWORK.controls("database_public_ip"))
        flags = database_flags(args.extra_flags)
        # A pool under another mode is an argument error (the instance would not use it); a customer-managed mode
        # without its pool is the posture model's to refuse, below.
        require(not args.server_ca_pool or args.server_ca_mode == CUSTOMER_CA_MODE,
                f"Cloud SQL {name}: server_ca_pool is used only with server_ca_mode {CUSTOMER_CA_MODE!r} "
                f"(server_ca_mode is {args.server_ca_mode!r})", DATABASE.controls("gcp_server_ca_mode"))
        # The instance's settings come from a view the database posture model judged: what the gate requires.
        view = database_posture.InstanceView(
            source="CloudSqlPostgres", name=name, kms_key="customer-managed" if args.kms_key else "",
            ssl_mode=DATABASE.gcp_ssl_mode, server_ca_mode=args.server_ca_mode, server_ca_pool=args.server_ca_pool,
            ipv4_enabled=NETWORK.database_public_ip,
            backups_enabled=True,
            retained_backups=args.retained_backups, backup_start_time=BACKUP.start_time,
            point_in_time_recovery=BACKUP.point_in_time_recovery,
            transaction_log_retention_days=BACKUP.transaction_log_retention_days,
            deletion_protection=DATABASE.deletion_protection, deletion_protection_enabled=DATABASE.deletion_protection,
            flags=flags)
        require_holds(database_posture.judge(view), f"Cloud SQL {name}")
        self.instance = gcp.sql.DatabaseInstance(
            name, region=args.region, database_version=DATABASE.engine_version, project=args.project,
            encryption_key_name=args.kms_key, deletion_protection=view.deletion_protection,
            root_password=args.admin_password,
            settings=gcp.sql.DatabaseInstanceSettingsArgs(
                tier=args.tier, availability_type="REGIONAL", disk_autoresize=True,
                deletion_protection_enabled=view.deletion_protection_enabled,
                ip_configuration=gcp.sql.DatabaseInstanceSettingsIpConfigurationArgs(
                    ipv4_enabled=view.ipv4_enabled, private_network=args.private_network, ssl_mode=view.ssl_mode,
                    server_ca_mode=view.server_ca_mode, server_ca_pool=view.server_ca_pool),
                backup_configuration=gcp.sql.DatabaseInstanceSettingsBackupConfigurationArgs(
                    enabled=view.backups_enabled, start_time=view.backup_start_time,
                    point_in_time_recovery_enabled=view.point_in_time_recovery,
                    transaction_log_retention_days=view.transaction_log_retention_days,
                    backup_retention_settings=RetentionSettings(retained_backups=args.retained_backups,
                                                                retention_unit="COUNT")),
                database_flags=[gcp.sql.DatabaseInstanceSettingsDatabaseFlagArgs(name=key, value=value)
                                for key, value in sorted(view.flags.items())],
                user_labels={"rae-service": "postgres"}),
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.depends_on),
                                        protect=DATABASE.deletion_protection))
        self.connection_name = self.instance.connection_name
        self.schema_command = self.connection_name.apply(schema_command)
        # Clients name the instance by its certificate's DNS name; inside the VPC it resolves to the private IP.
        self.host = self.instance.dns_name.apply(lambda dns: dns.rstrip("."))
        child = pulumi.ResourceOptions(parent=self)
        zone = gcp.dns.ManagedZone(
            f"{name}-dns", dns_name=self.instance.dns_name, visibility="private", project=args.project,
            description="The Cloud SQL instance's certificate name, inside the VPC only",
            private_visibility_config=gcp.dns.ManagedZonePrivateVisibilityConfigArgs(
                networks=[gcp.dns.ManagedZonePrivateVisibilityConfigNetworkArgs(network_url=args.private_network)]),
            opts=child)
        gcp.dns.RecordSet(f"{name}-dns", managed_zone=zone.name, name=self.instance.dns_name, type="A", ttl=300,
                          rrdatas=[self.instance.private_ip_address], project=args.project, opts=child)
        self._project = args.project
        self.register_outputs({"connection_name": self.connection_name, "host": self.host,
                               "private_ip": self.instance.private_ip_address, "schema_command": self.schema_command})

    def client_certificate(self, name: str, common_name: str) -> gcp.sql.SslCert:
        """A client certificate Cloud SQL's client CA issues for one client (TRUSTED_CLIENT_CERTIFICATE_REQUIRED
        admits no other): its `cert`, `private_key` (a Pulumi secret) and `server_ca_cert` (the CA that verifies the
        instance) go to that client's identity only, as Secret Manager files."""
        return gcp.sql.SslCert(name, common_name=common_name, instance=self.instance.name, project=self._project,
                               opts=pulumi.ResourceOptions(parent=self))


def schema_command(connection_name: str) -> str:
    """Shell commands (run from the project, inside the VPC) that apply components/sql to Cloud SQL once.

    The Auth Proxy carries the client-certificate TLS to the instance; psql talks to it on loopback.
    Passwords come from files the operator fetched from Secret Manager (PGPASSFILE, .state/postgres-app-password).
    The application role's password reaches the instance only as its SCRAM-SHA-256 verifier, computed here
    (components/scram.py): Cloud SQL logs role statements, and a verifier in its log opens nothing.
    """
    schema = sorted((PROJECT_DIR / "components" / "sql").glob("*.sql"))
    files = " ".join(f"--file={path.relative_to(PROJECT_DIR)}" for path in schema)
    return (f"cloud-sql-proxy --private-ip --port {AUTH_PROXY_PORT} {connection_name} & "
            f".venv/bin/python -c 'from components.postgres_runtime import sql_settings; print(sql_settings())' "
            f"> .state/000_settings.psql && "
            f"(umask 077 && .venv/bin/python -m components.scram .state/postgres-app-password "
            f"> .state/postgres-app-password.scram) && "
            f"psql 'host=127.0.0.1 port={AUTH_PROXY_PORT} user={postgres_runtime.SUPERUSER} dbname=postgres' "
            f"--no-psqlrc --set=ON_ERROR_STOP=1 --set=app_password_file=.state/postgres-app-password.scram "
            f"--file=.state/000_settings.psql {files}")


@dataclass
class DockerPostgresArgs:
    """+ image: our Postgres image by sha256 id (build/images.json)
    + data_volume: the EncryptedVolume's docker volume name
    + secrets: host paths of the secret files (postgres_runtime.PostgresSecrets)
    + port: published port on a declared bind address
    + networks: docker networks to join
    """

    image: str
    data_volume: str
    secrets: postgres_runtime.PostgresSecrets
    port: Port
    networks: Sequence[str]
    allowed_bind_addresses: Sequence[str]
    depends_on: Sequence[pulumi.Resource] = field(default_factory=tuple)
    host_roots: Sequence[str] = CONTAINER.host_roots


class DockerPostgres(pulumi.ComponentResource):
    """Our Postgres image as a HardenedContainer: TLS 1.3 only, scram-sha-256, audit_log + RLS baked in.

    Example: DockerPostgres("postgres", DockerPostgresArgs(image_id, volume.docker_volume_name, PostgresSecrets(...),
                                                           Port(5432, 5432), ["rae-backend"], ["127.0.0.1"]))
    """

    def __init__(self, name: str, args: DockerPostgresArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("rae:hardening:Postgres", name, None, opts)
        # The port joins with the stack's declared addresses: a Tailscale address is not in the runtime's default.
        spec = dataclasses.replace(
            postgres_runtime.postgres_spec(args.image, args.data_volume, args.secrets, name=name,
                                           networks=tuple(args.networks), host_roots=tuple(args.host_roots)),
            ports=(args.port,), allowed_bind_addresses=tuple(args.allowed_bind_addresses))
        self.container = HardenedContainer(name, HardenedContainerArgs(spec, "Postgres", args.depends_on),
                                           opts=pulumi.ResourceOptions(parent=self))
        self.container_name = self.container.container_name
        self.endpoint = f"{args.port.host_ip}:{args.port.external}"
        self.register_outputs({"endpoint": self.endpoint, "container": self.container_name})
