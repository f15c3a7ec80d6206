"""The gcp stack (production): Cloud SQL, a Qdrant VM, Cloud Run behind a TLS 1.3 load balancer,
CMEK keys, Secret Manager, a backup bucket, one identity per service and Workload Identity for CI.

Every data store is encrypted with its own customer-managed key; each Google service agent can use
only the key of its own data class. Verified here under Pulumi mocks only (no GCP credentials).
"""

import pulumi
import pulumi_gcp as gcp

from baseline import TLS
from components.backups import BucketBackups, BucketBackupsArgs
from components.https_endpoint import HttpsEndpoint, HttpsEndpointArgs
from components.identity import CiFederation, CiFederationArgs, ServiceIdentity, ServiceIdentityArgs
from components.kms import CustomerManagedKeys, CustomerManagedKeysArgs, service_agent
from components.postgres import CloudSqlArgs, CloudSqlPostgres
from components.qdrant import GcpQdrant, GcpQdrantArgs, config_yaml
from components.secrets import Secrets, SecretsArgs
from components.stacks.config import GcpConfig
from components.tls import Certificate, CertificateArgs, PrivateCa, PrivateCaArgs

SERVICES = ("api", "qdrant", "backup", "ci")
SUBNET_RANGE = "10.20.0.0/24"
PEERING_PREFIX = 16


def _agent_member(identity: gcp.projects.ServiceIdentity) -> pulumi.Output[str]:
    return identity.email.apply(lambda email: f"serviceAccount:{email}")


def build() -> None:
    """Declare the gcp stack from its config and export its endpoints."""
    config = GcpConfig.from_stack()
    project = config.project
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

    identities = {service: ServiceIdentity(service, ServiceIdentityArgs(service, project=project))
                  for service in SERVICES}
    ci = CiFederation("ci", CiFederationArgs(config.repository, identities["ci"].account.name, config.ci_subject,
                                             project=project))

    ca = PrivateCa("ca", PrivateCaArgs())
    qdrant_cert = Certificate("qdrant-tls", CertificateArgs(ca, "qdrant", dns_names=["qdrant.rae.internal"]))
    # The CI identity reads the two Postgres passwords only to apply the schema (CloudSqlPostgres.schema_command).
    generated = Secrets("generated", SecretsArgs(
        "gcp", ["postgres-admin-password", "postgres-app-password", "qdrant-api-key", "qdrant-read-only-key"],
        kms_key=keys.keys["secrets"].id, location=config.region, project=project,
        accessors={"postgres-admin-password": [identities["ci"].member],
                   "postgres-app-password": [identities["api"].member, identities["ci"].member],
                   "qdrant-api-key": [identities["api"].member]}, depends_on=[keys]))
    qdrant_secrets = Secrets("qdrant", SecretsArgs(
        "gcp", [], kms_key=keys.keys["secrets"].id, location=config.region, project=project,
        provided={"qdrant-config": pulumi.Output.all(generated.values["qdrant-api-key"],
                                                     generated.values["qdrant-read-only-key"]).apply(
                      lambda keys: config_yaml(*keys)),
                  "qdrant-tls-cert": qdrant_cert.cert_pem, "qdrant-tls-key": qdrant_cert.private_key_pem,
                  "qdrant-ca-cert": ca.cert_pem},
        accessors={name: [identities["qdrant"].member] for name in ("qdrant-config", "qdrant-tls-cert",
                                                                    "qdrant-tls-key", "qdrant-ca-cert")},
        depends_on=[keys]))

    database = CloudSqlPostgres("postgres", CloudSqlArgs(
        region=config.region, private_network=vpc.id, kms_key=keys.keys["sql"].id,
        admin_password=generated.values["postgres-admin-password"], depends_on=[peering, keys], project=project))
    qdrant = GcpQdrant("qdrant", GcpQdrantArgs(
        image=config.qdrant_image, zone=config.zone, subnetwork=subnet.id, kms_key=keys.keys["disk"].id,
        service_account=identities["qdrant"].email, config_secret=qdrant_secrets.secrets["qdrant-config"].id,
        tls_cert_secret=qdrant_secrets.secrets["qdrant-tls-cert"].id,
        tls_key_secret=qdrant_secrets.secrets["qdrant-tls-key"].id,
        ca_cert_secret=qdrant_secrets.secrets["qdrant-ca-cert"].id, network=vpc.id, client_tags=("rae-api",),
        depends_on=[keys], project=project))
    api = HttpsEndpoint("api", HttpsEndpointArgs(
        region=config.region, image=config.api_image, service_account=identities["api"].email,
        domains=config.domains, subnetwork=subnet.id, project=project,
        secret_files={name: generated.secrets[name].id for name in ("postgres-app-password", "qdrant-api-key")},
        depends_on=[generated],
        env={"RAE_DB_CONNECTION_NAME": database.connection_name, "RAE_QDRANT_URL": qdrant.endpoint}))
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
    pulumi.export("backupBucket", backups.bucket.url)
    pulumi.export("serviceAccounts", {service: identity.email for service, identity in identities.items()})
    pulumi.export("ciWorkloadIdentityProvider", ci.provider.name)
