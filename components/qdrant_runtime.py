"""The Qdrant runtime, stated once: the pinned version, the config file, secret paths and the ContainerSpec.

The image build (scripts/build-images.sh reads `build_args()` and checks the server binary against
`BINARY_SHA256`), the Pulumi components and the integration tests all read this module, so every Qdrant
container runs with the same settings. Pure Python: reads the baseline, imports nothing from Pulumi.

Two images run this spec:
- the official `qdrant/qdrant` image pinned by digest (`OFFICIAL_IMAGE`), wherever a registry is reachable;
- our image (images/qdrant) built on the project's Debian base from the Qdrant server binary of the same
  release (`VERSION`), where no registry is reachable; it is pinned by its local image id.

Qdrant reads its settings from YAML; the API keys reach it inside a config file that is itself a secret
file (0400, service uid), never an environment variable. Storage, snapshots, temporary files and the
start marker (`QDRANT_INIT_FILE_PATH`) all live on the data volume: the root filesystem stays read-only.

Qdrant's TLS accepts TLS 1.2 (observed on 1.18.3: ECDHE-ECDSA-AES256-GCM-SHA384 on both the REST and the
gRPC port) and has no setting for a minimum version. So the store (`STORE_NAME`) sits alone with its front
on a network of their own, and its clients reach `FRONT_NAME`: our TLS proxy image with `front_config()`,
which accepts TLS 1.3 only, requires a client certificate of the stack's CA whose CN is one of `FRONT_CLIENTS`
(baseline TLS.client_cert_required_hops: api->qdrant), and re-encrypts to the store, verifying the store's
certificate by name and presenting a client certificate of its own (CN `FRONT_NAME`, clientAuth only). Qdrant's own
`verify_https_client_certificate` would still let TLS 1.2 in, so the clients' certificates are required where TLS 1.3
is: on the front. The store requires the front's (baseline TLS.client_cert_required_hops:
qdrant-front->qdrant-store) on its REST port; Qdrant 1.18.3 asks no client certificate on its gRPC port
(`load_tls_external_server_config` in src/common/helpers.rs sets a server identity only), so there the
store's own network, which holds the front alone, and the API key are what stand.

Tenants are isolated collection per tenant (`tenant_collection`), reached with JWTs whose claims
(`tenant_claims`) name that one collection: Qdrant's own RBAC (`jwt_rbac`) refuses every other collection,
its points and its snapshots, whatever the request. A filter on a shared collection would instead rest on
every query of the API remembering it.

    >>> store = qdrant_spec("sha256:...", "qdrant-data", QdrantSecrets(cfg, crt, key, ca), networks=("rae-qdrant",))
    >>> front = front_spec("sha256:...", FrontSecrets(front_cfg, crt, key, ca, client_crt, client_key),
    ...                    networks=("rae-backend", "rae-qdrant"))
"""

import json
import re
from dataclasses import dataclass

from baseline import CONTAINER, SECRETS, TLS, require
from components import proxy_runtime
from components.spec import ContainerSpec, Healthcheck, Mount, Port, SecretFile
from posture.container import local_image_id, pinned_by_digest, service_user

VERSION = "1.18.3"
# The official image of VERSION by digest, as pinned by independent public deployments of v1.18.3; no registry
# is reachable from the machines this was written on, so it was not pulled here. Verify it where one is
# reachable (`docker buildx imagetools inspect qdrant/qdrant:v1.18.3`) before the first production use.
OFFICIAL_IMAGE = "qdrant/qdrant@sha256:0bd98fa7977f1e75694779359ca4e212822e5a71334e28421182f72f209d5286"
# sha256 of the stripped server binary built from the upstream tag v1.18.3 (shared/qdrant/VERSION).
BINARY_SHA256 = "9edf734f649ab9baf24d4a424f71c798968ccea1a5fab0279b690a94a99d2292"

