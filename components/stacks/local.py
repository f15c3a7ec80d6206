"""The local stack: the whole service on one Docker host (this machine, or Node1 over Tailscale).

Networks (segments): `edge` carries the proxy's published port and `postgres-edge` Postgres's (bound to the
declared address only), both without outbound NAT; `api` is internal and joins only the proxy and the API;
`backend` is internal (no egress) and joins the API, Postgres and Qdrant's TLS 1.3 front; `qdrant` is internal
and joins only Qdrant's store and its front (Qdrant's own TLS accepts TLS 1.2). So the proxy reaches the API
only, and the API the stores. Every hop is TLS 1.3: Postgres (pg_hba rejects non-TLS; the application role
needs its client certificate and password), the proxy, the proxy -> API hop (the API requires the proxy's
client certificate), and Qdrant's front (it requires a client certificate: the API's or the backup's). Each
certificate carries one service's names.

Each service runs as a uid and gid of its own (baseline CONTAINER.service_users): its secret files (0400) and data
directory belong to it alone, so a file two services read (the CA certificate, the application role's password)
is written once per reader. Directories the stack creates on the host are 0700.
"""

from dataclasses import dataclass

import pulumi
import pulumi_docker as docker
import pulumi_tls as tls

from baseline import NETWORK, TLS
from components import api_runtime, postgres_runtime, proxy_runtime
from components.api import ApiService, ApiServiceArgs
from components.backups import DockerBackups, DockerBackupsArgs
from components.container import labels, stack_container_name
from components.host_files import HostSecretFile
from posture.container import service_user
from components.postgres import DockerPostgres, DockerPostgresArgs
from components.postgres_runtime import PostgresSecrets
from components.qdrant import DockerQdrant, DockerQdrantArgs
from components.qdrant_runtime import HTTP_PORT as QDRANT_HTTP_PORT
from components.qdrant_runtime import FRONT_NAME, STORE_NAME, FrontSecrets, QdrantSecrets, config_yaml, front_config
from components.secrets import Secrets, SecretsArgs
from components.spec import Port
from components.stacks.config import LocalConfig, load_images
from components.tls import Certificate, CertificateArgs, PrivateCa, PrivateCaArgs
from components.tls_proxy import TlsProxy, TlsProxyArgs
from components.volume import EncryptedVolume, EncryptedVolumeArgs, host_path_encryption

SECRET_NAMES = ("postgres-superuser-password", "postgres-app-password", "qdrant-api-key", "qdrant-read-only-key")
# Who reads each generated secret file: Postgres sets both role passwords; the API holds the full Qdrant key; the
# read-only key reaches Qdrant inside its config and the backup (on the host) reads the file.
SECRET_OWNERS = {"postgres-superuser-password": "postgres", "postgres-app-password": "postgres",
                 "qdrant-api-key": api_runtime.NAME, "qdrant-read-only-key": "backup"}


def network_name(name: str) -> str:
    """Docker network names are set, not generated, so container specs can name them as plain strings."""
    return f"rae-{pulumi.get_stack()}-{name}"


# Published ports still answer without outbound NAT (checked on Docker 20.10); containers on `edge` get no route out.
NO_OUTBOUND_NAT = {"com.docker.network.bridge.enable_ip_masquerade": "false"}


def _network(name: str, internal: bool) -> docker.Network:
    network_labels = labels("Network", name)
    return docker.Network(name, name=network_name(name), internal=internal, driver="bridge",
                          options=NO_OUTBOUND_NAT,
                          labels=[docker.NetworkLabelArgs(label=key, value=value)
                                  for key, value in network_labels.items()])


