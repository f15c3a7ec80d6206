"""The gcp stack (production): Cloud SQL, a Qdrant VM, Cloud Run behind a TLS 1.3 load balancer,
CMEK keys, Secret Manager, a backup bucket, one identity per service and Workload Identity for CI.
The project's Binary Authorization policy admits only images of the API image's own Artifact Registry
repository (the default rule denies), so the service's binary authorization setting enforces something.

Every data store is encrypted with its own customer-managed key; each Google service agent can use
only the key of its own data class. Verified here under Pulumi mocks only (no GCP credentials).
"""

import ipaddress

import pulumi
import pulumi_gcp as gcp
import pulumi_tls as tls

from baseline import TLS
from components import api_runtime
from components.backups import BucketBackups, BucketBackupsArgs
from components.binary_authorization import BinaryAuthorizationPolicy, BinaryAuthorizationPolicyArgs, repository_of
from components.https_endpoint import HttpsEndpoint, HttpsEndpointArgs, mounted_path
from components.identity import CiFederation, CiFederationArgs, ResourceGrant, ServiceIdentity, ServiceIdentityArgs
from components.kms import CustomerManagedKeys, CustomerManagedKeysArgs, service_agent
from components.postgres import CloudSqlArgs, CloudSqlPostgres
from components.qdrant import GcpQdrant, GcpQdrantArgs, config_yaml, front_config
from components.qdrant_runtime import FRONT_NAME, STORE_NAME, FrontSecrets, QdrantSecrets
from components.secrets import Secrets, SecretsArgs
from components.stacks.config import GcpConfig
from components.tls import Certificate, CertificateArgs, PrivateCa, PrivateCaArgs

SERVICES = ("api", "qdrant", "backup", "ci")
SUBNET_RANGE = "10.20.0.0/24"
# The Qdrant VM's reserved address: its TLS 1.3 front is published there, its certificate and the API's URL name it.
QDRANT_ADDRESS = str(ipaddress.ip_network(SUBNET_RANGE)[10])
PEERING_PREFIX = 16


def _agent_member(identity: gcp.projects.ServiceIdentity) -> pulumi.Output[str]:
    return identity.email.apply(lambda email: f"serviceAccount:{email}")