HTTP_PORT = 6333
GRPC_PORT = 6334
WORK_DIR = "/qdrant"
BINARY_PATH = f"{WORK_DIR}/qdrant"
CONFIG_PATH = f"{WORK_DIR}/config/local.yaml"
TLS_CERT_PATH = f"{WORK_DIR}/tls/cert.pem"
TLS_KEY_PATH = f"{WORK_DIR}/tls/key.pem"
CA_CERT_PATH = f"{WORK_DIR}/tls/ca.pem"
STORAGE_PATH = f"{WORK_DIR}/storage"
SNAPSHOTS_PATH = f"{STORAGE_PATH}/snapshots"
TEMP_PATH = f"{STORAGE_PATH}/tmp"
INIT_FILE_PATH = f"{STORAGE_PATH}/.qdrant-initialized"
MEMORY_MB = 2048
STORE_NAME = "qdrant-store"
FRONT_NAME = "qdrant"
FRONT_CONFIG_PATH = "/etc/rae/qdrant-front.cfg"
FRONT_CERT_PATH = "/run/secrets/qdrant-front.crt"
FRONT_KEY_PATH = FRONT_CERT_PATH + ".key"  # HAProxy loads "<crt>.key" beside a certificate without a key
FRONT_CA_PATH = "/run/secrets/ca.crt"
FRONT_CLIENT_CERT_PATH = "/run/secrets/qdrant-front-client.crt"  # the front's identity towards the store
FRONT_CLIENT_KEY_PATH = FRONT_CLIENT_CERT_PATH + ".key"  # HAProxy loads "<crt>.key" here too
# The client identities (certificate CN, signed by the stack's CA) the front lets through: the API and the backup.
FRONT_CLIENTS = ("rae-api", "rae-backup")

# The official image by digest, from Docker Hub or through an Artifact Registry remote repository of Docker Hub
# (LOCATION-docker.pkg.dev/PROJECT/REPOSITORY/qdrant/qdrant), which keeps its path and digest; no other registry.
_OFFICIAL_DIGEST = re.compile(r"^(?:[a-z0-9-]+-docker\.pkg\.dev/[a-z][a-z0-9-]{4,28}[a-z0-9]/[a-z0-9][a-z0-9._-]*/)?"
                              r"qdrant/qdrant@sha256:[0-9a-f]{64}$")
TENANT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")  # the tenant ids components/sql/005 accepts


@dataclass(frozen=True)
class QdrantSecrets:
    """Host paths of the secret files (mode 0400, owned by the service uid), mounted read-only.

    + config: Qdrant's local.yaml (config_yaml(...)): it holds the API keys
    + tls_cert, tls_key: PEM server certificate (chain) and its key
    + ca_cert: the stack's CA certificate, the only trust anchor the process gets (SSL_CERT_FILE)
    """

    config: str
    tls_cert: str
    tls_key: str
    ca_cert: str


def check_image(image: str, local_build_allowed: bool = True) -> None:
    """The official image pinned by digest, or (docker targets) our build by its local image id."""
    official = bool(_OFFICIAL_DIGEST.match(image or ""))
    local = local_build_allowed and local_image_id(image)
    accepted = "[LOCATION-docker.pkg.dev/PROJECT/REPOSITORY/]qdrant/qdrant@sha256:<64 hex>" + (
        " or a local image id sha256:<64 hex>" if local_build_allowed else "")
    require(official or local, f"Qdrant image {image!r} must be {accepted}", CONTAINER.controls("image_pinning"))


def check_front_image(image: str, local_build_allowed: bool = True) -> None:
    """The front's TLS proxy image pinned by digest (a host that pulls it), or (docker targets) our build by its local
    image id."""
    local = local_build_allowed and local_image_id(image)
    accepted = "<registry>/<path>@sha256:<64 hex>" + (" or a local image id sha256:<64 hex>" if local_build_allowed else "")
    require(pinned_by_digest(image) or local, f"TLS proxy image {image!r} of Qdrant's front must be {accepted}",
            CONTAINER.controls("image_pinning"))


