"""The API slot's runtime, stated once: paths, limits, environment and the ContainerSpec of the API container.

`rae:apiImage` names the user's API image (by digest or local id); tests and the default local stack run the
reference API (images/api, built on our Debian base by scripts/build-images.sh). Either runs this spec: the
hardened container posture, on the API's own network segments (the proxy's side and the stores' side), TLS 1.3
only, requiring a client certificate signed by the stack's CA (the TLS proxy's), and reaching Postgres and
Qdrant's TLS 1.3 front with their certificates verified by name, presenting a client certificate to each. A caller
names its tenant with a bearer token the API verifies with the stack's tenant-token public key (baseline
API.tenant_token_max_lifetime_s; `harden api-token` mints one). Pure Python: reads the baseline only.

    >>> spec = api_spec("sha256:...", ApiSecrets(crt, key, ca, pg_password, qdrant_key), networks=("rae-api",))
"""

from dataclasses import dataclass

from baseline import API, CONTAINER, TLS, require
from components import postgres_runtime, qdrant_runtime
from components.spec import ContainerSpec, Healthcheck, SecretFile
from posture.container import service_user

NAME = "rae-api"  # the container's name on its networks, and its certificate's only DNS name
LISTEN_PORT = 8443
APP_DIR = "/usr/lib/rae"
SECRETS_DIR = "/run/secrets"
TLS_CERT_PATH = f"{SECRETS_DIR}/api-server.crt"
TLS_KEY_PATH = f"{SECRETS_DIR}/api-server.key"
CA_PATH = f"{SECRETS_DIR}/ca.crt"
PG_PASSWORD_PATH = f"{SECRETS_DIR}/postgres-app-password"
PG_CLIENT_CERT_PATH = f"{SECRETS_DIR}/postgres-client.crt"
PG_CLIENT_KEY_PATH = f"{SECRETS_DIR}/postgres-client.key"
QDRANT_KEY_PATH = f"{SECRETS_DIR}/qdrant-api-key"
QDRANT_CLIENT_CERT_PATH = f"{SECRETS_DIR}/qdrant-client.crt"
QDRANT_CLIENT_KEY_PATH = f"{SECRETS_DIR}/qdrant-client.key"
QDRANT_CLIENT_NAME = "rae-api"  # the CN of the API's client certificate towards Qdrant's front (FRONT_CLIENTS)
TENANT_TOKEN_PUBLIC_KEY_PATH = f"{SECRETS_DIR}/tenant-token-public.pem"
# Tenant tokens: EdDSA (Ed25519) JWTs for this audience, `sub` the tenant, `iat` and `exp` required.
TENANT_TOKEN_ALGORITHM = "EdDSA"
TENANT_TOKEN_KEY_ALGORITHM = "ED25519"  # pulumi-tls's name of the key pair that signs and verifies them
TENANT_TOKEN_AUDIENCE = "rae-api"
TENANT_TOKEN_MAX_LIFETIME_S = API.tenant_token_max_lifetime_s
# Requests, stated in the baseline (API section) and read here for the proxy and the API: bodies above
# MAX_BODY_BYTES are refused (413) by the proxy and again by the API; the proxy gives a client REQUEST_TIMEOUT_S to
# send its headers and the API SERVER_TIMEOUT_S to answer; idle keep-alive connections close after KEEPALIVE_S.
MAX_BODY_BYTES = API.max_body_bytes
REQUEST_TIMEOUT_S = API.request_header_timeout_s
CLIENT_TIMEOUT_S = API.client_idle_timeout_s
SERVER_TIMEOUT_S = API.server_timeout_s
KEEPALIVE_S = API.keepalive_s
MAX_CONCURRENCY = API.max_concurrency
HSTS = API.hsts


@dataclass(frozen=True)
class ApiSecrets:
    """Host paths (mode 0400, service uid) mounted read-only into the API container.

    + tls_cert, tls_key: the API's server certificate (DNS name NAME only) and key
    + ca_cert: the stack's CA: verifies the proxy's client certificate, Postgres's and Qdrant's front's server names
    + postgres_password: the application role's password
    + qdrant_api_key: signs the tenants' JWTs and creates a tenant's collection
    + postgres_client_cert, postgres_client_key: the application role's client certificate, where Postgres asks for one
    + qdrant_client_cert, qdrant_client_key: the API's client certificate (CN QDRANT_CLIENT_NAME) towards Qdrant's
      front, which requires one (baseline TLS.client_cert_required_hops)
    + tenant_token_public_key: the Ed25519 public key (PEM) that verifies tenant tokens; required (the API refuses
      every tenant route without it)
    """

    tls_cert: str
    tls_key: str
    ca_cert: str
    postgres_password: str
    qdrant_api_key: str
    postgres_client_cert: str | None = None
    postgres_client_key: str | None = None
    qdrant_client_cert: str | None = None
    qdrant_client_key: str | None = None
    tenant_token_public_key: str | None = None