def build() -> None:
    """Declare the gcp stack from its config and export its endpoints."""
    config = GcpConfig.from_stack()
    project = config.project
    # First: a policy that would admit images from outside the project's own registry is refused before anything else
    # is declared.
    admission = BinaryAuthorizationPolicy("images", BinaryAuthorizationPolicyArgs(
        project, repositories=[repository_of(config.api_image)]))
    number = gcp.organizations.get_project_output(project_id=project).number
    sql_agent = gcp.projects.ServiceIdentity("sqladmin-agent", service="sqladmin.googleapis.com", project=project)
    secrets_agent = gcp.projects.ServiceIdentity("secretmanager-agent", service="secretmanager.googleapis.com",
                                                 project=project)
    keys = CustomerManagedKeys("data", CustomerManagedKeysArgs(
        location=config.region, purposes=("disk", "sql", "secrets", "backups"), project=project,
        users={"disk": [service_agent("compute", number)], "sql": [_agent_member(sql_agent)],
               "secrets": [_agent_member(secrets_agent)], "backups": [service_agent("storage", number)]}))

    vpc = gcp.compute.Network("rae-vpc", auto_create_subnetworks=False, project=project)
    # The VPC's own last rule: every ingress not allowed by a narrower rule (Qdrant from the API) is dropped and logged.
    gcp.compute.Firewall("rae-vpc-deny-ingress", network=vpc.id, project=project, direction="INGRESS", priority=65534,
                         denies=[gcp.compute.FirewallDenyArgs(protocol="all")], source_ranges=["0.0.0.0/0"],
                         log_config=gcp.compute.FirewallLogConfigArgs(metadata="INCLUDE_ALL_METADATA"))
    subnet = gcp.compute.Subnetwork(
        "rae-subnet", network=vpc.id, region=config.region, ip_cidr_range=SUBNET_RANGE, project=project,
        private_ip_google_access=True,
        log_config=gcp.compute.SubnetworkLogConfigArgs(aggregation_interval="INTERVAL_5_SEC", flow_sampling=0.5,
                                                       metadata="INCLUDE_ALL_METADATA"))
    peering_range = gcp.compute.GlobalAddress("sql-peering", purpose="VPC_PEERING", address_type="INTERNAL",
                                              prefix_length=PEERING_PREFIX, network=vpc.id, project=project)
    peering = gcp.servicenetworking.Connection("sql-peering", network=vpc.id,
                                               service="servicenetworking.googleapis.com",
                                               reserved_peering_ranges=[peering_range.name])

    # Qdrant's VM pulls its two images from their Artifact Registry repositories: read on those repositories only.
    pulls = {"qdrant": [ResourceGrant("artifact_repository", repository, "roles/artifactregistry.reader")
                        for repository in config.vm_image_repositories]}
    identities = {service: ServiceIdentity(service, ServiceIdentityArgs(service, pulls.get(service, ()),
                                                                        project=project))
                  for service in SERVICES}
    ci = CiFederation("ci", CiFederationArgs(config.repository, identities["ci"].account.name, config.ci_subject,
                                             project=project))

    ca = PrivateCa("ca", PrivateCaArgs())
    # The CI identity reads the two Postgres passwords only to apply the schema (CloudSqlPostgres.schema_command).
    generated = Secrets("generated", SecretsArgs(
        "gcp", ["postgres-admin-password", "postgres-app-password", "qdrant-api-key", "qdrant-read-only-key"],
        kms_key=keys.keys["secrets"].id, location=config.region, project=project,
        accessors={"postgres-admin-password": [identities["ci"].member],
                   "postgres-app-password": [identities["api"].member, identities["ci"].member],
                   "qdrant-api-key": [identities["api"].member]}, depends_on=[keys]))

    database = CloudSqlPostgres("postgres", CloudSqlArgs(
        region=config.region, private_network=vpc.id, kms_key=keys.keys["sql"].id,
        admin_password=generated.values["postgres-admin-password"], depends_on=[peering, keys], project=project))
    qdrant, qdrant_client = _qdrant(config, identities, keys, ca, generated, vpc, subnet)
    # The API's client certificate towards Cloud SQL (issued by Cloud SQL's client CA, CN rae-api) and the server CA
    # that verifies the instance's name: files of the API's identity only.
    pg_client = database.client_certificate("postgres-api-client", api_runtime.NAME)
    pg_files = {"postgres-client-cert": pg_client.cert, "postgres-client-key": pg_client.private_key,
                "postgres-ca": pg_client.server_ca_cert}
    postgres_client = Secrets("api-postgres-client", SecretsArgs(
        "gcp", [], kms_key=keys.keys["secrets"].id, location=config.region, project=project, provided=pg_files,
        accessors={name: [identities["api"].member] for name in pg_files}, depends_on=[keys]))
    # Tenant tokens (baseline API.tenant_token_max_lifetime_s): the API verifies them with the public key; the signing
    # key is a secret stack output only (`pulumi stack output --show-secrets apiTokenSigningKeyPem | harden api-token`).
    token_key = tls.PrivateKey("api-tenant-token-key", algorithm=api_runtime.TENANT_TOKEN_KEY_ALGORITHM)
    token_files = Secrets("api-tenant-token", SecretsArgs(
        "gcp", [], kms_key=keys.keys["secrets"].id, location=config.region, project=project,
        provided={"tenant-token-public-key": token_key.public_key_pem},
        accessors={"tenant-token-public-key": [identities["api"].member]}, depends_on=[keys]))
    mounted = {**{name: generated.secrets[name].id for name in ("postgres-app-password", "qdrant-api-key")},
               **{name: secret.id for name, secret in (*qdrant_client.secrets.items(),
                                                       *postgres_client.secrets.items(), *token_files.secrets.items())}}
    # The reference API's environment (components.api_runtime, stated once), with the paths Cloud Run mounts.
    env = api_runtime.api_env(api_runtime.ApiFiles(
        ca_cert=mounted_path("ca"), postgres_ca_cert=mounted_path("postgres-ca"),
        postgres_password=mounted_path("postgres-app-password"), qdrant_api_key=mounted_path("qdrant-api-key"),
        qdrant_client_cert=mounted_path("qdrant-client-cert"), qdrant_client_key=mounted_path("qdrant-client-key"),
        tenant_token_public_key=mounted_path("tenant-token-public-key"), postgres_client_cert=mounted_path("postgres-client-cert"),
        postgres_client_key=mounted_path("postgres-client-key")),
        postgres_host=database.host, qdrant_host=QDRANT_ADDRESS)
    api = HttpsEndpoint("api", HttpsEndpointArgs(
        region=config.region, image=config.api_image, service_account=identities["api"].email,
        domains=config.domains, admission=admission, subnetwork=subnet.id, project=project,
        port=api_runtime.LISTEN_PORT, secret_files=mounted, depends_on=[generated, qdrant_client, postgres_client,
                                                                        token_files],
        env=env))
    backups = BucketBackups("backups", BucketBackupsArgs(
        location=config.backup_location, kms_key=keys.keys["backups"].id, writers=[identities["backup"].member],
        depends_on=[keys], project=project))

    pulumi.export("target", "gcp")
    pulumi.export("apiUrl", api.url)
    pulumi.export("apiAddress", api.address.address)
    pulumi.export("tlsMinVersion", TLS.gcp_min_tls_version)
    pulumi.export("sqlConnectionName", database.connection_name)
    pulumi.export("sqlSchemaCommand", database.schema_command)
    pulumi.export("qdrantEndpoint", qdrant.endpoint)
    pulumi.export("caCertPem", ca.cert_pem)
    pulumi.export("apiTokenSigningKeyPem", pulumi.Output.secret(token_key.private_key_pem))
    pulumi.export("backupBucket", backups.bucket.url)
    pulumi.export("serviceAccounts", {service: identity.email for service, identity in identities.items()})
    pulumi.export("ciWorkloadIdentityProvider", ci.provider.name)