def config_yaml(api_key: str, read_only_api_key: str, require_client_certificate: bool = False) -> str:
    """Qdrant's local.yaml: both API keys, TLS on HTTP and gRPC with our certificate, everything written on the
    data volume, no telemetry and no web UI. JSON is YAML: keys cannot break the file's syntax.

    + api_key: full access (the API)
    + read_only_api_key: reads only (audits, reporting)
    + require_client_certificate: the REST port completes no TLS handshake without a client certificate from the
      CA certificate (`verify_https_client_certificate`): the stack's store (its front presents one) and the
      scratch stores of drills and restores
    """
    require(bool(api_key) and bool(read_only_api_key) and api_key != read_only_api_key,
            "Qdrant needs two distinct non-empty API keys (read-write and read-only)", SECRETS.controls("delivery"))
    return json.dumps({
        "log_level": "INFO",
        "telemetry_disabled": True,
        "service": {"api_key": api_key, "read_only_api_key": read_only_api_key, "enable_tls": True,
                    "host": "0.0.0.0", "http_port": HTTP_PORT, "grpc_port": GRPC_PORT,
                    "enable_static_content": False, "jwt_rbac": True,
                    **({"verify_https_client_certificate": True} if require_client_certificate else {})},
        "tls": {"cert": TLS_CERT_PATH, "key": TLS_KEY_PATH, "ca_cert": CA_CERT_PATH},
        "storage": {"storage_path": STORAGE_PATH, "snapshots_path": SNAPSHOTS_PATH, "temp_path": TEMP_PATH},
    }, indent=2) + "\n"


def tenant_collection(tenant: str) -> str:
    """The one collection of a tenant's memory vectors (tenant isolation is collection per tenant)."""
    require(bool(TENANT_ID.match(tenant or "")), f"tenant {tenant!r} is not a tenant id", ("A.5.15", "A.8.3"))
    return f"memories-{tenant}"


def tenant_claims(tenant: str, access: str, expires_at: int) -> dict:
    """The claims of a JWT (signed HS256 with the API key, `jwt_rbac`) that reaches one tenant's collection only.

    Qdrant grants FULL access to a token without an `access` claim, so every token names its collection.
    + access: "r" (read) or "rw" (read and write)
    + expires_at: seconds since the epoch; Qdrant refuses the token after it
    """
    require(access in ("r", "rw"), f"collection access {access!r} is not one of ['r', 'rw']", ("A.5.15", "A.8.3"))
    return {"access": [{"collection": tenant_collection(tenant), "access": access}], "exp": int(expires_at),
            "sub": tenant}


def backup_claims(collections: list[str], expires_at: int) -> dict:
    """The claims of the backup's snapshot token (HS256 with the API key, `jwt_rbac`): `rw` on exactly `collections`.

    Qdrant 1.18.3 gates creating and deleting a collection snapshot on collection *write* access
    (`AccessRequirements::new().write().extras()` in src/common/collections.rs `do_create_snapshot` and
    lib/storage/src/content_manager/snapshots/mod.rs `do_delete_collection_snapshot`). Its collection modes are
    `r` (no write), `rw` and `prw` (no snapshots), so no credential creates a snapshot without also being able to
    write that collection's points. What `rw` on named collections does not grant: creating or deleting
    collections, full-storage snapshots and recovery (global manage), and any other collection.
    + collections: every collection the backup snapshots (a new collection needs a new token)
    + expires_at: seconds since the epoch; Qdrant refuses the token after it
    """
    require(bool(collections), "a snapshot token needs at least one collection", ("A.5.15", "A.8.13"))
    return {"access": [{"collection": name, "access": "rw"} for name in sorted(collections)], "exp": int(expires_at),
            "sub": "rae-backup"}


def build_args() -> dict[str, str]:
    """`docker build --build-arg` values of images/qdrant/Dockerfile."""
    uid, gid = service_user(STORE_NAME)
    return {"SERVICE_UID": str(uid), "SERVICE_GID": str(gid), "QDRANT_VERSION": VERSION,
            "WORK_DIR": WORK_DIR, "HTTP_PORT": str(HTTP_PORT), "GRPC_PORT": str(GRPC_PORT)}