def _tls_files(name: str, certificate: Certificate, directory: str, owner: str) -> tuple[str, str, list[HostSecretFile]]:
    """The certificate and key files of `owner` (a service of baseline CONTAINER.service_users), its own."""
    cert_path, key_path = f"{directory}/{name}.crt", f"{directory}/{name}.key"
    files = [HostSecretFile(f"{name}-cert-file", cert_path, certificate.cert_pem, *service_user(owner)),
             HostSecretFile(f"{name}-key-file", key_path, certificate.private_key_pem, *service_user(owner))]
    return cert_path, key_path, files


def _ca_copy(ca: PrivateCa, directory: str, owner: str) -> tuple[str, HostSecretFile]:
    """The CA certificate as a file of `owner`'s own (0400: a file another service's uid owns is unreadable)."""
    path = f"{directory}/ca-{owner}.crt"
    return path, HostSecretFile(f"ca-cert-file-{owner}", path, ca.cert_pem, *service_user(owner))


def build() -> None:
    """Declare the local stack from its config and export its endpoints."""
    config = LocalConfig.from_stack()
    images = load_images(config.images_file)
    secrets_dir = str(config.data_root / "secrets")
    edge_name, backend_name = network_name("edge"), network_name("backend")
    postgres_edge_name, api_name = network_name("postgres-edge"), network_name("api")
    edge = _network("edge", internal=False)
    postgres_edge = _network("postgres-edge", internal=False)
    backend = _network("backend", internal=NETWORK.docker_internal_network)
    api_network = _network("api", internal=NETWORK.docker_internal_network)

    # Secret files rest on the host too: the same LUKS check (or the same recorded exemption) applies.
    secrets_encryption = host_path_encryption("secret files", secrets_dir, config.unencrypted_exemption)
    # The passwords live with the data they protect: a kept database needs its role passwords on the next `up`.
    secrets = Secrets("secrets", SecretsArgs("docker", SECRET_NAMES, directory=secrets_dir, owners=SECRET_OWNERS),
                      pulumi.ResourceOptions(protect=config.keep_data))

    ca = PrivateCa("ca", PrivateCaArgs())
    ca_path = f"{secrets_dir}/ca.crt"
    # The host's copy (the backup job, the printed connection commands); each service mounts a copy of its own.
    ca_file = HostSecretFile("ca-cert-file", ca_path, ca.cert_pem, *service_user("backup"))
    server_names = ["localhost"]
    postgres_cert = Certificate("postgres-tls", CertificateArgs(ca, "postgres", dns_names=["postgres", *server_names],
                                                                ip_addresses=[config.bind_address]))
    proxy_cert = Certificate("proxy-tls", CertificateArgs(ca, "rae-proxy", dns_names=server_names,
                                                          ip_addresses=[config.bind_address]))
    # Node-to-node mTLS (seed 000 Phase 2): the control node presents this certificate to Node1's services.
    node_client = Certificate("control-node-client", CertificateArgs(ca, "control-node", usage="client"))

    pg_cert, pg_key, pg_tls_files = _tls_files("postgres-tls", postgres_cert, secrets_dir, postgres_runtime.SERVICE)
    pg_ca_path, pg_ca_file = _ca_copy(ca, secrets_dir, postgres_runtime.SERVICE)
    pgdata = EncryptedVolume("pgdata", EncryptedVolumeArgs(
        "docker", "postgres", host_path=str(config.data_root / "postgres"),
        unencrypted_exemption=config.unencrypted_exemption, keep_data=config.keep_data))
    postgres = DockerPostgres("postgres", DockerPostgresArgs(
        image=images["postgres"], data_volume=pgdata.docker_volume_name,
        secrets=PostgresSecrets(superuser_password=secrets.files["postgres-superuser-password"],
                                app_password=secrets.files["postgres-app-password"], tls_cert=pg_cert, tls_key=pg_key,
                                client_ca=pg_ca_path),
        port=Port(5432, config.postgres_port, config.bind_address),
        networks=[postgres_edge_name, backend_name],
        allowed_bind_addresses=config.allowed_bind_addresses,
        depends_on=[postgres_edge, backend, pgdata, secrets, pg_ca_file, *pg_tls_files], host_roots=config.host_roots))

    proxy_owner = proxy_runtime.SERVICE
    proxy_cert_path, proxy_key_path, proxy_tls_files = _tls_files("proxy-tls", proxy_cert, secrets_dir, proxy_owner)
    proxy_ca_path, proxy_ca_file = _ca_copy(ca, secrets_dir, proxy_owner)
    # The proxy's identity towards the API (clientAuth only): the API requires it on the proxy -> API hop.
    proxy_client_path, proxy_client_key_path, proxy_client_files = _tls_files(
        "proxy-client-tls", Certificate("proxy-client-tls", CertificateArgs(ca, "rae-proxy", usage="client")),
        secrets_dir, proxy_owner)

    # The backup's identity towards Qdrant's front (clientAuth only, CN rae-backup): the front requires one.
    backup_client_path, backup_client_key_path, backup_client_files = _tls_files(
        "qdrant-backup-client-tls", Certificate("qdrant-backup-client-tls",
                                                CertificateArgs(ca, "rae-backup", usage="client")), secrets_dir,
        "backup")
    # The repository passwords live apart from the data passwords they protect (and from what is backed up).
    backups = DockerBackups("backups", DockerBackupsArgs(
        host_path=str(config.backup_root or config.data_root / "backups"), credentials_dir=str(config.data_root / "backup-credentials"),
        postgres_container=postgres.container_name, files=[secrets_dir],
        # The front is on the internal backend network: the backup host reaches it by the container's address.
        # Least privilege: the read-only key and a snapshot token (`harden backup qdrant-token` mints it), never
        # the full-access key (a restore's own config names that one); the front requires the backup's client
        # certificate (CN rae-backup).
        qdrant={"url": f"https://{FRONT_NAME}:{QDRANT_HTTP_PORT}",
                "read_only_api_key_file": secrets.files["qdrant-read-only-key"],
                "snapshot_token_file": str(config.data_root / "backup-credentials" / "qdrant-snapshot-token"),
                "cacert": ca_path, "client_cert": backup_client_path, "client_key": backup_client_key_path,
                "container": stack_container_name(FRONT_NAME), "store_container": stack_container_name(STORE_NAME)},
        offsite_repository_file=config.backup_offsite_repository_file, offsite_cacert=config.backup_offsite_cacert,
        unencrypted_exemption=config.unencrypted_exemption, keep_data=config.keep_data,
        depends_on=[ca_file, *pg_tls_files, *backup_client_files]))

    exemptions = {volume: encryption for volume, encryption in
                  (("pgdata", pgdata.encryption), ("backups", backups.volume.encryption), ("secrets", secrets_encryption))
                  if encryption.startswith("EXEMPT")}
    qdrant = _qdrant(config, images, secrets, ca, secrets_dir, (backend, backend_name))
    # Not a host:port on purpose: probes from the host cannot reach the internal network.
    pulumi.export("qdrantEndpoint", f"{qdrant.endpoint} (internal network {backend_name} only)")
    app_client, api_service, token_key = _api(config, images, secrets, ca, secrets_dir, api_name, backend_name,
                                              [api_network, backend, ca_file, postgres, qdrant.component])
    # After the API: HAProxy resolves the API's name once, at start (a proxy started first answers 503 for good).
    proxy = TlsProxy("tls-proxy", TlsProxyArgs(
        image=images["tls-proxy"], upstream=config.api_upstream, cert_file=proxy_cert_path, key_file=proxy_key_path,
        client_cert_file=proxy_client_path, client_key_file=proxy_client_key_path, ca_file=proxy_ca_path,
        port=Port(8443, config.proxy_port, config.bind_address),
        networks=[edge_name, api_name],
        allowed_bind_addresses=config.allowed_bind_addresses,
        depends_on=[edge, api_network, proxy_ca_file, *proxy_tls_files, *proxy_client_files, api_service],
        host_roots=config.host_roots))
    pulumi.export("apiImage", config.api_image or f"reference ({images['api']})")
    pulumi.export("postgresAppClientCertFile", app_client[0])
    pulumi.export("postgresAppClientKeyFile", app_client[1])
    # Signs tenant tokens (`... | harden api-token --tenant T`); the API holds only the public key.
    pulumi.export("apiTokenSigningKeyPem", pulumi.Output.secret(token_key.private_key_pem))
    if qdrant.encryption.startswith("EXEMPT"):
        exemptions["qdrant-data"] = qdrant.encryption

    pulumi.export("target", "local")
    pulumi.export("postgresEndpoint", postgres.endpoint)
    pulumi.export("apiEndpoint", proxy.endpoint)
    pulumi.export("tlsMinVersion", TLS.min_version)
    pulumi.export("caCertPem", ca.cert_pem)
    pulumi.export("caCertFile", ca_file.path)
    pulumi.export("controlNodeClientCertPem", node_client.cert_pem)
    pulumi.export("controlNodeClientKeyPem", pulumi.Output.secret(node_client.private_key_pem))
    pulumi.export("secretFiles", secrets.files)
    pulumi.export("backupCommand", backups.command)
    pulumi.export("backupConfig", backups.config_path)
    pulumi.export("backupOffsite", "configured (append-only)" if config.backup_offsite_repository_file else
                  "not configured: set rae:backupOffsiteRepositoryFile (3-2-1 needs the off-site copy)")
    # On record for the audit: every volume whose data is not on LUKS, with the operator's stated reason.
    pulumi.export("unencryptedVolumes", exemptions)


