"""The local stack: the whole service on one Docker host (this machine, or Node1 over Tailscale).

Networks: `edge` carries the published ports (bound to the declared address only) without outbound
NAT; `backend` is internal (no egress) and joins Postgres, Qdrant, the proxy and the API. Every published endpoint is
TLS 1.3-only: Postgres (pg_hba rejects non-TLS) and the TLS proxy in front of the API.
"""

import pulumi
import pulumi_docker as docker

from baseline import CONTAINER, NETWORK, TLS
from components.backups import DockerBackups, DockerBackupsArgs
from components.container import labels
from components.docker_native import NativeNetwork, use_native_provider
from components.host_files import HostSecretFile
from components.postgres import DockerPostgres, DockerPostgresArgs
from components.postgres_runtime import PostgresSecrets
from components.qdrant import DockerQdrant, DockerQdrantArgs, config_yaml, qdrant_spec
from components.secrets import Secrets, SecretsArgs
from components.spec import Port
from components.stacks.config import LocalConfig, load_images
from components.tls import Certificate, CertificateArgs, PrivateCa, PrivateCaArgs
from components.tls_proxy import TlsProxy, TlsProxyArgs
from components.volume import EncryptedVolume, EncryptedVolumeArgs, host_path_encryption

SECRET_NAMES = ("postgres-superuser-password", "postgres-app-password")


def network_name(name: str) -> str:
    """Docker network names are set, not generated, so container specs can name them as plain strings."""
    return f"rae-{pulumi.get_stack()}-{name}"


# Published ports still answer without outbound NAT (checked on Docker 20.10); containers on `edge` get no route out.
NO_OUTBOUND_NAT = {"com.docker.network.bridge.enable_ip_masquerade": "false"}


def _network(name: str, internal: bool) -> docker.Network | NativeNetwork:
    network_labels = labels("Network", name)
    if use_native_provider():
        return NativeNetwork(name, network_name(name), internal, NO_OUTBOUND_NAT, network_labels)
    return docker.Network(name, name=network_name(name), internal=internal, driver="bridge",
                          options=NO_OUTBOUND_NAT,
                          labels=[docker.NetworkLabelArgs(label=key, value=value)
                                  for key, value in network_labels.items()])


def _tls_files(name: str, certificate: Certificate, directory: str) -> tuple[str, str, list[HostSecretFile]]:
    cert_path, key_path = f"{directory}/{name}.crt", f"{directory}/{name}.key"
    files = [HostSecretFile(f"{name}-cert-file", cert_path, certificate.cert_pem, CONTAINER.uid, CONTAINER.gid),
             HostSecretFile(f"{name}-key-file", key_path, certificate.private_key_pem, CONTAINER.uid, CONTAINER.gid)]
    return cert_path, key_path, files