def build_args() -> dict[str, str]:
    """`docker build --build-arg` values of images/api/Dockerfile."""
    uid, gid = service_user(NAME)
    return {"SERVICE_UID": str(uid), "SERVICE_GID": str(gid), "APP_DIR": APP_DIR,
            "LISTEN_PORT": str(LISTEN_PORT)}


def healthcheck() -> Healthcheck:
    """The TLS port accepts connections (bash /dev/tcp: a request would need the proxy's client certificate)."""
    return Healthcheck(("CMD", "bash", "-c", f"exec 3<>/dev/tcp/127.0.0.1/{LISTEN_PORT}"),
                       interval_s=5, timeout_s=3, retries=5, start_period_s=20)


@dataclass(frozen=True)
class ApiFiles:
    """Where, inside the API's container, each file it reads sits (the target's mounts put them there).

    + ca_cert: the stack's CA: verifies Qdrant's front (and, where the API serves TLS itself, its clients)
    + postgres_ca_cert: verifies Postgres's server certificate (the stack's CA on docker, Cloud SQL's server CA on gcp)
    + postgres_password, qdrant_api_key: the application role's password, the key that signs the tenants' JWTs
    + qdrant_client_cert, qdrant_client_key: the API's client certificate towards Qdrant's front
    + tls_cert, tls_key: the API's own TLS listener (docker: the TLS proxy's mutual TLS 1.3 hop); None where the
      platform's front end terminates TLS (Cloud Run), see LISTENER_ENV
    + postgres_client_cert, postgres_client_key: the application role's client certificate, where Postgres asks for one
    + tenant_token_public_key: verifies the tenants' bearer tokens (baseline API.tenant_token_max_lifetime_s)
    """

    ca_cert: str
    postgres_ca_cert: str
    postgres_password: str
    qdrant_api_key: str
    qdrant_client_cert: str
    qdrant_client_key: str
    tenant_token_public_key: str
    tls_cert: str | None = None
    tls_key: str | None = None
    postgres_client_cert: str | None = None
    postgres_client_key: str | None = None


# The names of the API's own TLS listener (images/api/rae_api/app.py main()). Cloud Run's front end forwards requests
# to the container without TLS, so on gcp none is set and the reference API refuses to start there (it names the
# first one missing): it has no mode for a platform that terminates TLS (README, "The gcp stack").
LISTENER_ENV = ("RAE_API_TLS_CERT_FILE", "RAE_API_TLS_KEY_FILE")


def api_env(files: ApiFiles, postgres_host, qdrant_host: str) -> dict:
    """The API's environment, on every target: each value an address, a limit or the path of a file (never a secret).

    + files: the in-container paths of the files it reads
    + postgres_host: the name Postgres's server certificate carries (sslmode=verify-full checks it); on gcp a value
      Pulumi resolves later (the Cloud SQL instance's DNS name)
    + qdrant_host: the name or address Qdrant's front's certificate carries
    """
    client_cert = (files.postgres_client_cert, files.postgres_client_key)
    require(all(client_cert) or not any(client_cert),
            "the API's Postgres client certificate needs both its certificate and its key", TLS.controls("min_version"))
    require(bool(files.tls_cert) == bool(files.tls_key),
            "the API's TLS listener needs both its certificate and its key", TLS.controls("min_version"))
    env = {"RAE_API_PORT": str(LISTEN_PORT), "RAE_CA_FILE": files.ca_cert,
           "RAE_API_MAX_BODY_BYTES": str(MAX_BODY_BYTES), "RAE_API_KEEPALIVE_S": str(KEEPALIVE_S),
           "RAE_API_MAX_CONCURRENCY": str(MAX_CONCURRENCY),
           "RAE_PG_HOST": postgres_host, "RAE_PG_PORT": str(postgres_runtime.PORT),
           "RAE_PG_DATABASE": postgres_runtime.DATABASE_NAME, "RAE_PG_USER": postgres_runtime.APP_ROLE,
           "RAE_PG_PASSWORD_FILE": files.postgres_password, "RAE_PG_CA_FILE": files.postgres_ca_cert,
           "RAE_QDRANT_HOST": qdrant_host, "RAE_QDRANT_PORT": str(qdrant_runtime.HTTP_PORT),
           "RAE_QDRANT_API_KEY_FILE": files.qdrant_api_key, "RAE_QDRANT_CLIENT_CERT_FILE": files.qdrant_client_cert,
           "RAE_QDRANT_CLIENT_KEY_FILE": files.qdrant_client_key,
           "RAE_API_BEARER_PUBLIC_KEY_FILE": files.tenant_token_public_key,
           "RAE_API_BEARER_AUDIENCE": TENANT_TOKEN_AUDIENCE,
           "RAE_API_BEARER_MAX_LIFETIME_S": str(TENANT_TOKEN_MAX_LIFETIME_S)}
    if files.tls_cert:
        env |= dict(zip(LISTENER_ENV, (files.tls_cert, files.tls_key)))
    if all(client_cert):
        env |= {"RAE_PG_CLIENT_CERT_FILE": files.postgres_client_cert,
                "RAE_PG_CLIENT_KEY_FILE": files.postgres_client_key}
    return env