@dataclass
class _LocalQdrant:
    endpoint: str
    encryption: str
    component: pulumi.Resource


def _api(config: LocalConfig, images: dict[str, str], secrets: Secrets, ca: PrivateCa, secrets_dir: str,
         proxy_network: str, stores_network: str, depends_on: list) -> tuple[tuple[str, str], ApiService, tls.PrivateKey]:
    """The API slot: `rae:apiImage` or the reference API, on the proxy's segment and the stores' segment; returns
    the host paths of the application role's client certificate and key (CN rae_app, which Postgres requires),
    the ApiService (the proxy starts after it) and the key pair of tenant tokens (baseline
    API.tenant_token_max_lifetime_s: the API gets its public key, the stack's secret output its private key)."""
    owner = api_runtime.NAME
    api_cert, api_key, api_tls = _tls_files("api-tls", Certificate(
        "api-tls", CertificateArgs(ca, api_runtime.NAME, dns_names=[api_runtime.NAME])), secrets_dir, owner)
    app_cert, app_key, app_tls = _tls_files("postgres-app-client-tls", Certificate(
        "postgres-app-client-tls", CertificateArgs(ca, postgres_runtime.APP_ROLE, usage="client")), secrets_dir, owner)
    qdrant_cert, qdrant_key, qdrant_tls = _tls_files("qdrant-api-client-tls", Certificate(
        "qdrant-api-client-tls", CertificateArgs(ca, api_runtime.QDRANT_CLIENT_NAME, usage="client")), secrets_dir,
        owner)
    api_ca_path, api_ca_file = _ca_copy(ca, secrets_dir, owner)
    # Postgres reads the application role's password too (its owner's file): the API gets a copy of its own.
    app_password_path = f"{secrets_dir}/{owner}-postgres-app-password"
    app_password = HostSecretFile("api-postgres-app-password-file", app_password_path,
                                  secrets.values["postgres-app-password"], *service_user(owner))
    token_key = tls.PrivateKey("api-tenant-token-key", algorithm=api_runtime.TENANT_TOKEN_KEY_ALGORITHM)
    token_public_path = f"{secrets_dir}/{owner}-tenant-token-public.pem"
    token_public = HostSecretFile("api-tenant-token-public-key-file", token_public_path, token_key.public_key_pem,
                                  *service_user(owner))
    service = ApiService("api", ApiServiceArgs(
        image=config.api_image or images["api"],
        secrets=api_runtime.ApiSecrets(api_cert, api_key, api_ca_path, app_password_path,
                                       secrets.files["qdrant-api-key"], app_cert, app_key, qdrant_cert, qdrant_key,
                                       token_public_path),
        proxy_network=proxy_network, stores_network=stores_network, host_roots=config.host_roots,
        depends_on=[*depends_on, secrets, api_ca_file, app_password, token_public, *api_tls, *app_tls, *qdrant_tls]))
    return (app_cert, app_key), service, token_key