def build() -> None:
    """Declare the local stack from its config and export its endpoints."""
    config = LocalConfig.from_stack()
    images = load_images(config.images_file)
    secrets_dir = str(config.data_root / "secrets")
    edge_name, backend_name = network_name("edge"), network_name("backend")
    edge = _network("edge", internal=False)
    backend = _network("backend", internal=NETWORK.docker_internal_network)

    # Secret files rest on the host too: the same LUKS check (or the same recorded exemption) applies.
    secrets_encryption = host_path_encryption("secret files", secrets_dir, config.unencrypted_exemption)
    names = SECRET_NAMES + (("qdrant-api-key",) if config.qdrant_image else ())
    # The passwords live with the data they protect: a kept database needs its role passwords on the next `up`.
    secrets = Secrets("secrets", SecretsArgs("docker", names, directory=secrets_dir),
                      pulumi.ResourceOptions(protect=config.keep_data))

    ca = PrivateCa("ca", PrivateCaArgs())
    ca_file = HostSecretFile("ca-cert-file", f"{secrets_dir}/ca.crt", ca.cert_pem, CONTAINER.uid, CONTAINER.gid)
    server_names = ["localhost"]
    postgres_cert = Certificate("postgres-tls", CertificateArgs(ca, "postgres", dns_names=["postgres", *server_names],
                                                                ip_addresses=[config.bind_address]))
    proxy_cert = Certificate("proxy-tls", CertificateArgs(ca, "rae-api", dns_names=["rae-api", *server_names],
                                                          ip_addresses=[config.bind_address]))
    # Node-to-node mTLS (seed 000 Phase 2): the control node presents this certificate to Node1's services.
    node_client = Certificate("control-node-client", CertificateArgs(ca, "control-node", usage="client"))

    pg_cert, pg_key, pg_tls_files = _tls_files("postgres-tls", postgres_cert, secrets_dir)
    pgdata = EncryptedVolume("pgdata", EncryptedVolumeArgs(
        "docker", "postgres", host_path=str(config.data_root / "postgres"),
        unencrypted_exemption=config.unencrypted_exemption, keep_data=config.keep_data))
    postgres = DockerPostgres("postgres", DockerPostgresArgs(
        image=images["postgres"], data_volume=pgdata.docker_volume_name,
        secrets=PostgresSecrets(superuser_password=secrets.files["postgres-superuser-password"],
                                app_password=secrets.files["postgres-app-password"], tls_cert=pg_cert, tls_key=pg_key),
        port=Port(5432, config.postgres_port, config.bind_address),
        networks=[edge_name, backend_name],
        allowed_bind_addresses=config.allowed_bind_addresses,
        depends_on=[edge, backend, pgdata, secrets, *pg_tls_files]))

    proxy_cert_path, proxy_key_path, proxy_tls_files = _tls_files("proxy-tls", proxy_cert, secrets_dir)
    proxy = TlsProxy("tls-proxy", TlsProxyArgs(
        image=images["tls-proxy"], upstream=config.api_upstream, cert_file=proxy_cert_path, key_file=proxy_key_path,
        port=Port(8443, config.proxy_port, config.bind_address),
        networks=[edge_name, backend_name],
        allowed_bind_addresses=config.allowed_bind_addresses, depends_on=[edge, backend, *proxy_tls_files]))

    # The repository passwords live apart from the data passwords they protect (and from what is backed up).
    backups = DockerBackups("backups", DockerBackupsArgs(
        host_path=str(config.backup_root or config.data_root / "backups"), credentials_dir=str(config.data_root / "backup-credentials"),
        postgres_container=postgres.container_name, files=[secrets_dir],
        offsite_repository_file=config.backup_offsite_repository_file, offsite_cacert=config.backup_offsite_cacert,
        unencrypted_exemption=config.unencrypted_exemption, keep_data=config.keep_data,
        depends_on=[ca_file, *pg_tls_files]))

    exemptions = {volume: encryption for volume, encryption in
                  (("pgdata", pgdata.encryption), ("backups", backups.volume.encryption), ("secrets", secrets_encryption))
                  if encryption.startswith("EXEMPT")}
    if config.qdrant_image:
        qdrant_data = EncryptedVolume("qdrant-data", EncryptedVolumeArgs(
            "docker", "qdrant", host_path=str(config.data_root / "qdrant"),
            unencrypted_exemption=config.unencrypted_exemption, keep_data=config.keep_data))
        qdrant_cert = Certificate("qdrant-tls", CertificateArgs(ca, "qdrant", dns_names=["qdrant"]))
        qdrant_cert_path, qdrant_key_path, qdrant_tls_files = _tls_files("qdrant-tls", qdrant_cert, secrets_dir)
        qdrant_config = HostSecretFile("qdrant-config-file", f"{secrets_dir}/qdrant.yaml",
                                       secrets.values["qdrant-api-key"].apply(config_yaml), CONTAINER.uid, CONTAINER.gid)
        qdrant = DockerQdrant("qdrant", DockerQdrantArgs(
            qdrant_spec(config.qdrant_image, qdrant_data.docker_volume_name, f"{secrets_dir}/qdrant.yaml",
                        qdrant_cert_path, qdrant_key_path, networks=[backend_name]),
            depends_on=[backend, qdrant_data, qdrant_config, *qdrant_tls_files]))
        # Not a host:port on purpose: probes from the host cannot reach the internal network.
        pulumi.export("qdrantEndpoint", f"{qdrant.endpoint} (internal network {backend_name} only)")
        if qdrant_data.encryption.startswith("EXEMPT"):
            exemptions["qdrant-data"] = qdrant_data.encryption
    else:
        pulumi.export("qdrantEndpoint", "not deployed: set rae:qdrantImage to qdrant/qdrant@sha256:<digest> of a "
                                        "present image (no registry is reachable here)")

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