def healthcheck() -> Healthcheck:
    """The HTTPS port accepts connections (bash /dev/tcp: neither image ships curl, and the key stays unused)."""
    return Healthcheck(("CMD", "bash", "-c", f"exec 3<>/dev/tcp/127.0.0.1/{HTTP_PORT}"),
                       interval_s=5, timeout_s=3, retries=10, start_period_s=30)


def qdrant_spec(image: str, data_volume: str, secrets: QdrantSecrets, networks: tuple[str, ...] = (),
                name: str = "qdrant", local_build_allowed: bool = True,
                host_roots: tuple[str, ...] = CONTAINER.host_roots) -> ContainerSpec:
    """The hardened Qdrant container: never published (its TLS cannot be limited to TLS 1.3, see qdrant.py).

    + image: qdrant/qdrant@sha256:... or our build's image id (build/images.json "qdrant")
    + data_volume: docker volume or host directory for STORAGE_PATH (storage, snapshots, temp, start marker)
    + secrets: host paths of the config (API keys), TLS files and CA certificate
    + networks: internal networks only
    + local_build_allowed: False where only the official image may run (the gcp VM pulls it)
    + host_roots: the declared roots its host paths sit under
    """
    check_image(image, local_build_allowed)
    return ContainerSpec(
        name=name,
        service=STORE_NAME,
        image=image,
        healthcheck=healthcheck(),
        mounts=(Mount(data_volume, STORAGE_PATH, type="bind" if data_volume.startswith("/") else "volume"),),
        secret_files=(SecretFile(secrets.config, CONFIG_PATH), SecretFile(secrets.tls_cert, TLS_CERT_PATH),
                      SecretFile(secrets.tls_key, TLS_KEY_PATH), SecretFile(secrets.ca_cert, CA_CERT_PATH)),
        env={
            # Read by Qdrant itself (src/startup.rs), not a config key: the working directory is read-only.
            "QDRANT_INIT_FILE_PATH": INIT_FILE_PATH,
            # Qdrant's HTTP client loads system roots at start and panics without any; it trusts our CA only.
            "SSL_CERT_FILE": CA_CERT_PATH,
        },
        memory_mb=MEMORY_MB,
        networks=tuple(networks),
        host_roots=tuple(host_roots),
    )


@dataclass(frozen=True)
class FrontSecrets:
    """Host paths (mode 0400, the front's own uid) of the front's config (front_config()), certificate chain, key and
    CA, and of its client certificate and key towards the store (CN FRONT_NAME, clientAuth only)."""

    config: str
    tls_cert: str
    tls_key: str
    ca_cert: str
    client_cert: str
    client_key: str