def _qdrant(config: LocalConfig, images: dict[str, str], secrets: Secrets, ca: PrivateCa,
            secrets_dir: str, backend: tuple[pulumi.Resource, str]) -> _LocalQdrant:
    """Qdrant's store (official image by digest where `rae:qdrantImage` names one, else our build) and its TLS 1.3
    front; the store alone with its front on the internal `qdrant` network, the front on `backend` too.

    + backend: the clients' network resource and its name
    """
    backend_network, backend_name = backend
    store_network = _network("qdrant", internal=True)
    data = EncryptedVolume("qdrant-data", EncryptedVolumeArgs(
        "docker", "qdrant", host_path=str(config.data_root / "qdrant"), owner=STORE_NAME,
        unencrypted_exemption=config.unencrypted_exemption, keep_data=config.keep_data))
    store_cert, store_key, store_tls = _tls_files("qdrant-store-tls", Certificate(
        "qdrant-store-tls", CertificateArgs(ca, STORE_NAME, dns_names=[STORE_NAME])), secrets_dir, STORE_NAME)
    front_cert, front_key, front_tls = _tls_files("qdrant-front-tls", Certificate(
        "qdrant-front-tls", CertificateArgs(ca, FRONT_NAME, dns_names=[FRONT_NAME])), secrets_dir, FRONT_NAME)
    # The front's identity towards the store (clientAuth only, its one name): the store requires it on REST.
    front_client_cert, front_client_key, front_client_tls = _tls_files("qdrant-front-client-tls", Certificate(
        "qdrant-front-client-tls", CertificateArgs(ca, FRONT_NAME, usage="client")), secrets_dir, FRONT_NAME)
    store_ca_path, store_ca_file = _ca_copy(ca, secrets_dir, STORE_NAME)
    front_ca_path, front_ca_file = _ca_copy(ca, secrets_dir, FRONT_NAME)
    store_config_path, front_config_path = f"{secrets_dir}/qdrant.yaml", f"{secrets_dir}/qdrant-front.cfg"
    store_config = HostSecretFile("qdrant-config-file", store_config_path, pulumi.Output.all(
        secrets.values["qdrant-api-key"], secrets.values["qdrant-read-only-key"]).apply(
            lambda keys: config_yaml(*keys, require_client_certificate=True)),
        *service_user(STORE_NAME))
    front_config_file = HostSecretFile("qdrant-front-config-file", front_config_path, front_config(),
                                       *service_user(FRONT_NAME))
    qdrant = DockerQdrant("qdrant", DockerQdrantArgs(
        image=config.qdrant_image or images["qdrant"], front_image=images["tls-proxy"],
        data_volume=data.docker_volume_name,
        store_secrets=QdrantSecrets(store_config_path, store_cert, store_key, store_ca_path),
        front_secrets=FrontSecrets(front_config_path, front_cert, front_key, front_ca_path, front_client_cert,
                                   front_client_key),
        store_network=network_name("qdrant"), client_networks=[backend_name], host_roots=config.host_roots,
        depends_on=[backend_network, store_network, data, store_config, front_config_file, store_ca_file,
                    front_ca_file, *store_tls, *front_tls, *front_client_tls]))
    return _LocalQdrant(qdrant.endpoint, data.encryption, qdrant)
