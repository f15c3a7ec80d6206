"""The Postgres runtime, stated once: server flags, pg_hba.conf, secret paths and the ContainerSpec.

The image build (scripts/build-images.sh bakes `pg_hba_conf()`, `sql_settings()` and `build_args()`),
the Pulumi components and the integration tests all read this module, so every Postgres container
runs with the same settings. Pure Python: reads the baseline, imports nothing from Pulumi.

    >>> spec = postgres_spec("sha256:...", "pgdata", PostgresSecrets(...), port=Port(5432, 15432))
    >>> docker.from_env().containers.run(**docker_api_kwargs(spec))
"""

from dataclasses import dataclass
from pathlib import Path

from baseline import CONTAINER, DATABASE, require
from components.spec import ContainerSpec, Healthcheck, Mount, Port, SecretFile
from posture.container import service_user

SERVICE = "postgres"  # its key in baseline CONTAINER.service_users (uid, gid)
MAJOR_VERSION = DATABASE.engine_version.removeprefix("POSTGRES_")
PORT = 5432
SUPERUSER = "postgres"
DATABASE_NAME = "rae"
APP_ROLE = "rae_app"
OWNER_ROLE = "rae_owner"  # owns tables and functions; NOLOGIN
TENANT_SETTING = "app.tenant_id"
PRELOAD_LIBRARIES = "pgaudit"
# The SQL function bodies (components/sql/003, 005) name these literally: psql expands no variables inside them.
SQL_BODY_NAMES = {"audit_log_table": "audit_log", "tenant_column": "tenant_id", "tenant_setting": "app.tenant_id"}
# The audit chain's hash (components/sql/003's audit_log_row_hash) is one of Postgres' built-in digests, named there
# literally too; sql_settings() refuses a baseline DATABASE.audit_chain that the shipped SQL does not compute.
AUDIT_CHAIN_SQL = Path(__file__).parent / "sql" / "003_audit_log.sql"
POSTGRES_DIGESTS = ("sha224", "sha256", "sha384", "sha512")

DATA_DIR = "/var/lib/postgresql/data"
SOCKET_DIR = "/tmp/postgresql"  # /tmp is a world-writable (sticky) tmpfs; /run is root-owned in a read-only container
HBA_FILE = "/etc/rae/pg_hba.conf"
SQL_DIR = "/usr/share/rae/sql"
SECRETS_DIR = "/run/secrets"
SUPERUSER_PASSWORD_PATH = f"{SECRETS_DIR}/postgres-superuser-password"
APP_PASSWORD_PATH = f"{SECRETS_DIR}/postgres-app-password"
TLS_CERT_PATH = f"{SECRETS_DIR}/postgres-server.crt"
TLS_KEY_PATH = f"{SECRETS_DIR}/postgres-server.key"
CLIENT_CA_PATH = f"{SECRETS_DIR}/client-ca.crt"
SUPERUSER_PASSWORD_ENV = "POSTGRES_PASSWORD_FILE"
APP_PASSWORD_ENV = "RAE_APP_PASSWORD_FILE"


@dataclass(frozen=True)
class PostgresSecrets:
    """Host paths of the secret files (mode 0400, owned by the service uid), mounted read-only.

    + superuser_password: password of the `postgres` superuser (first line of the file)
    + app_password: password of the application role `rae_app`
    + tls_cert: PEM server certificate (chain) presented to clients
    + tls_key: PEM private key of that certificate
    + client_ca: the CA whose client certificates Postgres accepts; the application role logs in only with one
      whose common name is the role's name (clientcert=verify-full) and its password
    """

    superuser_password: str
    app_password: str
    tls_cert: str
    tls_key: str
    client_ca: str


def server_flags() -> tuple[str, ...]:
    """The `postgres` command-line flags: TLS 1.3 only, scram-sha-256, our pg_hba.conf, the baseline log flags."""
    settings = {
        "listen_addresses": "*",
        "port": str(PORT),
        "unix_socket_directories": SOCKET_DIR,
        "hba_file": HBA_FILE,
        "ssl": "on",
        "ssl_min_protocol_version": DATABASE.ssl_min_protocol_version,
        "ssl_cert_file": TLS_CERT_PATH,
        "ssl_key_file": TLS_KEY_PATH,
        "ssl_ca_file": CLIENT_CA_PATH,
        "password_encryption": DATABASE.password_encryption,
        "jit": "off",  # the image ships without LLVM: short OLTP queries gain nothing from JIT
        "shared_preload_libraries": PRELOAD_LIBRARIES,
        "pgaudit.log": DATABASE.pgaudit_log,
        "pgaudit.log_parameter": "off",  # parameter values are memories (PII): statement text only
        **DATABASE.log_flags,
    }
    flags: list[str] = []
    for name, value in settings.items():
        flags += ["-c", f"{name}={value}"]
    return tuple(flags)