def api_spec(image: str, secrets: ApiSecrets, networks: tuple[str, ...], name: str = NAME,
             postgres_host: str = "postgres", qdrant_host: str | None = None,
             host_roots: tuple[str, ...] = CONTAINER.host_roots) -> ContainerSpec:
    """The hardened API container: never published (the TLS proxy is the only way in).

    + image: the API image by digest or local id (`rae:apiImage`, or build/images.json "api")
    + secrets: host paths of its TLS files, the CA and its credentials to the stores
    + networks: the proxy's segment and the stores' segment (internal networks)
    + postgres_host, qdrant_host: the stores' names on the stores' segment (their certificates' names; Qdrant's
      front by default)
    + host_roots: the declared roots its secret files sit under
    """
    require(TLS.min_version == "TLSv1.3", "the API serves TLS 1.3 only (rae_api sets it on uvicorn's context)",
            TLS.controls("min_version"))
    require("api->qdrant" not in TLS.client_cert_required_hops
            or bool(secrets.qdrant_client_cert and secrets.qdrant_client_key),
            "the API needs its client certificate and key towards Qdrant (ApiSecrets.qdrant_client_cert/_key): "
            "Qdrant's front refuses a client without one", TLS.controls("client_cert_required_hops"))
    require(bool(secrets.tenant_token_public_key),
            "the API needs the tenant-token public key (ApiSecrets.tenant_token_public_key): without it no caller could "
            "be bound to a tenant", API.controls("tenant_token_max_lifetime_s"))
    client_cert = all((secrets.postgres_client_cert, secrets.postgres_client_key))
    # The stack's CA verifies Postgres too on docker: one file, named for each hop that trusts it.
    env = api_env(ApiFiles(ca_cert=CA_PATH, postgres_ca_cert=CA_PATH, postgres_password=PG_PASSWORD_PATH,
                           qdrant_api_key=QDRANT_KEY_PATH, qdrant_client_cert=QDRANT_CLIENT_CERT_PATH,
                           qdrant_client_key=QDRANT_CLIENT_KEY_PATH, tenant_token_public_key=TENANT_TOKEN_PUBLIC_KEY_PATH,
                           tls_cert=TLS_CERT_PATH, tls_key=TLS_KEY_PATH,
                           postgres_client_cert=PG_CLIENT_CERT_PATH if secrets.postgres_client_cert else None,
                           postgres_client_key=PG_CLIENT_KEY_PATH if secrets.postgres_client_key else None),
                  postgres_host=postgres_host, qdrant_host=qdrant_host or qdrant_runtime.FRONT_NAME)
    files = [SecretFile(secrets.tls_cert, TLS_CERT_PATH), SecretFile(secrets.tls_key, TLS_KEY_PATH),
             SecretFile(secrets.ca_cert, CA_PATH), SecretFile(secrets.postgres_password, PG_PASSWORD_PATH),
             SecretFile(secrets.qdrant_api_key, QDRANT_KEY_PATH),
             SecretFile(secrets.qdrant_client_cert, QDRANT_CLIENT_CERT_PATH),
             SecretFile(secrets.qdrant_client_key, QDRANT_CLIENT_KEY_PATH),
             SecretFile(secrets.tenant_token_public_key, TENANT_TOKEN_PUBLIC_KEY_PATH)]
    if client_cert:
        files += [SecretFile(secrets.postgres_client_cert, PG_CLIENT_CERT_PATH),
                  SecretFile(secrets.postgres_client_key, PG_CLIENT_KEY_PATH)]
    return ContainerSpec(name=name, service=NAME, image=image, healthcheck=healthcheck(), secret_files=tuple(files), env=env,
                         networks=tuple(networks), host_roots=tuple(host_roots))