def _qdrant(config: GcpConfig, identities: dict[str, ServiceIdentity], keys: CustomerManagedKeys, ca: PrivateCa,
            generated: Secrets, vpc: gcp.compute.Network, subnet: gcp.compute.Subnetwork) -> tuple[GcpQdrant, Secrets]:
    """Qdrant's VM (the store and its TLS 1.3 front), the files of each in Secret Manager for the VM's identity only,
    and the API's client certificate towards the front (and the CA that verifies the front) for the API's only.

    Each certificate carries one service's names: the store's (STORE_NAME, verified by the front), the front's (the
    VM's address, verified by the API), the front's client identity towards the store (FRONT_NAME) and the API's
    (`rae-api`, the one identity the front lets through here: no other client of Qdrant runs on gcp). The server
    certificates are for server use only, the client certificates for client use only (components.tls).
    """
    project, api_name = config.project, api_runtime.QDRANT_CLIENT_NAME
    store_cert = Certificate("qdrant-store-tls", CertificateArgs(ca, STORE_NAME, dns_names=[STORE_NAME]))
    front_cert = Certificate("qdrant-front-tls", CertificateArgs(ca, FRONT_NAME, ip_addresses=[QDRANT_ADDRESS]))
    front_client = Certificate("qdrant-front-client-tls", CertificateArgs(ca, FRONT_NAME, usage="client"))
    api_client = Certificate("qdrant-api-client-tls", CertificateArgs(ca, api_name, usage="client"))
    files = {
        "qdrant-config": pulumi.Output.all(generated.values["qdrant-api-key"],
                                           generated.values["qdrant-read-only-key"]).apply(
            lambda keys: config_yaml(*keys, require_client_certificate=True)),
        "qdrant-tls-cert": store_cert.cert_pem, "qdrant-tls-key": store_cert.private_key_pem,
        "qdrant-ca-cert": ca.cert_pem, "qdrant-front-config": front_config(clients=(api_name,)),
        "qdrant-front-tls-cert": front_cert.cert_pem, "qdrant-front-tls-key": front_cert.private_key_pem,
        "qdrant-front-client-cert": front_client.cert_pem, "qdrant-front-client-key": front_client.private_key_pem,
    }
    vm_files = Secrets("qdrant", SecretsArgs(
        "gcp", [], kms_key=keys.keys["secrets"].id, location=config.region, project=project, provided=files,
        accessors={name: [identities["qdrant"].member] for name in files}, depends_on=[keys]))
    # Mounted where the API's environment names them (build: api_runtime.api_env with https_endpoint.mounted_path).
    api_files = {"qdrant-client-cert": api_client.cert_pem, "qdrant-client-key": api_client.private_key_pem,
                 "ca": ca.cert_pem}
    api_client_files = Secrets("api-qdrant-client", SecretsArgs(
        "gcp", [], kms_key=keys.keys["secrets"].id, location=config.region, project=project, provided=api_files,
        accessors={name: [identities["api"].member] for name in api_files}, depends_on=[keys]))
    ids = {name: secret.id for name, secret in vm_files.secrets.items()}
    qdrant = GcpQdrant("qdrant", GcpQdrantArgs(
        image=config.qdrant_image, front_image=config.tls_proxy_image, zone=config.zone, subnetwork=subnet.id,
        address=QDRANT_ADDRESS, kms_key=keys.keys["disk"].id, service_account=identities["qdrant"].email,
        store_secrets=QdrantSecrets(ids["qdrant-config"], ids["qdrant-tls-cert"], ids["qdrant-tls-key"],
                                    ids["qdrant-ca-cert"]),
        front_secrets=FrontSecrets(ids["qdrant-front-config"], ids["qdrant-front-tls-cert"],
                                   ids["qdrant-front-tls-key"], ids["qdrant-ca-cert"], ids["qdrant-front-client-cert"],
                                   ids["qdrant-front-client-key"]),
        network=vpc.id, client_tags=("rae-api",), depends_on=[keys], project=project))
    return qdrant, api_client_files