def pg_hba_conf() -> str:
    """pg_hba.conf: the superuser over the local socket by peer only (healthcheck, backups, operators with
    `docker exec`); the application role remotely with TLS + a client certificate of the stack's CA naming the
    role (clientcert=verify-full) + scram; every other role remotely with TLS + scram.

    `hostnossl ... reject` comes before every host rule, so a client without TLS is refused whatever
    its credentials; the superuser's own `hostssl ... reject` comes before the scram rule, so its password
    opens nothing over the network.
    """
    require(DATABASE.reject_non_tls, "Postgres must reject non-TLS connections", DATABASE.controls("reject_non_tls"))
    require(DATABASE.superuser_local_only, "the Postgres superuser must log in over the local socket only",
            DATABASE.controls("superuser_local_only"))
    method = DATABASE.password_encryption
    return (
        "# Generated from components/postgres_runtime.py (baseline.DATABASE); do not edit in the image.\n"
        "# TYPE     DATABASE  USER      ADDRESS  METHOD\n"
        f"local      all       {SUPERUSER:<9} peer\n"
        "hostnossl  all       all       all      reject\n"
        f"hostssl    all       {SUPERUSER:<9} all      reject\n"
        f"hostssl    all       {APP_ROLE:<9} all      {method} clientcert=verify-full\n"
        f"hostssl    all       all       all      {method}\n"
    )


def sql_settings() -> str:
    """psql variables the schema in components/sql/*.sql reads, so table and role names are stated once."""
    variables = {
        "database": DATABASE_NAME,
        "app_role": APP_ROLE,
        "owner_role": OWNER_ROLE,
        "audit_log_table": DATABASE.audit_log_table,
        "tenant_column": DATABASE.tenant_column,
        "tenant_setting": TENANT_SETTING,
    }
    differing = {name: variables[name] for name, literal in SQL_BODY_NAMES.items() if variables[name] != literal}
    require(not differing, f"the SQL functions name {SQL_BODY_NAMES} literally; the baseline now says {differing}: "
            "change components/sql/003 and 005 with it", DATABASE.controls("app_access"))
    chain = DATABASE.audit_chain
    require(chain in POSTGRES_DIGESTS and f"SELECT {chain}(prev_hash" in AUDIT_CHAIN_SQL.read_text(encoding="utf-8"),
            f"database.audit_chain {chain!r}: audit_log_row_hash in components/sql/003 must compute it (one of "
            f"{list(POSTGRES_DIGESTS)}); change the SQL with the baseline", DATABASE.controls("audit_chain"))
    lines = ["-- Generated from components/postgres_runtime.py (baseline.DATABASE)."]
    lines += [f"\\set {name} {value}" for name, value in variables.items()]
    return "\n".join(lines) + "\n"


def build_args() -> dict[str, str]:
    """`docker build --build-arg` values of images/postgres/Dockerfile."""
    return {
        "SERVICE_UID": str(service_user(SERVICE)[0]),
        "SERVICE_GID": str(service_user(SERVICE)[1]),
        "PG_MAJOR": MAJOR_VERSION,
        "DATA_DIR": DATA_DIR,
        "SOCKET_DIR": SOCKET_DIR,
        "PORT": str(PORT),
        "HBA_FILE": HBA_FILE,
        "SQL_DIR": SQL_DIR,
        "PRELOAD_LIBRARIES": PRELOAD_LIBRARIES,
    }


def healthcheck() -> Healthcheck:
    """pg_isready over the unix socket: no credentials needed, nothing exposed."""
    return Healthcheck(("CMD", "pg_isready", "--quiet", f"--host={SOCKET_DIR}", f"--port={PORT}"),
                       interval_s=5, timeout_s=5, retries=5, start_period_s=60)


def postgres_spec(image: str, data_volume: str, secrets: PostgresSecrets, port: Port | None = None,
                  name: str = "postgres", networks: tuple[str, ...] = (),
                  memory_mb: int = CONTAINER.memory_mb_default,
                  host_roots: tuple[str, ...] = CONTAINER.host_roots) -> ContainerSpec:
    """The hardened Postgres container.

    + image: image id `sha256:...` (build/images.json "postgres")
    + data_volume: named volume (or host path) mounted at DATA_DIR; initialised on first start
    + secrets: host paths of the secret files
    + port: publish PORT on a declared host address, or None on an internal network only
    + name, networks, memory_mb, host_roots: as in ContainerSpec
    """
    return ContainerSpec(
        name=name,
        service=SERVICE,
        image=image,
        healthcheck=healthcheck(),
        command=server_flags(),
        mounts=(Mount(data_volume, DATA_DIR, type="bind" if data_volume.startswith("/") else "volume"),),
        secret_files=(
            SecretFile(secrets.superuser_password, SUPERUSER_PASSWORD_PATH),
            SecretFile(secrets.app_password, APP_PASSWORD_PATH),
            SecretFile(secrets.tls_cert, TLS_CERT_PATH),
            SecretFile(secrets.tls_key, TLS_KEY_PATH),
            SecretFile(secrets.client_ca, CLIENT_CA_PATH),
        ),
        env={SUPERUSER_PASSWORD_ENV: SUPERUSER_PASSWORD_PATH, APP_PASSWORD_ENV: APP_PASSWORD_PATH},
        ports=(port,) if port else (),
        networks=networks,
        memory_mb=memory_mb,
        host_roots=tuple(host_roots),
    )


def local_superuser_command(container: str, statement: str, database: str = DATABASE_NAME) -> list[str]:
    """`docker exec` argv running one SQL statement as the superuser over the container's local socket (peer):
    the only way the superuser logs in. Output: CSV rows without a header.

    + container: name or id of a running Postgres container from our image
    + statement: SQL (passed as one argument, never through a shell)
    """
    return ["docker", "exec", container, "psql", "--no-psqlrc", "--set=ON_ERROR_STOP=1", "--csv", "--tuples-only",
            f"--username={SUPERUSER}", f"--dbname={database}", f"--command={statement}"]