def front_config(store: str = STORE_NAME, clients: tuple[str, ...] = FRONT_CLIENTS) -> str:
    """haproxy.cfg of the TLS 1.3 front: REST and gRPC ports, TLS 1.3 only with the baseline suites on both
    sides, a client certificate of the stack's CA required on both ports (a client without one gets TLS 1.3's
    certificate_required alert) and its CN one of `clients`, the store's certificate verified by its name and the
    front's own client certificate presented to it. TCP
    mode: requests, API keys and gRPC frames pass through untouched; each port negotiates the one application
    protocol the store speaks there.

    + store: the store's container name on the shared network (its certificate's DNS name)
    + clients: the client certificate CNs let through (an allow-list; any other identity of the CA is cut off)
    """
    require("api->qdrant" in TLS.client_cert_required_hops,
            "the Qdrant front is rendered for baseline TLS.client_cert_required_hops, which must name api->qdrant",
            TLS.controls("client_cert_required_hops"))
    require(bool(clients) and all(re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", c or "") for c in clients),
            f"Qdrant front: client identities {list(clients)} must be non-empty CNs of letters, digits, . _ -",
            TLS.controls("client_cert_required_hops"))
    suites, versions = ":".join(TLS.cipher_suites), proxy_runtime.tls_version_options()
    mutual = f"ca-file {FRONT_CA_PATH} verify required"
    allowed = f"tcp-request session reject unless {{ ssl_c_s_dn(cn) -m str {' '.join(clients)} }}"
    require("qdrant-front->qdrant-store" in TLS.client_cert_required_hops,
            "the Qdrant front presents its client certificate to the store for baseline "
            "TLS.client_cert_required_hops, which must name qdrant-front->qdrant-store",
            TLS.controls("client_cert_required_hops"))
    server = (f"ssl verify required ca-file {FRONT_CA_PATH} verifyhost {store} sni str({store}) "
              f"crt {FRONT_CLIENT_CERT_PATH}")
    return f"""# Generated from components/qdrant_runtime.py (baseline.TLS); mounted read-only into the TLS proxy image.
global
    log stdout format raw local0
    maxconn 1024
    ssl-default-bind-options {versions} no-tls-tickets
    ssl-default-bind-ciphersuites {suites}
    ssl-default-server-options {versions} no-tls-tickets
    ssl-default-server-ciphersuites {suites}

defaults
    mode tcp
    log global
    option tcplog
    timeout connect 5s
    timeout client 120s
    timeout server 120s
    default-server init-addr last,libc,none

frontend health
    mode http
    bind 127.0.0.1:{proxy_runtime.HEALTH_PORT}
    monitor-uri /healthz

frontend rest
    bind :{HTTP_PORT} ssl crt {FRONT_CERT_PATH} {mutual} alpn http/1.1
    {allowed}
    default_backend rest

frontend grpc
    bind :{GRPC_PORT} ssl crt {FRONT_CERT_PATH} {mutual} alpn h2
    {allowed}
    default_backend grpc

backend rest
    server store {store}:{HTTP_PORT} {server} alpn http/1.1

backend grpc
    server store {store}:{GRPC_PORT} {server} alpn h2
"""


def front_spec(image: str, secrets: FrontSecrets, networks: tuple[str, ...] = (), name: str = FRONT_NAME,
               host_roots: tuple[str, ...] = CONTAINER.host_roots, publish_on: str | None = None,
               local_build_allowed: bool = True) -> ContainerSpec:
    """The hardened TLS 1.3 front of the store: our TLS proxy image, its config mounted read-only.

    + image: the TLS proxy image id (build/images.json "tls-proxy"), or its registry reference by digest
    + secrets: host paths of the front's config, certificate chain, key and the CA that signed the store's
      certificate and its clients' certificates
    + networks: the clients' network and the store's own network
    + host_roots: the declared roots its secret files sit under
    + publish_on: the one host address the front's REST and gRPC ports are published on (the gcp VM's VPC address),
      the only bind address the spec declares; None: never published (the docker target's clients share a network)
    + local_build_allowed: False where the image is pulled (the gcp VM)
    """
    check_front_image(image, local_build_allowed)
    ports = tuple(Port(port, port, publish_on) for port in (HTTP_PORT, GRPC_PORT)) if publish_on else ()
    return ContainerSpec(
        name=name,
        service=FRONT_NAME,
        image=image,
        healthcheck=Healthcheck(("CMD", proxy_runtime.HEALTHCHECK_PATH), interval_s=5, timeout_s=3, retries=3,
                                start_period_s=10),
        secret_files=(SecretFile(secrets.config, FRONT_CONFIG_PATH), SecretFile(secrets.tls_cert, FRONT_CERT_PATH),
                      SecretFile(secrets.tls_key, FRONT_KEY_PATH), SecretFile(secrets.ca_cert, FRONT_CA_PATH),
                      SecretFile(secrets.client_cert, FRONT_CLIENT_CERT_PATH),
                      SecretFile(secrets.client_key, FRONT_CLIENT_KEY_PATH)),
        env={"HAPROXY_CONFIG": FRONT_CONFIG_PATH},
        networks=tuple(networks),
        host_roots=tuple(host_roots),
        ports=ports,
        **({"allowed_bind_addresses": (publish_on,)} if publish_on else {}),
    )
